// Command fashionbench runs the final stages of the Fashion-MNIST synthesis
// benchmark (issue 7, BENCHMARK.md A): reference-recipe training of the
// chosen FermiNets and of the reference networks, and the report.
//
// Usage:
//
//	fashionbench final  --run RUNDIR --out OUTDIR [--max 3] [--epochs 30] [--train-limit 0]
//	fashionbench refs   --run RUNDIR --out OUTDIR [--arch lenet5[,simplecnn,resnet20]]
//	fashionbench report --run RUNDIR --out OUTDIR [--also SUBDIR,...]
//
// RUNDIR is a finished fsynth run directory (state.json, cycles.jsonl,
// pool/*.onnx, generator.json, ferminet-*.onnx). OUTDIR receives:
//
//   - final: final-selection.json (written first, so a resumed run trains
//     the same networks), then ferminet-K.onnx and ferminet-K-train.json per
//     chosen network, trained by `fsynth train` with its defaults (the
//     reference recipe) and resumed from ferminet-K.onnx.ckpt;
//     ferminet-K-epochs.jsonl records the epochs of every session, so that
//     training time adds up across resumes.
//   - refs: ARCH-ours.onnx and ARCH-train.json per reference network.
//   - report: report.json, report.md and accuracy-vs-macs.svg, measuring the
//     trained FermiNets, the references and OUTDIR/generated/*.onnx on the
//     10,000 test images with the engine and with ONNX Runtime. --also
//     SUBDIR adds the FermiNets of another run, whose final stage wrote
//     OUTDIR/SUBDIR (its final-selection.json names the run); report.json's
//     runs lists every run with its requirement set.
//
// The selection takes, from the run's pool (validation accuracy as the run
// measured it): the best NetScore; the most accurate network with ≤ 1.2 M
// MACs and ≤ 120 k params; the most accurate with ≤ 6.2 M MACs; then the
// run's own FermiNets; duplicates (same architecture) are dropped and the
// first --max kept.
//
// Training is delegated to bin/fsynth (--fsynth), which must be built first
// (scripts/bench-fashion.sh does). Without ONNX Runtime, report writes
// ort_test_accuracy null and warns; with CI=true it fails instead.
//
// Example:
//
//	go run ./bench/fashionbench final --run bench/results/fashion-mnist/synth-small --out bench/results/fashion-mnist
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
	"syscall"

	"github.com/spf13/pflag"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	if err != nil {
		var u usageError
		if errors.As(err, &u) {
			fmt.Fprintln(os.Stderr, "fashionbench:", err)
			os.Exit(2)
		}
		fmt.Fprintln(os.Stderr, err) // prefixed by the package that failed
		os.Exit(1)
	}
}

// usageError is a command-line mistake (exit status 2).
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

// options are the command-line settings of every stage.
type options struct {
	run, out    string
	fsynth      string
	max         int
	epochs      int
	trainLimit  int
	threads     int
	only        []int // final: train only these K (parallel invocations)
	archs       []string
	stdout      io.Writer
	stderr      io.Writer
	requireORT  bool // fail instead of warning when ONNX Runtime is unavailable
	evalThreads int
	also        []string // report: sub-directories of out with other runs' final stages
	teacher     string   // final: distill from this model (fsynth train --teacher)
	distill     float64  // final: fsynth train --distill (with teacher)
}

// referenceEpochs is the epoch count of BENCHMARK.md's reference recipe.
const referenceEpochs = 30

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || strings.HasPrefix(args[0], "-") {
		return usageError{"usage: fashionbench final|refs|report --run RUNDIR --out OUTDIR [flags]"}
	}
	stage := args[0]
	fs := pflag.NewFlagSet("fashionbench "+stage, pflag.ContinueOnError)
	fs.SetOutput(stderr)
	o := options{stdout: stdout, stderr: stderr, requireORT: os.Getenv("CI") == "true"}
	fs.StringVar(&o.run, "run", "", "fsynth run directory (state.json, pool/, ferminet-*.onnx)")
	fs.StringVar(&o.out, "out", "", "output directory of the benchmark")
	fs.StringVar(&o.fsynth, "fsynth", "bin/fsynth", "the fsynth binary that trains")
	fs.IntVar(&o.max, "max", 3, "final: FermiNets to train at most")
	fs.IntVar(&o.epochs, "epochs", referenceEpochs, "final, refs: training epochs (30 is the reference recipe)")
	fs.IntVar(&o.trainLimit, "train-limit", 0, "final, refs: train on the first N images only (smoke tests; 0: all 60,000)")
	fs.IntVar(&o.threads, "threads", 0, "final, refs: fsynth train --threads (0: its default)")
	fs.StringVar(&o.teacher, "teacher", "", "final: train with the reference recipe plus distillation from this trained model (fsynth train --teacher)")
	fs.Float64Var(&o.distill, "distill", 0.5, "final: with --teacher, the weight of the teacher term (fsynth train --distill)")
	fs.IntSliceVar(&o.only, "only", nil, "final: train only ferminet-K for these K (run two invocations with disjoint --only to train in parallel)")
	fs.StringSliceVar(&o.archs, "arch", []string{"lenet5"}, "refs: reference networks to train (lenet5, simplecnn, resnet20)")
	fs.IntVar(&o.evalThreads, "eval-threads", 1, "report: engine threads of the test-set evaluation")
	fs.StringSliceVar(&o.also, "also", nil, "report: also report the FermiNets trained in these sub-directories of OUTDIR (each a final --out of another run)")
	if err := fs.Parse(args[1:]); err != nil {
		return usageError{err.Error()}
	}
	switch {
	case fs.NArg() != 0:
		return usageError{fmt.Sprintf("unexpected arguments %q", fs.Args())}
	case o.run == "" || o.out == "":
		return usageError{"--run and --out are required"}
	case o.max < 1 || o.epochs < 1 || o.trainLimit < 0 || o.evalThreads < 1:
		return usageError{"--max, --epochs and --eval-threads must be positive, --train-limit not negative"}
	}
	if same, err := sameDir(o.run, o.out); err != nil {
		return err
	} else if same {
		return usageError{fmt.Sprintf("--out %s is the run directory: its ferminet-*.onnx and report would be overwritten", o.out)}
	}
	switch stage {
	case "final":
		return finalStage(ctx, o)
	case "refs":
		return refsStage(ctx, o)
	case "report":
		return reportStage(o)
	}
	return usageError{fmt.Sprintf("unknown stage %q (final, refs, report)", stage)}
}

// sameDir reports whether a and b name the same directory.
func sameDir(a, b string) (bool, error) {
	aa, err := filepath.Abs(a)
	if err != nil {
		return false, fmt.Errorf("fashionbench: %w", err)
	}
	bb, err := filepath.Abs(b)
	if err != nil {
		return false, fmt.Errorf("fashionbench: %w", err)
	}
	return filepath.Clean(aa) == filepath.Clean(bb), nil
}
