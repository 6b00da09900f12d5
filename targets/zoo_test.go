package targets

import (
	"fmt"
	"testing"

	"github.com/ferminets/fermi/ir"
)

// netBuilder builds ImageNet-style networks (NCHW, batch 1, float32) with the
// IR builder, with deterministic random weights.
type netBuilder struct {
	t    testing.TB
	b    *ir.Builder
	seed uint64
	// quant makes every convolution and fully-connected layer a QDQ int8
	// kernel: int8 weights through DequantizeLinear, activations quantized
	// after each layer (see quantize).
	quant bool
}

func newNet(t testing.TB, name string) *netBuilder {
	return &netBuilder{t: t, b: ir.NewBuilder(name)}
}

func (nb *netBuilder) param(name string, dims ...int64) *ir.Value {
	nb.seed++
	return nb.b.Param(name, ir.Init{Kind: "normal", Seed: nb.seed, A: 0, B: 0.05}.Materialize(dims))
}

func (nb *netBuilder) scalar(name string, v float32) *ir.Value {
	return nb.b.Param(name, ir.NewFloat32([]int64{}, []float32{v}))
}

func (nb *netBuilder) int8Param(name string, dims ...int64) *ir.Value {
	n := ir.NumElements(dims)
	raw := make([]byte, n)
	for i := range raw {
		raw[i] = byte(int8((i*7 + int(nb.seed)) % 127))
	}
	nb.seed++
	return nb.b.Param(name, &ir.Tensor{DType: ir.Int8, Dims: dims, Raw: raw})
}

func (nb *netBuilder) int8Scalar(name string) *ir.Value {
	return nb.b.Param(name, &ir.Tensor{DType: ir.Int8, Dims: []int64{}, Raw: []byte{0}})
}

// weight returns a float weight, or an int8 weight behind a DequantizeLinear.
func (nb *netBuilder) weight(name string, dims ...int64) *ir.Value {
	if !nb.quant {
		return nb.param(name, dims...)
	}
	q := nb.int8Param(name+"_q", dims...)
	return nb.b.Node(ir.OpDequantizeLinear, name+"_dq", []*ir.Value{q, nb.scalar(name+"_s", 0.01), nb.int8Scalar(name + "_zp")},
		ir.IntAttr("axis", 0))
}

// quantize rounds x through int8 (QuantizeLinear → DequantizeLinear) when
// building a quantized network.
func (nb *netBuilder) quantize(x *ir.Value, name string) *ir.Value {
	if !nb.quant {
		return x
	}
	q := nb.b.Node(ir.OpQuantizeLinear, name+"_q", []*ir.Value{x, nb.scalar(name+"_qs", 0.05), nb.int8Scalar(name + "_qzp")})
	return nb.b.Node(ir.OpDequantizeLinear, name+"_dq", []*ir.Value{q, nb.scalar(name+"_ds", 0.05), nb.int8Scalar(name + "_dzp")})
}

func channels(x *ir.Value) int64 { return x.Shape[1].Size }

// conv adds a k×k convolution with "same" padding.
func (nb *netBuilder) conv(x *ir.Value, name string, cout, k, stride, groups int64, bias bool) *ir.Value {
	cin := channels(x)
	in := []*ir.Value{x, nb.weight(name+"_w", cout, cin/groups, k, k)}
	if bias {
		in = append(in, nb.param(name+"_b", cout))
	}
	p := k / 2
	return nb.b.Node(ir.OpConv, name, in, ir.IntsAttr("kernel_shape", k, k), ir.IntsAttr("strides", stride, stride),
		ir.IntsAttr("pads", p, p, p, p), ir.IntAttr("group", groups))
}

func (nb *netBuilder) bn(x *ir.Value, name string) *ir.Value {
	c := channels(x)
	nb.seed++
	v := nb.b.Param(name+"_var", ir.Init{Kind: "uniform", Seed: nb.seed, A: 0.5, B: 1.5}.Materialize([]int64{c}))
	return nb.b.Node(ir.OpBatchNorm, name, []*ir.Value{x, nb.param(name+"_scale", c), nb.param(name+"_bias", c), nb.param(name+"_mean", c), v})
}

