package ir

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"testing"
)

// sh parses a shape written like "N,3,?,224": numbers are static dims, "?"
// is unknown and anything else is symbolic. "" is a scalar and "*" unknown rank.
func sh(s string) Shape {
	if s == "*" {
		return nil
	}
	out := Shape{}
	if s == "" {
		return out
	}
	for _, f := range strings.Split(s, ",") {
		if f == "?" {
			out = append(out, Unknown)
		} else if n, err := strconv.ParseInt(f, 10, 64); err == nil {
			out = append(out, D(n))
		} else {
			out = append(out, Sym(f))
		}
	}
	return out
}

// val returns a non-constant value (a graph input) of dtype dt and shape s.
func val(dt DType, s string) *Value { return &Value{Name: "v", DType: dt, Shape: sh(s)} }

func f32(s string) *Value { return val(Float32, s) }

// param returns a parameter holding t.
func param(t *Tensor) *Value {
	return &Value{Name: "p", DType: t.DType, Shape: Static(t.Dims...), Const: t}
}

// i64s returns a 1-D int64 parameter.
func i64s(v ...int64) *Value { return param(NewInt64([]int64{int64(len(v))}, v)) }

// i64scalar returns a 0-D int64 parameter.
func i64scalar(v int64) *Value { return param(NewInt64([]int64{}, []int64{v})) }

// f32s returns a 1-D float32 parameter.
func f32s(v ...float32) *Value { return param(NewFloat32([]int64{int64(len(v))}, v)) }

// weights returns a float32 parameter of the given dims (zeros).
func weights(dims ...int64) *Value {
	return param(NewFloat32(dims, make([]float32, NumElements(dims))))
}

// constNode returns the output of a Constant node holding t.
func constNode(t *Tensor) *Value { return mustNode(OpConstant, nil, TensorAttr("value", t)) }

// mustNode adds a single-output node of op, infers it and returns its output.
func mustNode(op Op, ins []*Value, attrs ...Attr) *Value {
	n := &Node{Name: op.String(), Op: op, Inputs: ins, Attrs: attrs}
	n.Outputs = []*Value{{Name: n.Name, Def: n}}
	if err := InferNode(n); err != nil {
		panic(err)
	}
	return n.Outputs[0]
}

func typeString(v *Value) string { return fmt.Sprintf("%v%v", v.DType, v.Shape) }

const maxI64 = math.MaxInt64

type inferCase struct {
	name  string
	op    Op
	in    []*Value
	attrs []Attr
	nout  int      // outputs (default 1)
	want  []string // "dtype[shape]" per output, e.g. "f32[N,6,28,28]"
	err   string   // substring of the expected error; want is ignored
}

func runInferCases(t *testing.T, cases []inferCase) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.op.String()+"/"+c.name, func(t *testing.T) {
			n := &Node{Name: "n", Op: c.op, Inputs: c.in, Attrs: c.attrs}
			nout := max(c.nout, 1)
			for i := 0; i < nout; i++ {
				n.Outputs = append(n.Outputs, &Value{Name: fmt.Sprint("out", i), Def: n})
			}
			err := InferNode(n)
			if c.err != "" {
				if err == nil {
					t.Fatalf("got no error, outputs %v; want error containing %q", typeString(n.Outputs[0]), c.err)
				}
				if !strings.Contains(err.Error(), c.err) {
					t.Fatalf("got error %q, want it to contain %q", err, c.err)
				}
				prefix := fmt.Sprintf("ir: node %q (%s): ", "n", c.op)
				if !strings.HasPrefix(err.Error(), prefix) {
					t.Errorf("error %q lacks prefix %q", err, prefix)
				}
				return
			}
			if err != nil {
				t.Fatalf("unexpected error: %v", err)
			}
			for i, w := range c.want {
				if got := typeString(n.Outputs[i]); got != w {
					t.Errorf("output %d: got %s, want %s", i, got, w)
				}
			}
		})
	}
}

