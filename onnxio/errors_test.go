package onnxio

import (
	"errors"
	"strings"
	"testing"

	"github.com/ferminets/fermi/onnxio/onnxpb"
	"google.golang.org/protobuf/proto"
)

func TestDecodeErrors(t *testing.T) {
	relu := func(in string) []*onnxpb.NodeProto {
		return []*onnxpb.NodeProto{pnode("Relu", "r", []string{in}, []string{"y"})}
	}
	x := []*onnxpb.ValueInfoProto{vinfo("x", f32, 2)}
	y := []*onnxpb.ValueInfoProto{vinfo("y", f32, 2)}
	model := func(m mp) []byte { return mustMarshal(t, m.proto()) }
	noGraph := mustMarshal(t, &onnxpb.ModelProto{IrVersion: proto.Int64(7)})
	seq := &onnxpb.ValueInfoProto{Name: proto.String("s"), Type: &onnxpb.TypeProto{Value: &onnxpb.TypeProto_SequenceType{
		SequenceType: &onnxpb.TypeProto_Sequence{ElemType: &onnxpb.TypeProto{}}}}}
	tests := []struct {
		name  string
		data  []byte
		opts  ReadOptions
		want  string
		opset int64 // want an *OpsetError with this opset
	}{
		{"empty", nil, ReadOptions{}, "onnxio: empty file", 0},
		{"garbage", []byte("\xff\xff\xff\xff"), ReadOptions{}, "onnxio: not an ONNX model", 0},
		{"no-graph", noGraph, ReadOptions{}, "onnxio: model has no graph", 0},
		{"opset-99", model(mp{opset: 99, nodes: relu("x"), inputs: x, outputs: y}), ReadOptions{}, "onnxio: opset 99 not supported (max 21)", 99},
		{"opset-22", model(mp{opset: 22, nodes: relu("x"), inputs: x, outputs: y}), ReadOptions{}, "onnxio: opset 22 not supported (max 21)", 22},
		{"opset-6", model(mp{opset: 6, nodes: relu("x"), inputs: x, outputs: y}), ReadOptions{}, "onnxio: opset 6 not supported (min 7)", 6},
		{"too-big", model(mp{opset: 13, nodes: relu("x"), inputs: x, outputs: y}), ReadOptions{MaxBytes: 10}, "more than the limit of 10", 0},
		{"undefined-input", model(mp{opset: 13, nodes: relu("nope"), inputs: x, outputs: y}), ReadOptions{},
			`onnxio: node "r" (Relu): input "nope" is not defined`, 0},
		{"undefined-output", model(mp{opset: 13, nodes: relu("x"), inputs: x, outputs: []*onnxpb.ValueInfoProto{vinfo("q", f32, 2)}}), ReadOptions{},
			`onnxio: graph output "q" is not defined`, 0},
		{"defined-twice", model(mp{opset: 13, nodes: append(relu("x"), pnode("Relu", "r2", []string{"x"}, []string{"y"})), inputs: x, outputs: y}), ReadOptions{},
			`onnxio: node "r2" (Relu): output "y" is already defined`, 0},
		{"sequence", model(mp{opset: 13, nodes: relu("x"), inputs: append(x, seq), outputs: y}), ReadOptions{},
			`onnxio: value "s" has unsupported type sequence`, 0},
		{"raw-too-short", model(mp{opset: 13, nodes: []*onnxpb.NodeProto{pnode("Add", "a", []string{"x", "w"}, []string{"y"})}, inputs: x, outputs: y,
			inits: []*onnxpb.TensorProto{{Name: proto.String("w"), DataType: proto.Int32(1), Dims: []int64{2}, RawData: []byte{1, 2, 3}}}}), ReadOptions{},
			`onnxio: tensor "w": raw_data has 3 bytes, want 8`, 0},
		{"negative-dim", model(mp{opset: 13, nodes: relu("x"), inputs: x, outputs: y,
			inits: []*onnxpb.TensorProto{{Name: proto.String("w"), DataType: proto.Int32(1), Dims: []int64{-2}}}}), ReadOptions{},
			`onnxio: tensor "w": dim 0 is negative (-2)`, 0},
		{"cycle", model(mp{opset: 13, nodes: []*onnxpb.NodeProto{pnode("Add", "a", []string{"x", "q"}, []string{"p"}), pnode("Relu", "b", []string{"p"}, []string{"q"}),
			pnode("Relu", "r", []string{"q"}, []string{"y"})}, inputs: x, outputs: y}), ReadOptions{}, "cycle through nodes", 0},
		{"conv-weight-rank", model(mp{opset: 13, nodes: []*onnxpb.NodeProto{pnode("Conv", "conv3", []string{"x4", "w"}, []string{"y"})},
			inputs: []*onnxpb.ValueInfoProto{vinfo("x4", f32, 1, 2, 5, 5)}, outputs: []*onnxpb.ValueInfoProto{vinfoNoShape("y", f32)},
			inits: []*onnxpb.TensorProto{f32Init("w", []int64{3, 2, 3}, make([]float32, 18)...)}}), ReadOptions{}, `node "conv3" (Conv)`, 0},
		{"no-default-import", mustMarshal(t, &onnxpb.ModelProto{IrVersion: proto.Int64(7), Graph: mp{nodes: relu("x"), inputs: x, outputs: y}.proto().Graph}), ReadOptions{},
			`onnxio: node "r" (Relu): the model does not import the default ONNX domain`, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			g, err := Decode(tc.data, tc.opts)
			if err == nil {
				t.Fatalf("Decode succeeded with %d nodes", len(g.Nodes))
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q, want it to contain %q", err, tc.want)
			}
			if !strings.HasPrefix(err.Error(), "onnxio: ") && !strings.HasPrefix(err.Error(), "ir: ") {
				t.Errorf("error %q lacks a package prefix", err)
			}
			var oe *OpsetError
			if got := errors.As(err, &oe); got != (tc.opset != 0) || (got && oe.Opset != tc.opset) {
				t.Errorf("error %#v: *OpsetError %v, want opset %d", err, got, tc.opset)
			}
		})
	}
}

// TestDecodeReportsEveryProblem checks that independent problems are all
// reported, not just the first.
func TestDecodeReportsEveryProblem(t *testing.T) {
	m := mp{opset: 13,
		nodes:   []*onnxpb.NodeProto{pnode("Relu", "r1", []string{"a"}, []string{"y"}), pnode("Relu", "r2", []string{"b"}, []string{"z"})},
		inputs:  []*onnxpb.ValueInfoProto{vinfo("x", f32, 2)},
		outputs: []*onnxpb.ValueInfoProto{vinfo("y", f32, 2), vinfo("z", f32, 2)}}
	_, err := Decode(m.bytes(t), ReadOptions{})
	if err == nil || !strings.Contains(err.Error(), `"r1"`) || !strings.Contains(err.Error(), `"r2"`) {
		t.Errorf("error %v, want both r1 and r2 named", err)
	}
}
