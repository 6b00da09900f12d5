package synth

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/ferminets/fermi/ir"
	"github.com/ferminets/fermi/modelfile"
)

// SkeletonFromGraph maps the inference CNN g onto a Skeleton called name,
// the way the built-in table (prototypes) describes the zoo networks; it is
// how --prototype model.onnx anchors the space on the user's network.
// Input is g's input (C, H, W; an NHWC input turned NCHW by a Transpose is
// read through it); classes, when not 0, must equal the model's class
// count. Errors name name and, where one is at fault, the node:
// `synth: proto.onnx: node "conv3" (ConvTranspose): not expressible in the
// synthesis space (transposed convolution)`.
//
// The graph is walked from its input along the data path.
// BatchNormalization, activations, Dropout, Identity, Pad, Cast,
// Quantize/DequantizeLinear, elementwise ops with a constant operand and
// channel-shuffle Reshape/Transpose are transparent. Every Conv is
// recorded with its kernel, stride, groups and channels; the first one is
// the stem. A MaxPool or AveragePool of stride 2, or a Conv of stride 2,
// is a resolution drop. Where the path forks, the fork is:
//
//   - a residual block when both branches meet again at an Add: the branch
//     with the convolutions is the block, the other (identity, or one 1×1
//     projection Conv) is the shortcut and dropped;
//   - squeeze-and-excitation when one branch starts with GlobalAveragePool
//     or ReduceMean and both meet at a Mul: dropped (the space has no SE);
//   - a gated activation (x·sigmoid(x), a decomposed HardSwish) when the
//     other branch holds no weights and both meet at a Mul: an activation.
//
// Any other fork (Concat of parallel branches, Split) is an error.
//
// Convolutions between the drops and residual blocks form blocks, greedily:
// a depthwise k×k Conv and a 1×1 Conv are a depthwise-separable block when
// an activation follows the 1×1 Conv, else an inverted residual of
// expansion 1; a 1×1 Conv, a depthwise k×k Conv and a 1×1 Conv are an
// inverted residual with expansion = expanded/input channels (kept when
// whole, as the built-in mobilenetv2 keeps 1, else the nearest of the
// space's 2, 4, 6); a grouped Conv (1 < groups, not depthwise) is a
// grouped-shuffle block; any other Conv is a standard block. A residual
// branch is one block however many convolutions it holds (a ResNet basic
// block, two 3×3 Convs + Add, is one standard block, as the built-in
// resnet20 counts depth; so is a bottleneck); its convolutions must parse
// into blocks of one kind, and the block's kernel is their largest.
//
// Blocks form stages: a block that drops the resolution starts a stage with
// Pool; so does a block whose width or kind differs from its stage's (the
// built-in mobilenetv2 splits its stages at the width changes). A stage's
// kernel and expansion are the most common among its blocks, and Skip is
// set when any of its blocks is residual. Two drops with no block between
// them (a stride-2 stem and a max pool) give a stage of depth 0 (the space
// builds a stage's pool only with its blocks), and drops after the last
// block (LeNet-5's second pool, which the flatten head's own pooling
// replaces) give an optional stage of depth 0 with twice the last width
// and kernel 3: the extra downsampling stage the built-in classic
// prototypes have. A lone 1×1 Conv right before a global-average-pool head
// (MobileNetV2's 1280-channel Conv) belongs to the head and is dropped, as
// are the hidden Gemm/MatMul layers of the classifier (LeNet-5's). The
// head is HeadGAP after GlobalAveragePool (or ReduceMean over H and W, or
// an AveragePool to 1×1), else HeadFlatten; the class count is the output
// width of the last Gemm/MatMul (or Conv after global pooling).
//
// Against the built-in table, the zoo's lenet5, simplecnn and resnet20
// give back their rows exactly (so do the PyTorch exports in
// shared/models); the zoo's mobilenetv2 gives a seventh stage the built-in
// row leaves out (320 channels, one inverted residual of expansion 6).
func SkeletonFromGraph(g *ir.Graph, name string, classes int) (Skeleton, error) {
	w := &protoWalker{name: name}
	if g == nil {
		return Skeleton{}, w.errf("no graph")
	}
	in, err := w.setup(g)
	if err != nil {
		return Skeleton{}, err
	}
	s := Skeleton{Prototype: name, Input: in}
	items, _, headNode, err := w.walk(g.Inputs[0], nil, false)
	if err != nil {
		return Skeleton{}, err
	}
	if headNode == nil {
		return Skeleton{}, w.errf("no classifier head (GlobalAveragePool or Flatten, then Gemm) before output %q", w.out.Name)
	}
	if s.Head, s.Classes, err = w.head(headNode); err != nil {
		return Skeleton{}, err
	}
	if classes != 0 && classes != s.Classes {
		return Skeleton{}, w.errf("the model has %d classes, the data set %d", s.Classes, classes)
	}
	if len(items) == 0 || items[0].conv == nil {
		if len(items) > 0 && items[0].pool != nil {
			return Skeleton{}, w.nodeErr(items[0].pool, "pooling before the first convolution")
		}
		if len(items) > 0 && items[0].res != nil {
			return Skeleton{}, w.nodeErr(items[0].res.add, "a residual block before the stem convolution")
		}
		return Skeleton{}, w.errf("no Conv before the classifier head (node %q (%s)): the synthesis space needs a convolutional network", headNode.Name, headNode.TypeName())
	}
	stem := items[0].conv
	if stem.groups != 1 {
		return Skeleton{}, w.nodeErr(stem.node, "the stem must be a dense convolution, this one has %d groups", stem.groups)
	}
	s.StemWidth, s.StemKernel = stem.cout, stem.k
	blocks, trailing, err := w.blocks(items[1:], stem.stride/2)
	if err != nil {
		return Skeleton{}, err
	}
	if n := len(blocks); n > 0 && s.Head == HeadGAP && blocks[n-1].headConv {
		trailing += blocks[n-1].drops
		blocks = blocks[:n-1]
	}
	if len(blocks) == 0 {
		return Skeleton{}, w.errf("no convolution after the stem %q: the synthesis space needs at least one block", stem.node.Name)
	}
	s.Stages = stages(blocks, trailing)
	return s, s.validate()
}

