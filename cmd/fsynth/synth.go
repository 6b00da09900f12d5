package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"time"

	"github.com/ferminets/fermi/internal/cli"
	"github.com/ferminets/fermi/progress"
	"github.com/ferminets/fermi/synth"
)

// interruptible returns a context cancelled by Ctrl-C (SIGINT); the run
// then stops after its last checkpoint.
func interruptible() (context.Context, context.CancelFunc) {
	return signal.NotifyContext(context.Background(), os.Interrupt)
}

// demoConfig is the run `fsynth` performs without arguments: MNIST (embedded),
// LeNet-5 as the prototype, the Cortex-A76 profile, and requirements that
// LeNet-5 itself (0.59M MACs in this space) violates.
func demoConfig() synth.Config {
	c := synth.DefaultConfig("mnist", "lenet5", "cortex-a76")
	c.Requirements = synth.Requirements{MinAccuracy: 0.96, MaxMACs: 300_000, MaxParams: 20_000, MaxLatencyMs: 0.1}
	c.Seed = 1
	c.Cycles, c.PerCycle = 6, 8
	c.Steps, c.Batch, c.LR = 200, 32, 3e-3
	c.ValImages = 2000
	c.Final, c.FinalSteps, c.FinalBatch = 1, 3000, 64
	return c
}

// cliRecorder prints a run's progress.
type cliRecorder struct {
	w     io.Writer
	meter *progress.Meter
	start time.Time
}

func (r *cliRecorder) Network(cycle int, ob synth.Observation) {
	status := "ok "
	if !ob.Satisfied {
		status = "—  "
	}
	acc := "  untrained"
	if ob.Trained {
		acc = fmt.Sprintf("val %6.2f %%", 100*ob.Metrics.Accuracy)
	}
	fmt.Fprintf(r.w, "  %s %-9s %s  %7d MACs %6d params  %.3f ms  %s", status, ob.Name, acc, ob.Metrics.MACs, ob.Metrics.Params, ob.Metrics.LatencyMs, ob.Arch)
	if ob.Why != "" {
		fmt.Fprintf(r.w, "  (%s)", ob.Why)
	}
	fmt.Fprintln(r.w)
}

func (r *cliRecorder) Cycle(l synth.CycleLog) {
	best := "–"
	if l.BestU != nil {
		best = fmt.Sprintf("%.1f", *l.BestU)
	}
	fmt.Fprintf(r.w, "cycle %d: %d/%d satisfy 1_r (share %.2f), best U %s, %.0f s; most probable now: %s\n",
		l.Cycle, l.Satisfied, l.Generated, l.Share, best, l.Seconds, l.Mode)
}

func (r *cliRecorder) Final(f synth.FermiNet) {
	fmt.Fprintf(r.w, "%s: val %.2f %%, test %.2f %%, %d MACs, %d params, NetScore %.1f, %.3f ms on target  %s\n",
		f.File, 100*f.ValAccuracy, 100*f.TestAccuracy, f.MACs, f.Params, f.NetScore, f.LatencyMs, f.Arch)
}

func (r *cliRecorder) Progress(name string, done, total int) {
	if done <= 50 || r.meter == nil {
		r.meter = progress.New(r.w, "training "+name, total)
	}
	r.meter.Update(done)
}

// finishRun reports the end of a run, or how to resume it.
func finishRun(stdout io.Writer, dir string, st *synth.State, err error) error {
	if errors.Is(err, context.Canceled) {
		fmt.Fprintf(stdout, "interrupted; checkpoint after cycle %d in %s; continue with: fsynth resume %s\n", st.Cycle, dir, dir)
		return nil
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "wrote %s (report.md, report.json, accuracy-vs-macs.svg, generator.json, cycles.jsonl, %d FermiNets)\n", dir, len(st.FermiNets))
	return nil
}

