package passes

import (
	"fmt"

	"github.com/ferminets/fermi/engine"
	"github.com/ferminets/fermi/ir"
)

// const-fold replaces computations on constants by their results:
//
//   - a Constant node becomes a parameter;
//   - a node whose inputs are all constant is evaluated with the engine
//     (the reference semantics) and its outputs become parameters;
//   - a small integer tensor computed from shapes (Shape → Gather →
//     Unsqueeze → Concat, Cast, Slice and integer arithmetic) whose
//     elements are all static becomes a parameter even though its inputs
//     are not constant (Shape of a value whose dims are static).
//
// Not folded: QuantizeLinear and DequantizeLinear (a quantized model keeps
// its int8 weights and the Q/DQ pairs that describe them), opaque nodes,
// nodes producing a graph output, and results of more than
// maxFoldElements elements that are larger than the node's inputs. The
// nodes whose results were folded are deleted; their inputs are left for
// dce.

// maxFoldElements bounds results that grow the model when folded.
const maxFoldElements = 1 << 20

func constFold(c *ctx) error {
	for _, n := range c.g.Nodes {
		if c.dead[n] || n.Op == ir.OpOpaque || n.Op == ir.OpQuantizeLinear || n.Op == ir.OpDequantizeLinear {
			continue
		}
		if anyOutput(c, n) {
			continue
		}
		if n.Op == ir.OpConstant {
			t := ir.ConstValue(n.Outputs[0])
			if t == nil || len(n.Outputs) != 1 {
				continue
			}
			c.toParam(n, []*ir.Tensor{t})
			continue
		}
		if vals, ok := shapeFold(n); ok {
			c.toParam(n, vals)
			continue
		}
		if !allConst(n) {
			continue
		}
		outs, err := evalNode(n)
		if err != nil {
			return fmt.Errorf("node %q (%s): %w", n.Name, n.TypeName(), err)
		}
		if outs == nil {
			continue
		}
		c.toParam(n, outs)
	}
	return nil
}

// anyOutput reports whether some output of n is a graph output.
func anyOutput(c *ctx, n *ir.Node) bool {
	for _, o := range n.Outputs {
		if o != nil && c.isOutput(o) {
			return true
		}
	}
	return false
}

// allConst reports whether every present input of n is constant.
func allConst(n *ir.Node) bool {
	for _, in := range n.Inputs {
		if in != nil && ir.ConstValue(in) == nil {
			return false
		}
	}
	return true
}

// toParam turns n's outputs into parameters holding vals and deletes n.
// The output values are kept (same names, same readers).
func (c *ctx) toParam(n *ir.Node, vals []*ir.Tensor) {
	for i, o := range n.Outputs {
		if o == nil {
			continue
		}
		t := vals[i]
		o.Const, o.Def = t, nil
		o.DType, o.Shape = t.DType, ir.Static(t.Dims...)
		c.g.Params = append(c.g.Params, o)
	}
	c.remove(n)
}

// evalNode runs n alone in the engine on its constant inputs. It returns
// nil (and no error) when the result is too large to be worth folding.
func evalNode(n *ir.Node) ([]*ir.Tensor, error) {
	var in int64
	mini := &ir.Graph{Name: "fold"}
	cn := *n
	cn.Inputs = make([]*ir.Value, len(n.Inputs))
	for i, v := range n.Inputs {
		if v == nil {
			continue
		}
		t := ir.ConstValue(v)
		in += t.Len()
		p := &ir.Value{Name: fmt.Sprintf("in%d", i), DType: t.DType, Shape: ir.Static(t.Dims...), Const: t}
		mini.Params = append(mini.Params, p)
		cn.Inputs[i] = p
	}
	cn.Outputs = make([]*ir.Value, len(n.Outputs))
	for i, o := range n.Outputs {
		if o == nil {
			continue
		}
		if s := o.Shape; s.IsStatic() {
			if e := ir.NumElements(s.Ints()); e > maxFoldElements && e > in {
				return nil, nil
			}
		}
		cp := *o
		cp.Def = &cn
		cn.Outputs[i] = &cp
		mini.Outputs = append(mini.Outputs, &cp)
	}
	mini.Nodes = []*ir.Node{&cn}
	e, err := engine.New(mini, engine.WithThreads(1))
	if err != nil {
		return nil, err
	}
	res, err := e.Run(nil)
	if err != nil {
		return nil, err
	}
	out := make([]*ir.Tensor, len(n.Outputs))
	k := 0
	for i, o := range n.Outputs {
		if o == nil {
			continue
		}
		t := res[k]
		k++
		if t == nil {
			return nil, fmt.Errorf("output %q not computed", o.Name)
		}
		if t.DType != o.DType && o.DType != ir.Undefined {
			return nil, fmt.Errorf("output %q: engine computed %v, graph says %v", o.Name, t.DType, o.DType)
		}
		out[i] = t
	}
	return out, nil
}

