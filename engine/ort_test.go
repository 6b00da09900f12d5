package engine_test

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/ferminets/fermi/engine"
	"github.com/ferminets/fermi/ir"
	"github.com/ferminets/fermi/onnxio"
	"github.com/ferminets/fermi/onnxio/backendtest"
	"github.com/ferminets/fermi/ortrun"
)

// ortCase is one single-node graph checked against ONNX Runtime: input 0 is
// a random graph input of shape x; the other inputs are parameters.
type ortCase struct {
	name   string
	op     ir.Op
	x      []int64
	params []*ir.Tensor // nil entries are omitted inputs
	attrs  []ir.Attr
	nout   int
}

func randF32(rng *rand.Rand, dims ...int64) *ir.Tensor {
	t := ir.NewFloat32(dims, make([]float32, ir.NumElements(dims)))
	for i := range t.F32 {
		t.F32[i] = float32(rng.NormFloat64())
	}
	return t
}

func ints64(v ...int64) []int64 { return v }
func f32s(v ...float32) *ir.Tensor {
	return ir.NewFloat32([]int64{int64(len(v))}, v)
}
func i64s(v ...int64) *ir.Tensor { return ir.NewInt64([]int64{int64(len(v))}, v) }

// ortCases cover attribute combinations the ONNX node tests leave out.
func ortCases(rng *rand.Rand) []ortCase {
	ia, fa, sa, ila := ir.IntAttr, ir.FloatAttr, ir.StrAttr, ir.IntsAttr
	w := func(d ...int64) *ir.Tensor { return randF32(rng, d...) }
	cs := []ortCase{
		{name: "conv-same-lower-stride-dilation", op: ir.OpConv, x: ints64(2, 4, 9, 8), params: []*ir.Tensor{w(6, 2, 3, 2), w(6)},
			attrs: []ir.Attr{ia("group", 2), sa("auto_pad", "SAME_LOWER"), ila("strides", 2, 3)}}, // ORT: no dilations with SAME
		{name: "conv-3d-depthwise", op: ir.OpConv, x: ints64(1, 3, 5, 6, 4), params: []*ir.Tensor{w(3, 1, 3, 3, 2)},
			attrs: []ir.Attr{ia("group", 3), ila("pads", 1, 0, 1, 1, 2, 0), ila("strides", 1, 2, 1)}},
		{name: "conv-1d", op: ir.OpConv, x: ints64(2, 3, 17), params: []*ir.Tensor{w(5, 3, 4), w(5)},
			attrs: []ir.Attr{ila("pads", 3, 1), ila("strides", 2), ila("dilations", 3)}},
		{name: "convtranspose-same-lower", op: ir.OpConvTranspose, x: ints64(1, 2, 4, 5), params: []*ir.Tensor{w(2, 3, 3, 3), w(3)},
			attrs: []ir.Attr{sa("auto_pad", "SAME_LOWER"), ila("strides", 2, 2)}},
		{name: "convtranspose-output-shape-group", op: ir.OpConvTranspose, x: ints64(2, 4, 3, 3), params: []*ir.Tensor{w(4, 1, 3, 2)},
			attrs: []ir.Attr{ia("group", 2), ila("strides", 3, 2), ila("dilations", 1, 2), ila("output_shape", 10, 8)}},
		{name: "convtranspose-pads-outpad", op: ir.OpConvTranspose, x: ints64(1, 3, 4, 4), params: []*ir.Tensor{w(3, 2, 4, 3)},
			attrs: []ir.Attr{ila("strides", 3, 2), ila("pads", 2, 1, 1, 0), ila("output_padding", 2, 1)}},
		{name: "maxpool-ceil-dilation-pads", op: ir.OpMaxPool, x: ints64(1, 2, 10, 9),
			attrs: []ir.Attr{ila("kernel_shape", 3, 2), ila("strides", 2, 3), ila("dilations", 2, 1), ila("pads", 1, 0, 1, 1), ia("ceil_mode", 1)}},
		{name: "maxpool-argmax", op: ir.OpMaxPool, x: ints64(2, 3, 7, 6), nout: 2,
			attrs: []ir.Attr{ila("kernel_shape", 3, 3), ila("strides", 2, 2), ila("pads", 1, 1, 1, 1)}},
		{name: "maxpool-2x2-stride2-odd", op: ir.OpMaxPool, x: ints64(2, 3, 9, 7),
			attrs: []ir.Attr{ila("kernel_shape", 2, 2), ila("strides", 2, 2)}},
		{name: "maxpool-3d-same-upper", op: ir.OpMaxPool, x: ints64(1, 1, 5, 6, 7),
			attrs: []ir.Attr{ila("kernel_shape", 2, 3, 2), ila("strides", 2, 2, 3), sa("auto_pad", "SAME_UPPER")}},
		{name: "averagepool-ceil-include-pad", op: ir.OpAveragePool, x: ints64(1, 2, 7, 8),
			attrs: []ir.Attr{ila("kernel_shape", 3, 3), ila("strides", 2, 2), ila("pads", 1, 1, 1, 1), ia("ceil_mode", 1), ia("count_include_pad", 1)}},
		{name: "averagepool-ceil-exclude-pad", op: ir.OpAveragePool, x: ints64(1, 2, 7, 8),
			attrs: []ir.Attr{ila("kernel_shape", 3, 2), ila("strides", 2, 3), ila("pads", 1, 0, 2, 1), ia("ceil_mode", 1)}},
		{name: "averagepool-same-lower", op: ir.OpAveragePool, x: ints64(1, 1, 6, 5),
			attrs: []ir.Attr{ila("kernel_shape", 3, 2), ila("strides", 2, 1), sa("auto_pad", "SAME_LOWER"), ia("count_include_pad", 1)}},
		{name: "globalaveragepool", op: ir.OpGlobalAveragePool, x: ints64(2, 3, 5, 4)},
		{name: "batchnorm", op: ir.OpBatchNorm, x: ints64(2, 3, 4, 5), params: []*ir.Tensor{w(3), w(3), w(3), f32s(0.5, 1, 2)},
			attrs: []ir.Attr{fa("epsilon", 1e-3)}},
		{name: "softmax-axis1", op: ir.OpSoftmax, x: ints64(2, 3, 4, 2), attrs: []ir.Attr{ia("axis", 1)}},
		{name: "reducemean-neg-axes", op: ir.OpReduceMean, x: ints64(2, 3, 4, 5), attrs: []ir.Attr{ila("axes", -1, 1), ia("keepdims", 0)}},
		{name: "gemm-trans-colbias", op: ir.OpGemm, x: ints64(4, 3), params: []*ir.Tensor{w(5, 4), w(3, 1)},
			attrs: []ir.Attr{ia("transA", 1), ia("transB", 1), fa("alpha", 0.5), fa("beta", 2)}},
		{name: "matmul-broadcast", op: ir.OpMatMul, x: ints64(2, 1, 3, 4), params: []*ir.Tensor{w(5, 4, 2)}},
		{name: "pad-reflect-4d", op: ir.OpPad, x: ints64(1, 2, 4, 5), params: []*ir.Tensor{i64s(0, 1, 3, 2, 0, 0, 2, 4)}, attrs: []ir.Attr{sa("mode", "reflect")}},
		{name: "pad-edge-4d", op: ir.OpPad, x: ints64(1, 2, 3, 3), params: []*ir.Tensor{i64s(0, 0, 4, 1, 0, 1, 0, 5)}, attrs: []ir.Attr{sa("mode", "edge")}},
		{name: "pad-constant-crop", op: ir.OpPad, x: ints64(2, 5), params: []*ir.Tensor{i64s(1, -2, -1, 3), ir.NewFloat32(nil, []float32{7})}},
		{name: "slice-neg-steps", op: ir.OpSlice, x: ints64(4, 6, 5), params: []*ir.Tensor{i64s(-1, 5, 1), i64s(-100, 0, 100), i64s(1, 2, 0), i64s(-2, -1, 2)}},
		{name: "transpose", op: ir.OpTranspose, x: ints64(2, 3, 4, 5), attrs: []ir.Attr{ila("perm", 0, 2, 3, 1)}},
		{name: "hardsigmoid", op: ir.OpHardSigmoid, x: ints64(3, 7), attrs: []ir.Attr{fa("alpha", 0.3), fa("beta", 0.4)}},
		{name: "hardswish", op: ir.OpHardSwish, x: ints64(50)},
		{name: "erf", op: ir.OpErf, x: ints64(50)},
		{name: "sigmoid", op: ir.OpSigmoid, x: ints64(50)},
		{name: "quantize-per-axis-int8", op: ir.OpQuantizeLinear, x: ints64(2, 3, 4),
			params: []*ir.Tensor{f32s(0.01, 0.02, 0.05), {DType: ir.Int8, Dims: []int64{3}, Raw: []byte{0, 3, 0xfd}}}, attrs: []ir.Attr{ia("axis", 1)}},
		{name: "clip", op: ir.OpClip, x: ints64(4, 5), params: []*ir.Tensor{ir.NewFloat32(nil, []float32{-0.5}), ir.NewFloat32(nil, []float32{0.7})}},
		{name: "gather-axis1", op: ir.OpGather, x: ints64(3, 5, 2), params: []*ir.Tensor{ir.NewInt64([]int64{2, 2}, []int64{-1, 0, 3, -5})}, attrs: []ir.Attr{ia("axis", 1)}},
		{name: "split-sizes", op: ir.OpSplit, x: ints64(2, 7), params: []*ir.Tensor{i64s(2, 0, 5)}, attrs: []ir.Attr{ia("axis", 1)}, nout: 3},
		{name: "concat-self", op: ir.OpConcat, x: ints64(2, 3), params: []*ir.Tensor{w(2, 1)}, attrs: []ir.Attr{ia("axis", -1)}},
		{name: "flatten", op: ir.OpFlatten, x: ints64(2, 3, 4), attrs: []ir.Attr{ia("axis", -1)}},
		{name: "mul-broadcast", op: ir.OpMul, x: ints64(2, 3, 4, 5), params: []*ir.Tensor{w(3, 1, 1)}},
		{name: "sub-broadcast", op: ir.OpSub, x: ints64(3, 1), params: []*ir.Tensor{w(2, 1, 4)}},
		{name: "div", op: ir.OpDiv, x: ints64(6), params: []*ir.Tensor{w(6)}},
		{name: "pow", op: ir.OpPow, x: ints64(6), params: []*ir.Tensor{f32s(2, 3, 0.5, -1, 1.5, 0)}},
		{name: "leakyrelu", op: ir.OpLeakyRelu, x: ints64(50), attrs: []ir.Attr{fa("alpha", 0.2)}},
		{name: "tanh", op: ir.OpTanh, x: ints64(50)},
		{name: "sqrt", op: ir.OpSqrt, x: ints64(50)},
	}
	// Resize: every mode × coordinate transform, up and down. The scales
	// give whole output sizes (5·1.6, 4·2.5; 5·0.6, 4·0.75): for align_corners
	// and tf_crop_and_resize with fractional dim·scale, ONNX Runtime uses the
	// rounded output size where the ONNX reference (and the engine) use dim·scale.
	for _, mode := range []string{"nearest", "linear", "cubic"} {
		for _, ctm := range []string{"half_pixel", "pytorch_half_pixel", "align_corners", "asymmetric", "tf_crop_and_resize"} {
			for _, sc := range [][]float32{{1, 1, 1.6, 2.5}, {1, 1, 0.6, 0.75}} {
				c := ortCase{name: fmt.Sprintf("resize-%s-%s-%v", mode, ctm, sc), op: ir.OpResize, x: ints64(1, 2, 5, 4),
					params: []*ir.Tensor{nil, f32s(sc...)}, attrs: []ir.Attr{sa("mode", mode), sa("coordinate_transformation_mode", ctm)}}
				if ctm == "tf_crop_and_resize" {
					c.params[0] = f32s(0, 0, 0.2, -0.1, 1, 1, 0.9, 1.2)
					c.attrs = append(c.attrs, fa("extrapolation_value", 5))
				}
				cs = append(cs, c)
			}
		}
	}
	for _, nm := range []string{"round_prefer_floor", "round_prefer_ceil", "floor", "ceil"} {
		cs = append(cs, ortCase{name: "resize-nearest-sizes-" + nm, op: ir.OpResize, x: ints64(1, 1, 4, 6),
			params: []*ir.Tensor{nil, nil, i64s(1, 1, 7, 4)}, attrs: []ir.Attr{sa("nearest_mode", nm), sa("coordinate_transformation_mode", "asymmetric")}})
	}
	cs = append(cs, ortCase{name: "resize-linear-half-pixel-fractional", op: ir.OpResize, x: ints64(1, 1, 5, 7),
		params: []*ir.Tensor{nil, f32s(1, 1, 1.7, 0.55)}, attrs: []ir.Attr{sa("mode", "linear")}})
	cs = append(cs, ortCase{name: "resize-cubic-exclude-outside", op: ir.OpResize, x: ints64(1, 1, 4, 4),
		params: []*ir.Tensor{nil, f32s(1, 1, 1.5, 0.75)}, attrs: []ir.Attr{sa("mode", "cubic"), ia("exclude_outside", 1), fa("cubic_coeff_a", -0.5)}})
	return cs
}

