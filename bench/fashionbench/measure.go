package main

import (
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/ferminets/fermi/dataset"
	"github.com/ferminets/fermi/engine"
	"github.com/ferminets/fermi/ir"
	"github.com/ferminets/fermi/modelfile"
	"github.com/ferminets/fermi/ortrun"
	"github.com/ferminets/fermi/passes"
	"github.com/ferminets/fermi/synth"
	"github.com/ferminets/fermi/targets"
)

// Measured is what the report measures of one ONNX model.
type Measured struct {
	File        string   `json:"file"` // relative to OUTDIR
	Arch        string   `json:"arch"`
	TestAcc     float64  `json:"test_accuracy"`     // engine, 10,000 test images, fraction
	ORTAcc      *float64 `json:"ort_test_accuracy"` // ONNX Runtime, preprocessing from the model's metadata; null without ORT
	MACs        int64    `json:"macs"`              // as deployed on the run's target
	Params      int64    `json:"params"`            // as deployed on the run's target
	NetScore    float64  `json:"netscore"`          // of TestAcc, Params, MACs
	LatencyMs   float64  `json:"latency_ms"`
	EnergyMJ    float64  `json:"energy_mj"`
	MemoryBytes int64    `json:"memory_bytes"`
}

// meter measures models: costs as the run's inquisitor measures them (the
// target's default pipeline, then ir.Analyze and targets.Estimate), and
// test accuracy in the engine and in ONNX Runtime.
type meter struct {
	q       *synth.Inquisitor // only Target and Pipeline are used (Costs)
	test    *dataset.Set
	norm    dataset.Normalization
	threads int
	ortErr  error // why ONNX Runtime is unavailable, or nil
}

// newMeter prepares the measurements of the run with config cfg. Without
// ONNX Runtime it fails when requireORT is set and otherwise records why.
func newMeter(cfg synth.Config, threads int, requireORT bool) (*meter, error) {
	t, err := targets.Lookup(cfg.Target)
	if err != nil {
		return nil, err
	}
	pl, err := passes.FromNames(t.Passes)
	if err != nil {
		return nil, fmt.Errorf("fashionbench: target %s: %w", t.Name, err)
	}
	test, err := dataset.Load(cfg.Dataset, "test", dataset.Options{DataDir: cfg.DataDir})
	if err != nil {
		return nil, err
	}
	m := &meter{q: &synth.Inquisitor{Target: t, Pipeline: pl}, test: test, norm: dataset.DefaultNormalization(cfg.Dataset), threads: threads}
	if err := ortrun.Available(); err != nil {
		if requireORT {
			return nil, fmt.Errorf("fashionbench: CI=true and %w", err)
		}
		m.ortErr = err
	}
	return m, nil
}

// measure loads the model at path and measures it; file is how the report
// names it.
func (m *meter) measure(path, file string) (Measured, *ir.Graph, error) {
	g, err := modelfile.Load(path)
	if err != nil {
		return Measured{}, nil, err
	}
	c, err := m.q.Costs(g)
	if err != nil {
		return Measured{}, nil, err
	}
	r := Measured{File: file, Arch: metadata(g)["ferminets.arch"], MACs: c.MACs, Params: c.Params,
		LatencyMs: c.LatencyMs, EnergyMJ: c.EnergyMJ, MemoryBytes: c.MemoryBytes}
	e, err := engine.New(g, engine.WithThreads(m.threads))
	if err != nil {
		return Measured{}, nil, fmt.Errorf("fashionbench: %s: %w", path, err)
	}
	res, err := e.Evaluate(m.test, m.norm, 250, nil)
	if err != nil {
		return Measured{}, nil, fmt.Errorf("fashionbench: %s: %w", path, err)
	}
	r.TestAcc = res.Accuracy
	r.NetScore = synth.NetScoreOf(r.TestAcc, r.Params, r.MACs)
	if m.ortErr == nil {
		a, err := ortAccuracy(path, g, m.test)
		if err != nil {
			return Measured{}, nil, err
		}
		r.ORTAcc = &a
	}
	return r, g, nil
}

