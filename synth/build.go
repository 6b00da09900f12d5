package synth

import (
	"cmp"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"

	"github.com/ferminets/fermi/ir"
)

// layer is one weighted layer of a generated network, with the channel
// spaces it reads and writes. A channel space is a set of channels whose
// order must agree between the layers that share it: a stage's blocks all
// write the stage's space (so residual adds line up), inner layers write
// spaces of their own.
type layer struct {
	name      string
	kind      layerKind
	inSpace   string
	outSpace  string
	k, groups int
	w, b      *ir.Value    // b is nil for a Conv followed by BatchNormalization
	bn        [4]*ir.Value // BatchNormalization scale, shift, mean, variance (nil for Gemm)
	// flatHW is, for a Gemm after Flatten, the pixels per input channel.
	flatHW int
}

type layerKind uint8

const (
	layerConv layerKind = iota // dense or grouped Conv
	layerDepthwise
	layerGemm
)

// netBuilder builds one network of the space.
type netBuilder struct {
	b      *ir.Builder
	rng    *rand.Rand
	layers []*layer
	// blockOuts lists, per stage, the values the blocks of the stage output:
	// what the inquisitor's activation probe reads.
	blockOuts [][]string
	outVals   [][]*ir.Value
}

func channelsOf(v *ir.Value) int { return int(v.Shape[1].Size) }
func heightOf(v *ir.Value) int   { return int(v.Shape[2].Size) }

// param adds a Kaiming-normal (std √(2/fanIn)) weight drawn from nb.rng.
func (nb *netBuilder) kaiming(name string, fanIn int, dims ...int64) *ir.Value {
	data := make([]float32, ir.NumElements(dims))
	std := math.Sqrt(2 / float64(fanIn))
	for i := range data {
		data[i] = float32(std * nb.rng.NormFloat64())
	}
	return nb.b.Param(name, ir.NewFloat32(dims, data))
}

func (nb *netBuilder) zeros(name string, n int) *ir.Value {
	return nb.b.Param(name, ir.NewFloat32([]int64{int64(n)}, make([]float32, n)))
}

func (nb *netBuilder) filled(name string, n int, v float32) *ir.Value {
	d := make([]float32, n)
	for i := range d {
		d[i] = v
	}
	return nb.b.Param(name, ir.NewFloat32([]int64{int64(n)}, d))
}

// conv adds Conv ("same" padding, no bias) → BatchNormalization and records
// its layer. BatchNormalization folds into the Conv when deployed.
func (nb *netBuilder) conv(name string, x *ir.Value, out, k, groups int, kind layerKind, inSpace, outSpace string) *ir.Value {
	cin := channelsOf(x)
	w := nb.kaiming(name+".weight", cin/groups*k*k, int64(out), int64(cin/groups), int64(k), int64(k))
	attrs := []ir.Attr{
		ir.IntsAttr("kernel_shape", int64(k), int64(k)),
		ir.IntsAttr("strides", 1, 1),
		ir.IntsAttr("pads", int64(k/2), int64(k/2), int64(k/2), int64(k/2)),
	}
	if groups != 1 {
		attrs = append(attrs, ir.IntAttr("group", int64(groups)))
	}
	y := nb.b.Node(ir.OpConv, name, []*ir.Value{x, w}, attrs...)
	l := &layer{name: name, kind: kind, inSpace: inSpace, outSpace: outSpace, k: k, groups: groups, w: w}
	l.bn = [4]*ir.Value{nb.filled(name+".bn.scale", out, 1), nb.filled(name+".bn.shift", out, 0),
		nb.filled(name+".bn.mean", out, 0), nb.filled(name+".bn.var", out, 1)}
	nb.layers = append(nb.layers, l)
	return nb.b.Node(ir.OpBatchNorm, name+".bn", []*ir.Value{y, l.bn[0], l.bn[1], l.bn[2], l.bn[3]})
}