func TestInferConvPool(t *testing.T) {
	x28 := f32("N,1,28,28")
	runInferCases(t, []inferCase{
		// (28 + 2 + 2 - 5)/1 + 1 = 28
		{name: "lenet conv1", op: OpConv, in: []*Value{x28, weights(6, 1, 5, 5), weights(6)},
			attrs: []Attr{IntsAttr("pads", 2, 2, 2, 2), IntsAttr("kernel_shape", 5, 5)}, want: []string{"f32[N,6,28,28]"}},
		// 14 - 5 + 1 = 10
		{name: "no pad", op: OpConv, in: []*Value{f32("N,6,14,14"), weights(16, 6, 5, 5)}, want: []string{"f32[N,16,10,10]"}},
		// (224 + 2 - 3)/2 + 1 = 112
		{name: "stride 2", op: OpConv, in: []*Value{f32("1,3,224,224"), weights(32, 3, 3, 3)},
			attrs: []Attr{IntsAttr("strides", 2, 2), IntsAttr("pads", 1, 1, 1, 1)}, want: []string{"f32[1,32,112,112]"}},
		// effective kernel 2*(3-1)+1 = 5: 10 - 5 + 1 = 6
		{name: "dilation", op: OpConv, in: []*Value{f32("1,3,10,10"), weights(8, 3, 3, 3)},
			attrs: []Attr{IntsAttr("dilations", 2, 2)}, want: []string{"f32[1,8,6,6]"}},
		{name: "depthwise", op: OpConv, in: []*Value{f32("N,32,56,56"), weights(32, 1, 3, 3)},
			attrs: []Attr{IntAttr("group", 32), IntsAttr("pads", 1, 1, 1, 1)}, want: []string{"f32[N,32,56,56]"}},
		{name: "grouped", op: OpConv, in: []*Value{f32("N,8,9,9"), weights(12, 2, 1, 1)},
			attrs: []Attr{IntAttr("group", 4)}, want: []string{"f32[N,12,9,9]"}},
		// ceil(15/2) = 8
		{name: "same upper", op: OpConv, in: []*Value{f32("1,3,15,15"), weights(4, 3, 3, 3)},
			attrs: []Attr{StrAttr("auto_pad", "SAME_UPPER"), IntsAttr("strides", 2, 2)}, want: []string{"f32[1,4,8,8]"}},
		{name: "same lower", op: OpConv, in: []*Value{f32("1,3,15,16"), weights(4, 3, 3, 3)},
			attrs: []Attr{StrAttr("auto_pad", "SAME_LOWER")}, want: []string{"f32[1,4,15,16]"}},
		// (15 - 3)/2 + 1 = 7
		{name: "valid", op: OpConv, in: []*Value{f32("1,3,15,15"), weights(4, 3, 3, 3)},
			attrs: []Attr{StrAttr("auto_pad", "VALID"), IntsAttr("strides", 2, 2)}, want: []string{"f32[1,4,7,7]"}},
		// H: 8 + 0 + 2 - 3 + 1 = 8; W: 8 + 1 + 3 - 3 + 1 = 10
		{name: "asymmetric pads", op: OpConv, in: []*Value{f32("1,1,8,8"), weights(2, 1, 3, 3)},
			attrs: []Attr{IntsAttr("pads", 0, 1, 2, 3)}, want: []string{"f32[1,2,8,10]"}},
		// (100 - 7)/3 + 1 = 32
		{name: "1-D", op: OpConv, in: []*Value{f32("N,4,100"), weights(8, 4, 7)},
			attrs: []Attr{IntsAttr("strides", 3)}, want: []string{"f32[N,8,32]"}},
		{name: "symbolic spatial 1x1", op: OpConv, in: []*Value{f32("N,16,H,W"), weights(32, 16, 1, 1)}, want: []string{"f32[N,32,H,W]"}},
		{name: "symbolic spatial 3x3", op: OpConv, in: []*Value{f32("N,16,H,W"), weights(32, 16, 3, 3)}, want: []string{"f32[N,32,?,?]"}},
		{name: "unknown X", op: OpConv, in: []*Value{f32("*"), weights(32, 16, 3, 3)}, want: []string{"f32[?,32,?,?]"}},
		{name: "channel mismatch", op: OpConv, in: []*Value{f32("1,6,8,8"), weights(4, 3, 3, 3)}, err: "6 channels, want W.shape[1]*group = 3*1"},
		{name: "group mismatch", op: OpConv, in: []*Value{f32("1,8,8,8"), weights(8, 1, 3, 3)},
			attrs: []Attr{IntAttr("group", 4)}, err: "want W.shape[1]*group = 1*4"},
		{name: "out channels not divisible", op: OpConv, in: []*Value{f32("1,4,8,8"), weights(6, 1, 3, 3)},
			attrs: []Attr{IntAttr("group", 4)}, err: "not divisible by group 4"},
		{name: "group zero", op: OpConv, in: []*Value{f32("1,4,8,8"), weights(6, 4, 3, 3)}, attrs: []Attr{IntAttr("group", 0)}, err: "group 0"},
		{name: "rank mismatch", op: OpConv, in: []*Value{f32("1,3,8"), weights(4, 3, 3, 3)}, err: "want 3 dims like X"},
		{name: "rank too small", op: OpConv, in: []*Value{f32("1,3"), weights(4, 3)}, err: "want at least 3 dims"},
		{name: "negative stride", op: OpConv, in: []*Value{f32("1,3,8,8"), weights(4, 3, 3, 3)},
			attrs: []Attr{IntsAttr("strides", -1, 1)}, err: "strides [-1 1] must be positive"},
		{name: "pads length", op: OpConv, in: []*Value{f32("1,3,8,8"), weights(4, 3, 3, 3)},
			attrs: []Attr{IntsAttr("pads", 1, 1)}, err: "pads [1 1] has 2 values, want 4"},
		{name: "negative pads", op: OpConv, in: []*Value{f32("1,3,8,8"), weights(4, 3, 3, 3)},
			attrs: []Attr{IntsAttr("pads", 1, -1, 1, 1)}, err: "must not be negative"},
		{name: "kernel_shape mismatch", op: OpConv, in: []*Value{f32("1,3,8,8"), weights(4, 3, 3, 3)},
			attrs: []Attr{IntsAttr("kernel_shape", 5, 5)}, err: "kernel_shape [5 5] does not match weight"},
		{name: "kernel too large", op: OpConv, in: []*Value{f32("1,1,2,2"), weights(1, 1, 3, 3)}, err: "larger than the padded input 2"},
		{name: "bias length", op: OpConv, in: []*Value{f32("1,3,8,8"), weights(4, 3, 3, 3), weights(5)}, err: "bias B has shape [5], want [4]"},
		{name: "auto_pad", op: OpConv, in: []*Value{f32("1,3,8,8"), weights(4, 3, 3, 3)}, attrs: []Attr{StrAttr("auto_pad", "FOO")}, err: `auto_pad "FOO"`},
		{name: "dtype", op: OpConv, in: []*Value{f32("1,3,8,8"), val(Int64, "4,3,3,3")}, err: "dtype"},
		{name: "missing weight", op: OpConv, in: []*Value{f32("1,3,8,8"), nil}, err: "has 1 inputs, want 2 to 3"},

		// 2*(7-1) + (4-1) + 1 - 2 = 14
		{name: "stride 2", op: OpConvTranspose, in: []*Value{f32("N,16,7,7"), weights(16, 8, 4, 4)},
			attrs: []Attr{IntsAttr("strides", 2, 2), IntsAttr("pads", 1, 1, 1, 1)}, want: []string{"f32[N,8,14,14]"}},
		// 2*6 + 1 + 3 - 2 = 14
		{name: "output_padding", op: OpConvTranspose, in: []*Value{f32("N,16,7,7"), weights(16, 8, 3, 3), weights(8)},
			attrs: []Attr{IntsAttr("strides", 2, 2), IntsAttr("pads", 1, 1, 1, 1), IntsAttr("output_padding", 1, 1)}, want: []string{"f32[N,8,14,14]"}},
		{name: "output_shape", op: OpConvTranspose, in: []*Value{f32("N,16,7,7"), weights(16, 8, 3, 3)},
			attrs: []Attr{IntsAttr("strides", 3, 3), IntsAttr("output_shape", 20, 21)}, want: []string{"f32[N,8,20,21]"}},
		// M = 3*2; 5 - 1 + 3 = 7
		{name: "group", op: OpConvTranspose, in: []*Value{f32("1,4,5,5"), weights(4, 3, 3, 3)},
			attrs: []Attr{IntAttr("group", 2)}, want: []string{"f32[1,6,7,7]"}},
		{name: "same", op: OpConvTranspose, in: []*Value{f32("1,4,5,6"), weights(4, 3, 3, 3)},
			attrs: []Attr{StrAttr("auto_pad", "SAME_UPPER"), IntsAttr("strides", 2, 2)}, want: []string{"f32[1,3,10,12]"}},
		{name: "channel mismatch", op: OpConvTranspose, in: []*Value{f32("1,5,5,5"), weights(4, 3, 3, 3)}, err: "5 channels, want W.shape[0] = 4"},
		{name: "output_padding too large", op: OpConvTranspose, in: []*Value{f32("1,4,5,5"), weights(4, 3, 3, 3)},
			attrs: []Attr{IntsAttr("strides", 2, 2), IntsAttr("output_padding", 2, 0)}, err: "output_padding [2 0]"},

		{name: "lenet pool", op: OpMaxPool, in: []*Value{f32("N,6,28,28")},
			attrs: []Attr{IntsAttr("kernel_shape", 2, 2), IntsAttr("strides", 2, 2)}, nout: 2, want: []string{"f32[N,6,14,14]", "i64[N,6,14,14]"}},
		// (112 + 2 - 3)/2 + 1 = 56
		{name: "shufflenet stem", op: OpMaxPool, in: []*Value{f32("N,24,112,112")},
			attrs: []Attr{IntsAttr("kernel_shape", 3, 3), IntsAttr("strides", 2, 2), IntsAttr("pads", 1, 1, 1, 1)}, want: []string{"f32[N,24,56,56]"}},
		// floor: (5-2)/2 + 1 = 2; ceil: ceil(3/2) + 1 = 3
		{name: "floor", op: OpMaxPool, in: []*Value{f32("1,1,5,5")},
			attrs: []Attr{IntsAttr("kernel_shape", 2, 2), IntsAttr("strides", 2, 2)}, want: []string{"f32[1,1,2,2]"}},
		{name: "ceil", op: OpMaxPool, in: []*Value{f32("1,1,5,5")},
			attrs: []Attr{IntsAttr("kernel_shape", 2, 2), IntsAttr("strides", 2, 2), IntAttr("ceil_mode", 1)}, want: []string{"f32[1,1,3,3]"}},
		// ceil((5+2-2)/2) + 1 = 4, but window 4 would start at 6 >= 5+1 (in the end padding): 3
		{name: "ceil drops window in padding", op: OpMaxPool, in: []*Value{f32("1,1,5,5")},
			attrs: []Attr{IntsAttr("kernel_shape", 2, 2), IntsAttr("strides", 2, 2), IntsAttr("pads", 1, 1, 1, 1), IntAttr("ceil_mode", 1)}, want: []string{"f32[1,1,3,3]"}},
		{name: "dilated", op: OpMaxPool, in: []*Value{f32("1,1,9")},
			attrs: []Attr{IntsAttr("kernel_shape", 3), IntsAttr("dilations", 3)}, want: []string{"f32[1,1,3]"}},
		{name: "same", op: OpAveragePool, in: []*Value{f32("N,8,7,7")},
			attrs: []Attr{IntsAttr("kernel_shape", 3, 3), IntsAttr("strides", 2, 2), StrAttr("auto_pad", "SAME_LOWER")}, want: []string{"f32[N,8,4,4]"}},
		{name: "pad 1", op: OpAveragePool, in: []*Value{f32("N,8,7,7")},
			attrs: []Attr{IntsAttr("kernel_shape", 3, 3), IntsAttr("pads", 1, 1, 1, 1)}, want: []string{"f32[N,8,7,7]"}},
		{name: "missing kernel_shape", op: OpMaxPool, in: []*Value{f32("1,1,5,5")}, err: "kernel_shape"},
		{name: "kernel_shape length", op: OpMaxPool, in: []*Value{f32("1,1,5,5")}, attrs: []Attr{IntsAttr("kernel_shape", 2)}, err: "kernel_shape [2] has 1 values, want 2"},
		{name: "rank", op: OpAveragePool, in: []*Value{f32("1,5")}, attrs: []Attr{IntsAttr("kernel_shape", 2)}, err: "at least 3 dims"},

		{name: "basic", op: OpGlobalAveragePool, in: []*Value{f32("N,64,7,7")}, want: []string{"f32[N,64,1,1]"}},
		{name: "rank", op: OpGlobalAveragePool, in: []*Value{f32("N,64")}, err: "at least 3 dims"},

		{name: "inference", op: OpBatchNorm, in: []*Value{f32("N,16,8,8"), weights(16), weights(16), weights(16), weights(16)}, want: []string{"f32[N,16,8,8]"}},
		{name: "training", op: OpBatchNorm, in: []*Value{f32("N,16,8,8"), weights(16), weights(16), weights(16), weights(16)},
			attrs: []Attr{IntAttr("training_mode", 1)}, nout: 3, want: []string{"f32[N,16,8,8]", "f32[16]", "f32[16]"}},
		{name: "scale length", op: OpBatchNorm, in: []*Value{f32("N,16,8,8"), weights(8), weights(16), weights(16), weights(16)}, err: "scale has shape [8], want [16]"},
		{name: "rank", op: OpBatchNorm, in: []*Value{f32("16"), weights(16), weights(16), weights(16), weights(16)}, err: "at least 2 dims"},
	})
}

