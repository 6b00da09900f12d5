package targets

import "github.com/ferminets/fermi/ir"

// kernel is a group of nodes the target runs as one kernel: a fusion-pattern
// chain, plus the Quantize/Dequantize pairs inside it and a trailing
// QuantizeLinear, which quantized runtimes fold into the kernel.
type kernel struct {
	nodes  []*ir.Node // graph order
	anchor *ir.Node   // the first node; decides class and compute dtype
	class  OpClass
	dtype  ir.DType // compute dtype
	macs   int64
	flops  int64
	bytes  int64 // external inputs (after absorbed dequantizes) + outputs read outside
	// weightBytes is the part of bytes that is constant data (weights).
	weightBytes int64
	// weightGBs, when positive, is the bandwidth the weights stream at: the
	// graph's weights and activations exceed the target's caches (see
	// Target.WeightLevels).
	weightGBs float64
}

// plan is the kernel grouping of one graph for one target.
type plan struct {
	kernels []*kernel
	free    []*ir.Node // nodes that cost nothing: views, constant-folded, absorbed dequantizes
	// folded marks the free nodes that a converter evaluates ahead of time
	// (constant inputs, shape arithmetic): they never reach the target.
	folded map[*ir.Node]bool
	// peakBytes is the peak of live activation buffers when the kernels run
	// in order: tensors inside a fused kernel never exist, views alias their
	// input, and absorbed dequantizes leave the integer tensor as the buffer.
	peakBytes int64
}

// viewOps change only how a tensor is indexed (or, at inference, nothing),
// so runtimes execute them without a kernel.
var viewOps = map[ir.Op]bool{
	ir.OpIdentity: true, ir.OpDropout: true, ir.OpReshape: true, ir.OpFlatten: true,
	ir.OpSqueeze: true, ir.OpUnsqueeze: true,
}

// opClasses maps ops to their class; ops not listed are ClassElementwise.
// Convolutions are refined to ClassDepthwise by classOf.
var opClasses = map[ir.Op]OpClass{
	ir.OpConv: ClassConv, ir.OpConvTranspose: ClassConv,
	ir.OpGemm: ClassGemm, ir.OpMatMul: ClassGemm,
	ir.OpMaxPool: ClassPool, ir.OpAveragePool: ClassPool, ir.OpGlobalAveragePool: ClassPool, ir.OpReduceMean: ClassPool,
	ir.OpConcat: ClassData, ir.OpSplit: ClassData, ir.OpSlice: ClassData, ir.OpTranspose: ClassData,
	ir.OpGather: ClassData, ir.OpPad: ClassData, ir.OpResize: ClassData,
}

func classOf(n *ir.Node) OpClass {
	c, ok := opClasses[n.Op]
	if !ok {
		return ClassElementwise
	}
	if n.Op == ir.OpConv {
		if x := n.Input(0); x != nil && len(x.Shape) > 1 && x.Shape[1].Static() {
			if g := n.Int("group"); g > 1 && g == x.Shape[1].Size {
				return ClassDepthwise
			}
		}
	}
	return c
}

// planner holds the graph facts kernel grouping needs.
type planner struct {
	g        *ir.Graph
	t        *Target
	users    map[*ir.Value][]*ir.Node
	isOutput map[*ir.Value]bool
	isConst  map[*ir.Value]bool
	assigned map[*ir.Node]bool
}

func newPlanner(g *ir.Graph, t *Target) *planner {
	p := &planner{g: g, t: t, users: g.Users(), isOutput: map[*ir.Value]bool{},
		isConst: map[*ir.Value]bool{}, assigned: map[*ir.Node]bool{}}
	for _, v := range g.Outputs {
		p.isOutput[v] = true
	}
	for _, v := range g.Params {
		p.isConst[v] = true
	}
	for _, n := range g.Nodes {
		if n.Op == ir.OpOpaque {
			continue
		}
		all := n.Op == ir.OpConstant
		if !all {
			all = true
			for _, in := range n.Inputs {
				if in != nil && !p.isConst[in] {
					all = false
				}
			}
		}
		if all {
			for _, o := range n.Outputs {
				if o != nil {
					p.isConst[o] = true
				}
			}
		}
	}
	return p
}

// absorbedDQ reports whether n is a DequantizeLinear of an integer tensor that
// consumers read directly (the integer kernels dequantize on the fly).
func (p *planner) absorbedDQ(n *ir.Node) bool {
	if n.Op != ir.OpDequantizeLinear || len(n.Outputs) == 0 || p.isOutput[n.Outputs[0]] {
		return false
	}
	x := n.Input(0)
	return x != nil && x.DType.IsInt()
}

