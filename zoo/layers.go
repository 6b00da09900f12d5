package zoo

import (
	"fmt"
	"math"

	"github.com/ferminets/fermi/ir"
)

// net wraps the builder of one network with the layer helpers every
// network shares and the state they need: the options and the running
// parameter count that seeds each parameter's recipe.
type net struct {
	b      *ir.Builder
	opts   Options
	x      *ir.Value // the graph input
	nparam uint64
	relu6  [2]*ir.Value // shared Clip bounds 0 and 6, made on first use
	bnEps  float32
	// resGain scales the std of the last conv of each residual branch
	// (Fixup-style, 1/√blocks): with identity BatchNorm statistics, plain
	// Kaiming init doubles the activations' variance at every residual add.
	resGain float64
	err     error // the first problem a layer helper found
}

func newNet(name string, opts Options) *net {
	b := ir.NewBuilder(name)
	c, h, w := opts.InputShape[0], opts.InputShape[1], opts.InputShape[2]
	x := b.Input("input", ir.Float32, ir.Shape{ir.Sym("N"), ir.D(int64(c)), ir.D(int64(h)), ir.D(int64(w))})
	return &net{b: b, opts: opts, x: x, bnEps: 1e-5, resGain: 1}
}

// act is an activation function.
type act uint8

const (
	actNone act = iota
	actRelu
	actRelu6
	actHardSwish
)

// seed returns the recipe seed of the next parameter: a splitmix64 hash of
// the options' seed and the parameter's position, so that parameters are
// independent and a network's weights depend on the seed alone.
func (n *net) seed() uint64 {
	n.nparam++
	z := n.opts.Seed + n.nparam*0x9e3779b97f4a7c15
	z = (z ^ z>>30) * 0xbf58476d1ce4e5b9
	z = (z ^ z>>27) * 0x94d049bb133111eb
	return z ^ z>>31
}

// param adds a parameter of the given dims drawn from the recipe in, with
// its seed filled in.
func (n *net) param(name string, in ir.Init, dims ...int64) *ir.Value {
	in.Seed = n.seed()
	return n.b.Param(name, in.Materialize(dims))
}

// constant adds a parameter of the given dims whose every element is v (a
// uniform recipe over [v, v], which yields v exactly).
func (n *net) constant(name string, v float64, dims ...int64) *ir.Value {
	return n.param(name, ir.Init{Kind: "uniform", A: v, B: v}, dims...)
}

// kaiming adds a Kaiming-normal weight: N(0, 2/fanIn), its std multiplied
// by gain.
func (n *net) kaiming(name string, fanIn int64, gain float64, dims ...int64) *ir.Value {
	return n.param(name, ir.Init{Kind: "normal", B: gain * math.Sqrt(2/float64(fanIn))}, dims...)
}

// biasParam adds a bias of c elements uniform in ±1/√fanIn (PyTorch's default).
func (n *net) biasParam(name string, fanIn, c int64) *ir.Value {
	bound := 1 / math.Sqrt(float64(fanIn))
	return n.param(name, ir.Init{Kind: "uniform", A: -bound, B: bound}, c)
}

// channels returns the channel count (dim 1) of x, or 0 if it is unknown.
func channels(x *ir.Value) int64 {
	if len(x.Shape) < 2 || !x.Shape[1].Static() {
		return 0
	}
	return x.Shape[1].Size
}

// spatial returns the height of NCHW value x, or 0 if it is unknown.
func spatial(x *ir.Value) int64 {
	if len(x.Shape) != 4 || !x.Shape[2].Static() {
		return 0
	}
	return x.Shape[2].Size
}

// convSpec describes a Conv: output channels, square kernel, stride
// (0 means 1), padding, groups (0 means 1), whether it has a bias, and the
// gain of its Kaiming-normal weight (0 means 1).
type convSpec struct {
	out, k, stride, pad, groups int
	bias                        bool
	gain                        float64
}

