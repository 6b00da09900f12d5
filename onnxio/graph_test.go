package onnxio

import (
	"slices"
	"testing"

	"github.com/ferminets/fermi/ir"
	"github.com/ferminets/fermi/onnxio/onnxpb"
	"google.golang.org/protobuf/proto"
)

// TestValueTypes checks symbolic, unknown and missing shapes, and that
// declared intermediate shapes are kept where inference knows less.
func TestValueTypes(t *testing.T) {
	m := mp{opset: 13,
		nodes: []*onnxpb.NodeProto{pnode("Relu", "r", []string{"x"}, []string{"h"}), pnode("Identity", "i", []string{"h"}, []string{"y"}),
			pnode("Relu", "r2", []string{"u"}, []string{"z"})},
		inputs:  []*onnxpb.ValueInfoProto{vinfo("x", f32, "N", nil, 3), vinfoNoShape("u", f32)},
		outputs: []*onnxpb.ValueInfoProto{vinfoNoShape("y", f32), vinfoNoShape("z", f32)},
		infos:   []*onnxpb.ValueInfoProto{vinfo("h", f32, "N", 5, 3)},
	}
	g := m.decode(t)
	if want := (ir.Shape{ir.Sym("N"), ir.Unknown, ir.D(3)}); !g.Inputs[0].Shape.Equal(want) {
		t.Errorf("x shape %v, want %v", g.Inputs[0].Shape, want)
	}
	if g.Inputs[1].Shape != nil {
		t.Errorf("u shape %v, want unknown rank", g.Inputs[1].Shape)
	}
	h := g.Nodes[0].Outputs[0]
	if want := (ir.Shape{ir.Sym("N"), ir.D(5), ir.D(3)}); !h.Shape.Equal(want) {
		t.Errorf("h shape %v, want the declared %v", h.Shape, want)
	}
	if want := (ir.Shape{ir.Sym("N"), ir.D(5), ir.D(3)}); !g.Outputs[0].Shape.Equal(want) {
		t.Errorf("y shape %v, want %v inferred from h", g.Outputs[0].Shape, want)
	}
	if g.Outputs[1].Shape != nil || g.Outputs[1].DType != ir.Float32 {
		t.Errorf("z %v %v, want f32 of unknown rank", g.Outputs[1].DType, g.Outputs[1].Shape)
	}
	// Shapes survive export: unknown dims stay unknown, symbols stay symbols.
	g2, _ := roundTrip(t, g, WriteOptions{})
	if err := ir.Equal(g, g2); err != nil {
		t.Error(err)
	}
}

// TestGraphStructure checks node order, generated names, and initializers
// listed as graph inputs.
func TestGraphStructure(t *testing.T) {
	unnamed := func(op string, in, out []string) *onnxpb.NodeProto {
		return &onnxpb.NodeProto{OpType: proto.String(op), Input: in, Output: out}
	}
	m := mp{opset: 13,
		// Reversed: consumers first.
		nodes: []*onnxpb.NodeProto{
			pnode("Add", "Relu", []string{"b", "w"}, []string{"y"}),
			unnamed("Relu", []string{"a"}, []string{"b"}),
			unnamed("Relu", []string{"x"}, []string{"a"}),
			pnode("Relu", "dup", []string{"x"}, []string{"c"}),
			pnode("Relu", "dup", []string{"c"}, []string{"d"}),
		},
		// w is an input with a default (old exporters).
		inputs:  []*onnxpb.ValueInfoProto{vinfo("x", f32, 2), vinfo("w", f32, 2)},
		outputs: []*onnxpb.ValueInfoProto{vinfo("y", f32, 2), vinfo("d", f32, 2)},
		inits:   []*onnxpb.TensorProto{f32Init("w", []int64{2}, 1, 2)},
	}
	g := m.decode(t)
	var names []string
	for _, n := range g.Nodes {
		names = append(names, n.Name)
	}
	if want := []string{"Relu_2", "Relu_1", "Relu", "dup", "dup_1"}; !slices.Equal(names, want) {
		t.Errorf("node order/names %v, want %v", names, want)
	}
	if len(g.Inputs) != 1 || g.Inputs[0].Name != "x" || len(g.Params) != 1 || g.Params[0].Name != "w" {
		t.Errorf("inputs %v params %v, want x and param w", g.Inputs, g.Params)
	}
}
