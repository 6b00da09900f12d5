package passes_test

import (
	"fmt"
	"math"
	"path/filepath"
	"sort"
	"testing"

	"github.com/ferminets/fermi/crosscheck"
	"github.com/ferminets/fermi/ir"
	"github.com/ferminets/fermi/onnxio"
	"github.com/ferminets/fermi/ortrun"
	"github.com/ferminets/fermi/passes"
)

// modelDir holds real third-party models (see its README).
const modelDir = "/work/shared/models"

// sharedModels lists the shared models with the node count ONNX Runtime
// 1.30's basic-level optimizer leaves (from the README; 0 when not measured,
// then the bound is the import's count) and the bound the default pipeline
// must meet.
var sharedModels = []struct {
	file     string
	ortBasic int
	bound    int
	large    bool
}{
	{"fashion-lenet5.onnx", 0, 12, false},
	{"fashion-resnet20.onnx", 52, 52, false},
	{"shufflenet_v2_x0_5-op13.onnx", 443, 200, false},
	{"mobilenet_v2-op13.onnx", 100, 100, true},
	{"squeezenet1_1-op13.onnx", 65, 65, true},
}

// TestDefaultPipelineModels runs the default pipeline on the shared real
// models with verification after every pass and checks: node count within
// bound (ORT basic level; ShuffleNet ≤ 200 with the batch dim still
// symbolic), equivalence in the engine (relative error ≤ 1e-4), the same in
// ONNX Runtime on the exported original and result, and onnx.checker
// full_check of the result.
func TestDefaultPipelineModels(t *testing.T) {
	for _, m := range sharedModels {
		t.Run(m.file, func(t *testing.T) {
			if m.large && testing.Short() {
				t.Skip("large model in -short mode")
			}
			path := filepath.Join(modelDir, m.file)
			g, err := onnxio.ReadFile(path)
			if err != nil {
				t.Skip(err)
			}
			before := passes.Clone(g)
			st, err := passes.Run(g, passes.Default(), passes.Options{VerifyEach: true})
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("%s: %d → %d nodes (ORT basic: %d) in %v; ops %v", m.file, len(before.Nodes), len(g.Nodes), m.ortBasic, st.Total, opCounts(g))
			if len(g.Nodes) > m.bound {
				t.Errorf("%d nodes after the default pipeline, want ≤ %d", len(g.Nodes), m.bound)
			}
			if d := g.Inputs[0].Shape[0]; d.Static() {
				t.Errorf("batch dim became %v, want it symbolic", d)
			}
			res, err := passes.CheckEquivalence(before, g, passes.EquivOptions{Seed: 1, Batch: 2, Tol: 1e-4})
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("engine: max abs %.3g, max rel %.3g", res.MaxAbs, res.MaxRel)

			orig, err := onnxio.Encode(before, onnxio.WriteOptions{})
			if err != nil {
				t.Fatal(err)
			}
			opt, err := onnxio.Encode(g, onnxio.WriteOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if err := crosscheck.Check(opt); err != nil {
				t.Errorf("onnx.checker: %v", err)
			}
			if ortrun.Available() != nil {
				t.Log("ONNX Runtime not available: ORT comparison skipped")
				return
			}
			in, err := ortrun.RandomInputs(before, 7, 2)
			if err != nil {
				t.Fatal(err)
			}
			want, err := ortrun.Run(orig, in, ortrun.Options{OptLevel: ortrun.OptDisabled})
			if err != nil {
				t.Fatal(err)
			}
			got, err := ortrun.Run(opt, in, ortrun.Options{OptLevel: ortrun.OptDisabled})
			if err != nil {
				t.Fatal(err)
			}
			for name, w := range want {
				gt, ok := got[name]
				if !ok {
					t.Fatalf("ORT: output %q missing after the pipeline", name)
				}
				rel := passes.RelError(w, gt)
				t.Logf("ORT: output %q max rel %.3g", name, rel)
				if rel > 1e-4 || math.IsNaN(rel) {
					t.Errorf("ORT: output %q: relative error %.3g > 1e-4", name, rel)
				}
			}
		})
	}
}

func opCounts(g *ir.Graph) string {
	c := map[string]int{}
	for _, n := range g.Nodes {
		c[n.TypeName()]++
	}
	var keys []string
	for k := range c {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	s := ""
	for _, k := range keys {
		s += fmt.Sprintf("%s:%d ", k, c[k])
	}
	return s
}

// TestFrozenModels freezes the batch to 1 (fcompile --input-shape
// input:1,C,H,W) before the default pipeline and checks equivalence with
// the original on batch-1 inputs, and that no dim stays symbolic.
func TestFrozenModels(t *testing.T) {
	for _, m := range sharedModels {
		t.Run(m.file, func(t *testing.T) {
			if m.large && testing.Short() {
				t.Skip("large model in -short mode")
			}
			g, err := onnxio.ReadFile(filepath.Join(modelDir, m.file))
			if err != nil {
				t.Skip(err)
			}
			before := passes.Clone(g)
			dims := g.Inputs[0].Shape.Ints()
			dims[0] = 1
			p, err := passes.WithInputShapes(passes.Default(), passes.InputShape{Name: g.Inputs[0].Name, Dims: dims})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := passes.Run(g, p, passes.Options{VerifyEach: true}); err != nil {
				t.Fatal(err)
			}
			for _, v := range g.Values() {
				if !v.Shape.IsStatic() {
					t.Errorf("value %q has shape %v after freezing", v.Name, v.Shape)
					break
				}
			}
			res, err := passes.CheckEquivalence(before, g, passes.EquivOptions{Seed: 4, Tol: 1e-4})
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("%d → %d nodes, max rel error %.3g", len(before.Nodes), len(g.Nodes), res.MaxRel)
		})
	}
}
