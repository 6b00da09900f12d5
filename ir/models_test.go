package ir_test

import (
	"fmt"
	"path/filepath"
	"testing"

	"github.com/ferminets/fermi/internal/sharedmodels"
	"github.com/ferminets/fermi/ir"
	"github.com/ferminets/fermi/onnxio"
)

// forgetTypes clears every node output's dtype and shape, so that inference
// starts from the graph inputs and parameters alone.
func forgetTypes(g *ir.Graph) {
	for _, n := range g.Nodes {
		if n.Op == ir.OpOpaque {
			continue
		}
		for _, o := range n.Outputs {
			if o != nil {
				o.DType, o.Shape = ir.Undefined, nil
			}
		}
	}
}

// TestSharedModels re-infers the real models in shared/models from scratch
// and checks Analyze against the MACs and deploy-form params that
// models/README.md gives for them.
func TestSharedModels(t *testing.T) {
	dir := sharedmodels.Require(t)
	for _, m := range []struct {
		file          string
		macs, params  int64
		classes       int64
		wantBNsFolded int
	}{
		{"fashion-lenet5.onnx", 416520, 61706, 10, 0},
		{"fashion-resnet20.onnx", 31021952, 271402, 10, 21},
		{"mobilenet_v2-op13.onnx", 300774272, 3487816, 1000, 52},
		{"squeezenet1_1-op13.onnx", 349151936, 1233288, 1000, 0},
		{"shufflenet_v2_x0_5-op13.onnx", 40476448, 1362816, 1000, 56},
	} {
		t.Run(m.file, func(t *testing.T) {
			g, err := onnxio.ReadFile(filepath.Join(dir, m.file))
			if err != nil {
				t.Fatal(err)
			}
			forgetTypes(g)
			if err := ir.InferShapes(g); err != nil {
				t.Fatal(err)
			}
			if err := ir.Verify(g); err != nil {
				t.Fatal(err)
			}
			if got, want := g.Outputs[0].Shape.String(), fmt.Sprintf("[N,%d]", m.classes); got != want {
				t.Errorf("output shape %s, want %s", got, want)
			}
			r, err := ir.Analyze(g)
			if err != nil {
				t.Fatal(err)
			}
			if r.MACs != m.macs || r.Params != m.params {
				t.Errorf("MACs %d, params %d; want %d, %d", r.MACs, r.Params, m.macs, m.params)
			}
			if len(r.Incomplete) != 0 {
				t.Errorf("nodes with unknown dims: %v", r.Incomplete)
			}
			folded := 0
			for _, nc := range r.Nodes {
				if nc.FoldedInto != "" {
					folded++
				}
			}
			if folded != m.wantBNsFolded {
				t.Errorf("%d BatchNorms folded, want %d", folded, m.wantBNsFolded)
			}
		})
	}
}

// TestBackendNodeShapes infers the output types of the ONNX backend node
// tests whose models import with core ops only, with the test's input data
// as constants, and compares them with the output types the models declare.
func TestBackendNodeShapes(t *testing.T) {
	models, _ := filepath.Glob("/usr/share/libonnx-testdata/data/node/*/model.onnx")
	if len(models) == 0 {
		t.Skip("no ONNX backend test data")
	}
	compared := 0
	for _, f := range models {
		g, err := onnxio.ReadFile(f)
		if err != nil {
			continue // an operator or opset outside the core set
		}
		opaque := false
		for _, n := range g.Nodes {
			opaque = opaque || n.Op == ir.OpOpaque
		}
		if opaque {
			continue
		}
		for i, in := range g.Inputs {
			if t, _, err := onnxio.ReadTensorFile(filepath.Join(filepath.Dir(f), "test_data_set_0", fmt.Sprintf("input_%d.pb", i))); err == nil {
				in.Const = t
			}
		}
		want := make([]string, len(g.Outputs))
		for i, o := range g.Outputs {
			want[i] = fmt.Sprintf("%v%v", o.DType, o.Shape)
		}
		forgetTypes(g)
		name := filepath.Base(filepath.Dir(f))
		if err := ir.InferShapes(g); err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		for i, o := range g.Outputs {
			if got := fmt.Sprintf("%v%v", o.DType, o.Shape); got != want[i] {
				t.Errorf("%s: output %s inferred %s, declared %s", name, o.Name, got, want[i])
			}
		}
		compared++
	}
	if compared < 250 {
		t.Errorf("compared only %d node tests, want at least 250", compared)
	}
}
