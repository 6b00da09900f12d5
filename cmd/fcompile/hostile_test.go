package main

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/ferminets/fermi/onnxio/onnxpb"
)

// Limits every hostile input must stay within. The time limit catches hangs
// and blow-ups (a hostile input that loops or expands a dimension), not
// slowness: it is far above the ~0.1 s a case takes, so a loaded 2-core
// CI machine running other packages' tests at once never trips it.
const (
	hostileMaxTime  = 30 * time.Second
	hostileMaxAlloc = 500 << 20 // bytes allocated in total by one run
)

// hostileCase is one corrupt or malicious input: files written into a fresh
// directory, the command line (DIR stands for that directory), and the
// substring the error must contain.
type hostileCase struct {
	name  string
	files map[string][]byte
	args  []string
	want  string
	code  int  // expected exit status; 0 means 1
	ok    bool // valid but built to be slow: must succeed within the limits
}

// ---- ONNX models built field by field ----

func tensorType(dt int32, dims ...int64) *onnxpb.TypeProto {
	shape := &onnxpb.TensorShapeProto{}
	for _, d := range dims {
		shape.Dim = append(shape.Dim, &onnxpb.TensorShapeProto_Dimension{
			Value: &onnxpb.TensorShapeProto_Dimension_DimValue{DimValue: d}})
	}
	return &onnxpb.TypeProto{Value: &onnxpb.TypeProto_TensorType{
		TensorType: &onnxpb.TypeProto_Tensor{ElemType: proto.Int32(dt), Shape: shape}}}
}

func valueInfo(name string, dt int32, dims ...int64) *onnxpb.ValueInfoProto {
	return &onnxpb.ValueInfoProto{Name: proto.String(name), Type: tensorType(dt, dims...)}
}

func node(op, name string, inputs, outputs []string, attrs ...*onnxpb.AttributeProto) *onnxpb.NodeProto {
	return &onnxpb.NodeProto{OpType: proto.String(op), Name: proto.String(name), Input: inputs, Output: outputs, Attribute: attrs}
}

func intsAttr(name string, v []int64) *onnxpb.AttributeProto {
	return &onnxpb.AttributeProto{Name: proto.String(name), Type: onnxpb.AttributeProto_INTS.Enum(), Ints: v}
}

// f32 and i64 are ONNX element types.
const (
	f32 = int32(onnxpb.TensorProto_FLOAT)
	i64 = int32(onnxpb.TensorProto_INT64)
)

// reluModel is a valid model, x f32[1,4] → Relu → y, at opset 13, changed by
// edit before encoding.
func reluModel(edit func(m *onnxpb.ModelProto)) []byte {
	m := &onnxpb.ModelProto{
		IrVersion:   proto.Int64(8),
		OpsetImport: []*onnxpb.OperatorSetIdProto{{Domain: proto.String(""), Version: proto.Int64(13)}},
		Graph: &onnxpb.GraphProto{
			Name:   proto.String("g"),
			Node:   []*onnxpb.NodeProto{node("Relu", "relu", []string{"x"}, []string{"y"})},
			Input:  []*onnxpb.ValueInfoProto{valueInfo("x", f32, 1, 4)},
			Output: []*onnxpb.ValueInfoProto{valueInfo("y", f32, 1, 4)},
		},
	}
	if edit != nil {
		edit(m)
	}
	b, err := proto.Marshal(m)
	if err != nil {
		panic(err)
	}
	return b
}

// withParam adds an initializer w and makes the node y = Add(x, w).
func withParam(t *onnxpb.TensorProto) func(m *onnxpb.ModelProto) {
	return func(m *onnxpb.ModelProto) {
		t.Name = proto.String("w")
		m.Graph.Initializer = append(m.Graph.Initializer, t)
		m.Graph.Node = []*onnxpb.NodeProto{node("Add", "add", []string{"x", "w"}, []string{"y"})}
	}
}

// external returns an initializer w of f32[1,4] whose data lives in file loc.
func external(loc string) *onnxpb.TensorProto {
	return &onnxpb.TensorProto{Dims: []int64{1, 4}, DataType: proto.Int32(f32),
		DataLocation: onnxpb.TensorProto_EXTERNAL.Enum(),
		ExternalData: []*onnxpb.StringStringEntryProto{{Key: proto.String("location"), Value: proto.String(loc)}}}
}