// conv adds a Conv named name with a weight (and bias) of its own.
func (n *net) conv(name string, x *ir.Value, s convSpec) *ir.Value {
	if s.groups == 0 {
		s.groups = 1
	}
	if s.stride == 0 {
		s.stride = 1
	}
	if s.gain == 0 {
		s.gain = 1
	}
	cin := channels(x)
	fanIn := cin / int64(s.groups) * int64(s.k*s.k)
	if fanIn <= 0 || cin%int64(s.groups) != 0 {
		n.failf("conv %q: %d input channels in %d groups", name, cin, s.groups)
		fanIn = 1
	}
	in := []*ir.Value{x, n.kaiming(name+".weight", fanIn, s.gain, int64(s.out), cin/int64(s.groups), int64(s.k), int64(s.k))}
	if s.bias {
		in = append(in, n.biasParam(name+".bias", fanIn, int64(s.out)))
	}
	attrs := []ir.Attr{
		ir.IntsAttr("kernel_shape", int64(s.k), int64(s.k)),
		ir.IntsAttr("strides", int64(s.stride), int64(s.stride)),
		ir.IntsAttr("pads", int64(s.pad), int64(s.pad), int64(s.pad), int64(s.pad)),
	}
	if s.groups != 1 {
		attrs = append(attrs, ir.IntAttr("group", int64(s.groups)))
	}
	return n.b.Node(ir.OpConv, name, in, attrs...)
}

// failf records an error for Build to report, unless the net or its
// builder has recorded one already.
func (n *net) failf(format string, args ...any) {
	if n.err == nil && n.b.Err() == nil {
		n.err = fmt.Errorf(format, args...)
	}
}

// bn adds a BatchNormalization with per-channel parameters of its own.
func (n *net) bn(name string, x *ir.Value) *ir.Value {
	c := channels(x)
	var scale, shift, mean, variance *ir.Value
	if n.opts.RandomBNStats {
		scale = n.param(name+".weight", ir.Init{Kind: "uniform", A: 0.5, B: 1.5}, c)
		shift = n.param(name+".bias", ir.Init{Kind: "normal", B: 0.1}, c)
		mean = n.param(name+".running_mean", ir.Init{Kind: "normal", B: 0.1}, c)
		variance = n.param(name+".running_var", ir.Init{Kind: "uniform", A: 0.5, B: 1.5}, c)
	} else {
		scale = n.constant(name+".weight", 1, c)
		shift = n.constant(name+".bias", 0, c)
		mean = n.constant(name+".running_mean", 0, c)
		variance = n.constant(name+".running_var", 1, c)
	}
	return n.b.Node(ir.OpBatchNorm, name, []*ir.Value{x, scale, shift, mean, variance}, ir.FloatAttr("epsilon", n.bnEps))
}

// activate applies a to x; actNone returns x.
func (n *net) activate(name string, x *ir.Value, a act) *ir.Value {
	switch a {
	case actRelu:
		return n.b.Node(ir.OpRelu, name, []*ir.Value{x})
	case actRelu6:
		if n.relu6[0] == nil {
			n.relu6 = [2]*ir.Value{n.constant("relu6.min", 0), n.constant("relu6.max", 6)}
		}
		return n.b.Node(ir.OpClip, name, []*ir.Value{x, n.relu6[0], n.relu6[1]})
	case actHardSwish:
		return n.b.Node(ir.OpHardSwish, name, []*ir.Value{x})
	}
	return x
}

// convBN adds Conv (no bias, pad k/2) → BatchNormalization → activation,
// PyTorch's Conv2dNormActivation; names are prefix.conv, prefix.bn and
// prefix.act.
func (n *net) convBN(prefix string, x *ir.Value, out, k, stride, groups int, a act) *ir.Value {
	return n.convBNSpec(prefix, x, convSpec{out: out, k: k, stride: stride, pad: k / 2, groups: groups}, a)
}

func (n *net) convBNSpec(prefix string, x *ir.Value, s convSpec, a act) *ir.Value {
	y := n.conv(prefix+".conv", x, s)
	y = n.bn(prefix+".bn", y)
	return n.activate(prefix+".act", y, a)
}

