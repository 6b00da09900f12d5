package main

import (
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/spf13/pflag"

	"github.com/ferminets/fermi/atomicfile"
	"github.com/ferminets/fermi/dataset"
	"github.com/ferminets/fermi/engine"
	"github.com/ferminets/fermi/ir"
	"github.com/ferminets/fermi/modelfile"
	"github.com/ferminets/fermi/onnxio"
	"github.com/ferminets/fermi/progress"
	"github.com/ferminets/fermi/targets"
)

//go:embed doc.go
var docSource string

// usageError marks errors that exit with status 2.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error { return usageError{fmt.Sprintf(format, args...)} }

// command is one row of the subcommand table.
type command struct {
	name  string
	short string
	run   func(args []string, stdout io.Writer) error
}

var commands []command

func init() {
	// Assigned here because help refers back to the table.
	commands = []command{
		{"compile", "read, transform and write a model, report its cost (default)", runCompile},
		{"run", "execute a model on the reference engine with .pb inputs", runRun},
		{"eval", "top-1 accuracy of a classifier on a data set", runEval},
		{"targets", "list the hardware target profiles", runTargets},
		{"help", "show help", runHelp},
	}
}

func main() {
	os.Exit(mainErr(os.Args[1:], os.Stdout, os.Stderr))
}

// mainErr runs the command line and returns the exit status.
func mainErr(args []string, stdout, stderr io.Writer) int {
	name, rest := "compile", args
	if len(args) > 0 {
		for _, c := range commands {
			if args[0] == c.name {
				name, rest = c.name, args[1:]
			}
		}
	}
	var err error
	for _, c := range commands {
		if c.name == name {
			err = c.run(rest, stdout)
		}
	}
	var ue usageError
	switch {
	case err == nil:
		return 0
	case errors.Is(err, pflag.ErrHelp):
		return 0
	case errors.As(err, &ue):
		fmt.Fprintf(stderr, "fcompile %s: %v\nRun 'fcompile help' for usage.\n", name, err)
		return 2
	}
	fmt.Fprintf(stderr, "fcompile: %v\n", err)
	return 1
}

// helpText is the package comment of doc.go, so docs and --help never drift.
func helpText() string {
	var out []string
	for _, line := range strings.Split(docSource, "\n") {
		if strings.HasPrefix(line, "package ") {
			break
		}
		line = strings.TrimPrefix(strings.TrimPrefix(line, "//"), " ")
		out = append(out, line)
	}
	return strings.Join(out, "\n")
}

func newFlags(name string, stdout io.Writer) *pflag.FlagSet {
	fs := pflag.NewFlagSet(name, pflag.ContinueOnError)
	fs.SetOutput(stdout)
	fs.Usage = func() {
		fmt.Fprintln(stdout, helpText())
		fmt.Fprintf(stdout, "Flags of fcompile %s:\n", name)
		fs.PrintDefaults()
	}
	return fs
}

func parseFlags(fs *pflag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, pflag.ErrHelp) {
			return err
		}
		return usageError{err.Error()}
	}
	return nil
}

func runHelp(args []string, stdout io.Writer) error {
	fmt.Fprintln(stdout, helpText())
	fmt.Fprintln(stdout, "Commands:")
	for _, c := range commands {
		fmt.Fprintf(stdout, "  %-8s %s\n", c.name, c.short)
	}
	return nil
}

