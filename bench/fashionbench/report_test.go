package main

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ferminets/fermi/ortrun"
)

// fakeRun builds a tiny finished benchmark: a run directory whose config
// points at a 60-image IDX data set, and an OUTDIR holding one trained
// FermiNet, a LeNet-5 "reference" and two generated networks, each an
// untrained classifier that always predicts one class. It returns the
// directories and the test labels.
func fakeRun(t *testing.T) (run, out string, labels []uint8) {
	t.Helper()
	data, run, out := t.TempDir(), t.TempDir(), t.TempDir()
	// 50 test images: 15 of class 3, 5 of class 7, 30 of class 0.
	for i := range 50 {
		switch {
		case i < 15:
			labels = append(labels, 3)
		case i < 20:
			labels = append(labels, 7)
		default:
			labels = append(labels, 0)
		}
	}
	writeIDX(t, data, "t10k", labels)
	writeIDX(t, data, "train", make([]uint8, 10))
	st := stateJSON(4, 4, []map[string]any{poolA}, nil)
	cfg := st["config"].(map[string]any)
	cfg["data_dir"] = data
	cfg["requirements"] = map[string]any{"min_accuracy": 0.2, "max_macs": 1200000}
	writeJSON(t, filepath.Join(run, "state.json"), st)
	var cycles []string
	for c, share := range []float64{0.25, 0.25, 0.5, 0.75} {
		cycles = append(cycles, fmt.Sprintf(`{"cycle":%d,"generated":4,"satisfied":%d,"share":%g,"best_u":%d,"best_ever_u":%d,"seconds":30}`,
			c+1, int(4*share), share, 90+c, 90+c))
	}
	if err := os.WriteFile(filepath.Join(run, "cycles.jsonl"), []byte(strings.Join(cycles, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}

	writeJSON(t, filepath.Join(out, selectionFile), Selection{Run: run, Max: 3, Networks: []Choice{{K: 1, File: "ferminet-1.onnx",
		Source: "pool/a.onnx", Arch: archOf(4), Reason: "best NetScore of the pool", ValAcc: 0.88}}})
	constModel(t, filepath.Join(out, "ferminet-1.onnx"), 3, "")
	trainJSON := func(name string) {
		writeJSON(t, filepath.Join(out, name+"-train.json"), map[string]any{"test_accuracy": 0.3, "epochs": 30, "train_images": 60000,
			"train_seconds": 600.0, "resumed_after_epoch": 0, "seed": 0, "settings": map[string]any{"TrainLimit": 0},
			"curve": []map[string]any{{"epoch": 1, "seconds": 300.0}, {"epoch": 2, "seconds": 200.0}}})
	}
	trainJSON("ferminet-1")
	constModel(t, filepath.Join(out, "lenet5-ours.onnx"), 7, "")
	trainJSON("lenet5")
	constModel(t, filepath.Join(out, "generated", "generated-1.onnx"), 3, "gen arch one")
	constModel(t, filepath.Join(out, "generated", "generated-2.onnx"), 7, "gen arch two")
	writeJSON(t, filepath.Join(out, "generated", "generated.json"), map[string]any{"seed": 7, "networks": []map[string]any{
		{"file": "generated-1.onnx", "arch": "gen arch one", "val_accuracy": 0.5, "seed": 11},
		{"file": "generated-2.onnx", "arch": "gen arch two", "val_accuracy": 0.15, "seed": 12},
	}})
	return run, out, labels
}

func TestReport(t *testing.T) {
	run, out, labels := fakeRun(t)
	frac := func(class uint8) float64 {
		n := 0
		for _, l := range labels {
			if l == class {
				n++
			}
		}
		return float64(n) / float64(len(labels))
	}
	haveORT := ortrun.Available() == nil
	o := options{run: run, out: out, evalThreads: 1, stdout: io.Discard, stderr: io.Discard}
	if !haveORT {
		o.requireORT = true
		if _, err := buildReport(o); err == nil || !strings.Contains(err.Error(), "CI=true") {
			t.Errorf("without ONNX Runtime and CI=true: error %v, want a failure", err)
		}
		o.requireORT = false
	}
	rep, err := buildReport(o)
	if err != nil {
		t.Fatal(err)
	}
	// Flatten → Gemm 784→10: 7,840 MACs, 7,850 params.
	const macs, params = 784 * 10, 784*10 + 10
	netscore := func(acc float64) float64 {
		return 20 * math.Log10(100*acc*100*acc/(math.Sqrt(params/1e6)*math.Sqrt(macs/1e6)))
	}
	checkModel := func(what string, m Measured, file string, acc float64) {
		t.Helper()
		if m.File != file || m.TestAcc != acc || m.MACs != macs || m.Params != params || math.Abs(m.NetScore-netscore(acc)) > 1e-9 {
			t.Errorf("%s: %+v, want file %s, accuracy %v, %d MACs, %d params, NetScore %.3f", what, m, file, acc, macs, params, netscore(acc))
		}
		if haveORT != (m.ORTAcc != nil) || m.ORTAcc != nil && *m.ORTAcc != acc {
			t.Errorf("%s: ONNX Runtime accuracy %v, want %v (ONNX Runtime available: %v)", what, m.ORTAcc, acc, haveORT)
		}
		if m.LatencyMs <= 0 || m.EnergyMJ <= 0 || m.MemoryBytes <= 0 {
			t.Errorf("%s: target costs %v ms, %v mJ, %d B: want positive", what, m.LatencyMs, m.EnergyMJ, m.MemoryBytes)
		}
	}

	if len(rep.FermiNets) != 1 {
		t.Fatalf("%d FermiNets, want 1", len(rep.FermiNets))
	}
	f := rep.FermiNets[0]
	checkModel("ferminet-1", f.Measured, "ferminet-1.onnx", frac(3))
	if f.Arch != archOf(4) || f.Reason != "best NetScore of the pool" || f.ValAccSearch != 0.88 || f.Source != "pool/a.onnx" || f.RequirementSet != filepath.Base(run) {
		t.Errorf("ferminet-1 selection fields %+v", f)
	}
	// 600 s of one session; 60,000 images × 2 epochs in 500 s of epoch time.
	if f.TrainSeconds != 600 || f.ImgPerSec != 60000*2/500.0 || !f.TrainSecondsComplete {
		t.Errorf("ferminet-1 training %+v, want 600 s, 240 img/s", f.Training)
	}

	if len(rep.References) != 3 || rep.References[0].Arch != "lenet5" || rep.References[0].Ours == nil {
		t.Fatalf("references %+v, want lenet5 (trained), simplecnn, resnet20", rep.References)
	}
	checkModel("lenet5", rep.References[0].Ours.Measured, "lenet5-ours.onnx", frac(7))
	if p := rep.References[0].PyTorch; p.Accuracy != 0.914 || p.Params != 61706 {
		t.Errorf("LeNet-5 PyTorch figures %+v, want BENCHMARK.md's 91.40 %%, 61,706 params", p)
	}
	if rep.References[1].Ours != nil || rep.References[2].Ours != nil {
		t.Errorf("untrained references reported as trained: %+v", rep.References[1:])
	}

	if len(rep.Generated) != 2 {
		t.Fatalf("%d generated networks, want 2", len(rep.Generated))
	}
	gens := []struct {
		class  uint8
		val    float64
		meets  bool
		within bool // test accuracy ≥ min_accuracy 0.2 − 0.01
	}{{3, 0.5, true, frac(3) >= 0.19}, {7, 0.15, false, frac(7) >= 0.19}}
	for i, w := range gens {
		g := rep.Generated[i]
		checkModel(g.File, g.Measured, filepath.Join("generated", fmt.Sprintf("generated-%d.onnx", i+1)), frac(w.class))
		if g.ValAcc != w.val || g.MeetsReqs != w.meets || g.Seed != uint64(11+i) {
			t.Errorf("%s: val %v, meets %v, seed %d; want %v, %v, %d", g.File, g.ValAcc, g.MeetsReqs, g.Seed, w.val, w.meets, 11+i)
		}
		if haveORT != (g.WithinOnePt != nil) || g.WithinOnePt != nil && *g.WithinOnePt != w.within {
			t.Errorf("%s: within 1 pt %v, want %v", g.File, g.WithinOnePt, w.within)
		}
	}

	if rep.Requirements["min_accuracy"] != 0.2 || rep.Requirements["max_macs"] != 1200000 || len(rep.Requirements) != 2 {
		t.Errorf("requirements %v", rep.Requirements)
	}
	if len(rep.Cycles) != 4 || rep.Cycles[3].Share != 0.75 || *rep.Cycles[3].BestU != 93 {
		t.Errorf("cycles %+v", rep.Cycles)
	}
	met := map[string]bool{}
	for _, c := range rep.Acceptance {
		met[c.ID] = c.Met
	}
	wantMet := map[string]bool{"ferminet_6.2M_macs": false, "ferminet_1.2M_macs_120k_params": false, "best_netscore": false,
		"references_ours": true, "generated": false, "cycles_improve": true, "ort_recheck": haveORT, "synthesis_time": true}
	for id, w := range wantMet {
		if got, ok := met[id]; !ok || got != w {
			t.Errorf("acceptance %s: met %v (present %v), want %v", id, got, ok, w)
		}
	}
}

// TestReportFiles checks what the report stage writes: report.json with the
// issue's field names, report.md and the SVG plot.
func TestReportFiles(t *testing.T) {
	run, out, _ := fakeRun(t)
	if err := run1(t, "report", "--run", run, "--out", out); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(out, "report.json"))
	if err != nil {
		t.Fatal(err)
	}
	var rep map[string]any
	if err := json.Unmarshal(data, &rep); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"requirements", "ferminets", "references", "generated", "cycles", "acceptance", "machine"} {
		if _, ok := rep[k]; !ok {
			t.Errorf("report.json lacks %q", k)
		}
	}
	fs, _ := rep["ferminets"].([]any)
	if len(fs) != 1 {
		t.Fatalf("report.json ferminets %v", rep["ferminets"])
	}
	f := fs[0].(map[string]any)
	for _, k := range []string{"file", "test_accuracy", "ort_test_accuracy", "macs", "params", "netscore", "latency_ms", "energy_mj",
		"memory_bytes", "arch", "reason", "val_accuracy_search", "train_seconds"} {
		if _, ok := f[k]; !ok {
			t.Errorf("report.json ferminets[0] lacks %q", k)
		}
	}
	md, err := os.ReadFile(filepath.Join(out, "report.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"| ferminet-1.onnx |", "| lenet5 |", "generated/generated-2.onnx", "## Acceptance"} {
		if !strings.Contains(string(md), s) {
			t.Errorf("report.md lacks %q", s)
		}
	}
	svg, err := os.ReadFile(filepath.Join(out, "accuracy-vs-macs.svg"))
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"<svg", "ferminet-1", "LeNet-5 (PyTorch)", "LeNet-5 (ours)"} {
		if !strings.Contains(string(svg), s) {
			t.Errorf("accuracy-vs-macs.svg lacks %q", s)
		}
	}
}

