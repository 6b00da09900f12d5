package engine

import (
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/ferminets/fermi/ir"
)

// f32 and i64 build test tensors: f32(dims, data...).
func f32(dims []int64, data ...float32) *ir.Tensor { return ir.NewFloat32(dims, data) }
func i64(dims []int64, data ...int64) *ir.Tensor   { return ir.NewInt64(dims, data) }
func raw(dt ir.DType, dims []int64, data ...byte) *ir.Tensor {
	return &ir.Tensor{DType: dt, Dims: dims, Raw: data}
}
func d(v ...int64) []int64 { return v }

// graph1 returns a graph with one node of op whose inputs are graph inputs
// (nil: omitted) and whose nout outputs are graph outputs.
func graph1(op ir.Op, attrs []ir.Attr, in []*ir.Tensor, nout int) (*ir.Graph, map[string]*ir.Tensor) {
	g := &ir.Graph{Name: "t"}
	n := &ir.Node{Name: "n", Op: op, Attrs: attrs}
	feeds := map[string]*ir.Tensor{}
	for i, t := range in {
		if t == nil {
			n.Inputs = append(n.Inputs, nil)
			continue
		}
		v := &ir.Value{Name: "in" + string(rune('0'+i)), DType: t.DType, Shape: ir.Static(t.Dims...)}
		g.Inputs = append(g.Inputs, v)
		n.Inputs = append(n.Inputs, v)
		feeds[v.Name] = t
	}
	for i := 0; i < nout; i++ {
		v := &ir.Value{Name: "out" + string(rune('0'+i)), Def: n}
		n.Outputs = append(n.Outputs, v)
		g.Outputs = append(g.Outputs, v)
	}
	g.Nodes = []*ir.Node{n}
	return g, feeds
}

func run1(op ir.Op, attrs []ir.Attr, in []*ir.Tensor, nout int, opts ...Option) ([]*ir.Tensor, error) {
	g, feeds := graph1(op, attrs, in, nout)
	e, err := New(g, opts...)
	if err != nil {
		return nil, err
	}
	return e.Run(feeds)
}

// sameTensor reports how got differs from want ("" if it does not): dtype,
// dims and values within tol (absolute and relative).
func sameTensor(got, want *ir.Tensor, tol float64) string {
	if got == nil {
		return "no tensor"
	}
	if got.DType != want.DType || !sameDims(got.Dims, want.Dims) {
		return fmt.Sprintf("got %v%v, want %v%v", got.DType, got.Dims, want.DType, want.Dims)
	}
	if want.DType == ir.Float32 {
		for i, w := range want.F32 {
			g := got.F32[i]
			if math.IsNaN(float64(w)) != math.IsNaN(float64(g)) ||
				math.Abs(float64(g-w)) > tol+tol*math.Abs(float64(w)) {
				return fmt.Sprintf("got %v, want %v", got.F32, want.F32)
			}
		}
		return ""
	}
	gv, wv := got.Float64s(), want.Float64s()
	for i := range wv {
		if gv[i] != wv[i] {
			return fmt.Sprintf("got %v, want %v", gv, wv)
		}
	}
	return ""
}

func ia(name string, v int64) ir.Attr          { return ir.IntAttr(name, v) }
func fa(name string, v float32) ir.Attr        { return ir.FloatAttr(name, v) }
func sa(name, v string) ir.Attr                { return ir.StrAttr(name, v) }
func ila(name string, v ...int64) ir.Attr      { return ir.IntsAttr(name, v...) }
func at(a ...ir.Attr) []ir.Attr                { return a }
func ins(t ...*ir.Tensor) []*ir.Tensor         { return t }
func outs(t ...*ir.Tensor) []*ir.Tensor        { return t }
func tensorAttr(t *ir.Tensor) []ir.Attr        { return []ir.Attr{ir.TensorAttr("value", t)} }
func boolT(dims []int64, v ...byte) *ir.Tensor { return raw(ir.Bool, dims, v...) }

