package synth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"github.com/ferminets/fermi/atomicfile"
	"github.com/ferminets/fermi/dataset"
	"github.com/ferminets/fermi/ir"
	"github.com/ferminets/fermi/modelfile"
	"github.com/ferminets/fermi/passes"
	"github.com/ferminets/fermi/targets"
)

// Config is everything that determines a synthesis run: with the same
// Config (Workers and Threads aside, which never change results) a run is
// reproduced exactly.
type Config struct {
	Dataset      string       `json:"dataset"`
	DataDir      string       `json:"data_dir,omitempty"`
	Prototype    string       `json:"prototype"`
	Target       string       `json:"target"`
	Requirements Requirements `json:"requirements"`
	Performance  Performance  `json:"performance"`
	Seed         uint64       `json:"seed"`

	Cycles   int `json:"cycles"`    // generate → probe → update cycles
	PerCycle int `json:"per_cycle"` // networks generated per cycle

	Steps       int     `json:"steps"`        // fine-tune steps per candidate
	Batch       int     `json:"batch"`        // images per step
	LR          float64 `json:"lr"`           // peak AdamW learning rate
	Augment     bool    `json:"augment"`      // random crop (pad 2) and, except for digits, horizontal flip
	TrainImages int     `json:"train_images"` // use only the first TrainImages training images (0: all)
	ValImages   int     `json:"val_images"`   // validation images accuracy is measured on (0: all)

	Eta      float64 `json:"eta"`       // learning rate of the policy-gradient step
	EtaWidth float64 `json:"eta_width"` // learning rate of the activation-driven width step
	// FitPrior starts the width priors on the largest multiplier at which
	// the prototype fits the cost limits (see fitPrior), for prototypes far
	// above the budget.
	FitPrior bool `json:"fit_prior,omitempty"`
	// Repair shrinks every sampled network that exceeds a cost limit until
	// it fits (see repair), before it is probed.
	Repair bool `json:"repair,omitempty"`
	// HiddenLayer adds the decision of a hidden fully connected layer in
	// the head (Skeleton.Hidden, widths HiddenWidths).
	HiddenLayer bool `json:"hidden_layer,omitempty"`

	Final      int `json:"final"`       // FermiNets to finish and export
	FinalSteps int `json:"final_steps"` // further training steps of each
	FinalBatch int `json:"final_batch"` // images per step of the further training (0: Batch)

	Workers int `json:"-"` // candidates probed at once (default 1)
	Threads int `json:"-"` // engine threads per candidate (default 1)
}

// DefaultConfig returns a Config with the search defaults filled in for
// the given data set, prototype and target, without requirements.
func DefaultConfig(ds, prototype, target string) Config {
	return Config{
		Dataset: ds, Prototype: prototype, Target: target, Performance: NetScore,
		Cycles: 5, PerCycle: 8, Steps: 150, Batch: 32, LR: 3e-3, ValImages: 2000,
		Eta: 6, EtaWidth: 2, Final: 2, FinalSteps: 1500, FinalBatch: 128, Workers: 2, Threads: 1,
	}
}

func (c *Config) check() error {
	switch {
	case c.Cycles < 1 || c.PerCycle < 2:
		return fmt.Errorf("synth: %d cycles of %d networks: want at least 1 cycle of 2", c.Cycles, c.PerCycle)
	case c.Steps < 1 || c.Batch < 1 || c.LR <= 0:
		return fmt.Errorf("synth: fine-tune of %d steps of %d images at rate %v", c.Steps, c.Batch, c.LR)
	case c.Eta < 0 || c.EtaWidth < 0:
		return fmt.Errorf("synth: negative learning rate")
	case c.Final < 0 || c.FinalSteps < 0 || c.FinalBatch < 0:
		return fmt.Errorf("synth: negative final count or steps")
	}
	if c.Performance >= numPerformances {
		return fmt.Errorf("synth: unknown performance %d", c.Performance)
	}
	return nil
}

