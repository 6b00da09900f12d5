package synth

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/ferminets/fermi/dataset"
)

// tinyConfig is a run small enough for a unit test: 2,000 training and 300
// validation MNIST images, 24 fine-tune steps per network, and cost
// requirements that the prototype (LeNet-5, 0.6M MACs in this space)
// violates, so the generator must learn to shrink networks.
func tinyConfig() Config {
	c := DefaultConfig("mnist", "lenet5", "cortex-a76")
	c.Requirements = Requirements{MinAccuracy: 0.5, MaxMACs: 250_000, MaxParams: 10_000}
	c.Cycles, c.PerCycle = 4, 8
	c.Steps, c.Batch = 24, 16
	c.TrainImages, c.ValImages = 2000, 300
	c.Final, c.FinalSteps = 1, 20
	c.Workers, c.Threads = 2, 1
	return c
}

type nopRecorder struct{ cycle func(CycleLog) }

func (r nopRecorder) Cycle(l CycleLog) {
	if r.cycle != nil {
		r.cycle(l)
	}
}
func (nopRecorder) Network(int, Observation)  {}
func (nopRecorder) Final(FermiNet)            {}
func (nopRecorder) Progress(string, int, int) {}

func TestRunTinyShareRises(t *testing.T) {
	if testing.Short() {
		t.Skip("trains networks")
	}
	dir := t.TempDir()
	cfg := tinyConfig()
	cfg.Cycles = 6
	st, err := Run(context.Background(), dir, cfg, nopRecorder{})
	if err != nil {
		t.Fatal(err)
	}
	logs, err := ReadCycleLog(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(logs) != st.Config.Cycles {
		t.Fatalf("%d log lines for %d cycles", len(logs), st.Config.Cycles)
	}
	for _, l := range logs {
		t.Logf("cycle %d: share %.2f (%d/%d), trained %d, mode %s", l.Cycle, l.Share, l.Satisfied, l.Generated, l.Trained, l.Mode)
	}
	n := len(logs)
	first, last := (logs[0].Share+logs[1].Share)/2, (logs[n-2].Share+logs[n-1].Share)/2
	if last <= first {
		t.Errorf("share of networks satisfying 1_r went from %.2f (first two cycles) to %.2f (last two); the generator did not learn", first, last)
	}
	if len(st.FermiNets) != 1 {
		t.Fatalf("%d FermiNets, want 1", len(st.FermiNets))
	}
	for _, f := range []string{GeneratorFile, StateFile, "report.json", "report.md", "accuracy-vs-macs.svg", st.FermiNets[0].File, "ferminet-1.fir"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Error(err)
		}
	}
	test, err := dataset.Load("mnist", "test", dataset.Options{})
	if err != nil {
		t.Fatal(err)
	}
	checkONNXRuntime(t, filepath.Join(dir, st.FermiNets[0].File), test, test.N, st.FermiNets[0].TestAccuracy)
	var rep map[string]any
	data, _ := os.ReadFile(filepath.Join(dir, "report.json"))
	if err := json.Unmarshal(data, &rep); err != nil {
		t.Fatal(err)
	}
	req := rep["requirements"].(map[string]any)
	if req["min_accuracy"] != 0.5 || req["max_macs"] != 250000.0 {
		t.Errorf("report requirements %v", req)
	}
}

// seconds matches the wall-time fields, which differ between runs.
var seconds = regexp.MustCompile(`"seconds":[0-9.e+-]+`)

func TestResumeEqualsUninterrupted(t *testing.T) {
	if testing.Short() {
		t.Skip("trains networks")
	}
	cfg := tinyConfig()
	cfg.Cycles, cfg.PerCycle, cfg.Final = 3, 4, 0
	whole := t.TempDir()
	if _, err := Run(context.Background(), whole, cfg, nopRecorder{}); err != nil {
		t.Fatal(err)
	}
	cut := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	_, err := Run(ctx, cut, cfg, nopRecorder{cycle: func(l CycleLog) {
		if l.Cycle == 1 {
			cancel()
		}
	}})
	if err == nil {
		t.Fatal("interrupted run returned no error")
	}
	logs, _ := ReadCycleLog(cut)
	if len(logs) != 1 {
		t.Fatalf("interrupted after cycle 1, log has %d lines", len(logs))
	}
	cfg.Workers = 1 // workers never change results
	if _, err := Resume(context.Background(), cut, 1, 1, nopRecorder{}); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{GeneratorFile, CycleLogFile} {
		a, _ := os.ReadFile(filepath.Join(whole, f))
		b, _ := os.ReadFile(filepath.Join(cut, f))
		a, b = seconds.ReplaceAll(a, nil), seconds.ReplaceAll(b, nil)
		if !bytes.Equal(a, b) {
			t.Errorf("%s differs between the resumed and the uninterrupted run", f)
		}
	}
}

// TestRunBadPrototypeLeavesNothing: a run whose prototype cannot be read
// fails before its directory is made.
func TestRunBadPrototypeLeavesNothing(t *testing.T) {
	c := tinyConfig()
	dir := filepath.Join(t.TempDir(), "run")
	c.Prototype = filepath.Join(t.TempDir(), "missing.onnx")
	if _, err := Run(context.Background(), dir, c, nopRecorder{}); err == nil || !strings.Contains(err.Error(), "missing.onnx") {
		t.Fatalf("error %v, want one naming missing.onnx", err)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("the failed run left %s behind (%v)", dir, err)
	}
}
