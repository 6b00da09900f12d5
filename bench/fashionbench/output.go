package main

import (
	"fmt"
	"image/color"
	"maps"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
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

	b.WriteString("\n## FermiNets (trained with the reference recipe)\n\n| file | requirement set | architecture | why chosen | val acc (search) | test acc | test acc ORT | params | MACs | NetScore | latency ms | energy mJ | memory B | train s | img/s |\n|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n")
	for _, f := range rep.FermiNets {
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s | %s | %d | %s | %.1f | %.4f | %.4f | %d | %.0f | %.0f |\n", f.File, f.RequirementSet, f.Arch, f.Reason,
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

// point is one labelled network on the plot.
type point struct {
	macs  int64
	acc   float64 // fraction
	label string
}

// writePlot draws test accuracy against MACs (log axis) for the FermiNets,
// the generated networks and the references (ours and PyTorch).
func writePlot(path string, rep *Report) error {
	var fermi, gen, ours, torch []point
	for _, f := range rep.FermiNets {
		fermi = append(fermi, point{f.MACs, f.TestAcc, strings.TrimSuffix(f.File, ".onnx")})
	}
	for _, g := range rep.Generated {
		gen = append(gen, point{g.MACs, g.TestAcc, ""})
	}
	for _, r := range rep.References {
		torch = append(torch, point{r.PyTorch.MACs, r.PyTorch.Accuracy, r.PyTorch.Name + " (PyTorch)"})
		if r.Ours != nil {
			ours = append(ours, point{r.Ours.MACs, r.Ours.TestAcc, r.PyTorch.Name + " (ours)"})
		}
	}
	p := plot.New()
	p.Title.Text = fmt.Sprintf("%s: test accuracy vs MACs (target %s)", rep.Dataset, rep.Target)
	p.X.Label.Text = "MACs per image (log scale)"
	p.Y.Label.Text = "test accuracy (%)"
	p.X.Scale = plot.LogScale{}
	p.X.Tick.Marker = plot.LogTicks{Prec: -1}
	lo, hi := math.Inf(1), math.Inf(-1)
	add := func(name string, pts []point, c color.Color, shape draw.GlyphDrawer, dy vg.Length) error {
		if len(pts) == 0 {
			return nil
		}
		xys := make(plotter.XYs, len(pts))
		labels := make([]string, len(pts))
		for i, q := range pts {
			xys[i] = plotter.XY{X: float64(max(q.macs, 1)), Y: 100 * q.acc}
			labels[i] = q.label
			lo, hi = math.Min(lo, xys[i].X), math.Max(hi, xys[i].X)
		}
		s, err := plotter.NewScatter(xys)
		if err != nil {
			return err
		}
		s.GlyphStyle.Color, s.GlyphStyle.Shape, s.GlyphStyle.Radius = c, shape, vg.Points(4)
		p.Add(s)
		p.Legend.Add(name, s)
		l, err := plotter.NewLabels(plotter.XYLabels{XYs: xys, Labels: labels})
		if err != nil {
			return err
		}
		for i := range l.TextStyle {
			l.TextStyle[i].Font.Size = vg.Points(7)
		}
		l.Offset = vg.Point{X: vg.Points(5), Y: dy}
		p.Add(l)
		return nil
	}
	series := []struct {
		name  string
		pts   []point
		c     color.Color
		shape draw.GlyphDrawer
		dy    vg.Length // label offset: ours below, PyTorch above, as the two often share MACs
	}{
		{"FermiNets (reference recipe)", fermi, color.RGBA{R: 200, A: 255}, draw.CircleGlyph{}, vg.Points(2)},
		{"generated (short fine-tune)", gen, color.RGBA{G: 150, A: 255}, draw.TriangleGlyph{}, vg.Points(2)},
		{"references, ours", ours, color.RGBA{B: 200, A: 255}, draw.SquareGlyph{}, vg.Points(-9)},
		{"references, PyTorch", torch, color.RGBA{R: 90, G: 90, B: 90, A: 255}, draw.BoxGlyph{}, vg.Points(3)},
	}
	for _, s := range series {
		if err := add(s.name, s.pts, s.c, s.shape, s.dy); err != nil {
			return fmt.Errorf("fashionbench: plot: %w", err)
		}
	}
	if !math.IsInf(lo, 1) {
		p.X.Min, p.X.Max = lo/2, hi*8 // room for the labels and the legend
	}
	p.Y.Min -= 1
	p.Y.Max += 1
	p.Legend.Top = false // bottom right: high MACs and low accuracy, where no network worth plotting is
	p.Legend.Left = false
	if err := p.Save(8*vg.Inch, 5.5*vg.Inch, path); err != nil {
		return fmt.Errorf("fashionbench: plot: %w", err)
	}
	return nil
}
