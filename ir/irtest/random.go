// Package irtest holds test helpers for graphs: Random, a generator of
// valid random graphs for property tests (every core op, and with
// Config.Exotic everything else the IR can hold), Equiv, equality up to
// names, and CountOps.
package irtest

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"

	"github.com/ferminets/fermi/ir"
)

// Config says what Random generates.
type Config struct {
	// Nodes is the number of core-op steps to attempt; 0 means a random
	// count between 1 and 12. A step may add more than one node (a
	// QuantizeLinear is followed by its DequantizeLinear).
	Nodes int
	// Exotic adds everything a front end may hand the IR besides core ops:
	// opaque nodes with attributes of every kind (raw included), parameters
	// of every dtype, special floats (NaN payloads, -0, ±Inf, subnormals),
	// stale Init recipes, docs and extra bytes on values and nodes, model
	// metadata, node names unlike their outputs, names that need quoting.
	Exotic bool
}

// RandomGraph returns a random valid graph of core ops, drawn from rng.
// It panics if the generated graph fails to build or verify, which is a bug
// in the generator or in shape inference, never a property of rng.
func RandomGraph(rng *rand.Rand) *ir.Graph {
	g, err := Random(rng, Config{})
	if err != nil {
		panic("irtest: " + err.Error())
	}
	return g
}

// Random returns a random graph built with ir.Builder and checked by
// ir.Verify. The same rng state and Config give the same graph.
func Random(rng *rand.Rand, cfg Config) (*ir.Graph, error) {
	g := &gen{rng: rng, b: ir.NewBuilder(fmt.Sprintf("random_%d", rng.IntN(1000)))}
	batch := ir.D(int64(1 + rng.IntN(2)))
	if rng.IntN(2) == 0 {
		batch = ir.Sym("N")
		if cfg.Exotic && rng.IntN(3) == 0 {
			batch = ir.Sym("batch size")
		}
	}
	x := g.b.Input("input", ir.Float32, ir.Shape{batch, ir.D(int64(g.between(1, 4))), ir.D(int64(g.between(3, 10))), ir.D(int64(g.between(3, 10)))})
	g.acts = append(g.acts, x)
	if rng.IntN(3) == 0 {
		g.acts = append(g.acts, g.b.Input("features", ir.Float32, ir.Shape{batch, ir.D(int64(g.between(1, 12)))}))
	}
	steps := cfg.Nodes
	if steps <= 0 {
		steps = g.between(1, 12)
	}
	ops := ir.Ops()
	for i := 0; i < steps; i++ {
		for try := 0; try < 20; try++ {
			op := ops[rng.IntN(len(ops))]
			build := builders[op]
			if build == nil {
				return nil, fmt.Errorf("irtest: no generator for op %v", op)
			}
			if build(g) {
				break
			}
		}
		if err := g.b.Err(); err != nil {
			return nil, fmt.Errorf("irtest: %w", err)
		}
	}
	if cfg.Exotic {
		g.opaque()
		g.dtypeParams()
	}
	g.outputs()
	graph, err := g.b.Build()
	if err != nil {
		return nil, fmt.Errorf("irtest: %w", err)
	}
	if cfg.Exotic {
		g.decorate(graph)
		if err := ir.Verify(graph); err != nil {
			return nil, fmt.Errorf("irtest: after decoration: %w", err)
		}
	}
	return graph, nil
}

// CountOps returns how many nodes of each op g has.
func CountOps(g *ir.Graph) map[ir.Op]int {
	m := make(map[ir.Op]int)
	for _, n := range g.Nodes {
		m[n.Op]++
	}
	return m
}

type gen struct {
	rng   *rand.Rand
	b     *ir.Builder
	acts  []*ir.Value // f32 values of known rank ≥ 1 that nodes can consume
	ints  []*ir.Value // i64 shape vectors (from Shape)
	quant []*ir.Value // u8/i8 outputs of QuantizeLinear
}