// act applies "relu", "relu6", "hswish", "hsigmoid" or nothing ("").
func (nb *netBuilder) act(x *ir.Value, name, kind string) *ir.Value {
	switch kind {
	case "relu":
		return nb.b.Node(ir.OpRelu, name, []*ir.Value{x})
	case "relu6":
		return nb.b.Node(ir.OpClip, name, []*ir.Value{x, nb.scalar(name+"_lo", 0), nb.scalar(name+"_hi", 6)})
	case "hswish":
		return nb.b.Node(ir.OpHardSwish, name, []*ir.Value{x})
	case "hsigmoid":
		return nb.b.Node(ir.OpHardSigmoid, name, []*ir.Value{x}, ir.FloatAttr("alpha", 1.0/6), ir.FloatAttr("beta", 0.5))
	case "":
		return x
	}
	nb.t.Fatalf("unknown activation %q", kind)
	return nil
}

// convBNAct is Conv (no bias) → BatchNorm → activation, quantized after.
func (nb *netBuilder) convBNAct(x *ir.Value, name string, cout, k, stride, groups int64, act string) *ir.Value {
	y := nb.conv(x, name, cout, k, stride, groups, false)
	y = nb.bn(y, name+"_bn")
	y = nb.act(y, name+"_act", act)
	return nb.quantize(y, name)
}

// classifier is GlobalAveragePool → Flatten → Gemm → Softmax.
func (nb *netBuilder) classifier(x *ir.Value, classes int64) *ir.Value {
	y := nb.b.Node(ir.OpGlobalAveragePool, "gap", []*ir.Value{x})
	y = nb.b.Node(ir.OpFlatten, "flatten", []*ir.Value{y})
	y = nb.b.Node(ir.OpGemm, "fc", []*ir.Value{y, nb.weight("fc_w", classes, channels(x)), nb.param("fc_b", classes)}, ir.IntAttr("transB", 1))
	return nb.b.Node(ir.OpSoftmax, "prob", []*ir.Value{y}, ir.IntAttr("axis", 1))
}

func (nb *netBuilder) build(out *ir.Value) *ir.Graph {
	nb.t.Helper()
	nb.b.Output(out)
	g, err := nb.b.Build()
	if err != nil {
		nb.t.Fatalf("building %s: %v", nb.b.Graph().Name, err)
	}
	return g
}

// imageInput is the 1×3×res×res image: float32, or int8 through a
// DequantizeLinear for a quantized network (as TFLite quantized models take).
func imageInput(nb *netBuilder, res int64) *ir.Value {
	if !nb.quant {
		return nb.b.Input("input", ir.Float32, ir.Static(1, 3, res, res))
	}
	x := nb.b.Input("input", ir.Int8, ir.Static(1, 3, res, res))
	return nb.b.Node(ir.OpDequantizeLinear, "input_dq", []*ir.Value{x, nb.scalar("input_s", 0.02), nb.int8Scalar("input_zp")})
}

// mobileNetV1 is MobileNetV1 1.0 (Howard et al. 2017): 569 M MACs at
// 224×224; quant builds the QDQ int8 form.
func mobileNetV1(t testing.TB, res int64, quant bool) *ir.Graph {
	nb := newNet(t, "mobilenet_v1")
	nb.quant = quant
	x := nb.convBNAct(imageInput(nb, res), "conv0", 32, 3, 2, 1, "relu6")
	for i, l := range []struct{ c, s int64 }{{64, 1}, {128, 2}, {128, 1}, {256, 2}, {256, 1}, {512, 2},
		{512, 1}, {512, 1}, {512, 1}, {512, 1}, {512, 1}, {1024, 2}, {1024, 1}} {
		x = nb.convBNAct(x, fmt.Sprintf("dw%d", i+1), channels(x), 3, l.s, channels(x), "relu6")
		x = nb.convBNAct(x, fmt.Sprintf("pw%d", i+1), l.c, 1, 1, 1, "relu6")
	}
	return nb.build(nb.classifier(x, 1000))
}