// gemm adds a fully connected layer of out units reading x, whose columns
// are the channels of space times hw pixels each, and records its layer.
func (nb *netBuilder) gemm(name string, x *ir.Value, out int, space string, hw int) *ir.Value {
	in := int(x.Shape[1].Size)
	w := nb.kaiming(name+".weight", in, int64(out), int64(in))
	b := nb.zeros(name+".bias", out)
	nb.layers = append(nb.layers, &layer{name: name, kind: layerGemm, inSpace: space, outSpace: name, w: w, b: b, flatHW: hw})
	return nb.b.Node(ir.OpGemm, name, []*ir.Value{x, w, b}, ir.IntAttr("transB", 1))
}

func (nb *netBuilder) relu(name string, x *ir.Value) *ir.Value {
	return nb.b.Node(ir.OpRelu, name, []*ir.Value{x})
}

func (nb *netBuilder) pool(name string, x *ir.Value) *ir.Value {
	return nb.b.Node(ir.OpMaxPool, name, []*ir.Value{x},
		ir.IntsAttr("kernel_shape", 2, 2), ir.IntsAttr("strides", 2, 2))
}

// shuffle adds ShuffleNet's channel shuffle with g groups: Reshape to
// N×g×(C/g)×H×W, Transpose groups and channels, Reshape back.
func (nb *netBuilder) shuffle(name string, x *ir.Value, g int) *ir.Value {
	c, h, w := int64(channelsOf(x)), int64(x.Shape[2].Size), int64(x.Shape[3].Size)
	s1 := nb.b.Param(name+".shape1", ir.NewInt64([]int64{5}, []int64{0, int64(g), c / int64(g), h, w}))
	s2 := nb.b.Param(name+".shape2", ir.NewInt64([]int64{4}, []int64{0, c, h, w}))
	y := nb.b.Node(ir.OpReshape, name+".split", []*ir.Value{x, s1})
	y = nb.b.Node(ir.OpTranspose, name+".swap", []*ir.Value{y}, ir.IntsAttr("perm", 0, 2, 1, 3, 4))
	return nb.b.Node(ir.OpReshape, name, []*ir.Value{y, s2})
}

// groupsFor returns the groups of a grouped conv from cin to cout channels:
// 4 when both divide by 4, else 2.
func groupsFor(cin, cout int) int {
	if cin%4 == 0 && cout%4 == 0 {
		return 4
	}
	return 2
}

// block adds one block of stage st from x (in space inSpace) to a map of
// st.Width channels in space outSpace.
func (nb *netBuilder) block(p string, x *ir.Value, st StageShape, inSpace, outSpace string) *ir.Value {
	cin, out := channelsOf(x), st.Width
	var y *ir.Value
	switch st.Block {
	case Standard:
		y = nb.relu(p+".relu", nb.conv(p+".conv", x, out, st.Kernel, 1, layerConv, inSpace, outSpace))
	case DepthwiseSeparable:
		y = nb.relu(p+".dwrelu", nb.conv(p+".dw", x, cin, st.Kernel, cin, layerDepthwise, inSpace, inSpace))
		y = nb.relu(p+".relu", nb.conv(p+".pw", y, out, 1, 1, layerConv, inSpace, outSpace))
	case InvertedResidual:
		hidden := cin * st.Expansion
		y = x
		space := inSpace
		if st.Expansion != 1 {
			y = nb.relu(p+".exprelu", nb.conv(p+".expand", x, hidden, 1, 1, layerConv, inSpace, p+".expand"))
			space = p + ".expand"
		}
		y = nb.relu(p+".dwrelu", nb.conv(p+".dw", y, hidden, st.Kernel, hidden, layerDepthwise, space, space))
		y = nb.conv(p+".project", y, out, 1, 1, layerConv, space, outSpace)
	case GroupedShuffle:
		g := groupsFor(cin, out)
		y = nb.relu(p+".relu", nb.conv(p+".gconv", x, out, st.Kernel, g, layerConv, inSpace, outSpace))
		y = nb.shuffle(p+".shuffle", y, g)
	}
	if st.Skip && cin == out {
		y = nb.b.Node(ir.OpAdd, p+".add", []*ir.Value{x, y})
	}
	return y
}