// builders adds one node (or a short chain) of each core op, or reports
// false when no available value suits the op.
var builders = map[ir.Op]func(g *gen) bool{
	ir.OpConv:          (*gen).conv,
	ir.OpConvTranspose: (*gen).convTranspose,
	ir.OpBatchNorm:     (*gen).batchNorm,
	ir.OpRelu:          func(g *gen) bool { return g.unary(ir.OpRelu) },
	ir.OpClip:          (*gen).clip,
	ir.OpLeakyRelu:     func(g *gen) bool { return g.unary(ir.OpLeakyRelu, ir.FloatAttr("alpha", g.f32Attr())) },
	ir.OpSigmoid:       func(g *gen) bool { return g.unary(ir.OpSigmoid) },
	ir.OpHardSigmoid: func(g *gen) bool {
		return g.unary(ir.OpHardSigmoid, ir.FloatAttr("alpha", 0.2), ir.FloatAttr("beta", g.f32Attr()))
	},
	ir.OpHardSwish:         func(g *gen) bool { return g.unary(ir.OpHardSwish) },
	ir.OpTanh:              func(g *gen) bool { return g.unary(ir.OpTanh) },
	ir.OpErf:               func(g *gen) bool { return g.unary(ir.OpErf) },
	ir.OpSqrt:              func(g *gen) bool { return g.unary(ir.OpSqrt) },
	ir.OpIdentity:          func(g *gen) bool { return g.unary(ir.OpIdentity) },
	ir.OpAdd:               func(g *gen) bool { return g.binary(ir.OpAdd) },
	ir.OpSub:               func(g *gen) bool { return g.binary(ir.OpSub) },
	ir.OpMul:               func(g *gen) bool { return g.binary(ir.OpMul) },
	ir.OpDiv:               func(g *gen) bool { return g.binary(ir.OpDiv) },
	ir.OpPow:               func(g *gen) bool { return g.binary(ir.OpPow) },
	ir.OpConcat:            (*gen).concat,
	ir.OpSplit:             (*gen).split,
	ir.OpSlice:             (*gen).slice,
	ir.OpMaxPool:           func(g *gen) bool { return g.pool(ir.OpMaxPool) },
	ir.OpAveragePool:       func(g *gen) bool { return g.pool(ir.OpAveragePool) },
	ir.OpGlobalAveragePool: (*gen).globalPool,
	ir.OpReduceMean:        (*gen).reduceMean,
	ir.OpResize:            (*gen).resize,
	ir.OpGemm:              (*gen).gemm,
	ir.OpMatMul:            (*gen).matmul,
	ir.OpFlatten:           (*gen).flatten,
	ir.OpReshape:           (*gen).reshape,
	ir.OpTranspose:         (*gen).transpose,
	ir.OpSqueeze:           (*gen).squeeze,
	ir.OpUnsqueeze:         (*gen).unsqueeze,
	ir.OpSoftmax:           (*gen).softmax,
	ir.OpDropout:           (*gen).dropout,
	ir.OpPad:               (*gen).pad,
	ir.OpShape:             (*gen).shape,
	ir.OpGather:            (*gen).gather,
	ir.OpCast:              (*gen).cast,
	ir.OpConstant:          (*gen).constant,
	ir.OpQuantizeLinear:    (*gen).quantize,
	ir.OpDequantizeLinear:  (*gen).quantize,
}

// between returns a random int in [lo, hi].
func (g *gen) between(lo, hi int) int { return lo + g.rng.IntN(hi-lo+1) }

func (g *gen) coin() bool { return g.rng.IntN(2) == 0 }

// f32Attr returns a float attribute value with a short decimal spelling.
func (g *gen) f32Attr() float32 { return float32(g.between(1, 99)) / 100 }

// pick returns a random activation satisfying ok, or nil.
func (g *gen) pick(ok func(s ir.Shape) bool) *ir.Value {
	var c []*ir.Value
	for _, v := range g.acts {
		if ok(v.Shape) {
			c = append(c, v)
		}
	}
	if len(c) == 0 {
		return nil
	}
	return c[g.rng.IntN(len(c))]
}

func anyRank(s ir.Shape) bool { return len(s) >= 1 }

