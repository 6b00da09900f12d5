package synth

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/ferminets/fermi/atomicfile"
)

// Reference is a reference network's published figures (BENCHMARK.md,
// Fashion-MNIST, PyTorch with the reference recipe).
type Reference struct {
	Name     string  `json:"name"`
	Accuracy float64 `json:"test_accuracy"` // fraction
	Params   int64   `json:"params"`
	MACs     int64   `json:"macs"`
	NetScore float64 `json:"netscore"`
}

// References are the reference networks of BENCHMARK.md on Fashion-MNIST.
var References = []Reference{
	{"LeNet-5", 0.9140, 61706, 417_000, 94.3},
	{"SimpleCNN", 0.9277, 1199882, 11_990_000, 67.1},
	{"ResNet-20", 0.9444, 271402, 31_020_000, 69.7},
}

// Report is report.json.
type Report struct {
	Dataset   string `json:"dataset"`
	Prototype string `json:"prototype"`
	// PrototypeAdapted says how a model prototype was fitted to the data set (Skeleton.Adapted).
	PrototypeAdapted string                 `json:"prototype_adapted,omitempty"`
	Target           string                 `json:"target"`
	Performance      string                 `json:"performance"`
	Formula          string                 `json:"performance_formula"`
	Seed             uint64                 `json:"seed"`
	Requirements     map[string]float64     `json:"requirements"`
	FermiNets        []FermiNet             `json:"ferminets"`
	Cycles           []CycleSummary         `json:"cycles"`
	Times            map[string]float64     `json:"times"`
	Machine          map[string]interface{} `json:"machine"`
	References       []Reference            `json:"references"`
	Note             string                 `json:"note"`
}

// CycleSummary is a cycle's line of the report.
type CycleSummary struct {
	Cycle     int      `json:"cycle"`
	Share     float64  `json:"share"`
	Satisfied int      `json:"satisfied"`
	Generated int      `json:"generated"`
	BestU     *float64 `json:"best_u"`
	BestEverU *float64 `json:"best_ever_u"`
	Mode      string   `json:"mode_architecture"`
}

// RequirementsMap returns the requirement set as raw numbers (accuracy as
// a fraction, MACs, params and bytes as counts), keyed as in report.json
// ("min_accuracy", "max_macs", …), omitting absent requirements.
func RequirementsMap(r Requirements) map[string]float64 { return requirementsMap(r) }

// requirementsMap returns the requirement set as raw numbers, omitting
// absent requirements.
func requirementsMap(r Requirements) map[string]float64 {
	m := map[string]float64{}
	set := func(k string, v float64) {
		if v > 0 {
			m[k] = v
		}
	}
	set("min_accuracy", r.MinAccuracy)
	set("max_macs", float64(r.MaxMACs))
	set("max_params", float64(r.MaxParams))
	set("max_latency_ms", r.MaxLatencyMs)
	set("max_energy_mj", r.MaxEnergyMJ)
	set("max_memory_bytes", float64(r.MaxMemoryBytes))
	return m
}

// ReadCycleLog reads the per-cycle log of the run in dir.
func ReadCycleLog(dir string) ([]CycleLog, error) {
	data, err := os.ReadFile(filepath.Join(dir, CycleLogFile))
	if err != nil {
		return nil, fmt.Errorf("synth: %w", err)
	}
	var logs []CycleLog
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		if line == "" {
			continue
		}
		var l CycleLog
		if err := json.Unmarshal([]byte(line), &l); err != nil {
			return nil, fmt.Errorf("synth: %s: %w", CycleLogFile, err)
		}
		logs = append(logs, l)
	}
	return logs, nil
}

// WriteReport writes report.json, report.md and accuracy-vs-macs.svg (and .png) for the
// run in dir with state st and generator gen.
func WriteReport(dir string, st *State, gen *Generator) error {
	logs, err := ReadCycleLog(dir)
	if err != nil {
		return err
	}
	cfg := st.Config
	rep := Report{
		Dataset: cfg.Dataset, Prototype: cfg.Prototype, Target: cfg.Target,
		Performance: cfg.Performance.String(), Formula: cfg.Performance.Formula(), Seed: cfg.Seed,
		Requirements: requirementsMap(cfg.Requirements), FermiNets: st.FermiNets,
		Times:      map[string]float64{"search_seconds": st.SearchSeconds, "final_training_seconds": st.FinalSeconds},
		Machine:    map[string]interface{}{"goos": runtime.GOOS, "goarch": runtime.GOARCH, "cpus": runtime.NumCPU()},
		References: References,
		Note: "accuracy in requirements and val_accuracy: validation split (last 5,000 training images); " +
			"test_accuracy: test split, measured once after the search; costs as deployed on the target after its default pass pipeline",
	}
	if gen != nil {
		rep.PrototypeAdapted = gen.Skeleton.Adapted
	}
	if rep.FermiNets == nil {
		rep.FermiNets = []FermiNet{}
	}
	for _, l := range logs {
		rep.Cycles = append(rep.Cycles, CycleSummary{Cycle: l.Cycle, Share: l.Share, Satisfied: l.Satisfied,
			Generated: l.Generated, BestU: l.BestU, BestEverU: l.BestEverU, Mode: l.Mode})
	}
	data, err := json.MarshalIndent(rep, "", "  ")
	if err != nil {
		return fmt.Errorf("synth: report: %w", err)
	}
	if err := atomicfile.WriteBytes(filepath.Join(dir, "report.json"), append(data, '\n')); err != nil {
		return err
	}
	if err := atomicfile.WriteBytes(filepath.Join(dir, "report.md"), []byte(reportMarkdown(rep))); err != nil {
		return err
	}
	return writePlot(filepath.Join(dir, "accuracy-vs-macs.svg"), rep)
}

