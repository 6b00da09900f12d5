package engine

import (
	"fmt"

	"github.com/ferminets/fermi/engine/simd"
	"github.com/ferminets/fermi/ir"
)

// gradKernel computes the gradients of node n's inputs. in are the forward
// inputs, out the training-mode forward outputs (BatchNormalization adds
// the batch mean and 1/σ, Dropout its mask), dout the gradients of the
// outputs (dout[0] is never nil), and need[i] says whether input i's
// gradient is wanted. It returns one tensor per input, nil where not
// needed; the tensors may share data with dout and are never written to
// by the caller.
type gradKernel func(e *Executor, n *ir.Node, in, out, dout []*ir.Tensor, need []bool) ([]*ir.Tensor, error)

// backward is the gradient kernel of every differentiable op. Each lives in
// the file of its forward kernel.
var backward = [...]gradKernel{
	ir.OpConv:              convBackward,
	ir.OpBatchNorm:         batchNormBackward,
	ir.OpRelu:              unaryBackward,
	ir.OpClip:              clipBackward,
	ir.OpLeakyRelu:         unaryBackward,
	ir.OpSigmoid:           unaryBackward,
	ir.OpHardSigmoid:       unaryBackward,
	ir.OpHardSwish:         unaryBackward,
	ir.OpTanh:              unaryBackward,
	ir.OpErf:               unaryBackward,
	ir.OpSqrt:              unaryBackward,
	ir.OpAdd:               binaryBackward,
	ir.OpSub:               binaryBackward,
	ir.OpMul:               binaryBackward,
	ir.OpDiv:               binaryBackward,
	ir.OpConcat:            concatBackward,
	ir.OpMaxPool:           maxPoolBackward,
	ir.OpAveragePool:       averagePoolBackward,
	ir.OpGlobalAveragePool: globalAveragePoolBackward,
	ir.OpGemm:              gemmBackward,
	ir.OpMatMul:            matMulBackward,
	ir.OpFlatten:           viewBackward,
	ir.OpReshape:           viewBackward,
	ir.OpSqueeze:           viewBackward,
	ir.OpUnsqueeze:         viewBackward,
	ir.OpIdentity:          viewBackward,
	ir.OpTranspose:         transposeBackward,
	ir.OpDropout:           dropoutBackward,
}

func backwardOf(op ir.Op) gradKernel {
	if int(op) < len(backward) {
		return backward[op]
	}
	return nil
}

// callGrad runs gradient kernel k of node n, turning a panic into an error.
func callGrad(e *Executor, n *ir.Node, k gradKernel, in, out, dout []*ir.Tensor, need []bool) (grads []*ir.Tensor, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("internal error in backward: %v", r)
		}
	}()
	return k(e, n, in, out, dout, need)
}

// tape holds one training step's values: every tensor the forward pass
// computed, each node's full training-mode outputs, and the gradients
// accumulated so far in the backward pass.
type tape struct {
	e     *Executor // the step's executor, whose run state counts the tape's holds
	vals  map[*ir.Value]*ir.Tensor
	outs  [][]*ir.Tensor // per node, as its training kernel returned them
	grads map[*ir.Value]*ir.Tensor
	owned map[*ir.Value]bool // the gradient's data belongs to the tape (may be added into)
}

// accumulate adds g into the gradient of v; the first addition into a
// shared gradient writes the sum to a new buffer.
func (tp *tape) accumulate(v *ir.Value, g *ir.Tensor) error {
	old, ok := tp.grads[v]
	if !ok {
		tp.grads[v], tp.owned[v] = g, false
		tp.e.hold(g)
		return nil
	}
	if len(old.F32) != len(g.F32) {
		return fmt.Errorf("engine: value %q: gradients of %d and %d elements", v.Name, len(old.F32), len(g.F32))
	}
	sum := old
	if !tp.owned[v] { // the sum goes to a buffer of the tape's own
		sum = &ir.Tensor{DType: ir.Float32, Dims: old.Dims, F32: tp.e.buf(len(old.F32), false)}
	}
	tp.e.parallelElems(len(sum.F32), func(lo, hi int) {
		simd.Add(sum.F32[lo:hi], old.F32[lo:hi], g.F32[lo:hi])
	})
	if sum != old {
		tp.e.hold(sum)
		tp.e.drop(old)
		tp.grads[v], tp.owned[v] = sum, true
	}
	return nil
}

// replace makes g, which a kernel computed as the sum of v's old gradient
// and its own contribution, v's gradient.
func (tp *tape) replace(v *ir.Value, g *ir.Tensor) {
	old := tp.grads[v]
	tp.grads[v], tp.owned[v] = g, true
	tp.e.hold(g)
	tp.e.drop(old)
}

