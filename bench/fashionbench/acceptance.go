package main

import (
	"fmt"
	"math"
	"strings"
)

// Criterion is one acceptance target of issue 7 evaluated on the measured
// figures.
type Criterion struct {
	ID      string         `json:"id"`
	Target  string         `json:"target"`
	Met     bool           `json:"met"`
	Figures map[string]any `json:"figures"`
	Note    string         `json:"note,omitempty"`
}

// Thresholds of the acceptance (issue 7; accuracies as fractions).
const (
	midMinAcc        = 0.935
	smallMinAcc      = 0.928
	netscoreMin      = 95.0
	netscoreMinAcc   = 0.914
	generateCount    = 8
	generateSlack    = 0.01   // "within 1 pt of min_accuracy"
	ortTolerance     = 0.0005 // "±0.05 pt"
	synthesisMaxSecs = 90 * 60
)

// evaluate checks every acceptance target on rep's figures; haveORT says
// whether the ONNX Runtime figures could be measured.
func evaluate(rep *Report, haveORT bool) []Criterion {
	var cs []Criterion

	// The most accurate FermiNet within a budget.
	within := func(id, target string, minAcc float64, ok func(f FermiNetResult) bool) Criterion {
		c := Criterion{ID: id, Target: target, Figures: map[string]any{"min_accuracy": minAcc}}
		var best *FermiNetResult
		for i, f := range rep.FermiNets {
			if ok(f) && (best == nil || f.TestAcc > best.TestAcc) {
				best = &rep.FermiNets[i]
			}
		}
		if best == nil {
			c.Note = "no trained FermiNet within the budget"
			return c
		}
		c.Figures["file"], c.Figures["test_accuracy"], c.Figures["macs"], c.Figures["params"] = best.File, best.TestAcc, best.MACs, best.Params
		c.Figures["recipe"] = best.Recipe
		c.Met = best.TestAcc >= minAcc
		return c
	}
	cs = append(cs, within("ferminet_6.2M_macs", "one FermiNet ≥ 93.5 % test accuracy with ≤ 6.2 M MACs", midMinAcc,
		func(f FermiNetResult) bool { return f.MACs <= midMaxMACs }))
	cs = append(cs, within("ferminet_1.2M_macs_120k_params", "one FermiNet ≥ 92.8 % test accuracy with ≤ 1.2 M MACs and ≤ 120 k params", smallMinAcc,
		func(f FermiNetResult) bool { return f.MACs <= smallMaxMACs && f.Params <= smallMaxParams }))

	ns := Criterion{ID: "best_netscore", Target: "best NetScore ≥ 95.0 with test accuracy ≥ 91.4 %", Figures: map[string]any{}}
	var best *FermiNetResult
	for i, f := range rep.FermiNets {
		if f.TestAcc >= netscoreMinAcc && (best == nil || f.NetScore > best.NetScore) {
			best = &rep.FermiNets[i]
		}
	}
	if best == nil {
		ns.Note = "no trained FermiNet reaches 91.4 %"
	} else {
		ns.Figures["file"], ns.Figures["netscore"], ns.Figures["test_accuracy"] = best.File, best.NetScore, best.TestAcc
		ns.Figures["recipe"] = best.Recipe
		ns.Met = best.NetScore >= netscoreMin
	}
	cs = append(cs, ns)

	refs := Criterion{ID: "references_ours", Target: "reference networks trained by our engine with the same recipe (LeNet-5 at least) beside the PyTorch numbers", Figures: map[string]any{}}
	for _, r := range rep.References {
		if r.Ours != nil {
			refs.Figures[r.Arch+"_ours_test_accuracy"] = r.Ours.TestAcc
			refs.Figures[r.Arch+"_pytorch_test_accuracy"] = r.PyTorch.Accuracy
			if r.Arch == "lenet5" {
				refs.Met = true
			}
		}
	}
	cs = append(cs, refs)

	cs = append(cs, evaluateGenerated(rep, haveORT))
	cs = append(cs, evaluateCycles(rep.Cycles))

	agree := Criterion{ID: "ort_recheck", Target: "every reported test accuracy re-checks in ONNX Runtime within ±0.05 pt", Figures: map[string]any{}}
	if !haveORT {
		agree.Note = "ONNX Runtime unavailable: not checked"
	} else {
		worst, n := 0.0, 0
		check := func(m Measured) {
			if m.ORTAcc != nil {
				worst, n = math.Max(worst, math.Abs(*m.ORTAcc-m.TestAcc)), n+1
			}
		}
		for _, f := range rep.FermiNets {
			check(f.Measured)
		}
		for _, r := range rep.References {
			if r.Ours != nil {
				check(r.Ours.Measured)
			}
		}
		for _, g := range rep.Generated {
			check(g.Measured)
		}
		agree.Figures["models"], agree.Figures["max_abs_difference"] = n, worst
		agree.Met = n > 0 && worst <= ortTolerance+1e-12
	}
	cs = append(cs, agree)

	syn := Criterion{ID: "synthesis_time", Target: "make bench-synth (the synthesis run) ≤ 90 min on 2 cores",
		Figures: map[string]any{"synthesis_seconds": rep.Times["synthesis_seconds"], "max_seconds": synthesisMaxSecs}}
	syn.Met = rep.Times["synthesis_seconds"] > 0 && rep.Times["synthesis_seconds"] <= synthesisMaxSecs
	cs = append(cs, syn)
	return cs
}

