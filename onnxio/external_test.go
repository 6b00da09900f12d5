package onnxio

import (
	"encoding/binary"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ferminets/fermi/ir"
	"github.com/ferminets/fermi/onnxio/onnxpb"
	"google.golang.org/protobuf/proto"
)

// TestWriteFileExternalData writes a model with an external data file and
// reads it back.
func TestWriteFileExternalData(t *testing.T) {
	w := make([]float32, 1000)
	for i := range w {
		w[i] = float32(i) / 7
	}
	b := ir.NewBuilder("ext")
	x := b.Input("x", ir.Float32, ir.Shape{ir.Sym("N"), ir.D(1000)})
	p := b.Param("w", ir.NewFloat32([]int64{1000}, w))
	small := b.Param("k", ir.NewInt64([]int64{2}, []int64{1, 1000}))
	y := b.Node(ir.OpAdd, "add", []*ir.Value{x, p})
	b.Output(b.Node(ir.OpReshape, "rs", []*ir.Value{y, small}))
	g, err := b.Build()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for _, tc := range []struct {
		name     string
		opts     WriteOptions
		external bool
	}{
		{"inline", WriteOptions{}, false},
		{"external", WriteOptions{ExternalData: true, ExternalThreshold: 100}, true},
		{"external-default-threshold", WriteOptions{ExternalData: true}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(dir, tc.name+".onnx")
			if err := WriteFile(g, path, tc.opts); err != nil {
				t.Fatal(err)
			}
			st, err := os.Stat(path + ".data")
			if (err == nil) != tc.external {
				t.Fatalf("data file exists: %v, want %v", err == nil, tc.external)
			}
			if tc.external && st.Size() != 4000 {
				t.Errorf("data file has %d bytes, want 4000 (only w is over the threshold)", st.Size())
			}
			mst, _ := os.Stat(path)
			if tc.external && mst.Size() > 1500 {
				t.Errorf("model file has %d bytes; the weights should be external", mst.Size())
			}
			g2, err := ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if err := ir.Equal(g, g2); err != nil {
				t.Error(err)
			}
			leftovers, _ := filepath.Glob(filepath.Join(dir, ".*tmp*"))
			if len(leftovers) > 0 {
				t.Errorf("temporary files left: %v", leftovers)
			}
		})
	}
}

// externalModel is a model whose initializer w (f32[4]) lives in an
// external file described by kv.
func externalModel(t *testing.T, kv map[string]string) []byte {
	t.Helper()
	w := &onnxpb.TensorProto{Name: proto.String("w"), DataType: proto.Int32(1), Dims: []int64{4}, DataLocation: onnxpb.TensorProto_EXTERNAL.Enum()}
	for _, k := range []string{"location", "offset", "length"} {
		if v, ok := kv[k]; ok {
			w.ExternalData = append(w.ExternalData, &onnxpb.StringStringEntryProto{Key: proto.String(k), Value: proto.String(v)})
		}
	}
	m := mp{opset: 13, nodes: []*onnxpb.NodeProto{pnode("Add", "a", []string{"x", "w"}, []string{"y"})},
		inputs: []*onnxpb.ValueInfoProto{vinfo("x", f32, 4)}, outputs: []*onnxpb.ValueInfoProto{vinfo("y", f32, 4)},
		inits: []*onnxpb.TensorProto{w}}
	return m.bytes(t)
}