// opCases are small cases whose expected outputs were computed by hand.
var opCases = []struct {
	name  string
	op    ir.Op
	attrs []ir.Attr
	in    []*ir.Tensor
	want  []*ir.Tensor
}{
	// Elementwise.
	{"relu", ir.OpRelu, nil, ins(f32(d(4), -1, 0, 2, -0.5)), outs(f32(d(4), 0, 0, 2, 0))},
	{"leakyrelu", ir.OpLeakyRelu, at(fa("alpha", 0.1)), ins(f32(d(3), -2, 0, 3)), outs(f32(d(3), -0.2, 0, 3))},
	{"leakyrelu-default", ir.OpLeakyRelu, nil, ins(f32(d(1), -100)), outs(f32(d(1), -1))},
	{"sigmoid", ir.OpSigmoid, nil, ins(f32(d(2), 0, float32(math.Log(3)))), outs(f32(d(2), 0.5, 0.75))},
	{"hardsigmoid", ir.OpHardSigmoid, nil, ins(f32(d(3), -5, 0, 1)), outs(f32(d(3), 0, 0.5, 0.7))},
	{"hardswish", ir.OpHardSwish, nil, ins(f32(d(4), -3, -1, 1, 3)), outs(f32(d(4), 0, -1.0/3, 2.0/3, 3))},
	{"tanh", ir.OpTanh, nil, ins(f32(d(2), 0, float32(math.Log(2)))), outs(f32(d(2), 0, 0.6))},
	{"erf", ir.OpErf, nil, ins(f32(d(2), 0, 10)), outs(f32(d(2), 0, 1))},
	{"sqrt", ir.OpSqrt, nil, ins(f32(d(2), 4, 2.25)), outs(f32(d(2), 2, 1.5))},
	{"add-broadcast", ir.OpAdd, nil, ins(f32(d(2, 3), 1, 2, 3, 4, 5, 6), f32(d(3), 10, 20, 30)), outs(f32(d(2, 3), 11, 22, 33, 14, 25, 36))},
	{"sub-col-row", ir.OpSub, nil, ins(f32(d(2, 1), 10, 20), f32(d(1, 3), 1, 2, 3)), outs(f32(d(2, 3), 9, 8, 7, 19, 18, 17))},
	{"mul-scalar", ir.OpMul, nil, ins(f32(d(), 2), f32(d(2, 2), 1, 2, 3, 4)), outs(f32(d(2, 2), 2, 4, 6, 8))},
	{"mul-chw", ir.OpMul, nil, ins(f32(d(1, 2, 1, 2), 1, 2, 3, 4), f32(d(2, 1, 1), 10, 100)), outs(f32(d(1, 2, 1, 2), 10, 20, 300, 400))},
	{"div", ir.OpDiv, nil, ins(f32(d(2), 1, -3), f32(d(2), 4, 2)), outs(f32(d(2), 0.25, -1.5))},
	{"pow", ir.OpPow, nil, ins(f32(d(3), 2, 9, -2), f32(d(3), 3, 0.5, 2)), outs(f32(d(3), 8, 3, 4))},
	{"pow-f32-i64", ir.OpPow, nil, ins(f32(d(2), 1.5, 2), i64(d(1), 2)), outs(f32(d(2), 2.25, 4))},
	{"pow-i64-f32", ir.OpPow, nil, ins(i64(d(2), 3, 4), f32(d(1), 0.5)), outs(i64(d(2), 1, 2))},
	{"add-i64", ir.OpAdd, nil, ins(i64(d(2), 1, 2), i64(d(), 5)), outs(i64(d(2), 6, 7))},
	{"div-i64-truncates", ir.OpDiv, nil, ins(i64(d(2), 7, -7), i64(d(), 2)), outs(i64(d(2), 3, -3))},
	{"pow-i64", ir.OpPow, nil, ins(i64(d(3), 3, -2, 5), i64(d(3), 4, 3, 0)), outs(i64(d(3), 81, -8, 1))},
	{"clip", ir.OpClip, nil, ins(f32(d(4), -2, 0.5, 3, 7), f32(d(), 0), f32(d(), 6)), outs(f32(d(4), 0, 0.5, 3, 6))},
	{"clip-max-only", ir.OpClip, nil, ins(f32(d(3), -2, 0.5, 9), nil, f32(d(), 1)), outs(f32(d(3), -2, 0.5, 1))},
	{"clip-none", ir.OpClip, nil, ins(f32(d(2), -1e30, 1e30)), outs(f32(d(2), -1e30, 1e30))},
	{"clip-i64", ir.OpClip, nil, ins(i64(d(3), -5, 2, 9), i64(d(), 0), i64(d(), 4)), outs(i64(d(3), 0, 2, 4))},
	{"cast-f32-i64", ir.OpCast, at(ia("to", int64(ir.Int64))), ins(f32(d(3), -1.7, 2.9, 0)), outs(i64(d(3), -1, 2, 0))},
	{"cast-i64-f32", ir.OpCast, at(ia("to", int64(ir.Float32))), ins(i64(d(2), -3, 1<<24)), outs(f32(d(2), -3, 1<<24))},
	{"cast-f32-bool", ir.OpCast, at(ia("to", int64(ir.Bool))), ins(f32(d(3), 0, -0.1, 2)), outs(boolT(d(3), 0, 1, 1))},
	{"cast-f32-u8", ir.OpCast, at(ia("to", int64(ir.Uint8))), ins(f32(d(2), 3.9, 200)), outs(raw(ir.Uint8, d(2), 3, 200))},
	{"cast-i8-i64", ir.OpCast, at(ia("to", int64(ir.Int64))), ins(raw(ir.Int8, d(2), 0xff, 0x7f)), outs(i64(d(2), -1, 127))},

	// Shape ops.
	{"concat", ir.OpConcat, at(ia("axis", 1)), ins(f32(d(2, 1), 1, 2), f32(d(2, 2), 3, 4, 5, 6)), outs(f32(d(2, 3), 1, 3, 4, 2, 5, 6))},
	{"concat-neg-axis-i64", ir.OpConcat, at(ia("axis", -1)), ins(i64(d(1), 7), i64(d(0)), i64(d(2), 8, 9)), outs(i64(d(3), 7, 8, 9))},
	{"slice", ir.OpSlice, nil, ins(f32(d(2, 4), 0, 1, 2, 3, 4, 5, 6, 7), i64(d(2), 1, 1), i64(d(2), 2, 3)), outs(f32(d(1, 2), 5, 6))},
	{"slice-neg-step", ir.OpSlice, nil, ins(f32(d(5), 0, 1, 2, 3, 4), i64(d(1), -1), i64(d(1), math.MinInt64), i64(d(1), 0), i64(d(1), -2)), outs(f32(d(3), 4, 2, 0))},
	{"slice-clamp", ir.OpSlice, nil, ins(f32(d(3), 0, 1, 2), i64(d(1), -10), i64(d(1), 100)), outs(f32(d(3), 0, 1, 2))},
	{"slice-axes-empty", ir.OpSlice, nil, ins(f32(d(2, 3), 0, 1, 2, 3, 4, 5), i64(d(1), 2), i64(d(1), 1), i64(d(1), -1)), outs(f32(d(2, 0)))},
	{"transpose", ir.OpTranspose, nil, ins(f32(d(2, 3), 1, 2, 3, 4, 5, 6)), outs(f32(d(3, 2), 1, 4, 2, 5, 3, 6))},
	{"transpose-perm", ir.OpTranspose, at(ila("perm", 1, 2, 0)), ins(f32(d(2, 1, 2), 1, 2, 3, 4)), outs(f32(d(1, 2, 2), 1, 3, 2, 4))},
	{"reshape", ir.OpReshape, nil, ins(f32(d(2, 3), 1, 2, 3, 4, 5, 6), i64(d(2), 0, -1)), outs(f32(d(2, 3), 1, 2, 3, 4, 5, 6))},
	{"reshape-infer", ir.OpReshape, nil, ins(f32(d(2, 3), 1, 2, 3, 4, 5, 6), i64(d(3), -1, 1, 2)), outs(f32(d(3, 1, 2), 1, 2, 3, 4, 5, 6))},
	{"flatten", ir.OpFlatten, at(ia("axis", 2)), ins(f32(d(1, 2, 1, 2), 1, 2, 3, 4)), outs(f32(d(2, 2), 1, 2, 3, 4))},
	{"flatten-0", ir.OpFlatten, at(ia("axis", 0)), ins(f32(d(2, 1), 1, 2)), outs(f32(d(1, 2), 1, 2))},
	{"squeeze-all", ir.OpSqueeze, nil, ins(f32(d(1, 2, 1), 1, 2)), outs(f32(d(2), 1, 2))},
	{"squeeze-axis", ir.OpSqueeze, nil, ins(f32(d(1, 2, 1), 1, 2), i64(d(1), -1)), outs(f32(d(1, 2), 1, 2))},
	{"unsqueeze", ir.OpUnsqueeze, nil, ins(f32(d(2), 1, 2), i64(d(2), 0, -1)), outs(f32(d(1, 2, 1), 1, 2))},
	{"split-equal", ir.OpSplit, at(ia("axis", 1)), ins(f32(d(2, 4), 0, 1, 2, 3, 4, 5, 6, 7)), outs(f32(d(2, 2), 0, 1, 4, 5), f32(d(2, 2), 2, 3, 6, 7))},
	{"split-uneven", ir.OpSplit, nil, ins(f32(d(5), 0, 1, 2, 3, 4)), outs(f32(d(3), 0, 1, 2), f32(d(2), 3, 4))},
	{"split-sizes", ir.OpSplit, nil, ins(f32(d(4), 0, 1, 2, 3), i64(d(3), 1, 0, 3)), outs(f32(d(1), 0), f32(d(0)), f32(d(3), 1, 2, 3))},
	{"pad-constant", ir.OpPad, nil, ins(f32(d(2), 1, 2), i64(d(2), 1, 2), f32(d(), 9)), outs(f32(d(5), 9, 1, 2, 9, 9))},
	{"pad-reflect", ir.OpPad, at(sa("mode", "reflect")), ins(f32(d(1, 3), 1, 2, 3), i64(d(4), 0, 2, 0, 2)), outs(f32(d(1, 7), 3, 2, 1, 2, 3, 2, 1))},
	{"pad-edge", ir.OpPad, at(sa("mode", "edge")), ins(f32(d(2), 1, 2), i64(d(2), 2, 1)), outs(f32(d(5), 1, 1, 1, 2, 2))},
	{"pad-crop", ir.OpPad, nil, ins(i64(d(4), 1, 2, 3, 4), i64(d(2), -1, 1)), outs(i64(d(4), 2, 3, 4, 0))},
	{"shape", ir.OpShape, nil, ins(f32(d(2, 3, 4), make([]float32, 24)...)), outs(i64(d(3), 2, 3, 4))},
	{"shape-start-end", ir.OpShape, at(ia("start", -2), ia("end", 10)), ins(f32(d(2, 3, 4), make([]float32, 24)...)), outs(i64(d(2), 3, 4))},
	{"gather", ir.OpGather, at(ia("axis", 1)), ins(f32(d(2, 3), 1, 2, 3, 4, 5, 6), i64(d(2), -1, 0)), outs(f32(d(2, 2), 3, 1, 6, 4))},
	{"gather-scalar-index", ir.OpGather, nil, ins(i64(d(3), 7, 8, 9), i64(d(), 1)), outs(i64(d(), 8))},
	{"identity", ir.OpIdentity, nil, ins(i64(d(2), 1, 2)), outs(i64(d(2), 1, 2))},
	{"dropout", ir.OpDropout, nil, ins(f32(d(2), 1, 2)), outs(f32(d(2), 1, 2), boolT(d(2), 1, 1))},
	{"dropout-train-zero-ratio", ir.OpDropout, nil, ins(f32(d(1), 3), f32(d(), 0), boolT(d(), 1)), outs(f32(d(1), 3))},
	{"constant", ir.OpConstant, tensorAttr(i64(d(2), 4, 5)), nil, outs(i64(d(2), 4, 5))},

	// Reductions and normalization.
	{"softmax", ir.OpSoftmax, nil, ins(f32(d(2, 2), 0, float32(math.Log(3)), 1000, 1000)), outs(f32(d(2, 2), 0.25, 0.75, 0.5, 0.5))},
	{"softmax-axis0", ir.OpSoftmax, at(ia("axis", 0)), ins(f32(d(2, 1), 0, 0)), outs(f32(d(2, 1), 0.5, 0.5))},
	{"reducemean-axes", ir.OpReduceMean, at(ila("axes", 1)), ins(f32(d(2, 2), 1, 2, 3, 5)), outs(f32(d(2, 1), 1.5, 4))},
	{"reducemean-all-nokeep", ir.OpReduceMean, at(ia("keepdims", 0)), ins(f32(d(2, 2), 1, 2, 3, 6)), outs(f32(d(), 3))},
	{"globalaveragepool", ir.OpGlobalAveragePool, nil, ins(f32(d(1, 2, 2, 1), 1, 2, 3, 7)), outs(f32(d(1, 2, 1, 1), 1.5, 5))},
	// y = scale·(x−mean)/√(var+eps) + b with √(var+eps) = 2: channel 0 (scale 2, b 0.5, mean 1) maps 3, 5 to
	// 2.5, 4.5; channel 1 (scale 1, b 0, mean 4) maps 4, 8 to 0, 2.
	{"batchnorm", ir.OpBatchNorm, at(fa("epsilon", 0)), ins(f32(d(1, 2, 2), 3, 5, 4, 8), f32(d(2), 2, 1), f32(d(2), 0.5, 0), f32(d(2), 1, 4), f32(d(2), 4, 4)),
		outs(f32(d(1, 2, 2), 2.5, 4.5, 0, 2))},
	// Training: batch mean 2, biased var 1 (x = 1, 3); running = 0·0.5 + 2·0.5, 1·0.5 + 1·0.5.
	{"batchnorm-training", ir.OpBatchNorm, at(fa("epsilon", 0), fa("momentum", 0.5), ia("training_mode", 1)),
		ins(f32(d(2, 1), 1, 3), f32(d(1), 1), f32(d(1), 0), f32(d(1), 0), f32(d(1), 1)),
		outs(f32(d(2, 1), -1, 1), f32(d(1), 1), f32(d(1), 1))},

	// Pools. 3×3 input 1..9.
	{"maxpool", ir.OpMaxPool, at(ila("kernel_shape", 2, 2)), ins(f32(d(1, 1, 3, 3), 1, 2, 3, 4, 5, 6, 7, 8, 9)), outs(f32(d(1, 1, 2, 2), 5, 6, 8, 9))},
	{"maxpool-ceil", ir.OpMaxPool, at(ila("kernel_shape", 2, 2), ila("strides", 2, 2), ia("ceil_mode", 1)), ins(f32(d(1, 1, 3, 3), 1, 2, 3, 4, 5, 6, 7, 8, 9)), outs(f32(d(1, 1, 2, 2), 5, 6, 8, 9))},
	{"maxpool-pads-argmax", ir.OpMaxPool, at(ila("kernel_shape", 2), ila("pads", 1, 1)), ins(f32(d(1, 1, 3), -1, -3, -2)),
		outs(f32(d(1, 1, 4), -1, -1, -2, -2), i64(d(1, 1, 4), 0, 0, 2, 2))},
	{"maxpool-dilation", ir.OpMaxPool, at(ila("kernel_shape", 2), ila("dilations", 2)), ins(f32(d(1, 1, 4), 1, 9, 3, 2)), outs(f32(d(1, 1, 2), 3, 9))},
	{"averagepool-pads", ir.OpAveragePool, at(ila("kernel_shape", 2), ila("pads", 1, 1)), ins(f32(d(1, 1, 2), 2, 4)), outs(f32(d(1, 1, 3), 2, 3, 4))},
	{"averagepool-include-pad", ir.OpAveragePool, at(ila("kernel_shape", 2), ila("pads", 1, 1), ia("count_include_pad", 1)), ins(f32(d(1, 1, 2), 2, 4)), outs(f32(d(1, 1, 3), 1, 3, 2))},
	{"averagepool-ceil", ir.OpAveragePool, at(ila("kernel_shape", 2), ila("strides", 2), ia("ceil_mode", 1)), ins(f32(d(1, 1, 3), 1, 3, 8)), outs(f32(d(1, 1, 2), 2, 8))},
	{"averagepool-same-upper", ir.OpAveragePool, at(ila("kernel_shape", 2), sa("auto_pad", "SAME_UPPER")), ins(f32(d(1, 1, 3), 1, 3, 8)), outs(f32(d(1, 1, 3), 2, 5.5, 8))},

	// Matrix products.
	{"gemm", ir.OpGemm, at(fa("alpha", 2), fa("beta", 0.5), ia("transA", 1)),
		ins(f32(d(2, 1), 1, 2), f32(d(2, 2), 1, 0, 0, 1), f32(d(2), 10, 20)), outs(f32(d(1, 2), 7, 14))},
	{"gemm-transB-colbias", ir.OpGemm, at(ia("transB", 1)),
		ins(f32(d(2, 2), 1, 2, 3, 4), f32(d(1, 2), 1, 1), f32(d(2, 1), 100, 200)), outs(f32(d(2, 1), 103, 207))},
	{"matmul-1d", ir.OpMatMul, nil, ins(f32(d(2), 1, 2), f32(d(2), 3, 4)), outs(f32(d(), 11))},
	{"matmul-batched-broadcast", ir.OpMatMul, nil, ins(f32(d(2, 1, 2), 1, 0, 0, 1), f32(d(2, 1), 5, 7)), outs(f32(d(2, 1, 1), 5, 7))},
	{"matmul-vec-mat", ir.OpMatMul, nil, ins(f32(d(2), 1, 1), f32(d(2, 2, 3), 1, 2, 3, 4, 5, 6, 0, 0, 0, 1, 1, 1)), outs(f32(d(2, 3), 5, 7, 9, 1, 1, 1))},

	// Quantization: round half to even, saturation, per axis.
	{"quantize-int8", ir.OpQuantizeLinear, nil, ins(f32(d(6), 1, 3, 5, -1, 1000, -1000), f32(d(), 2), raw(ir.Int8, d(), 0)),
		outs(raw(ir.Int8, d(6), 0, 2, 2, 0, 127, 0x80))},
	{"quantize-uint8-default", ir.OpQuantizeLinear, nil, ins(f32(d(3), -1, 2.5, 510), f32(d(), 1)), outs(raw(ir.Uint8, d(3), 0, 2, 255))},
	{"quantize-per-axis", ir.OpQuantizeLinear, at(ia("axis", 0)), ins(f32(d(2, 2), 1, 2, 1, 2), f32(d(2), 1, 0.5), raw(ir.Uint8, d(2), 10, 20)),
		outs(raw(ir.Uint8, d(2, 2), 11, 12, 22, 24))},
	{"dequantize", ir.OpDequantizeLinear, nil, ins(raw(ir.Uint8, d(3), 0, 128, 255), f32(d(), 0.5), raw(ir.Uint8, d(), 128)), outs(f32(d(3), -64, 0, 63.5))},
	{"dequantize-per-axis", ir.OpDequantizeLinear, nil, ins(raw(ir.Int8, d(1, 2), 0xfe, 3), f32(d(2), 1, 2), raw(ir.Int8, d(2), 0, 1)), outs(f32(d(1, 2), -2, 4))},

	// Resize.
	{"resize-nearest-asym", ir.OpResize, at(sa("coordinate_transformation_mode", "asymmetric")),
		ins(f32(d(1, 2), 1, 2), nil, f32(d(2), 1, 2)), outs(f32(d(1, 4), 1, 1, 2, 2))},
	// half_pixel 2×: x_in = (o+0.5)/2−0.5 = −0.25, 0.25, 0.75, 1.25 → prefer floor rounds to 0, 0, 1, 1.
	{"resize-nearest-half-pixel", ir.OpResize, nil, ins(f32(d(3), 1, 2, 3), nil, f32(d(1), 2)), outs(f32(d(6), 1, 1, 2, 2, 3, 3))},
	{"resize-linear-align-corners", ir.OpResize, at(sa("mode", "linear"), sa("coordinate_transformation_mode", "align_corners")),
		ins(f32(d(2), 0, 3), nil, nil, i64(d(1), 4)), outs(f32(d(4), 0, 1, 2, 3))},
	// half_pixel linear 2×: −0.25 clamps to 0; 0.25 → 0.75·0+0.25·4.
	{"resize-linear-half-pixel", ir.OpResize, at(sa("mode", "linear")), ins(f32(d(2), 0, 4), nil, f32(d(1), 2)), outs(f32(d(4), 0, 1, 3, 4))},
	// Cubic at an integer coordinate reproduces the input.
	{"resize-cubic-identity-points", ir.OpResize, at(sa("mode", "cubic"), sa("coordinate_transformation_mode", "asymmetric")),
		ins(f32(d(3), 1, 5, 2), nil, f32(d(1), 1)), outs(f32(d(3), 1, 5, 2))},
	{"resize-crop-extrapolate", ir.OpResize, at(sa("mode", "linear"), sa("coordinate_transformation_mode", "tf_crop_and_resize"), fa("extrapolation_value", -1)),
		ins(f32(d(3), 0, 10, 20), f32(d(2), 0.5, 1.5), nil, i64(d(1), 3)), outs(f32(d(3), 10, 20, -1))},
}

