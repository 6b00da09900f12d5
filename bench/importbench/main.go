// Command importbench measures ONNX import speed and memory (issue 3:
// importing a 100 MB model takes under 1 s and under 3× the file size in
// peak RSS).
//
// Usage:
//
//	importbench [flags]
//
// It builds a network from the zoo (ResNet-50 by default, about 100 MB of
// float32 weights), exports it with onnxio.WriteFile to a temporary file,
// and imports that file with onnxio.ReadFile in fresh child processes (the
// program re-executed with --child), one import per process so that each
// peak RSS is the import's alone: one warm-up run (which also fills the page
// cache) and then --runs measured runs. Each child reports the wall time of
// ReadFile, its resident set before the read (VmRSS and VmHWM from
// /proc/self/status) and its peak resident set after it (VmHWM). The parent
// prints a table and writes the medians to --out as JSON.
//
// Example:
//
//	go run ./bench/importbench --out bench/results/onnx-import.json
//	go run ./bench/importbench --out '' --runs 1 --cpuprofile /tmp/cpu.pprof --memprofile /tmp/mem.pprof
package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/pflag"

	"github.com/ferminets/fermi/atomicfile"
	"github.com/ferminets/fermi/internal/machine"
	"github.com/ferminets/fermi/onnxio"
	"github.com/ferminets/fermi/zoo"
)

// Acceptance bars of issue 3.
const (
	maxImportMs      = 1000
	maxPeakOverFile  = 3.0
	defaultModelName = "resnet50"
)

func main() {
	if err := run(os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "importbench:", err)
		var u usageError
		if errors.As(err, &u) {
			os.Exit(2)
		}
		os.Exit(1)
	}
}

// usageError marks errors that exit with status 2.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

// options are the command line.
type options struct {
	model      string
	runs       int
	out        string
	child      string
	cpuProfile string
	memProfile string
}

func run(args []string, stdout io.Writer) error {
	var o options
	fs := pflag.NewFlagSet("importbench", pflag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.StringVar(&o.model, "model", defaultModelName, "zoo network to export and import")
	fs.IntVar(&o.runs, "runs", 5, "measured imports, each in a fresh child process")
	fs.StringVar(&o.out, "out", "bench/results/onnx-import.json", "JSON result file ('' to skip)")
	fs.StringVar(&o.child, "child", "", "internal: import this file and print one measurement as JSON")
	fs.StringVar(&o.cpuProfile, "cpuprofile", "", "write a CPU profile of the last measured import")
	fs.StringVar(&o.memProfile, "memprofile", "", "write an allocation profile of the last measured import")
	if err := fs.Parse(args); err != nil {
		return usageError{err.Error()}
	}
	if fs.NArg() != 0 {
		return usageError{fmt.Sprintf("unexpected arguments %q", fs.Args())}
	}
	if o.child != "" {
		return child(o, stdout)
	}
	if o.runs < 1 {
		return usageError{fmt.Sprintf("--runs %d: want at least 1", o.runs)}
	}
	return parent(o, stdout)
}

// measurement is what one child reports.
type measurement struct {
	ImportNs    int64 `json:"import_ns"`
	BaselineRSS int64 `json:"baseline_rss_bytes"` // VmRSS before the read
	BaselineHWM int64 `json:"baseline_hwm_bytes"` // VmHWM before the read
	PeakRSS     int64 `json:"peak_rss_bytes"`     // VmHWM after the import
	RSSAfter    int64 `json:"rss_after_bytes"`    // VmRSS after the import, graph alive
	AllocBytes  int64 `json:"alloc_bytes"`        // bytes the Go heap allocated during the import
	Nodes       int   `json:"nodes"`
	Params      int   `json:"params"`
	ParamBytes  int64 `json:"param_bytes"`
}

// child imports o.child once and prints a measurement.
func child(o options, stdout io.Writer) error {
	status, err := procStatus()
	if err != nil {
		return err
	}
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	if o.cpuProfile != "" {
		f, err := os.Create(o.cpuProfile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
	}
	if o.memProfile != "" {
		runtime.MemProfileRate = 4096
	}
	start := time.Now()
	g, err := onnxio.ReadFile(o.child)
	elapsed := time.Since(start)
	if o.cpuProfile != "" {
		pprof.StopCPUProfile()
	}
	if err != nil {
		return err
	}
	peak, err := procStatus()
	if err != nil {
		return err
	}
	runtime.ReadMemStats(&after)
	m := measurement{
		ImportNs:    elapsed.Nanoseconds(),
		BaselineRSS: status["VmRSS"],
		BaselineHWM: status["VmHWM"],
		PeakRSS:     peak["VmHWM"],
		RSSAfter:    peak["VmRSS"],
		AllocBytes:  int64(after.TotalAlloc - before.TotalAlloc),
		Nodes:       len(g.Nodes),
		Params:      len(g.Params),
	}
	for _, p := range g.Params {
		m.ParamBytes += p.Const.Bytes()
	}
	if o.memProfile != "" {
		runtime.GC() // the allocs profile covers allocations up to the last GC
		if err := atomicfile.Write(o.memProfile, func(w io.Writer) error {
			return pprof.Lookup("allocs").WriteTo(w, 0)
		}); err != nil {
			return err
		}
	}
	runtime.KeepAlive(g)
	return json.NewEncoder(stdout).Encode(m)
}

// procStatus reads the kB figures of /proc/self/status, in bytes.
func procStatus() (map[string]int64, error) {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return nil, fmt.Errorf("peak RSS needs Linux /proc: %w", err)
	}
	return parseStatus(b)
}

// parseStatus extracts the "Name:   123 kB" lines of a /proc status file,
// in bytes.
func parseStatus(b []byte) (map[string]int64, error) {
	m := make(map[string]int64)
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		key, val, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		f := strings.Fields(val)
		if len(f) != 2 || f[1] != "kB" {
			continue
		}
		n, err := strconv.ParseInt(f[0], 10, 64)
		if err != nil {
			return nil, fmt.Errorf("/proc/self/status: %s: %v", key, err)
		}
		m[key] = n << 10
	}
	if m["VmHWM"] == 0 || m["VmRSS"] == 0 {
		return nil, errors.New("/proc/self/status: no VmHWM or VmRSS")
	}
	return m, nil
}