// image accepts [*, C, H, W] with C, H and W static.
func image(s ir.Shape) bool { return len(s) == 4 && s[1].Static() && s[2].Static() && s[3].Static() }

// add records a new f32 value as an activation when it has a known rank.
func (g *gen) add(vs ...*ir.Value) bool {
	for _, v := range vs {
		if g.b.Err() == nil && v.DType == ir.Float32 && len(v.Shape) >= 1 && len(v.Shape) <= 6 {
			g.acts = append(g.acts, v)
		}
	}
	return true
}

// weights adds an f32 parameter of the given dims: usually an Init recipe,
// sometimes plain data.
func (g *gen) weights(name string, dims []int64, std float64) *ir.Value {
	dims = slices.Clone(dims)
	if g.rng.IntN(4) > 0 {
		in := ir.Init{Kind: "normal", Seed: uint64(g.rng.IntN(1000)), A: 0, B: std}
		if g.coin() {
			in = ir.Init{Kind: "uniform", Seed: uint64(g.rng.IntN(1000)), A: -std, B: std}
		}
		return g.b.Param(name, in.Materialize(dims))
	}
	data := make([]float32, ir.NumElements(dims))
	for i := range data {
		data[i] = float32(g.rng.NormFloat64() * std)
	}
	return g.b.Param(name, ir.NewFloat32(dims, data))
}

func (g *gen) scalar(name string, v float32) *ir.Value {
	return g.b.Param(name, ir.NewFloat32([]int64{}, []float32{v}))
}

func (g *gen) i64s(name string, vs ...int64) *ir.Value {
	return g.b.Param(name, ir.NewInt64([]int64{int64(len(vs))}, vs))
}

// window draws kernel, stride, dilation and pads for one spatial dim of
// size n such that the output has at least one element.
func (g *gen) window(n int64, dilate bool) (k, s, d, pb, pe int64) {
	for {
		k, s, d = int64(g.between(1, 3)), int64(g.between(1, 2)), 1
		if dilate && g.rng.IntN(4) == 0 {
			d = 2
		}
		pb, pe = int64(g.rng.IntN(int(k))), int64(g.rng.IntN(int(k)))
		if (k-1)*d+1 <= n+pb+pe {
			return
		}
	}
}

// spatial draws window parameters for both spatial dims of image x and
// returns them as attributes (kernel_shape only when withKernel).
func (g *gen) spatial(x *ir.Value, dilate, withKernel bool) (attrs []ir.Attr, kernel []int64) {
	var ks, ss, ds, pads []int64
	ends := make([]int64, 2)
	for i := 0; i < 2; i++ {
		k, s, d, pb, pe := g.window(x.Shape[2+i].Size, dilate)
		ks, ss, ds = append(ks, k), append(ss, s), append(ds, d)
		pads = append(pads, pb)
		ends[i] = pe
	}
	pads = append(pads, ends...)
	if withKernel || g.coin() {
		attrs = append(attrs, ir.IntsAttr("kernel_shape", ks...))
	}
	if slices.ContainsFunc(pads, func(p int64) bool { return p != 0 }) || g.coin() {
		attrs = append(attrs, ir.IntsAttr("pads", pads...))
	}
	if ss[0] != 1 || ss[1] != 1 || g.coin() {
		attrs = append(attrs, ir.IntsAttr("strides", ss...))
	}
	if ds[0] != 1 || ds[1] != 1 {
		attrs = append(attrs, ir.IntsAttr("dilations", ds...))
	}
	return attrs, ks
}

func (g *gen) conv() bool {
	x := g.pick(image)
	if x == nil {
		return false
	}
	c := x.Shape[1].Size
	group := int64(1)
	if c > 1 && g.rng.IntN(3) == 0 {
		group = c
	}
	m := group * int64(g.between(1, 3))
	attrs, ks := g.spatial(x, true, false)
	if group != 1 || g.rng.IntN(4) == 0 {
		attrs = append(attrs, ir.IntAttr("group", group))
	}
	w := g.weights("w", []int64{m, c / group, ks[0], ks[1]}, 1/math.Sqrt(float64(c/group*ks[0]*ks[1])))
	in := []*ir.Value{x, w}
	if g.coin() {
		in = append(in, g.weights("b", []int64{m}, 0.1))
	}
	return g.add(g.b.Node(ir.OpConv, "conv", in, attrs...))
}