// protoConv is one Conv of the prototype's path.
type protoConv struct {
	node                         *ir.Node
	k, stride, groups, cin, cout int
	act                          bool // an activation follows before the next Conv
}

func (c *protoConv) depthwise() bool { return c.groups > 1 && c.groups == c.cin && c.cout == c.cin }
func (c *protoConv) pointwise() bool { return c.groups == 1 && c.k == 1 }

// protoItem is one step of a path: a Conv, a stride-2 pooling or a
// residual block (its main branch; the shortcut is dropped).
type protoItem struct {
	conv *protoConv
	pool *ir.Node
	res  *protoResidual
}

type protoResidual struct {
	add    *ir.Node
	branch []protoItem
}

// protoBlock is one block of the space read from the prototype.
type protoBlock struct {
	kind       BlockKind
	k, t       int
	cin, width int
	drops      int  // resolution drops before or inside the block
	skip       bool // a residual block
	headConv   bool // a lone 1×1 Conv outside a residual block
}

// protoWalker walks one graph.
type protoWalker struct {
	name   string
	out    *ir.Value
	layout *ir.Node // a Transpose NHWC → NCHW of the input, if any
	users  map[*ir.Value][]*ir.Node
	data   map[*ir.Value]bool // values computed from the input (not constants, not shapes)
	steps  int                // nodes visited, bounded by budget against malformed graphs
	limit  int
}

func (w *protoWalker) errf(format string, args ...any) error {
	return fmt.Errorf("synth: %s: "+format, append([]any{w.name}, args...)...)
}

func (w *protoWalker) nodeErr(n *ir.Node, format string, args ...any) error {
	return fmt.Errorf("synth: %s: node %q (%s): not expressible in the synthesis space (%s)",
		w.name, n.Name, n.TypeName(), fmt.Sprintf(format, args...))
}