// CycleLog is one line of cycles.jsonl: what one cycle generated and
// learned.
type CycleLog struct {
	Cycle     int               `json:"cycle"`
	Generated int               `json:"generated"`
	Trained   int               `json:"trained"`
	Satisfied int               `json:"satisfied"`
	Share     float64           `json:"share"`             // Satisfied / Generated: the share of G(s) meeting 1_r
	BestU     *float64          `json:"best_u"`            // best U among this cycle's satisfying networks
	BestEverU *float64          `json:"best_ever_u"`       // best U so far
	Change    float64           `json:"theta_change"`      // L1 change of the logits in the update
	Theta     map[string]string `json:"theta"`             // most probable option (probability) per decision, after the update
	Parent    string            `json:"parent,omitempty"`  // network inherited from in the next cycle
	Seconds   float64           `json:"seconds"`           // wall time of the cycle
	Networks  []Observation     `json:"networks"`          // every probe of the cycle
	Mode      string            `json:"mode_architecture"` // the generator's most probable architecture after the update
}

// FermiNet is one finished network of a run.
type FermiNet struct {
	File         string  `json:"file"` // .onnx, relative to the run directory
	Name         string  `json:"name"`
	Arch         string  `json:"arch"`
	ValAccuracy  float64 `json:"val_accuracy"`
	TestAccuracy float64 `json:"test_accuracy"`
	MACs         int64   `json:"macs"`
	Params       int64   `json:"params"`
	NetScore     float64 `json:"netscore"`
	U            float64 `json:"u"`
	LatencyMs    float64 `json:"latency_ms"`
	EnergyMJ     float64 `json:"energy_mj"`
	MemoryBytes  int64   `json:"memory_bytes"`
	Satisfied    bool    `json:"satisfied"` // meets 1_r with its final validation accuracy
	TrainSeconds float64 `json:"train_seconds"`
}

// poolEntry is a satisfying network kept across cycles: a FermiNet
// candidate and an inheritance parent.
type poolEntry struct {
	Obs  Observation `json:"observation"`
	File string      `json:"file"` // .onnx with its fine-tuned weights, relative to the run directory
}

// State is a run's checkpoint (state.json), written after every cycle and
// every finished FermiNet.
type State struct {
	Config        Config      `json:"config"`
	Cycle         int         `json:"cycle"` // completed cycles
	Pool          []poolEntry `json:"pool"`
	BestEverU     *float64    `json:"best_ever_u"`
	FermiNets     []FermiNet  `json:"ferminets"`
	SearchSeconds float64     `json:"search_seconds"`
	FinalSeconds  float64     `json:"final_seconds"`
}

// Recorder observes a run, in the manner of gonum's optimize.Recorder.
type Recorder interface {
	// Cycle is called after each cycle has been checkpointed.
	Cycle(CycleLog)
	// Network is called after each probe.
	Network(cycle int, ob Observation)
	// Final is called after each FermiNet is finished.
	Final(FermiNet)
	// Progress is called during the final training of a FermiNet.
	Progress(name string, done, total int)
}

// poolSize is how many satisfying networks a run keeps.
const poolSize = 6

// Run files.
const (
	GeneratorFile = "generator.json"
	StateFile     = "state.json"
	CycleLogFile  = "cycles.jsonl"
)

// runner holds one run's loaded resources.
type runner struct {
	dir   string
	st    *State
	gen   *Generator
	q     *Inquisitor
	test  *dataset.Set
	rec   Recorder
	start time.Time
}

// Run starts a synthesis run in dir (created; it must not hold a run
// already) and carries it to the end: Config.Cycles cycles, then
// Config.Final FermiNets finished and exported, and the report. On
// cancellation it returns ctx's error after the last checkpoint; Resume
// continues from there with the same result as an uninterrupted run.
func Run(ctx context.Context, dir string, cfg Config, rec Recorder) (*State, error) {
	if err := cfg.check(); err != nil {
		return nil, err
	}
	if _, err := os.Stat(filepath.Join(dir, StateFile)); err == nil {
		return nil, fmt.Errorf("synth: %s already holds a run (resume it, or choose another directory)", dir)
	}
	// The data, the prototype and the prior are checked before dir is
	// made, so a run that cannot start leaves nothing behind.
	r, err := newRunner(dir, &State{Config: cfg}, nil, rec)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Join(dir, "pool"), 0o755); err != nil {
		return nil, fmt.Errorf("synth: %w", err)
	}
	if err := os.WriteFile(filepath.Join(dir, CycleLogFile), nil, 0o644); err != nil {
		return nil, fmt.Errorf("synth: %w", err)
	}
	if err := r.checkpoint(); err != nil {
		return nil, err
	}
	return r.run(ctx)
}

