package main

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/spf13/pflag"

	"github.com/ferminets/fermi/dataset"
	"github.com/ferminets/fermi/engine"
	"github.com/ferminets/fermi/internal/cli"
	"github.com/ferminets/fermi/ir"
	"github.com/ferminets/fermi/modelfile"
	"github.com/ferminets/fermi/onnxio"
	"github.com/ferminets/fermi/passes"
	"github.com/ferminets/fermi/progress"
	"github.com/ferminets/fermi/targets"
)

//go:embed doc.go
var docSource string

// program is fcompile's command table; compile is the default command.
var program = &cli.Program{
	Name:    "fcompile",
	Doc:     docSource,
	Default: "compile",
	Commands: []cli.Command{
		{Name: "compile", Short: "read, transform and write a model, report its cost (default)", Run: runCompile},
		{Name: "run", Short: "execute a model on the reference engine with .pb inputs", Run: runRun},
		{Name: "eval", Short: "top-1 accuracy of a classifier on a data set", Run: runEval},
		{Name: "targets", Short: "list the hardware target profiles", Run: runTargets},
		{Name: "calibrate", Short: "fit a target profile to ONNX Runtime measurements on this machine", Run: runCalibrate},
	},
}

func main() {
	os.Exit(program.Main(os.Args[1:], os.Stdout, os.Stderr))
}

// flags returns the flag set of subcommand name.
func flags(name string, stdout io.Writer) *pflag.FlagSet {
	return cli.NewFlags("fcompile", name, docSource, stdout)
}

// mainErr runs the command line in-process (tests) and returns the exit status.
func mainErr(args []string, stdout, stderr io.Writer) int {
	return program.Main(args, stdout, stderr)
}

