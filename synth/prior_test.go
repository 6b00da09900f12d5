package synth

import (
	"math/rand/v2"
	"testing"

	"github.com/ferminets/fermi/passes"
	"github.com/ferminets/fermi/targets"
)

// TestFitPrior checks that the width prior moves to the largest multiplier
// at which the prototype fits the cost limits, and stays when it fits.
func TestFitPrior(t *testing.T) {
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
