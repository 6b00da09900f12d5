package main

import (
	"context"
	"github.com/ferminets/fermi/internal/cli"
	"io"

	"github.com/ferminets/fermi/progress"
	"github.com/ferminets/fermi/targets"
)

// runCalibrate fits a target profile to ONNX Runtime measurements on this
// machine and writes the fitted profile as JSON (loadable with
// --target-file).
func runCalibrate(args []string, stdout, stderr io.Writer) error {
	fs := flags("calibrate", stdout)
	target := fs.String("target", "host", "start from the built-in profile `NAME` (its peaks, fusions and support are kept)")
	targetFile := fs.String("target-file", "", "start from the profile in `FILE` instead")
	out := fs.StringP("output", "o", "", "write the fitted profile to `FILE` (- for stdout)")
	runs := fs.Int("runs", 20, "timed runs per micro-benchmark (median; at least 20)")
	warmup := fs.Int("warmup", 3, "untimed warm-up runs per micro-benchmark")
	rounds := fs.Int("rounds", 3, "measure the whole set `N` times and keep each micro-benchmark's fastest median (other load only slows runs down)")
	clock := fs.String("clock", "cpu", "time to fit: cpu (the run thread's CPU time, robust to machine load) or wall")
	reportFile := fs.String("report", "", "also write the calibration report (every micro-benchmark, measured and fitted) to `FILE`")
	if err := cli.Parse(fs, args); err != nil {
		return err
	}
	switch {
	case fs.NArg() > 0:
		return cli.Usagef("unexpected argument %q", fs.Arg(0))
	case *out == "":
		return cli.Usagef("give the output profile with -o FILE")
	case *runs < 20:
		return cli.Usagef("--runs %d: the protocol needs at least 20", *runs)
	case *warmup < 1:
		return cli.Usagef("--warmup %d: want at least 1", *warmup)
	case *rounds < 1:
		return cli.Usagef("--rounds %d: want at least 1", *rounds)
	case *clock != string(targets.ClockCPU) && *clock != string(targets.ClockWall):
		return cli.Usagef("--clock %q: want cpu or wall", *clock)
	case fs.Changed("target") && *targetFile != "":
		return cli.Usagef("give --target or --target-file, not both")
	}
	base, err := loadTarget(*target, *targetFile)
	if err != nil {
		return err
	}
	var meter *progress.Meter
	opts := targets.CalibrateOptions{Runs: *runs, Warmup: *warmup, Rounds: *rounds, Clock: targets.Clock(*clock),
		Progress: func(done, total int, _ string) {
			if meter == nil {
				meter = progress.New(stderr, "calibrate "+base.Name, total)
			}
			meter.Update(done)
		}}
	t, rep, err := targets.Calibrate(context.Background(), base, opts)
	if err != nil {
		return err
	}
	if *reportFile != "" {
		if err := cli.WriteJSON(*reportFile, stdout, rep); err != nil {
			return err
		}
	}
	return cli.WriteJSON(*out, stdout, t)
}
