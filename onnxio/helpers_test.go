package onnxio

import (
	"testing"

	"github.com/ferminets/fermi/ir"
	"github.com/ferminets/fermi/onnxio/onnxpb"
	"google.golang.org/protobuf/proto"
)

// Builders for hand-made ONNX models.

const f32 = onnxpb.TensorProto_FLOAT

// vinfo declares a tensor value; dims are int (static), string (symbolic) or
// nil (unknown). No dims at all means a scalar; use vinfoNoShape for none.
func vinfo(name string, dt onnxpb.TensorProto_DataType, dims ...any) *onnxpb.ValueInfoProto {
	sh := &onnxpb.TensorShapeProto{}
	for _, d := range dims {
		dim := &onnxpb.TensorShapeProto_Dimension{}
		switch d := d.(type) {
		case int:
			dim.Value = &onnxpb.TensorShapeProto_Dimension_DimValue{DimValue: int64(d)}
		case string:
			dim.Value = &onnxpb.TensorShapeProto_Dimension_DimParam{DimParam: d}
		}
		sh.Dim = append(sh.Dim, dim)
	}
	return &onnxpb.ValueInfoProto{Name: proto.String(name), Type: &onnxpb.TypeProto{Value: &onnxpb.TypeProto_TensorType{
		TensorType: &onnxpb.TypeProto_Tensor{ElemType: proto.Int32(int32(dt)), Shape: sh}}}}
}

func vinfoNoShape(name string, dt onnxpb.TensorProto_DataType) *onnxpb.ValueInfoProto {
	return &onnxpb.ValueInfoProto{Name: proto.String(name), Type: &onnxpb.TypeProto{Value: &onnxpb.TypeProto_TensorType{
		TensorType: &onnxpb.TypeProto_Tensor{ElemType: proto.Int32(int32(dt))}}}}
}

func pnode(op, name string, in, out []string, attrs ...*onnxpb.AttributeProto) *onnxpb.NodeProto {
	return &onnxpb.NodeProto{OpType: proto.String(op), Name: proto.String(name), Input: in, Output: out, Attribute: attrs}
}

func attrI(name string, v int64) *onnxpb.AttributeProto {
	return &onnxpb.AttributeProto{Name: proto.String(name), Type: onnxpb.AttributeProto_INT.Enum(), I: proto.Int64(v)}
}

func attrF(name string, v float32) *onnxpb.AttributeProto {
	return &onnxpb.AttributeProto{Name: proto.String(name), Type: onnxpb.AttributeProto_FLOAT.Enum(), F: proto.Float32(v)}
}

func attrS(name, v string) *onnxpb.AttributeProto {
	return &onnxpb.AttributeProto{Name: proto.String(name), Type: onnxpb.AttributeProto_STRING.Enum(), S: []byte(v)}
}

func attrInts(name string, v ...int64) *onnxpb.AttributeProto {
	return &onnxpb.AttributeProto{Name: proto.String(name), Type: onnxpb.AttributeProto_INTS.Enum(), Ints: v}
}

func attrFloats(name string, v ...float32) *onnxpb.AttributeProto {
	return &onnxpb.AttributeProto{Name: proto.String(name), Type: onnxpb.AttributeProto_FLOATS.Enum(), Floats: v}
}

func f32Init(name string, dims []int64, data ...float32) *onnxpb.TensorProto {
	return &onnxpb.TensorProto{Name: proto.String(name), DataType: proto.Int32(int32(f32)), Dims: dims, FloatData: data}
}

func i64Init(name string, dims []int64, data ...int64) *onnxpb.TensorProto {
	return &onnxpb.TensorProto{Name: proto.String(name), DataType: proto.Int32(int32(onnxpb.TensorProto_INT64)), Dims: dims, Int64Data: data}
}

// mp is a model under construction.
type mp struct {
	opset   int64
	nodes   []*onnxpb.NodeProto
	inputs  []*onnxpb.ValueInfoProto
	outputs []*onnxpb.ValueInfoProto
	inits   []*onnxpb.TensorProto
	infos   []*onnxpb.ValueInfoProto
	imports []*onnxpb.OperatorSetIdProto
}

func (m mp) proto() *onnxpb.ModelProto {
	imports := append([]*onnxpb.OperatorSetIdProto{{Domain: proto.String(""), Version: proto.Int64(m.opset)}}, m.imports...)
	return &onnxpb.ModelProto{
		IrVersion:    proto.Int64(7),
		OpsetImport:  imports,
		ProducerName: proto.String("onnxio-test"),
		Graph: &onnxpb.GraphProto{Name: proto.String("g"), Node: m.nodes, Input: m.inputs, Output: m.outputs,
			Initializer: m.inits, ValueInfo: m.infos},
	}
}