func TestInferElementwise(t *testing.T) {
	var cases []inferCase
	for _, op := range []Op{OpRelu, OpLeakyRelu, OpSigmoid, OpHardSigmoid, OpHardSwish, OpTanh, OpErf, OpSqrt, OpIdentity} {
		cases = append(cases, inferCase{name: "same", op: op, in: []*Value{f32("N,3,?")}, want: []string{"f32[N,3,?]"}})
	}
	scalar := param(NewFloat32([]int64{}, []float32{0}))
	cases = append(cases, []inferCase{
		{name: "int relu", op: OpRelu, in: []*Value{val(Int64, "4")}, want: []string{"i64[4]"}},
		{name: "int sigmoid", op: OpSigmoid, in: []*Value{val(Int64, "4")}, err: "want a float type"},
		{name: "bounds", op: OpClip, in: []*Value{f32("N,32,8,8"), scalar, constNode(NewFloat32([]int64{}, []float32{6}))}, want: []string{"f32[N,32,8,8]"}},
		{name: "max only", op: OpClip, in: []*Value{f32("N,32"), nil, scalar}, want: []string{"f32[N,32]"}},
		{name: "vector bound", op: OpClip, in: []*Value{f32("N,32"), weights(2)}, err: "min bound has shape [2], want a scalar"},

		{name: "broadcast", op: OpAdd, in: []*Value{f32("N,3,1,5"), f32("4,1")}, want: []string{"f32[N,3,4,5]"}},
		{name: "outer", op: OpAdd, in: []*Value{f32("N,1"), f32("1,N")}, want: []string{"f32[N,N]"}},
		{name: "two symbols", op: OpAdd, in: []*Value{f32("N"), f32("M")}, want: []string{"f32[?]"}},
		{name: "unknown and static", op: OpAdd, in: []*Value{f32("?,1"), f32("5,3")}, want: []string{"f32[5,3]"}},
		{name: "sym and static", op: OpMul, in: []*Value{f32("N"), f32("7")}, want: []string{"f32[7]"}},
		{name: "rank up", op: OpSub, in: []*Value{f32("3"), f32("N,3")}, want: []string{"f32[N,3]"}},
		{name: "scalar", op: OpDiv, in: []*Value{f32("N,8"), f32("")}, want: []string{"f32[N,8]"}},
		{name: "unknown rank", op: OpMul, in: []*Value{f32("N,8"), f32("*")}, want: []string{"f32[*]"}},
		{name: "mismatch", op: OpMul, in: []*Value{f32("2,3"), f32("4,3")}, err: "do not broadcast"},
		{name: "dtype", op: OpAdd, in: []*Value{f32("2"), val(Int64, "2")}, err: "dtype"},
		{name: "int exponent", op: OpPow, in: []*Value{f32("2,3"), val(Int64, "")}, want: []string{"f32[2,3]"}},

		{name: "cast", op: OpCast, in: []*Value{f32("N,3")}, attrs: []Attr{IntAttr("to", int64(Int64))}, want: []string{"i64[N,3]"}},
		{name: "bad to", op: OpCast, in: []*Value{f32("N,3")}, attrs: []Attr{IntAttr("to", 99)}, err: "to=99"},
		{name: "no to", op: OpCast, in: []*Value{f32("N,3")}, err: "attribute to"},

		{name: "axis", op: OpSoftmax, in: []*Value{f32("N,10")}, want: []string{"f32[N,10]"}},
		{name: "bad axis", op: OpSoftmax, in: []*Value{f32("N,10")}, attrs: []Attr{IntAttr("axis", 2)}, err: "axis 2 out of range for rank 2"},
		{name: "mask", op: OpDropout, in: []*Value{f32("N,10")}, nout: 2, want: []string{"f32[N,10]", "bool[N,10]"}},
		{name: "ratio", op: OpDropout, in: []*Value{f32("N,10"), f32s(0.5)}, err: "ratio has shape [1]"},

		{name: "per tensor", op: OpQuantizeLinear, in: []*Value{f32("N,3,8,8"), f32(""), val(Int8, "")}, want: []string{"i8[N,3,8,8]"}},
		{name: "default uint8", op: OpQuantizeLinear, in: []*Value{f32("N,3,8,8"), f32("")}, want: []string{"u8[N,3,8,8]"}},
		{name: "per axis", op: OpQuantizeLinear, in: []*Value{f32("N,3,8,8"), f32("3"), val(Uint8, "3")}, want: []string{"u8[N,3,8,8]"}},
		{name: "per axis mismatch", op: OpQuantizeLinear, in: []*Value{f32("N,3,8,8"), f32("4")}, err: "scale has shape [4], want [3]"},
		{name: "zero point shape", op: OpQuantizeLinear, in: []*Value{f32("N,3,8,8"), f32("3"), val(Int8, "")}, err: "zero point"},
		{name: "weights", op: OpDequantizeLinear, in: []*Value{val(Int8, "16,3,3,3"), f32("16"), val(Int8, "16")},
			attrs: []Attr{IntAttr("axis", 0)}, want: []string{"f32[16,3,3,3]"}},
		{name: "bad axis", op: OpDequantizeLinear, in: []*Value{val(Int8, "16,3"), f32("16")}, attrs: []Attr{IntAttr("axis", 2)}, err: "axis 2 out of range"},

		{name: "tensor", op: OpConstant, attrs: []Attr{TensorAttr("value", NewFloat32([]int64{2, 3}, make([]float32, 6)))}, want: []string{"f32[2,3]"}},
		{name: "value_ints", op: OpConstant, attrs: []Attr{IntsAttr("value_ints", 1, 2, 3)}, want: []string{"i64[3]"}},
		{name: "value_float", op: OpConstant, attrs: []Attr{FloatAttr("value_float", 1)}, want: []string{"f32[]"}},
		{name: "missing", op: OpConstant, err: "missing attribute value"},
	}...)
	runInferCases(t, cases)
}