func TestOps(t *testing.T) {
	for _, c := range opCases {
		t.Run(c.name, func(t *testing.T) {
			got, err := run1(c.op, c.attrs, c.in, len(c.want))
			if err != nil {
				t.Fatal(err)
			}
			for i, w := range c.want {
				if msg := sameTensor(got[i], w, 1e-6); msg != "" {
					t.Errorf("output %d: %s", i, msg)
				}
			}
		})
	}
}

// TestOpErrors checks that bad data is reported as an error naming the node.
func TestOpErrors(t *testing.T) {
	cases := []struct {
		name  string
		op    ir.Op
		attrs []ir.Attr
		in    []*ir.Tensor
		want  string
	}{
		{"conv-channels", ir.OpConv, nil, ins(f32(d(1, 3, 2, 2), make([]float32, 12)...), f32(d(1, 1, 1, 1), 1)), "input has 3 channels, weight wants 1"},
		{"conv-channels-grouped", ir.OpConv, at(ia("group", 2)), ins(f32(d(1, 3, 2, 2), make([]float32, 12)...), f32(d(2, 1, 1, 1), 1, 1)), "input has 3 channels, weight wants 2 (2 groups of 1)"},
		{"conv-groups-split", ir.OpConv, at(ia("group", 2)), ins(f32(d(1, 2, 1, 1), 1, 1), f32(d(3, 1, 1, 1), 1, 1, 1)), "3 output channels do not split into 2 groups"},
		{"convtranspose-channels", ir.OpConvTranspose, nil, ins(f32(d(1, 2, 1, 1), 1, 1), f32(d(3, 1, 1, 1), 1, 1, 1)), "input has 2 channels, weight wants 3"},
		{"maxpool-no-kernel", ir.OpMaxPool, nil, ins(f32(d(1, 1, 2), 1, 2)), "kernel has 0 spatial dims"},
		{"gemm-inner", ir.OpGemm, nil, ins(f32(d(1, 2), 1, 2), f32(d(3, 1), 1, 2, 3)), "A' is 1×2, B' is 3×1"},
		{"batchnorm-channels", ir.OpBatchNorm, nil, ins(f32(d(1, 2), 1, 2), f32(d(1), 1), f32(d(1), 1), f32(d(1), 1), f32(d(1), 1)), "input has 2 channels, scale has 1"},
		{"concat-shapes", ir.OpConcat, at(ia("axis", 0)), ins(f32(d(1, 2), 1, 2), f32(d(1, 3), 1, 2, 3)), "input 1 has shape [1 3], input 0 [1 2]"},
		{"split-cover", ir.OpSplit, nil, ins(f32(d(3), 1, 2, 3), i64(d(1), 2)), "does not cover axis 0"},
		{"slice-step-zero", ir.OpSlice, nil, ins(f32(d(3), 1, 2, 3), i64(d(1), 0), i64(d(1), 2), i64(d(1), 0), i64(d(1), 0)), "step is 0"},
		{"transpose-perm", ir.OpTranspose, at(ila("perm", 0, 0)), ins(f32(d(1, 1), 1)), "not a permutation"},
		{"pad-reflect-too-big", ir.OpPad, at(sa("mode", "reflect")), ins(f32(d(2), 1, 2), i64(d(2), 2, 0)), "must be smaller than dim"},
		{"quantize-axis-size", ir.OpQuantizeLinear, at(ia("axis", 0)), ins(f32(d(2), 1, 2), f32(d(3), 1, 1, 1)), "scale has 3 values, axis 0 has size 2"},
		{"cast-string", ir.OpCast, at(ia("to", int64(ir.String))), ins(f32(d(1), 1)), "cannot cast f32 to str"},
		{"resize-no-scales", ir.OpResize, nil, ins(f32(d(1), 1)), "neither scales nor sizes"},
		{"conv-rank", ir.OpConv, nil, ins(f32(d(1, 1), 1), f32(d(1, 1), 1)), "input has 2 dims"},
		{"conv-kernel-too-big", ir.OpConv, nil, ins(f32(d(1, 1, 2), 1, 2), f32(d(1, 1, 3), 1, 2, 3)), "larger than the padded input"},
		{"add-broadcast", ir.OpAdd, nil, ins(f32(d(2), 1, 2), f32(d(3), 1, 2, 3)), "do not broadcast"},
		{"div-by-zero", ir.OpDiv, nil, ins(i64(d(1), 1), i64(d(1), 0)), "division by zero"},
		{"reshape", ir.OpReshape, nil, ins(f32(d(3), 1, 2, 3), i64(d(1), 2)), "cannot reshape"},
		{"gather-range", ir.OpGather, nil, ins(f32(d(2), 1, 2), i64(d(1), 2)), "out of range"},
		{"matmul-inner", ir.OpMatMul, nil, ins(f32(d(1, 2), 1, 2), f32(d(3, 1), 1, 2, 3)), "inner dims"},
		{"squeeze-non-one", ir.OpSqueeze, nil, ins(f32(d(2), 1, 2), i64(d(1), 0)), "cannot squeeze"},
		{"relu-i64", ir.OpRelu, nil, ins(i64(d(1), 1)), "want f32"},
		{"resize-antialias", ir.OpResize, at(ia("antialias", 1)), ins(f32(d(1), 1), nil, f32(d(1), 2)), "antialias"},
		{"conv-missing-weight", ir.OpConv, nil, ins(f32(d(1, 1, 1), 1)), "internal error"},
		{"dropout-training", ir.OpDropout, nil, ins(f32(d(1), 1), f32(d(), 0.5), boolT(d(), 1)), "training-mode dropout"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := run1(c.op, c.attrs, c.in, 1)
			if err == nil {
				t.Fatal("no error")
			}
			prefix := `engine: node "n" (` + c.op.String() + `): `
			if !strings.HasPrefix(err.Error(), prefix) || !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %q, want %q ... %q", err, prefix, c.want)
			}
		})
	}
}