// deepNesting encodes depth levels of then_branch graphs directly as bytes
// (GraphProto.node = 1, NodeProto.op_type = 4, NodeProto.attribute = 5,
// AttributeProto.g = 6). Every level's fields precede the level inside it,
// so the headers are computed from the inside out and written in reverse:
// linear time, no recursion.
func deepNesting(depth int) []byte {
	var headers [][]byte
	size := 0 // encoded size of the graph at the current level
	// AttributeProto.name = "then_branch", .type (field 20) = GRAPH (5).
	attrHead := append([]byte{1<<3 | 2, 11}, "then_branch"...)
	attrHead = append(binary.AppendUvarint(attrHead, 20<<3), 5)
	for i := 0; i < depth; i++ {
		attr := len(attrHead) + 1 + uvarintLen(size) + size
		nodeLen := 4 + 1 + uvarintLen(attr) + attr
		h := binary.AppendUvarint([]byte{1<<3 | 2}, uint64(nodeLen))
		h = append(h, 4<<3|2, 2, 'I', 'f', 5<<3|2)
		h = binary.AppendUvarint(h, uint64(attr))
		h = append(h, attrHead...)
		h = binary.AppendUvarint(append(h, 6<<3|2), uint64(size))
		headers = append(headers, h)
		size = 1 + uvarintLen(nodeLen) + nodeLen
	}
	out := reluModel(nil) // a second ModelProto.graph field merges into the first
	out = binary.AppendUvarint(append(out, 7<<3|2), uint64(size))
	for i := len(headers) - 1; i >= 0; i-- {
		out = append(out, headers[i]...)
	}
	return out
}

func uvarintLen(n int) int { return len(binary.AppendUvarint(nil, uint64(n))) }

// addChain returns a model whose Reshape takes its shape from levels of
// s = s · s, a graph that makes naive constant evaluation exponential.
func addChain(levels int) []byte {
	return reluModel(func(m *onnxpb.ModelProto) {
		m.Graph.Initializer = []*onnxpb.TensorProto{{Name: proto.String("s0"), Dims: []int64{2}, DataType: proto.Int32(i64), Int64Data: []int64{1, 4}}}
		var nodes []*onnxpb.NodeProto
		prev := "s0"
		for i := 1; i <= levels; i++ {
			cur := fmt.Sprintf("s%d", i)
			nodes = append(nodes, node("Mul", cur, []string{prev, prev}, []string{cur}))
			prev = cur
		}
		nodes = append(nodes, node("Reshape", "reshape", []string{"x", prev}, []string{"y"}))
		m.Graph.Node = nodes
	})
}

// recipeBomb is a .fir file of n lines, each asking for a 16M-element
// seeded tensor: a few hundred bytes demanding n·64 MB.
func recipeBomb(n int) string {
	var b strings.Builder
	b.WriteString("graph @g(%x: f32[4096,4096]) {\n")
	prev := "%x"
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, "  %%w%d = param f32[4096,4096] normal(seed=%d, mean=0, std=1)\n", i, i)
		fmt.Fprintf(&b, "  %%a%d = Add(%s, %%w%d) : f32[4096,4096]\n", i, prev, i)
		prev = fmt.Sprintf("%%a%d", i)
	}
	fmt.Fprintf(&b, "  return %s\n}\n", prev)
	return b.String()
}

func tensorBytes(t *onnxpb.TensorProto) []byte {
	b, err := proto.Marshal(t)
	if err != nil {
		panic(err)
	}
	return b
}

// unnamedChain is a valid chain of n Relu nodes without names: the importer
// names them Relu, Relu_1, ..., which must not cost O(n²).
func unnamedChain(n int) []byte {
	return reluModel(func(m *onnxpb.ModelProto) {
		m.Graph.Node = nil
		prev := "x"
		for i := 0; i < n; i++ {
			out := fmt.Sprintf("v%d", i)
			if i == n-1 {
				out = "y"
			}
			m.Graph.Node = append(m.Graph.Node, &onnxpb.NodeProto{OpType: proto.String("Relu"), Input: []string{prev}, Output: []string{out}})
			prev = out
		}
	})
}

