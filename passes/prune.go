package passes

import (
	"fmt"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/ferminets/fermi/engine"
	"github.com/ferminets/fermi/ir"
	"github.com/ferminets/fermi/targets"
)

// prune removes whole channels: filters of Conv and output features of
// Gemm/MatMul, together with everything that depends on them, so the
// result is a smaller dense model (structured pruning, as Torch-Pruning).
//
// Dependency analysis tracks, for every activation, which producer channel
// each of its channels (axis 1) comes from. Channels are coupled into
// groups that must go together: across residual Add/Sub/Mul/Div (both
// operands' channels), depthwise Conv (input and output channel), Concat
// on the channel axis (its parts), Slice on the channel axis, BatchNorm and
// Split on the channel axis (its parts), grouped Conv (channel j of every
// group, input and output, so groups stay equal), every channel-preserving op
// (activations, pooling, Pad, Resize,
// ReduceMean over spatial axes, Dropout, Identity), and Flatten (or a
// flattening Reshape) into Gemm (each channel is H·W consecutive
// features). Consumers are sliced: Conv and Gemm/MatMul weights along the
// input axis, BatchNorm parameters, per-channel constants of elementwise
// ops, Slice bounds, flattening Reshape shapes.
//
// Not pruned (the channels are locked): graph inputs and outputs, channels
// reaching any other op (Reshape that is not a flatten, Transpose,
// Softmax, ...), and producers whose
// weights are not constant f32; such an op gets a remark naming the value
// whose channels it locks. Every value keeps at least one channel.
//
// Options: criterion=l1|l2|bn|activation (mean |w|, RMS of the filter,
// |scale| of the BatchNorm right after the producer (l1 without one), or
// the mean |activation| over calibration data, calib=DATASET as for
// quantize, samples=N (default 64), measured after the BatchNorm and
// activation that follow the producer); exactly one budget: ratio=R
// (remove fraction R of the prunable channels), macs=F (keep at most
// fraction F of the MACs), params=F (of the deploy-form parameters),
// latency=F (of the latency targets.Estimate predicts on target=NAME,
// default host);
// round=K keeps every pruned producer's channel count a multiple of K
// (giving channels back, so a budget is met with the rounding applied). Channels are ranked globally by importance normalized by
// its producer's mean, averaged over a coupled group; every producer keeps
// at least one channel. The pass does not preserve semantics: fine-tune
// afterwards. Run simplify and fold-bn first (pruning reads folded shapes
// and BatchNorm scales); removed weights are left for dce.
func prune(c *ctx) error {
	a, _ := c.args.(PruneArgs)
	an := analyzeChannels(c.g, c.remark)
	var act map[*ir.Node][]float64
	if a.Criterion == "activation" {
		var err error
		if act, err = activationMeans(c.g, an, a); err != nil {
			return err
		}
	}
	order := an.pruneOrder(a.Criterion, act)
	if len(order) == 0 {
		return fmt.Errorf("prune: no prunable channels (every channel reaches a graph output or an op prune cannot slice)")
	}
	k := 0
	switch {
	case a.Ratio > 0:
		k = int(math.Round(a.Ratio * float64(an.prunableCount())))
		k = min(k, len(order))
	default:
		measure, frac, err := a.budget()
		if err != nil {
			return err
		}
		m0, err := measure(c.g)
		if err != nil {
			return err
		}
		target := frac * m0
		fits := func(k int) (bool, error) {
			gc := Clone(c.g)
			if err := applyPrune(newCtx(gc, nil), analyzeChannels(gc, nil), an.selection(order, k, a.Round)); err != nil {
				return false, err
			}
			m, err := measure(gc)
			if err != nil {
				return false, err
			}
			return m <= target, nil
		}
		lo, hi := 0, len(order) // smallest k that fits, in (lo, hi]
		if ok, err := fits(hi); err != nil {
			return err
		} else if !ok {
			return fmt.Errorf("prune: cannot reach %.3g of the original %s: removing every prunable channel is not enough", frac, a.budgetName())
		}
		for lo < hi {
			mid := (lo + hi) / 2
			ok, err := fits(mid)
			if err != nil {
				return err
			}
			if ok {
				hi = mid
			} else {
				lo = mid + 1
			}
		}
		k = lo
	}
	sel := an.selection(order, k, a.Round)
	if len(sel) == 0 {
		return nil
	}
	return applyPrune(c, an, sel)
}