func (g *gen) convTranspose() bool {
	x := g.pick(image)
	if x == nil {
		return false
	}
	c := x.Shape[1].Size
	m := int64(g.between(1, 3))
	k, s := int64(g.between(1, 3)), int64(g.between(1, 2))
	pad := int64(g.rng.IntN(int(k+1) / 2))
	attrs := []ir.Attr{ir.IntsAttr("kernel_shape", k, k), ir.IntsAttr("strides", s, s)}
	// Output size s·(n−1) + k − 2·pad stays ≥ 1 because 2·pad < k.
	if pad > 0 {
		attrs = append(attrs, ir.IntsAttr("pads", pad, pad, pad, pad))
	}
	if s == 2 && g.coin() {
		attrs = append(attrs, ir.IntsAttr("output_padding", 1, 1))
	}
	w := g.weights("wt", []int64{c, m, k, k}, 0.2)
	in := []*ir.Value{x, w}
	if g.coin() {
		in = append(in, g.weights("bt", []int64{m}, 0.1))
	}
	return g.add(g.b.Node(ir.OpConvTranspose, "deconv", in, attrs...))
}

func (g *gen) batchNorm() bool {
	x := g.pick(func(s ir.Shape) bool { return len(s) >= 2 && s[1].Static() })
	if x == nil {
		return false
	}
	c := []int64{x.Shape[1].Size}
	in := []*ir.Value{x, g.weights("scale", c, 0.1), g.weights("bias", c, 0.1), g.weights("mean", c, 0.1)}
	variance := ir.Init{Kind: "normal", Seed: uint64(g.rng.IntN(1000)), A: 1, B: 0.2, Abs: true}
	in = append(in, g.b.Param("var", variance.Materialize(slices.Clone(c))))
	var attrs []ir.Attr
	if g.coin() {
		attrs = append(attrs, ir.FloatAttr("epsilon", 1e-3))
	}
	return g.add(g.b.Node(ir.OpBatchNorm, "bn", in, attrs...))
}

func (g *gen) unary(op ir.Op, attrs ...ir.Attr) bool {
	x := g.pick(anyRank)
	if x == nil {
		return false
	}
	if g.coin() {
		attrs = nil // schema defaults
	}
	return g.add(g.b.Node(op, "", []*ir.Value{x}, attrs...))
}

func (g *gen) clip() bool {
	x := g.pick(anyRank)
	if x == nil {
		return false
	}
	in := []*ir.Value{x}
	switch g.rng.IntN(4) {
	case 1:
		in = append(in, g.scalar("lo", 0))
	case 2:
		in = append(in, g.scalar("lo", -1), g.scalar("hi", 6))
	case 3:
		in = append(in, nil, g.scalar("hi", 6)) // omitted optional input
	}
	return g.add(g.b.Node(ir.OpClip, "clip", in))
}

func (g *gen) binary(op ir.Op) bool {
	x := g.pick(anyRank)
	if x == nil {
		return false
	}
	var y *ir.Value
	switch g.rng.IntN(4) {
	case 0:
		y = x
	case 1:
		y = g.pick(func(s ir.Shape) bool { return s.Equal(x.Shape) })
	case 2:
		if last := x.Shape[len(x.Shape)-1]; last.Static() {
			y = g.weights("k", []int64{last.Size}, 1)
		}
	}
	if y == nil {
		y = g.scalar("k", float32(g.between(1, 3)))
	}
	if op == ir.OpPow || op == ir.OpDiv {
		y = g.scalar("k", 2)
	}
	in := []*ir.Value{x, y}
	if g.coin() && op != ir.OpPow {
		in[0], in[1] = y, x
	}
	return g.add(g.b.Node(op, "", in))
}