func runCompile(args []string, stdout io.Writer) error {
	fs := newFlags("compile", stdout)
	out := fs.StringP("output", "o", "", "write the result to `FILE` (.onnx or .fir)")
	emit := fs.String("emit", "", "print the result to stdout: ir")
	report := fs.Bool("report", false, "print the per-node cost table with totals")
	reportJSON := fs.String("report-json", "", "write the cost report as JSON to `FILE` (- for stdout)")
	opset := fs.Int64("opset", 0, "ONNX opset to write, 13..21 (default: keep an imported opset >= 13, else 17)")
	pipeline := fs.String("passes", "none", "pass pipeline; only \"none\" exists yet (a faithful round trip)")
	targetName := fs.String("target", "", "estimate latency, energy and memory on target `T` (see fcompile targets)")
	targetFile := fs.String("target-file", "", "like --target, with a profile read from `FILE`")
	strict := fs.Bool("strict", false, "fail when the target cannot run an op, dtype or dynamic shape of the model")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *targetName != "" && *targetFile != "" {
		return usagef("give --target or --target-file, not both")
	}
	if fs.NArg() != 1 {
		return usagef("want exactly one model file, got %d arguments", fs.NArg())
	}
	if *emit != "" && *emit != "ir" {
		return usagef("--emit %q: want ir", *emit)
	}
	if *pipeline != "none" {
		return usagef("--passes %q: the pass manager is not implemented yet; only \"none\" is available", *pipeline)
	}
	if *out != "" {
		if _, err := modelfile.FormatOf(*out); err != nil {
			return usageError{err.Error()}
		}
	}
	in := fs.Arg(0)
	g, err := modelfile.Load(in)
	if err != nil {
		return err
	}
	if *emit == "ir" {
		if err := ir.Fprint(stdout, g, ir.PrintOptions{}); err != nil {
			return err
		}
	}
	var tr *targets.Report
	if *targetName != "" || *targetFile != "" {
		t, err := loadTarget(*targetName, *targetFile)
		if err != nil {
			return err
		}
		if tr, err = targets.Estimate(g, t); err != nil {
			return fmt.Errorf("%s: %w", in, err)
		}
		if err := tr.CheckSupported(); err != nil {
			if *strict {
				return fmt.Errorf("%s: %w", in, err)
			}
			fmt.Fprintf(os.Stderr, "fcompile: warning: %s: %v\n", in, err)
		}
	}
	if *report || *reportJSON != "" {
		r, err := ir.Analyze(g)
		if err != nil {
			return fmt.Errorf("%s: %w", in, err)
		}
		if *report {
			printReport(stdout, r)
			if tr != nil {
				fmt.Fprintln(stdout)
				if err := targets.FormatTable(stdout, tr); err != nil {
					return err
				}
			}
		}
		if *reportJSON != "" {
			if err := writeJSON(*reportJSON, stdout, mergeReports(r, tr)); err != nil {
				return err
			}
		}
	}
	if *out != "" {
		if err := modelfile.Save(g, *out, modelfile.SaveOptions{Opset: *opset}); err != nil {
			return err
		}
	}
	return nil
}

func writeJSON(path string, stdout io.Writer, v any) error {
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	data = append(data, '\n')
	if path == "-" {
		_, err = stdout.Write(data)
		return err
	}
	return atomicfile.WriteBytes(path, data)
}

func printReport(w io.Writer, r *ir.Report) {
	tw := tabwriter.NewWriter(w, 0, 8, 2, ' ', 0)
	fmt.Fprintln(tw, "node\top\toutput\tMACs\tFLOPs\tparams")
	for _, n := range r.Nodes {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%d\t%d\n", n.Name, n.Op, n.OutputShape, n.MACs, n.FLOPs, n.Params)
	}
	fmt.Fprintf(tw, "total\t\t\t%d\t%d\t%d\n", r.MACs, r.FLOPs, r.Params)
	tw.Flush()
	fmt.Fprintf(w, "weights %d B, peak activations %d B, peak memory %d B\n",
		r.WeightBytes, r.PeakActivationBytes, r.PeakMemoryBytes)
}

func runRun(args []string, stdout io.Writer) error {
	fs := newFlags("run", stdout)
	inputs := fs.StringArray("input", nil, "bind graph input `NAME=FILE.pb` (repeatable; FILE.pb alone binds inputs in order)")
	outDir := fs.String("output-dir", "", "write output_0.pb ... into `DIR`")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usagef("want exactly one model file, got %d arguments", fs.NArg())
	}
	if *outDir == "" {
		return usagef("--output-dir is required")
	}
	path := fs.Arg(0)
	g, err := modelfile.Load(path)
	if err != nil {
		return err
	}
	feeds, err := bindInputs(g, *inputs)
	if err != nil {
		return err
	}
	ex, err := engine.New(g)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	outs, err := ex.Run(feeds)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	if err := os.MkdirAll(*outDir, 0o755); err != nil {
		return err
	}
	for i, t := range outs {
		name := fmt.Sprintf("%s/output_%d.pb", *outDir, i)
		if err := onnxio.WriteTensorFile(name, g.Outputs[i].Name, t); err != nil {
			return err
		}
	}
	return nil
}

