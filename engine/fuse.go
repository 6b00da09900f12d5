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

// fusion records the nodes of a graph that Run fuses.
type fusion struct {
	reluInto map[*ir.Node]bool // producers that apply the Relu of their only reader
	reluView map[*ir.Node]bool // Relus whose input is already rectified
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
	readers := map[*ir.Value]int{}
	for _, n := range g.Nodes {
		for _, v := range n.Inputs {
			if v != nil {
				readers[v]++
			}
		}
	}
	for _, v := range g.Outputs {
		readers[v]++ // a graph output must keep its own value
	}
	for _, r := range g.Nodes {
		if r.Op != ir.OpRelu || len(r.Inputs) != 1 || r.Inputs[0] == nil {
			continue
		}
		x := r.Inputs[0]
		p := x.Def
		if p == nil || readers[x] != 1 || x.DType != ir.Float32 || len(p.Outputs) != 1 || p.Outputs[0] != x {
			continue
		}
		if !slices.Contains(producers, p.Op) {
			continue
		}
		f.reluInto[p], f.reluView[r] = true, true
	}
	return f
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