// metadata returns the model's metadata_props as a map.
func metadata(g *ir.Graph) map[string]string {
	m := map[string]string{}
	for _, p := range g.Metadata {
		m[p.Key] = p.Value
	}
	return m
}

// preprocessing reads preprocess.scale, .mean and .std (one value, or one
// per channel) from the model's metadata (BENCHMARK.md A2).
func preprocessing(path string, meta map[string]string, channels int) (scale float32, mean, std []float32, err error) {
	list := func(k string) ([]float32, error) {
		v, ok := meta[k]
		if !ok {
			return nil, fmt.Errorf("fashionbench: %s: no %s in the model's metadata", path, k)
		}
		var out []float32
		for _, s := range strings.Split(v, ",") {
			f, err := strconv.ParseFloat(strings.TrimSpace(s), 32)
			if err != nil {
				return nil, fmt.Errorf("fashionbench: %s: metadata %s = %q: %v", path, k, v, err)
			}
			out = append(out, float32(f))
		}
		if len(out) != 1 && len(out) != channels {
			return nil, fmt.Errorf("fashionbench: %s: metadata %s has %d values for %d channels", path, k, len(out), channels)
		}
		return out, nil
	}
	s, err := list("preprocess.scale")
	if err != nil {
		return 0, nil, nil, err
	}
	if mean, err = list("preprocess.mean"); err != nil {
		return 0, nil, nil, err
	}
	if std, err = list("preprocess.std"); err != nil {
		return 0, nil, nil, err
	}
	return s[0], mean, std, nil
}

// ortBatch is how many images one ONNX Runtime run classifies.
const ortBatch = 500

// ortAccuracy runs the model at path in ONNX Runtime (one intra-op thread)
// on every image of test, preprocessed only from the model's metadata, and
// returns its top-1 accuracy.
func ortAccuracy(path string, g *ir.Graph, test *dataset.Set) (float64, error) {
	scale, mean, std, err := preprocessing(path, metadata(g), test.C)
	if err != nil {
		return 0, err
	}
	model, err := os.ReadFile(path)
	if err != nil {
		return 0, fmt.Errorf("fashionbench: %w", err)
	}
	sess, err := ortrun.NewSession(model, ortrun.Options{IntraOpThreads: 1})
	if err != nil {
		return 0, fmt.Errorf("fashionbench: %s: %w", path, err)
	}
	defer sess.Close()
	if len(sess.Inputs()) != 1 || len(sess.Outputs()) < 1 {
		return 0, fmt.Errorf("fashionbench: %s: %d inputs and %d outputs, want 1 input and logits", path, len(sess.Inputs()), len(sess.Outputs()))
	}
	in, out := sess.Inputs()[0].Name, sess.Outputs()[0].Name
	size, hw := test.ImageSize(), test.H*test.W
	pick := func(v []float32, c int) float32 { return v[min(c, len(v)-1)] }
	correct := 0
	for lo := 0; lo < test.N; lo += ortBatch {
		n := min(ortBatch, test.N-lo)
		x := make([]float32, n*size)
		for i := range x {
			c := (i % size) / hw
			x[i] = (float32(test.Pixels[lo*size+i])*scale - pick(mean, c)) / pick(std, c)
		}
		outs, err := sess.Run(map[string]*ir.Tensor{in: ir.NewFloat32([]int64{int64(n), int64(test.C), int64(test.H), int64(test.W)}, x)})
		if err != nil {
			return 0, fmt.Errorf("fashionbench: %s: %w", path, err)
		}
		logits := outs[out]
		if logits == nil || len(logits.Dims) != 2 || logits.Dims[0] != int64(n) || len(logits.F32) != n*int(logits.Dims[1]) {
			return 0, fmt.Errorf("fashionbench: %s: ONNX Runtime output %q is not %d×classes float32 logits", path, out, n)
		}
		k := int(logits.Dims[1])
		for i := range n {
			row := logits.F32[i*k : (i+1)*k]
			b := 0
			for j, v := range row {
				if v > row[b] {
					b = j
				}
			}
			if b == int(test.Labels[lo+i]) {
				correct++
			}
		}
	}
	return float64(correct) / float64(test.N), nil
}
