package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"

	"github.com/ferminets/fermi/atomicfile"
	"github.com/ferminets/fermi/internal/machine"
	"github.com/ferminets/fermi/ortrun"
	"github.com/ferminets/fermi/synth"
)

// FermiNetResult is one entry of report.json's ferminets.
type FermiNetResult struct {
	Measured
	Reason         string  `json:"reason"`
	Source         string  `json:"source"`              // architecture's file in the run directory
	ValAccSearch   float64 `json:"val_accuracy_search"` // validation accuracy as the run measured it
	RequirementSet string  `json:"requirement_set"`     // the run directory's name
	Training
}

// Training is what a -train.json (and the epoch ledger) tell of a training.
type Training struct {
	TrainSeconds         float64 `json:"train_seconds"` // wall time over every session
	TrainSecondsComplete bool    `json:"train_seconds_complete"`
	ImgPerSec            float64 `json:"img_per_s"` // training images per second of epoch time (validation excluded)
	Epochs               int     `json:"epochs"`
	TrainImages          int     `json:"train_images"`
	TrainSeed            uint64  `json:"train_seed"`
	TrainCommand         string  `json:"train_command"`
	// Recipe is "reference" (BENCHMARK.md's recipe), or the reference recipe
	// with another epoch count ("reference, 60 epochs") and/or distillation
	// ("reference + distillation from T (α …, T …)").
	Recipe string `json:"recipe"`
}

// ReferenceResult is one reference network: ours beside PyTorch's figures.
type ReferenceResult struct {
	Arch    string          `json:"arch"`
	Ours    *OursReference  `json:"ours"` // null when not trained yet
	PyTorch synth.Reference `json:"pytorch"`
}

// OursReference is a reference network trained by our engine.
type OursReference struct {
	Measured
	Training
}

// GeneratedResult is one network of `fsynth generate`.
type GeneratedResult struct {
	Measured
	ValAcc      float64 `json:"val_accuracy"` // after the run's short fine-tune, as generate recorded it
	Seed        uint64  `json:"seed"`
	MeetsReqs   bool    `json:"meets_requirements"` // 1_r on ValAcc and the costs measured here
	Why         string  `json:"why,omitempty"`      // violated requirements
	WithinOnePt *bool   `json:"within_1pt_of_min_accuracy"`
}

// CycleResult is one cycle of the search (cycles.jsonl).
type CycleResult struct {
	Cycle     int      `json:"cycle"`
	Satisfied int      `json:"satisfied"`
	Generated int      `json:"generated"`
	Share     float64  `json:"share"`
	BestU     *float64 `json:"best_u"`
	BestEverU *float64 `json:"best_ever_u"`
	Seconds   float64  `json:"seconds"`
}

// Report is OUTDIR/report.json.
type Report struct {
	Dataset      string             `json:"dataset"`
	Prototype    string             `json:"prototype"`
	Target       string             `json:"target"`
	Performance  string             `json:"performance"`
	Run          string             `json:"run"`
	Seed         uint64             `json:"seed"` // of the synthesis run
	Requirements map[string]float64 `json:"requirements"`
	Runs         []RunSummary       `json:"runs"` // the run above first, then those of --also
	FermiNets    []FermiNetResult   `json:"ferminets"`
	References   []ReferenceResult  `json:"references"`
	Generated    []GeneratedResult  `json:"generated"`
	GenerateSeed *uint64            `json:"generate_seed"`
	Cycles       []CycleResult      `json:"cycles"`
	Acceptance   []Criterion        `json:"acceptance"`
	Times        map[string]float64 `json:"times"`
	Machine      map[string]any     `json:"machine"`
	Warnings     []string           `json:"warnings"`
	Notes        []string           `json:"notes"`
}

// reportNotes say how the figures were measured.
var reportNotes = []string{
	"test_accuracy: the engine on the 10,000 test images with the A2 preprocessing; ort_test_accuracy: ONNX Runtime (1 intra-op thread) on the same images, preprocessed only from the model's metadata_props",
	"macs, params, latency_ms, energy_mj, memory_bytes: after the target's default pass pipeline, measured like the synthesis inquisitor (synth.Inquisitor.Costs); netscore: of test_accuracy, params and macs",
	"val_accuracy_search and val_accuracy of generated networks: validation split (last 5,000 training images) after the run's short fine-tune, as the run measured them; requirements.min_accuracy applies to them",
	"FermiNets and references ours: trained by fsynth train with its defaults, the reference recipe of BENCHMARK.md A (weights re-initialized); train_seconds and img_per_s are wall-clock figures on a shared machine",
}