// isFree reports whether n costs nothing on a target: a view, a node whose
// inputs are all constant (folded when the model loads), shape arithmetic on
// int64 tensors, or an absorbed dequantize. folded is true for the kinds a
// converter evaluates ahead of time.
func (p *planner) isFree(n *ir.Node) (free, folded bool) {
	if viewOps[n.Op] || p.absorbedDQ(n) {
		return true, false
	}
	switch n.Op {
	case ir.OpOpaque:
		return false, false
	case ir.OpConstant:
		return true, true
	case ir.OpShape:
		if x := n.Input(0); p.t.Support.RuntimeShapeOps && x != nil && !x.Shape.IsStatic() {
			return false, false // reads a dynamic shape at every run
		}
		return true, true
	}
	folded, shapeMath := true, true
	for _, in := range n.Inputs {
		if in != nil && !p.isConst[in] {
			folded = false
		}
	}
	for _, o := range n.Outputs {
		if o != nil && (o.DType != ir.Int64 || len(o.Shape) > 1) {
			shapeMath = false
		}
	}
	if shapeMath && !folded && p.t.Support.RuntimeShapeOps {
		return false, false // a kernel of its own at every run
	}
	return folded || shapeMath, folded || shapeMath
}

// source returns the tensor a kernel actually reads for v: through views and
// absorbed dequantizes, back to the stored (possibly int8) tensor.
func (p *planner) source(v *ir.Value) *ir.Value {
	for v.Def != nil && (viewOps[v.Def.Op] || p.absorbedDQ(v.Def)) {
		x := v.Def.Input(0)
		if x == nil {
			break
		}
		v = x
	}
	return v
}

// soleUser returns the one node reading n's first output, with the output,
// or nil when the output is a graph output, has other users, or n has other
// outputs in use.
func (p *planner) soleUser(n *ir.Node) *ir.Node {
	if len(n.Outputs) == 0 || n.Outputs[0] == nil {
		return nil
	}
	for _, o := range n.Outputs[1:] {
		if o != nil && (len(p.users[o]) > 0 || p.isOutput[o]) {
			return nil
		}
	}
	out := n.Outputs[0]
	if p.isOutput[out] || len(p.users[out]) != 1 {
		return nil
	}
	u := p.users[out][0]
	if p.assigned[u] {
		return nil
	}
	return u
}

// next follows a single-user chain from cur: the next node, and the
// QuantizeLinear→DequantizeLinear pair passed through on the way, if any.
func (p *planner) next(cur *ir.Node) (through []*ir.Node, nxt *ir.Node) {
	u := p.soleUser(cur)
	if u == nil || u.Op != ir.OpQuantizeLinear {
		return nil, u
	}
	dq := p.soleUser(u)
	if dq == nil || dq.Op != ir.OpDequantizeLinear {
		return nil, u
	}
	after := p.soleUser(dq)
	if after == nil {
		return nil, u
	}
	return []*ir.Node{u, dq}, after
}

// match returns the nodes of fusion f starting at n, or nil.
func (p *planner) match(f *Fusion, n *ir.Node) []*ir.Node {
	if len(f.steps) == 0 || !f.steps[0].ops[n.Op] {
		return nil
	}
	group, cur := []*ir.Node{n}, n
	for si := 1; si < len(f.steps); {
		through, nxt := p.next(cur)
		if nxt != nil && f.steps[si].ops[nxt.Op] {
			group = append(append(group, through...), nxt)
			cur = nxt
			si++
			continue
		}
		if !f.steps[si].optional {
			return nil
		}
		si++
	}
	return group
}

// groupKernels partitions g's nodes into free nodes and kernels.
func groupKernels(g *ir.Graph, t *Target) *plan {
	p := newPlanner(g, t)
	pl := &plan{folded: map[*ir.Node]bool{}}
	for _, n := range g.Nodes {
		if p.assigned[n] {
			continue
		}
		if free, folded := p.isFree(n); free {
			p.assigned[n] = true
			pl.free = append(pl.free, n)
			pl.folded[n] = folded
			continue
		}
		group := []*ir.Node{n}
		for i := range t.Fusions {
			if m := p.match(&t.Fusions[i], n); len(m) > len(group) {
				group = m
			}
		}
		for _, m := range group {
			p.assigned[m] = true
		}
		if q := p.soleUser(group[len(group)-1]); q != nil && q.Op == ir.OpQuantizeLinear && n.Op != ir.OpQuantizeLinear {
			group = append(group, q)
			p.assigned[q] = true
		}
		pl.kernels = append(pl.kernels, p.newKernel(group))
	}
	pl.peakBytes = p.peakActivations(pl.kernels)
	if len(t.WeightLevels) > 0 {
		total := pl.peakBytes
		for _, k := range pl.kernels {
			total += k.weightBytes
		}
		bw := t.weightBandwidth(total)
		for _, k := range pl.kernels {
			k.weightGBs = bw
		}
	}
	return pl
}