// ---- IDX files ----

func idxFile(magic uint32, dims []uint32, data []byte) []byte {
	b := binary.BigEndian.AppendUint32(nil, magic)
	for _, d := range dims {
		b = binary.BigEndian.AppendUint32(b, d)
	}
	return append(b, data...)
}

// idxDir is a directory of IDX files: a valid training split and a test
// split of the given image and label files, beside the tiny-cnn model.
func idxDir(images, labels []byte) map[string][]byte {
	trainImages := idxFile(0x803, []uint32{2, 28, 28}, make([]byte, 2*28*28))
	trainLabels := idxFile(0x801, []uint32{2}, []byte{1, 2})
	return map[string][]byte{
		"model.fir":                 tinyCNNSource(),
		"d/train-images-idx3-ubyte": trainImages,
		"d/train-labels-idx1-ubyte": trainLabels,
		"d/t10k-images-idx3-ubyte":  images,
		"d/t10k-labels-idx1-ubyte":  labels,
	}
}

func tinyCNNSource() []byte {
	b, err := os.ReadFile(tinyCNN)
	if err != nil {
		panic(err)
	}
	return b
}

func hostileCases() []hostileCase {
	model := reluModel(nil)
	flipped := bytes.Clone(model)
	flipped[0] ^= 0x07 // the first tag's wire type becomes an invalid one
	images := idxFile(0x803, []uint32{2, 28, 28}, make([]byte, 2*28*28))
	labels := idxFile(0x801, []uint32{2}, []byte{1, 2})
	eval := []string{"eval", "DIR/model.fir", "--dataset", "DIR/d"}
	onnx := func(name string, data []byte, want string) hostileCase {
		return hostileCase{name: name, files: map[string][]byte{"m.onnx": data}, args: []string{"DIR/m.onnx"}, want: want}
	}
	fir := func(name, src, want string) hostileCase {
		return hostileCase{name: name, files: map[string][]byte{"m.fir": []byte(src)}, args: []string{"DIR/m.fir"}, want: want}
	}
	return []hostileCase{
		// The container.
		onnx("empty file", nil, "m.onnx: onnxio: empty file"),
		onnx("not protobuf", []byte("hello, world\n"), "onnxio: not an ONNX model"),
		onnx("truncated", model[:len(model)/2], "onnxio: not an ONNX model"),
		onnx("bit flip", flipped, "onnxio: not an ONNX model"),
		onnx("no graph", reluModel(func(m *onnxpb.ModelProto) { m.Graph = nil }), "onnxio: model has no graph"),
		onnx("opset 99", reluModel(func(m *onnxpb.ModelProto) { m.OpsetImport[0].Version = proto.Int64(99) }),
			"onnxio: opset 99 not supported (max"),
		onnx("opset 0", reluModel(func(m *onnxpb.ModelProto) { m.OpsetImport[0].Version = proto.Int64(0) }),
			"onnxio: opset 0 not supported (min"),
		onnx("no default opset", reluModel(func(m *onnxpb.ModelProto) { m.OpsetImport = nil }),
			`node "relu" (Relu): the model does not import the default ONNX domain`),
		onnx("deep nesting", deepNesting(200000), "exceeded maximum recursion depth"),
		{name: "nesting within protobuf's limit (valid)", files: map[string][]byte{"m.onnx": deepNesting(3000)}, args: []string{"DIR/m.onnx"}, ok: true},
		// Tensors.
		onnx("dims 2^40", reluModel(withParam(&onnxpb.TensorProto{Dims: []int64{1 << 20, 1 << 20}, DataType: proto.Int32(f32), RawData: make([]byte, 16)})),
			`tensor "w": raw_data has 16 bytes, want 4398046511104`),
		onnx("dims overflow", reluModel(withParam(&onnxpb.TensorProto{Dims: []int64{1 << 40, 1 << 40, 1 << 40}, DataType: proto.Int32(f32)})),
			`tensor "w": dims [1099511627776 1099511627776 1099511627776] hold too many elements`),
		onnx("negative dim", reluModel(withParam(&onnxpb.TensorProto{Dims: []int64{4, -1}, DataType: proto.Int32(f32)})),
			`tensor "w": dim 1 is negative (-1)`),
		onnx("initializer shorter than dims", reluModel(withParam(&onnxpb.TensorProto{Dims: []int64{1, 4}, DataType: proto.Int32(f32), FloatData: []float32{1, 2, 3}})),
			`tensor "w": has 3 data elements, want 4`),
		onnx("unknown tensor dtype", reluModel(withParam(&onnxpb.TensorProto{Dims: []int64{1}, DataType: proto.Int32(99)})),
			`tensor "w": unsupported data type 99`),
		onnx("string raw data", reluModel(withParam(&onnxpb.TensorProto{Dims: []int64{1}, DataType: proto.Int32(int32(onnxpb.TensorProto_STRING)), RawData: []byte("abc")})),
			`tensor "w": string tensor with raw_data`),
		onnx("sparse initializer", reluModel(func(m *onnxpb.ModelProto) {
			m.Graph.SparseInitializer = []*onnxpb.SparseTensorProto{{Values: &onnxpb.TensorProto{Name: proto.String("sp")}}}
		}), `onnxio: sparse initializer "sp" not supported`),
		{name: "external data outside the directory", files: map[string][]byte{
			"m/m.onnx": reluModel(withParam(external("../secret.bin"))), "secret.bin": make([]byte, 16)},
			args: []string{"DIR/m/m.onnx"}, want: `tensor "w": external data location "../secret.bin" escapes the model's directory`},
		onnx("external data absolute path", reluModel(withParam(external("/etc/passwd"))),
			`external data location "/etc/passwd" escapes the model's directory`),
		onnx("external data missing", reluModel(withParam(external("absent.bin"))), `tensor "w": external data: `),
		{name: "external data too short", files: map[string][]byte{
			"m.onnx": reluModel(withParam(external("w.bin"))), "w.bin": make([]byte, 8)},
			args: []string{"DIR/m.onnx"}, want: `external data "w.bin" has 8 bytes, want 16 at offset 0`},
		// Values and graphs.
		onnx("input dims 2^40", reluModel(func(m *onnxpb.ModelProto) {
			m.Graph.Input[0] = valueInfo("x", f32, 1<<40, 1<<40)
			m.Graph.Output[0] = valueInfo("y", f32)
		}), `m.onnx: ir: value "x": shape [1099511627776,1099511627776] holds more than 2^48 elements`),
		onnx("absurd rank", reluModel(func(m *onnxpb.ModelProto) {
			m.Graph.Input[0] = valueInfo("x", f32, make([]int64, 100)...)
		}), "rank 100 exceeds 64"),
		onnx("unknown element type", reluModel(func(m *onnxpb.ModelProto) { m.Graph.Input[0] = valueInfo("x", 99, 1, 4) }),
			`value "x" has unsupported element type 99`),
		onnx("sequence input", reluModel(func(m *onnxpb.ModelProto) {
			m.Graph.Input[0].Type = &onnxpb.TypeProto{Value: &onnxpb.TypeProto_SequenceType{SequenceType: &onnxpb.TypeProto_Sequence{}}}
		}), `value "x" has unsupported type sequence`),
		onnx("cyclic graph", reluModel(func(m *onnxpb.ModelProto) {
			m.Graph.Node = []*onnxpb.NodeProto{
				node("Add", "a", []string{"x", "c"}, []string{"b"}),
				node("Relu", "r", []string{"b"}, []string{"c"}),
				node("Identity", "id", []string{"c"}, []string{"y"}),
			}
		}), "cycle through nodes"),
		onnx("long cycle", reluModel(func(m *onnxpb.ModelProto) {
			const n = 20000
			m.Graph.Node = []*onnxpb.NodeProto{node("Add", "a", []string{"x", fmt.Sprintf("c%d", n-1)}, []string{"c0"})}
			for i := 1; i < n; i++ {
				m.Graph.Node = append(m.Graph.Node, node("Relu", fmt.Sprintf("r%d", i), []string{fmt.Sprintf("c%d", i-1)}, []string{fmt.Sprintf("c%d", i)}))
			}
			m.Graph.Node = append(m.Graph.Node, node("Identity", "id", []string{"c0"}, []string{"y"}))
		}), "cycle through nodes"),
		onnx("dangling input", reluModel(func(m *onnxpb.ModelProto) { m.Graph.Node[0].Input[0] = "ghost" }),
			`node "relu" (Relu): input "ghost" is not defined`),
		onnx("undefined graph output", reluModel(func(m *onnxpb.ModelProto) { m.Graph.Output[0].Name = proto.String("nope") }),
			`graph output "nope" is not defined`),
		onnx("value defined twice", reluModel(func(m *onnxpb.ModelProto) {
			m.Graph.Node = append(m.Graph.Node, node("Relu", "relu2", []string{"x"}, []string{"y"}))
		}), `node "relu2" (Relu): output "y" is already defined`),
		onnx("wrong dtypes", reluModel(func(m *onnxpb.ModelProto) {
			m.Graph.Input = append(m.Graph.Input, valueInfo("i", i64, 1, 4))
			m.Graph.Node[0] = node("Add", "add", []string{"x", "i"}, []string{"y"})
		}), `node "add" (Add): input 1 has dtype i64, input 0 has f32`),
		onnx("conv weight rank", reluModel(func(m *onnxpb.ModelProto) {
			m.Graph.Input = append(m.Graph.Input, valueInfo("w", f32, 4, 4))
			m.Graph.Node[0] = node("Conv", "conv", []string{"x", "w"}, []string{"y"})
		}), `node "conv" (Conv): `),
		onnx("overflowing pads", reluModel(func(m *onnxpb.ModelProto) {
			m.Graph.Input[0] = valueInfo("x", f32, 1, 1, 4, 4)
			m.Graph.Output[0] = valueInfo("y", f32)
			m.Graph.Node[0] = node("MaxPool", "pool", []string{"x"}, []string{"y"}, intsAttr("kernel_shape", []int64{1, 1}),
				intsAttr("pads", []int64{1 << 62, 1 << 62, 1 << 62, 1 << 62}), intsAttr("strides", []int64{1, 1}))
		}), `node "pool" (MaxPool): spatial dim 0: kernel 1, dilation 1, stride 1 or pads 4611686018427387904, 4611686018427387904 out of range`),
		onnx("huge attribute list", reluModel(func(m *onnxpb.ModelProto) {
			m.Graph.Node[0] = node("Transpose", "tr", []string{"x"}, []string{"y"}, intsAttr("perm", make([]int64, 1<<21)))
		}), `node "tr" (Transpose): perm [0 0 0 0`),
		onnx("many attributes", reluModel(func(m *onnxpb.ModelProto) {
			for i := 0; i < 100000; i++ {
				m.Graph.Node[0].Attribute = append(m.Graph.Node[0].Attribute, &onnxpb.AttributeProto{
					Name: proto.String(fmt.Sprintf("a%d", i)), Type: onnxpb.AttributeProto_INT.Enum(), I: proto.Int64(1)})
			}
		}), `onnxio: node "relu" (Relu): 100000 attributes, more than 1024`),
		onnx("tensor rank 10^5", reluModel(withParam(&onnxpb.TensorProto{Dims: make([]int64, 100000), DataType: proto.Int32(f32)})),
			`tensor "w": rank 100000 exceeds 64`),
		{name: "unnamed nodes (valid)", files: map[string][]byte{"m.onnx": unnamedChain(10000)}, args: []string{"DIR/m.onnx"}, ok: true},
		{name: "exponential shape subgraph (valid)", files: map[string][]byte{"m.onnx": addChain(40)}, args: []string{"DIR/m.onnx"}, ok: true},
		onnx("gather index out of range", reluModel(func(m *onnxpb.ModelProto) {
			m.Graph.Initializer = []*onnxpb.TensorProto{{Name: proto.String("i"), Dims: []int64{1}, DataType: proto.Int32(i64), Int64Data: []int64{7}}}
			m.Graph.Node[0] = node("Gather", "gather", []string{"x", "i"}, []string{"y"}, &onnxpb.AttributeProto{
				Name: proto.String("axis"), Type: onnxpb.AttributeProto_INT.Enum(), I: proto.Int64(1)})
		}), `node "gather" (Gather): index 7 out of range for axis 1 of size 4`),
		// The .fir text form.
		fir("fir syntax error", "graph @g(%x: f32[1,4]) {\n  %y = Relu(%x :\n", "m.fir:2:"),
		fir("fir undefined value", "graph @g(%x: f32[1,4]) {\n  %y = Relu(%z) : f32[1,4]\n  return %y\n}\n", "%z"),
		fir("fir huge recipe", "graph @g(%x: f32[1,4]) {\n  %w = param f32[1048576,1048576] normal(seed=1, mean=0, std=1)\n  %y = Add(%x, %w) : f32[1048576,1048576]\n  return %y\n}\n",
			"m.fir:2:"),
		fir("fir recipes too big in total", recipeBomb(17), "recipe tensors hold more than 268435456 elements in total"),
		fir("fir absurd rank", "graph @g(%x: f32["+strings.Repeat("1,", 99)+"1]) {\n  %y = Relu(%x) : f32[1,4]\n  return %y\n}\n", "rank 100 exceeds 64"),
		fir("fir input dims 2^40", "graph @g(%x: f32[1099511627776,1099511627776]) {\n  %y = Relu(%x) : f32[1099511627776,1099511627776]\n  return %y\n}\n",
			"holds more than 2^48 elements"),
		fir("fir sidecar /dev/zero", "graph @g(%x: f32[1,4]) {\n  %w = param f32[1,4] sidecar(\"/dev/zero\", 0, 16)\n  %y = Add(%x, %w) : f32[1,4]\n  return %y\n}\n",
			`m.fir:2:23: sidecar "/dev/zero" is not a file in the .fir file's directory`),
		fir("fir sidecar outside the directory", "graph @g(%x: f32[1,4]) {\n  %w = param f32[1,4] sidecar(\"../m.fir\", 0, 16)\n  %y = Add(%x, %w) : f32[1,4]\n  return %y\n}\n",
			`sidecar "../m.fir" is not a file in the .fir file's directory`),
		fir("fir binary garbage", "\x00\xff\xfe graph", "m.fir:1:"),
		// Files and arguments.
		{name: "missing file", args: []string{"DIR/absent.onnx"}, want: "no such file or directory"},
		{name: "unknown extension", files: map[string][]byte{"m.txt": model}, args: []string{"DIR/m.txt"}, want: "unknown model format"},
		{name: "unknown output extension", files: map[string][]byte{"m.onnx": model}, args: []string{"DIR/m.onnx", "-o", "DIR/out.txt"},
			want: "unknown model format", code: 2},
		{name: "output in a missing directory", files: map[string][]byte{"m.onnx": model}, args: []string{"DIR/m.onnx", "-o", "DIR/absent/out.onnx"},
			want: "no such file or directory"},
		// Tensor files for fcompile run.
		{name: "run corrupt input tensor", files: map[string][]byte{"m.onnx": model, "x.pb": []byte("\xff\xff\xff")},
			args: []string{"run", "DIR/m.onnx", "--input", "DIR/x.pb", "--output-dir", "DIR/o"}, want: "onnxio: not an ONNX tensor"},
		{name: "run input tensor dims 2^40", files: map[string][]byte{"m.onnx": model, "x.pb": tensorBytes(&onnxpb.TensorProto{
			Dims: []int64{1 << 20, 1 << 20}, DataType: proto.Int32(f32), RawData: make([]byte, 16)})},
			args: []string{"run", "DIR/m.onnx", "--input", "DIR/x.pb", "--output-dir", "DIR/o"}, want: "raw_data has 16 bytes, want 4398046511104"},
		{name: "run input of the wrong shape", files: map[string][]byte{"m.onnx": model, "x.pb": tensorBytes(&onnxpb.TensorProto{
			Dims: []int64{2, 3}, DataType: proto.Int32(f32), FloatData: make([]float32, 6)})},
			args: []string{"run", "DIR/m.onnx", "--input", "DIR/x.pb", "--output-dir", "DIR/o"}, want: `m.onnx: engine: input "x" has shape [2 3], want [1,4]`},
		{name: "run unknown input name", files: map[string][]byte{"m.onnx": model, "x.pb": tensorBytes(&onnxpb.TensorProto{
			Dims: []int64{1, 4}, DataType: proto.Int32(f32), FloatData: make([]float32, 4)})},
			args: []string{"run", "DIR/m.onnx", "--input", "nope=DIR/x.pb", "--output-dir", "DIR/o"}, want: `the model has no input "nope"`, code: 2},
		// IDX data sets.
		{name: "idx bad magic", files: idxDir(idxFile(0x1234, []uint32{2, 28, 28}, nil), labels), args: eval,
			want: "magic 0x00001234 is not an IDX u8 file"},
		{name: "idx huge count", files: idxDir(idxFile(0x803, []uint32{1 << 31, 28, 28}, nil), labels), args: eval,
			want: "header says 2147483648 images"},
		{name: "idx huge images", files: idxDir(idxFile(0x803, []uint32{1, 1 << 20, 1 << 20}, nil), labels), args: eval,
			want: "header says images of 1048576×1048576"},
		{name: "idx truncated data", files: idxDir(idxFile(0x803, []uint32{60000, 28, 28}, make([]byte, 100)), labels), args: eval,
			want: "t10k-images-idx3-ubyte"},
		{name: "idx label count", files: idxDir(images, idxFile(0x801, []uint32{3}, []byte{1, 2, 3})), args: eval,
			want: "3 labels"},
		{name: "idx label out of range", files: idxDir(images, idxFile(0x801, []uint32{2}, []byte{1, 200})), args: eval,
			want: "200"},
	}
}

