//go:build cgo

package targets

import (
	"context"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/ferminets/fermi/internal/machine"
	"github.com/ferminets/fermi/ir"
	"github.com/ferminets/fermi/onnxio"
	"github.com/ferminets/fermi/ortrun"
)

// Calibrate measures ONNX Runtime on this machine and returns a copy of base
// with its per-kernel overhead, bandwidth and per-class efficiencies fitted
// to the measurements, each with a "fitted: …" source, and a report of every
// micro-benchmark.
//
// Protocol (BENCHMARK.md section D): default session options (graph
// optimization level "all"), 1 intra-op thread, sequential execution, batch
// 1, opts.Warmup untimed runs, then the median of opts.Runs timed runs. The
// time of an Identity-only model (the fixed cost of one session run) is
// subtracted from each micro-benchmark. The fit minimises the squared log
// error of Estimate's own predictions (see CalibrationReport.Method).
func Calibrate(ctx context.Context, base *Target, opts CalibrateOptions) (*Target, *CalibrationReport, error) {
	if base == nil {
		return nil, nil, errors.New("targets: calibrate: base target is nil")
	}
	if opts.Runs < 20 {
		return nil, nil, fmt.Errorf("targets: calibrate: %d runs, the protocol needs at least 20", opts.Runs)
	}
	if opts.Warmup < 0 {
		return nil, nil, fmt.Errorf("targets: calibrate: negative warm-up %d", opts.Warmup)
	}
	if opts.Warmup == 0 {
		opts.Warmup = 3
	}
	if opts.Rounds < 0 {
		return nil, nil, fmt.Errorf("targets: calibrate: negative rounds %d", opts.Rounds)
	}
	if opts.Rounds == 0 {
		opts.Rounds = 3
	}
	switch opts.Clock {
	case "":
		opts.Clock = ClockCPU
	case ClockCPU, ClockWall:
	default:
		return nil, nil, fmt.Errorf("targets: calibrate: unknown clock %q (want %q or %q)", opts.Clock, ClockCPU, ClockWall)
	}
	if err := base.Validate(); err != nil {
		return nil, nil, err
	}
	if err := ortrun.Available(); err != nil {
		return nil, nil, fmt.Errorf("targets: calibrate: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return nil, nil, fmt.Errorf("targets: calibrate: %w", err)
	}
	ver, _ := ortrun.Version()
	benches, err := MicroBenchmarks()
	if err != nil {
		return nil, nil, err
	}
	rep := &CalibrationReport{Machine: machine.CPUModel(), ORTVersion: ver, Date: time.Now().UTC().Format("2006-01-02"),
		Runs: opts.Runs, Warmup: opts.Warmup, Rounds: opts.Rounds, Clock: opts.Clock, Method: fitMethod}
	rep.LoadAvg[0] = LoadAvg()

	measure := func(g *ir.Graph, runs int) (Measurement, error) {
		model, err := onnxio.Encode(g, onnxio.WriteOptions{})
		if err != nil {
			return Measurement{}, fmt.Errorf("targets: calibrate: %s: %w", g.Name, err)
		}
		m, err := MeasureModel(model, runs, opts.Warmup)
		if err != nil {
			return Measurement{}, fmt.Errorf("targets: calibrate: %s: %w", g.Name, err)
		}
		return m, nil
	}
	bg, err := baseBenchmark()
	if err != nil {
		return nil, nil, fmt.Errorf("targets: calibrate: %w", err)
	}
	// The base is a few microseconds; many runs make its median stable.
	if rep.Base, err = measure(bg, 10*opts.Runs); err != nil {
		return nil, nil, err
	}
	t := cloneTarget(base)
	if err := t.Validate(); err != nil {
		return nil, nil, err
	}
	models := make([][]byte, len(benches))
	for i, mb := range benches {
		if models[i], err = onnxio.Encode(mb.Graph, onnxio.WriteOptions{}); err != nil {
			return nil, nil, fmt.Errorf("targets: calibrate: %s: %w", mb.Name, err)
		}
	}
	// Every micro-benchmark is measured once per round, rounds apart, and
	// the round with the lowest median counts: other work on a shared
	// machine only ever slows a run down.
	best := make([]Measurement, len(benches))
	for round := range opts.Rounds {
		for i, mb := range benches {
			if err := ctx.Err(); err != nil {
				return nil, nil, fmt.Errorf("targets: calibrate: %w", err)
			}
			m, err := MeasureModel(models[i], opts.Runs, opts.Warmup)
			if err != nil {
				return nil, nil, fmt.Errorf("targets: calibrate: %s: %w", mb.Name, err)
			}
			if round == 0 || m.Ms(opts.Clock) < best[i].Ms(opts.Clock) {
				best[i] = m
			}
			if opts.Progress != nil {
				opts.Progress(round*len(benches)+i+1, opts.Rounds*len(benches), mb.Name)
			}
		}
	}
	var samples []sample
	for i, mb := range benches {
		m := best[i]
		ms := math.Max(m.Ms(opts.Clock)-rep.Base.Ms(opts.Clock), 1e-4)
		pl := groupKernels(mb.Graph, t)
		fitted := ms >= minFitMs
		fp := pl.peakBytes
		for _, k := range pl.kernels {
			fp += k.weightBytes
		}
		samples = append(samples, sample{kernels: pl.kernels, ms: ms, skip: !fitted, footprint: fp})
		r := BenchmarkResult{Name: mb.Name, Class: mb.Class, Kernels: len(pl.kernels), Raw: m, MeasuredMs: ms, Fitted: fitted}
		for _, k := range pl.kernels {
			r.FLOPs += k.flops
			r.Bytes += k.bytes
		}
		rep.Benchmarks = append(rep.Benchmarks, r)
	}
	rep.LoadAvg[1] = LoadAvg()
	raisePeak(t, rep)
	rep.RMSLogErr = fit(t, samples)
	for i := range rep.Benchmarks {
		r := &rep.Benchmarks[i]
		r.PredictedMs = predictMs(t, samples[i])
		r.Ratio = r.PredictedMs / r.MeasuredMs
	}
	fittedSources(t, rep)
	if err := t.Validate(); err != nil {
		return nil, nil, fmt.Errorf("targets: calibrate: fitted profile: %w", err)
	}
	return t, rep, nil
}