// elem is one element of a small integer tensor as far as it is known
// without running the graph: a known integer, a symbolic dim, or unknown.
type elem struct {
	n   int64
	sym string
	ok  bool
}

func (e elem) static() bool { return e.ok && e.sym == "" }

const (
	maxShapeElems = 64 // larger integer tensors are not tracked
	maxShapeDepth = 32 // longest chain followed
)

// shapeFold returns the value of n's single output when it is a small
// integer tensor whose elements are all known.
func shapeFold(n *ir.Node) ([]*ir.Tensor, bool) {
	if len(n.Outputs) != 1 || n.Outputs[0] == nil || n.Outputs[0].DType != ir.Int64 {
		return nil, false
	}
	o := n.Outputs[0]
	if o.Shape == nil || len(o.Shape) > 1 {
		return nil, false
	}
	es := elems(o, 0)
	if es == nil {
		return nil, false
	}
	vals := make([]int64, len(es))
	for i, e := range es {
		if !e.static() {
			return nil, false
		}
		vals[i] = e.n
	}
	dims := []int64{}
	if len(o.Shape) == 1 {
		dims = []int64{int64(len(vals))}
	} else if len(vals) != 1 {
		return nil, false
	}
	return []*ir.Tensor{ir.NewInt64(dims, vals)}, true
}

// elems evaluates v, a 0-D or 1-D integer tensor, symbolically. It returns
// nil when not even the element count is known.
func elems(v *ir.Value, depth int) []elem {
	if v == nil || depth > maxShapeDepth {
		return nil
	}
	if t := ir.ConstValue(v); t != nil {
		if !t.DType.IsInt() || len(t.Dims) > 1 || t.Len() > maxShapeElems || t.CheckData() != nil {
			return nil
		}
		var out []elem
		for _, x := range t.Int64s() {
			out = append(out, elem{n: x, ok: true})
		}
		return out
	}
	n := v.Def
	if n == nil || len(n.Outputs) != 1 || !v.DType.IsInt() {
		return nil
	}
	arg := func(i int) []elem { return elems(n.Input(i), depth+1) }
	switch n.Op {
	case ir.OpShape:
		x := n.Input(0)
		if x == nil || x.Shape == nil {
			return nil
		}
		r := int64(len(x.Shape))
		start, end := n.Int("start"), r
		if a := n.Attr("end"); a != nil {
			end = a.Int
		}
		start, end = clampAxis(start, r), clampAxis(end, r)
		var out []elem
		for i := start; i < end; i++ {
			d := x.Shape[i]
			switch {
			case d.Static():
				out = append(out, elem{n: d.Size, ok: true})
			case d.Sym != "":
				out = append(out, elem{sym: d.Sym, ok: true})
			default:
				out = append(out, elem{})
			}
		}
		return out
	case ir.OpGather:
		data := arg(0)
		idx, ok := ints(n.Input(1))
		if data == nil || !ok || n.Int("axis") != 0 {
			return nil
		}
		var out []elem
		for _, i := range idx {
			if i < 0 {
				i += int64(len(data))
			}
			if i < 0 || i >= int64(len(data)) {
				return nil
			}
			out = append(out, data[i])
		}
		return out
	case ir.OpIdentity, ir.OpUnsqueeze, ir.OpSqueeze, ir.OpReshape:
		return arg(0)
	case ir.OpCast:
		if !n.Input(0).DType.IsInt() {
			return nil
		}
		return arg(0)
	case ir.OpConcat:
		var out []elem
		for i := range n.Inputs {
			a := arg(i)
			if a == nil {
				return nil
			}
			out = append(out, a...)
		}
		return out
	case ir.OpAdd, ir.OpSub, ir.OpMul, ir.OpDiv:
		a, b := arg(0), arg(1)
		if a == nil || b == nil {
			return nil
		}
		m := max(len(a), len(b))
		if (len(a) != m && len(a) != 1) || (len(b) != m && len(b) != 1) {
			return nil
		}
		out := make([]elem, m)
		for i := range out {
			x, y := a[min(i, len(a)-1)], b[min(i, len(b)-1)]
			if x.static() && y.static() {
				if r, ok := intArith(n.Op, x.n, y.n); ok {
					out[i] = elem{n: r, ok: true}
				}
			}
		}
		return out
	}
	return nil
}

func clampAxis(a, r int64) int64 {
	if a < 0 {
		a += r
	}
	return max(0, min(a, r))
}

// intArith computes integer a op b with ONNX semantics (division truncates).
func intArith(op ir.Op, a, b int64) (int64, bool) {
	switch op {
	case ir.OpAdd:
		return a + b, true
	case ir.OpSub:
		return a - b, true
	case ir.OpMul:
		return a * b, true
	case ir.OpDiv:
		if b == 0 {
			return 0, false
		}
		return a / b, true
	}
	return 0, false
}