// evaluateGenerated checks `fsynth generate --count 8`: 8 distinct
// architectures, all meeting 1_r on their validation accuracy, all with an
// ONNX Runtime test accuracy at least min_accuracy − 1 pt.
func evaluateGenerated(rep *Report, haveORT bool) Criterion {
	c := Criterion{ID: "generated", Target: "fsynth generate --count 8: 8 distinct architectures meeting 1_r, ONNX Runtime test accuracy within 1 pt of min_accuracy",
		Figures: map[string]any{}}
	archs := map[string]bool{}
	meets, within := 0, 0
	minTest := math.Inf(1)
	for _, g := range rep.Generated {
		archs[g.Arch] = true
		if g.MeetsReqs {
			meets++
		}
		if g.WithinOnePt != nil && *g.WithinOnePt {
			within++
		}
		if g.ORTAcc != nil {
			minTest = math.Min(minTest, *g.ORTAcc)
		}
	}
	n := len(rep.Generated)
	c.Figures["networks"], c.Figures["distinct_architectures"], c.Figures["meeting_requirements"], c.Figures["within_1pt"] = n, len(archs), meets, within
	if !math.IsInf(minTest, 1) {
		c.Figures["min_ort_test_accuracy"] = minTest
	}
	c.Figures["min_accuracy"] = rep.Requirements["min_accuracy"]
	if !haveORT {
		c.Note = "ONNX Runtime unavailable: test accuracies in ONNX Runtime not measured"
	}
	c.Met = n >= generateCount && len(archs) == n && !archs[""] && meets == n && within == n
	return c
}

// evaluateCycles checks that the satisfied share and the best U rise: the
// mean over the last quarter of the cycles (at least one) must exceed the
// mean over the first quarter, for both (best U over the cycles that have
// one).
func evaluateCycles(cycles []CycleResult) Criterion {
	c := Criterion{ID: "cycles_improve", Target: "the per-cycle log shows the satisfied share and best U improving (mean of the last quarter of cycles > mean of the first quarter)",
		Figures: map[string]any{"cycles": len(cycles)}}
	var share, bestU []float64
	for _, cy := range cycles {
		share = append(share, cy.Share)
		if cy.BestU != nil {
			bestU = append(bestU, *cy.BestU)
		}
	}
	rises := func(name string, v []float64) bool {
		if len(v) < 2 {
			c.Figures[name+"_trend"] = fmt.Sprintf("%d values: too few to show a trend", len(v))
			return false
		}
		q := max(1, len(v)/4)
		first, last := mean(v[:q]), mean(v[len(v)-q:])
		c.Figures[name+"_first_quarter_mean"], c.Figures[name+"_last_quarter_mean"] = first, last
		return last > first
	}
	okShare := rises("share", share)
	okU := rises("best_u", bestU)
	c.Met = okShare && okU
	return c
}

func mean(v []float64) float64 {
	s := 0.0
	for _, x := range v {
		s += x
	}
	return s / float64(len(v))
}

// acceptanceText is the acceptance as lines for the terminal.
func acceptanceText(cs []Criterion) string {
	var b strings.Builder
	for _, c := range cs {
		mark := "NOT MET"
		if c.Met {
			mark = "met"
		}
		fmt.Fprintf(&b, "%-8s %s", mark, c.Target)
		if c.Note != "" {
			fmt.Fprintf(&b, " (%s)", c.Note)
		}
		b.WriteByte('\n')
	}
	return b.String()
}