func (g *gen) concat() bool {
	x := g.pick(anyRank)
	if x == nil {
		return false
	}
	in := []*ir.Value{x}
	for i := g.between(1, 2); i > 0; i-- {
		in = append(in, g.pick(func(s ir.Shape) bool { return s.Equal(x.Shape) }))
	}
	r := len(x.Shape)
	axis := int64(g.rng.IntN(2*r) - r)
	return g.add(g.b.Node(ir.OpConcat, "cat", in, ir.IntAttr("axis", axis)))
}

// staticAxis returns a random axis of x whose size is static and ≥ min, or -1.
func (g *gen) staticAxis(s ir.Shape, min int64) int {
	var axes []int
	for i, d := range s {
		if d.Static() && d.Size >= min {
			axes = append(axes, i)
		}
	}
	if len(axes) == 0 {
		return -1
	}
	return axes[g.rng.IntN(len(axes))]
}

func (g *gen) split() bool {
	x := g.pick(func(s ir.Shape) bool { return g.staticAxis(s, 2) >= 0 })
	if x == nil {
		return false
	}
	axis := g.staticAxis(x.Shape, 2)
	d := x.Shape[axis].Size
	var attrs []ir.Attr
	if axis != 0 || g.coin() {
		attrs = append(attrs, ir.IntAttr("axis", int64(axis)))
	}
	if d%2 == 0 && g.coin() {
		return g.add(g.b.NodeN(ir.OpSplit, "split", 2, []*ir.Value{x}, attrs...)...)
	}
	first := int64(g.between(1, int(d-1)))
	sizes := g.i64s("sizes", first, d-first)
	return g.add(g.b.NodeN(ir.OpSplit, "split", 2, []*ir.Value{x, sizes}, attrs...)...)
}

func (g *gen) slice() bool {
	x := g.pick(func(s ir.Shape) bool { return g.staticAxis(s, 1) >= 0 })
	if x == nil {
		return false
	}
	axis := g.staticAxis(x.Shape, 1)
	d := x.Shape[axis].Size
	start := int64(g.rng.IntN(int(d)))
	end := start + int64(g.between(1, int(d-start)))
	if g.rng.IntN(4) == 0 {
		end = math.MaxInt64 // "to the end", as exporters write it
	}
	in := []*ir.Value{x, g.i64s("starts", start), g.i64s("ends", end)}
	switch {
	case axis == len(x.Shape)-1 && g.coin():
		in = append(in, g.i64s("axes", -1))
	default:
		in = append(in, g.i64s("axes", int64(axis)))
		if g.coin() {
			in = append(in, g.i64s("steps", int64(g.between(1, 2))))
		}
	}
	if axis == 0 && len(in) == 4 && g.coin() {
		in = in[:3] // axes default to 0..len(starts)-1
	}
	return g.add(g.b.Node(ir.OpSlice, "slice", in))
}

func (g *gen) pool(op ir.Op) bool {
	x := g.pick(image)
	if x == nil {
		return false
	}
	attrs, _ := g.spatial(x, false, true)
	if g.rng.IntN(4) == 0 {
		attrs = append(attrs, ir.IntAttr("ceil_mode", 1))
	}
	if op == ir.OpAveragePool && g.coin() {
		attrs = append(attrs, ir.IntAttr("count_include_pad", 1))
	}
	if op == ir.OpMaxPool && g.rng.IntN(4) == 0 {
		return g.add(g.b.NodeN(op, "pool", 2, []*ir.Value{x}, attrs...)...)
	}
	return g.add(g.b.Node(op, "pool", []*ir.Value{x}, attrs...))
}

func (g *gen) globalPool() bool {
	x := g.pick(func(s ir.Shape) bool { return len(s) >= 3 })
	if x == nil {
		return false
	}
	return g.add(g.b.Node(ir.OpGlobalAveragePool, "gap", []*ir.Value{x}))
}

func (g *gen) reduceMean() bool {
	x := g.pick(func(s ir.Shape) bool { return len(s) >= 2 })
	if x == nil {
		return false
	}
	r := len(x.Shape)
	axes := []int64{int64(g.between(1, r-1))}
	if g.coin() {
		axes[0] -= int64(r) // negative spelling
	}
	attrs := []ir.Attr{ir.IntsAttr("axes", axes...)}
	if g.coin() {
		attrs = append(attrs, ir.IntAttr("keepdims", int64(g.rng.IntN(2))))
	}
	return g.add(g.b.Node(ir.OpReduceMean, "mean", []*ir.Value{x}, attrs...))
}