// peakActivations is the liveness peak over kernel-level buffers. A kernel
// runs at the position of its last node (its external outputs come from the
// chain's tail, so that order is topological); a buffer is live from the
// kernel that writes it (graph inputs: from the start) to its last reader
// (graph outputs: to the end), and a running kernel holds its inputs and
// outputs at once.
func (p *planner) peakActivations(kernels []*kernel) int64 {
	pos := make(map[*ir.Node]int, len(p.g.Nodes))
	for i, n := range p.g.Nodes {
		pos[n] = i
	}
	at := make([]int, len(kernels)) // node position of each kernel
	for i, k := range kernels {
		for _, n := range k.nodes {
			at[i] = max(at[i], pos[n])
		}
	}
	end := len(p.g.Nodes)
	type span struct{ from, to int }
	live := map[*ir.Value]*span{}
	for _, v := range p.g.Inputs {
		live[v] = &span{-1, -1}
	}
	for i, k := range kernels {
		inside := map[*ir.Node]bool{}
		for _, n := range k.nodes {
			inside[n] = true
		}
		for _, n := range k.nodes {
			for _, o := range n.Outputs {
				if o == nil {
					continue
				}
				external := p.isOutput[o]
				for _, u := range p.users[o] {
					external = external || !inside[u]
				}
				if external {
					live[o] = &span{at[i], at[i]}
				}
			}
		}
	}
	for i, k := range kernels {
		for _, n := range k.nodes {
			for _, in := range n.Inputs {
				if in == nil {
					continue
				}
				if sp := live[p.source(in)]; sp != nil && sp.from < at[i] {
					sp.to = max(sp.to, at[i])
				}
			}
		}
	}
	for _, v := range p.g.Outputs {
		if sp := live[p.source(v)]; sp != nil {
			sp.to = end
		}
	}
	var peak int64
	for t := -1; t <= end; t++ {
		var sum int64
		for v, sp := range live {
			if sp.from <= t && t <= sp.to {
				sum += p.bytes(v)
			}
		}
		peak = max(peak, sum)
	}
	return peak
}

func (p *planner) newKernel(nodes []*ir.Node) *kernel {
	k := &kernel{nodes: nodes, anchor: nodes[0], class: classOf(nodes[0])}
	k.dtype = ir.Undefined
	if x := k.anchor.Input(0); x != nil {
		k.dtype = p.source(x).DType
	} else if len(k.anchor.Outputs) > 0 && k.anchor.Outputs[0] != nil {
		k.dtype = k.anchor.Outputs[0].DType
	}
	k.dtype = p.t.storedAs(k.dtype)
	inside := map[*ir.Node]bool{}
	for _, n := range nodes {
		inside[n] = true
	}
	seen := map[*ir.Value]bool{}
	for _, n := range nodes {
		// A Q/DQ inside a kernel is the integer kernel's requantization
		// epilogue, covered by its efficiency like a float kernel's bias and
		// activation: no arithmetic of its own (its scale and zero point
		// still count as traffic below).
		epilogue := n != k.anchor && (n.Op == ir.OpQuantizeLinear || n.Op == ir.OpDequantizeLinear)
		if info := n.Op.Info(); info.Cost != nil && !epilogue {
			c := info.Cost(n)
			k.macs += c.MACs
			k.flops += c.FLOPs
		}
		for _, in := range n.Inputs {
			if in == nil || (in.Def != nil && inside[in.Def]) {
				continue
			}
			if s := p.source(in); !seen[s] {
				seen[s] = true
				k.bytes += p.bytes(s)
				if p.isConst[s] {
					k.weightBytes += p.bytes(s)
				}
			}
		}
		for _, o := range n.Outputs {
			if o == nil {
				continue
			}
			used := p.isOutput[o]
			for _, u := range p.users[o] {
				if !inside[u] {
					used = true
				}
			}
			if used {
				k.bytes += p.bytes(o)
			}
		}
	}
	return k
}

// bytes is the storage size of v on the target (float32 stored as the
// target's FloatAs dtype, if any), with symbolic and unknown dims counted as
// 1 (batch 1) and an unknown rank as one element.
func (p *planner) bytes(v *ir.Value) int64 {
	n := int64(1)
	for _, d := range v.Shape {
		if d.Static() {
			n *= d.Size
		}
	}
	return n * int64(p.t.storedAs(v.DType).Size())
}
