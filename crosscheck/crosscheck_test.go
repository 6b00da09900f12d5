package crosscheck

import (
	"bytes"
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/ferminets/fermi/internal/sharedmodels"
	"github.com/ferminets/fermi/ir"
)

func readFile(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// pythonNodes reads small.nodes: the NodeProtos as python-onnx serialized them.
func pythonNodes(t *testing.T) [][]byte {
	b := readFile(t, "small.nodes")
	var out [][]byte
	for len(b) >= 4 {
		n := binary.LittleEndian.Uint32(b)
		out = append(out, b[4:4+n])
		b = b[4+n:]
	}
	return out
}

func TestScan(t *testing.T) {
	m, err := Scan(readFile(t, "small.onnx"))
	if err != nil {
		t.Fatal(err)
	}
	if m.IRVersion != 8 {
		t.Errorf("IRVersion = %d, want 8", m.IRVersion)
	}
	if m.Opset("") != 13 || m.Opset("ai.onnx") != 13 || m.Opset("com.example") != 1 || m.Opset("x") != 0 {
		t.Errorf("Opsets = %+v, want default 13, com.example 1", m.Opsets)
	}
	var got [][3]string
	for _, n := range m.Nodes {
		got = append(got, [3]string{n.Name, n.Domain, n.OpType})
	}
	want := [][3]string{{"mm", "", "MatMul"}, {"add", "", "Add"}, {"frob", "com.example", "Frob"}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("nodes = %v, want %v", got, want)
	}
	if m.Nodes[2].IsDefaultDomain() || !m.Nodes[0].IsDefaultDomain() {
		t.Error("IsDefaultDomain wrong")
	}
	py := pythonNodes(t)
	if len(py) != len(m.Nodes) {
		t.Fatalf("%d python nodes, %d scanned", len(py), len(m.Nodes))
	}
	for i, n := range m.Nodes {
		if !bytes.Equal(n.Raw, py[i]) {
			t.Errorf("node %q: raw bytes differ from python's serialization", n.Name)
		}
	}
	if !reflect.DeepEqual(m.Initializers, []string{"W", "B", "K"}) || !reflect.DeepEqual(m.Inputs, []string{"x"}) || !reflect.DeepEqual(m.Outputs, []string{"z"}) {
		t.Errorf("initializers %v inputs %v outputs %v", m.Initializers, m.Inputs, m.Outputs)
	}
	if m.NonTensor != nil {
		t.Errorf("NonTensor = %v, want none", m.NonTensor)
	}
	seq, err := Scan(readFile(t, "seq.onnx"))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(seq.NonTensor, []string{"s"}) {
		t.Errorf("seq.onnx: NonTensor = %v, want [s]", seq.NonTensor)
	}
}

func TestScanErrors(t *testing.T) {
	small := readFile(t, "small.onnx")
	for name, b := range map[string][]byte{
		"truncated": small[:len(small)-3],
		"no graph":  {0x08, 0x08}, // ir_version 8 only
		"bad tag":   {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff},
	} {
		if _, err := Scan(b); err == nil || !strings.HasPrefix(err.Error(), "crosscheck: ") {
			t.Errorf("%s: err = %v, want a crosscheck error", name, err)
		}
	}
}

func TestCheck(t *testing.T) {
	RequireChecker(t)
	tests := []struct {
		file    string
		wantErr string
	}{
		{"valid.onnx", ""},
		{"small.onnx", ""}, // the checker skips domains it has no schemas for
		{"unknown_op.onnx", "Frobnicate"},
		{"bad_attr.onnx", "frobnication"},
		{"opset99.onnx", "imports opset 99"},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			err := Check(readFile(t, tt.file))
			if tt.wantErr == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("err = %v, want containing %q", err, tt.wantErr)
			}
		})
	}
	if err := CheckFile(filepath.Join("testdata", "opset99.onnx")); !errors.Is(err, ErrOpsetTooNew) {
		t.Errorf("opset99: err = %v, want ErrOpsetTooNew", err)
	}
	if err := CheckFile(filepath.Join(t.TempDir(), "missing.onnx")); err == nil {
		t.Error("missing file: no error")
	}
}