func (g *gen) resize() bool {
	x := g.pick(image)
	if x == nil {
		return false
	}
	var attrs []ir.Attr
	if g.coin() {
		attrs = append(attrs, ir.StrAttr("mode", "linear"), ir.StrAttr("coordinate_transformation_mode", "align_corners"))
	}
	if x.Shape[0].Static() && g.coin() {
		s := x.Shape.Ints()
		sizes := g.i64s("sizes", s[0], s[1], s[2]+1, s[3]*2)
		return g.add(g.b.Node(ir.OpResize, "resize", []*ir.Value{x, nil, nil, sizes}, attrs...))
	}
	scales := g.b.Param("scales", ir.NewFloat32([]int64{4}, []float32{1, 1, 2, 2}))
	return g.add(g.b.Node(ir.OpResize, "resize", []*ir.Value{x, nil, scales}, attrs...))
}

func (g *gen) gemm() bool {
	x := g.pick(func(s ir.Shape) bool { return len(s) == 2 && s[1].Static() })
	if x == nil {
		return false
	}
	k, n := x.Shape[1].Size, int64(g.between(1, 10))
	var attrs []ir.Attr
	var w *ir.Value
	if g.coin() {
		w = g.weights("fc", []int64{n, k}, 0.3)
		attrs = append(attrs, ir.IntAttr("transB", 1))
	} else {
		w = g.weights("fc", []int64{k, n}, 0.3)
	}
	if g.rng.IntN(4) == 0 {
		attrs = append(attrs, ir.FloatAttr("alpha", 0.5), ir.FloatAttr("beta", 2))
	}
	in := []*ir.Value{x, w}
	switch g.rng.IntN(3) {
	case 1:
		in = append(in, g.weights("fc_b", []int64{n}, 0.1))
	case 2:
		in = append(in, g.weights("fc_b", []int64{1, n}, 0.1))
	}
	return g.add(g.b.Node(ir.OpGemm, "gemm", in, attrs...))
}

func (g *gen) matmul() bool {
	x := g.pick(func(s ir.Shape) bool { return len(s) >= 2 && s[len(s)-1].Static() })
	if x == nil {
		return false
	}
	k := x.Shape[len(x.Shape)-1].Size
	w := g.weights("mm", []int64{k, int64(g.between(1, 6))}, 0.3)
	return g.add(g.b.Node(ir.OpMatMul, "matmul", []*ir.Value{x, w}))
}

func (g *gen) flatten() bool {
	x := g.pick(anyRank)
	if x == nil {
		return false
	}
	r := len(x.Shape)
	axis := int64(g.between(-r, r))
	if axis == 1 && g.coin() {
		return g.add(g.b.Node(ir.OpFlatten, "flatten", []*ir.Value{x}))
	}
	return g.add(g.b.Node(ir.OpFlatten, "flatten", []*ir.Value{x}, ir.IntAttr("axis", axis)))
}

func (g *gen) reshape() bool {
	x := g.pick(func(s ir.Shape) bool { return len(s) >= 2 })
	if x == nil {
		return false
	}
	var shape *ir.Value
	switch g.rng.IntN(3) {
	case 0:
		shape = g.i64s("shape", 0, -1)
	case 1:
		shape = g.b.Node(ir.OpShape, "shape_of", []*ir.Value{x})
	default:
		if !x.Shape.IsStatic() {
			shape = g.i64s("shape", 0, -1)
			break
		}
		shape = g.i64s("shape", -1)
	}
	return g.add(g.b.Node(ir.OpReshape, "reshape", []*ir.Value{x, shape}))
}