// Resume continues the run in dir from its last checkpoint.
func Resume(ctx context.Context, dir string, workers, threads int, rec Recorder) (*State, error) {
	data, err := os.ReadFile(filepath.Join(dir, StateFile))
	if err != nil {
		return nil, fmt.Errorf("synth: resume: %w", err)
	}
	st := &State{}
	if err := json.Unmarshal(data, st); err != nil {
		return nil, fmt.Errorf("synth: resume: %s: %w", StateFile, err)
	}
	st.Config.Workers, st.Config.Threads = workers, threads
	gen, err := LoadGenerator(filepath.Join(dir, GeneratorFile))
	if err != nil {
		return nil, err
	}
	// Drop log lines of a cycle that was interrupted after being logged
	// but before being checkpointed (cannot happen with the order used by
	// cycle, kept for robustness).
	r, err := newRunner(dir, st, gen, rec)
	if err != nil {
		return nil, err
	}
	return r.run(ctx)
}

// GeneratorFileData is the content of generator.json: θ_G and the
// Config of the run that learned it.
type GeneratorFileData struct {
	Config    Config     `json:"config"`
	Generator *Generator `json:"generator"`
}

// LoadGenerator reads generator.json and the parent weights it refers to.
func LoadGenerator(path string) (*Generator, error) {
	g, _, err := LoadGeneratorConfig(path)
	return g, err
}

// LoadGeneratorConfig reads generator.json with its run's Config.
func LoadGeneratorConfig(path string) (*Generator, Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, Config{}, fmt.Errorf("synth: %w", err)
	}
	var f GeneratorFileData
	if err := json.Unmarshal(data, &f); err != nil {
		return nil, Config{}, fmt.Errorf("synth: %s: %w", path, err)
	}
	if f.Generator == nil {
		return nil, Config{}, fmt.Errorf("synth: %s: no generator", path)
	}
	if err := f.Generator.validate(); err != nil {
		return nil, Config{}, fmt.Errorf("synth: %s: %w", path, err)
	}
	if p := f.Generator.Parent; p != nil {
		pg, err := modelfile.Load(filepath.Join(filepath.Dir(path), p.File))
		if err != nil {
			return nil, Config{}, fmt.Errorf("synth: parent of %s: %w", path, err)
		}
		if err := f.Generator.SetParent(p.Arch, pg, p.File); err != nil {
			return nil, Config{}, err
		}
	}
	return f.Generator, f.Config, nil
}

// NewInquisitor loads the data and target of cfg and returns the
// inquisitor a run with cfg uses, and the test split.
func NewInquisitor(cfg Config) (*Inquisitor, *dataset.Set, error) {
	opts := dataset.Options{DataDir: cfg.DataDir}
	train, err := dataset.Load(cfg.Dataset, "train", opts)
	if err != nil {
		return nil, nil, err
	}
	val, err := dataset.Load(cfg.Dataset, "val", opts)
	if err != nil {
		return nil, nil, err
	}
	test, err := dataset.Load(cfg.Dataset, "test", opts)
	if err != nil {
		return nil, nil, err
	}
	train = train.Head(cfg.TrainImages)
	val = val.Head(cfg.ValImages)
	t, err := targets.Lookup(cfg.Target)
	if err != nil {
		return nil, nil, err
	}
	pl, err := passes.FromNames(t.Passes)
	if err != nil {
		return nil, nil, fmt.Errorf("synth: target %s: %w", t.Name, err)
	}
	aug := dataset.Augment{}
	if cfg.Augment {
		aug = dataset.Augment{Pad: 2, FlipH: cfg.Dataset != "mnist"}
	}
	return &Inquisitor{
		Train: train, Val: val, Norm: dataset.DefaultNormalization(cfg.Dataset), Augment: aug,
		Target: t, Pipeline: pl, Requirements: cfg.Requirements, Performance: cfg.Performance,
		Steps: cfg.Steps, Batch: cfg.Batch, LR: cfg.LR, Threads: max(cfg.Threads, 1),
		Eta: cfg.Eta, EtaWidth: cfg.EtaWidth,
	}, test, nil
}

