package main

import (
	"fmt"
	"maps"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/ferminets/fermi/synth"
)

func pct(a float64) string { return fmt.Sprintf("%.2f %%", 100*a) }

func optPct(a *float64) string {
	if a == nil {
		return "–"
	}
	return pct(*a)
}

func optFloat(v *float64) string {
	if v == nil {
		return "–"
	}
	return fmt.Sprintf("%.1f", *v)
}

// millions formats a count in millions ("0.417 M").
func millions(n int64) string { return fmt.Sprintf("%.3f M", float64(n)/1e6) }

// reportMarkdown renders the report as tables for people.
func reportMarkdown(rep *Report) string {
	var b strings.Builder
	fmt.Fprintf(&b, "# Fashion-MNIST benchmark: %s, prototype %s, target %s\n\n", rep.Dataset, rep.Prototype, rep.Target)
	fmt.Fprintf(&b, "Synthesis run %s (seed %d, performance %s): %.0f s.\n\n", rep.Run, rep.Seed, rep.Performance, rep.Times["synthesis_seconds"])
	b.WriteString("## Requirements (1_r) of the run\n\n")
	keys := make([]string, 0, len(rep.Requirements))
	for k := range rep.Requirements {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintf(&b, "- %s: %s\n", k, strconv.FormatFloat(rep.Requirements[k], 'f', -1, 64))
	}

	b.WriteString("\n## Synthesis runs (requirement sets)\n\n| requirement set | prototype | U | seed | requirements | fine-tune | seconds | satisfied share per cycle |\n|---|---|---|---|---|---|---|---|\n")
	for _, r := range rep.Runs {
		var req, share []string
		for _, k := range slices.Sorted(maps.Keys(r.Requirements)) {
			req = append(req, k+" "+strconv.FormatFloat(r.Requirements[k], 'f', -1, 64))
		}
		for _, v := range r.Share {
			share = append(share, fmt.Sprintf("%.2f", v))
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %d | %s | %d × %d | %.0f | %s |\n", r.Name, r.Prototype, r.Performance, r.Seed,
			strings.Join(req, ", "), r.Steps, r.Batch, r.SynthesisSeconds, strings.Join(share, " "))
	}

	b.WriteString("\n## Acceptance (issue 7)\n\n| target | met | figures |\n|---|---|---|\n")
	for _, c := range rep.Acceptance {
		var fig []string
		for k, v := range c.Figures {
			fig = append(fig, fmt.Sprintf("%s: %v", k, v))
		}
		sort.Strings(fig)
		if c.Note != "" {
			fig = append(fig, c.Note)
		}
		fmt.Fprintf(&b, "| %s | %v | %s |\n", c.Target, c.Met, strings.Join(fig, "; "))
	}

	b.WriteString("\n## FermiNets (final training on the 60,000 training images; the recipe of each in its row)\n\n| file | requirement set | architecture | why chosen | recipe | val acc (search) | test acc | test acc ORT | params | MACs | NetScore | latency ms | energy mJ | memory B | train s | img/s |\n|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n")
	for _, f := range rep.FermiNets {
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s | %s | %s | %d | %s | %.1f | %.4f | %.4f | %d | %.0f | %.0f |\n", f.File, f.RequirementSet, f.Arch, f.Reason, f.Recipe,
			pct(f.ValAccSearch), pct(f.TestAcc), optPct(f.ORTAcc), f.Params, millions(f.MACs), f.NetScore, f.LatencyMs, f.EnergyMJ, f.MemoryBytes, f.TrainSeconds, f.ImgPerSec)
	}

	b.WriteString("\n## Reference networks: ours (this engine, same recipe) and PyTorch (BENCHMARK.md)\n\n| network | ours test acc | ours ORT | ours params | ours MACs | ours NetScore | PyTorch test acc | PyTorch params | PyTorch MACs | PyTorch NetScore |\n|---|---|---|---|---|---|---|---|---|---|\n")
	for _, r := range rep.References {
		if r.Ours == nil {
			fmt.Fprintf(&b, "| %s | not trained | | | | | %s | %d | %s | %.1f |\n", r.Arch, pct(r.PyTorch.Accuracy), r.PyTorch.Params, millions(r.PyTorch.MACs), r.PyTorch.NetScore)
			continue
		}
		o := r.Ours
		fmt.Fprintf(&b, "| %s | %s | %s | %d | %s | %.1f | %s | %d | %s | %.1f |\n", r.Arch, pct(o.TestAcc), optPct(o.ORTAcc), o.Params, millions(o.MACs), o.NetScore,
			pct(r.PyTorch.Accuracy), r.PyTorch.Params, millions(r.PyTorch.MACs), r.PyTorch.NetScore)
	}

	b.WriteString("\n## Generated (fsynth generate --count 8)\n\n| file | architecture | val acc (short fine-tune) | test acc | test acc ORT | params | MACs | meets 1_r | within 1 pt of min_accuracy |\n|---|---|---|---|---|---|---|---|---|\n")
	for _, g := range rep.Generated {
		w := "–"
		if g.WithinOnePt != nil {
			w = fmt.Sprint(*g.WithinOnePt)
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %d | %s | %v | %s |\n", g.File, g.Arch, pct(g.ValAcc), pct(g.TestAcc), optPct(g.ORTAcc), g.Params, millions(g.MACs), g.MeetsReqs, w)
	}

	b.WriteString("\n## Search cycles\n\n| cycle | satisfied / generated | share | best U | best U so far | seconds |\n|---|---|---|---|---|---|\n")
	for _, c := range rep.Cycles {
		fmt.Fprintf(&b, "| %d | %d / %d | %.2f | %s | %s | %.0f |\n", c.Cycle, c.Satisfied, c.Generated, c.Share, optFloat(c.BestU), optFloat(c.BestEverU), c.Seconds)
	}

	fmt.Fprintf(&b, "\nMachine: %v, %v CPUs.\n\n", rep.Machine["cpu_model"], rep.Machine["cpus"])
	for _, w := range rep.Warnings {
		fmt.Fprintf(&b, "**Warning:** %s.\n\n", w)
	}
	for _, n := range rep.Notes {
		fmt.Fprintf(&b, "- %s.\n", n)
	}
	return b.String()
}