func (g *gen) transpose() bool {
	x := g.pick(anyRank)
	if x == nil {
		return false
	}
	if g.rng.IntN(4) == 0 {
		return g.add(g.b.Node(ir.OpTranspose, "transpose", []*ir.Value{x}))
	}
	perm := make([]int64, len(x.Shape))
	for i, j := range g.rng.Perm(len(perm)) {
		perm[i] = int64(j)
	}
	return g.add(g.b.Node(ir.OpTranspose, "transpose", []*ir.Value{x}, ir.IntsAttr("perm", perm...)))
}

func (g *gen) squeeze() bool {
	ones := func(s ir.Shape) []int64 {
		var a []int64
		for i, d := range s {
			if d.Static() && d.Size == 1 {
				a = append(a, int64(i))
			}
		}
		return a
	}
	x := g.pick(func(s ir.Shape) bool { return len(s) >= 2 && len(ones(s)) > 0 && len(ones(s)) < len(s) })
	if x == nil {
		return false
	}
	axes := ones(x.Shape)
	if x.Shape.IsStatic() && g.coin() {
		return g.add(g.b.Node(ir.OpSqueeze, "squeeze", []*ir.Value{x}))
	}
	return g.add(g.b.Node(ir.OpSqueeze, "squeeze", []*ir.Value{x, g.i64s("axes", axes[g.rng.IntN(len(axes))])}))
}

func (g *gen) unsqueeze() bool {
	x := g.pick(func(s ir.Shape) bool { return len(s) <= 4 })
	if x == nil {
		return false
	}
	axis := int64(g.between(0, len(x.Shape)))
	return g.add(g.b.Node(ir.OpUnsqueeze, "unsqueeze", []*ir.Value{x, g.i64s("axes", axis)}))
}

func (g *gen) softmax() bool {
	x := g.pick(anyRank)
	if x == nil {
		return false
	}
	r := len(x.Shape)
	if g.coin() {
		return g.add(g.b.Node(ir.OpSoftmax, "softmax", []*ir.Value{x}))
	}
	return g.add(g.b.Node(ir.OpSoftmax, "softmax", []*ir.Value{x}, ir.IntAttr("axis", int64(g.between(-r, r-1)))))
}

func (g *gen) dropout() bool {
	x := g.pick(anyRank)
	if x == nil {
		return false
	}
	in := []*ir.Value{x}
	if g.coin() {
		in = append(in, g.scalar("ratio", 0.25))
	}
	var attrs []ir.Attr
	if g.rng.IntN(4) == 0 {
		attrs = append(attrs, ir.IntAttr("seed", int64(g.rng.IntN(100))))
	}
	return g.add(g.b.NodeN(ir.OpDropout, "dropout", g.between(1, 2), in, attrs...)...)
}

func (g *gen) pad() bool {
	x := g.pick(anyRank)
	if x == nil {
		return false
	}
	r := len(x.Shape)
	pads := make([]int64, 2*r)
	for i := range pads {
		if x.Shape[i%r].Static() {
			pads[i] = int64(g.rng.IntN(3))
		}
	}
	in := []*ir.Value{x, g.i64s("pads", pads...)}
	var attrs []ir.Attr
	switch g.rng.IntN(3) {
	case 0:
		in = append(in, g.scalar("fill", -1))
	case 1:
		attrs = append(attrs, ir.StrAttr("mode", "edge"))
	}
	return g.add(g.b.Node(ir.OpPad, "pad", in, attrs...))
}

func (g *gen) shape() bool {
	x := g.pick(anyRank)
	if x == nil {
		return false
	}
	var attrs []ir.Attr
	if len(x.Shape) > 1 && g.coin() {
		attrs = append(attrs, ir.IntAttr("start", 1))
	}
	s := g.b.Node(ir.OpShape, "shape", []*ir.Value{x}, attrs...)
	if g.b.Err() == nil {
		g.ints = append(g.ints, s)
	}
	return true
}

