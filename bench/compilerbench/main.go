// Command compilerbench measures the compiler against ONNX Runtime's
// optimizer (issue 5, BENCHMARK.md C).
//
// Usage:
//
//	compilerbench [flags]
//
// For each shared model (internal/sharedmodels.Dir) and a ResNet-50 built
// from the IR (zoo, random BatchNorm statistics so that folding changes
// weights) and exported with onnxio.Encode, it times, best of --runs after
// one untimed warm-up each:
//
//   - ours: onnxio.Decode + passes.Run(passes.Default()) + onnxio.Encode of
//     the model bytes;
//   - ORT: creating an ONNX Runtime session at graph optimization level
//     basic with an optimized-model output path (ORT's optimize-to-file).
//
// It counts the nodes before, after our pipeline and in the file ORT wrote
// (crosscheck.Scan), and runs the original and our optimized model in ONNX
// Runtime (optimizations disabled) on seeded random inputs (ortrun
// RandomModelInputs, batch 1) to report the largest relative error over the
// outputs (max |a−b| / max |a| per output). Results go to --out as JSON.
//
// It needs cgo and the ONNX Runtime shared library (see ortrun).
//
// Example:
//
//	go run ./bench/compilerbench --out bench/results/compiler.json
package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/pflag"

	"github.com/ferminets/fermi/atomicfile"
	"github.com/ferminets/fermi/crosscheck"
	"github.com/ferminets/fermi/internal/machine"
	"github.com/ferminets/fermi/internal/sharedmodels"
	"github.com/ferminets/fermi/onnxio"
	"github.com/ferminets/fermi/ortrun"
	"github.com/ferminets/fermi/passes"
	"github.com/ferminets/fermi/zoo"
)

// sharedFiles are the shared models measured, in report order.
var sharedFiles = []string{
	"fashion-lenet5.onnx",
	"fashion-resnet20.onnx",
	"mobilenet_v2-op13.onnx",
	"squeezenet1_1-op13.onnx",
	"shufflenet_v2_x0_5-op13.onnx",
}

func main() {
	if err := run(os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "compilerbench:", err)
		os.Exit(1)
	}
}

// modelResult is one model's row of the report.
type modelResult struct {
	Name        string  `json:"name"`
	OursMs      float64 `json:"ours_ms"` // import + default pipeline + export, best of runs
	ORTMs       float64 `json:"ort_ms"`  // ORT session creation at level basic writing the optimized file, best of runs
	Ratio       float64 `json:"ratio"`   // ours_ms / ort_ms (≤ 1 meets the bar)
	NodesBefore int     `json:"nodes_before"`
	NodesOurs   int     `json:"nodes_ours"`
	NodesORT    int     `json:"nodes_ort"`
	MaxRelError float64 `json:"max_rel_error"` // ORT outputs, original vs our optimized model
}

// report is the JSON written to --out.
type report struct {
	Models     []modelResult `json:"models"`
	AllMeetBar bool          `json:"all_meet_time_bar"`
	Bar        string        `json:"bar"`
	Runs       int           `json:"runs"`
	ORTVersion string        `json:"ort_version"`
	CPU        string        `json:"cpu"`
	NumCPU     int           `json:"num_cpu"`
	LoadAvg    string        `json:"loadavg"` // /proc/loadavg at the start; the machine may be shared
	LoadAvgEnd string        `json:"loadavg_end"`
	GoVersion  string        `json:"go_version"`
	Date       string        `json:"date"`
	Command    string        `json:"command"`
	Note       string        `json:"note"`
}

type model struct {
	name string
	data []byte
}

func run(args []string, stdout io.Writer) error {
	fs := pflag.NewFlagSet("compilerbench", pflag.ContinueOnError)
	out := fs.StringP("out", "o", "bench/results/compiler.json", "JSON result file ('' for none)")
	runs := fs.Int("runs", 3, "timed runs per side (best is reported)")
	seed := fs.Uint64("seed", 7, "seed of the random inputs of the equivalence check")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *runs < 1 {
		return fmt.Errorf("--runs %d < 1", *runs)
	}
	if err := ortrun.Available(); err != nil {
		return fmt.Errorf("needs ONNX Runtime, which needs cgo (CGO_ENABLED=1) and libonnxruntime.so.1: %w", err)
	}
	ver, _ := ortrun.Version()
	r := report{
		Runs: *runs, ORTVersion: ver, CPU: machine.CPUModel(), NumCPU: runtime.NumCPU(), LoadAvg: machine.LoadAvg(),
		GoVersion: runtime.Version(), Date: time.Now().UTC().Format(time.RFC3339),
		Command: "go run ./bench/compilerbench " + strings.Join(args, " "),
		Bar:     "ours_ms <= ort_ms for every model (issue 5)",
		Note:    "best of runs after one warm-up; wall times on a shared 2-core machine are noisy (see loadavg)",
	}
	models, err := loadModels()
	if err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "compilerbench")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	r.AllMeetBar = true
	for _, m := range models {
		res, err := measure(m, dir, *runs, *seed)
		if err != nil {
			return fmt.Errorf("%s: %w", m.name, err)
		}
		r.Models = append(r.Models, res)
		if res.Ratio > 1 {
			r.AllMeetBar = false
		}
	}
	r.LoadAvgEnd = machine.LoadAvg()
	printTable(stdout, &r)
	if *out == "" {
		return nil
	}
	js, err := json.MarshalIndent(&r, "", "  ")
	if err != nil {
		return err
	}
	return atomicfile.WriteBytes(*out, append(js, '\n'))
}