// writePlot draws test accuracy against MACs (log axis) for the FermiNets,
// the generated networks and the references (ours and PyTorch).
func writePlot(path string, rep *Report) error {
	var fermi, gen, ours, torch []synth.PlotPoint
	for _, f := range rep.FermiNets {
		fermi = append(fermi, synth.PlotPoint{MACs: f.MACs, Accuracy: f.TestAcc, Label: strings.TrimSuffix(f.File, ".onnx")})
	}
	for _, g := range rep.Generated {
		gen = append(gen, synth.PlotPoint{MACs: g.MACs, Accuracy: g.TestAcc})
	}
	for _, r := range rep.References {
		torch = append(torch, synth.PlotPoint{MACs: r.PyTorch.MACs, Accuracy: r.PyTorch.Accuracy, Label: r.PyTorch.Name + " (PyTorch)"})
		if r.Ours != nil {
			ours = append(ours, synth.PlotPoint{MACs: r.Ours.MACs, Accuracy: r.Ours.TestAcc, Label: r.PyTorch.Name + " (ours)"})
		}
	}
	return synth.SaveAccuracyPlot(fmt.Sprintf("%s: test accuracy vs MACs (target %s)", rep.Dataset, rep.Target), []synth.PlotSeries{
		synth.FermiNetStyle.Styled("FermiNets (reference recipe)", fermi),
		synth.GeneratedStyle.Styled("generated (short fine-tune)", gen),
		synth.OursStyle.Styled("references, ours", ours),
		synth.ReferenceStyle.Styled("references, PyTorch", torch),
	}, path)
}