// PruneArgs are the options of prune.
type PruneArgs struct {
	Criterion string  // "l1", "l2", "bn" or "activation"
	Ratio     float64 // fraction of prunable channels to remove
	MACs      float64 // fraction of MACs to keep
	Params    float64 // fraction of parameters to keep
	Latency   float64 // fraction of the latency on Target to keep
	Target    string  // target of the latency budget; "" means host
	Round     int     // keep channel counts multiples of Round (0 or 1: any count)
	Calib     string  // calibration data for criterion=activation (see quantize)
	Samples   int     // calibration samples; 0 means 64
}

func (a PruneArgs) budgetName() string {
	switch {
	case a.Params > 0:
		return "params"
	case a.Latency > 0:
		return "latency on " + a.Target
	}
	return "MACs"
}

// budget returns the measure the budget limits and the fraction to keep.
func (a PruneArgs) budget() (func(*ir.Graph) (float64, error), float64, error) {
	switch {
	case a.Params > 0:
		return func(g *ir.Graph) (float64, error) {
			r, err := ir.Analyze(g)
			if err != nil {
				return 0, err
			}
			return float64(r.Params), nil
		}, a.Params, nil
	case a.Latency > 0:
		t, err := targets.Lookup(a.Target)
		if err != nil {
			return nil, 0, fmt.Errorf("prune: %w", err)
		}
		return func(g *ir.Graph) (float64, error) {
			r, err := targets.Estimate(g, t)
			if err != nil {
				return 0, err
			}
			return r.LatencyMs, nil
		}, a.Latency, nil
	}
	return func(g *ir.Graph) (float64, error) {
		r, err := ir.Analyze(g)
		if err != nil {
			return 0, err
		}
		return float64(r.MACs), nil
	}, a.MACs, nil
}

// String returns the options as Parse reads them.
func (a PruneArgs) String() string {
	var parts []string
	f := func(k string, v float64) {
		if v > 0 {
			parts = append(parts, k+"="+strconv.FormatFloat(v, 'g', -1, 64))
		}
	}
	f("ratio", a.Ratio)
	f("macs", a.MACs)
	f("params", a.Params)
	f("latency", a.Latency)
	if a.Latency > 0 {
		parts = append(parts, "target="+a.Target)
	}
	parts = append(parts, "criterion="+a.Criterion)
	if a.Round > 1 {
		parts = append(parts, "round="+strconv.Itoa(a.Round))
	}
	if a.Calib != "" {
		parts = append(parts, "calib="+a.Calib)
	}
	if a.Samples > 0 {
		parts = append(parts, "samples="+strconv.Itoa(a.Samples))
	}
	return strings.Join(parts, ",")
}

func pruneArgs(opts []option) (any, error) {
	a := PruneArgs{Criterion: "l1"}
	budgets := 0
	for _, o := range opts {
		switch o.key {
		case "criterion":
			switch o.value {
			case "l1", "l2", "bn", "activation":
				a.Criterion = o.value
			default:
				return nil, fmt.Errorf("unknown criterion %q (want l1, l2, bn or activation)", o.value)
			}
		case "round", "samples":
			v, err := strconv.Atoi(o.value)
			if err != nil || v < 1 {
				return nil, fmt.Errorf("option %s=%q: want a positive integer", o.key, o.value)
			}
			if o.key == "round" {
				a.Round = v
			} else {
				a.Samples = v
			}
		case "calib":
			if o.value == "" {
				return nil, fmt.Errorf("calib: empty data set name")
			}
			a.Calib = o.value
		case "target":
			a.Target = o.value
		case "ratio", "macs", "params", "latency":
			v, err := strconv.ParseFloat(o.value, 64)
			if err != nil || !(v > 0 && v < 1) {
				return nil, fmt.Errorf("option %s=%q: want a fraction in (0, 1)", o.key, o.value)
			}
			budgets++
			switch o.key {
			case "ratio":
				a.Ratio = v
			case "macs":
				a.MACs = v
			case "latency":
				a.Latency = v
			default:
				a.Params = v
			}
		default:
			return nil, fmt.Errorf("unknown option %q (want criterion, ratio, macs, params, latency, target, round, calib or samples)", o.key)
		}
	}
	if budgets != 1 {
		return nil, fmt.Errorf("want exactly one budget: ratio=, macs=, params= or latency=")
	}
	if a.Target != "" && a.Latency == 0 {
		return nil, fmt.Errorf("target= goes with latency=")
	}
	if a.Latency > 0 && a.Target == "" {
		a.Target = "host"
	}
	if (a.Criterion == "activation") != (a.Calib != "") {
		return nil, fmt.Errorf("criterion=activation and calib= go together")
	}
	if a.Samples > 0 && a.Calib == "" {
		return nil, fmt.Errorf("samples= needs calib=")
	}
	return a, nil
}