// buildNet builds the graph of a on skeleton s (input "input" N×C×H×W,
// output "logits" N×classes). Weights are drawn from rng, then, where
// parent is given, inherited from it (see inherit).
func buildNet(name string, s Skeleton, a Arch, rng *rand.Rand, parent *parentNet) (*ir.Graph, *netBuilder, error) {
	nb := &netBuilder{b: ir.NewBuilder(name), rng: rng}
	x := nb.b.Input("input", ir.Float32, ir.Shape{ir.Sym("N"), ir.D(int64(s.Input[0])), ir.D(int64(s.Input[1])), ir.D(int64(s.Input[2]))})
	y := nb.relu("stem.relu", nb.conv("stem", x, a.StemWidth, a.StemKernel, 1, layerConv, "input", "stem"))
	space := "stem"
	for i, st := range a.Stages {
		if st.Depth == 0 {
			nb.outVals = append(nb.outVals, nil)
			continue
		}
		if st.Pool && heightOf(y) >= 2 {
			y = nb.pool(fmt.Sprintf("s%d.pool", i+1), y)
		}
		var outs []*ir.Value
		for j := 0; j < st.Depth; j++ {
			p := fmt.Sprintf("s%d.b%d", i+1, j)
			out := fmt.Sprintf("s%d", i+1)
			y = nb.block(p, y, st, space, out)
			space = out
			outs = append(outs, y)
		}
		nb.outVals = append(nb.outVals, outs)
	}
	if a.Head == HeadGAP {
		y = nb.b.Node(ir.OpGlobalAveragePool, "head.gap", []*ir.Value{y})
	} else {
		for heightOf(y) > 7 {
			y = nb.pool("head.pool", y)
		}
	}
	hw := heightOf(y) * int(y.Shape[3].Size)
	y = nb.b.Node(ir.OpFlatten, "head.flatten", []*ir.Value{y}, ir.IntAttr("axis", 1))
	if a.Hidden > 0 {
		y = nb.relu("hidden.relu", nb.gemm("hidden", y, a.Hidden, space, hw))
		hw, space = 1, "hidden"
	}
	logits := nb.gemm("logits", y, s.Classes, space, hw)
	if err := nb.b.Err(); err != nil {
		return nil, nil, fmt.Errorf("synth: build %s: %w", a, err)
	}
	nb.b.Output(logits)
	g := nb.b.Graph()
	for _, n := range g.Nodes {
		n.Outputs[0].Name = n.Name
	}
	logits.Name = "logits"
	for _, outs := range nb.outVals {
		var names []string
		for _, v := range outs {
			names = append(names, v.Name)
		}
		nb.blockOuts = append(nb.blockOuts, names)
	}
	if parent != nil {
		inherit(nb.layers, parent)
	}
	g, err := nb.b.Build()
	if err != nil {
		return nil, nil, fmt.Errorf("synth: build %s: %w", a, err)
	}
	return g, nb, nil
}

// parentNet is a trained network whose weights new networks inherit.
type parentNet struct {
	graph  *ir.Graph
	layers map[string]*layer
	// order caches, per channel space, the parent's channels ranked by
	// importance (L1 norm of the filters writing them), most important first.
	order map[string][]int
}

// newParent indexes the weighted layers of a trained network built from
// arch on skeleton s.
func newParent(s Skeleton, a Arch, g *ir.Graph) (*parentNet, error) {
	_, nb, err := buildNet("parent", s, a, rand.New(rand.NewPCG(0, 0)), nil)
	if err != nil {
		return nil, err
	}
	p := &parentNet{graph: g, layers: make(map[string]*layer), order: make(map[string][]int)}
	imp := make(map[string][]float64)
	for _, l := range nb.layers {
		cp := *l
		ok := true
		look := func(v *ir.Value) *ir.Value {
			if v == nil {
				return nil
			}
			pv := g.Param(v.Name)
			if pv == nil || pv.Const == nil || !slices.Equal(pv.Const.Dims, v.Const.Dims) || len(pv.Const.F32) != len(v.Const.F32) {
				ok = false
			}
			return pv
		}
		cp.w, cp.b = look(l.w), look(l.b)
		for i := range cp.bn {
			cp.bn[i] = look(l.bn[i])
		}
		if !ok {
			return nil, fmt.Errorf("synth: parent weights of %q do not match the parent architecture %s", l.name, a)
		}
		w := cp.w
		p.layers[l.name] = &cp
		if l.kind == layerGemm {
			continue
		}
		out := int(w.Const.Dims[0])
		per := len(w.Const.F32) / out
		if imp[l.outSpace] == nil {
			imp[l.outSpace] = make([]float64, out)
		}
		for o := 0; o < out && o < len(imp[l.outSpace]); o++ {
			for _, v := range w.Const.F32[o*per : (o+1)*per] {
				imp[l.outSpace][o] += math.Abs(float64(v))
			}
		}
	}
	for space, v := range imp {
		idx := make([]int, len(v))
		for i := range idx {
			idx[i] = i
		}
		slices.SortStableFunc(idx, func(a, b int) int { return cmp.Compare(v[b], v[a]) })
		p.order[space] = idx
	}
	return p, nil
}

