package zoo

import (
	"fmt"
	"math"

	"github.com/ferminets/fermi/ir"
)

// Options configures Build. The zero value builds a network as published,
// at its default input shape and class count, with seed 0.
type Options struct {
	// Seed selects the weights: the same seed gives the same bits.
	Seed uint64
	// Classes is the number of logits; 0 means the network's default
	// (10 for the 28×28 networks, 1000 for the ImageNet ones).
	Classes int
	// InputShape is the input's (C, H, W); all zero means the network's
	// default (1×28×28 or 3×224×224).
	InputShape [3]int
	// Width multiplies channel counts; 0 means 1. MobileNets and MnasNet
	// round to multiples of 8 as their papers do; other networks round to
	// the nearest integer (at least 1).
	Width float64
	// RandomBNStats draws BatchNorm scale and variance uniformly from
	// [0.5, 1.5) and shift and mean from N(0, 0.1²) instead of the identity
	// statistics, so that folding BatchNorm changes weights measurably.
	RandomBNStats bool
}

// network is one row of the zoo table.
type network struct {
	name    string
	input   [3]int // default C, H, W
	classes int    // default class count
	build   func(n *net) (*ir.Value, error)
}

// networks is the zoo: every network Build knows, in the order Names
// reports them. The figures each reproduces are in the build functions'
// doc comments and checked by zoo_test.go.
var networks = []network{
	{"lenet5", mnist, 10, buildLeNet5},
	{"simplecnn", mnist, 10, buildSimpleCNN},
	{"resnet20", mnist, 10, func(n *net) (*ir.Value, error) { return buildCIFARResNet(n, 3) }},
	{"resnet56", mnist, 10, func(n *net) (*ir.Value, error) { return buildCIFARResNet(n, 9) }},
	{"vgg11bn", mnist, 10, buildVGG11BN},
	{"mobilenetv2", mnist, 10, func(n *net) (*ir.Value, error) { return buildMobileNetV2(n, true) }},
	{"resnet50", imagenet, 1000, buildResNet50},
	{"mobilenetv1", imagenet, 1000, buildMobileNetV1},
	{"mobilenetv2-imagenet", imagenet, 1000, func(n *net) (*ir.Value, error) { return buildMobileNetV2(n, false) }},
	{"mobilenetv3-small", imagenet, 1000, func(n *net) (*ir.Value, error) { return buildMobileNetV3(n, v3Small) }},
	{"mobilenetv3-large", imagenet, 1000, func(n *net) (*ir.Value, error) { return buildMobileNetV3(n, v3Large) }},
	{"mnasnet-a1", imagenet, 1000, buildMnasNetA1},
}

var (
	mnist    = [3]int{1, 28, 28}
	imagenet = [3]int{3, 224, 224}
)

// Names returns the names of every network Build knows, in table order.
func Names() []string {
	names := make([]string, len(networks))
	for i, nw := range networks {
		names[i] = nw.name
	}
	return names
}

// Build constructs the network called name (see Names) and returns the
// verified graph. Errors name the network and, for a construction failure
// (an input too small for the network's strides), the node concerned.
func Build(name string, opts Options) (*ir.Graph, error) {
	var nw *network
	for i := range networks {
		if networks[i].name == name {
			nw = &networks[i]
		}
	}
	if nw == nil {
		return nil, fmt.Errorf("zoo: unknown network %q (known: %v)", name, Names())
	}
	fail := func(format string, args ...any) error {
		return fmt.Errorf("zoo: %s: "+format, append([]any{name}, args...)...)
	}
	if opts.Classes < 0 {
		return nil, fail("classes %d is negative", opts.Classes)
	}
	if opts.Classes == 0 {
		opts.Classes = nw.classes
	}
	if opts.Width < 0 || math.IsNaN(opts.Width) || math.IsInf(opts.Width, 0) {
		return nil, fail("width %v is not a positive number", opts.Width)
	}
	if opts.Width == 0 {
		opts.Width = 1
	}
	if opts.InputShape == [3]int{} {
		opts.InputShape = nw.input
	}
	for _, d := range opts.InputShape {
		if d <= 0 {
			return nil, fail("input shape %v has a non-positive dim", opts.InputShape)
		}
	}
	n := newNet(name, opts)
	logits, err := nw.build(n)
	if err == nil {
		err = n.err
	}
	if err == nil {
		err = n.b.Err()
	}
	if err != nil {
		return nil, fail("%v", err)
	}
	n.b.Output(logits)
	nameOutputs(n.b.Graph(), logits)
	g, err := n.b.Build()
	if err != nil {
		return nil, fail("%v", err)
	}
	return g, nil
}

// nameOutputs gives every node's first output the node's own name (the
// builder keeps node and value names apart, so it would add a suffix), and
// names the logits "logits". Node names are unique among all names the
// builder gave out, so no two values collide.
func nameOutputs(g *ir.Graph, logits *ir.Value) {
	for _, nd := range g.Nodes {
		if len(nd.Outputs) > 0 && nd.Outputs[0] != nil {
			nd.Outputs[0].Name = nd.Name
		}
	}
	logits.Name = "logits"
}
