package synth

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"sync"

	"github.com/ferminets/fermi/atomicfile"
	"github.com/ferminets/fermi/ir"
)

// GenerateOptions configure GenerateNets.
type GenerateOptions struct {
	Count       int    // networks wanted
	Seed        uint64 // seed of the stream of network seeds
	MaxAttempts int    // networks generated at most (default 10 × Count)
	Workers     int    // networks probed at once (default 1); never changes results
	Threads     int    // engine threads per network (default 1)
	// Temperature divides the generator's logits before sampling: below 1
	// it samples closer to the most probable architecture (0 means 1).
	Temperature float64
}

// Generated is one network GenerateNets kept, as written to generated.json.
type Generated struct {
	FermiNet
	Seed uint64 `json:"seed"`
}

// GenerateNets samples networks from the learned generator in
// generatorPath (generator.json of a run, with its parent's weights), gives
// each the run's short fine-tune, and keeps the first Count distinct
// architectures that satisfy the run's requirements on the validation
// split. They are exported to outDir as generated-<k>.onnx (and .fir)
// with generated.json listing them, test accuracy included. It fails if
// MaxAttempts networks do not yield Count.
func GenerateNets(ctx context.Context, generatorPath, outDir string, o GenerateOptions, rec Recorder) ([]Generated, error) {
	gen, cfg, err := LoadGeneratorConfig(generatorPath)
	if err != nil {
		return nil, err
	}
	if o.Count < 1 {
		return nil, fmt.Errorf("synth: generate: count %d", o.Count)
	}
	if o.Temperature < 0 {
		return nil, fmt.Errorf("synth: generate: temperature %v", o.Temperature)
	}
	if o.Temperature > 0 && o.Temperature != 1 {
		gen = gen.withTemperature(o.Temperature)
	}
	if o.MaxAttempts <= 0 {
		o.MaxAttempts = 10 * o.Count
	}
	cfg.Threads = max(o.Threads, 1)
	q, test, err := NewInquisitor(cfg)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(outDir, 0o755); err != nil {
		return nil, fmt.Errorf("synth: %w", err)
	}
	rng := rand.New(rand.NewPCG(o.Seed, 0x9e4))
	seen := map[string]bool{}
	var out []Generated
	workers := max(o.Workers, 1)
	for attempt := 0; attempt < o.MaxAttempts && len(out) < o.Count; {
		// Draw a batch of distinct new architectures, then probe them at once.
		type cand struct {
			seed uint64
			a    Arch
			g    *ir.Graph
		}
		var batch []cand
		for len(batch) < workers && attempt < o.MaxAttempts {
			s := rng.Uint64() >> 16
			g, a, err := gen.Generate(s)
			if err != nil {
				return out, err
			}
			if cfg.Repair { // as the run did: distinct after repair
				if a, g, err = repair(gen, q, fmt.Sprintf("gen-%d", s), s, a, g); err != nil {
					return out, err
				}
			}
			attempt++
			if seen[a.String()] {
				continue
			}
			seen[a.String()] = true
			batch = append(batch, cand{s, a, g})
		}
		obs := make([]Observation, len(batch))
		var wg sync.WaitGroup
		for i, c := range batch {
			wg.Add(1)
			go func() {
				defer wg.Done()
				obs[i] = q.Probe(ctx, gen, fmt.Sprintf("gen-%d", c.seed), c.seed, c.a, c.g)
			}()
		}
		wg.Wait()
		if err := ctx.Err(); err != nil {
			return out, err
		}
		for i, ob := range obs {
			if rec != nil {
				rec.Network(0, ob)
			}
			if !ob.Satisfied || len(out) >= o.Count {
				continue
			}
			g := ob.graph
			g.Name = fmt.Sprintf("generated-%d", len(out)+1)
			f, err := q.Finish(g, ob.Arch, test)
			if err != nil {
				return out, err
			}
			f.File = g.Name + ".onnx"
			if err := Export(g, filepath.Join(outDir, f.File), q.Norm, cfg.Dataset, ob.Arch); err != nil {
				return out, err
			}
			out = append(out, Generated{FermiNet: f, Seed: batch[i].seed})
		}
	}
	data, err := json.MarshalIndent(map[string]any{
		"generator": generatorPath, "seed": o.Seed, "requirements": requirementsMap(cfg.Requirements),
		"fine_tune_steps": cfg.Steps, "temperature": o.Temperature, "networks": out,
	}, "", "  ")
	if err != nil {
		return out, fmt.Errorf("synth: %w", err)
	}
	if err := atomicfile.WriteBytes(filepath.Join(outDir, "generated.json"), append(data, '\n')); err != nil {
		return out, err
	}
	if len(out) < o.Count {
		return out, fmt.Errorf("synth: generate: %d of %d networks satisfy the requirements after %d attempts", len(out), o.Count, o.MaxAttempts)
	}
	return out, nil
}

// withTemperature returns a copy of g (sharing its parent) whose logits are
// divided by t.
func (g *Generator) withTemperature(t float64) *Generator {
	c := *g
	c.Decisions = make([]Decision, len(g.Decisions))
	for i, d := range g.Decisions {
		d.Logits = slices.Clone(d.Logits)
		for k := range d.Logits {
			d.Logits[k] /= t
		}
		c.Decisions[i] = d
	}
	return &c
}