func TestInferMatrix(t *testing.T) {
	runInferCases(t, []inferCase{
		{name: "fc transB", op: OpGemm, in: []*Value{f32("N,400"), weights(120, 400), weights(120)},
			attrs: []Attr{IntAttr("transB", 1)}, want: []string{"f32[N,120]"}},
		{name: "transA", op: OpGemm, in: []*Value{f32("64,N"), weights(64, 10), weights(1, 10)},
			attrs: []Attr{IntAttr("transA", 1)}, want: []string{"f32[N,10]"}},
		{name: "scalar C", op: OpGemm, in: []*Value{f32("4,5"), weights(5, 6), f32("")}, want: []string{"f32[4,6]"}},
		{name: "K mismatch", op: OpGemm, in: []*Value{f32("N,400"), weights(120, 300)}, attrs: []Attr{IntAttr("transB", 1)}, err: "inner dims differ"},
		{name: "C mismatch", op: OpGemm, in: []*Value{f32("N,5"), weights(5, 10), weights(3)}, err: "not broadcastable to [N,10]"},
		{name: "rank", op: OpGemm, in: []*Value{f32("N,5,5"), weights(5, 10)}, err: "input A has shape [N,5,5], want 2 dims"},

		{name: "2-D", op: OpMatMul, in: []*Value{f32("2,3"), f32("3,4")}, want: []string{"f32[2,4]"}},
		{name: "vector A", op: OpMatMul, in: []*Value{f32("3"), f32("3,4")}, want: []string{"f32[4]"}},
		{name: "vector B", op: OpMatMul, in: []*Value{f32("2,3"), f32("3")}, want: []string{"f32[2]"}},
		{name: "dot", op: OpMatMul, in: []*Value{f32("3"), f32("3")}, want: []string{"f32[]"}},
		{name: "batched vector A", op: OpMatMul, in: []*Value{f32("3"), f32("N,5,3,4")}, want: []string{"f32[N,5,4]"}},
		{name: "batched weight", op: OpMatMul, in: []*Value{f32("N,5,2,3"), weights(3, 7)}, want: []string{"f32[N,5,2,7]"}},
		{name: "batch broadcast", op: OpMatMul, in: []*Value{f32("4,1,2,3"), f32("5,3,6")}, want: []string{"f32[4,5,2,6]"}},
		{name: "K mismatch", op: OpMatMul, in: []*Value{f32("2,3"), f32("4,5")}, err: "inner dims differ"},
		{name: "batch mismatch", op: OpMatMul, in: []*Value{f32("2,2,3"), f32("3,3,4")}, err: "batch dims"},
		{name: "scalar", op: OpMatMul, in: []*Value{f32(""), f32("3,4")}, err: "input A is a scalar"},
	})
}