// setup checks g's input and output and indexes its data path.
func (w *protoWalker) setup(g *ir.Graph) ([3]int, error) {
	var in [3]int
	if len(g.Inputs) != 1 || g.Inputs[0] == nil {
		return in, w.errf("the model has %d inputs, want 1 (N×C×H×W images)", len(g.Inputs))
	}
	if len(g.Outputs) != 1 || g.Outputs[0] == nil {
		return in, w.errf("the model has %d outputs, want 1 (the logits)", len(g.Outputs))
	}
	for _, n := range g.Nodes {
		if n == nil {
			return in, w.errf("the graph has a nil node")
		}
	}
	x := g.Inputs[0]
	w.out = g.Outputs[0]
	w.users = g.Users()
	shape := x.Shape
	if us := w.users[x]; len(us) == 1 && us[0].Op == ir.OpTranspose && slices.Equal(us[0].Ints("perm"), []int64{0, 3, 1, 2}) &&
		len(us[0].Outputs) > 0 && us[0].Outputs[0] != nil {
		w.layout = us[0] // NHWC input turned NCHW
		shape = us[0].Outputs[0].Shape
	}
	if len(shape) != 4 || !shape[1].Static() || !shape[2].Static() || !shape[3].Static() ||
		shape[1].Size < 1 || shape[2].Size < 1 || shape[3].Size < 1 {
		return in, w.errf("input %q is %v, want N×C×H×W with C, H and W known", x.Name, x.Shape)
	}
	in = [3]int{int(shape[1].Size), int(shape[2].Size), int(shape[3].Size)}
	w.limit = 2*len(g.Nodes) + 8
	w.data = map[*ir.Value]bool{x: true}
	for _, n := range g.Nodes {
		if n == nil || n.Op == ir.OpShape {
			continue
		}
		if slices.ContainsFunc(n.Inputs, func(v *ir.Value) bool { return v != nil && w.data[v] }) {
			for _, o := range n.Outputs {
				if o != nil {
					w.data[o] = true
				}
			}
		}
	}
	return in, nil
}

// dataUsers returns the distinct nodes reading v as data.
func (w *protoWalker) dataUsers(v *ir.Value) []*ir.Node {
	var us []*ir.Node
	for _, n := range w.users[v] {
		if n.Op != ir.OpShape && !slices.Contains(us, n) {
			us = append(us, n)
		}
	}
	return us
}

// dataInputs counts n's distinct inputs that are data.
func (w *protoWalker) dataInputs(n *ir.Node) int {
	var seen []*ir.Value
	for _, v := range n.Inputs {
		if v != nil && w.data[v] && !slices.Contains(seen, v) {
			seen = append(seen, v)
		}
	}
	return len(seen)
}

// next returns n's data output, checking that no other output of n is
// read as data (Split, for one).
func (w *protoWalker) next(n *ir.Node) (*ir.Value, error) {
	if len(n.Outputs) == 0 || n.Outputs[0] == nil {
		return nil, w.nodeErr(n, "it has no output")
	}
	for _, o := range n.Outputs[1:] {
		if o != nil && (len(w.dataUsers(o)) > 0 || o == w.out) {
			return nil, w.nodeErr(n, "its %d outputs feed separate paths", len(n.Outputs))
		}
	}
	return n.Outputs[0], nil
}

// opaqueActivations are activations outside the core op set, by ONNX op type.
var opaqueActivations = []string{"Elu", "Selu", "Celu", "Gelu", "Mish", "Softplus", "Softsign", "PRelu", "ThresholdedRelu"}

func isActivation(n *ir.Node) bool {
	if n.Op == ir.OpOpaque {
		return n.Domain == "" && slices.Contains(opaqueActivations, n.OpType)
	}
	return n.Op.Info().Flags&ir.Activation != 0
}

// transparent reports whether n passes its data input through as far as
// the space is concerned (activations are handled apart).
func (w *protoWalker) transparent(n *ir.Node) bool {
	switch n.Op {
	case ir.OpBatchNorm, ir.OpDropout, ir.OpIdentity, ir.OpPad, ir.OpCast, ir.OpQuantizeLinear, ir.OpDequantizeLinear:
		return true
	case ir.OpAdd, ir.OpSub, ir.OpMul, ir.OpDiv:
		return w.dataInputs(n) == 1 // scaling or shifting by a constant
	case ir.OpReshape, ir.OpTranspose:
		// A channel shuffle: Reshape to rank 5, Transpose, Reshape back.
		if len(n.Outputs) == 0 || n.Outputs[0] == nil {
			return false
		}
		r := len(n.Outputs[0].Shape)
		return n == w.layout || r == 5 || (n.Op == ir.OpReshape && r == 4)
	}
	return false
}