// runBackward propagates the gradient dlogits of value logits back through
// the graph, node by node in reverse order, and leaves every required
// value's gradient in tp.grads. Gradients of a node's outputs are dropped
// once the node is done.
func (t *Trainer) runBackward(e *Executor, tp *tape, dlogits *ir.Tensor) error {
	tp.grads = map[*ir.Value]*ir.Tensor{t.logits: dlogits}
	tp.owned = map[*ir.Value]bool{}
	e.hold(dlogits)
	for i := len(t.g.Nodes) - 1; i >= 0; i-- {
		if err := t.backwardNode(e, tp, i); err != nil {
			return err
		}
		// Every reader of node i's outputs comes later and is done: drop
		// the outputs so the collector can reclaim activations while the
		// pass goes on (gradients of parameters stay).
		n := t.g.Nodes[i]
		for _, o := range tp.outs[i] {
			e.drop(o)
		}
		tp.outs[i] = nil
		for _, v := range n.Outputs {
			if v == nil {
				continue
			}
			if x, ok := tp.vals[v]; ok {
				delete(tp.vals, v)
				e.drop(x)
			}
			if g, ok := tp.grads[v]; ok {
				delete(tp.grads, v)
				e.drop(g)
			}
		}
	}
	return nil
}

// backwardNode runs the gradient kernel of node i, if any of its outputs has
// a gradient and any of its inputs needs one, and accumulates the input
// gradients.
func (t *Trainer) backwardNode(e *Executor, tp *tape, i int) error {
	n := t.g.Nodes[i]
	dout := make([]*ir.Tensor, len(n.Outputs))
	any := false
	for j, v := range n.Outputs {
		if v != nil {
			dout[j] = tp.grads[v]
			any = any || dout[j] != nil
		}
	}
	if !any {
		return nil
	}
	need := make([]bool, len(n.Inputs))
	want := false
	for j, v := range n.Inputs {
		need[j] = v != nil && t.requires[v]
		want = want || need[j]
	}
	if !want {
		return nil
	}
	if dout[0] == nil {
		return fmt.Errorf("engine: node %q (%s): gradient reaches an output other than the first", n.Name, n.TypeName())
	}
	in := make([]*ir.Tensor, len(n.Inputs))
	for j, v := range n.Inputs {
		if v != nil {
			in[j] = tp.vals[v]
		}
	}
	var grads, scratch []*ir.Tensor
	var err error
	if old, ok := tp.grads[n.Inputs[0]]; ok && n.Op == ir.OpConv && need[0] && e.rs != nil && e.rs.fuse && e.fuse.sumGrads {
		e.offerGradBase(old)
	}
	switch {
	case e.reluViewed(n): // its producer applies the Relu's gradient (fuse.go)
		grads = []*ir.Tensor{dout[0]}
	case e.reluFused(n) && n.Op == ir.OpBatchNorm:
		grads, err = callGrad(e, n, func(e *Executor, n *ir.Node, in, out, dout []*ir.Tensor, need []bool) ([]*ir.Tensor, error) {
			return batchNormBackwardRelu(e, n, in, out, dout, need, true)
		}, in, tp.outs[i], dout, need)
	case e.reluFused(n):
		y := tp.outs[i][0]
		d := &ir.Tensor{DType: ir.Float32, Dims: y.Dims, F32: e.buf(len(y.F32), false)}
		e.parallelElems(len(d.F32), func(lo, hi int) {
			simd.ReluGrad(d.F32[lo:hi], y.F32[lo:hi], dout[0].F32[lo:hi])
		})
		masked := append([]*ir.Tensor{d}, dout[1:]...)
		grads, err = callGrad(e, n, backward[n.Op], in, tp.outs[i], masked, need)
		scratch = []*ir.Tensor{d} // given back below, unless a gradient shares it
	default:
		grads, err = callGrad(e, n, backward[n.Op], in, tp.outs[i], dout, need)
	}
	summed := e.withdrawGradBase() // grads[0] already holds the input's old gradient
	if err != nil {
		return fmt.Errorf("engine: node %q (%s): %w", n.Name, n.TypeName(), err)
	}
	for j, v := range n.Inputs {
		if need[j] && j < len(grads) && grads[j] != nil {
			if j == 0 && summed {
				tp.replace(v, grads[j])
				continue
			}
			if err := tp.accumulate(v, grads[j]); err != nil {
				return err
			}
		}
	}
	e.settle(append(grads, scratch...)) // gradients nobody took
	return nil
}