func TestInferShapeOps(t *testing.T) {
	// The channel shuffle of ShuffleNet as PyTorch exports it: the batch
	// size comes from Shape → Gather → Unsqueeze, joined with constants.
	x := f32("N,116,28,28")
	batch := mustNode(OpUnsqueeze, []*Value{mustNode(OpGather, []*Value{mustNode(OpShape, []*Value{x}), constNode(NewInt64([]int64{}, []int64{0}))}), i64s(0)})
	shuffle := mustNode(OpConcat, []*Value{batch, i64s(2, 58), constNode(NewInt64([]int64{2}, []int64{28, 28}))}, IntAttr("axis", 0))
	// Half the channels, computed as Gather(Shape(x), 1) / 2.
	half := mustNode(OpDiv, []*Value{mustNode(OpGather, []*Value{mustNode(OpShape, []*Value{x}), i64scalar(1)}), i64scalar(2)})
	halfU := mustNode(OpUnsqueeze, []*Value{mustNode(OpCast, []*Value{half}, IntAttr("to", int64(Int64))), i64s(0)})
	// Spatial dims times 2 for Resize sizes: Shape(x)[2:] * 2 joined with Shape(x)[:2].
	spatial := mustNode(OpMul, []*Value{mustNode(OpSlice, []*Value{mustNode(OpShape, []*Value{x}), i64s(2), i64s(4)}), i64scalar(2)})
	sizes := mustNode(OpConcat, []*Value{mustNode(OpShape, []*Value{x}, IntAttr("end", 2)), spatial}, IntAttr("axis", 0))
	empty := f32s()

	runInferCases(t, []inferCase{
		{name: "0 and -1", op: OpReshape, in: []*Value{f32("N,8,4,4"), i64s(0, -1)}, want: []string{"f32[N,128]"}},
		{name: "-1 is N", op: OpReshape, in: []*Value{f32("N,8,4,4"), i64s(-1, 128)}, want: []string{"f32[N,128]"}},
		{name: "-1 with N and factor", op: OpReshape, in: []*Value{f32("N,8,4,4"), i64s(-1, 64)}, want: []string{"f32[?,64]"}},
		{name: "-1 all", op: OpReshape, in: []*Value{f32("N,8,4,4"), i64s(-1)}, want: []string{"f32[?]"}},
		{name: "static", op: OpReshape, in: []*Value{f32("4,6"), i64s(2, -1, 3)}, want: []string{"f32[2,4,3]"}},
		{name: "from Constant", op: OpReshape, in: []*Value{f32("4,6"), constNode(NewInt64([]int64{2}, []int64{3, 8}))}, want: []string{"f32[3,8]"}},
		{name: "shape subgraph", op: OpReshape, in: []*Value{x, shuffle}, want: []string{"f32[N,2,58,28,28]"}},
		{name: "computed dim", op: OpReshape, in: []*Value{x, mustNode(OpConcat, []*Value{batch, halfU, i64s(-1)}, IntAttr("axis", 0))}, want: []string{"f32[N,58,1568]"}},
		{name: "unknown shape", op: OpReshape, in: []*Value{f32("4,6"), val(Int64, "3")}, want: []string{"f32[?,?,?]"}},
		{name: "allowzero", op: OpReshape, in: []*Value{f32("0,6"), i64s(0, 3, -1)}, attrs: []Attr{IntAttr("allowzero", 1)}, want: []string{"f32[0,3,?]"}},
		{name: "two -1", op: OpReshape, in: []*Value{f32("4,6"), i64s(-1, -1)}, err: "more than one -1"},
		{name: "count mismatch", op: OpReshape, in: []*Value{f32("4,6"), i64s(5, 5)}, err: "cannot reshape [4,6] to [5,5]"},
		{name: "indivisible", op: OpReshape, in: []*Value{f32("4,6"), i64s(5, -1)}, err: "cannot reshape [4,6] (24 elements)"},
		{name: "float shape", op: OpReshape, in: []*Value{f32("4,6"), f32s(24)}, err: "want i64"},

		{name: "flatten", op: OpFlatten, in: []*Value{f32("N,16,5,5")}, want: []string{"f32[N,400]"}},
		{name: "axis 0", op: OpFlatten, in: []*Value{f32("N,16,5,5")}, attrs: []Attr{IntAttr("axis", 0)}, want: []string{"f32[1,?]"}},
		{name: "axis 2", op: OpFlatten, in: []*Value{f32("N,16,5,5")}, attrs: []Attr{IntAttr("axis", 2)}, want: []string{"f32[?,25]"}},
		{name: "axis -1", op: OpFlatten, in: []*Value{f32("2,3,4")}, attrs: []Attr{IntAttr("axis", -1)}, want: []string{"f32[6,4]"}},
		{name: "axis end", op: OpFlatten, in: []*Value{f32("2,3,4")}, attrs: []Attr{IntAttr("axis", 3)}, want: []string{"f32[24,1]"}},
		{name: "bad axis", op: OpFlatten, in: []*Value{f32("2,3,4")}, attrs: []Attr{IntAttr("axis", 4)}, err: "axis 4 out of range"},

		{name: "perm", op: OpTranspose, in: []*Value{f32("N,3,4")}, attrs: []Attr{IntsAttr("perm", 0, 2, 1)}, want: []string{"f32[N,4,3]"}},
		{name: "reverse", op: OpTranspose, in: []*Value{f32("N,3,4")}, want: []string{"f32[4,3,N]"}},
		{name: "bad perm", op: OpTranspose, in: []*Value{f32("N,3,4")}, attrs: []Attr{IntsAttr("perm", 0, 0, 1)}, err: "not a permutation"},
		{name: "perm length", op: OpTranspose, in: []*Value{f32("N,3,4")}, attrs: []Attr{IntsAttr("perm", 1, 0)}, err: "perm [1 0] has 2 values"},

		{name: "axes", op: OpSqueeze, in: []*Value{f32("N,1,5,1"), i64s(1, -1)}, want: []string{"f32[N,5]"}},
		{name: "all", op: OpSqueeze, in: []*Value{f32("2,1,3")}, want: []string{"f32[2,3]"}},
		{name: "all unknown", op: OpSqueeze, in: []*Value{f32("N,1,3")}, want: []string{"f32[*]"}},
		{name: "not 1", op: OpSqueeze, in: []*Value{f32("N,1,5"), i64s(2)}, err: "cannot squeeze axis 2 of size 5"},
		{name: "axes", op: OpUnsqueeze, in: []*Value{f32("N,5"), i64s(0, -1)}, want: []string{"f32[1,N,5,1]"}},
		{name: "scalar", op: OpUnsqueeze, in: []*Value{val(Int64, ""), i64s(0)}, want: []string{"i64[1]"}},
		{name: "unknown axes", op: OpUnsqueeze, in: []*Value{f32("N,5"), val(Int64, "2")}, want: []string{"f32[?,?,?,?]"}},
		{name: "repeated", op: OpUnsqueeze, in: []*Value{f32("N,5"), i64s(1, 1)}, err: "repeated"},

		{name: "channels", op: OpConcat, in: []*Value{f32("N,16,8,8"), f32("N,32,8,8")}, attrs: []Attr{IntAttr("axis", 1)}, want: []string{"f32[N,48,8,8]"}},
		{name: "last", op: OpConcat, in: []*Value{f32("2,3"), f32("2,4"), f32("2,1")}, attrs: []Attr{IntAttr("axis", -1)}, want: []string{"f32[2,8]"}},
		{name: "batch axis", op: OpConcat, in: []*Value{f32("N,3"), f32("2,3")}, attrs: []Attr{IntAttr("axis", 0)}, want: []string{"f32[?,3]"}},
		{name: "refines", op: OpConcat, in: []*Value{f32("?,3"), f32("N,4")}, attrs: []Attr{IntAttr("axis", 1)}, want: []string{"f32[N,7]"}},
		{name: "mismatch", op: OpConcat, in: []*Value{f32("1,2,3"), f32("1,3,3")}, attrs: []Attr{IntAttr("axis", 2)}, err: "incompatible"},
		{name: "rank", op: OpConcat, in: []*Value{f32("1,2,3"), f32("1,2")}, attrs: []Attr{IntAttr("axis", 0)}, err: "want rank 3"},
		{name: "no axis", op: OpConcat, in: []*Value{f32("1,2")}, err: "attribute axis"},
		{name: "bad axis", op: OpConcat, in: []*Value{f32("1,2")}, attrs: []Attr{IntAttr("axis", 2)}, err: "axis 2 out of range"},

		{name: "sizes", op: OpSplit, in: []*Value{f32("N,10,4"), i64s(3, 7)}, attrs: []Attr{IntAttr("axis", 1)}, nout: 2, want: []string{"f32[N,3,4]", "f32[N,7,4]"}},
		{name: "equal", op: OpSplit, in: []*Value{f32("N,8")}, attrs: []Attr{IntAttr("axis", -1)}, nout: 2, want: []string{"f32[N,4]", "f32[N,4]"}},
		{name: "symbolic", op: OpSplit, in: []*Value{f32("N,8")}, nout: 2, want: []string{"f32[?,8]", "f32[?,8]"}},
		{name: "sum", op: OpSplit, in: []*Value{f32("N,10"), i64s(3, 6)}, attrs: []Attr{IntAttr("axis", 1)}, nout: 2, err: "split [3 6] sums to 9, want dim 10"},
		{name: "count", op: OpSplit, in: []*Value{f32("N,10"), i64s(3, 7)}, attrs: []Attr{IntAttr("axis", 1)}, nout: 3, err: "2 sizes for 3 outputs"},
		{name: "indivisible", op: OpSplit, in: []*Value{f32("N,10")}, attrs: []Attr{IntAttr("axis", 1)}, nout: 3, err: "not divisible into 3"},

		// channel axis 0:2, H 10 to 224-10 = 204
		{name: "axes", op: OpSlice, in: []*Value{f32("N,3,224,224"), i64s(0, 10), i64s(2, -10), i64s(1, 2)}, want: []string{"f32[N,2,204,224]"}},
		{name: "default axes", op: OpSlice, in: []*Value{f32("8,9"), i64s(1), i64s(5)}, want: []string{"f32[4,9]"}},
		{name: "reverse", op: OpSlice, in: []*Value{f32("5"), i64s(-1), i64s(math.MinInt64), i64s(0), i64s(-1)}, want: []string{"f32[5]"}},
		{name: "step 2", op: OpSlice, in: []*Value{f32("10"), i64s(1), i64s(100), i64s(0), i64s(2)}, want: []string{"f32[5]"}},
		{name: "step -3", op: OpSlice, in: []*Value{f32("10"), i64s(8), i64s(0), i64s(0), i64s(-3)}, want: []string{"f32[3]"}},
		{name: "empty", op: OpSlice, in: []*Value{f32("4"), i64s(10), i64s(20)}, want: []string{"f32[0]"}},
		{name: "whole batch", op: OpSlice, in: []*Value{f32("N,8"), i64s(0), i64s(maxI64), i64s(0)}, want: []string{"f32[N,8]"}},
		{name: "part of batch", op: OpSlice, in: []*Value{f32("N,8"), i64s(1), i64s(maxI64), i64s(0)}, want: []string{"f32[?,8]"}},
		{name: "unknown starts", op: OpSlice, in: []*Value{f32("N,8,8"), val(Int64, "1"), i64s(4), i64s(2)}, want: []string{"f32[N,8,?]"}},
		{name: "unknown axes", op: OpSlice, in: []*Value{f32("N,8,8"), i64s(0), i64s(4), val(Int64, "1")}, want: []string{"f32[?,?,?]"}},
		{name: "step 0", op: OpSlice, in: []*Value{f32("10"), i64s(1), i64s(5), i64s(0), i64s(0)}, err: "steps [0] contains 0"},
		{name: "bad axis", op: OpSlice, in: []*Value{f32("10"), i64s(1), i64s(5), i64s(1)}, err: "axis 1 out of range"},
		{name: "lengths", op: OpSlice, in: []*Value{f32("10"), i64s(1, 2), i64s(5)}, err: "differ in length"},
		{name: "missing ends", op: OpSlice, in: []*Value{f32("10"), i64s(1)}, err: "has 2 inputs, want 3 to 5"},

		{name: "pads", op: OpPad, in: []*Value{f32("N,3,8,8"), i64s(0, 0, 1, 2, 0, 0, 3, 4)}, want: []string{"f32[N,3,12,14]"}},
		{name: "crop", op: OpPad, in: []*Value{f32("N,3,8,8"), i64s(0, 0, -1, 0, 0, 0, -1, 0), f32("")}, attrs: []Attr{StrAttr("mode", "reflect")}, want: []string{"f32[N,3,6,8]"}},
		{name: "pad batch", op: OpPad, in: []*Value{f32("N,3"), i64s(1, 0, 0, 0)}, want: []string{"f32[?,3]"}},
		{name: "unknown pads", op: OpPad, in: []*Value{f32("N,3"), val(Int64, "4")}, want: []string{"f32[?,?]"}},
		{name: "length", op: OpPad, in: []*Value{f32("N,3,8,8"), i64s(1, 1, 1, 1, 1, 1)}, err: "has 6 values, want 8"},
		{name: "negative size", op: OpPad, in: []*Value{f32("N,3"), i64s(0, -2, 0, -2)}, err: "negative"},
		{name: "mode", op: OpPad, in: []*Value{f32("N,3"), i64s(0, 0, 0, 0)}, attrs: []Attr{StrAttr("mode", "wrap")}, err: `mode "wrap"`},

		{name: "full", op: OpShape, in: []*Value{f32("N,3,8,8")}, want: []string{"i64[4]"}},
		{name: "range", op: OpShape, in: []*Value{f32("N,3,8,8")}, attrs: []Attr{IntAttr("start", 1), IntAttr("end", -1)}, want: []string{"i64[2]"}},
		{name: "clamped", op: OpShape, in: []*Value{f32("N,3,8,8")}, attrs: []Attr{IntAttr("start", -10)}, want: []string{"i64[4]"}},
		{name: "unknown rank", op: OpShape, in: []*Value{f32("*")}, want: []string{"i64[?]"}},

		{name: "rows", op: OpGather, in: []*Value{f32("5,4"), i64s(0, 4, -5)}, want: []string{"f32[3,4]"}},
		{name: "scalar index", op: OpGather, in: []*Value{f32("5,4"), i64scalar(1)}, attrs: []Attr{IntAttr("axis", 1)}, want: []string{"f32[5]"}},
		{name: "shape tensor", op: OpGather, in: []*Value{mustNode(OpShape, []*Value{x}), i64scalar(0)}, want: []string{"i64[]"}},
		{name: "2-D indices", op: OpGather, in: []*Value{f32("N,7,3"), val(Int32, "2,2")}, attrs: []Attr{IntAttr("axis", 1)}, want: []string{"f32[N,2,2,3]"}},
		{name: "float indices", op: OpGather, in: []*Value{f32("5,4"), f32("2")}, err: "want i32 or i64"},
		{name: "axis", op: OpGather, in: []*Value{f32("5,4"), i64s(0)}, attrs: []Attr{IntAttr("axis", 2)}, err: "axis 2 out of range"},
		{name: "index range", op: OpGather, in: []*Value{f32("5,4"), i64s(7)}, err: "index 7 out of range"},

		{name: "scales", op: OpResize, in: []*Value{f32("N,3,8,7"), empty, f32s(1, 1, 2, 0.5)}, want: []string{"f32[N,3,16,3]"}},
		{name: "sizes", op: OpResize, in: []*Value{f32("1,3,8,8"), empty, empty, i64s(1, 3, 5, 7)}, attrs: []Attr{StrAttr("mode", "linear")}, want: []string{"f32[1,3,5,7]"}},
		{name: "computed sizes", op: OpResize, in: []*Value{x, nil, nil, sizes}, want: []string{"f32[N,116,56,56]"}},
		{name: "axes", op: OpResize, in: []*Value{f32("N,3,8,8"), nil, f32s(3, 3)}, attrs: []Attr{IntsAttr("axes", 2, 3)}, want: []string{"f32[N,3,24,24]"}},
		// not_larger: scale min(10/8, 20/8) = 1.25 → [10, 10]
		{name: "not_larger", op: OpResize, in: []*Value{f32("1,1,8,8"), nil, nil, i64s(10, 20)},
			attrs: []Attr{IntsAttr("axes", 2, 3), StrAttr("keep_aspect_ratio_policy", "not_larger")}, want: []string{"f32[1,1,10,10]"}},
		{name: "unknown scales", op: OpResize, in: []*Value{f32("N,3,8,8"), nil, f32("4")}, want: []string{"f32[?,?,?,?]"}},
		{name: "none", op: OpResize, in: []*Value{f32("N,3,8,8")}, err: "one of scales"},
		{name: "both", op: OpResize, in: []*Value{f32("N,3,8,8"), nil, f32s(1, 1, 2, 2), i64s(1, 3, 16, 16)}, err: "both scales and sizes"},
		{name: "scales length", op: OpResize, in: []*Value{f32("N,3,8,8"), nil, f32s(2, 2)}, err: "scales has 2 values, want 4"},
		{name: "mode", op: OpResize, in: []*Value{f32("N,3,8,8"), nil, f32s(1, 1, 2, 2)}, attrs: []Attr{StrAttr("mode", "area")}, err: `mode "area"`},

		{name: "axes", op: OpReduceMean, in: []*Value{f32("N,64,7,7")}, attrs: []Attr{IntsAttr("axes", 2, 3), IntAttr("keepdims", 0)}, want: []string{"f32[N,64]"}},
		{name: "keepdims", op: OpReduceMean, in: []*Value{f32("N,64,7,7")}, attrs: []Attr{IntsAttr("axes", -1, -2)}, want: []string{"f32[N,64,1,1]"}},
		{name: "all", op: OpReduceMean, in: []*Value{f32("N,64,7,7")}, attrs: []Attr{IntAttr("keepdims", 0)}, want: []string{"f32[]"}},
		{name: "repeated", op: OpReduceMean, in: []*Value{f32("N,64,7,7")}, attrs: []Attr{IntsAttr("axes", 1, -3)}, err: "repeated"},
	})
}