// isGlobalAvgPool reports whether n is an AveragePool to 1×1 (the global
// pooling of older exporters).
func isGlobalAvgPool(n *ir.Node) bool {
	if n.Op != ir.OpAveragePool || len(n.Outputs) == 0 || n.Outputs[0] == nil {
		return false
	}
	s := n.Outputs[0].Shape
	return len(s) == 4 && s[2] == ir.D(1) && s[3] == ir.D(1)
}

func isHeadStart(n *ir.Node) bool {
	switch n.Op {
	case ir.OpGlobalAveragePool, ir.OpReduceMean, ir.OpFlatten, ir.OpReshape, ir.OpSqueeze, ir.OpGemm, ir.OpMatMul:
		return true
	}
	return isGlobalAvgPool(n)
}

// walk follows the data path from v (taking first, when given, as the
// first node) and returns its items, its last value and the node it
// stopped at: where it merges with another path (in a branch) or the
// head's first node (at top level); nil when it reached the graph output.
func (w *protoWalker) walk(v *ir.Value, first *ir.Node, branch bool) ([]protoItem, *ir.Value, *ir.Node, error) {
	var items []protoItem
	var last *protoConv
	for {
		if w.steps++; w.steps > w.limit {
			return nil, nil, nil, w.errf("the data path from %q does not reach the output", v.Name)
		}
		n := first
		first = nil
		if n == nil {
			us := w.dataUsers(v)
			switch {
			case len(us) == 0 && v == w.out:
				if branch {
					return nil, nil, nil, w.errf("a branch of a residual block ends at the output %q", v.Name)
				}
				return items, v, nil, nil
			case len(us) == 0:
				return nil, nil, nil, w.errf("value %q leads nowhere (not the output %q)", v.Name, w.out.Name)
			case len(us) > 1:
				item, out, gated, err := w.fork(v, us)
				if err != nil {
					return nil, nil, nil, err
				}
				if item != nil {
					items = append(items, *item)
					last = nil
				} else if gated && last != nil {
					last.act = true
				}
				v = out
				continue
			}
			n = us[0]
		}
		if w.dataInputs(n) > 1 {
			if branch {
				return items, v, n, nil
			}
			return nil, nil, nil, w.nodeErr(n, "it joins the path with a value that does not branch off it")
		}
		switch {
		case n.Op == ir.OpConv:
			c, err := w.conv(n)
			if err != nil {
				return nil, nil, nil, err
			}
			items = append(items, protoItem{conv: c})
			last = c
		case (n.Op == ir.OpMaxPool || n.Op == ir.OpAveragePool) && !isGlobalAvgPool(n):
			if err := w.pool(n); err != nil {
				return nil, nil, nil, err
			}
			items = append(items, protoItem{pool: n})
		case isActivation(n):
			if last != nil {
				last.act = true
			}
		case w.transparent(n):
		case n.Op == ir.OpConvTranspose:
			return nil, nil, nil, w.nodeErr(n, "transposed convolution")
		case isHeadStart(n):
			if branch {
				return nil, nil, nil, w.nodeErr(n, "%s inside a residual branch", n.TypeName())
			}
			return items, v, n, nil
		default:
			return nil, nil, nil, w.nodeErr(n, "no layer of the space computes %s", n.TypeName())
		}
		out, err := w.next(n)
		if err != nil {
			return nil, nil, nil, err
		}
		v = out
	}
}

