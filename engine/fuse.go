package engine

import (
	"slices"

	"github.com/ferminets/fermi/ir"
)

// Relu fusion.
//
// In Run, a Relu whose input is produced by a Conv or an Add and read by
// that Relu alone (and not a graph output) is folded into the producer:
// the producer rectifies its result as it writes it (Conv in its bias
// epilogue, while the image's output is in cache) and the Relu passes it
// on as a view. The arithmetic is the same, max(v, 0) after the producer's
// last rounding, so the values are the bits the unfused nodes compute.
// RunAll, which returns every intermediate value, does not fuse.
//
// Training folds Relus the same way into Conv, Add and BatchNormalization
// (trainFusion): the producer rectifies its output in the forward pass,
// and in the backward pass the Relu's gradient is the producer's: dy is
// masked by the producer's rectified output (y > 0 exactly where the
// unfused Relu's input is), inside BatchNormalization's own passes, before
// the gradient kernel of the others. The values are the unfused ones.

// Moments fusion.
//
// In training, a Winograd convolution whose output only a
// BatchNormalization reads sums each output plane (Σy, Σy²) right after
// writing it, while it is in cache; the BatchNormalization then adds those
// sums instead of reading its input once more (planeMoments: the same sums
// in the same order, so the same bits).

// fusion records the nodes of a graph that Run fuses.
type fusion struct {
	reluInto    map[*ir.Node]bool // producers that apply the Relu of their only reader
	reluView    map[*ir.Node]bool // Relus whose input is already rectified
	momentsInto map[*ir.Node]bool // Convs whose only reader is a BatchNormalization (training)
	sumGrads    bool              // Conv backwards may add their input's old gradient (training)
}

// inferenceFusion and trainFusion are the producers Run and training fold
// Relus into.
var (
	inferenceFusion = []ir.Op{ir.OpConv, ir.OpAdd}
	trainFusion     = []ir.Op{ir.OpConv, ir.OpAdd, ir.OpBatchNorm}
)

// planFusion finds the Relus of g that can be folded into producers of
// the given ops.
func planFusion(g *ir.Graph, producers []ir.Op) fusion {
	f := fusion{reluInto: map[*ir.Node]bool{}, reluView: map[*ir.Node]bool{}}
	readers := readerCounts(g)
	for _, r := range g.Nodes {
		if r.Op != ir.OpRelu || len(r.Inputs) != 1 {
			continue
		}
		if p := soleProducer(r.Inputs[0], readers); p != nil && slices.Contains(producers, p.Op) {
			f.reluInto[p], f.reluView[r] = true, true
		}
	}
	return f
}

// planMoments finds the Convs of g whose output a BatchNormalization
// alone reads (as its data).
func planMoments(g *ir.Graph) map[*ir.Node]bool {
	readers := readerCounts(g)
	into := map[*ir.Node]bool{}
	for _, r := range g.Nodes {
		if r.Op != ir.OpBatchNorm || len(r.Inputs) == 0 {
			continue
		}
		if p := soleProducer(r.Inputs[0], readers); p != nil && p.Op == ir.OpConv {
			into[p] = true
		}
	}
	return into
}

// readerCounts returns how many nodes of g read each value, a graph
// output counting as one more (it must keep its own value).
func readerCounts(g *ir.Graph) map[*ir.Value]int {
	readers := map[*ir.Value]int{}
	for _, n := range g.Nodes {
		for _, v := range n.Inputs {
			if v != nil {
				readers[v]++
			}
		}
	}
	for _, v := range g.Outputs {
		readers[v]++
	}
	return readers
}

// soleProducer returns the node that produces float32 value x as its only
// output, when x has a single reader (readerCounts), or nil: the producer
// a fusion may hand its reader's work to.
func soleProducer(x *ir.Value, readers map[*ir.Value]int) *ir.Node {
	if x == nil || x.Def == nil || readers[x] != 1 || x.DType != ir.Float32 {
		return nil
	}
	if p := x.Def; len(p.Outputs) == 1 && p.Outputs[0] == x {
		return p
	}
	return nil
}

// momentsFused reports whether node n, a Conv, sums its output planes for
// the BatchNormalization that reads them in the current run.
func (e *Executor) momentsFused(n *ir.Node) bool {
	return e.rs != nil && e.rs.fuse && e.fuse.momentsInto[n]
}

// putMoments records the per-plane sums mom of tensor y for its reader.
func (e *Executor) putMoments(y *ir.Tensor, mom []float64) {
	e.rs.mu.Lock()
	defer e.rs.mu.Unlock()
	if e.rs.moments == nil {
		e.rs.moments = map[*float32][]float64{}
	}
	e.rs.moments[&y.F32[0]] = mom
}

// takeMoments returns (and forgets) the per-plane sums recorded for x, or
// nil.
func (e *Executor) takeMoments(x *ir.Tensor) []float64 {
	if e.rs == nil || len(x.F32) == 0 {
		return nil
	}
	e.rs.mu.Lock()
	defer e.rs.mu.Unlock()
	mom := e.rs.moments[&x.F32[0]]
	delete(e.rs.moments, &x.F32[0])
	return mom
}

// Gradient-sum fusion.
//
// In training, when a Conv's input already has a gradient from another
// reader (a residual block's shortcut), the tape offers it to the Conv's
// backward (offerGradBase, withdrawGradBase); an input gradient computed as a Winograd
// adjoint convolution takes it (takeGradBase) and adds it to each image
// while that image's gradient is in cache, and the tape keeps the result
// as the sum instead of adding the two in a pass of its own. The sum is
// the same bits (g + old for old + g).

// offerGradBase offers t, the gradient a Conv's input already has, to the
// Conv's backward.
func (e *Executor) offerGradBase(t *ir.Tensor) { e.rs.gradBase, e.rs.gradBaseTaken = t, false }

// withdrawGradBase ends the offer of offerGradBase and reports whether the
// backward took it (false when nothing was offered).
func (e *Executor) withdrawGradBase() (taken bool) {
	if e.rs == nil {
		return false
	}
	taken = e.rs.gradBaseTaken
	e.rs.gradBase, e.rs.gradBaseTaken = nil, false
	return taken
}

// takeGradBase returns the gradient offered for an input shaped as x, and
// marks it taken, or returns nil.
func (e *Executor) takeGradBase(x *ir.Tensor) []float32 {
	if e.rs == nil || e.rs.gradBase == nil || !sameDims(e.rs.gradBase.Dims, x.Dims) || e.rs.gradBase.DType != ir.Float32 {
		return nil
	}
	e.rs.gradBaseTaken = true
	return e.rs.gradBase.F32
}

// reluFused reports whether node n applies the Relu of its only reader in
// the current run.
func (e *Executor) reluFused(n *ir.Node) bool {
	return e.rs != nil && e.rs.fuse && e.fuse.reluInto[n]
}

// reluViewed reports whether node n, a Relu, passes its already rectified
// input on in the current run.
func (e *Executor) reluViewed(n *ir.Node) bool {
	return e.rs != nil && e.rs.fuse && e.fuse.reluView[n]
}