func (m mp) bytes(t *testing.T) []byte {
	t.Helper()
	b, err := proto.Marshal(m.proto())
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func (m mp) decode(t *testing.T) *ir.Graph {
	t.Helper()
	g, err := Decode(m.bytes(t), ReadOptions{})
	if err != nil {
		t.Fatalf("Decode: %v", err)
	}
	return g
}

// findNode returns the first node of g with op type typ (TypeName).
func findNode(g *ir.Graph, typ string) *ir.Node {
	for _, n := range g.Nodes {
		if n.TypeName() == typ {
			return n
		}
	}
	return nil
}

// opTypes lists g's node type names in order.
func opTypes(g *ir.Graph) []string {
	var s []string
	for _, n := range g.Nodes {
		s = append(s, n.TypeName())
	}
	return s
}

// roundTrip encodes g at opts and decodes the result.
func roundTrip(t *testing.T, g *ir.Graph, opts WriteOptions) (*ir.Graph, *onnxpb.ModelProto) {
	t.Helper()
	b, err := Encode(g, opts)
	if err != nil {
		t.Fatalf("Encode: %v", err)
	}
	m := new(onnxpb.ModelProto)
	if err := proto.Unmarshal(b, m); err != nil {
		t.Fatal(err)
	}
	g2, err := Decode(b, ReadOptions{})
	if err != nil {
		t.Fatalf("Decode(Encode(g)): %v", err)
	}
	return g2, m
}

// protoNode returns the NodeProto of m called name.
func protoNode(m *onnxpb.ModelProto, name string) *onnxpb.NodeProto {
	for _, n := range m.Graph.Node {
		if n.GetName() == name {
			return n
		}
	}
	return nil
}

func protoAttr(n *onnxpb.NodeProto, name string) *onnxpb.AttributeProto {
	for _, a := range n.Attribute {
		if a.GetName() == name {
			return a
		}
	}
	return nil
}

func protoInit(m *onnxpb.ModelProto, name string) *onnxpb.TensorProto {
	for _, t := range m.Graph.Initializer {
		if t.GetName() == name {
			return t
		}
	}
	return nil
}

func mustMarshal(t *testing.T, m proto.Message) []byte {
	t.Helper()
	b, err := proto.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// oldOpsetModel chains the ops whose form changed across opsets, written as
// the given opset writes them.
func oldOpsetModel(opset int64) mp {
	var nodes []*onnxpb.NodeProto
	var inits []*onnxpb.TensorProto
	add := func(n *onnxpb.NodeProto) { nodes = append(nodes, n) }
	if opset < 11 {
		add(pnode("Clip", "clip", []string{"x"}, []string{"c"}, attrF("min", 0), attrF("max", 6)))
		add(pnode("Pad", "pad", []string{"c"}, []string{"p"}, attrInts("pads", 0, 0, 1, 1, 0, 0, 1, 1)))
	} else {
		inits = append(inits, f32Init("lo", nil, 0), f32Init("hi", nil, 6), i64Init("pads", []int64{8}, 0, 0, 1, 1, 0, 0, 1, 1))
		add(pnode("Clip", "clip", []string{"x", "lo", "hi"}, []string{"c"}))
		add(pnode("Pad", "pad", []string{"c", "pads"}, []string{"p"}))
	}
	if opset < 13 {
		add(pnode("Softmax", "sm", []string{"p"}, []string{"s"}, attrI("axis", 3)))
		add(pnode("Unsqueeze", "un", []string{"s"}, []string{"u"}, attrInts("axes", 0)))
		add(pnode("Split", "sp", []string{"u"}, []string{"a", "b"}, attrI("axis", 2), attrInts("split", 2, 2)))
	} else {
		inits = append(inits, i64Init("ax", []int64{1}, 0), i64Init("sizes", []int64{2}, 2, 2))
		add(pnode("Softmax", "sm", []string{"p"}, []string{"s"}, attrI("axis", -1)))
		add(pnode("Unsqueeze", "un", []string{"s", "ax"}, []string{"u"}))
		add(pnode("Split", "sp", []string{"u", "sizes"}, []string{"a", "b"}, attrI("axis", 2)))
	}
	if opset >= 18 {
		inits = append(inits, i64Init("rax", []int64{1}, 3))
		add(pnode("ReduceMean", "rm", []string{"a", "rax"}, []string{"y"}))
	} else {
		add(pnode("ReduceMean", "rm", []string{"a"}, []string{"y"}, attrInts("axes", 3)))
	}
	return mp{opset: opset, nodes: nodes, inits: inits,
		inputs:  []*onnxpb.ValueInfoProto{vinfo("x", f32, "N", 4, 2, 2)},
		outputs: []*onnxpb.ValueInfoProto{vinfoNoShape("y", f32), vinfoNoShape("b", f32)}}
}