// branchEnd adds the last Conv (stride 1, pad k/2) → BN of a residual
// branch, its weight scaled down by n.resGain (see net).
func (n *net) branchEnd(prefix string, x *ir.Value, out, k int) *ir.Value {
	return n.convBNSpec(prefix, x, convSpec{out: out, k: k, pad: k / 2, gain: n.resGain}, actNone)
}

// fc adds a fully connected layer (Gemm with transB, weight [out, in]).
func (n *net) fc(name string, x *ir.Value, out int) *ir.Value {
	var in int64
	if len(x.Shape) == 2 && x.Shape[1].Static() {
		in = x.Shape[1].Size
	}
	if in <= 0 {
		n.failf("fc %q: input %v is not [N, features]", name, x.Shape)
		in = 1
	}
	w := n.kaiming(name+".weight", in, 1, int64(out), in)
	b := n.biasParam(name+".bias", in, int64(out))
	return n.b.Node(ir.OpGemm, name, []*ir.Value{x, w, b}, ir.IntAttr("transB", 1))
}

// flatten adds Flatten (axis 1).
func (n *net) flatten(name string, x *ir.Value) *ir.Value {
	return n.b.Node(ir.OpFlatten, name, []*ir.Value{x}, ir.IntAttr("axis", 1))
}

// maxPool adds a MaxPool with a square kernel k and stride s.
func (n *net) maxPool(name string, x *ir.Value, k, s, pad int) *ir.Value {
	return n.b.Node(ir.OpMaxPool, name, []*ir.Value{x},
		ir.IntsAttr("kernel_shape", int64(k), int64(k)),
		ir.IntsAttr("strides", int64(s), int64(s)),
		ir.IntsAttr("pads", int64(pad), int64(pad), int64(pad), int64(pad)))
}

// dropout adds an inference-time Dropout with the given ratio.
func (n *net) dropout(name string, x *ir.Value, ratio float64) *ir.Value {
	return n.b.Node(ir.OpDropout, name, []*ir.Value{x, n.constant(name+".ratio", ratio)})
}

// classifier adds global average pooling, Flatten and the final
// fully connected layer "logits".
func (n *net) classifier(x *ir.Value) *ir.Value {
	x = n.b.Node(ir.OpGlobalAveragePool, "avgpool", []*ir.Value{x})
	x = n.flatten("flatten", x)
	return n.fc("logits", x, n.opts.Classes)
}

// se adds squeeze-and-excitation: GlobalAveragePool → Conv 1×1 (squeeze
// channels, bias) → Relu → Conv 1×1 (bias) → gate → Mul with x.
func (n *net) se(prefix string, x *ir.Value, squeeze int, gate ir.Op) *ir.Value {
	c := int(channels(x))
	s := n.b.Node(ir.OpGlobalAveragePool, prefix+".pool", []*ir.Value{x})
	s = n.conv(prefix+".fc1", s, convSpec{out: squeeze, k: 1, bias: true})
	s = n.b.Node(ir.OpRelu, prefix+".relu", []*ir.Value{s})
	s = n.conv(prefix+".fc2", s, convSpec{out: c, k: 1, bias: true})
	if gate == ir.OpHardSigmoid {
		s = n.b.Node(ir.OpHardSigmoid, prefix+".gate", []*ir.Value{s}, ir.FloatAttr("alpha", 1.0/6), ir.FloatAttr("beta", 0.5))
	} else {
		s = n.b.Node(gate, prefix+".gate", []*ir.Value{s})
	}
	return n.b.Node(ir.OpMul, prefix+".scale", []*ir.Value{x, s})
}

// scaled returns round(c × width), at least 1: the width rule of the
// classic networks.
func (n *net) scaled(c int) int {
	return max(1, int(math.Round(float64(c)*n.opts.Width)))
}

// divisible returns c × width rounded to a multiple of 8, never below 90 %
// of c × width nor below 8: the rule of the MobileNet papers' code
// (_make_divisible).
func (n *net) divisible(c float64) int {
	return makeDivisible(c*n.opts.Width, 8)
}

func makeDivisible(v float64, d int) int {
	r := max(d, int(v+float64(d)/2)/d*d)
	if float64(r) < 0.9*v {
		r += d
	}
	return r
}