// smallGraph is small.onnx written out by hand as IR.
func smallGraph() *ir.Graph {
	x := &ir.Value{Name: "x", DType: ir.Float32, Shape: ir.Shape{ir.Sym("N"), ir.D(4)}}
	w := &ir.Value{Name: "W", DType: ir.Float32, Shape: ir.Static(4, 2),
		Const: ir.NewFloat32([]int64{4, 2}, []float32{-3.5, -2.5, -1.5, -0.5, 0.5, 1.5, 2.5, 3.5})}
	b := &ir.Value{Name: "B", DType: ir.Float32, Shape: ir.Static(2), Const: ir.NewFloat32([]int64{2}, []float32{0.25, -1})}
	k := &ir.Value{Name: "K", DType: ir.Int64, Shape: ir.Static(2), Const: ir.NewInt64([]int64{2}, []int64{7, -2})}
	h := &ir.Value{Name: "h"}
	y := &ir.Value{Name: "y"}
	z := &ir.Value{Name: "z"}
	return &ir.Graph{
		Inputs:  []*ir.Value{x},
		Params:  []*ir.Value{w, b, k},
		Outputs: []*ir.Value{z},
		Nodes: []*ir.Node{
			{Name: "mm", Op: ir.OpMatMul, Inputs: []*ir.Value{x, w}, Outputs: []*ir.Value{h}},
			{Name: "add", Op: ir.OpAdd, Inputs: []*ir.Value{h, b}, Outputs: []*ir.Value{y}},
			{Name: "frob", Op: ir.OpOpaque, Domain: "com.example", OpType: "Frob", Inputs: []*ir.Value{y}, Outputs: []*ir.Value{z}},
		},
	}
}

func TestDecodeGo(t *testing.T) {
	m, err := DecodeGo(readFile(t, "small.onnx"))
	if err != nil {
		t.Fatal(err)
	}
	if m.Nodes != 3 || !reflect.DeepEqual(m.OpTypes, map[string]int{"MatMul": 1, "Add": 1, "Frob": 1}) || m.Inputs != 1 || m.Outputs != 1 {
		t.Errorf("DecodeGo = %+v", m)
	}
	if err := CompareGo(smallGraph(), m); err != nil {
		t.Error(err)
	}
	tests := []struct {
		name   string
		damage func(g *ir.Graph)
		want   string
	}{
		{"value", func(g *ir.Graph) { g.Params[0].Const.F32[5] = 9 }, `parameter "W": values differ`},
		{"int value", func(g *ir.Graph) { g.Params[2].Const.I64[0] = 8 }, `parameter "K": values differ`},
		{"shape", func(g *ir.Graph) { g.Params[0].Const.Dims = []int64{2, 4} }, `parameter "W": shape [2 4], onnx-go [4 2]`},
		{"missing param", func(g *ir.Graph) { g.Params[1].Name = "B2" }, `parameter "B2" missing`},
		{"node count", func(g *ir.Graph) { g.Nodes = g.Nodes[:2] }, "2 nodes, onnx-go 3"},
		{"op type", func(g *ir.Graph) { g.Nodes[1].Op = ir.OpSub }, "op types {Frob×1 MatMul×1 Sub×1}, onnx-go {Add×1 Frob×1 MatMul×1}"},
		{"outputs", func(g *ir.Graph) { g.Outputs = append(g.Outputs, g.Outputs[0]) }, "2 outputs, onnx-go 1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := smallGraph()
			tt.damage(g)
			if err := CompareGo(g, m); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want containing %q", err, tt.want)
			}
		})
	}
	if _, err := DecodeGo([]byte("garbage")); err == nil {
		t.Error("garbage: no error")
	}
}

// TestDecodeGoSharedModels checks that onnx-go and Scan agree on the real
// models, two decoders that share no code.
func TestDecodeGoSharedModels(t *testing.T) {
	paths, _ := filepath.Glob(filepath.Join(sharedmodels.Require(t), "*.onnx"))
	if len(paths) == 0 {
		t.Skip("no shared models")
	}
	for _, p := range paths {
		t.Run(filepath.Base(p), func(t *testing.T) {
			b, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			s, err := Scan(b)
			if err != nil {
				t.Fatal(err)
			}
			g, err := DecodeGo(b)
			if err != nil {
				t.Fatal(err)
			}
			ops := map[string]int{}
			for _, n := range s.Nodes {
				ops[n.OpType]++
			}
			if g.Nodes != len(s.Nodes) || !reflect.DeepEqual(g.OpTypes, ops) {
				t.Errorf("onnx-go %d nodes %v, Scan %d %v", g.Nodes, g.OpTypes, len(s.Nodes), ops)
			}
			for _, name := range s.Initializers {
				if _, ok := g.Tensors[name]; !ok {
					t.Errorf("initializer %q has no onnx-go tensor", name)
				}
			}
		})
	}
}
