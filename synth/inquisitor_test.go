package synth

import (
	"math/rand/v2"
	"testing"

	"github.com/ferminets/fermi/ir"
)

// decisionIndex returns the index of the generator's decision called name.
func decisionIndex(t *testing.T, g *Generator, name string) int {
	t.Helper()
	for i, d := range g.Decisions {
		if d.Name == name {
			return i
		}
	}
	t.Fatalf("no decision %q", name)
	return -1
}

func TestUpdateMovesTowardSatisfyingChoices(t *testing.T) {
	gen := uniformGenerator(t, "resnet20")
	q := &Inquisitor{Eta: 1}
	block := decisionIndex(t, gen, "s2.block")
	before := gen.Decisions[block].probs()
	// Fake observations: the candidates that took the depthwise-separable
	// block in stage 2 satisfy 1_r, the others violate it.
	rng := rand.New(rand.NewPCG(1, 1))
	var obs []Observation
	for range 16 {
		a := gen.Sample(rng)
		ok := a.Stages[1].Block == DepthwiseSeparable
		ob := Observation{Arch: a, Satisfied: ok, Trained: true, U: 80, Violation: 0}
		if !ok {
			ob.Violation, ob.U = 1, 0
		}
		obs = append(obs, ob)
	}
	if change := q.Update(gen, obs); change <= 0 {
		t.Fatalf("update changed nothing")
	}
	after := gen.Decisions[block].probs()
	if after[DepthwiseSeparable] <= before[DepthwiseSeparable] {
		t.Errorf("P(dwsep) went from %.3f to %.3f", before[DepthwiseSeparable], after[DepthwiseSeparable])
	}
	for k := range after {
		if BlockKind(k) != DepthwiseSeparable && after[k] >= before[k] {
			t.Errorf("P(%s) did not fall: %.3f → %.3f", BlockKind(k), before[k], after[k])
		}
	}
}

func TestUpdateWidthFromDeadChannels(t *testing.T) {
	gen := uniformGenerator(t, "lenet5")
	q := &Inquisitor{EtaWidth: 1}
	w := decisionIndex(t, gen, "s1.width")
	a := gen.Mode()
	a.Picks[w] = 4 // width multiplier 2
	// Only 40 % of stage 1's channels react: the stage needs width 2×0.4,
	// so probability moves from multiplier 2 to 1 (the smallest ≥ 0.8).
	obs := []Observation{{Arch: a, Trained: true, Reactive: []float64{0.4}}}
	before := gen.Decisions[w].probs()
	q.Update(gen, obs)
	after := gen.Decisions[w].probs()
	if !(after[4] < before[4] && after[2] > before[2]) {
		t.Errorf("width probabilities %v → %v; want mass moved from ×2 to ×1", before, after)
	}
	if after[3] > before[3] || after[0] > before[0] {
		t.Errorf("width probabilities of uninvolved options rose: %v → %v", before, after)
	}
}

func TestRankUtilities(t *testing.T) {
	obs := []Observation{
		{Satisfied: true, U: 90},
		{Satisfied: false, Violation: 2},
		{Satisfied: true, U: 95},
		{Satisfied: false, Violation: 0.5},
		{Satisfied: false, Violation: 2},
	}
	u := rankUtilities(obs)
	want := []float64{0.25, -0.375, 0.5, 0, -0.375}
	sum := 0.0
	for i := range u {
		sum += u[i]
		if u[i] != want[i] {
			t.Errorf("utility %d = %v, want %v", i, u[i], want[i])
		}
	}
	if sum != 0 {
		t.Errorf("utilities sum to %v", sum)
	}
}

// TestLearningOnSyntheticProbe runs the cycle logic with a synthetic
// probe in place of training: a network satisfies 1_r when its MACs, as
// the cost model counts them, stay under a budget and it has at least 2
// blocks in stage 1 (a stand-in for accuracy). The share of generated
// networks satisfying 1_r must rise.
func TestLearningOnSyntheticProbe(t *testing.T) {
	gen := uniformGenerator(t, "resnet20")
	q := &Inquisitor{Eta: 6, EtaWidth: 0}
	req := Requirements{MaxMACs: 6_000_000}
	share := func(cycle int, update bool) float64 {
		rng := rand.New(rand.NewPCG(7, uint64(cycle)))
		var obs []Observation
		sat := 0
		for range 24 {
			a := gen.Sample(rng)
			g, err := gen.Build("x", a, rng)
			if err != nil {
				t.Fatal(err)
			}
			m, err := costsOnly(g)
			if err != nil {
				t.Fatal(err)
			}
			ok, _ := req.Satisfied(m)
			ok = ok && a.Stages[0].Depth >= 2
			v := req.violation(m)
			if a.Stages[0].Depth < 2 {
				v++
			}
			obs = append(obs, Observation{Arch: a, Satisfied: ok, U: NetScoreOf(0.9, m.Params, m.MACs), Violation: v, Metrics: m})
			if ok {
				sat++
			}
		}
		if update {
			q.Update(gen, obs)
		}
		return float64(sat) / 24
	}
	first := share(0, true)
	for c := 1; c < 6; c++ {
		share(c, true)
	}
	last := (share(100, false) + share(101, false)) / 2
	t.Logf("share %.2f → %.2f, mode %s", first, last, gen.Mode())
	if last < first+0.2 {
		t.Errorf("share of satisfying networks went from %.2f to %.2f", first, last)
	}
}

// costsOnly measures MACs and params without a target.
func costsOnly(g *ir.Graph) (Metrics, error) {
	a, err := ir.Analyze(g)
	if err != nil {
		return Metrics{}, err
	}
	return Metrics{MACs: a.MACs, Params: a.Params}, nil
}
