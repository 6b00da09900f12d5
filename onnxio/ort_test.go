package onnxio

import (
	"math"
	"testing"

	"github.com/ferminets/fermi/ir"
	"github.com/ferminets/fermi/onnxio/onnxpb"
	"github.com/ferminets/fermi/ortrun"
)

// TestOldOpsetsInORT is a differential test of the import conversions: ONNX
// Runtime runs each model as written at its old opset and as exported after
// import (opset 13, or the model's own when newer); the outputs must agree.
func TestOldOpsetsInORT(t *testing.T) {
	ortrun.Require(t)
	x4 := []*onnxpb.ValueInfoProto{vinfo("x", f32, "N", 3, 4, 5)}
	y := []*onnxpb.ValueInfoProto{vinfoNoShape("y", f32)}
	one := func(opset int64, n *onnxpb.NodeProto, inits ...*onnxpb.TensorProto) mp {
		return mp{opset: opset, nodes: []*onnxpb.NodeProto{n}, inputs: x4, outputs: y, inits: inits}
	}
	xy := func(op string, attrs ...*onnxpb.AttributeProto) *onnxpb.NodeProto {
		return pnode(op, "n", []string{"x"}, []string{"y"}, attrs...)
	}
	bn := []*onnxpb.TensorProto{f32Init("s", []int64{3}, 1, 2, 3), f32Init("b", []int64{3}, 0, 1, -1), f32Init("m", []int64{3}, 0.5, 0, -0.5), f32Init("v", []int64{3}, 1, 4, 0.25)}
	models := map[string]mp{
		"chain-7":              oldOpsetModel(7),
		"chain-9":              oldOpsetModel(9),
		"chain-10":             oldOpsetModel(10),
		"chain-11":             oldOpsetModel(11),
		"chain-12":             oldOpsetModel(12),
		"chain-18":             oldOpsetModel(18),
		"softmax-11-axis0":     one(11, xy("Softmax", attrI("axis", 0))),
		"softmax-11-axis1":     one(11, xy("Softmax", attrI("axis", 1))),
		"softmax-12-default":   one(12, xy("Softmax")),
		"softmax-11-axis-neg2": one(11, xy("Softmax", attrI("axis", -2))),
		"clip-7":               one(7, xy("Clip", attrF("min", -0.5))),
		"pad-10-reflect":       one(10, xy("Pad", attrS("mode", "reflect"), attrInts("pads", 0, 0, 1, 2, 0, 0, 2, 1))),
		"pad-10-value":         one(10, xy("Pad", attrInts("pads", 0, 1, 0, 0, 0, 0, 0, 1), attrF("value", -3))),
		"dropout-10":           one(10, xy("Dropout", attrF("ratio", 0.3))),
		"unsqueeze-11":         one(11, pnode("Unsqueeze", "u", []string{"x"}, []string{"y"}, attrInts("axes", 0, 5))),
		"slice-9":              one(9, xy("Slice", attrInts("starts", 1, -3), attrInts("ends", 3, 100), attrInts("axes", 2, 3))),
		"split-11":             mp{opset: 11, nodes: []*onnxpb.NodeProto{pnode("Split", "s", []string{"x"}, []string{"y", "z"}, attrI("axis", 3), attrInts("split", 1, 4))}, inputs: x4, outputs: append(y, vinfoNoShape("z", f32))},
		"split-18-uneven":      mp{opset: 18, nodes: []*onnxpb.NodeProto{pnode("Split", "s", []string{"x"}, []string{"y", "z"}, attrI("axis", 3), attrI("num_outputs", 2))}, inputs: x4, outputs: append(y, vinfoNoShape("z", f32))},
		"batchnorm-7":          one(7, pnode("BatchNormalization", "bn", []string{"x", "s", "b", "m", "v"}, []string{"y"}, attrI("spatial", 1)), bn...),
		"batchnorm-9":          one(9, pnode("BatchNormalization", "bn", []string{"x", "s", "b", "m", "v"}, []string{"y"}, attrF("epsilon", 0.01)), bn...),
		"resize-10-nearest":    one(10, pnode("Resize", "r", []string{"x", "sc"}, []string{"y"}), f32Init("sc", []int64{4}, 1, 1, 2.5, 1.5)),
		"resize-10-linear":     one(10, pnode("Resize", "r", []string{"x", "sc"}, []string{"y"}, attrS("mode", "linear")), f32Init("sc", []int64{4}, 1, 1, 2, 0.5)),
		"reducemean-18":        one(18, pnode("ReduceMean", "r", []string{"x", "ax"}, []string{"y"}, attrI("keepdims", 0)), i64Init("ax", []int64{2}, 1, -1)),
	}
	for name, m := range models {
		t.Run(name, func(t *testing.T) {
			orig := m.bytes(t)
			g := m.decode(t)
			for _, n := range g.Nodes {
				if n.Op == ir.OpOpaque {
					t.Fatalf("node %q stayed opaque: %q", n.Name, g.Remarks)
				}
			}
			exported, err := Encode(g, WriteOptions{})
			if err != nil {
				t.Fatal(err)
			}
			in, err := ortrun.RandomModelInputs(orig, 1, 2)
			if err != nil {
				t.Fatal(err)
			}
			want, err := ortrun.Run(orig, in, ortrun.Options{IntraOpThreads: 1})
			if err != nil {
				t.Skipf("ONNX Runtime cannot run the original: %v", err)
			}
			got, err := ortrun.Run(exported, in, ortrun.Options{IntraOpThreads: 1})
			if err != nil {
				t.Fatalf("export: %v", err)
			}
			for k, w := range want {
				gt := got[k]
				if gt == nil || len(gt.F32) != len(w.F32) || len(gt.Dims) != len(w.Dims) {
					t.Fatalf("output %q: got %v, want dims %v", k, gt, w.Dims)
				}
				for i := range w.Dims {
					if gt.Dims[i] != w.Dims[i] {
						t.Fatalf("output %q: dims %v, want %v", k, gt.Dims, w.Dims)
					}
				}
				for i := range w.F32 {
					if math.Abs(float64(gt.F32[i]-w.F32[i])) > 1e-6 {
						t.Fatalf("output %q element %d: %v, want %v", k, i, gt.F32[i], w.F32[i])
					}
				}
			}
		})
	}
}