func TestEveryOpHasInferAndCost(t *testing.T) {
	for _, op := range Ops() {
		if op.Info().Infer == nil {
			t.Errorf("%v has no Infer", op)
		}
		if op.Info().Cost == nil {
			t.Errorf("%v has no Cost", op)
		}
	}
}

func TestConstValue(t *testing.T) {
	p := i64s(1, 2)
	c := constNode(NewInt64([]int64{1}, []int64{7}))
	ints := mustNode(OpConstant, nil, IntsAttr("value_ints", 4, 5))
	relu := mustNode(OpRelu, []*Value{f32("2")})
	for _, tc := range []struct {
		name string
		v    *Value
		want []int64 // nil: not constant
	}{
		{"param", p, []int64{1, 2}},
		{"Constant", c, []int64{7}},
		{"value_ints", ints, []int64{4, 5}},
		{"input", val(Int64, "2"), nil},
		{"node output", relu, nil},
		{"nil", nil, nil},
	} {
		got := ConstValue(tc.v)
		if (got == nil) != (tc.want == nil) {
			t.Errorf("%s: ConstValue = %v, want %v", tc.name, got, tc.want)
			continue
		}
		if got != nil && fmt.Sprint(got.Int64s()) != fmt.Sprint(tc.want) {
			t.Errorf("%s: ConstValue holds %v, want %v", tc.name, got.Int64s(), tc.want)
		}
	}
}