// producer is a node whose output channels are new (Conv, Gemm, MatMul):
// channels base..base+n-1 of the channel space.
type producer struct {
	node   *ir.Node
	base   int
	n      int
	locked bool
}

// channels is the result of the dependency analysis of one graph.
type channels struct {
	g      *ir.Graph
	of     map[*ir.Value][]int // producer channel of each channel (axis 1) of a value
	parent []int               // union-find over producer channels: coupled groups
	locked []bool              // by producer channel; meaningful at the group's root
	prods  []producer
	owner  []int // producer index of each channel
	// remark, when set, explains channels locked by an op prune cannot slice.
	remark func(n *ir.Node, format string, args ...any)
}

func (an *channels) find(x int) int {
	for an.parent[x] != x {
		an.parent[x] = an.parent[an.parent[x]]
		x = an.parent[x]
	}
	return x
}

func (an *channels) union(a, b int) {
	ra, rb := an.find(a), an.find(b)
	if ra == rb {
		return
	}
	an.parent[rb] = ra
	an.locked[ra] = an.locked[ra] || an.locked[rb]
}

func (an *channels) lock(v *ir.Value) {
	for _, ch := range an.of[v] {
		an.locked[an.find(ch)] = true
	}
}

func (an *channels) newProducer(n *ir.Node, count int, locked bool) []int {
	p := producer{node: n, base: len(an.parent), n: count, locked: locked}
	ids := make([]int, count)
	for i := range ids {
		ids[i] = p.base + i
		an.parent = append(an.parent, p.base+i)
		an.locked = append(an.locked, locked)
		an.owner = append(an.owner, len(an.prods))
	}
	an.prods = append(an.prods, p)
	return ids
}

// chanDim returns the static size of v's axis 1, or -1.
func chanDim(v *ir.Value) int {
	if v == nil || len(v.Shape) < 2 || !v.Shape[1].Static() {
		return -1
	}
	return int(v.Shape[1].Size)
}

// analyzeChannels computes the channel dependencies of g, calling remark
// (when not nil) for each op that locks channels it cannot slice.
func analyzeChannels(g *ir.Graph, remark func(n *ir.Node, format string, args ...any)) *channels {
	an := &channels{g: g, of: make(map[*ir.Value][]int), remark: remark}
	for _, n := range g.Nodes {
		an.node(n)
	}
	for _, o := range g.Outputs {
		an.lock(o)
	}
	return an
}

