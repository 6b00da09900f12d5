package zoo

import (
	"fmt"
	"math"

	"github.com/ferminets/fermi/ir"
)

// buildMobileNetV1 is MobileNetV1 1.0 (Howard et al. 2017): Conv 32 k3 s2
// → BN → ReLU, then 13 depthwise-separable blocks (depthwise k3 → BN →
// ReLU → pointwise → BN → ReLU), global average pooling, FC. Published:
// 4.2 M params (Keras: 4,231,976 counting BN scale and shift), 569 M MACs.
func buildMobileNetV1(n *net) (*ir.Value, error) {
	x := n.convBN("stem", n.x, n.divisible(32), 3, 2, 1, actRelu)
	for i, l := range []struct{ out, stride int }{
		{64, 1}, {128, 2}, {128, 1}, {256, 2}, {256, 1}, {512, 2},
		{512, 1}, {512, 1}, {512, 1}, {512, 1}, {512, 1}, {1024, 2}, {1024, 1},
	} {
		p := fmt.Sprintf("block%d", i+1)
		x = n.convBN(p+".dw", x, int(channels(x)), 3, l.stride, int(channels(x)), actRelu)
		x = n.convBN(p+".pw", x, n.divisible(float64(l.out)), 1, 1, 1, actRelu)
	}
	return n.classifier(x), nil
}

// invertedResidual is one row of a MobileNetV2 table: expansion t, output
// channels c, repeats n, stride s of the first repeat.
type invertedResidual struct{ t, c, n, s int }

// mobileNetV2Blocks is MobileNetV2's table (Sandler et al. 2018, table 2).
var mobileNetV2Blocks = []invertedResidual{
	{1, 16, 1, 1}, {6, 24, 2, 2}, {6, 32, 3, 2}, {6, 64, 4, 2}, {6, 96, 3, 1}, {6, 160, 3, 2}, {6, 320, 1, 1},
}

// buildMobileNetV2 is torchvision's mobilenet_v2, or with cifar the
// CIFAR-style variant of BENCHMARK.md E (stem stride 1 and the 24-channel
// stage at stride 1). Conv 32 k3 → BN → ReLU6, inverted residuals (expand
// 1×1 if t ≠ 1 → BN → ReLU6 → depthwise k3 → BN → ReLU6 → project 1×1 →
// BN, residual add at stride 1 with equal channels), Conv 1280 1×1 → BN →
// ReLU6, global average pooling, FC. ImageNet figures: 3,487,816 params
// deploy form (torchvision's 3,504,872 counting BN scale and shift),
// 300,774,272 MACs (shared/models/mobilenet_v2-op13.onnx); CIFAR-style at
// 1×28×28: 2,206,242 params, 72.94 M MACs.
func buildMobileNetV2(n *net, cifar bool) (*ir.Value, error) {
	n.resGain = 1 / math.Sqrt(17) // blocks in the table
	stemStride := 2
	if cifar {
		stemStride = 1
	}
	x := n.convBN("stem", n.x, n.divisible(32), 3, stemStride, 1, actRelu6)
	for i, row := range mobileNetV2Blocks {
		out := n.divisible(float64(row.c))
		for r := 0; r < row.n; r++ {
			stride := 1
			if r == 0 {
				stride = row.s
				if cifar && row.c == 24 {
					stride = 1
				}
			}
			x = n.mbConv(fmt.Sprintf("stage%d.%d", i+1, r), x, mbSpec{
				expand: row.t, out: out, k: 3, stride: stride, act: actRelu6, skip: true})
		}
	}
	x = n.convBN("head", x, makeDivisible(1280*max(1, n.opts.Width), 8), 1, 1, 1, actRelu6)
	return n.classifier(x), nil
}

// mbSpec describes an inverted-residual (MBConv) block: expansion ratio or,
// when hidden is set, the expanded channel count itself; output channels;
// depthwise kernel and stride; activation; squeeze-and-excitation channels
// (0: none) and gate; whether a residual add is allowed.
type mbSpec struct {
	expand, hidden, out, k, stride int
	act                            act
	se                             int
	gate                           ir.Op
	skip                           bool
}

// mbConv adds an inverted-residual block: expand 1×1 (when the expanded
// width differs from the input's) → BN → act → depthwise → BN → act →
// [SE] → project 1×1 → BN, plus the input when skip is allowed, the stride
// is 1 and the channel counts agree.
func (n *net) mbConv(p string, x *ir.Value, s mbSpec) *ir.Value {
	cin := int(channels(x))
	hidden := s.hidden
	if hidden == 0 {
		hidden = cin * s.expand
	}
	y := x
	if hidden != cin {
		y = n.convBN(p+".expand", y, hidden, 1, 1, 1, s.act)
	}
	y = n.convBN(p+".dw", y, hidden, s.k, s.stride, hidden, s.act)
	if s.se > 0 {
		y = n.se(p+".se", y, s.se, s.gate)
	}
	if !s.skip || s.stride != 1 || cin != s.out {
		return n.convBN(p+".project", y, s.out, 1, 1, 1, actNone)
	}
	y = n.branchEnd(p+".project", y, s.out, 1)
	return n.b.Node(ir.OpAdd, p+".add", []*ir.Value{y, x})
}

// v3Block is one row of a MobileNetV3 table (Howard et al. 2019, tables 1
// and 2, as torchvision writes them): kernel, expanded and output channels,
// SE, hard-swish (else ReLU), stride.
type v3Block struct {
	k, exp, out int
	se, hs      bool
	stride      int
}