func TestNewRejectsOpaque(t *testing.T) {
	g, _ := graph1(ir.OpRelu, nil, ins(f32(d(1), 1)), 1)
	g.Nodes[0].Op, g.Nodes[0].Domain, g.Nodes[0].OpType, g.Nodes[0].Name = ir.OpOpaque, "com.x", "Foo", "custom"
	_, err := New(g)
	if err == nil || !strings.Contains(err.Error(), `"custom" (com.x.Foo)`) {
		t.Errorf("New: %v, want an error naming the opaque node", err)
	}
}

func TestRunChecksInputs(t *testing.T) {
	g, _ := graph1(ir.OpRelu, nil, ins(f32(d(1, 2), 1, 2)), 1)
	g.Inputs[0].Shape = ir.Shape{ir.Sym("N"), ir.D(2)}
	e, err := New(g)
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		in   *ir.Tensor
		want string
	}{
		{f32(d(3, 2), 1, 2, 3, 4, 5, 6), ""}, // N binds to 3
		{f32(d(1, 3), 1, 2, 3), `engine: input "in0" has shape [1 3], want [N,2]`},
		{i64(d(1, 2), 1, 2), `engine: input "in0" is i64, want f32`},
		{f32(d(1, 2), 1), `engine: input "in0": f32 tensor [1 2] holds 1 elements, want 2`},
		{nil, `engine: input "in0" not given`},
	}
	if _, err := e.Run(map[string]*ir.Tensor{"in0": f32(d(1, 2), 1, 2), "typo": f32(d(1), 1)}); err == nil ||
		err.Error() != `engine: graph "t" has no input "typo"` {
		t.Errorf("Run with an unknown input: %v", err)
	}
	for _, c := range cases {
		_, err := e.Run(map[string]*ir.Tensor{"in0": c.in})
		if c.in == nil {
			_, err = e.Run(map[string]*ir.Tensor{})
		}
		got := ""
		if err != nil {
			got = err.Error()
		}
		if got != c.want {
			t.Errorf("Run(%v): error %q, want %q", c.in, got, c.want)
		}
	}
}