func (an *channels) node(n *ir.Node) {
	in := n.Input(0)
	var out *ir.Value
	if len(n.Outputs) > 0 {
		out = n.Outputs[0]
	}
	x := an.of[in]
	handled := false
	pass := func() { // out's channels are in's
		if x != nil && chanDim(out) == len(x) {
			an.of[out] = x
			handled = true
		}
	}
	switch {
	case n.Op == ir.OpConv:
		w := ir.ConstValue(n.Input(1))
		b := n.Input(2)
		okW := w != nil && w.DType == ir.Float32 && len(w.Dims) >= 3 && (b == nil || ir.ConstValue(b) != nil)
		cout := chanDim(out)
		group := n.Int("group")
		cin := chanDim(in)
		switch {
		case !okW || cout < 0:
			// Untracked output; input locked below.
		case group == 1:
			an.of[out] = an.newProducer(n, cout, false)
			handled = true // input channels are sliced from the weights
		case int(group) == cin && cout == cin && x != nil:
			an.of[out] = x // depthwise: channel c in, channel c out
			handled = true
		case group > 1 && cin > 0 && cin%int(group) == 0 && cout%int(group) == 0:
			// Grouped: channel j of every group goes together, on the
			// input and on the output, so all groups keep equal sizes.
			g := int(group)
			if x != nil {
				cg := cin / g
				for j := 0; j < cg; j++ {
					for k := 1; k < g; k++ {
						an.union(x[j], x[k*cg+j])
					}
				}
			}
			ids := an.newProducer(n, cout, false)
			mg := cout / g
			for j := 0; j < mg; j++ {
				for k := 1; k < g; k++ {
					an.union(ids[j], ids[k*mg+j])
				}
			}
			an.of[out] = ids
			handled = true
		default:
			an.of[out] = an.newProducer(n, cout, true)
		}
	case n.Op == ir.OpGemm || n.Op == ir.OpMatMul:
		bw := ir.ConstValue(n.Input(1))
		cv := n.Input(2)
		ok := bw != nil && bw.DType == ir.Float32 && len(bw.Dims) == 2 && len(in.Shape) == 2 &&
			n.Int("transA") == 0 && (cv == nil || ir.ConstValue(cv) != nil)
		if ok && cv != nil {
			t := ir.ConstValue(cv)
			m := chanDim(out)
			ok = t.Len() == 1 || (t.Len() == int64(m) && (len(t.Dims) == 1 || (len(t.Dims) == 2 && t.Dims[0] == 1)))
		}
		if ok && chanDim(out) > 0 {
			an.of[out] = an.newProducer(n, chanDim(out), false)
			handled = true
		}
	case n.Op == ir.OpBatchNorm:
		ok := true
		for i := 1; i < 5; i++ {
			if floats(n.Input(i)) == nil {
				ok = false
			}
		}
		if ok && n.Int("training_mode") == 0 {
			pass()
		}
	case n.Op.Info().Flags&ir.Activation != 0, n.Op == ir.OpIdentity, n.Op == ir.OpDropout, n.Op == ir.OpSqrt, n.Op == ir.OpErf,
		n.Op == ir.OpMaxPool, n.Op == ir.OpAveragePool, n.Op == ir.OpGlobalAveragePool, n.Op == ir.OpResize:
		pass()
	case n.Op == ir.OpPad:
		if p, ok := ints(n.Input(1)); ok && len(in.Shape) >= 2 && len(p) == 2*len(in.Shape) && p[1] == 0 && p[len(in.Shape)+1] == 0 {
			pass()
		}
	case n.Op == ir.OpReduceMean:
		axes := n.Ints("axes")
		ok := len(axes) > 0
		for _, ax := range axes {
			if ax < 0 {
				ax += int64(len(in.Shape))
			}
			if ax <= 1 {
				ok = false
			}
		}
		if ok {
			pass()
		}
	case n.Op.Info().Flags&ir.Elementwise != 0 && len(n.Inputs) == 2:
		handled = an.binary(n, out)
	case n.Op == ir.OpConcat:
		axis := n.Int("axis")
		if axis < 0 && out != nil {
			axis += int64(len(out.Shape))
		}
		var cat []int
		ok := axis == 1
		for _, v := range n.Inputs {
			if an.of[v] == nil {
				ok = false
			}
			cat = append(cat, an.of[v]...)
		}
		if ok && len(cat) == chanDim(out) {
			an.of[out] = cat
			handled = true
		}
	case n.Op == ir.OpSlice:
		if s, e, ok := channelSlice(n); ok && x != nil && e <= len(x) {
			an.of[out] = x[s:e]
			handled = true
		} else if ok2 := spatialSlice(n); ok2 {
			pass()
		}
	case n.Op == ir.OpSplit:
		if sizes, ok := channelSplit(n); ok && x != nil {
			off := 0
			for i, o := range n.Outputs {
				if o != nil {
					an.of[o] = x[off : off+sizes[i]]
				}
				off += sizes[i]
			}
			handled = true
		}
	case n.Op == ir.OpFlatten || n.Op == ir.OpReshape:
		if hw, ok := flattenFactor(n); ok && x != nil {
			exp := make([]int, 0, len(x)*hw)
			for _, ch := range x {
				for range hw {
					exp = append(exp, ch)
				}
			}
			an.of[out] = exp
			handled = true
		}
	}
	if !handled {
		for _, v := range n.Inputs {
			if an.remark != nil && an.of[v] != nil && !an.allLocked(v) {
				an.remark(n, "prune: %s cannot be sliced by channel, so the channels of %s stay", n.TypeName(), v)
			}
			an.lock(v)
		}
	}
}

// allLocked reports whether every channel of v is already locked.
func (an *channels) allLocked(v *ir.Value) bool {
	for _, ch := range an.of[v] {
		if !an.locked[an.find(ch)] {
			return false
		}
	}
	return true
}

// binary couples the channels of the operands of an elementwise binary op.
func (an *channels) binary(n *ir.Node, out *ir.Value) bool {
	c := chanDim(out)
	if c < 0 {
		return false
	}
	var tracked [][]int
	for _, v := range n.Inputs {
		if ch := an.of[v]; ch != nil {
			if len(v.Shape) != len(out.Shape) || len(ch) != c {
				return false
			}
			tracked = append(tracked, ch)
			continue
		}
		if t := ir.ConstValue(v); t != nil {
			ax := 1 - (len(out.Shape) - len(t.Dims))
			if ax >= 0 && t.Dims[ax] != 1 && (t.Dims[ax] != int64(c) || t.DType != ir.Float32) {
				return false
			}
			continue
		}
		// A non-constant operand without tracked channels (a graph
		// input): only a broadcast size-1 channel axis is safe.
		ax := 1 - (len(out.Shape) - len(v.Shape))
		if ax >= 0 && chanDim(v) != 1 && !(ax != 1 && (len(v.Shape) <= ax || v.Shape[ax] == ir.D(1))) {
			return false
		}
	}
	if len(tracked) == 0 {
		return false
	}
	for _, t := range tracked[1:] {
		for i := range t {
			an.union(tracked[0][i], t[i])
		}
	}
	an.of[out] = tracked[0]
	return true
}