// conv reads Conv n.
func (w *protoWalker) conv(n *ir.Node) (*protoConv, error) {
	wt := n.Input(1)
	var dims []int64
	if t := ir.ConstValue(wt); t != nil {
		dims = t.Dims
	} else if wt != nil && wt.Shape.IsStatic() {
		dims = wt.Shape.Ints()
	}
	if len(dims) != 4 {
		return nil, w.nodeErr(n, "not a 2-D convolution with a weight of known shape")
	}
	if dims[2] != dims[3] {
		return nil, w.nodeErr(n, "non-square kernel %d×%d", dims[2], dims[3])
	}
	for _, d := range n.Ints("dilations") {
		if d != 1 {
			return nil, w.nodeErr(n, "dilated convolution")
		}
	}
	stride := int64(1)
	if s := n.Ints("strides"); len(s) > 0 {
		stride = s[0]
		if len(s) != 2 || s[1] != s[0] || (s[0] != 1 && s[0] != 2) {
			return nil, w.nodeErr(n, "strides %v; the space downsamples by 2 only", s)
		}
	}
	groups := n.Int("group")
	x := n.Input(0)
	if x == nil || len(x.Shape) != 4 || !x.Shape[1].Static() {
		return nil, w.nodeErr(n, "input of unknown channel count")
	}
	c := &protoConv{node: n, k: int(dims[2]), stride: int(stride), groups: int(groups), cin: int(x.Shape[1].Size), cout: int(dims[0])}
	if c.k < 1 || c.cout < 1 || c.cin < 1 || c.groups < 1 || int64(c.cin) != dims[1]*groups {
		return nil, w.nodeErr(n, "weight %v does not fit %d input channels in %d groups", dims, c.cin, groups)
	}
	if c.groups > 1 && c.groups == c.cin && c.cout != c.cin {
		return nil, w.nodeErr(n, "depthwise convolution with channel multiplier %d", c.cout/c.cin)
	}
	return c, nil
}

// pool checks that pooling n halves the resolution.
func (w *protoWalker) pool(n *ir.Node) error {
	s := n.Ints("strides")
	if len(s) != 2 || s[0] != 2 || s[1] != 2 {
		return w.nodeErr(n, "pooling with strides %v; the space pools by 2 only", s)
	}
	return nil
}

// fork reads the region where v feeds the two nodes us: a residual block
// (returned as an item), squeeze-and-excitation (dropped) or a gated
// activation (gated). out is the value the region merges into.
func (w *protoWalker) fork(v *ir.Value, us []*ir.Node) (item *protoItem, out *ir.Value, gated bool, err error) {
	if len(us) > 2 {
		if v.Def != nil {
			return nil, nil, false, w.nodeErr(v.Def, "its output feeds %d branches", len(us))
		}
		return nil, nil, false, w.errf("input %q feeds %d branches", v.Name, len(us))
	}
	for _, p := range [][2]*ir.Node{{us[0], us[1]}, {us[1], us[0]}} {
		mul, other := p[0], p[1]
		if mul.Op != ir.OpMul || w.dataInputs(mul) != 2 {
			continue
		}
		weights, ok := w.reaches(other, mul)
		if !ok {
			continue
		}
		out, err := w.next(mul)
		if err != nil {
			return nil, nil, false, err
		}
		if other.Op == ir.OpGlobalAveragePool || other.Op == ir.OpReduceMean {
			return nil, out, false, nil // squeeze-and-excitation
		}
		if !weights {
			return nil, out, true, nil
		}
	}
	pa, _, ma, err := w.walk(v, us[0], true)
	if err != nil {
		return nil, nil, false, err
	}
	pb, _, mb, err := w.walk(v, us[1], true)
	if err != nil {
		return nil, nil, false, err
	}
	if ma != mb {
		return nil, nil, false, w.nodeErr(mb, "the branches leaving %q join at different nodes", v.Name)
	}
	if ma.Op != ir.OpAdd {
		return nil, nil, false, w.nodeErr(ma, "parallel branches joined by %s", ma.TypeName())
	}
	main, short := pa, pb
	ca, ka := convStats(pa)
	cb, kb := convStats(pb)
	if cb > ca || (cb == ca && kb > ka) {
		main, short = pb, pa
	}
	if c, _ := convStats(main); c == 0 {
		return nil, nil, false, w.nodeErr(ma, "a residual add without a convolution")
	}
	projections := 0
	for _, it := range short {
		switch {
		case it.res != nil:
			return nil, nil, false, w.nodeErr(ma, "a residual block inside a shortcut")
		case it.conv != nil && it.conv.pointwise():
			projections++
		case it.conv != nil:
			return nil, nil, false, w.nodeErr(ma, "both branches of the residual add hold %d×%d convolutions", it.conv.k, it.conv.k)
		}
	}
	if projections > 1 {
		return nil, nil, false, w.nodeErr(ma, "a shortcut with %d convolutions", projections)
	}
	for _, it := range main {
		if it.res != nil {
			return nil, nil, false, w.nodeErr(ma, "nested residual blocks")
		}
	}
	out, err = w.next(ma)
	if err != nil {
		return nil, nil, false, err
	}
	return &protoItem{res: &protoResidual{add: ma, branch: main}}, out, false, nil
}