func runCompile(args []string, stdout, stderr io.Writer) error {
	fs := flags("compile", stdout)
	out := fs.StringP("output", "o", "", "write the result to `FILE` (.onnx or .fir)")
	emit := fs.String("emit", "", "print the result to stdout: ir")
	report := fs.Bool("report", false, "print the per-node cost table with totals")
	reportJSON := fs.String("report-json", "", "write the cost report as JSON to `FILE` (- for stdout)")
	opset := fs.Int64("opset", 0, "ONNX opset to write, 13..21 (default: keep an imported opset >= 13, else 17)")
	pipeline := fs.String("passes", "", "pass pipeline, e.g. 'canonicalize,fold-bn,prune{macs=0.5},dce'; none: a faithful round trip (default: the target's pipeline)")
	inputShapes := fs.StringArray("input-shape", nil, "freeze input `NAME:D0,D1,...` to static dims, then fold shapes again (repeatable)")
	calib := fs.String("calib", "", "data set that quantize calibrates on when the target's pipeline quantizes")
	contrib := fs.Bool("onnx-contrib", false, "write ONNX Runtime's com.microsoft FusedConv/FusedGemm for fused kernels")
	verifyEach := fs.Bool("verify-each", false, "run the IR verifier after every pass")
	printAfter := fs.StringSlice("print-ir-after", nil, "print the IR to stderr after `PASS` (or all)")
	stats := fs.Bool("stats", false, "print per-pass time, nodes, MACs and params to stderr")
	checkEq := fs.Bool("check-equivalence", false, "run the engine on seeded random inputs before and after; fail above --tol")
	tol := fs.Float64("tol", 1e-4, "largest relative error --check-equivalence allows (default 1e-4; 1e-2 after fp16)")
	force := fs.Bool("force", false, "allow -o to overwrite the input file")
	maxMem := fs.String("max-memory", "", "refuse models larger than `SIZE` on disk (e.g. 2GiB); default no limit")
	targetName := fs.String("target", "", "estimate latency, energy and memory on target `T` (see fcompile targets)")
	targetFile := fs.String("target-file", "", "like --target, with a profile read from `FILE`")
	strict := fs.Bool("strict", false, "fail when the target cannot run an op, dtype or dynamic shape of the model")
	if err := cli.Parse(fs, args); err != nil {
		return err
	}
	if *targetName != "" && *targetFile != "" {
		return cli.Usagef("give --target or --target-file, not both")
	}
	if fs.NArg() != 1 {
		return cli.Usagef("want exactly one model file, got %d arguments", fs.NArg())
	}
	if *emit != "" && *emit != "ir" {
		return cli.Usagef("--emit %q: want ir", *emit)
	}
	if *out != "" {
		if _, err := modelfile.FormatOf(*out); err != nil {
			return cli.UsageError{Msg: err.Error()}
		}
	}
	in := fs.Arg(0)
	if *out != "" && !*force && sameFile(in, *out) {
		return cli.Usagef("-o %s is the input file; give --force to overwrite it", *out)
	}
	limit, err := parseBytes(*maxMem)
	if err != nil {
		return err
	}
	target, err := loadTarget(*targetName, *targetFile)
	if err != nil {
		return err
	}
	p, err := choosePipeline(*pipeline, target, *calib, *inputShapes, *contrib)
	if err != nil {
		return err
	}
	g, err := modelfile.LoadWith(in, modelfile.LoadOptions{MaxBytes: limit})
	if err != nil {
		return err
	}
	var before *ir.Graph
	if *checkEq {
		ptol, ok := p.Tolerance()
		if !ok {
			return cli.Usagef("--check-equivalence: pipeline %s does not preserve semantics", p)
		}
		if !fs.Changed("tol") { // lossy-but-bounded passes (fp16) state their own tolerance
			*tol = ptol
		}
		before = passes.Clone(g)
	}
	st, err := passes.Run(g, p, passes.Options{VerifyEach: *verifyEach, PrintIRAfter: *printAfter, PrintTo: stderr})
	if *stats && st != nil {
		st.Fprint(stderr)
	}
	if err != nil {
		return fmt.Errorf("%s: %w", in, err)
	}
	if before != nil {
		res, err := passes.CheckEquivalence(before, g, passes.EquivOptions{Seed: 1, Tol: *tol})
		if err != nil {
			return fmt.Errorf("%s: equivalence check: %w", in, err)
		}
		fmt.Fprintf(stderr, "equivalence: max abs error %.3g, max rel error %.3g (output %q), tolerance %.3g\n", res.MaxAbs, res.MaxRel, res.Worst, *tol)
	}
	if *emit == "ir" {
		if err := ir.Fprint(stdout, g, ir.PrintOptions{}); err != nil {
			return err
		}
	}
	var tr *targets.Report
	if *targetName != "" || *targetFile != "" {
		if tr, err = targets.Estimate(g, target); err != nil {
			return fmt.Errorf("%s: %w", in, err)
		}
		if err := tr.CheckSupported(); err != nil {
			if *strict {
				return fmt.Errorf("%s: %w", in, err)
			}
			fmt.Fprintf(stderr, "fcompile: warning: %s: %v\n", in, err)
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
			if err := cli.WriteJSON(*reportJSON, stdout, mergeReports(r, tr)); err != nil {
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

func runRun(args []string, stdout, stderr io.Writer) error {
	fs := flags("run", stdout)
	inputs := fs.StringArray("input", nil, "bind graph input `NAME=FILE.pb` (repeatable; FILE.pb alone binds inputs in order)")
	outDir := fs.String("output-dir", "", "write output_0.pb ... into `DIR`")
	maxMem := fs.String("max-memory", "", "refuse to run when activations need more than `SIZE` (default: half the machine's memory)")
	if err := cli.Parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return cli.Usagef("want exactly one model file, got %d arguments", fs.NArg())
	}
	if *outDir == "" {
		return cli.Usagef("--output-dir is required")
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
	batch := int64(1)
	for _, t := range feeds {
		if len(t.Dims) > 0 && t.Dims[0] > batch {
			batch = t.Dims[0]
		}
	}
	if err := checkMemory(path, g, batch, *maxMem); err != nil {
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
				return nil, cli.Usagef("--input %s: the model has only %d inputs", spec, len(g.Inputs))
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
			return nil, cli.Usagef("--input %s: the model has no input %q", spec, name)
		}
		feeds[name] = t
	}
	return feeds, nil
}

func runEval(args []string, stdout, stderr io.Writer) error {
	fs := flags("eval", stdout)
	data := fs.String("dataset", "", "mnist, fashion-mnist, cifar10, or a directory (IDX files, CIFAR batches, image folders)")
	dataDir := fs.String("data-dir", "", "where to find a named data set (default: its Debian location)")
	split := fs.String("split", "test", "test, train or val (val: the last 5,000 training images)")
	asJSON := fs.Bool("json", false, "print one JSON object instead of a line")
	batch := fs.Int("batch", 256, "images per engine run")
	maxMem := fs.String("max-memory", "", "refuse to run when activations need more than `SIZE` (default: half the machine's memory)")
	mean := fs.Float32Slice("mean", nil, "per-channel mean after scaling (default: the data set's, e.g. 0.2860 for fashion-mnist)")
	std := fs.Float32Slice("std", nil, "per-channel standard deviation after scaling (default: the data set's)")
	scale := fs.Float32("scale", 1.0/255, "pixel scale applied before the mean and std")
	if err := cli.Parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return cli.Usagef("want exactly one model file, got %d arguments", fs.NArg())
	}
	if *data == "" {
		return cli.Usagef("--dataset is required")
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
	if err := checkMemory(path, g, int64(*batch), *maxMem); err != nil {
		return err
	}
	ex, err := engine.New(g)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	meter := progress.New(stderr, "eval "+path, set.N)
	res, err := ex.Evaluate(set, norm, *batch, func(done, _ int) { meter.Update(done) })
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	if *asJSON {
		return cli.WriteJSON("-", stdout, struct {
			engine.EvalResult
			Model   string `json:"model"`
			Dataset string `json:"dataset"`
			Split   string `json:"split"`
		}{res, path, *data, *split})
	}
	fmt.Fprintf(stdout, "%s on %s/%s: top-1 %.2f %% (%d/%d)\n", path, *data, *split, 100*res.Accuracy, res.Correct, res.Samples)
	return nil
}

// loadTarget returns the target a profile file or name selects (host when neither is given).
func loadTarget(name, file string) (*targets.Target, error) {
	if file != "" {
		return targets.LoadFile(file)
	}
	if name == "" {
		name = "host"
	}
	t, err := targets.Lookup(name)
	if err != nil {
		return nil, cli.UsageError{Msg: err.Error()}
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

func runTargets(args []string, stdout, stderr io.Writer) error {
	fs := flags("targets", stdout)
	asJSON := fs.Bool("json", false, "print the profiles as JSON")
	if err := cli.Parse(fs, args); err != nil {
		return err
	}
	if *asJSON {
		return cli.WriteJSON("-", stdout, targets.Builtin())
	}
	return targets.FormatTargets(stdout, targets.Builtin())
}

// choosePipeline returns the --passes pipeline, or else the target's default
// one (a bare quantize there calibrates on --calib), with --input-shape
// freezing first and --onnx-contrib fusing last.
func choosePipeline(spec string, t *targets.Target, calib string, shapes []string, contrib bool) (passes.Pipeline, error) {
	if spec == "" {
		names := make([]string, len(t.Passes))
		for i, n := range t.Passes {
			names[i] = n
			if n == "quantize" {
				if calib == "" {
					return nil, cli.Usagef("target %s's pipeline quantizes: give --calib DATASET (or --passes)", t.Name)
				}
				names[i] = "quantize{calib=" + calib + "}"
			}
		}
		spec = strings.Join(names, ",")
	}
	p, err := passes.Parse(spec)
	if err != nil {
		return nil, cli.UsageError{Msg: err.Error()}
	}
	var frozen []passes.InputShape
	for _, s := range shapes {
		in, err := passes.ParseInputShape(s)
		if err != nil {
			return nil, cli.UsageError{Msg: err.Error()}
		}
		frozen = append(frozen, in)
	}
	if len(frozen) > 0 {
		if p, err = passes.WithInputShapes(p, frozen...); err != nil {
			return nil, cli.UsageError{Msg: err.Error()}
		}
	}
	if contrib {
		fc, err := passes.Parse("fuse-contrib")
		if err != nil {
			return nil, err
		}
		p = append(p, fc...)
	}
	return p, nil
}

// sameFile reports whether paths a and b name one existing file.
func sameFile(a, b string) bool {
	sa, err := os.Stat(a)
	if err != nil {
		return false
	}
	sb, err := os.Stat(b)
	return err == nil && os.SameFile(sa, sb)
}

// parseBytes reads a size such as 512MiB, 2GiB, 1.5GB or 1000000; "" is no limit (0).
func parseBytes(s string) (int64, error) {
	if s == "" {
		return 0, nil
	}
	units := []struct {
		suffix string
		scale  float64
	}{{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"TiB", 1 << 40}, {"kB", 1e3}, {"KB", 1e3}, {"MB", 1e6}, {"GB", 1e9}, {"TB", 1e12}, {"B", 1}}
	num, scale := s, 1.0
	for _, u := range units {
		if strings.HasSuffix(s, u.suffix) {
			num, scale = strings.TrimSuffix(s, u.suffix), u.scale
			break
		}
	}
	v, err := strconv.ParseFloat(strings.TrimSpace(num), 64)
	if err != nil || v <= 0 || v*scale > 1<<62 {
		return 0, cli.Usagef("--max-memory %q: want a positive size such as 512MiB or 2GiB", s)
	}
	return int64(v * scale), nil
}

// checkMemory refuses to run g when its peak activation memory for batch
// samples (ir.Analyze, per sample × batch) exceeds the --max-memory limit,
// or by default half of the machine's memory: a tiny file can declare
// tensors no machine holds, and the engine must not die trying.
func checkMemory(path string, g *ir.Graph, batch int64, flag string) error {
	limit, err := parseBytes(flag)
	if err != nil {
		return err
	}
	if limit == 0 {
		limit = defaultMemoryLimit()
	}
	r, err := ir.Analyze(g)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	if r.PeakActivationBytes > 0 && r.PeakActivationBytes > limit/max(batch, 1) {
		return fmt.Errorf("%s: activations need %d bytes per sample × %d samples, more than the %d-byte limit (--max-memory)",
			path, r.PeakActivationBytes, batch, limit)
	}
	return nil
}

// defaultMemoryLimit is half of MemTotal in /proc/meminfo, or 8 GiB when unknown.
func defaultMemoryLimit() int64 {
	data, err := os.ReadFile("/proc/meminfo")
	if err == nil {
		for _, line := range strings.Split(string(data), "\n") {
			if rest, ok := strings.CutPrefix(line, "MemTotal:"); ok {
				f := strings.Fields(rest)
				if len(f) != 2 || f[1] != "kB" {
					break
				}
				if kb, err := strconv.ParseInt(f[0], 10, 64); err == nil {
					return kb * 1024 / 2
				}
			}
		}
	}
	return 8 << 30
}