// channelSlice returns the channel range of a Slice on axis 1 with step 1.
func channelSlice(n *ir.Node) (start, end int, ok bool) {
	st, ok1 := ints(n.Input(1))
	en, ok2 := ints(n.Input(2))
	axes, ok3 := ints(n.Input(3))
	c := chanDim(n.Input(0))
	if !ok1 || !ok2 || !ok3 || len(st) != 1 || len(en) != 1 || len(axes) != 1 || axes[0] != 1 || c < 0 {
		return 0, 0, false
	}
	if n.Input(4) != nil {
		if steps, ok := ints(n.Input(4)); !ok || len(steps) != 1 || steps[0] != 1 {
			return 0, 0, false
		}
	}
	s, e := st[0], en[0]
	if s < 0 {
		s += int64(c)
	}
	if e < 0 {
		e += int64(c)
	}
	s, e = max(0, min(s, int64(c))), max(0, min(e, int64(c)))
	if s >= e {
		return 0, 0, false
	}
	return int(s), int(e), true
}

// channelSplit returns the part sizes of a Split on axis 1 (sizes from
// input 1, or equal parts).
func channelSplit(n *ir.Node) ([]int, bool) {
	x := n.Input(0)
	c := chanDim(x)
	axis := n.Int("axis")
	if axis < 0 {
		axis += int64(len(x.Shape))
	}
	if axis != 1 || c < 0 {
		return nil, false
	}
	var sizes []int
	if s := n.Input(1); s != nil {
		v, ok := ints(s)
		if !ok || len(v) != len(n.Outputs) {
			return nil, false
		}
		for _, k := range v {
			sizes = append(sizes, int(k))
		}
	} else {
		if c%len(n.Outputs) != 0 {
			return nil, false
		}
		for range n.Outputs {
			sizes = append(sizes, c/len(n.Outputs))
		}
	}
	total := 0
	for _, k := range sizes {
		total += k
	}
	return sizes, total == c
}

// spatialSlice reports whether a Slice leaves axes 0 and 1 alone.
func spatialSlice(n *ir.Node) bool {
	axes, ok := ints(n.Input(3))
	if !ok {
		return false
	}
	r := int64(len(n.Input(0).Shape))
	for _, a := range axes {
		if a < 0 {
			a += r
		}
		if a <= 1 {
			return false
		}
	}
	return true
}

// flattenFactor returns H·W for a Flatten (axis 1) or Reshape that turns
// [N, C, d...] with static d into [N, C·prod(d)].
func flattenFactor(n *ir.Node) (int, bool) {
	x, y := n.Input(0), n.Outputs[0]
	if len(x.Shape) < 2 || len(y.Shape) != 2 || chanDim(x) < 0 || chanDim(y) < 0 {
		return 0, false
	}
	if n.Op == ir.OpFlatten && n.Int("axis") != 1 {
		return 0, false
	}
	if x.Shape[0] != y.Shape[0] || (!x.Shape[0].Static() && x.Shape[0].Sym == "") {
		return 0, false
	}
	hw := 1
	for _, d := range x.Shape[2:] {
		if !d.Static() {
			return 0, false
		}
		hw *= int(d.Size)
	}
	if chanDim(y) != chanDim(x)*hw {
		return 0, false
	}
	return hw, true
}

func (an *channels) prunableCount() int {
	n := 0
	for i := range an.parent {
		if an.find(i) == i && !an.locked[i] {
			n++
		}
	}
	return n
}