// reaches follows single data users from n and reports whether they lead
// to target, and whether any node on the way has weights.
func (w *protoWalker) reaches(n, target *ir.Node) (weights, ok bool) {
	for n != target {
		if w.steps++; w.steps > w.limit {
			return false, false
		}
		switch n.Op {
		case ir.OpConv, ir.OpConvTranspose, ir.OpGemm, ir.OpMatMul, ir.OpMaxPool, ir.OpAveragePool:
			weights = true
		}
		if len(n.Outputs) == 0 || n.Outputs[0] == nil {
			return false, false
		}
		us := w.dataUsers(n.Outputs[0])
		if len(us) != 1 {
			return false, false
		}
		n = us[0]
	}
	return weights, true
}

// convStats returns how many convolutions a path holds and their largest kernel.
func convStats(items []protoItem) (n, k int) {
	for _, it := range items {
		if it.conv != nil {
			n++
			k = max(k, it.conv.k)
		}
	}
	return n, k
}

// blocks turns the items after the stem into blocks; drops is the number
// of resolution drops (the stem's stride) before the first. It returns the
// drops after the last block too.
func (w *protoWalker) blocks(items []protoItem, drops int) ([]protoBlock, int, error) {
	var out []protoBlock
	var run []*protoConv
	flush := func() error {
		bs, err := w.parseRun(run, drops)
		if err != nil {
			return err
		}
		if len(bs) > 0 {
			drops = 0
		}
		out = append(out, bs...)
		run = nil
		return nil
	}
	for _, it := range items {
		switch {
		case it.conv != nil:
			run = append(run, it.conv)
		case it.pool != nil:
			if err := flush(); err != nil {
				return nil, 0, err
			}
			drops++
		case it.res != nil:
			if err := flush(); err != nil {
				return nil, 0, err
			}
			b, err := w.residual(it.res)
			if err != nil {
				return nil, 0, err
			}
			b.drops += drops
			drops = 0
			out = append(out, b)
		}
	}
	if err := flush(); err != nil {
		return nil, 0, err
	}
	return out, drops, nil
}

// parseRun parses consecutive convolutions into blocks (see the mapping
// above); drops resolution drops precede the first.
func (w *protoWalker) parseRun(cs []*protoConv, drops int) ([]protoBlock, error) {
	var out []protoBlock
	for i := 0; i < len(cs); {
		c := cs[i]
		var b protoBlock
		var used []*protoConv
		switch {
		case c.depthwise():
			if i+1 >= len(cs) || !cs[i+1].pointwise() {
				return nil, w.nodeErr(c.node, "a depthwise convolution not followed by a 1×1 convolution")
			}
			p := cs[i+1]
			b = protoBlock{kind: InvertedResidual, k: c.k, t: 1, cin: c.cin, width: p.cout}
			if p.act {
				b.kind = DepthwiseSeparable
			}
			used = cs[i : i+2]
		case c.pointwise() && i+2 < len(cs) && cs[i+1].depthwise() && cs[i+2].pointwise():
			b = protoBlock{kind: InvertedResidual, k: cs[i+1].k, t: expansion(c.cin, c.cout), cin: c.cin, width: cs[i+2].cout}
			used = cs[i : i+3]
		case c.groups > 1:
			b = protoBlock{kind: GroupedShuffle, k: c.k, t: 1, cin: c.cin, width: c.cout}
			used = cs[i : i+1]
		default:
			b = protoBlock{kind: Standard, k: c.k, t: 1, cin: c.cin, width: c.cout, headConv: c.k == 1}
			used = cs[i : i+1]
		}
		for _, u := range used {
			b.drops += u.stride / 2
		}
		if len(out) == 0 {
			b.drops += drops
		}
		out = append(out, b)
		i += len(used)
	}
	return out, nil
}