// genDir is where `fsynth generate` wrote its networks, relative to OUTDIR.
const genDir = "generated"

// reportStage measures everything and writes report.json, report.md and
// accuracy-vs-macs.svg.
func reportStage(o options) error {
	rep, err := buildReport(o)
	if err != nil {
		return err
	}
	for _, w := range rep.Warnings {
		fmt.Fprintln(o.stderr, "fashionbench: warning:", w)
	}
	data, err := json.MarshalIndent(rep, "", "  ")
	if err != nil {
		return fmt.Errorf("fashionbench: %w", err)
	}
	if err := atomicfile.WriteBytes(filepath.Join(o.out, "report.json"), append(data, '\n')); err != nil {
		return err
	}
	md := reportMarkdown(rep)
	if err := atomicfile.WriteBytes(filepath.Join(o.out, "report.md"), []byte(md)); err != nil {
		return err
	}
	if err := writePlot(filepath.Join(o.out, "accuracy-vs-macs.svg"), rep); err != nil {
		return err
	}
	fmt.Fprint(o.stdout, acceptanceText(rep.Acceptance))
	return nil
}

// buildReport measures the run's trained FermiNets, the references and the
// generated networks in OUTDIR and evaluates the acceptance.
func buildReport(o options) (*Report, error) {
	st, err := readState(o.run)
	if err != nil {
		return nil, err
	}
	cfg := st.Config
	m, err := newMeter(cfg, o.evalThreads, o.requireORT)
	if err != nil {
		return nil, err
	}
	rep := &Report{Dataset: cfg.Dataset, Prototype: cfg.Prototype, Target: cfg.Target, Performance: cfg.Performance.String(),
		Run: o.run, Seed: cfg.Seed, Requirements: synth.RequirementsMap(cfg.Requirements),
		FermiNets: []FermiNetResult{}, References: []ReferenceResult{}, Generated: []GeneratedResult{}, Warnings: []string{}, Notes: reportNotes,
		Times:   map[string]float64{"synthesis_seconds": stateSeconds(st), "search_seconds": st.SearchSeconds, "run_final_seconds": st.FinalSeconds},
		Machine: map[string]any{"cpu_model": machine.CPUModel(), "cpus": runtime.NumCPU(), "load_avg_at_report": machine.LoadAvg(), "goos": runtime.GOOS, "goarch": runtime.GOARCH}}
	if m.ortErr != nil {
		rep.Warnings = append(rep.Warnings, fmt.Sprintf("ort_test_accuracy is null: %v", m.ortErr))
	} else if v, err := ortrun.Version(); err == nil {
		rep.Machine["onnxruntime"] = v
	}
	warn := func(format string, args ...any) { rep.Warnings = append(rep.Warnings, fmt.Sprintf(format, args...)) }
	logs, err := synth.ReadCycleLog(o.run)
	if err != nil {
		return nil, err
	}

	runName := filepath.Base(filepath.Clean(o.run))
	rep.Runs = append(rep.Runs, runSummary(st, o.run, "", rep.Times["synthesis_seconds"], cycleResults(logs)))
	if err := addFermiNets(rep, m, o.out, "", runName, warn); err != nil {
		return nil, err
	}
	for _, sub := range o.also {
		sel, err := readSelection(filepath.Join(o.out, sub))
		if err != nil {
			return nil, err
		}
		if sel == nil {
			return nil, fmt.Errorf("fashionbench: --also %s: no %s there", sub, selectionFile)
		}
		ost, err := readState(sel.Run)
		if err != nil {
			return nil, err
		}
		ologs, err := synth.ReadCycleLog(sel.Run)
		if err != nil {
			return nil, err
		}
		rep.Runs = append(rep.Runs, runSummary(ost, sel.Run, sub, stateSeconds(ost), cycleResults(ologs)))
		if err := addFermiNets(rep, m, o.out, sub, filepath.Base(filepath.Clean(sel.Run)), warn); err != nil {
			return nil, err
		}
	}

	for _, arch := range []string{"lenet5", "simplecnn", "resnet20"} {
		ref := ReferenceResult{Arch: arch}
		for _, r := range synth.References {
			if r.Name == refArchs[arch] {
				ref.PyTorch = r
			}
		}
		tr, err := training(o.out, arch)
		if err != nil {
			return nil, err
		}
		if tr != nil {
			file := arch + "-ours.onnx"
			mm, _, err := m.measure(filepath.Join(o.out, file), file)
			if err != nil {
				return nil, err
			}
			mm.Arch = arch
			ref.Ours = &OursReference{Measured: mm, Training: *tr}
		}
		rep.References = append(rep.References, ref)
	}

	gens, seed, err := readGenerated(filepath.Join(o.out, genDir))
	if err != nil {
		return nil, err
	}
	rep.GenerateSeed = seed
	files, err := filepath.Glob(filepath.Join(o.out, genDir, "*.onnx"))
	if err != nil {
		return nil, fmt.Errorf("fashionbench: %w", err)
	}
	slices.Sort(files)
	if len(files) == 0 {
		warn("no %s/*.onnx in %s: run the generate stage first", genDir, o.out)
	}
	for _, f := range files {
		file := filepath.Join(genDir, filepath.Base(f))
		mm, _, err := m.measure(f, file)
		if err != nil {
			return nil, err
		}
		gr := GeneratedResult{Measured: mm}
		if g, ok := gens[filepath.Base(f)]; ok {
			gr.ValAcc, gr.Seed = g.ValAccuracy, g.Seed
			if gr.Arch == "" {
				gr.Arch = g.Arch
			}
		} else {
			warn("%s is not listed in %s/generated.json: no validation accuracy", file, genDir)
		}
		gr.MeetsReqs, gr.Why = cfg.Requirements.Satisfied(synth.Metrics{Accuracy: gr.ValAcc, MACs: mm.MACs, Params: mm.Params,
			LatencyMs: mm.LatencyMs, EnergyMJ: mm.EnergyMJ, MemoryBytes: mm.MemoryBytes})
		if mm.ORTAcc != nil {
			ok := *mm.ORTAcc >= cfg.Requirements.MinAccuracy-0.01
			gr.WithinOnePt = &ok
		}
		rep.Generated = append(rep.Generated, gr)
	}

	rep.Cycles = cycleResults(logs)
	rep.Acceptance = evaluate(rep, m.ortErr == nil)
	return rep, nil
}