func newRunner(dir string, st *State, gen *Generator, rec Recorder) (*runner, error) {
	q, test, err := NewInquisitor(st.Config)
	if err != nil {
		return nil, err
	}
	if gen == nil {
		s, err := PrototypeSkeleton(st.Config.Prototype, [3]int{q.Train.C, q.Train.H, q.Train.W}, q.Train.Classes)
		if err != nil {
			return nil, err
		}
		if st.Config.HiddenLayer {
			s.Hidden = slices.Clone(HiddenWidths)
		}
		if gen, err = NewGenerator(s); err != nil {
			return nil, err
		}
		if st.Config.FitPrior {
			if _, err := fitPrior(gen, q); err != nil {
				return nil, err
			}
		}
	}
	return &runner{dir: dir, st: st, gen: gen, q: q, test: test, rec: rec, start: time.Now()}, nil
}

func (r *runner) run(ctx context.Context) (*State, error) {
	for r.st.Cycle < r.st.Config.Cycles {
		if err := r.cycle(ctx); err != nil {
			return r.st, err
		}
	}
	if err := r.finish(ctx); err != nil {
		return r.st, err
	}
	return r.st, WriteReport(r.dir, r.st, r.gen)
}

// checkpoint writes generator.json and state.json.
func (r *runner) checkpoint() error {
	data, err := json.MarshalIndent(GeneratorFileData{Config: r.st.Config, Generator: r.gen}, "", "  ")
	if err != nil {
		return fmt.Errorf("synth: %w", err)
	}
	if err := atomicfile.WriteBytes(filepath.Join(r.dir, GeneratorFile), append(data, '\n')); err != nil {
		return err
	}
	data, err = json.MarshalIndent(r.st, "", "  ")
	if err != nil {
		return fmt.Errorf("synth: %w", err)
	}
	return atomicfile.WriteBytes(filepath.Join(r.dir, StateFile), append(data, '\n'))
}

// cycleSeeds returns the seeds of cycle c's networks: a stream seeded by
// the run's seed and the cycle number, so a resumed run draws the same.
func cycleSeeds(seed uint64, c, n int) []uint64 {
	rng := rand.New(rand.NewPCG(seed, uint64(c)+1))
	s := make([]uint64, n)
	for i := range s {
		s[i] = rng.Uint64() >> 16
	}
	return s
}

// cycle runs one generate → probe → update cycle and checkpoints it.
func (r *runner) cycle(ctx context.Context) error {
	start := time.Now()
	c := r.st.Cycle + 1
	cfg := &r.st.Config
	seeds := cycleSeeds(cfg.Seed, c, cfg.PerCycle)
	type cand struct {
		a Arch
		g *ir.Graph
	}
	cands := make([]cand, len(seeds))
	for i, s := range seeds {
		g, a, err := r.gen.Generate(s)
		if err != nil {
			return err
		}
		name := fmt.Sprintf("c%d-n%d", c, i)
		if cfg.Repair {
			if a, g, err = repair(r.gen, r.q, name, s, a, g); err != nil {
				return err
			}
		}
		g.Name = name
		cands[i] = cand{a, g}
	}
	obs := make([]Observation, len(seeds))
	var wg sync.WaitGroup
	next := make(chan int)
	var mu sync.Mutex
	for range max(cfg.Workers, 1) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				obs[i] = r.q.Probe(ctx, r.gen, cands[i].g.Name, seeds[i], cands[i].a, cands[i].g)
				if r.rec != nil && ctx.Err() == nil {
					mu.Lock()
					r.rec.Network(c, obs[i])
					mu.Unlock()
				}
			}
		}()
	}
	for i := range seeds {
		if ctx.Err() != nil {
			break
		}
		next <- i
	}
	close(next)
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return err
	}
	change := r.q.Update(r.gen, obs)
	log := CycleLog{Cycle: c, Generated: len(obs), Change: change}
	var best *Observation
	for i := range obs {
		ob := &obs[i]
		if ob.Trained {
			log.Trained++
		}
		if ob.Satisfied {
			log.Satisfied++
			if best == nil || ob.U > best.U {
				best = ob
			}
		}
	}
	log.Share = float64(log.Satisfied) / float64(log.Generated)
	if best != nil {
		u := best.U
		log.BestU = &u
		if r.st.BestEverU == nil || u > *r.st.BestEverU {
			r.st.BestEverU = &u
		}
	}
	log.BestEverU = r.st.BestEverU
	if err := r.updatePool(obs); err != nil {
		return err
	}
	if r.gen.Parent != nil {
		log.Parent = r.gen.Parent.File
	}
	log.Theta = r.gen.summary()
	log.Mode = r.gen.Mode().String()
	log.Networks = sanitize(obs)
	log.Seconds = time.Since(start).Seconds()
	r.st.Cycle = c
	r.st.SearchSeconds += log.Seconds
	line, err := json.Marshal(log)
	if err != nil {
		return fmt.Errorf("synth: %w", err)
	}
	if err := r.checkpoint(); err != nil {
		return err
	}
	if err := appendLine(filepath.Join(r.dir, CycleLogFile), c, line); err != nil {
		return err
	}
	if r.rec != nil {
		r.rec.Cycle(log)
	}
	return nil
}