// runDemo is fsynth without arguments (or `fsynth demo`).
func runDemo(args []string, stdout, stderr io.Writer) error {
	fs := flags("demo", stdout)
	out := fs.StringP("output", "o", "ferminets", "run directory")
	workers := fs.Int("workers", 2, "networks probed at once")
	threads := fs.Int("threads", 1, "engine threads per network")
	if err := cli.Parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 0 {
		return cli.Usagef("unexpected arguments %q", fs.Args())
	}
	ctx, stop := interruptible()
	defer stop()
	cfg := demoConfig()
	cfg.Workers, cfg.Threads = *workers, *threads
	rec := &cliRecorder{w: stdout, start: time.Now()}
	var st *synth.State
	var err error
	if _, serr := os.Stat(filepath.Join(*out, synth.StateFile)); serr == nil {
		fmt.Fprintf(stdout, "resuming the demo run in %s\n", *out)
		st, err = synth.Resume(ctx, *out, *workers, *threads, rec)
	} else {
		fmt.Fprintf(stdout, "FermiNets demo: %d cycles of %d networks on MNIST, prototype lenet5, target cortex-a76\n"+
			"requirements: val accuracy ≥ %.0f %% after a %d-step fine-tune, ≤ %d MACs, ≤ %d params, ≤ %.2f ms; U = NetScore\n",
			cfg.Cycles, cfg.PerCycle, 100*cfg.Requirements.MinAccuracy, cfg.Steps, cfg.Requirements.MaxMACs, cfg.Requirements.MaxParams, cfg.Requirements.MaxLatencyMs)
		st, err = synth.Run(ctx, *out, cfg, rec)
	}
	return finishRun(stdout, *out, st, err)
}

// runSynth is `fsynth run`.
func runSynth(args []string, stdout, stderr io.Writer) error {
	fs := flags("run", stdout)
	cfg := synth.DefaultConfig("", "lenet5", "cortex-a76")
	fs.StringVar(&cfg.Dataset, "dataset", "", "mnist, fashion-mnist, cifar10 or a directory")
	fs.StringVar(&cfg.DataDir, "data-dir", "", "where to find a named data set")
	fs.StringVar(&cfg.Prototype, "prototype", cfg.Prototype, "prototype the space is anchored on: "+strings.Join(synth.Prototypes(), ", ")+", or a path to an .onnx CNN (e.g. resnet20.onnx)")
	fs.StringVar(&cfg.Target, "target", cfg.Target, "hardware target profile the costs are estimated for")
	minAcc := fs.String("min-accuracy", "", "minimum validation accuracy after the fine-tune: 0.9 or 90%")
	maxMACs := fs.String("max-macs", "", "maximum MACs as deployed: 1.2M, 300k")
	maxParams := fs.String("max-params", "", "maximum parameters: 120k")
	maxLat := fs.String("max-latency", "", "maximum latency on the target: 5ms, 250us")
	maxEnergy := fs.String("max-energy", "", "maximum energy per inference on the target: 2mJ")
	maxMem := fs.String("max-memory", "", "maximum peak activation memory on the target: 256KiB")
	perf := fs.String("performance", "netscore", "performance function U: netscore, latency, energy or accuracy")
	fs.IntVar(&cfg.Cycles, "cycles", cfg.Cycles, "generate → probe → update cycles")
	fs.IntVar(&cfg.PerCycle, "per-cycle", cfg.PerCycle, "networks generated per cycle")
	fs.IntVar(&cfg.Steps, "steps", cfg.Steps, "fine-tune steps per generated network")
	fs.IntVar(&cfg.Batch, "batch", cfg.Batch, "images per fine-tune step")
	fs.Float64Var(&cfg.LR, "lr", cfg.LR, "peak AdamW learning rate of fine-tunes")
	fs.BoolVar(&cfg.Augment, "augment", false, "random crops (and flips, except on mnist) while fine-tuning")
	fs.IntVar(&cfg.TrainImages, "train-images", 0, "use only the first N training images (0: all)")
	fs.IntVar(&cfg.ValImages, "val-images", cfg.ValImages, "validation images accuracy is measured on (0: all 5,000)")
	fs.Float64Var(&cfg.Eta, "eta", cfg.Eta, "learning rate of the generator's policy-gradient step")
	fs.Float64Var(&cfg.EtaWidth, "eta-width", cfg.EtaWidth, "learning rate of the activation-driven width step")
	fs.BoolVar(&cfg.FitPrior, "fit-prior", false, "start the width priors on the largest multiplier at which the prototype fits the cost limits")
	fs.BoolVar(&cfg.HiddenLayer, "hidden-layer", false, "let the generator choose a hidden fully connected layer (0, 32, 64 or 128 units) before the classifier")
	fs.BoolVar(&cfg.Repair, "repair", false, "shrink every sampled network that exceeds a cost limit until it fits, before probing it")
	fs.IntVar(&cfg.Final, "final", cfg.Final, "best networks to train further and export as FermiNets")
	fs.IntVar(&cfg.FinalSteps, "final-steps", cfg.FinalSteps, "further training steps of each FermiNet")
	fs.IntVar(&cfg.FinalBatch, "final-batch", cfg.FinalBatch, "images per step of the further training")
	fs.Uint64Var(&cfg.Seed, "seed", 0, "seed of the run")
	out := fs.StringP("output", "o", "", "run directory (required)")
	fs.StringVar(out, "out", "", "same as -o")
	fs.IntVar(&cfg.Workers, "workers", 2, "networks probed at once")
	fs.IntVar(&cfg.Threads, "threads", 1, "engine threads per network")
	if err := cli.Parse(fs, args); err != nil {
		return err
	}
	switch {
	case fs.NArg() != 0:
		return cli.Usagef("unexpected arguments %q", fs.Args())
	case cfg.Dataset == "":
		return cli.Usagef("--dataset is required")
	case *out == "":
		return cli.Usagef("--out is required")
	}
	var err error
	r := &cfg.Requirements
	parse := func(s, flag string, f func(string) error) {
		if err == nil && s != "" {
			if e := f(s); e != nil {
				err = cli.Usagef("--%s: %v", flag, e)
			}
		}
	}
	parse(*minAcc, "min-accuracy", func(s string) (e error) { r.MinAccuracy, e = synth.ParseAccuracy(s); return })
	parse(*maxMACs, "max-macs", func(s string) (e error) { r.MaxMACs, e = synth.ParseCount(s); return })
	parse(*maxParams, "max-params", func(s string) (e error) { r.MaxParams, e = synth.ParseCount(s); return })
	parse(*maxLat, "max-latency", func(s string) (e error) { r.MaxLatencyMs, e = synth.ParseMillis(s); return })
	parse(*maxEnergy, "max-energy", func(s string) (e error) { r.MaxEnergyMJ, e = synth.ParseMillijoules(s); return })
	parse(*maxMem, "max-memory", func(s string) (e error) { r.MaxMemoryBytes, e = synth.ParseBytes(s); return })
	parse(*perf, "performance", func(s string) (e error) { cfg.Performance, e = synth.ParsePerformance(s); return })
	if err != nil {
		return err
	}
	ctx, stop := interruptible()
	defer stop()
	st, err := synth.Run(ctx, *out, cfg, &cliRecorder{w: stdout, start: time.Now()})
	return finishRun(stdout, *out, st, err)
}