// pruneOrder returns the unlocked groups (by root channel) in the order
// they are removed: least important first, skipping any whose removal
// would leave a producer without channels.
func (an *channels) pruneOrder(criterion string, act map[*ir.Node][]float64) []int {
	score := make([]float64, len(an.parent))
	for _, p := range an.prods {
		s := an.importance(p, criterion)
		if m, ok := act[p.node]; ok && len(m) == p.n {
			s = m
		}
		mean := 0.0
		for _, v := range s {
			mean += v
		}
		mean /= float64(len(s))
		for i, v := range s {
			if mean > 0 {
				v /= mean
			}
			score[p.base+i] = v
		}
	}
	groupScore := make(map[int]float64)
	groupSize := make(map[int]int)
	members := an.members()
	for i := range an.parent {
		r := an.find(i)
		groupScore[r] += score[i]
		groupSize[r]++
	}
	var groups []int
	for r := range groupScore {
		if !an.locked[r] {
			groups = append(groups, r)
		}
	}
	sort.Slice(groups, func(i, j int) bool {
		a, b := groupScore[groups[i]]/float64(groupSize[groups[i]]), groupScore[groups[j]]/float64(groupSize[groups[j]])
		if a != b {
			return a < b
		}
		return groups[i] < groups[j]
	})
	// Every tracked value (producer outputs, Slice and Split parts, ...)
	// must keep at least one channel: left counts each distinct channel
	// list's remaining entries, in per counts where each channel occurs.
	type use struct{ seg, mult int }
	var left []int
	in := make(map[int][]use)
	seen := make(map[string]bool)
	for _, ch := range an.of {
		if len(ch) == 0 {
			continue
		}
		key := fmt.Sprintf("%p/%d", &ch[0], len(ch))
		if seen[key] {
			continue
		}
		seen[key] = true
		mult := make(map[int]int)
		for _, c := range ch {
			mult[c]++
		}
		for c, m := range mult {
			in[c] = append(in[c], use{len(left), m})
		}
		left = append(left, len(ch))
	}
	var order []int
	for _, r := range groups {
		need := make(map[int]int)
		for _, ch := range members[r] {
			for _, u := range in[ch] {
				need[u.seg] += u.mult
			}
		}
		ok := true
		for seg, k := range need {
			if left[seg]-k < 1 {
				ok = false
			}
		}
		if !ok {
			continue
		}
		for seg, k := range need {
			left[seg] -= k
		}
		order = append(order, r)
	}
	return order
}

// members returns the channels of each group, by root channel.
func (an *channels) members() map[int][]int {
	m := make(map[int][]int)
	for i := range an.parent {
		r := an.find(i)
		m[r] = append(m[r], i)
	}
	return m
}

// selection returns the first k groups of order, then, when round > 1,
// gives back the most important of them until every producer that lost
// channels keeps a multiple of round (or all of its channels).
func (an *channels) selection(order []int, k, round int) []int {
	sel := append([]int(nil), order[:k]...)
	if round <= 1 {
		return sel
	}
	members := an.members()
	kept := make([]int, len(an.prods))
	for i, p := range an.prods {
		kept[i] = p.n
	}
	for _, r := range sel {
		for _, ch := range members[r] {
			kept[an.owner[ch]]--
		}
	}
	for len(sel) > 0 {
		bad := -1
		for i, p := range an.prods {
			if kept[i] < p.n && kept[i]%round != 0 {
				bad = i
				break
			}
		}
		if bad < 0 {
			break
		}
		for j := len(sel) - 1; j >= 0; j-- {
			if slices.ContainsFunc(members[sel[j]], func(ch int) bool { return an.owner[ch] == bad }) {
				for _, ch := range members[sel[j]] {
					kept[an.owner[ch]]++
				}
				sel = append(sel[:j], sel[j+1:]...)
				break
			}
		}
	}
	return sel
}

// importance returns the importance of each output channel of p.
func (an *channels) importance(p producer, criterion string) []float64 {
	out := make([]float64, p.n)
	if criterion == "bn" {
		y := p.node.Outputs[0]
		users := an.g.Users()[y]
		if len(users) == 1 && users[0].Op == ir.OpBatchNorm {
			if s := floats(users[0].Input(1)); len(s) == p.n {
				for i := range out {
					out[i] = math.Abs(float64(s[i]))
				}
				return out
			}
		}
	}
	w := ir.ConstValue(p.node.Input(1))
	data := floats(p.node.Input(1))
	rows := p.n
	per := len(data) / rows
	colMajor := (p.node.Op == ir.OpMatMul || (p.node.Op == ir.OpGemm && p.node.Int("transB") == 0)) && len(w.Dims) == 2
	for i := range out {
		var s float64
		for j := 0; j < per; j++ {
			var v float64
			if colMajor {
				v = float64(data[j*rows+i])
			} else {
				v = float64(data[i*per+j])
			}
			if criterion == "l2" {
				s += v * v
			} else {
				s += math.Abs(v)
			}
		}
		if criterion == "l2" {
			out[i] = math.Sqrt(s / float64(per))
		} else {
			out[i] = s / float64(per)
		}
	}
	return out
}