func TestInferShapesReportsEveryFailure(t *testing.T) {
	x := &Value{Name: "x", DType: Float32, Shape: sh("N,3,8,8")}
	w := weights(4, 5, 3, 3) // wrong C_in
	c1 := &Node{Name: "c1", Op: OpConv, Inputs: []*Value{x, w}}
	c1.Outputs = []*Value{{Name: "c1", Def: c1}}
	r := &Node{Name: "r", Op: OpRelu, Inputs: c1.Outputs}
	r.Outputs = []*Value{{Name: "r", Def: r}}
	bad := &Node{Name: "t", Op: OpTranspose, Inputs: []*Value{x}, Attrs: []Attr{IntsAttr("perm", 0, 1)}}
	bad.Outputs = []*Value{{Name: "t", Def: bad}}
	ok := &Node{Name: "ok", Op: OpSigmoid, Inputs: []*Value{x}}
	ok.Outputs = []*Value{{Name: "ok", Def: ok}}
	g := &Graph{Inputs: []*Value{x}, Params: []*Value{w}, Nodes: []*Node{c1, r, bad, ok}}
	err := InferShapes(g)
	if err == nil {
		t.Fatal("InferShapes succeeded on a graph with two bad nodes")
	}
	msg := err.Error()
	for _, want := range []string{`ir: node "c1" (Conv): input X has 3 channels`, `ir: node "t" (Transpose): perm [0 1]`} {
		if !strings.Contains(msg, want) {
			t.Errorf("error %q does not mention %q", msg, want)
		}
	}
	if strings.Contains(msg, `"r"`) {
		t.Errorf("error %q blames the Relu after the failed Conv", msg)
	}
	if got := typeString(r.Outputs[0]); got != "undef[*]" {
		t.Errorf("Relu after failed Conv: %s, want undef[*]", got)
	}
	if got := typeString(ok.Outputs[0]); got != "f32[N,3,8,8]" {
		t.Errorf("node after the failures: %s, want f32[N,3,8,8]", got)
	}
	var joined interface{ Unwrap() []error }
	if !errors.As(err, &joined) || len(joined.Unwrap()) != 2 {
		t.Errorf("want 2 joined errors, got %v", err)
	}
}