// pick returns which parent channel each of n child channels of space takes:
// the n most important ones in their original order, then -1 (fresh) for
// channels beyond the parent's width. The input space maps identically.
func (p *parentNet) pick(space string, n int) []int {
	ord, ok := p.order[space]
	if !ok {
		out := make([]int, n)
		for i := range out {
			out[i] = i
		}
		return out
	}
	k := min(n, len(ord))
	sel := slices.Clone(ord[:k])
	slices.Sort(sel)
	for len(sel) < n {
		sel = append(sel, -1)
	}
	return sel
}

// inherit copies weights from the parent into the child's layers where a
// layer of the same name and kind exists with the same kernel and
// grouping: for every output channel and input channel the child keeps
// from the parent (the most important ones, see pick), the filter taps are
// copied; new channels keep their fresh initialization. Grouped convs
// inherit only at equal widths.
func inherit(layers []*layer, p *parentNet) {
	for _, l := range layers {
		pl := p.layers[l.name]
		if pl == nil || pl.kind != l.kind || pl.k != l.k || pl.flatHW != l.flatHW {
			continue
		}
		if (l.inSpace == "hidden") != (pl.inSpace == "hidden") { // a classifier reading other units
			continue
		}
		cw, pw := l.w.Const, pl.w.Const
		if l.kind == layerConv && l.groups != 1 && (l.groups != pl.groups || !slices.Equal(cw.Dims, pw.Dims)) {
			continue
		}
		outN, inN := int(cw.Dims[0]), int(cw.Dims[1])
		pOutN, pInN := int(pw.Dims[0]), int(pw.Dims[1])
		var outSel, inSel []int
		switch l.kind {
		case layerGemm:
			outSel = identity(outN, pOutN)
			ch := p.pick(l.inSpace, inN/l.flatHW)
			inSel = make([]int, 0, inN)
			for _, c := range ch {
				for q := 0; q < l.flatHW; q++ {
					if c < 0 {
						inSel = append(inSel, -1)
					} else {
						inSel = append(inSel, c*l.flatHW+q)
					}
				}
			}
		case layerDepthwise:
			outSel = p.pick(l.outSpace, outN)
			inSel = []int{0}
		default:
			outSel = p.pick(l.outSpace, outN)
			if l.groups != 1 {
				inSel = identity(inN, pInN)
			} else {
				inSel = p.pick(l.inSpace, inN)
			}
		}
		taps := len(cw.F32) / (outN * inN)
		for o, po := range outSel {
			if po < 0 || po >= pOutN {
				continue
			}
			if l.b != nil && pl.b != nil {
				l.b.Const.F32[o] = pl.b.Const.F32[po]
			}
			for i := range l.bn {
				if l.bn[i] != nil && pl.bn[i] != nil {
					l.bn[i].Const.F32[o] = pl.bn[i].Const.F32[po]
				}
			}
			for i, pi := range inSel {
				if pi < 0 || pi >= pInN {
					continue
				}
				copy(cw.F32[(o*inN+i)*taps:(o*inN+i+1)*taps], pw.F32[(po*pInN+pi)*taps:(po*pInN+pi+1)*taps])
			}
		}
	}
}

// identity maps n channels to the first n of a parent's m (−1 beyond m).
func identity(n, m int) []int {
	s := make([]int, n)
	for i := range s {
		s[i] = i
		if i >= m {
			s[i] = -1
		}
	}
	return s
}