// invertedResidual is MobileNetV2's block: expand 1×1 (if t ≠ 1) →
// depthwise k×k → optional squeeze-excite → project 1×1, with a residual add
// when shapes allow.
func (nb *netBuilder) invertedResidual(x *ir.Value, name string, expand, cout, k, stride int64, act string, se bool) *ir.Value {
	cin := channels(x)
	y := x
	if expand != cin {
		y = nb.convBNAct(y, name+"_exp", expand, 1, 1, 1, act)
	}
	y = nb.convBNAct(y, name+"_dw", expand, k, stride, expand, act)
	if se {
		y = nb.squeezeExcite(y, name+"_se")
	}
	y = nb.convBNAct(y, name+"_proj", cout, 1, 1, 1, "")
	if stride == 1 && cin == cout {
		y = nb.b.Node(ir.OpAdd, name+"_add", []*ir.Value{y, x})
		y = nb.quantize(y, name+"_add")
	}
	return y
}

// squeezeExcite is MobileNetV3's SE: GAP → 1×1 conv (C/4) → ReLU → 1×1 conv →
// hard-sigmoid → scale.
func (nb *netBuilder) squeezeExcite(x *ir.Value, name string) *ir.Value {
	c := channels(x)
	mid := (c/4 + 7) / 8 * 8
	s := nb.b.Node(ir.OpGlobalAveragePool, name+"_gap", []*ir.Value{x})
	s = nb.act(nb.conv(s, name+"_fc1", mid, 1, 1, 1, true), name+"_relu", "relu")
	s = nb.act(nb.conv(s, name+"_fc2", c, 1, 1, 1, true), name+"_hsig", "hsigmoid")
	return nb.b.Node(ir.OpMul, name+"_mul", []*ir.Value{x, s})
}

// mobileNetV2 is MobileNetV2 1.0 (Sandler et al. 2018): 300 M MACs at 224×224.
func mobileNetV2(t testing.TB, res int64) *ir.Graph {
	nb := newNet(t, "mobilenet_v2")
	x := nb.convBNAct(imageInput(nb, res), "conv0", 32, 3, 2, 1, "relu6")
	blk := 0
	for _, s := range []struct{ t, c, n, s int64 }{{1, 16, 1, 1}, {6, 24, 2, 2}, {6, 32, 3, 2}, {6, 64, 4, 2},
		{6, 96, 3, 1}, {6, 160, 3, 2}, {6, 320, 1, 1}} {
		for i := int64(0); i < s.n; i++ {
			stride := s.s
			if i > 0 {
				stride = 1
			}
			blk++
			x = nb.invertedResidual(x, fmt.Sprintf("b%d", blk), s.t*channels(x), s.c, 3, stride, "relu6", false)
		}
	}
	x = nb.convBNAct(x, "conv_last", 1280, 1, 1, 1, "relu6")
	return nb.build(nb.classifier(x, 1000))
}

// v3Block is one row of the MobileNetV3 tables: kernel, expansion size,
// output channels, squeeze-excite, activation, stride.
type v3Block struct {
	k, exp, c int64
	se        bool
	act       string
	s         int64
}