// applyPrune removes the channel groups (root channels) in remove from
// the graph analyzed by an.
func applyPrune(c *ctx, an *channels, remove []int) error {
	gone := make(map[int]bool, len(remove))
	for _, r := range remove {
		gone[r] = true
	}
	keep := func(v *ir.Value) []int {
		ch := an.of[v]
		if ch == nil {
			return nil
		}
		var k []int
		for i, x := range ch {
			if !gone[an.find(x)] {
				k = append(k, i)
			}
		}
		if len(k) == len(ch) {
			return nil // nothing removed
		}
		return k
	}
	slice := func(n *ir.Node, i, axis int, k []int) {
		t := ir.ConstValue(n.Input(i))
		c.setInput(n, i, c.newParam(n.Input(i).Name+"_pruned", sliceAxis(t, axis, k)))
	}
	for _, n := range c.g.Nodes {
		in := n.Input(0)
		var out *ir.Value
		if len(n.Outputs) > 0 {
			out = n.Outputs[0]
		}
		switch n.Op {
		case ir.OpConv:
			kOut := keep(out)
			if n.Int("group") == 1 {
				if kIn := keep(in); kIn != nil {
					slice(n, 1, 1, kIn)
				}
				if kOut != nil {
					slice(n, 1, 0, kOut)
					if n.Input(2) != nil {
						slice(n, 2, 0, kOut)
					}
				}
			} else if isProducer(an, n) { // grouped
				if kIn := keep(in); kIn != nil {
					cg := int(ir.ConstValue(n.Input(1)).Dims[1])
					var within []int
					for _, k := range kIn {
						if k < cg {
							within = append(within, k)
						}
					}
					slice(n, 1, 1, within)
				}
				if kOut != nil {
					slice(n, 1, 0, kOut)
					if n.Input(2) != nil {
						slice(n, 2, 0, kOut)
					}
				}
			} else if kOut != nil { // depthwise
				slice(n, 1, 0, kOut)
				if n.Input(2) != nil {
					slice(n, 2, 0, kOut)
				}
				n.SetAttr(ir.IntAttr("group", int64(len(kOut))))
			}
		case ir.OpGemm, ir.OpMatMul:
			transB := n.Op == ir.OpGemm && n.Int("transB") != 0
			if kIn := keep(in); kIn != nil {
				slice(n, 1, map[bool]int{true: 1, false: 0}[transB], kIn)
			}
			if kOut := keep(out); kOut != nil && an.of[out] != nil && len(an.prods) > 0 && isProducer(an, n) {
				slice(n, 1, map[bool]int{true: 0, false: 1}[transB], kOut)
				if cv := n.Input(2); cv != nil && ir.ConstValue(cv).Len() > 1 {
					t := ir.ConstValue(cv)
					slice(n, 2, len(t.Dims)-1, kOut)
				}
			}
		case ir.OpBatchNorm:
			if k := keep(in); k != nil {
				for i := 1; i < 5; i++ {
					slice(n, i, 0, k)
				}
			}
		case ir.OpSlice:
			if k := keep(in); k != nil {
				if s, e, ok := channelSlice(n); ok {
					ns, ne := 0, 0
					for _, i := range k {
						if i < s {
							ns++
						}
						if i < e {
							ne++
						}
					}
					c.setInput(n, 1, c.newParam(n.Name+"_starts", ir.NewInt64([]int64{1}, []int64{int64(ns)})))
					c.setInput(n, 2, c.newParam(n.Name+"_ends", ir.NewInt64([]int64{1}, []int64{int64(ne)})))
				}
			}
		case ir.OpSplit:
			if keep(in) != nil {
				sizes := make([]int64, len(n.Outputs))
				for i, o := range n.Outputs {
					if k := keep(o); k != nil {
						sizes[i] = int64(len(k))
					} else {
						sizes[i] = int64(len(an.of[o]))
					}
				}
				if len(n.Inputs) < 2 {
					n.Inputs = append(n.Inputs, nil)
				}
				c.setInput(n, 1, c.newParam(n.Name+"_split", ir.NewInt64([]int64{int64(len(sizes))}, sizes)))
			}
		case ir.OpReshape:
			if k := keep(out); k != nil {
				if s, ok := ints(n.Input(1)); ok && len(s) == 2 && s[1] > 0 {
					c.setInput(n, 1, c.newParam(n.Name+"_shape", ir.NewInt64([]int64{2}, []int64{s[0], int64(len(k))})))
				}
			}
		default:
			if n.Op.Info().Flags&ir.Elementwise != 0 && len(n.Inputs) == 2 {
				k := keep(out)
				if k == nil {
					continue
				}
				for i, v := range n.Inputs {
					t := ir.ConstValue(v)
					if t == nil || an.of[v] != nil {
						continue
					}
					ax := 1 - (len(out.Shape) - len(t.Dims))
					if ax >= 0 && t.Dims[ax] > 1 {
						slice(n, i, ax, k)
					}
				}
			}
		}
	}
	// Shapes: re-infer in order; where inference knows less than before
	// (a symbolic dim it cannot name), keep the old dim.
	for _, n := range c.g.Nodes {
		before := make([]ir.Shape, len(n.Outputs))
		for i, o := range n.Outputs {
			if o != nil {
				before[i] = o.Shape
			}
		}
		if err := ir.InferNode(n); err != nil {
			return err
		}
		for i, o := range n.Outputs {
			if o == nil {
				continue
			}
			if o.Shape == nil {
				o.Shape = before[i]
				continue
			}
			if len(o.Shape) == len(before[i]) {
				for j, d := range o.Shape {
					if !d.Static() && d.Sym == "" && before[i][j].Sym != "" {
						o.Shape[j] = before[i][j]
					}
				}
			}
		}
	}
	c.changed = true
	return nil
}

