package passes_test

import (
	"strings"
	"testing"

	"github.com/ferminets/fermi/ir"
	"github.com/ferminets/fermi/passes"
)

func actGraph(t *testing.T, op ir.Op, scale float32) *ir.Graph {
	t.Helper()
	b := ir.NewBuilder("g")
	x := b.Input("x", ir.Float32, ir.Shape{ir.Sym("N"), ir.D(8)})
	s := b.Param("s", ir.NewFloat32([]int64{}, []float32{scale}))
	y := b.Node(op, "act", []*ir.Value{x})
	z := b.Node(ir.OpMul, "z", []*ir.Value{y, s})
	b.Output(z)
	g, err := b.Build()
	if err != nil {
		t.Fatal(err)
	}
	return g
}

// TestCheckEquivalence checks that CheckEquivalence passes equal graphs and
// catches different ones, measuring the error.
func TestCheckEquivalence(t *testing.T) {
	tests := []struct {
		name  string
		after *ir.Graph
		tol   float64
		err   string
	}{
		{"same", actGraph(t, ir.OpRelu, 2), 1e-6, ""},
		{"different op", actGraph(t, ir.OpSigmoid, 2), 1e-6, "exceeds tolerance"},
		{"tiny change within tolerance", actGraph(t, ir.OpRelu, 2.000001), 1e-5, ""},
		{"tiny change above tolerance", actGraph(t, ir.OpRelu, 2.000001), 1e-8, "exceeds tolerance"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := passes.CheckEquivalence(actGraph(t, ir.OpRelu, 2), tt.after, passes.EquivOptions{Seed: 3, Tol: tt.tol})
			if tt.err == "" && err != nil {
				t.Fatal(err)
			}
			if tt.err != "" && (err == nil || !strings.Contains(err.Error(), tt.err)) {
				t.Fatalf("error %v, want %q", err, tt.err)
			}
			if tt.name == "same" && (res.MaxAbs != 0 || res.MaxRel != 0) {
				t.Errorf("identical graphs differ: %+v", res)
			}
			if tt.name != "same" && res.MaxAbs == 0 {
				t.Errorf("different graphs measured equal: %+v", res)
			}
		})
	}
	// Different output shapes are an error, not a measurement.
	b := ir.NewBuilder("g")
	x := b.Input("x", ir.Float32, ir.Shape{ir.Sym("N"), ir.D(8)})
	f := b.Node(ir.OpFlatten, "f", []*ir.Value{x}, ir.IntAttr("axis", 0))
	b.Output(f)
	g, err := b.Build()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := passes.CheckEquivalence(actGraph(t, ir.OpRelu, 2), g, passes.EquivOptions{}); err == nil || !strings.Contains(err.Error(), "before") {
		t.Errorf("shape mismatch: %v", err)
	}
}

// TestClone checks that a pipeline run on a clone leaves the original intact.
func TestClone(t *testing.T) {
	g := actGraph(t, ir.OpRelu, 2)
	g.Nodes[0].Op = ir.OpIdentity
	if err := ir.InferShapes(g); err != nil {
		t.Fatal(err)
	}
	want := ir.Print(g)
	c := passes.Clone(g)
	if err := ir.Equal(g, c); err != nil {
		t.Fatalf("clone differs: %v", err)
	}
	if _, err := passes.Run(c, passes.Default(), passes.Options{VerifyEach: true}); err != nil {
		t.Fatal(err)
	}
	if len(c.Nodes) != 1 {
		t.Errorf("clone has %d nodes after the pipeline, want 1", len(c.Nodes))
	}
	if got := ir.Print(g); got != want {
		t.Errorf("original changed:\n%s\nwant:\n%s", got, want)
	}
}