// expansion returns the inverted-residual expansion from cin to hidden
// channels: the ratio when whole, else the nearest option of the space.
func expansion(cin, hidden int) int {
	if cin > 0 && hidden%cin == 0 && hidden >= cin {
		return hidden / cin
	}
	r := float64(hidden) / float64(max(cin, 1))
	best := expandOpts[0]
	for _, o := range expandOpts {
		if math.Abs(o-r) < math.Abs(best-r) {
			best = o
		}
	}
	return int(best)
}

// residual turns a residual block's main branch into one block.
func (w *protoWalker) residual(r *protoResidual) (protoBlock, error) {
	var cs []*protoConv
	drops := 0
	for _, it := range r.branch {
		if it.pool != nil {
			drops++
		}
		if it.conv != nil {
			cs = append(cs, it.conv)
		}
	}
	bs, err := w.parseRun(cs, drops)
	if err != nil {
		return protoBlock{}, err
	}
	b := bs[0]
	for _, o := range bs[1:] {
		if o.kind != b.kind {
			return protoBlock{}, w.nodeErr(r.add, "its residual branch mixes %s and %s blocks", b.kind, o.kind)
		}
		b.k = max(b.k, o.k)
		b.width = o.width
		b.drops += o.drops
	}
	b.skip, b.headConv = true, false
	return b, nil
}

// stages groups blocks into stages and adds the stages of depth 0 that
// trailing drops after the last block give.
func stages(blocks []protoBlock, trailing int) []StageShape {
	type group struct {
		pool   bool
		width  int // of an empty stage
		blocks []protoBlock
	}
	var gs []*group
	for _, b := range blocks {
		for j := 1; j < b.drops; j++ {
			gs = append(gs, &group{pool: true, width: b.cin})
		}
		if n := len(gs); b.drops == 0 && n > 0 && len(gs[n-1].blocks) > 0 &&
			gs[n-1].blocks[0].kind == b.kind && gs[n-1].blocks[0].width == b.width {
			gs[n-1].blocks = append(gs[n-1].blocks, b)
			continue
		}
		gs = append(gs, &group{pool: b.drops > 0, blocks: []protoBlock{b}})
	}
	var out []StageShape
	for _, g := range gs {
		st := StageShape{Width: g.width, Pool: g.pool, Block: Standard, Kernel: 3, Expansion: 1}
		if len(g.blocks) > 0 {
			b := g.blocks[0]
			st.Width, st.Depth, st.Block = b.width, len(g.blocks), b.kind
			var ks, ts []int
			for _, b := range g.blocks {
				ks, ts = append(ks, b.k), append(ts, b.t)
				st.Skip = st.Skip || b.skip
			}
			st.Kernel = mostCommon(ks)
			if b.kind == InvertedResidual {
				st.Expansion = mostCommon(ts)
			}
		}
		out = append(out, st)
	}
	for range trailing {
		out = append(out, StageShape{Width: 2 * out[len(out)-1].Width, Pool: true, Block: Standard, Kernel: 3, Expansion: 1})
	}
	return out
}

// mostCommon returns the most frequent of xs, the earliest on ties.
func mostCommon(xs []int) int {
	best, count := 0, 0
	for _, x := range xs {
		n := 0
		for _, y := range xs {
			if y == x {
				n++
			}
		}
		if n > count {
			best, count = x, n
		}
	}
	return best
}

