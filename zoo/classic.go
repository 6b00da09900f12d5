package zoo

import (
	"fmt"
	"math"

	"github.com/ferminets/fermi/ir"
)

// buildLeNet5 is LeNet-5 with ReLU (BENCHMARK.md E): Conv 6 k5 pad 2, ReLU,
// MaxPool 2; Conv 16 k5, ReLU, MaxPool 2; FC 120, ReLU; FC 84, ReLU; FC
// classes, all with biases. At 1×28×28: 61,706 params, 416,520 MACs.
func buildLeNet5(n *net) (*ir.Value, error) {
	x := n.conv("conv1", n.x, convSpec{out: n.scaled(6), k: 5, pad: 2, bias: true})
	x = n.activate("relu1", x, actRelu)
	x = n.maxPool("pool1", x, 2, 2, 0)
	x = n.conv("conv2", x, convSpec{out: n.scaled(16), k: 5, bias: true})
	x = n.activate("relu2", x, actRelu)
	x = n.maxPool("pool2", x, 2, 2, 0)
	x = n.flatten("flatten", x)
	x = n.activate("relu3", n.fc("fc1", x, n.scaled(120)), actRelu)
	x = n.activate("relu4", n.fc("fc2", x, n.scaled(84)), actRelu)
	return n.fc("logits", x, n.opts.Classes), nil
}

// buildSimpleCNN is the SimpleCNN of BENCHMARK.md E: Conv 32 k3, ReLU;
// Conv 64 k3, ReLU; MaxPool 2; Dropout 0.25; FC 128, ReLU; Dropout 0.5; FC
// classes, all with biases. At 1×28×28: 1,199,882 params, 11,992,448 MACs.
func buildSimpleCNN(n *net) (*ir.Value, error) {
	x := n.activate("relu1", n.conv("conv1", n.x, convSpec{out: n.scaled(32), k: 3, bias: true}), actRelu)
	x = n.activate("relu2", n.conv("conv2", x, convSpec{out: n.scaled(64), k: 3, bias: true}), actRelu)
	x = n.maxPool("pool", x, 2, 2, 0)
	x = n.dropout("dropout1", x, 0.25)
	x = n.flatten("flatten", x)
	x = n.activate("relu3", n.fc("fc1", x, n.scaled(128)), actRelu)
	x = n.dropout("dropout2", x, 0.5)
	return n.fc("logits", x, n.opts.Classes), nil
}

// vgg11 is VGG-11's feature configuration: channel counts, 0 for MaxPool.
var vgg11 = []int{64, 0, 128, 0, 256, 256, 0, 512, 512, 0, 512, 512, 0}

// buildVGG11BN is VGG-11 with BatchNorm in the CIFAR style: Conv k3 pad 1
// (no bias) → BN → ReLU for each channel count of vgg11, MaxPool 2 at each
// 0, then global average pooling and one FC to the classes. A MaxPool that
// would shrink a map below 1×1 is left out, so 28×28 inputs (28 → 14 → 7
// → 3 → 1) keep four of the five pools. No reference figures exist yet.
func buildVGG11BN(n *net) (*ir.Value, error) {
	x := n.x
	conv, pool := 0, 0
	for _, c := range vgg11 {
		if c == 0 {
			pool++
			if spatial(x) >= 2 {
				x = n.maxPool(fmt.Sprintf("pool%d", pool), x, 2, 2, 0)
			}
			continue
		}
		conv++
		x = n.convBN(fmt.Sprintf("features.%d", conv), x, n.scaled(c), 3, 1, 1, actRelu)
	}
	return n.classifier(x), nil
}

// buildCIFARResNet is the CIFAR-style ResNet-(6·blocks+2) of BENCHMARK.md
// E: stem Conv 16 k3 → BN → ReLU, three stages of basic blocks with widths
// 16, 32, 64 (stride 2 entering stages 2 and 3), shortcut Conv 1×1 + BN
// where the shape changes, global average pooling, FC. blocks 3 is
// ResNet-20 (at 1×28×28: 271,402 params deploy form, 31,021,952 MACs),
// blocks 9 ResNet-56.
func buildCIFARResNet(n *net, blocks int) (*ir.Value, error) {
	n.resGain = 1 / math.Sqrt(float64(3*blocks))
	x := n.convBN("stem", n.x, n.scaled(16), 3, 1, 1, actRelu)
	for stage, width := range []int{16, 32, 64} {
		for blk := 0; blk < blocks; blk++ {
			stride := 1
			if stage > 0 && blk == 0 {
				stride = 2
			}
			p := fmt.Sprintf("layer%d.%d", stage+1, blk)
			x = n.basicBlock(p, x, n.scaled(width), stride)
		}
	}
	return n.classifier(x), nil
}

// basicBlock adds ResNet's basic block: Conv k3 → BN → ReLU → Conv k3 →
// BN, plus the shortcut, then ReLU.
func (n *net) basicBlock(p string, x *ir.Value, width, stride int) *ir.Value {
	y := n.convBN(p+".1", x, width, 3, stride, 1, actRelu)
	y = n.branchEnd(p+".2", y, width, 3)
	short := x
	if stride != 1 || channels(x) != int64(width) {
		short = n.convBN(p+".shortcut", x, width, 1, stride, 1, actNone)
	}
	y = n.b.Node(ir.OpAdd, p+".add", []*ir.Value{y, short})
	return n.activate(p+".relu", y, actRelu)
}

// buildResNet50 is torchvision's resnet50 (ResNet v1.5: stride on the 3×3
// conv of the bottleneck): stem Conv 64 k7 s2 → BN → ReLU → MaxPool 3 s2,
// bottleneck stages of 3, 4, 6, 3 blocks with widths 64, 128, 256, 512
// (expansion 4), shortcut Conv 1×1 + BN where the shape changes, global
// average pooling, FC. Published (torchvision): 25,557,032 params counting
// BN scale and shift, 4.089 G MACs.
func buildResNet50(n *net) (*ir.Value, error) {
	n.resGain = 1 / math.Sqrt(16)
	x := n.convBN("stem", n.x, n.scaled(64), 7, 2, 1, actRelu)
	x = n.maxPool("maxpool", x, 3, 2, 1)
	for stage, cfg := range []struct{ width, blocks int }{{64, 3}, {128, 4}, {256, 6}, {512, 3}} {
		for blk := 0; blk < cfg.blocks; blk++ {
			stride := 1
			if stage > 0 && blk == 0 {
				stride = 2
			}
			x = n.bottleneck(fmt.Sprintf("layer%d.%d", stage+1, blk), x, n.scaled(cfg.width), stride)
		}
	}
	return n.classifier(x), nil
}

// bottleneck adds ResNet's bottleneck block: Conv 1×1 → BN → ReLU → Conv
// k3 (stride) → BN → ReLU → Conv 1×1 (4× width) → BN, plus the shortcut,
// then ReLU.
func (n *net) bottleneck(p string, x *ir.Value, width, stride int) *ir.Value {
	y := n.convBN(p+".1", x, width, 1, 1, 1, actRelu)
	y = n.convBN(p+".2", y, width, 3, stride, 1, actRelu)
	y = n.branchEnd(p+".3", y, 4*width, 1)
	short := x
	if stride != 1 || channels(x) != int64(4*width) {
		short = n.convBN(p+".downsample", x, 4*width, 1, stride, 1, actNone)
	}
	y = n.b.Node(ir.OpAdd, p+".add", []*ir.Value{y, short})
	return n.activate(p+".relu", y, actRelu)
}
