package engine_test

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/ferminets/fermi/engine"
	"github.com/ferminets/fermi/ir"
	"github.com/ferminets/fermi/passes"
	"github.com/ferminets/fermi/zoo"
)

// TestFusedRunMatchesRunAll checks that Run, which folds Relus into the
// Conv and Add nodes before them (after the default pipeline has folded
// BatchNormalization into the convolutions) and computes unit-stride
// convolutions on padded images, returns the bits of RunAll, which runs
// every node on its own, for 1 and 2 threads and every kernel set.
func TestFusedRunMatchesRunAll(t *testing.T) {
	for _, nw := range []struct {
		arch  string
		opts  zoo.Options
		fuses bool // the network has a Relu after a Conv or an Add
	}{
		{"lenet5", zoo.Options{Seed: 5}, true},
		{"resnet20", zoo.Options{Seed: 5, RandomBNStats: true}, true},
		{"mobilenetv2", zoo.Options{Seed: 5, Width: 0.5, RandomBNStats: true}, false}, // Clip (ReLU6): no fusion
		{"vgg11bn", zoo.Options{Seed: 5, Width: 0.25, RandomBNStats: true}, true},
	} {
		t.Run(nw.arch, func(t *testing.T) {
			g, err := zoo.Build(nw.arch, nw.opts)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := passes.Run(g, passes.Default(), passes.Options{}); err != nil {
				t.Fatal(err)
			}
			fused := 0
			for _, n := range g.Nodes {
				if x := n.Input(0); n.Op == ir.OpRelu && x != nil && x.Def != nil && (x.Def.Op == ir.OpConv || x.Def.Op == ir.OpAdd) {
					fused++
				}
			}
			if nw.fuses != (fused > 0) {
				t.Fatalf("%d Relus after a Conv or an Add, want some: %v", fused, nw.fuses)
			}
			in := g.Inputs[0]
			dims := []int64{3}
			for _, s := range in.Shape[1:] {
				dims = append(dims, s.Size)
			}
			rng := rand.New(rand.NewPCG(9, 9))
			x := make([]float32, ir.NumElements(dims))
			for i := range x {
				x[i] = float32(rng.NormFloat64())
			}
			feed := map[string]*ir.Tensor{in.Name: ir.NewFloat32(dims, x)}
			for _, k := range engine.TestKernels {
				for _, threads := range []int{1, 2} {
					ex, err := engine.New(g, engine.WithKernels(k), engine.WithThreads(threads))
					if err != nil {
						t.Fatal(err)
					}
					all, err := ex.RunAll(feed)
					if err != nil {
						t.Fatal(err)
					}
					want := all[g.Outputs[0].Name].F32
					for call := 0; call < 2; call++ {
						out, err := ex.Run(feed)
						if err != nil {
							t.Fatal(err)
						}
						if !slices.EqualFunc(out[0].F32, want, func(a, b float32) bool { return math.Float32bits(a) == math.Float32bits(b) }) {
							t.Fatalf("%T, %d threads, call %d: Run %v, RunAll %v", k, threads, call, out[0].F32[:4], want[:4])
						}
					}
				}
			}
		})
	}
}