// result is the JSON the parent writes.
type result struct {
	Model             string        `json:"model"`
	FileBytes         int64         `json:"file_bytes"`
	Nodes             int           `json:"nodes"`
	Params            int           `json:"params"`
	Runs              int           `json:"runs"`
	ImportMsMedian    float64       `json:"import_ms_median"`
	ImportMsMin       float64       `json:"import_ms_min"`
	ImportMsMax       float64       `json:"import_ms_max"`
	PeakRSSBytes      int64         `json:"peak_rss_bytes"` // median over runs of VmHWM after the import
	PeakRSSMaxBytes   int64         `json:"peak_rss_max_bytes"`
	PeakRSSOverFile   float64       `json:"peak_rss_over_file"`
	BaselineRSSBytes  int64         `json:"baseline_rss_bytes"` // median VmRSS before the read
	PeakDeltaBytes    int64         `json:"peak_rss_delta_bytes"`
	PeakDeltaOverFile float64       `json:"peak_rss_delta_over_file"`
	AllocBytes        int64         `json:"alloc_bytes"` // median Go heap allocation of one import
	MeetsTimeBar      bool          `json:"meets_time_bar"`
	MeetsMemoryBar    bool          `json:"meets_memory_bar"`
	Bars              string        `json:"bars"`
	Measurements      []measurement `json:"measurements"`
	GoVersion         string        `json:"go_version"`
	GOOS              string        `json:"goos"`
	GOARCH            string        `json:"goarch"`
	CPU               string        `json:"cpu"`
	NumCPU            int           `json:"num_cpu"`
	LoadAvg           string        `json:"loadavg"` // /proc/loadavg at the start: the machine is shared
	GOGC              string        `json:"gogc"`
	Date              string        `json:"date"`
}

// parent exports the model and runs the children.
func parent(o options, stdout io.Writer) error {
	g, err := zoo.Build(o.model, zoo.Options{Seed: 1})
	if err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "importbench")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, o.model+".onnx")
	if err := onnxio.WriteFile(g, path, onnxio.WriteOptions{}); err != nil {
		return err
	}
	g = nil
	runtime.GC()
	fi, err := os.Stat(path)
	if err != nil {
		return err
	}
	exe, err := os.Executable()
	if err != nil {
		return err
	}
	load, _ := os.ReadFile("/proc/loadavg")
	r := result{
		Model: o.model, FileBytes: fi.Size(), Runs: o.runs,
		Bars:      fmt.Sprintf("import < %d ms and peak RSS < %.0f× file size", maxImportMs, maxPeakOverFile),
		GoVersion: runtime.Version(), GOOS: runtime.GOOS, GOARCH: runtime.GOARCH,
		CPU: machine.CPUModel(), NumCPU: runtime.NumCPU(), LoadAvg: strings.TrimSpace(string(load)),
		GOGC: os.Getenv("GOGC"), Date: time.Now().UTC().Format(time.RFC3339),
	}
	for i := 0; i <= o.runs; i++ { // run 0 warms the page cache and is not counted
		args := []string{"--child", path}
		if i == o.runs {
			if o.cpuProfile != "" {
				args = append(args, "--cpuprofile", o.cpuProfile)
			}
			if o.memProfile != "" {
				args = append(args, "--memprofile", o.memProfile)
			}
		}
		m, err := runChild(exe, args)
		if err != nil {
			return err
		}
		if i > 0 {
			r.Measurements = append(r.Measurements, m)
		}
	}
	summarize(&r)
	printTable(stdout, &r)
	if o.out == "" {
		return nil
	}
	return atomicfile.Write(o.out, func(w io.Writer) error {
		enc := json.NewEncoder(w)
		enc.SetEscapeHTML(false)
		enc.SetIndent("", "  ")
		return enc.Encode(&r)
	})
}