func TestInferOutputsDoNotAliasInputs(t *testing.T) {
	x := f32("N,3")
	y := mustNode(OpRelu, []*Value{x})
	y.Shape[1] = D(99)
	if x.Shape[1] != D(3) {
		t.Fatalf("changing the output shape changed the input: %v", x.Shape)
	}
}

// TestInferNoPanic calls every op's Infer directly (as the verifier does,
// without InferNode's arity check) on malformed inputs: it may fail but must
// not panic.
func TestInferNoPanic(t *testing.T) {
	inputs := [][]*Value{
		nil,
		{nil},
		{nil, nil, nil, nil, nil},
		{f32("*"), f32("*"), f32("*"), f32("*"), f32("*")},
		{f32(""), f32(""), f32(""), f32(""), f32("")},
		{f32("0"), i64s(), i64s(), i64s(), i64s()},
		{f32("N,3,8,8"), i64s(-1, -1, -1, -1, -1, -1, -1, -1), i64s(math.MinInt64), i64s(math.MaxInt64), i64s(math.MinInt64)},
		{f32("N,3,8,8"), val(Int64, "1000000000000"), val(Int64, "1000000000000"), val(Int64, "1000000000000")},
		{f32("2,3"), f32s(1e30, -1), f32s(), f32s(0, 0, 0, 0)},
		{f32("?,?,?,?"), weights(4, 3, 3, 3), weights(4), weights(4), weights(4)},
	}
	attrs := [][]Attr{
		nil,
		{IntsAttr("kernel_shape"), IntsAttr("strides"), IntsAttr("pads"), IntAttr("axis", math.MaxInt64), IntsAttr("perm", 5, -7)},
		{IntsAttr("kernel_shape", 0, -1), IntsAttr("strides", 1, 1), IntAttr("group", math.MinInt64), IntsAttr("axes", 0, 0), IntAttr("to", -1)},
	}
	for _, op := range Ops() {
		for i, ins := range inputs {
			for j, as := range attrs {
				for nout := 0; nout <= 3; nout++ {
					n := &Node{Name: "n", Op: op, Inputs: ins, Attrs: as}
					for k := 0; k < nout; k++ {
						n.Outputs = append(n.Outputs, &Value{Name: "o", Def: n})
					}
					func() {
						defer func() {
							if r := recover(); r != nil {
								t.Errorf("%v inputs %d attrs %d outputs %d: panic %v", op, i, j, nout, r)
							}
						}()
						_ = op.Info().Infer(n)
						if nout > 0 {
							_ = op.Info().Cost(n)
						}
					}()
				}
			}
		}
	}
}