func TestReadExternalData(t *testing.T) {
	root := t.TempDir()
	dir := filepath.Join(root, "model")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	var data []byte
	data = append(data, 9, 9, 9) // 3 bytes of padding before the tensor
	for _, v := range []float32{1, 2, 3, 4} {
		data = binary.LittleEndian.AppendUint32(data, math.Float32bits(v))
	}
	write := func(path string, b []byte) {
		if err := os.WriteFile(path, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(filepath.Join(dir, "w.bin"), data)
	write(filepath.Join(root, "outside.bin"), data)
	if err := os.Symlink(filepath.Join(root, "outside.bin"), filepath.Join(dir, "link.bin")); err != nil {
		t.Fatal(err)
	}
	ok := map[string]string{"location": "w.bin", "offset": "3", "length": "16"}
	tests := []struct {
		name string
		kv   map[string]string
		opts ReadOptions
		want string // "" for success
	}{
		{"ok", ok, ReadOptions{BaseDir: dir}, ""},
		{"ok-no-length", map[string]string{"location": "w.bin", "offset": "3"}, ReadOptions{BaseDir: dir}, ""},
		{"no-base-dir", ok, ReadOptions{}, "needs a base directory"},
		{"parent", map[string]string{"location": "../outside.bin", "offset": "3"}, ReadOptions{BaseDir: dir}, "escapes the model's directory"},
		{"absolute", map[string]string{"location": filepath.Join(root, "outside.bin"), "offset": "3"}, ReadOptions{BaseDir: dir}, "escapes the model's directory"},
		{"symlink-out", map[string]string{"location": "link.bin", "offset": "3"}, ReadOptions{BaseDir: dir}, "escapes the model's directory"},
		{"wrong-length", map[string]string{"location": "w.bin", "length": "8"}, ReadOptions{BaseDir: dir}, "external data length 8, want 16 bytes"},
		{"short-file", map[string]string{"location": "w.bin", "offset": "8"}, ReadOptions{BaseDir: dir}, `external data "w.bin" has 19 bytes, want 16 at offset 8`},
		{"bad-offset", map[string]string{"location": "w.bin", "offset": "-1"}, ReadOptions{BaseDir: dir}, "not a non-negative integer"},
		{"missing-file", map[string]string{"location": "nope.bin"}, ReadOptions{BaseDir: dir}, "external data"},
		{"no-location", map[string]string{"offset": "0"}, ReadOptions{BaseDir: dir}, "external data has no location"},
	}
	model := externalModel(t, ok)
	tests = append(tests,
		struct {
			name string
			kv   map[string]string
			opts ReadOptions
			want string
		}{"over-limit", ok, ReadOptions{BaseDir: dir, MaxBytes: int64(len(model)) + 8}, "exceeds the size limit"},
		struct {
			name string
			kv   map[string]string
			opts ReadOptions
			want string
		}{"at-limit", ok, ReadOptions{BaseDir: dir, MaxBytes: int64(len(model)) + 16}, ""})
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			g, err := Decode(externalModel(t, tc.kv), tc.opts)
			if tc.want != "" {
				if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), `onnxio: tensor "w": `) {
					t.Fatalf("error %v, want `onnxio: tensor \"w\": ...%s`", err, tc.want)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := g.Param("w").Const.F32; len(got) != 4 || got[0] != 1 || got[3] != 4 {
				t.Errorf("w = %v, want [1 2 3 4]", got)
			}
		})
	}
	// A Constant whose value tensor is external data is loaded too.
	kt := &onnxpb.TensorProto{DataType: proto.Int32(1), Dims: []int64{4}, DataLocation: onnxpb.TensorProto_EXTERNAL.Enum(),
		ExternalData: []*onnxpb.StringStringEntryProto{{Key: proto.String("location"), Value: proto.String("w.bin")},
			{Key: proto.String("offset"), Value: proto.String("3")}}}
	km := mp{opset: 13, nodes: []*onnxpb.NodeProto{pnode("Constant", "k", nil, []string{"y"},
		&onnxpb.AttributeProto{Name: proto.String("value"), Type: onnxpb.AttributeProto_TENSOR.Enum(), T: kt})},
		outputs: []*onnxpb.ValueInfoProto{vinfo("y", f32, 4)}}
	g, err := Decode(km.bytes(t), ReadOptions{BaseDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if n := g.Nodes[0]; n.Op != ir.OpConstant || n.Attr("value").Tensor.F32[3] != 4 {
		t.Errorf("Constant %+v, want value [1 2 3 4]", n)
	}
	// The model file itself: ReadFile sets BaseDir.
	path := filepath.Join(dir, "m.onnx")
	write(path, model)
	if _, err := ReadFile(path); err != nil {
		t.Errorf("ReadFile: %v", err)
	}
}