func isProducer(an *channels, n *ir.Node) bool {
	return slices.ContainsFunc(an.prods, func(p producer) bool { return p.node == n })
}

// sliceAxis returns the f32 tensor t restricted to indices k along axis.
func sliceAxis(t *ir.Tensor, axis int, k []int) *ir.Tensor {
	data := t.F32
	if len(data) == 0 && t.Init != nil {
		data = t.Init.Materialize(t.Dims).F32
	}
	dims := append([]int64(nil), t.Dims...)
	outer, inner := 1, 1
	for i, d := range dims {
		if i < axis {
			outer *= int(d)
		} else if i > axis {
			inner *= int(d)
		}
	}
	n := int(dims[axis])
	out := make([]float32, 0, outer*len(k)*inner)
	for o := 0; o < outer; o++ {
		for _, i := range k {
			base := (o*n + i) * inner
			out = append(out, data[base:base+inner]...)
		}
	}
	dims[axis] = int64(len(k))
	return ir.NewFloat32(dims, out)
}

// activationMeans returns, for every producer, the mean |activation| of
// each output channel over the calibration data, measured after the
// BatchNorm and activation that read it alone.
func activationMeans(g *ir.Graph, an *channels, a PruneArgs) (map[*ir.Node][]float64, error) {
	samples := a.Samples
	if samples == 0 {
		samples = 64
	}
	batches, err := calibrationBatches(g, QuantizeArgs{Calib: a.Calib, Samples: samples})
	if err != nil {
		return nil, fmt.Errorf("prune: %w", err)
	}
	users := g.Users()
	outputs := make(map[*ir.Value]bool)
	for _, o := range g.Outputs {
		outputs[o] = true
	}
	at := make(map[*ir.Node]*ir.Value)
	for _, p := range an.prods {
		v := p.node.Outputs[0]
		for {
			us := users[v]
			if len(us) != 1 || outputs[v] || !(us[0].Op == ir.OpBatchNorm || us[0].Op.Info().Flags&ir.Activation != 0) || us[0].Input(0) != v {
				break
			}
			v = us[0].Outputs[0]
		}
		at[p.node] = v
	}
	obs := Clone(g)
	byName := make(map[string]*ir.Value)
	for _, v := range obs.Values() {
		byName[v.Name] = v
	}
	obs.Outputs = nil
	var order []*ir.Node
	for _, p := range an.prods {
		order = append(order, p.node)
		obs.Outputs = append(obs.Outputs, byName[at[p.node].Name])
	}
	e, err := engine.New(obs)
	if err != nil {
		return nil, fmt.Errorf("prune: calibration: %w", err)
	}
	sums := make([][]float64, len(order))
	var count float64
	for _, in := range batches {
		out, err := e.Run(in)
		if err != nil {
			return nil, fmt.Errorf("prune: calibration: %w", err)
		}
		for i, t := range out {
			if len(t.Dims) < 2 {
				continue
			}
			ch := int(t.Dims[1])
			inner := int(ir.NumElements(t.Dims[2:]))
			if sums[i] == nil {
				sums[i] = make([]float64, ch)
			}
			for j, x := range t.F32 {
				sums[i][j/inner%ch] += math.Abs(float64(x)) / float64(inner)
			}
		}
		count += float64(in[g.Inputs[0].Name].Dims[0])
	}
	res := make(map[*ir.Node][]float64)
	for i, n := range order {
		for j := range sums[i] {
			sums[i][j] /= count
		}
		res[n] = sums[i]
	}
	return res, nil
}
