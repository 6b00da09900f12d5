package synth

import (
	"math/rand/v2"
	"testing"

	"github.com/ferminets/fermi/passes"
	"github.com/ferminets/fermi/targets"
)

// resnetSpace returns the cortex-a76 target, its default pipeline and the
// resnet20 skeleton for 28×28 grey images.
func resnetSpace(t *testing.T) (*targets.Target, passes.Pipeline, Skeleton) {
	t.Helper()
	tgt, err := targets.Lookup("cortex-a76")
	if err != nil {
		t.Fatal(err)
	}
	pl, err := passes.FromNames(tgt.Passes)
	if err != nil {
		t.Fatal(err)
	}
	s, err := PrototypeSkeleton("resnet20", [3]int{1, 28, 28}, 10)
	if err != nil {
		t.Fatal(err)
	}
	return tgt, pl, s
}

// TestFitPrior checks that the width prior moves to the largest multiplier
// at which the prototype fits the cost limits, and stays when it fits.
func TestFitPrior(t *testing.T) {
	tgt, pl, s := resnetSpace(t)
	macsAt := func(g *Generator) int64 {
		t.Helper()
		q := &Inquisitor{Target: tgt, Pipeline: pl}
		gr, err := g.Build("m", g.Mode(), rand.New(rand.NewPCG(0, 0)))
		if err != nil {
			t.Fatal(err)
		}
		m, err := q.Costs(gr)
		if err != nil {
			t.Fatal(err)
		}
		return m.MACs
	}
	g0, _ := NewGenerator(s)
	full := macsAt(g0)
	cases := []struct {
		name    string
		maxMACs int64
		want    float64
	}{
		{"prototype fits", full, 1},
		{"three quarters fit", full * 3 / 4, 0.75},
		{"half fits", full * 2 / 5, 0.5},
		{"nothing fits: smallest", 1000, 0.5},
	}
	for _, tc := range cases {
		g, _ := NewGenerator(s)
		q := &Inquisitor{Target: tgt, Pipeline: pl, Requirements: Requirements{MinAccuracy: 0.99, MaxMACs: tc.maxMACs}}
		got, err := fitPrior(g, q)
		if err != nil {
			t.Fatal(err)
		}
		if got != tc.want {
			t.Errorf("%s: multiplier %v, want %v", tc.name, got, tc.want)
		}
		mode := g.Mode()
		if want := scaleWidth(s.StemWidth, tc.want); mode.StemWidth != want {
			t.Errorf("%s: mode stem width %d, want %d", tc.name, mode.StemWidth, want)
		}
		for i, st := range mode.Stages {
			if want := scaleWidth(s.Stages[i].Width, tc.want); st.Width != want || st.Depth != s.Stages[i].Depth || st.Block != s.Stages[i].Block {
				t.Errorf("%s: mode stage %d %+v, want width %d and the prototype's depth and block", tc.name, i+1, st, want)
			}
		}
		if m := macsAt(g); tc.want < 1 && tc.maxMACs > 1000 && m > tc.maxMACs {
			t.Errorf("%s: mode has %d MACs, limit %d", tc.name, m, tc.maxMACs)
		}
	}
}

// TestRepair checks that repair brings over-budget samples within the cost
// limits, leaves fitting ones alone, is deterministic, and stops at the
// smallest network when even that does not fit.
func TestRepair(t *testing.T) {
	tgt, pl, s := resnetSpace(t)
	g, _ := NewGenerator(s)
	q := &Inquisitor{Target: tgt, Pipeline: pl, Requirements: Requirements{MinAccuracy: 0.9, MaxMACs: 4_000_000, MaxParams: 60_000}}
	repaired, unchanged := 0, 0
	for seed := uint64(1); seed <= 12; seed++ {
		gr, a, err := g.Generate(seed)
		if err != nil {
			t.Fatal(err)
		}
		before, err := q.Costs(gr)
		if err != nil {
			t.Fatal(err)
		}
		ra, rg, err := repair(g, q, "r", seed, a, gr)
		if err != nil {
			t.Fatal(err)
		}
		m, err := q.Costs(rg)
		if err != nil {
			t.Fatal(err)
		}
		if m.MACs > 4_000_000 || m.Params > 60_000 {
			t.Errorf("seed %d: repaired %s still has %d MACs, %d params", seed, ra, m.MACs, m.Params)
		}
		if before.MACs <= 4_000_000 && before.Params <= 60_000 {
			unchanged++
			if ra.String() != a.String() {
				t.Errorf("seed %d: a fitting sample was changed: %s → %s", seed, a, ra)
			}
			continue
		}
		repaired++
		ra2, _, _ := repair(g, q, "r", seed, a, gr)
		if ra2.String() != ra.String() || len(ra.Picks) != len(a.Picks) {
			t.Errorf("seed %d: repair not deterministic: %s vs %s", seed, ra, ra2)
		}
		if s.decode(g.Decisions, ra.Picks).String() != ra.String() {
			t.Errorf("seed %d: repaired picks do not decode to the repaired network", seed)
		}
	}
	if repaired == 0 {
		t.Error("no sample needed repair: the test does not exercise it")
	}
	t.Logf("%d samples repaired, %d fitted already", repaired, unchanged)

	// Everything fits a huge budget: nothing changes.
	q.Requirements.MaxMACs, q.Requirements.MaxParams = 1e12, 1e12
	for seed := uint64(1); seed <= 4; seed++ {
		gr, a, _ := g.Generate(seed)
		if ra, rg, err := repair(g, q, "r", seed, a, gr); err != nil || ra.String() != a.String() || rg != gr {
			t.Errorf("seed %d: within budget, repair gave %s (err %v), want %s unchanged", seed, ra, err, a)
		}
	}

	// Nothing fits 1,000 MACs: repair ends at the smallest options.
	q.Requirements.MaxMACs = 1000
	gr, a, _ := g.Generate(3)
	ra, _, err := repair(g, q, "r", 3, a, gr)
	if err != nil {
		t.Fatal(err)
	}
	if _, more := g.shrink(ra.Picks); more {
		t.Errorf("repair stopped at %s, which can still shrink", ra)
	}
}