// TestReportAlso checks --also: the FermiNets of a second run's final stage
// in a sub-directory join the report under that run's requirement set, and
// runs describes both runs.
func TestReportAlso(t *testing.T) {
	run, out, _ := fakeRun(t)
	run2 := t.TempDir()
	st := stateJSON(1, 1, []map[string]any{poolA}, nil)
	st["config"].(map[string]any)["requirements"] = map[string]any{"min_accuracy": 0.4}
	writeJSON(t, filepath.Join(run2, "state.json"), st)
	if err := os.WriteFile(filepath.Join(run2, "cycles.jsonl"), []byte(`{"cycle":1,"generated":4,"satisfied":1,"share":0.25,"seconds":30}`+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	sub := filepath.Join(out, "second")
	writeJSON(t, filepath.Join(sub, selectionFile), Selection{Run: run2, Max: 1, Networks: []Choice{{K: 1, File: "ferminet-1.onnx",
		Source: "pool/b.onnx", Arch: archOf(6), Reason: "most accurate", ValAcc: 0.61}}})
	constModel(t, filepath.Join(sub, "ferminet-1.onnx"), 0, "")
	data, err := os.ReadFile(filepath.Join(out, "ferminet-1-train.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(sub, "ferminet-1-train.json"), data, 0o644); err != nil {
		t.Fatal(err)
	}

	o := options{run: run, out: out, evalThreads: 1, stdout: io.Discard, stderr: io.Discard, also: []string{"second"}}
	rep, err := buildReport(o)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.FermiNets) != 2 {
		t.Fatalf("%d FermiNets, want 2", len(rep.FermiNets))
	}
	f := rep.FermiNets[1]
	if f.File != "second/ferminet-1.onnx" || f.RequirementSet != filepath.Base(run2) || f.TestAcc != 0.6 || f.ValAccSearch != 0.61 {
		t.Errorf("second run's FermiNet: file %s, set %s, test %v, val %v", f.File, f.RequirementSet, f.TestAcc, f.ValAccSearch)
	}
	if len(rep.Runs) != 2 || rep.Runs[0].Requirements["min_accuracy"] != 0.2 || rep.Runs[1].Requirements["min_accuracy"] != 0.4 ||
		rep.Runs[1].FinalDir != "second" || len(rep.Runs[1].Share) != 1 || rep.Requirements["min_accuracy"] != 0.2 {
		t.Errorf("runs %+v; top-level requirements %v (want the first run's)", rep.Runs, rep.Requirements)
	}
	if md := reportMarkdown(rep); !strings.Contains(md, "| second/ferminet-1.onnx | "+filepath.Base(run2)+" |") {
		t.Errorf("report.md does not list the second run's FermiNet with its requirement set:\n%s", md)
	}

	o.also = []string{"missing"}
	if _, err := buildReport(o); err == nil || !strings.Contains(err.Error(), "missing") {
		t.Errorf("--also of a directory without a selection: error %v", err)
	}
}