// TestRunAll runs x → r = Relu(x) → y = Add(r, x) with outputs (y, r): Run
// must keep r although its last reader ran, and RunAll returns every value.
func TestRunAll(t *testing.T) {
	x := &ir.Value{Name: "x", DType: ir.Float32, Shape: ir.Static(2)}
	relu := &ir.Node{Name: "relu", Op: ir.OpRelu, Inputs: []*ir.Value{x}}
	r := &ir.Value{Name: "r", Def: relu}
	relu.Outputs = []*ir.Value{r}
	add := &ir.Node{Name: "add", Op: ir.OpAdd, Inputs: []*ir.Value{r, x}}
	y := &ir.Value{Name: "y", Def: add}
	add.Outputs = []*ir.Value{y}
	g := &ir.Graph{Name: "g", Inputs: []*ir.Value{x}, Outputs: []*ir.Value{y, r}, Nodes: []*ir.Node{relu, add}}
	e, err := New(g, WithThreads(1))
	if err != nil {
		t.Fatal(err)
	}
	feeds := map[string]*ir.Tensor{"x": f32(d(2), -1, 2)}
	got, err := e.Run(feeds)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || sameTensor(got[0], f32(d(2), -1, 4), 0) != "" || sameTensor(got[1], f32(d(2), 0, 2), 0) != "" {
		t.Errorf("Run = %v", got)
	}
	all, err := e.RunAll(feeds)
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]*ir.Tensor{"x": feeds["x"], "r": f32(d(2), 0, 2), "y": f32(d(2), -1, 4)} {
		if msg := sameTensor(all[name], want, 0); msg != "" {
			t.Errorf("RunAll[%q]: %s", name, msg)
		}
	}
}