// addFermiNets measures the trained networks of the final selection in
// out/sub (sub "" for out itself) and appends them to rep.FermiNets, their
// files relative to out, their requirement set named reqSet.
func addFermiNets(rep *Report, m *meter, out, sub, reqSet string, warn func(string, ...any)) error {
	dir := filepath.Join(out, sub)
	sel, err := readSelection(dir)
	if err != nil {
		return err
	}
	if sel == nil {
		warn("no %s in %s: run the final stage first", selectionFile, dir)
		return nil
	}
	for _, c := range sel.Networks {
		base := strings.TrimSuffix(c.File, ".onnx")
		tr, err := training(dir, base)
		if err != nil {
			return err
		}
		file := filepath.ToSlash(filepath.Join(sub, c.File))
		if tr == nil {
			warn("%s is not trained yet (no complete %s-train.json)", file, filepath.Join(sub, base))
			continue
		}
		mm, _, err := m.measure(filepath.Join(dir, c.File), file)
		if err != nil {
			return err
		}
		if mm.Arch == "" {
			mm.Arch = c.Arch
		}
		rep.FermiNets = append(rep.FermiNets, FermiNetResult{Measured: mm, Reason: c.Reason, Source: c.Source,
			ValAccSearch: c.ValAcc, RequirementSet: reqSet, Training: *tr})
	}
	return nil
}

// RunSummary is one synthesis run whose FermiNets the report holds.
type RunSummary struct {
	Name             string             `json:"name"` // requirement_set of its FermiNets
	Run              string             `json:"run"`
	FinalDir         string             `json:"final_dir"` // where its FermiNets were trained, relative to OUTDIR ("" for OUTDIR)
	Prototype        string             `json:"prototype"`
	Performance      string             `json:"performance"`
	Seed             uint64             `json:"seed"`
	Requirements     map[string]float64 `json:"requirements"`
	Steps            int                `json:"fine_tune_steps"`
	Batch            int                `json:"fine_tune_batch"`
	SynthesisSeconds float64            `json:"synthesis_seconds"`
	Cycles           int                `json:"cycles"`
	Share            []float64          `json:"share"` // satisfied share per cycle
	BestU            []*float64         `json:"best_u"`
}