// mobileNetV3 builds MobileNetV3 (Howard et al. 2019, Tables 1 and 2) from
// its block table, stem of 16 channels, last stage of lastConv then a
// 1×1 conv of head channels (no BN) in place of the classifier's first FC.
func mobileNetV3(t testing.TB, name string, res int64, blocks []v3Block, lastConv, head int64) *ir.Graph {
	nb := newNet(t, name)
	x := nb.convBNAct(imageInput(nb, res), "conv0", 16, 3, 2, 1, "hswish")
	for i, b := range blocks {
		x = nb.invertedResidual(x, fmt.Sprintf("b%d", i+1), b.exp, b.c, b.k, b.s, b.act, b.se)
	}
	x = nb.convBNAct(x, "conv_last", lastConv, 1, 1, 1, "hswish")
	if lastConv == 576 { // V3-Small's last conv has SE
		x = nb.squeezeExcite(x, "last_se")
	}
	y := nb.b.Node(ir.OpGlobalAveragePool, "gap", []*ir.Value{x})
	y = nb.act(nb.conv(y, "head", head, 1, 1, 1, true), "head_act", "hswish")
	y = nb.b.Node(ir.OpFlatten, "flatten", []*ir.Value{y})
	y = nb.b.Node(ir.OpGemm, "fc", []*ir.Value{y, nb.weight("fc_w", 1000, head), nb.param("fc_b", 1000)}, ir.IntAttr("transB", 1))
	return nb.build(nb.b.Node(ir.OpSoftmax, "prob", []*ir.Value{y}, ir.IntAttr("axis", 1)))
}

func mobileNetV3Large(t testing.TB) *ir.Graph {
	return mobileNetV3(t, "mobilenet_v3_large", 224, []v3Block{
		{3, 16, 16, false, "relu", 1}, {3, 64, 24, false, "relu", 2}, {3, 72, 24, false, "relu", 1},
		{5, 72, 40, true, "relu", 2}, {5, 120, 40, true, "relu", 1}, {5, 120, 40, true, "relu", 1},
		{3, 240, 80, false, "hswish", 2}, {3, 200, 80, false, "hswish", 1}, {3, 184, 80, false, "hswish", 1},
		{3, 184, 80, false, "hswish", 1}, {3, 480, 112, true, "hswish", 1}, {3, 672, 112, true, "hswish", 1},
		{5, 672, 160, true, "hswish", 2}, {5, 960, 160, true, "hswish", 1}, {5, 960, 160, true, "hswish", 1},
	}, 960, 1280)
}

func mobileNetV3Small(t testing.TB) *ir.Graph {
	return mobileNetV3(t, "mobilenet_v3_small", 224, []v3Block{
		{3, 16, 16, true, "relu", 2}, {3, 72, 24, false, "relu", 2}, {3, 88, 24, false, "relu", 1},
		{5, 96, 40, true, "hswish", 2}, {5, 240, 40, true, "hswish", 1}, {5, 240, 40, true, "hswish", 1},
		{5, 120, 48, true, "hswish", 1}, {5, 144, 48, true, "hswish", 1}, {5, 288, 96, true, "hswish", 2},
		{5, 576, 96, true, "hswish", 1}, {5, 576, 96, true, "hswish", 1},
	}, 576, 1024)
}

// mnasNetA1 is MnasNet-A1 (Tan et al. 2019, Figure 7): 312 M MACs at 224×224.
func mnasNetA1(t testing.TB) *ir.Graph {
	nb := newNet(t, "mnasnet_a1")
	x := nb.convBNAct(imageInput(nb, 224), "conv0", 32, 3, 2, 1, "relu")
	// SepConv 3×3 → 16.
	x = nb.convBNAct(x, "sep_dw", 32, 3, 1, 32, "relu")
	x = nb.convBNAct(x, "sep_pw", 16, 1, 1, 1, "")
	blk := 0
	for _, s := range []struct {
		t, c, n, k, s int64
		se            bool
	}{{6, 24, 2, 3, 2, false}, {3, 40, 3, 5, 2, true}, {6, 80, 4, 3, 2, false}, {6, 112, 2, 3, 1, true},
		{6, 160, 3, 5, 2, true}, {6, 320, 1, 3, 1, false}} {
		for i := int64(0); i < s.n; i++ {
			stride := s.s
			if i > 0 {
				stride = 1
			}
			blk++
			x = nb.invertedResidual(x, fmt.Sprintf("b%d", blk), s.t*channels(x), s.c, s.k, stride, "relu", s.se)
		}
	}
	x = nb.convBNAct(x, "conv_last", 1280, 1, 1, 1, "relu")
	return nb.build(nb.classifier(x, 1000))
}
