package onnxio

import (
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/ferminets/fermi/engine"
	"github.com/ferminets/fermi/ir"
	"github.com/ferminets/fermi/onnxio/onnxpb"
	"google.golang.org/protobuf/proto"
)

// constOf returns the constant data of v as float64s, or nil.
func constOf(v *ir.Value) []float64 {
	if t := ir.ConstValue(v); t != nil {
		return t.Float64s()
	}
	return nil
}

// TestImportOldOpsets checks that each opset-specific form is normalized to
// the IR's opset-13 form.
func TestImportOldOpsets(t *testing.T) {
	one := []string{"x"}
	y := []string{"y"}
	tests := []struct {
		name  string
		m     mp
		ops   []string // node types after import
		check func(t *testing.T, g *ir.Graph)
	}{
		{"clip-6-attrs", mp{opset: 6 + 1, nodes: []*onnxpb.NodeProto{pnode("Clip", "c", one, y, attrF("min", 0), attrF("max", 6))},
			inputs: []*onnxpb.ValueInfoProto{vinfo("x", f32, 1, 4)}, outputs: []*onnxpb.ValueInfoProto{vinfo("y", f32, 1, 4)}},
			[]string{"Clip"}, func(t *testing.T, g *ir.Graph) {
				n := g.Nodes[0]
				if len(n.Attrs) != 0 || len(n.Inputs) != 3 || !slices.Equal(constOf(n.Inputs[1]), []float64{0}) || !slices.Equal(constOf(n.Inputs[2]), []float64{6}) {
					t.Errorf("Clip inputs %v attrs %v, want x, 0, 6 and no attributes", n.Inputs, n.Attrs)
				}
			}},
		{"clip-10-max-only", mp{opset: 10, nodes: []*onnxpb.NodeProto{pnode("Clip", "c", one, y, attrF("max", 6))},
			inputs: []*onnxpb.ValueInfoProto{vinfo("x", f32, 4)}, outputs: []*onnxpb.ValueInfoProto{vinfo("y", f32, 4)}},
			[]string{"Clip"}, func(t *testing.T, g *ir.Graph) {
				n := g.Nodes[0]
				if len(n.Inputs) != 3 || n.Inputs[1] != nil || !slices.Equal(constOf(n.Inputs[2]), []float64{6}) {
					t.Errorf("Clip inputs %v, want x, (none), 6", n.Inputs)
				}
			}},
		{"squeeze-11", mp{opset: 11, nodes: []*onnxpb.NodeProto{pnode("Squeeze", "s", one, y, attrInts("axes", 1))},
			inputs: []*onnxpb.ValueInfoProto{vinfo("x", f32, 2, 1, 3)}, outputs: []*onnxpb.ValueInfoProto{vinfoNoShape("y", f32)}},
			[]string{"Squeeze"}, func(t *testing.T, g *ir.Graph) {
				n := g.Nodes[0]
				if !slices.Equal(constOf(n.Input(1)), []float64{1}) || n.Attr("axes") != nil {
					t.Errorf("Squeeze inputs %v attrs %v, want axes input [1]", n.Inputs, n.Attrs)
				}
				if want := ir.Static(2, 3); !n.Outputs[0].Shape.Equal(want) {
					t.Errorf("output shape %v, want %v", n.Outputs[0].Shape, want)
				}
			}},
		{"unsqueeze-7", mp{opset: 7, nodes: []*onnxpb.NodeProto{pnode("Unsqueeze", "u", one, y, attrInts("axes", 0))},
			inputs: []*onnxpb.ValueInfoProto{vinfo("x", f32, 3)}, outputs: []*onnxpb.ValueInfoProto{vinfoNoShape("y", f32)}},
			[]string{"Unsqueeze"}, func(t *testing.T, g *ir.Graph) {
				if want := ir.Static(1, 3); !g.Outputs[0].Shape.Equal(want) {
					t.Errorf("output shape %v, want %v", g.Outputs[0].Shape, want)
				}
			}},
		{"split-11-attr", mp{opset: 11, nodes: []*onnxpb.NodeProto{pnode("Split", "s", one, []string{"a", "b"}, attrI("axis", 1), attrInts("split", 1, 2))},
			inputs: []*onnxpb.ValueInfoProto{vinfo("x", f32, 2, 3)}, outputs: []*onnxpb.ValueInfoProto{vinfoNoShape("a", f32), vinfoNoShape("b", f32)}},
			[]string{"Split"}, func(t *testing.T, g *ir.Graph) {
				n := g.Nodes[0]
				if !slices.Equal(constOf(n.Input(1)), []float64{1, 2}) || n.Attr("split") != nil {
					t.Errorf("Split inputs %v attrs %v, want split input [1 2]", n.Inputs, n.Attrs)
				}
				if !n.Outputs[1].Shape.Equal(ir.Static(2, 2)) {
					t.Errorf("second output shape %v, want [2,2]", n.Outputs[1].Shape)
				}
			}},
		{"split-18-num-outputs", mp{opset: 18, nodes: []*onnxpb.NodeProto{pnode("Split", "s", one, []string{"a", "b", "c"}, attrI("num_outputs", 3))},
			inputs: []*onnxpb.ValueInfoProto{vinfo("x", f32, 6)}, outputs: []*onnxpb.ValueInfoProto{vinfoNoShape("a", f32), vinfoNoShape("b", f32), vinfoNoShape("c", f32)}},
			[]string{"Split"}, func(t *testing.T, g *ir.Graph) {
				n := g.Nodes[0]
				if len(n.Attrs) != 0 || len(n.Inputs) != 1 || !n.Outputs[2].Shape.Equal(ir.Static(2)) {
					t.Errorf("Split attrs %v inputs %v out shape %v, want no attributes, 1 input, [2]", n.Attrs, n.Inputs, n.Outputs[2].Shape)
				}
			}},
		{"split-18-uneven", mp{opset: 18, nodes: []*onnxpb.NodeProto{pnode("Split", "s", one, []string{"a", "b", "c"}, attrI("num_outputs", 3))},
			inputs: []*onnxpb.ValueInfoProto{vinfo("x", f32, 7)}, outputs: []*onnxpb.ValueInfoProto{vinfoNoShape("a", f32), vinfoNoShape("b", f32), vinfoNoShape("c", f32)}},
			[]string{"Split"}, func(t *testing.T, g *ir.Graph) {
				n := g.Nodes[0]
				if !slices.Equal(constOf(n.Input(1)), []float64{3, 3, 1}) || !n.Outputs[2].Shape.Equal(ir.Static(1)) {
					t.Errorf("Split inputs %v, last shape %v, want sizes [3 3 1] and [1]", n.Inputs, n.Outputs[2].Shape)
				}
			}},
		{"slice-9-attrs", mp{opset: 9, nodes: []*onnxpb.NodeProto{pnode("Slice", "s", one, y, attrInts("starts", 1), attrInts("ends", 3), attrInts("axes", 1))},
			inputs: []*onnxpb.ValueInfoProto{vinfo("x", f32, 2, 4)}, outputs: []*onnxpb.ValueInfoProto{vinfoNoShape("y", f32)}},
			[]string{"Slice"}, func(t *testing.T, g *ir.Graph) {
				n := g.Nodes[0]
				if len(n.Attrs) != 0 || !slices.Equal(constOf(n.Input(3)), []float64{1}) || !g.Outputs[0].Shape.Equal(ir.Static(2, 2)) {
					t.Errorf("Slice inputs %v attrs %v shape %v, want starts/ends/axes inputs and [2,2]", n.Inputs, n.Attrs, g.Outputs[0].Shape)
				}
			}},
		{"reducemean-18-const-axes", mp{opset: 18, nodes: []*onnxpb.NodeProto{pnode("ReduceMean", "r", []string{"x", "axes"}, y, attrI("keepdims", 0))},
			inputs: []*onnxpb.ValueInfoProto{vinfo("x", f32, 2, 3)}, outputs: []*onnxpb.ValueInfoProto{vinfoNoShape("y", f32)},
			inits: []*onnxpb.TensorProto{i64Init("axes", []int64{1}, 1)}},
			[]string{"ReduceMean"}, func(t *testing.T, g *ir.Graph) {
				n := g.Nodes[0]
				if a := n.Attr("axes"); a == nil || !slices.Equal(a.Ints, []int64{1}) || len(n.Inputs) != 1 {
					t.Errorf("ReduceMean attrs %v inputs %v, want axes=[1] and 1 input", n.Attrs, n.Inputs)
				}
				if len(g.Params) != 0 {
					t.Errorf("params %v, want the axes initializer dropped", g.Params)
				}
				if !g.Outputs[0].Shape.Equal(ir.Static(2)) {
					t.Errorf("output shape %v, want [2]", g.Outputs[0].Shape)
				}
			}},
		{"reducemean-18-dynamic-axes-opaque", mp{opset: 18, nodes: []*onnxpb.NodeProto{pnode("ReduceMean", "r", []string{"x", "axes"}, y)},
			inputs:  []*onnxpb.ValueInfoProto{vinfo("x", f32, 2, 3), vinfo("axes", onnxpb.TensorProto_INT64, 1)},
			outputs: []*onnxpb.ValueInfoProto{vinfoNoShape("y", f32)}},
			[]string{"ReduceMean"}, func(t *testing.T, g *ir.Graph) {
				if g.Nodes[0].Op != ir.OpOpaque || len(g.Remarks) != 1 || !strings.Contains(g.Remarks[0], "axes input is not a constant") {
					t.Errorf("op %v remarks %q, want an opaque node and a remark", g.Nodes[0].Op, g.Remarks)
				}
			}},
		{"pad-10-attrs", mp{opset: 10, nodes: []*onnxpb.NodeProto{pnode("Pad", "p", one, y, attrInts("pads", 0, 1, 0, 2), attrF("value", 2))},
			inputs: []*onnxpb.ValueInfoProto{vinfo("x", f32, 2, 2)}, outputs: []*onnxpb.ValueInfoProto{vinfoNoShape("y", f32)}},
			[]string{"Pad"}, func(t *testing.T, g *ir.Graph) {
				n := g.Nodes[0]
				if !slices.Equal(constOf(n.Input(1)), []float64{0, 1, 0, 2}) || !slices.Equal(constOf(n.Input(2)), []float64{2}) || len(n.Attrs) != 0 {
					t.Errorf("Pad inputs %v attrs %v, want pads and value inputs", n.Inputs, n.Attrs)
				}
				if !g.Outputs[0].Shape.Equal(ir.Static(2, 5)) {
					t.Errorf("output shape %v, want [2,5]", g.Outputs[0].Shape)
				}
			}},
		{"pad-18-axes-opaque", mp{opset: 18, nodes: []*onnxpb.NodeProto{pnode("Pad", "p", []string{"x", "pads", "", "axes"}, y)},
			inputs:  []*onnxpb.ValueInfoProto{vinfo("x", f32, 2, 2)},
			outputs: []*onnxpb.ValueInfoProto{vinfo("y", f32, 2, 4)},
			inits:   []*onnxpb.TensorProto{i64Init("pads", []int64{2}, 1, 1), i64Init("axes", []int64{1}, 1)}},
			[]string{"Pad"}, func(t *testing.T, g *ir.Graph) {
				if n := g.Nodes[0]; n.Op != ir.OpOpaque || len(n.Inputs) != 4 || !g.Outputs[0].Shape.Equal(ir.Static(2, 4)) {
					t.Errorf("op %v inputs %v, want an opaque Pad with its 4 inputs and declared shape", n.Op, n.Inputs)
				}
			}},
		{"dropout-10-ratio", mp{opset: 10, nodes: []*onnxpb.NodeProto{pnode("Dropout", "d", one, y, attrF("ratio", 0.25))},
			inputs: []*onnxpb.ValueInfoProto{vinfo("x", f32, 3)}, outputs: []*onnxpb.ValueInfoProto{vinfoNoShape("y", f32)}},
			[]string{"Dropout"}, func(t *testing.T, g *ir.Graph) {
				n := g.Nodes[0]
				if !slices.Equal(constOf(n.Input(1)), []float64{0.25}) || len(n.Attrs) != 0 {
					t.Errorf("Dropout inputs %v attrs %v, want ratio input 0.25", n.Inputs, n.Attrs)
				}
			}},
		{"batchnorm-7-spatial", mp{opset: 7, nodes: []*onnxpb.NodeProto{pnode("BatchNormalization", "bn", []string{"x", "s", "b", "m", "v"}, y, attrI("spatial", 1), attrF("epsilon", 1e-3))},
			inputs: []*onnxpb.ValueInfoProto{vinfo("x", f32, 1, 2, 3, 3)}, outputs: []*onnxpb.ValueInfoProto{vinfoNoShape("y", f32)},
			inits: []*onnxpb.TensorProto{f32Init("s", []int64{2}, 1, 1), f32Init("b", []int64{2}, 0, 0), f32Init("m", []int64{2}, 0, 0), f32Init("v", []int64{2}, 1, 1)}},
			[]string{"BatchNormalization"}, func(t *testing.T, g *ir.Graph) {
				n := g.Nodes[0]
				if n.Op != ir.OpBatchNorm || n.Attr("spatial") != nil || n.Float("epsilon") != 1e-3 {
					t.Errorf("op %v attrs %v, want BatchNorm with epsilon only", n.Op, n.Attrs)
				}
			}},
		{"batchnorm-7-not-spatial-opaque", mp{opset: 7, nodes: []*onnxpb.NodeProto{pnode("BatchNormalization", "bn", []string{"x", "s", "b", "m", "v"}, y, attrI("spatial", 0))},
			inputs: []*onnxpb.ValueInfoProto{vinfo("x", f32, 1, 2)}, outputs: []*onnxpb.ValueInfoProto{vinfo("y", f32, 1, 2)},
			inits: []*onnxpb.TensorProto{f32Init("s", []int64{2}, 1, 1), f32Init("b", []int64{2}, 0, 0), f32Init("m", []int64{2}, 0, 0), f32Init("v", []int64{2}, 1, 1)}},
			[]string{"BatchNormalization"}, func(t *testing.T, g *ir.Graph) {
				if n := g.Nodes[0]; n.Op != ir.OpOpaque || n.Attr("spatial") == nil {
					t.Errorf("op %v attrs %v, want opaque with spatial kept", n.Op, n.Attrs)
				}
			}},
		{"softmax-11-axis1-rank3", mp{opset: 11, nodes: []*onnxpb.NodeProto{pnode("Softmax", "sm", one, y, attrI("axis", 1))},
			inputs: []*onnxpb.ValueInfoProto{vinfo("x", f32, 2, 3, 4)}, outputs: []*onnxpb.ValueInfoProto{vinfoNoShape("y", f32)}},
			[]string{"Shape", "Flatten", "Softmax", "Reshape"}, func(t *testing.T, g *ir.Graph) {
				if sm := findNode(g, "Softmax"); sm.Name != "sm" || sm.Int("axis") != -1 {
					t.Errorf("softmax %q axis %d, want \"sm\" on axis -1", sm.Name, sm.Int("axis"))
				}
				if !g.Outputs[0].Shape.Equal(ir.Static(2, 3, 4)) {
					t.Errorf("output shape %v, want [2,3,4]", g.Outputs[0].Shape)
				}
			}},
		{"softmax-11-unknown-attr-opaque", mp{opset: 11, nodes: []*onnxpb.NodeProto{pnode("Softmax", "sm", one, y, attrI("axis", 1), attrI("foo", 1))},
			inputs: []*onnxpb.ValueInfoProto{vinfo("x", f32, 2, 3, 4)}, outputs: []*onnxpb.ValueInfoProto{vinfo("y", f32, 2, 3, 4)}},
			[]string{"Softmax"}, func(t *testing.T, g *ir.Graph) {
				n := g.Nodes[0]
				if n.Op != ir.OpOpaque || len(n.Inputs) != 1 || n.Inputs[0] != g.Inputs[0] || n.Outputs[0] != g.Outputs[0] || g.Outputs[0].Def != n {
					t.Errorf("node %+v, want the original opaque Softmax x -> y", n)
				}
				if len(g.Remarks) != 1 || !strings.Contains(g.Remarks[0], `attribute "foo"`) {
					t.Errorf("remarks %q", g.Remarks)
				}
			}},
		{"softmax-11-last-axis", mp{opset: 11, nodes: []*onnxpb.NodeProto{pnode("Softmax", "sm", one, y, attrI("axis", 2))},
			inputs: []*onnxpb.ValueInfoProto{vinfo("x", f32, 2, 3, 4)}, outputs: []*onnxpb.ValueInfoProto{vinfoNoShape("y", f32)}},
			[]string{"Softmax"}, func(t *testing.T, g *ir.Graph) {
				if g.Nodes[0].Int("axis") != -1 {
					t.Errorf("axis %d, want -1", g.Nodes[0].Int("axis"))
				}
			}},
		{"softmax-12-default-axis-rank2", mp{opset: 12, nodes: []*onnxpb.NodeProto{pnode("Softmax", "sm", one, y)},
			inputs: []*onnxpb.ValueInfoProto{vinfo("x", f32, "N", 10)}, outputs: []*onnxpb.ValueInfoProto{vinfoNoShape("y", f32)}},
			[]string{"Softmax"}, nil},
		{"resize-10", mp{opset: 10, nodes: []*onnxpb.NodeProto{pnode("Resize", "rs", []string{"x", "scales"}, y, attrS("mode", "nearest"))},
			inputs: []*onnxpb.ValueInfoProto{vinfo("x", f32, 1, 1, 2, 2)}, outputs: []*onnxpb.ValueInfoProto{vinfoNoShape("y", f32)},
			inits: []*onnxpb.TensorProto{f32Init("scales", []int64{4}, 1, 1, 2, 2)}},
			[]string{"Resize"}, func(t *testing.T, g *ir.Graph) {
				n := g.Nodes[0]
				if len(n.Inputs) != 3 || n.Inputs[1] != nil || n.Str("coordinate_transformation_mode") != "asymmetric" || n.Str("nearest_mode") != "floor" {
					t.Errorf("Resize inputs %v attrs %v, want (x, none, scales), asymmetric, floor", n.Inputs, n.Attrs)
				}
				if !g.Outputs[0].Shape.Equal(ir.Static(1, 1, 4, 4)) {
					t.Errorf("output shape %v, want [1,1,4,4]", g.Outputs[0].Shape)
				}
			}},
		{"constant-11-value-ints", mp{opset: 11, nodes: []*onnxpb.NodeProto{pnode("Constant", "k", nil, y, attrInts("value_ints", 3, 4))},
			outputs: []*onnxpb.ValueInfoProto{vinfoNoShape("y", onnxpb.TensorProto_INT64)}},
			[]string{"Constant"}, func(t *testing.T, g *ir.Graph) {
				if a := g.Nodes[0].Attr("value"); a == nil || a.Tensor.DType != ir.Int64 || !slices.Equal(a.Tensor.I64, []int64{3, 4}) {
					t.Errorf("attrs %v, want value = i64 [3 4]", g.Nodes[0].Attrs)
				}
			}},
		{"upsample-9-opaque", mp{opset: 9, nodes: []*onnxpb.NodeProto{pnode("Upsample", "up", []string{"x", "scales"}, y)},
			inputs: []*onnxpb.ValueInfoProto{vinfo("x", f32, 1, 1, 2, 2)}, outputs: []*onnxpb.ValueInfoProto{vinfo("y", f32, 1, 1, 4, 4)},
			inits: []*onnxpb.TensorProto{f32Init("scales", []int64{4}, 1, 1, 2, 2)}},
			[]string{"Upsample"}, func(t *testing.T, g *ir.Graph) {
				if g.Nodes[0].Op != ir.OpOpaque || g.Outputs[0].DType != ir.Float32 {
					t.Errorf("op %v dtype %v, want opaque with the declared f32", g.Nodes[0].Op, g.Outputs[0].DType)
				}
			}},
		{"core-op-other-domain-opaque", mp{opset: 13, nodes: []*onnxpb.NodeProto{{OpType: proto.String("Relu"), Domain: proto.String("com.example"), Name: proto.String("r"), Input: one, Output: y}},
			inputs: []*onnxpb.ValueInfoProto{vinfo("x", f32, 3)}, outputs: []*onnxpb.ValueInfoProto{vinfo("y", f32, 3)},
			imports: []*onnxpb.OperatorSetIdProto{{Domain: proto.String("com.example"), Version: proto.Int64(1)}}},
			[]string{"com.example.Relu"}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			g := tc.m.decode(t)
			if got := opTypes(g); !slices.Equal(got, tc.ops) {
				t.Fatalf("ops %v, want %v", got, tc.ops)
			}
			if tc.check != nil {
				tc.check(t, g)
			}
			// The normalized graph must survive export and import unchanged.
			g2, _ := roundTrip(t, g, WriteOptions{})
			g.IRVersion, g.Opsets = g2.IRVersion, g2.Opsets
			if err := ir.Equal(g, g2); err != nil {
				t.Errorf("round trip: %v", err)
			}
		})
	}
}