// loadModels reads the shared models and builds and exports ResNet-50.
func loadModels() ([]model, error) {
	dir, ok := sharedmodels.Dir()
	if !ok {
		return nil, errors.New("shared models directory not found (set " + sharedmodels.EnvVar + ")")
	}
	var models []model
	for _, f := range sharedFiles {
		data, err := os.ReadFile(filepath.Join(dir, f))
		if err != nil {
			return nil, err
		}
		models = append(models, model{f, data})
	}
	g, err := zoo.Build("resnet50", zoo.Options{Seed: 1, RandomBNStats: true})
	if err != nil {
		return nil, err
	}
	data, err := onnxio.Encode(g, onnxio.WriteOptions{})
	if err != nil {
		return nil, err
	}
	return append(models, model{"resnet50 (zoo)", data}), nil
}

// measure times both sides, counts nodes and checks equivalence for m.
func measure(m model, dir string, runs int, seed uint64) (modelResult, error) {
	res := modelResult{Name: m.name}
	ortPath := filepath.Join(dir, "ort.onnx")
	var opt []byte
	ours, theirs := time.Duration(math.MaxInt64), time.Duration(math.MaxInt64)
	for i := 0; i <= runs; i++ { // run 0 is the warm-up
		start := time.Now()
		g, err := onnxio.Decode(m.data, onnxio.ReadOptions{})
		if err != nil {
			return res, err
		}
		n0 := len(g.Nodes)
		if _, err := passes.Run(g, passes.Default(), passes.Options{}); err != nil {
			return res, err
		}
		if opt, err = onnxio.Encode(g, onnxio.WriteOptions{}); err != nil {
			return res, err
		}
		d := time.Since(start)
		res.NodesBefore, res.NodesOurs = n0, len(g.Nodes)

		start = time.Now()
		s, err := ortrun.NewSession(m.data, ortrun.Options{OptLevel: ortrun.OptBasic, OptimizedModelPath: ortPath})
		if err != nil {
			return res, err
		}
		dORT := time.Since(start)
		s.Close()
		if i > 0 {
			ours, theirs = min(ours, d), min(theirs, dORT)
		}
	}
	res.OursMs, res.ORTMs = ms(ours), ms(theirs)
	res.Ratio = round3(ours.Seconds() / theirs.Seconds())
	ortOut, err := os.ReadFile(ortPath)
	if err != nil {
		return res, err
	}
	sm, err := crosscheck.Scan(ortOut)
	if err != nil {
		return res, fmt.Errorf("ORT's optimized model: %w", err)
	}
	res.NodesORT = len(sm.Nodes)
	res.MaxRelError, err = maxRelError(m.data, opt, seed)
	return res, err
}

// maxRelError runs orig and opt in ONNX Runtime without its optimizations on
// the same random inputs and returns the largest relative error over the
// outputs.
func maxRelError(orig, opt []byte, seed uint64) (float64, error) {
	in, err := ortrun.RandomModelInputs(orig, seed, 1)
	if err != nil {
		return 0, err
	}
	want, err := ortrun.Run(orig, in, ortrun.Options{OptLevel: ortrun.OptDisabled})
	if err != nil {
		return 0, fmt.Errorf("original: %w", err)
	}
	got, err := ortrun.Run(opt, in, ortrun.Options{OptLevel: ortrun.OptDisabled})
	if err != nil {
		return 0, fmt.Errorf("optimized: %w", err)
	}
	worst := 0.0
	for name, w := range want {
		g, ok := got[name]
		if !ok {
			return 0, fmt.Errorf("optimized model has no output %q", name)
		}
		worst = max(worst, passes.RelError(w, g))
	}
	return worst, nil
}

func printTable(w io.Writer, r *report) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "model\tours ms\tORT ms\tratio\tnodes before\tours\tORT\tmax rel err\t")
	for _, m := range r.Models {
		fmt.Fprintf(tw, "%s\t%.1f\t%.1f\t%.3f\t%d\t%d\t%d\t%.3g\t\n",
			m.Name, m.OursMs, m.ORTMs, m.Ratio, m.NodesBefore, m.NodesOurs, m.NodesORT, m.MaxRelError)
	}
	tw.Flush()
	fmt.Fprintf(w, "all meet the time bar: %v (load average %s → %s)\n", r.AllMeetBar, r.LoadAvg, r.LoadAvgEnd)
}

func ms(d time.Duration) float64 { return round3(float64(d) / 1e6) }

func round3(x float64) float64 { return math.Round(x*1000) / 1000 }
