package passes_test

import (
	"math/rand/v2"
	"testing"

	"github.com/ferminets/fermi/engine"
	"github.com/ferminets/fermi/ir"
	"github.com/ferminets/fermi/ir/irtest"
	"github.com/ferminets/fermi/passes"
)

// TestRandomGraphs runs the default pipeline on random graphs of every
// core op with verification after every pass, then checks equivalence in
// the engine, and the same after freezing the symbolic dims. Graphs the
// engine cannot run as generated are skipped and counted.
func TestRandomGraphs(t *testing.T) {
	n := 500
	if testing.Short() {
		n = 60
	}
	ran := 0
	for seed := uint64(0); seed < uint64(n); seed++ {
		rng := rand.New(rand.NewPCG(seed, 42))
		g, err := irtest.Random(rng, irtest.Config{Nodes: 1 + int(seed%16)})
		if err != nil {
			t.Fatalf("seed %d: %v", seed, err)
		}
		// Only graphs the engine runs before the pipeline can be compared.
		e, err := engine.New(g)
		if err != nil {
			continue
		}
		in, err := passes.RandomInputs(g, seed, 2)
		if err != nil {
			continue
		}
		if _, err := e.Run(in); err != nil {
			continue
		}
		before := passes.Clone(g)
		if _, err := passes.Run(g, passes.Default(), passes.Options{VerifyEach: true}); err != nil {
			t.Errorf("seed %d: %v\n%s", seed, err, ir.Print(before))
			continue
		}
		if _, err := passes.CheckEquivalence(before, g, passes.EquivOptions{Seed: seed, Tol: 1e-4}); err != nil {
			t.Errorf("seed %d: %v\nbefore:\n%s\nafter:\n%s", seed, err, ir.Print(before), ir.Print(g))
			continue
		}
		// Deployment shaping: freeze every input's symbolic dims to 2, then
		// simplify; the result must match the original on such inputs.
		frozen := passes.Clone(before)
		var shapes []passes.InputShape
		for _, v := range frozen.Inputs {
			dims := v.Shape.Ints()
			for i := range dims {
				if dims[i] < 0 {
					dims[i] = 2
				}
			}
			shapes = append(shapes, passes.InputShape{Name: v.Name, Dims: dims})
		}
		st, err := passes.FreezeStep(shapes...)
		if err != nil {
			t.Fatal(err)
		}
		p := append(passes.Pipeline{st}, passes.Default()...)
		if _, err := passes.Run(frozen, p, passes.Options{VerifyEach: true}); err != nil {
			t.Errorf("seed %d: frozen: %v\n%s", seed, err, ir.Print(before))
			continue
		}
		if _, err := passes.CheckEquivalence(before, frozen, passes.EquivOptions{Seed: seed, Tol: 1e-4}); err != nil {
			t.Errorf("seed %d: frozen: %v\nbefore:\n%s\nafter:\n%s", seed, err, ir.Print(before), ir.Print(frozen))
			continue
		}
		ran++
	}
	t.Logf("%d of %d random graphs compared", ran, n)
	if ran < n/2 {
		t.Errorf("only %d of %d random graphs ran in the engine", ran, n)
	}
}

// TestRandomGraphsEachPass runs every engine-checkable semantics-preserving
// pass alone on random graphs, verifying and comparing after each.
func TestRandomGraphsEachPass(t *testing.T) {
	n := 150
	if testing.Short() {
		n = 40
	}
	for _, name := range []string{"canonicalize", "const-fold", "reshape-batch", "cse", "dce", "fold-pad", "fold-bn", "matmul-add-to-gemm", "fuse"} {
		p, err := passes.Parse(name)
		if err != nil {
			t.Fatal(err)
		}
		for seed := uint64(0); seed < uint64(n); seed++ {
			rng := rand.New(rand.NewPCG(seed, 7))
			g, err := irtest.Random(rng, irtest.Config{Nodes: 1 + int(seed%20)})
			if err != nil {
				t.Fatalf("seed %d: %v", seed, err)
			}
			e, err := engine.New(g)
			if err != nil {
				continue
			}
			in, err := passes.RandomInputs(g, seed, 2)
			if err != nil {
				continue
			}
			if _, err := e.Run(in); err != nil {
				continue
			}
			before := passes.Clone(g)
			if _, err := passes.Run(g, p, passes.Options{VerifyEach: true}); err != nil {
				t.Errorf("%s, seed %d: %v\n%s", name, seed, err, ir.Print(before))
				continue
			}
			if _, err := passes.CheckEquivalence(before, g, passes.EquivOptions{Seed: seed, Tol: 1e-4}); err != nil {
				t.Errorf("%s, seed %d: %v\nbefore:\n%s\nafter:\n%s", name, seed, err, ir.Print(before), ir.Print(g))
			}
		}
	}
}