// TestImportOldOpsetsNumerically runs converted old-opset nodes in the
// reference engine and compares with the old operators' meaning, computed
// here by hand.
func TestImportOldOpsetsNumerically(t *testing.T) {
	x := make([]float32, 24) // [2,3,4]
	for i := range x {
		x[i] = float32(math.Sin(float64(i))) * 3
	}
	// Softmax-11, axis 1 on [2,3,4]: each of the 2 rows of 12 sums to 1.
	softmaxRows := func(x []float32, rows int) []float32 {
		out := make([]float32, len(x))
		w := len(x) / rows
		for r := 0; r < rows; r++ {
			var s float64
			for _, v := range x[r*w : (r+1)*w] {
				s += math.Exp(float64(v))
			}
			for i := r * w; i < (r+1)*w; i++ {
				out[i] = float32(math.Exp(float64(x[i])) / s)
			}
		}
		return out
	}
	clip := make([]float32, len(x))
	for i, v := range x {
		clip[i] = min(max(v, -1), 2)
	}
	tests := []struct {
		name string
		m    mp
		in   *ir.Tensor
		want []float32
	}{
		{"softmax-11-axis1", mp{opset: 11, nodes: []*onnxpb.NodeProto{pnode("Softmax", "sm", []string{"x"}, []string{"y"}, attrI("axis", 1))},
			inputs: []*onnxpb.ValueInfoProto{vinfo("x", f32, 2, 3, 4)}, outputs: []*onnxpb.ValueInfoProto{vinfoNoShape("y", f32)}},
			ir.NewFloat32([]int64{2, 3, 4}, x), softmaxRows(x, 2)},
		{"softmax-11-axis0", mp{opset: 11, nodes: []*onnxpb.NodeProto{pnode("Softmax", "sm", []string{"x"}, []string{"y"}, attrI("axis", 0))},
			inputs: []*onnxpb.ValueInfoProto{vinfo("x", f32, 2, 3, 4)}, outputs: []*onnxpb.ValueInfoProto{vinfoNoShape("y", f32)}},
			ir.NewFloat32([]int64{2, 3, 4}, x), softmaxRows(x, 1)},
		{"clip-6", mp{opset: 7, nodes: []*onnxpb.NodeProto{pnode("Clip", "c", []string{"x"}, []string{"y"}, attrF("min", -1), attrF("max", 2))},
			inputs: []*onnxpb.ValueInfoProto{vinfo("x", f32, 2, 3, 4)}, outputs: []*onnxpb.ValueInfoProto{vinfoNoShape("y", f32)}},
			ir.NewFloat32([]int64{2, 3, 4}, x), clip},
		{"pad-2", mp{opset: 9, nodes: []*onnxpb.NodeProto{pnode("Pad", "p", []string{"x"}, []string{"y"}, attrInts("pads", 0, 1, 0, 0), attrF("value", 7))},
			inputs: []*onnxpb.ValueInfoProto{vinfo("x", f32, 2, 2)}, outputs: []*onnxpb.ValueInfoProto{vinfoNoShape("y", f32)}},
			ir.NewFloat32([]int64{2, 2}, []float32{1, 2, 3, 4}), []float32{7, 1, 2, 7, 3, 4}},
		{"resize-10-nearest", mp{opset: 10, nodes: []*onnxpb.NodeProto{pnode("Resize", "rs", []string{"x", "scales"}, []string{"y"})},
			inputs: []*onnxpb.ValueInfoProto{vinfo("x", f32, 1, 1, 1, 2)}, outputs: []*onnxpb.ValueInfoProto{vinfoNoShape("y", f32)},
			inits: []*onnxpb.TensorProto{f32Init("scales", []int64{4}, 1, 1, 1, 3)}},
			ir.NewFloat32([]int64{1, 1, 1, 2}, []float32{1, 2}), []float32{1, 1, 1, 2, 2, 2}},
		{"split-2-attr", mp{opset: 9, nodes: []*onnxpb.NodeProto{pnode("Split", "s", []string{"x"}, []string{"y", "z"}, attrInts("split", 1, 3))},
			inputs: []*onnxpb.ValueInfoProto{vinfo("x", f32, 4)}, outputs: []*onnxpb.ValueInfoProto{vinfoNoShape("y", f32)}},
			ir.NewFloat32([]int64{4}, []float32{1, 2, 3, 4}), []float32{1}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			g := tc.m.decode(t)
			e, err := engine.New(g)
			if err != nil {
				t.Fatal(err)
			}
			out, err := e.Run(map[string]*ir.Tensor{"x": tc.in})
			if err != nil {
				t.Fatal(err)
			}
			got := out[0].F32
			if len(got) != len(tc.want) {
				t.Fatalf("got %d values %v, want %v", len(got), got, tc.want)
			}
			for i := range got {
				if math.Abs(float64(got[i]-tc.want[i])) > 1e-6 {
					t.Fatalf("value %d = %v, want %v (all: %v)", i, got[i], tc.want[i], got)
				}
			}
		})
	}
}