// TestHostileInputs runs fcompile in-process on each hostile input and
// expects exit status 1 (2 for usage errors) with the case's specific error,
// promptly and within a memory budget, and no output file left behind.
func TestHostileInputs(t *testing.T) {
	cases := hostileCases()
	if len(cases) < 30 {
		t.Fatalf("only %d cases", len(cases))
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			for name, data := range tc.files {
				path := filepath.Join(dir, filepath.FromSlash(name))
				if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(path, data, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			args := make([]string, len(tc.args))
			for i, a := range tc.args {
				args[i] = strings.ReplaceAll(a, "DIR", dir)
			}
			out := filepath.Join(dir, "out.onnx")
			if !strings.Contains(strings.Join(args, " "), " -o ") && args[0] != "eval" && args[0] != "run" {
				args = append(args, "-o", out)
			}
			runtime.GC()
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			start := time.Now()
			code, _, stderr := run(t, args...)
			elapsed := time.Since(start)
			runtime.ReadMemStats(&after)
			want := tc.code
			switch {
			case tc.ok:
				want = 0
			case want == 0:
				want = 1
			}
			if code != want {
				t.Errorf("exit %d, want %d; stderr:\n%s", code, want, stderr)
			}
			if !strings.Contains(stderr, tc.want) {
				t.Errorf("stderr lacks %q:\n%s", tc.want, stderr)
			}
			if strings.Contains(stderr, "goroutine ") || strings.Contains(stderr, "panic") {
				t.Errorf("stderr shows a panic:\n%s", stderr)
			}
			if len(stderr) > 16<<10 {
				t.Errorf("stderr has %d bytes; problems should be capped", len(stderr))
			}
			if elapsed > hostileMaxTime {
				t.Errorf("took %v, limit %v", elapsed, hostileMaxTime)
			}
			if alloc := after.TotalAlloc - before.TotalAlloc; alloc > hostileMaxAlloc {
				t.Errorf("allocated %d MB, limit %d MB", alloc>>20, hostileMaxAlloc>>20)
			}
			if tc.ok {
				return
			}
			if _, err := os.Stat(out); err == nil {
				t.Errorf("a failed run left %s", out)
			}
			entries, _ := os.ReadDir(dir)
			for _, e := range entries {
				if strings.HasPrefix(e.Name(), ".") || strings.Contains(e.Name(), ".tmp") {
					t.Errorf("a failed run left the temporary file %s", e.Name())
				}
			}
		})
	}
}