// runChild runs the program with args and decodes its measurement.
func runChild(exe string, args []string) (measurement, error) {
	var m measurement
	cmd := exec.Command(exe, args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return m, fmt.Errorf("child %v: %v: %s", args, err, strings.TrimSpace(stderr.String()))
	}
	if err := json.Unmarshal(out, &m); err != nil {
		return m, fmt.Errorf("child %v: bad output %q: %v", args, out, err)
	}
	return m, nil
}

// summarize fills r's medians and bars from its measurements.
func summarize(r *result) {
	ms := r.Measurements
	pick := func(f func(measurement) int64) []int64 {
		v := make([]int64, len(ms))
		for i, m := range ms {
			v[i] = f(m)
		}
		return v
	}
	times := pick(func(m measurement) int64 { return m.ImportNs })
	peaks := pick(func(m measurement) int64 { return m.PeakRSS })
	toMs := func(ns int64) float64 { return float64(ns) / 1e6 }
	r.ImportMsMedian = toMs(median(times))
	r.ImportMsMin, r.ImportMsMax = toMs(slices.Min(times)), toMs(slices.Max(times))
	r.PeakRSSBytes, r.PeakRSSMaxBytes = median(peaks), slices.Max(peaks)
	r.BaselineRSSBytes = median(pick(func(m measurement) int64 { return m.BaselineRSS }))
	r.AllocBytes = median(pick(func(m measurement) int64 { return m.AllocBytes }))
	r.PeakDeltaBytes = r.PeakRSSBytes - r.BaselineRSSBytes
	r.PeakRSSOverFile = float64(r.PeakRSSBytes) / float64(r.FileBytes)
	r.PeakDeltaOverFile = float64(r.PeakDeltaBytes) / float64(r.FileBytes)
	r.Nodes, r.Params = ms[0].Nodes, ms[0].Params
	r.MeetsTimeBar = r.ImportMsMedian < maxImportMs
	r.MeetsMemoryBar = float64(r.PeakRSSMaxBytes) < maxPeakOverFile*float64(r.FileBytes)
}

// median returns the middle value of v (the lower of the two middle ones
// for an even count).
func median(v []int64) int64 {
	s := slices.Clone(v)
	slices.Sort(s)
	return s[(len(s)-1)/2]
}

func printTable(w io.Writer, r *result) {
	mb := func(b int64) string { return fmt.Sprintf("%.1f MB", float64(b)/1e6) }
	verdict := func(ok bool) string {
		if ok {
			return "meets bar"
		}
		return "MISSES bar"
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "model\t%s (%d nodes, %d params), %s\n", r.Model, r.Nodes, r.Params, mb(r.FileBytes))
	fmt.Fprintf(tw, "import (median of %d)\t%.1f ms (min %.1f, max %.1f)\t%s (< %d ms)\n",
		r.Runs, r.ImportMsMedian, r.ImportMsMin, r.ImportMsMax, verdict(r.MeetsTimeBar), maxImportMs)
	fmt.Fprintf(tw, "peak RSS (VmHWM)\t%s = %.2f× file (max %s)\t%s (< %.0f× file)\n",
		mb(r.PeakRSSBytes), r.PeakRSSOverFile, mb(r.PeakRSSMaxBytes), verdict(r.MeetsMemoryBar), maxPeakOverFile)
	fmt.Fprintf(tw, "baseline RSS before read\t%s\t\n", mb(r.BaselineRSSBytes))
	fmt.Fprintf(tw, "peak − baseline\t%s = %.2f× file\t\n", mb(r.PeakDeltaBytes), r.PeakDeltaOverFile)
	fmt.Fprintf(tw, "Go heap allocated by import\t%s\t\n", mb(r.AllocBytes))
	tw.Flush()
	fmt.Fprintf(w, "machine: %s, %d CPUs, %s, load average %s\n", r.CPU, r.NumCPU, r.GoVersion, r.LoadAvg)
}