// runResume is `fsynth resume DIR`.
func runResume(args []string, stdout, stderr io.Writer) error {
	fs := flags("resume", stdout)
	workers := fs.Int("workers", 2, "networks probed at once")
	threads := fs.Int("threads", 1, "engine threads per network")
	if err := cli.Parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return cli.Usagef("want one run directory, got %q", fs.Args())
	}
	dir := fs.Arg(0)
	ctx, stop := interruptible()
	defer stop()
	st, err := synth.Resume(ctx, dir, *workers, *threads, &cliRecorder{w: stdout, start: time.Now()})
	return finishRun(stdout, dir, st, err)
}

// runGenerate is `fsynth generate`.
func runGenerate(args []string, stdout, stderr io.Writer) error {
	fs := flags("generate", stdout)
	gen := fs.String("generator", "", "generator.json of a run (required)")
	var o synth.GenerateOptions
	fs.IntVar(&o.Count, "count", 8, "distinct networks satisfying the run's requirements to generate")
	fs.Uint64Var(&o.Seed, "seed", 0, "seed of the generated networks")
	fs.IntVar(&o.MaxAttempts, "max-attempts", 0, "networks to try at most (default 10 × count)")
	fs.Float64Var(&o.Temperature, "temperature", 1, "divide the generator's logits by T before sampling (< 1: closer to its most probable network)")
	out := fs.StringP("output", "o", "", "output directory (required)")
	fs.StringVar(out, "out", "", "same as -o")
	fs.IntVar(&o.Workers, "workers", 2, "networks probed at once")
	fs.IntVar(&o.Threads, "threads", 1, "engine threads per network")
	if err := cli.Parse(fs, args); err != nil {
		return err
	}
	switch {
	case fs.NArg() != 0:
		return cli.Usagef("unexpected arguments %q", fs.Args())
	case *gen == "" || *out == "":
		return cli.Usagef("--generator and --out are required")
	case o.Count < 1:
		return cli.Usagef("--count must be positive")
	}
	ctx, stop := interruptible()
	defer stop()
	nets, err := synth.GenerateNets(ctx, *gen, *out, o, &cliRecorder{w: stdout})
	for _, n := range nets {
		fmt.Fprintf(stdout, "%s: val %.2f %%, test %.2f %%, %d MACs, %d params, NetScore %.1f  %s\n",
			filepath.Join(*out, n.File), 100*n.ValAccuracy, 100*n.TestAccuracy, n.MACs, n.Params, n.NetScore, n.Arch)
	}
	return err
}