// runSummary describes the run in dir with state st.
func runSummary(st *synth.State, dir, finalDir string, seconds float64, cycles []CycleResult) RunSummary {
	cfg := st.Config
	r := RunSummary{Name: filepath.Base(filepath.Clean(dir)), Run: dir, FinalDir: finalDir, Prototype: cfg.Prototype,
		Performance: cfg.Performance.String(), Seed: cfg.Seed, Requirements: synth.RequirementsMap(cfg.Requirements),
		Steps: cfg.Steps, Batch: cfg.Batch, SynthesisSeconds: seconds, Cycles: len(cycles), Share: []float64{}, BestU: []*float64{}}
	for _, c := range cycles {
		r.Share, r.BestU = append(r.Share, c.Share), append(r.BestU, c.BestU)
	}
	return r
}

// cycleResults converts a run's cycle log.
func cycleResults(logs []synth.CycleLog) []CycleResult {
	var cs []CycleResult
	for _, l := range logs {
		cs = append(cs, CycleResult{Cycle: l.Cycle, Satisfied: l.Satisfied, Generated: l.Generated,
			Share: l.Share, BestU: l.BestU, BestEverU: l.BestEverU, Seconds: l.Seconds})
	}
	return cs
}

// readSelection reads OUTDIR/final-selection.json (nil when absent).
func readSelection(out string) (*Selection, error) {
	data, err := os.ReadFile(filepath.Join(out, selectionFile))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("fashionbench: %w", err)
	}
	var s Selection
	if err := json.Unmarshal(data, &s); err != nil {
		return nil, fmt.Errorf("fashionbench: %s: %w", selectionFile, err)
	}
	return &s, nil
}

// training reads OUTDIR/base-train.json and the epoch ledger beside it;
// nil when the training has not finished.
func training(out, base string) (*Training, error) {
	r, err := readTrainReport(filepath.Join(out, base+"-train.json"))
	if err != nil || r == nil {
		return nil, err
	}
	ledger, err := readLedger(filepath.Join(out, base+"-epochs.jsonl"))
	if err != nil {
		return nil, err
	}
	t := &Training{Epochs: r.Epochs, TrainImages: r.TrainImages, TrainSeed: r.Seed, TrainCommand: r.Command, Recipe: "reference"}
	if r.Epochs != referenceEpochs {
		t.Recipe = fmt.Sprintf("reference, %d epochs", r.Epochs)
	}
	if s := r.Settings; s.Teacher != "" {
		t.Recipe += fmt.Sprintf(" + distillation from %s (α %g, T %g)", s.Teacher, s.Distill, s.DistillTemp)
	}
	t.TrainSeconds, t.ImgPerSec, t.TrainSecondsComplete = trainTime(r, ledger)
	return t, nil
}

// generatedNet is the part of an entry of generated.json the report reads.
type generatedNet struct {
	File        string  `json:"file"`
	Arch        string  `json:"arch"`
	ValAccuracy float64 `json:"val_accuracy"`
	Seed        uint64  `json:"seed"`
}

// readGenerated reads dir/generated.json (written by synth.GenerateNets):
// its networks by file name and its seed; empty when absent.
func readGenerated(dir string) (map[string]generatedNet, *uint64, error) {
	data, err := os.ReadFile(filepath.Join(dir, "generated.json"))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil, nil
	}
	if err != nil {
		return nil, nil, fmt.Errorf("fashionbench: %w", err)
	}
	var f struct {
		Seed     *uint64        `json:"seed"`
		Networks []generatedNet `json:"networks"`
	}
	if err := json.Unmarshal(data, &f); err != nil {
		return nil, nil, fmt.Errorf("fashionbench: %s: %w", filepath.Join(dir, "generated.json"), err)
	}
	m := map[string]generatedNet{}
	for _, n := range f.Networks {
		m[n.File] = n
	}
	return m, f.Seed, nil
}