// TestBinaryLargeBroadcast checks a broadcast large enough to be split
// across threads against a naive loop over coordinates.
func TestBinaryLargeBroadcast(t *testing.T) {
	a, b := newF32([]int{4, 3, 40, 50}), newF32([]int{3, 1, 50})
	for i := range a.F32 {
		a.F32[i] = float32(i % 97)
	}
	for i := range b.F32 {
		b.F32[i] = float32(i%13) - 6
	}
	want := newF32([]int{4, 3, 40, 50})
	for n := 0; n < 4; n++ {
		for c := 0; c < 3; c++ {
			for h := 0; h < 40; h++ {
				for w := 0; w < 50; w++ {
					i := ((n*3+c)*40+h)*50 + w
					want.F32[i] = a.F32[i] - b.F32[c*50+w]
				}
			}
		}
	}
	for _, threads := range []int{1, 3} {
		got, err := run1(ir.OpSub, nil, ins(a, b), 1, WithThreads(threads))
		if err != nil {
			t.Fatal(err)
		}
		if msg := sameTensor(got[0], want, 0); msg != "" {
			t.Errorf("threads %d: %s", threads, msg)
		}
	}
}

// TestTables checks that every core op has a forward kernel and that the
// elementwise kernels find their op in the scalar tables.
func TestTables(t *testing.T) {
	for _, op := range ir.Ops() {
		k := forwardOf(op)
		if k == nil {
			t.Errorf("%v has no forward kernel", op)
			continue
		}
		name := fmt.Sprintf("%p", k)
		if name == fmt.Sprintf("%p", kernel(unaryOp)) && (int(op) >= len(unaryOps) || unaryOps[op] == nil) {
			t.Errorf("%v uses unaryOp but has no unaryOps entry", op)
		}
		if name == fmt.Sprintf("%p", kernel(binaryOp)) && (int(op) >= len(binaryOps) || binaryOps[op].f == nil || binaryOps[op].i == nil) {
			t.Errorf("%v uses binaryOp but has no binaryOps entry", op)
		}
	}
}

// TestInputDefault: an input holding a value (an ONNX initializer listed
// among the inputs) may be omitted, or fed to override it.
func TestInputDefault(t *testing.T) {
	g, _ := graph1(ir.OpRelu, nil, ins(f32(d(2), -1, 2)), 1)
	g.Inputs[0].Const = f32(d(2), -3, 4)
	e, err := New(g)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		feeds map[string]*ir.Tensor
		want  *ir.Tensor
	}{
		{map[string]*ir.Tensor{}, f32(d(2), 0, 4)},
		{map[string]*ir.Tensor{"in0": f32(d(2), 5, -6)}, f32(d(2), 5, 0)},
	} {
		got, err := e.Run(c.feeds)
		if err != nil {
			t.Fatal(err)
		}
		if msg := sameTensor(got[0], c.want, 0); msg != "" {
			t.Errorf("feeds %v: %s", c.feeds, msg)
		}
	}
}