// head reads the classifier from its first node n to the output: its kind
// and the class count (the last Gemm/MatMul's output width).
func (w *protoWalker) head(n *ir.Node) (Head, int, error) {
	head := HeadFlatten
	var fc *ir.Node
	for i := 0; ; i++ {
		if w.steps++; w.steps > w.limit {
			return 0, 0, w.errf("the classifier head does not reach the output %q", w.out.Name)
		}
		switch {
		case (n.Op == ir.OpGlobalAveragePool || isGlobalAvgPool(n)) && i == 0:
			head = HeadGAP
		case n.Op == ir.OpReduceMean && i == 0:
			ax := n.Ints("axes")
			if !slices.Equal(ax, []int64{2, 3}) && !slices.Equal(ax, []int64{-2, -1}) {
				return 0, 0, w.nodeErr(n, "ReduceMean over axes %v in the classifier head", ax)
			}
			head = HeadGAP
		case n.Op == ir.OpGemm || n.Op == ir.OpMatMul || (n.Op == ir.OpConv && head == HeadGAP && i > 0):
			fc = n // a Conv after global pooling is a fully connected layer
		case n.Op == ir.OpFlatten, n.Op == ir.OpReshape, n.Op == ir.OpSqueeze, n.Op == ir.OpSoftmax,
			n.Op == ir.OpOpaque && n.Domain == "" && n.OpType == "LogSoftmax",
			isActivation(n), w.transparent(n):
		default:
			return 0, 0, w.nodeErr(n, "%s in the classifier head", n.TypeName())
		}
		v, err := w.next(n)
		if err != nil {
			return 0, 0, err
		}
		if v == w.out {
			break
		}
		us := w.dataUsers(v)
		if len(us) != 1 {
			return 0, 0, w.nodeErr(n, "its output feeds %d nodes in the classifier head", len(us))
		}
		n = us[0]
	}
	if fc == nil {
		return 0, 0, w.errf("the classifier head has no Gemm or MatMul")
	}
	o := fc.Outputs[0]
	if len(o.Shape) < 2 || !o.Shape[1].Static() || o.Shape[1].Size < 1 {
		return 0, 0, w.nodeErr(fc, "classifier output %v, want N×classes", o.Shape)
	}
	return head, int(o.Shape[1].Size), nil
}

// isModelPath reports whether a prototype name is a model file rather
// than a built-in name: it ends in .onnx (or .fir) or names a file.
func isModelPath(name string) bool {
	switch strings.ToLower(filepath.Ext(name)) {
	case ".onnx", ".fir":
		return true
	}
	st, err := os.Stat(name)
	return err == nil && st.Mode().IsRegular()
}

// modelSkeleton loads the model at path, maps it with SkeletonFromGraph
// and adapts the result to the data set (adaptSkeleton).
func modelSkeleton(path string, input [3]int, classes int) (Skeleton, error) {
	g, err := modelfile.Load(path)
	if err != nil {
		return Skeleton{}, fmt.Errorf("synth: prototype: %w", err)
	}
	s, err := SkeletonFromGraph(g, filepath.Base(path), 0)
	if err != nil {
		return Skeleton{}, err
	}
	return adaptSkeleton(s, input, classes)
}

// adaptSkeleton fits the skeleton of a model made for other images or
// another class count to the data set, as one adapts an ImageNet network
// to CIFAR: the stem reads the data set's channels, the head outputs its
// classes, and when the model's images are larger the first
// round(log2(model side / data side)) downsamplings are removed, so that
// the last feature map keeps about the model's size (MobileNetV2 at 224
// ends at 7×7, and so does its adaptation to 28×28 images, with its first
// three stride-2 points gone). Smaller model images add no downsampling.
// What changed is recorded in s.Adapted; a skeleton whose pools still do
// not fit the images is an error.
func adaptSkeleton(s Skeleton, input [3]int, classes int) (Skeleton, error) {
	if s.Input == input && s.Classes == classes {
		return s, nil
	}
	from := fmt.Sprintf("%d×%d×%d images, %d classes", s.Input[0], s.Input[1], s.Input[2], s.Classes)
	drop := 0
	if side, data := min(s.Input[1], s.Input[2]), min(input[1], input[2]); side > data {
		drop = int(math.Round(math.Log2(float64(side) / float64(data))))
	}
	removed := 0
	s.Stages = slices.Clone(s.Stages)
	for i := range s.Stages {
		if removed < drop && s.Stages[i].Pool {
			s.Stages[i].Pool = false
			removed++
		}
	}
	s.Input, s.Classes = input, classes
	s.Adapted = fmt.Sprintf("made for %s; adapted to %d×%d×%d images, %d classes", from, input[0], input[1], input[2], classes)
	if removed > 0 {
		s.Adapted += fmt.Sprintf(", without its first %d downsampling(s)", removed)
	}
	if err := s.validate(); err != nil {
		return Skeleton{}, fmt.Errorf("%w (%s)", err, s.Adapted)
	}
	return s, nil
}