// TestOpsAgainstORT runs each ortCase in the engine and in ONNX Runtime
// (opset 17 export, graph optimizations off) and compares the outputs.
func TestOpsAgainstORT(t *testing.T) {
	ortrun.Require(t)
	rng := rand.New(rand.NewPCG(21, 22))
	for _, c := range ortCases(rng) {
		t.Run(c.name, func(t *testing.T) {
			b := ir.NewBuilder(c.name)
			x := randF32(rng, c.x...)
			ins := []*ir.Value{b.Input("x", ir.Float32, ir.Static(c.x...))}
			for i, p := range c.params {
				if p == nil {
					ins = append(ins, nil)
				} else {
					ins = append(ins, b.Param(fmt.Sprintf("p%d", i), p))
				}
			}
			b.Output(b.NodeN(c.op, "n", max(c.nout, 1), ins, c.attrs...)...)
			g, err := b.Build()
			if err != nil {
				t.Fatal(err)
			}
			model, err := onnxio.Encode(g, onnxio.WriteOptions{Opset: 17})
			if err != nil {
				t.Fatal(err)
			}
			feeds := map[string]*ir.Tensor{"x": x}
			want, err := ortrun.Run(model, feeds, ortrun.Options{OptLevel: ortrun.OptDisabled})
			if err != nil {
				t.Fatal(err)
			}
			e, err := engine.New(g)
			if err != nil {
				t.Fatal(err)
			}
			got, err := e.Run(feeds)
			if err != nil {
				t.Fatal(err)
			}
			for i, v := range g.Outputs {
				if msg := backendtest.CloseTo(got[i], want[v.Name], 1e-4, 1e-5); msg != "" {
					t.Errorf("output %d: %s", i, msg)
				}
			}
		})
	}
}
