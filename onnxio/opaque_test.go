package onnxio

import (
	"bytes"
	"testing"

	"github.com/ferminets/fermi/ir"
	"github.com/ferminets/fermi/onnxio/onnxpb"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
)

// opaqueModel has a custom-domain op with every attribute kind, and an
// unknown default-domain op with a subgraph and a reference attribute,
// followed by a core op that reads the opaque output.
func opaqueModel() mp {
	sub := &onnxpb.GraphProto{Name: proto.String("body"),
		Node:   []*onnxpb.NodeProto{pnode("Identity", "inner", []string{"x"}, []string{"o"})},
		Output: []*onnxpb.ValueInfoProto{vinfo("o", f32, 3)}}
	tensor := f32Init("named_tensor", []int64{2}, 1.5, -2)
	custom := &onnxpb.NodeProto{OpType: proto.String("MyOp"), Domain: proto.String("com.example"), Name: proto.String("custom"),
		Input: []string{"x", ""}, Output: []string{"y"}, DocString: proto.String("a custom op"),
		Attribute: []*onnxpb.AttributeProto{
			attrI("i", -3), attrF("f", 0.5), attrS("s", "text"), attrInts("is", 1, 2, 3), attrFloats("fs", 0.25, -1),
			{Name: proto.String("ss"), Type: onnxpb.AttributeProto_STRINGS.Enum(), Strings: [][]byte{[]byte("a"), []byte("\xff")}},
			{Name: proto.String("t"), Type: onnxpb.AttributeProto_TENSOR.Enum(), T: tensor},
			{Name: proto.String("plain_t"), Type: onnxpb.AttributeProto_TENSOR.Enum(), T: &onnxpb.TensorProto{DataType: proto.Int32(1), Dims: []int64{1}, RawData: []byte{0, 0, 128, 63}}},
			{Name: proto.String("g"), Type: onnxpb.AttributeProto_GRAPH.Enum(), G: sub},
			{Name: proto.String("documented"), Type: onnxpb.AttributeProto_INT.Enum(), I: proto.Int64(1), DocString: proto.String("why")},
		}}
	foo := &onnxpb.NodeProto{OpType: proto.String("FooBar"), Domain: proto.String(""), Name: proto.String("foo"),
		Input: []string{"y"}, Output: []string{"z"},
		Attribute: []*onnxpb.AttributeProto{
			{Name: proto.String("then_branch"), Type: onnxpb.AttributeProto_GRAPH.Enum(), G: sub},
			{Name: proto.String("graphs"), Type: onnxpb.AttributeProto_GRAPHS.Enum(), Graphs: []*onnxpb.GraphProto{sub, sub}},
			{Name: proto.String("alpha"), Type: onnxpb.AttributeProto_FLOAT.Enum(), RefAttrName: proto.String("outer_alpha")},
			attrI("k", 7),
		}}
	return mp{opset: 13,
		nodes:   []*onnxpb.NodeProto{custom, foo, pnode("Relu", "relu", []string{"z"}, []string{"out"})},
		inputs:  []*onnxpb.ValueInfoProto{vinfo("x", f32, 3)},
		outputs: []*onnxpb.ValueInfoProto{vinfo("out", f32, 3)},
		infos:   []*onnxpb.ValueInfoProto{vinfo("y", f32, 3), vinfo("z", f32, 3)},
		imports: []*onnxpb.OperatorSetIdProto{{Domain: proto.String("com.example"), Version: proto.Int64(2)}},
	}
}

// TestOpaqueRoundTrip checks that opaque nodes re-encode to the same
// NodeProto bytes, and which attributes the IR sees as basic kinds.
func TestOpaqueRoundTrip(t *testing.T) {
	m := opaqueModel()
	g := m.decode(t)
	custom := findNode(g, "com.example.MyOp")
	if custom == nil || custom.Op != ir.OpOpaque || custom.Domain != "com.example" || custom.OpType != "MyOp" {
		t.Fatalf("custom node %+v", custom)
	}
	wantKinds := map[string]ir.AttrKind{"i": ir.AttrInt, "f": ir.AttrFloat, "s": ir.AttrString, "is": ir.AttrInts,
		"fs": ir.AttrFloats, "ss": ir.AttrStrings, "t": ir.AttrRaw, "plain_t": ir.AttrTensor, "g": ir.AttrRaw, "documented": ir.AttrRaw}
	for name, k := range wantKinds {
		if a := custom.Attr(name); a == nil || a.Kind != k {
			t.Errorf("attribute %q: %+v, want kind %v", name, a, k)
		}
	}
	if a := custom.Attr("i"); a.Int != -3 {
		t.Errorf("attribute i = %d, want -3", a.Int)
	}
	foo := findNode(g, "FooBar")
	if foo == nil || foo.Op != ir.OpOpaque || foo.Attr("alpha").Kind != ir.AttrRaw || foo.Attr("k").Kind != ir.AttrInt {
		t.Fatalf("FooBar node %+v", foo)
	}
	if relu := findNode(g, "Relu"); relu.Outputs[0].DType != ir.Float32 || !relu.Outputs[0].Shape.Equal(ir.Static(3)) {
		t.Errorf("Relu after opaque nodes: %v %v, want f32 [3]", relu.Outputs[0].DType, relu.Outputs[0].Shape)
	}

	b, err := Encode(g, WriteOptions{})
	if err != nil {
		t.Fatal(err)
	}
	back := new(onnxpb.ModelProto)
	if err := proto.Unmarshal(b, back); err != nil {
		t.Fatal(err)
	}
	orig := m.proto()
	for _, name := range []string{"custom", "foo"} {
		want := mustMarshalDet(t, protoNode(orig, name))
		got := mustMarshalDet(t, protoNode(back, name))
		if !bytes.Equal(got, want) {
			t.Errorf("node %q re-encoded differently:\n got %v\nwant %v", name, protoNode(back, name), protoNode(orig, name))
		}
	}
	found := false
	for _, o := range back.OpsetImport {
		found = found || (o.GetDomain() == "com.example" && o.GetVersion() == 2)
	}
	if !found {
		t.Errorf("opset imports %v lost com.example v2", back.OpsetImport)
	}
}