// TestOldOpsetsAgree imports one network written at opsets 7 to 21 (each
// in that opset's form) and checks all versions compute the same outputs.
func TestOldOpsetsAgree(t *testing.T) {
	x := make([]float32, 2*4*2*2)
	for i := range x {
		x[i] = float32(math.Cos(float64(i)))*5 - 1
	}
	in := map[string]*ir.Tensor{"x": ir.NewFloat32([]int64{2, 4, 2, 2}, x)}
	var ref []*ir.Tensor
	for _, opset := range []int64{7, 9, 10, 11, 12, 13, 17, 18, 21} {
		g := oldOpsetModel(opset).decode(t)
		if got, want := opTypes(g), []string{"Clip", "Pad", "Softmax", "Unsqueeze", "Split", "ReduceMean"}; !slices.Equal(got, want) {
			t.Fatalf("opset %d: ops %v, want %v", opset, got, want)
		}
		e, err := engine.New(g)
		if err != nil {
			t.Fatal(err)
		}
		out, err := e.Run(in)
		if err != nil {
			t.Fatalf("opset %d: %v", opset, err)
		}
		if ref == nil {
			ref = out
			continue
		}
		for i := range out {
			if !slices.Equal(out[i].Dims, ref[i].Dims) || !slices.Equal(out[i].F32, ref[i].F32) {
				t.Errorf("opset %d output %d: %v %v, opset 7 gave %v %v", opset, i, out[i].Dims, out[i].F32, ref[i].Dims, ref[i].F32)
			}
		}
	}
	if len(ref) != 2 || !slices.Equal(ref[0].Dims, []int64{1, 2, 2, 1, 4}) {
		t.Errorf("outputs %v, want y of dims [1 2 2 1 4]", ref)
	}
}