func (g *gen) gather() bool {
	if len(g.ints) > 0 && g.coin() {
		s := g.ints[g.rng.IntN(len(g.ints))]
		if n := s.Shape[0]; n.Static() && n.Size > 0 {
			idx := g.b.Param("idx", ir.NewInt64([]int64{}, []int64{int64(g.rng.IntN(int(n.Size)))}))
			g.b.Node(ir.OpGather, "gather", []*ir.Value{s, idx})
			return true
		}
	}
	x := g.pick(func(s ir.Shape) bool { return g.staticAxis(s, 1) >= 0 })
	if x == nil {
		return false
	}
	axis := g.staticAxis(x.Shape, 1)
	d := x.Shape[axis].Size
	idx := g.i64s("idx", int64(g.rng.IntN(int(d))), -1)
	return g.add(g.b.Node(ir.OpGather, "gather", []*ir.Value{x, idx}, ir.IntAttr("axis", int64(axis))))
}

func (g *gen) cast() bool {
	x := g.pick(anyRank)
	if x == nil {
		return false
	}
	to := []ir.DType{ir.Float32, ir.Float16, ir.Float64, ir.Int64, ir.Int32, ir.Uint8, ir.Bool}[g.rng.IntN(7)]
	y := g.b.Node(ir.OpCast, "cast", []*ir.Value{x}, ir.IntAttr("to", int64(to)))
	if to != ir.Float32 && g.coin() {
		y = g.b.Node(ir.OpCast, "cast_back", []*ir.Value{y}, ir.IntAttr("to", int64(ir.Float32)))
	}
	return g.add(y)
}

func (g *gen) constant() bool {
	dims := []int64{int64(g.between(1, 4))}
	data := make([]float32, dims[0])
	for i := range data {
		data[i] = float32(g.between(-8, 8)) / 4
	}
	return g.add(g.b.Node(ir.OpConstant, "const", nil, ir.TensorAttr("value", ir.NewFloat32(dims, data))))
}

// quantize adds QuantizeLinear then DequantizeLinear, per tensor or per
// channel, or dequantizes a quantized weight parameter.
func (g *gen) quantize() bool {
	zdt := ir.Uint8
	if g.coin() {
		zdt = ir.Int8
	}
	if g.rng.IntN(4) == 0 {
		w := g.b.Param("qw", &ir.Tensor{DType: zdt, Dims: []int64{4}, Raw: []byte{0, 1, 128, 255}})
		return g.add(g.b.Node(ir.OpDequantizeLinear, "dq", []*ir.Value{w, g.scalar("qs", 0.05)}))
	}
	x := g.pick(anyRank)
	if x == nil {
		return false
	}
	scale, zp := g.scalar("qs", 0.05), g.b.Param("qz", &ir.Tensor{DType: zdt, Dims: []int64{}, Raw: []byte{byte(g.rng.IntN(8))}})
	var attrs []ir.Attr
	if len(x.Shape) >= 2 && x.Shape[1].Static() && g.coin() {
		c := x.Shape[1].Size
		sd := make([]float32, c)
		for i := range sd {
			sd[i] = float32(i+1) / 64
		}
		scale = g.b.Param("qs", ir.NewFloat32([]int64{c}, sd))
		zp = g.b.Param("qz", &ir.Tensor{DType: zdt, Dims: []int64{c}, Raw: make([]byte, c)})
		attrs = append(attrs, ir.IntAttr("axis", 1))
	}
	in := []*ir.Value{x, scale, zp}
	if zdt == ir.Uint8 && g.coin() {
		in = in[:2] // zero point defaults to u8 0
	}
	q := g.b.Node(ir.OpQuantizeLinear, "q", in, attrs...)
	if g.b.Err() == nil {
		g.quant = append(g.quant, q)
	}
	return g.add(g.b.Node(ir.OpDequantizeLinear, "dq", append([]*ir.Value{q}, in[1:]...), attrs...))
}

// outputs marks the last activation and up to two other values as outputs.
func (g *gen) outputs() {
	last := g.acts[len(g.acts)-1]
	outs := []*ir.Value{last}
	pool := append(append(append([]*ir.Value{}, g.acts...), g.ints...), g.quant...)
	for i := g.rng.IntN(3); i > 0; i-- {
		v := pool[g.rng.IntN(len(pool))]
		if !slices.Contains(outs, v) && v.Def != nil {
			outs = append(outs, v)
		}
	}
	g.b.Output(outs...)
}