func mustMarshalDet(t *testing.T, m proto.Message) []byte {
	t.Helper()
	b, err := proto.MarshalOptions{Deterministic: true}.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// withUnknown returns msg re-decoded from its encoding followed by a
// varint field numbered field, so that it carries that unknown field.
func withUnknown[M proto.Message](t *testing.T, msg M, field protowire.Number, v uint64) M {
	t.Helper()
	b := mustMarshal(t, msg)
	b = protowire.AppendTag(b, field, protowire.VarintType)
	b = protowire.AppendVarint(b, v)
	out := msg.ProtoReflect().New().Interface().(M)
	if err := proto.Unmarshal(b, out); err != nil {
		t.Fatal(err)
	}
	return out
}

func unknownHas(msg proto.Message, field protowire.Number, v uint64) bool {
	b := msg.ProtoReflect().GetUnknown()
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return false
		}
		b = b[n:]
		if typ == protowire.VarintType {
			x, m := protowire.ConsumeVarint(b)
			if m < 0 {
				return false
			}
			if num == field && x == v {
				return true
			}
			b = b[m:]
			continue
		}
		m := protowire.ConsumeFieldValue(num, typ, b)
		if m < 0 {
			return false
		}
		b = b[m:]
	}
	return false
}

// TestUnknownFieldsSurvive appends fields from a hypothetical newer ONNX to
// every message kind the IR keeps, plus model functions and quantization
// annotations, and checks they come back after decode and encode.
func TestUnknownFieldsSurvive(t *testing.T) {
	m := mp{opset: 13,
		nodes:   []*onnxpb.NodeProto{withUnknown(t, pnode("Add", "add", []string{"x", "w"}, []string{"h"}), 901, 11), pnode("Relu", "relu", []string{"h"}, []string{"y"})},
		inputs:  []*onnxpb.ValueInfoProto{withUnknown(t, vinfo("x", f32, "N", 2), 902, 12)},
		outputs: []*onnxpb.ValueInfoProto{withUnknown(t, vinfo("y", f32, "N", 2), 903, 13)},
		infos:   []*onnxpb.ValueInfoProto{withUnknown(t, vinfo("h", f32, "N", 2), 904, 14)},
		inits:   []*onnxpb.TensorProto{withUnknown(t, f32Init("w", []int64{2}, 1, 2), 905, 15)},
	}
	mpb := m.proto()
	mpb.Graph.QuantizationAnnotation = []*onnxpb.TensorAnnotation{{TensorName: proto.String("h")}}
	mpb.Graph = withUnknown(t, mpb.Graph, 906, 16)
	mpb.Functions = []*onnxpb.FunctionProto{{Name: proto.String("F"), Domain: proto.String("com.f"), Input: []string{"a"}, Output: []string{"b"},
		Node: []*onnxpb.NodeProto{pnode("Relu", "fr", []string{"a"}, []string{"b"})}}}
	mpb.MetadataProps = []*onnxpb.StringStringEntryProto{{Key: proto.String("k"), Value: proto.String("v")}}
	mpb.DocString = proto.String("model doc")
	mpb = withUnknown(t, mpb, 907, 17)
	data := mustMarshal(t, mpb)

	g, err := Decode(data, ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if g.ModelDoc != "model doc" || len(g.Metadata) != 1 || g.Metadata[0] != (ir.MetaProp{Key: "k", Value: "v"}) || g.Producer != "onnxio-test" {
		t.Errorf("model metadata: doc %q metadata %v producer %q", g.ModelDoc, g.Metadata, g.Producer)
	}
	b, err := Encode(g, WriteOptions{})
	if err != nil {
		t.Fatal(err)
	}
	back := new(onnxpb.ModelProto)
	if err := proto.Unmarshal(b, back); err != nil {
		t.Fatal(err)
	}
	checks := []struct {
		what  string
		msg   proto.Message
		field protowire.Number
		v     uint64
	}{
		{"node", protoNode(back, "add"), 901, 11},
		{"input", back.Graph.Input[0], 902, 12},
		{"output", back.Graph.Output[0], 903, 13},
		{"value_info", back.Graph.ValueInfo[0], 904, 14},
		{"initializer", back.Graph.Initializer[0], 905, 15},
		{"graph", back.Graph, 906, 16},
		{"model", back, 907, 17},
	}
	for _, c := range checks {
		if !unknownHas(c.msg, c.field, c.v) {
			t.Errorf("%s lost unknown field %d", c.what, c.field)
		}
	}
	if len(back.Functions) != 1 || !proto.Equal(back.Functions[0], mpb.Functions[0]) {
		t.Errorf("functions %v, want %v", back.Functions, mpb.Functions)
	}
	if len(back.Graph.QuantizationAnnotation) != 1 || back.Graph.QuantizationAnnotation[0].GetTensorName() != "h" {
		t.Errorf("quantization annotations %v", back.Graph.QuantizationAnnotation)
	}
	// A second round trip gives the same bytes.
	g2, err := Decode(b, ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	b2, err := Encode(g2, WriteOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(b, b2) {
		t.Error("second round trip changed the bytes")
	}
}