// v3Config is a MobileNetV3 variant: stem width, blocks and the width of
// the classifier's hidden layer.
type v3Config struct {
	stem   int
	blocks []v3Block
	last   int
}

var v3Large = v3Config{16, []v3Block{
	{3, 16, 16, false, false, 1}, {3, 64, 24, false, false, 2}, {3, 72, 24, false, false, 1},
	{5, 72, 40, true, false, 2}, {5, 120, 40, true, false, 1}, {5, 120, 40, true, false, 1},
	{3, 240, 80, false, true, 2}, {3, 200, 80, false, true, 1}, {3, 184, 80, false, true, 1},
	{3, 184, 80, false, true, 1}, {3, 480, 112, true, true, 1}, {3, 672, 112, true, true, 1},
	{5, 672, 160, true, true, 2}, {5, 960, 160, true, true, 1}, {5, 960, 160, true, true, 1},
}, 1280}

var v3Small = v3Config{16, []v3Block{
	{3, 16, 16, true, false, 2}, {3, 72, 24, false, false, 2}, {3, 88, 24, false, false, 1},
	{5, 96, 40, true, true, 2}, {5, 240, 40, true, true, 1}, {5, 240, 40, true, true, 1},
	{5, 120, 48, true, true, 1}, {5, 144, 48, true, true, 1}, {5, 288, 96, true, true, 2},
	{5, 576, 96, true, true, 1}, {5, 576, 96, true, true, 1},
}, 1024}

// buildMobileNetV3 is torchvision's mobilenet_v3_large or _small (BN eps
// 0.001): Conv k3 s2 → BN → HardSwish, the blocks of cfg (SE with
// make_divisible(expanded/4, 8) channels and a HardSigmoid gate), Conv 1×1
// to 6× the last block's channels → BN → HardSwish, global average
// pooling, FC → HardSwish → FC. Published (torchvision, counting BN scale
// and shift): large 5,483,032 params, 0.217 G MACs; small 2,542,856
// params, 0.057 G MACs (paper: 219 M and 56 M MAdds).
func buildMobileNetV3(n *net, cfg v3Config) (*ir.Value, error) {
	n.bnEps = 1e-3
	n.resGain = 1 / math.Sqrt(float64(len(cfg.blocks)))
	x := n.convBN("stem", n.x, n.divisible(float64(cfg.stem)), 3, 2, 1, actHardSwish)
	for i, blk := range cfg.blocks {
		a := actRelu
		if blk.hs {
			a = actHardSwish
		}
		hidden := n.divisible(float64(blk.exp))
		se := 0
		if blk.se {
			se = makeDivisible(float64(hidden/4), 8)
		}
		x = n.mbConv(fmt.Sprintf("block%d", i+1), x, mbSpec{hidden: hidden, out: n.divisible(float64(blk.out)),
			k: blk.k, stride: blk.stride, act: a, se: se, gate: ir.OpHardSigmoid, skip: true})
	}
	x = n.convBN("head", x, 6*int(channels(x)), 1, 1, 1, actHardSwish)
	x = n.b.Node(ir.OpGlobalAveragePool, "avgpool", []*ir.Value{x})
	x = n.flatten("flatten", x)
	x = n.activate("classifier.act", n.fc("classifier.0", x, n.divisible(float64(cfg.last))), actHardSwish)
	return n.fc("logits", x, n.opts.Classes), nil
}

// mnasA1 is MnasNet-A1's block table (Tan et al. 2019, figure 7, as the
// authors' TensorFlow code writes it): repeats, expansion, kernel, SE
// ratio, output channels, stride of the first repeat.
var mnasA1 = []struct {
	n, expand, k int
	se           float64
	out, stride  int
}{
	{1, 1, 3, 0, 16, 1}, {2, 6, 3, 0, 24, 2}, {3, 3, 5, 0.25, 40, 2}, {4, 6, 3, 0, 80, 2},
	{2, 6, 3, 0.25, 112, 1}, {3, 6, 5, 0.25, 160, 2}, {1, 6, 3, 0, 320, 1},
}

// buildMnasNetA1 is MnasNet-A1 (BN eps 0.001): Conv 32 k3 s2 → BN → ReLU,
// the MBConv blocks of mnasA1 with ReLU (SE squeezing to the block's input
// channels × ratio, Sigmoid gate; no residual in the first block), Conv
// 1280 1×1 → BN → ReLU, global average pooling, FC. Published: 3.9 M
// params, 312 M MACs.
func buildMnasNetA1(n *net) (*ir.Value, error) {
	n.bnEps = 1e-3
	n.resGain = 1 / math.Sqrt(16) // blocks in the table
	x := n.convBN("stem", n.x, n.divisible(32), 3, 2, 1, actRelu)
	for i, row := range mnasA1 {
		out := n.divisible(float64(row.out))
		for r := 0; r < row.n; r++ {
			stride := 1
			if r == 0 {
				stride = row.stride
			}
			se := 0
			if row.se > 0 {
				se = max(1, int(float64(channels(x))*row.se))
			}
			x = n.mbConv(fmt.Sprintf("stage%d.%d", i+1, r), x, mbSpec{expand: row.expand, out: out, k: row.k,
				stride: stride, act: actRelu, se: se, gate: ir.OpSigmoid, skip: i > 0})
		}
	}
	x = n.convBN("head", x, n.divisible(1280), 1, 1, 1, actRelu)
	return n.classifier(x), nil
}