// bindInputs reads the --input flags: NAME=FILE binds by name, a bare FILE
// binds the next graph input in order.
func bindInputs(g *ir.Graph, specs []string) (map[string]*ir.Tensor, error) {
	feeds := make(map[string]*ir.Tensor)
	next := 0
	for _, spec := range specs {
		name, file, named := strings.Cut(spec, "=")
		if !named {
			file, name = spec, ""
			if next >= len(g.Inputs) {
				return nil, usagef("--input %s: the model has only %d inputs", spec, len(g.Inputs))
			}
			name = g.Inputs[next].Name
			next++
		}
		t, _, err := onnxio.ReadTensorFile(file)
		if err != nil {
			return nil, err
		}
		found := false
		for _, in := range g.Inputs {
			found = found || in.Name == name
		}
		if !found {
			return nil, usagef("--input %s: the model has no input %q", spec, name)
		}
		feeds[name] = t
	}
	return feeds, nil
}

func runEval(args []string, stdout io.Writer) error {
	fs := newFlags("eval", stdout)
	data := fs.String("dataset", "", "mnist, fashion-mnist, cifar10, or a directory (IDX files, CIFAR batches, image folders)")
	dataDir := fs.String("data-dir", "", "where to find a named data set (default: its Debian location)")
	split := fs.String("split", "test", "test, train or val (val: the last 5,000 training images)")
	asJSON := fs.Bool("json", false, "print one JSON object instead of a line")
	batch := fs.Int("batch", 256, "images per engine run")
	mean := fs.Float32Slice("mean", nil, "per-channel mean after scaling (default: the data set's, e.g. 0.2860 for fashion-mnist)")
	std := fs.Float32Slice("std", nil, "per-channel standard deviation after scaling (default: the data set's)")
	scale := fs.Float32("scale", 1.0/255, "pixel scale applied before the mean and std")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usagef("want exactly one model file, got %d arguments", fs.NArg())
	}
	if *data == "" {
		return usagef("--dataset is required")
	}
	path := fs.Arg(0)
	g, err := modelfile.Load(path)
	if err != nil {
		return err
	}
	set, err := dataset.Load(*data, *split, dataset.Options{DataDir: *dataDir})
	if err != nil {
		return err
	}
	norm := dataset.DefaultNormalization(*data)
	norm.Scale = *scale
	if fs.Changed("mean") {
		norm.Mean = *mean
	}
	if fs.Changed("std") {
		norm.Std = *std
	}
	ex, err := engine.New(g)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	meter := progress.New(os.Stderr, "eval "+path, set.N)
	res, err := ex.Evaluate(set, norm, *batch, func(done, _ int) { meter.Update(done) })
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	if *asJSON {
		return writeJSON("-", stdout, struct {
			engine.EvalResult
			Model   string `json:"model"`
			Dataset string `json:"dataset"`
			Split   string `json:"split"`
		}{res, path, *data, *split})
	}
	fmt.Fprintf(stdout, "%s on %s/%s: top-1 %.2f %% (%d/%d)\n", path, *data, *split, 100*res.Accuracy, res.Correct, res.Samples)
	return nil
}

func loadTarget(name, file string) (*targets.Target, error) {
	if file != "" {
		return targets.LoadFile(file)
	}
	t, err := targets.Lookup(name)
	if err != nil {
		return nil, usageError{err.Error()}
	}
	return t, nil
}

// mergeReports combines the graph's cost report with a target's estimate: the
// graph totals stay at the top level, the target's latency_ms, energy_mj,
// peak_memory_bytes (fusion- and dtype-aware), fits and unsupported join
// them, and the whole estimate sits under "target".
func mergeReports(r *ir.Report, tr *targets.Report) any {
	if tr == nil {
		return r
	}
	data, err := json.Marshal(r)
	if err != nil {
		return r
	}
	var m map[string]any
	if json.Unmarshal(data, &m) != nil {
		return r
	}
	m["latency_ms"] = tr.LatencyMs
	m["energy_mj"] = tr.EnergyMJ
	m["peak_memory_bytes"] = tr.PeakMemoryBytes
	m["fits"] = tr.Fits
	m["unsupported"] = tr.Unsupported
	m["target"] = tr
	return m
}

func runTargets(args []string, stdout io.Writer) error {
	fs := newFlags("targets", stdout)
	asJSON := fs.Bool("json", false, "print the profiles as JSON")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *asJSON {
		return writeJSON("-", stdout, targets.Builtin())
	}
	return targets.FormatTargets(stdout, targets.Builtin())
}