// sanitize returns the observations with infinite violations capped, for JSON.
func sanitize(obs []Observation) []Observation {
	out := slices.Clone(obs)
	for i := range out {
		if math.IsInf(out[i].Violation, 0) || math.IsNaN(out[i].Violation) {
			out[i].Violation = failedViolation
		}
		if math.IsNaN(out[i].U) || math.IsInf(out[i].U, 0) {
			out[i].U = 0
		}
	}
	return out
}

// failedViolation stands for a network that could not be measured.
const failedViolation = 1e6

// appendLine writes line as line number c of the log at path, dropping
// any lines from an earlier, interrupted attempt at cycle c or later.
func appendLine(path string, c int, line []byte) error {
	data, err := os.ReadFile(path)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("synth: %w", err)
	}
	var keep []byte
	n := 0
	for len(data) > 0 && n < c-1 {
		i := slices.Index(data, '\n')
		if i < 0 {
			break
		}
		keep = append(keep, data[:i+1]...)
		data = data[i+1:]
		n++
	}
	keep = append(append(keep, line...), '\n')
	return atomicfile.WriteBytes(path, keep)
}

// updatePool keeps the best satisfying networks (one per architecture) and
// makes the best one the generator's parent; until one satisfies, the most
// accurate trained network of the cycle is the parent.
func (r *runner) updatePool(obs []Observation) error {
	pool := r.st.Pool
	var added []Observation
	for _, ob := range obs {
		if !ob.Satisfied {
			continue
		}
		key := ob.Arch.String()
		i := slices.IndexFunc(pool, func(p poolEntry) bool { return p.Obs.Arch.String() == key })
		if i >= 0 {
			if pool[i].Obs.U >= ob.U {
				continue
			}
			pool = slices.Delete(pool, i, i+1)
		}
		pool = append(pool, poolEntry{Obs: sanitize([]Observation{ob})[0], File: "pool/" + ob.Name + ".onnx"})
		added = append(added, ob)
	}
	slices.SortStableFunc(pool, func(a, b poolEntry) int { return cmp3(b.Obs.U, a.Obs.U) })
	if len(pool) > poolSize {
		pool = pool[:poolSize]
	}
	for _, ob := range added {
		if slices.ContainsFunc(pool, func(p poolEntry) bool { return p.Obs.Name == ob.Name }) {
			if err := modelfile.Save(ob.graph, filepath.Join(r.dir, "pool", ob.Name+".onnx"), modelfile.SaveOptions{}); err != nil {
				return err
			}
		}
	}
	r.st.Pool = pool
	var parent *Observation
	file := ""
	if len(pool) > 0 {
		parent, file = &pool[0].Obs, pool[0].File
	} else {
		for i := range obs {
			if obs[i].Trained && (parent == nil || obs[i].Metrics.Accuracy > parent.Metrics.Accuracy) {
				parent = &obs[i]
			}
		}
		if parent == nil {
			return nil
		}
		file = "pool/" + parent.Name + ".onnx"
		if err := modelfile.Save(parent.graph, filepath.Join(r.dir, file), modelfile.SaveOptions{}); err != nil {
			return err
		}
	}
	if r.gen.Parent != nil && r.gen.Parent.File == file {
		return nil
	}
	// Load the parent back from its file, so a resumed run inherits the
	// very same bits.
	pg, err := modelfile.Load(filepath.Join(r.dir, file))
	if err != nil {
		return err
	}
	return r.gen.SetParent(parent.Arch, pg, file)
}