func optU(u *float64) string {
	if u == nil {
		return "–"
	}
	return fmt.Sprintf("%.1f", *u)
}

func reportMarkdown(rep Report) string {
	var b strings.Builder
	fmt.Fprintf(&b, "# FermiNets: %s, prototype %s, target %s\n\n", rep.Dataset, rep.Prototype, rep.Target)
	if rep.PrototypeAdapted != "" {
		fmt.Fprintf(&b, "Prototype %s.\n\n", rep.PrototypeAdapted)
	}
	fmt.Fprintf(&b, "Performance U: %s = %s. Seed %d.\n\n", rep.Performance, rep.Formula, rep.Seed)
	b.WriteString("## Requirements (1_r)\n\n")
	for _, k := range []string{"min_accuracy", "max_macs", "max_params", "max_latency_ms", "max_energy_mj", "max_memory_bytes"} {
		if v, ok := rep.Requirements[k]; ok {
			fmt.Fprintf(&b, "- %s: %g\n", k, v)
		}
	}
	b.WriteString("\n## FermiNets\n\n| file | architecture | val acc | test acc | params | MACs | NetScore | latency ms | energy mJ | memory B | meets 1_r |\n|---|---|---|---|---|---|---|---|---|---|---|\n")
	for _, f := range rep.FermiNets {
		fmt.Fprintf(&b, "| %s | %s | %.2f %% | %.2f %% | %d | %s | %.1f | %.4f | %.4f | %d | %v |\n", f.File, f.Arch,
			100*f.ValAccuracy, 100*f.TestAccuracy, f.Params, formatCount(f.MACs), f.NetScore, f.LatencyMs, f.EnergyMJ, f.MemoryBytes, f.Satisfied)
	}
	b.WriteString("\n## Cycles\n\n| cycle | satisfied / generated | share | best U | best U so far | most probable architecture |\n|---|---|---|---|---|---|\n")
	for _, c := range rep.Cycles {
		fmt.Fprintf(&b, "| %d | %d / %d | %.2f | %s | %s | %s |\n", c.Cycle, c.Satisfied, c.Generated, c.Share, optU(c.BestU), optU(c.BestEverU), c.Mode)
	}
	b.WriteString("\n## Reference networks (Fashion-MNIST, PyTorch, BENCHMARK.md)\n\n| network | test acc | params | MACs | NetScore |\n|---|---|---|---|---|\n")
	for _, r := range rep.References {
		fmt.Fprintf(&b, "| %s | %.2f %% | %d | %s | %.1f |\n", r.Name, 100*r.Accuracy, r.Params, formatCount(r.MACs), r.NetScore)
	}
	fmt.Fprintf(&b, "\nSearch %.0f s, final training %.0f s on %v CPUs.\n\n%s.\n", rep.Times["search_seconds"], rep.Times["final_training_seconds"], rep.Machine["cpus"], rep.Note)
	return b.String()
}

// writePlot draws test accuracy against MACs for the FermiNets and the
// reference networks, as SVG at path and PNG beside it.
func writePlot(path string, rep Report) error {
	var fermi, refs []PlotPoint
	for _, f := range rep.FermiNets {
		fermi = append(fermi, PlotPoint{f.MACs, f.TestAccuracy, f.Name})
	}
	for _, r := range rep.References {
		refs = append(refs, PlotPoint{r.MACs, r.Accuracy, r.Name + " (F-MNIST)"})
	}
	return SaveAccuracyPlot(fmt.Sprintf("%s: accuracy vs MACs", rep.Dataset), []PlotSeries{
		FermiNetStyle.Styled("FermiNets", fermi),
		ReferenceStyle.Styled("references (Fashion-MNIST, PyTorch)", refs),
	}, path, strings.TrimSuffix(path, filepath.Ext(path))+".png")
}
