package main

import (
	"fmt"
	"testing"

	"github.com/ferminets/fermi/synth"
)

func fermi(acc float64, macs, params int64, netscore float64) FermiNetResult {
	return FermiNetResult{Measured: Measured{File: "f.onnx", TestAcc: acc, MACs: macs, Params: params, NetScore: netscore}}
}

func gen(arch string, meets bool, within *bool) GeneratedResult {
	acc := 0.9
	return GeneratedResult{Measured: Measured{Arch: arch, TestAcc: acc, ORTAcc: &acc}, MeetsReqs: meets, WithinOnePt: within}
}

func gens(n int, edit func(i int, g *GeneratedResult)) []GeneratedResult {
	yes := true
	var out []GeneratedResult
	for i := range n {
		g := gen(fmt.Sprintf("arch%d", i), true, &yes)
		if edit != nil {
			edit(i, &g)
		}
		out = append(out, g)
	}
	return out
}

func cycles(share []float64, bestU []float64) []CycleResult {
	var out []CycleResult
	for i, s := range share {
		c := CycleResult{Cycle: i + 1, Share: s}
		if i < len(bestU) && !(bestU[i] < 0) {
			u := bestU[i]
			c.BestU = &u
		}
		out = append(out, c)
	}
	return out
}

func ort(acc, ortAcc float64) FermiNetResult {
	return FermiNetResult{Measured: Measured{TestAcc: acc, ORTAcc: &ortAcc}}
}

func TestAcceptance(t *testing.T) {
	no := false
	cases := []struct {
		name    string
		id      string
		rep     Report
		haveORT bool
		met     bool
	}{
		{"93.6 % at 6.2 M MACs", "ferminet_6.2M_macs", Report{FermiNets: []FermiNetResult{fermi(0.936, 6_200_000, 1e6, 0)}}, true, true},
		{"93.4 % at 6.0 M MACs", "ferminet_6.2M_macs", Report{FermiNets: []FermiNetResult{fermi(0.934, 6_000_000, 1e5, 0)}}, true, false},
		{"95 % but 6.3 M MACs", "ferminet_6.2M_macs", Report{FermiNets: []FermiNetResult{fermi(0.95, 6_300_000, 1e5, 0), fermi(0.93, 1e6, 1e5, 0)}}, true, false},
		{"no FermiNet", "ferminet_6.2M_macs", Report{}, true, false},
		{"92.9 % at 1.2 M, 120 k", "ferminet_1.2M_macs_120k_params", Report{FermiNets: []FermiNetResult{fermi(0.929, 1_200_000, 120_000, 0)}}, true, true},
		{"92.9 % at 120,001 params", "ferminet_1.2M_macs_120k_params", Report{FermiNets: []FermiNetResult{fermi(0.929, 1_200_000, 120_001, 0)}}, true, false},
		{"92.7 % in budget", "ferminet_1.2M_macs_120k_params", Report{FermiNets: []FermiNetResult{fermi(0.927, 1e6, 1e5, 0)}}, true, false},
		{"NetScore 95.1 at 91.5 %", "best_netscore", Report{FermiNets: []FermiNetResult{fermi(0.915, 1, 1, 95.1)}}, true, true},
		{"NetScore 96 at 91.3 %", "best_netscore", Report{FermiNets: []FermiNetResult{fermi(0.913, 1, 1, 96)}}, true, false},
		{"NetScore 94.9 at 92 %", "best_netscore", Report{FermiNets: []FermiNetResult{fermi(0.92, 1, 1, 94.9), fermi(0.90, 1, 1, 99)}}, true, false},
		{"LeNet-5 ours", "references_ours", Report{References: []ReferenceResult{{Arch: "lenet5", Ours: &OursReference{}}}}, true, true},
		{"SimpleCNN ours only", "references_ours", Report{References: []ReferenceResult{{Arch: "lenet5"}, {Arch: "simplecnn", Ours: &OursReference{}}}}, true, false},
		{"8 good generated", "generated", Report{Generated: gens(8, nil)}, true, true},
		{"7 generated", "generated", Report{Generated: gens(7, nil)}, true, false},
		{"8 generated, one repeat", "generated", Report{Generated: gens(8, func(i int, g *GeneratedResult) {
			if i == 7 {
				g.Arch = "arch0"
			}
		})}, true, false},
		{"8 generated, one fails 1_r", "generated", Report{Generated: gens(8, func(i int, g *GeneratedResult) { g.MeetsReqs = i != 3 })}, true, false},
		{"8 generated, one 1 pt short", "generated", Report{Generated: gens(8, func(i int, g *GeneratedResult) {
			if i == 5 {
				g.WithinOnePt = &no
			}
		})}, true, false},
		{"8 generated, no ORT", "generated", Report{Generated: gens(8, func(i int, g *GeneratedResult) { g.WithinOnePt, g.ORTAcc = nil, nil })}, false, false},
		{"share and U rise", "cycles_improve", Report{Cycles: cycles([]float64{0.1, 0.2, 0.2, 0.3, 0.5, 0.4, 0.6, 0.7}, []float64{-1, 90, 92, 91, 95, 96, 97, 97})}, true, true},
		{"share flat", "cycles_improve", Report{Cycles: cycles([]float64{0.5, 0.5, 0.5, 0.5}, []float64{90, 91, 92, 93})}, true, false},
		{"U falls", "cycles_improve", Report{Cycles: cycles([]float64{0.1, 0.2, 0.3, 0.4}, []float64{95, 94, 93, 92})}, true, false},
		{"one cycle", "cycles_improve", Report{Cycles: cycles([]float64{0.5}, []float64{95})}, true, false},
		{"no U at all", "cycles_improve", Report{Cycles: cycles([]float64{0, 0.5}, nil)}, true, false},
		{"ORT within 0.05 pt", "ort_recheck", Report{FermiNets: []FermiNetResult{ort(0.9, 0.9005), ort(0.8, 0.8)}}, true, true},
		{"ORT 0.06 pt off", "ort_recheck", Report{FermiNets: []FermiNetResult{ort(0.9, 0.9), ort(0.8, 0.8006)}}, true, false},
		{"ORT off on a generated network", "ort_recheck", Report{FermiNets: []FermiNetResult{ort(0.9, 0.9)}, Generated: []GeneratedResult{{Measured: ort(0.5, 0.51).Measured}}}, true, false},
		{"no ORT", "ort_recheck", Report{FermiNets: []FermiNetResult{fermi(0.9, 1, 1, 1)}}, false, false},
		{"synthesis 90 min", "synthesis_time", Report{Times: map[string]float64{"synthesis_seconds": 5400}}, true, true},
		{"synthesis 90 min 1 s", "synthesis_time", Report{Times: map[string]float64{"synthesis_seconds": 5401}}, true, false},
		{"synthesis time unknown", "synthesis_time", Report{Times: map[string]float64{}}, true, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			found := false
			for _, c := range evaluate(&tc.rep, tc.haveORT) {
				if c.ID == tc.id {
					found = true
					if c.Met != tc.met {
						t.Errorf("%s: met %v, want %v (%+v)", tc.id, c.Met, tc.met, c)
					}
				}
			}
			if !found {
				t.Errorf("no criterion %s", tc.id)
			}
		})
	}
}

// TestReferenceNames checks that every reference refs can train has
// PyTorch figures to stand beside.
func TestReferenceNames(t *testing.T) {
	for arch, name := range refArchs {
		found := false
		for _, r := range synth.References {
			found = found || r.Name == name
		}
		if !found {
			t.Errorf("%s: no synth.References entry %q", arch, name)
		}
	}
}
