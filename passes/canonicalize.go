package passes

import (
	"slices"

	"github.com/ferminets/fermi/ir"
)

// canonicalize removes nodes that compute nothing and merges chains:
//
//   - Identity; Dropout at inference (no training_mode input, or a
//     constant false one) whose mask output is unused;
//   - Transpose with the identity permutation; Cast to the input's dtype;
//     Concat of one input; Pad whose pads are all zero; Reshape whose
//     output shape equals its (fully known) input shape;
//   - Reshape of a Reshape: the inner one is bypassed when the outer shape
//     is constant and has no 0 (a 0 copies the inner result's dim).
//
// A node whose output is a graph output is removed only when its input is
// produced by a node (which then takes over the output's name); otherwise
// it stays, so the model's interface never changes. Bypassed inputs are
// left for dce.
func canonicalize(c *ctx) error {
	for _, n := range c.g.Nodes {
		if c.dead[n] {
			continue
		}
		if in := noop(n, c); in != nil {
			if c.replaceAll(n.Outputs[0], in) {
				c.remove(n)
			}
			continue
		}
		if n.Op == ir.OpReshape {
			inner := n.Input(0).Def
			if inner != nil && inner.Op == ir.OpReshape && !c.dead[inner] && inner.Outputs[0] == n.Input(0) {
				shape, ok := ints(n.Input(1))
				if ok && !slices.Contains(shape, 0) {
					c.setInput(n, 0, inner.Input(0))
				}
			}
		}
	}
	return nil
}

// noop returns the input n passes through unchanged, or nil.
func noop(n *ir.Node, c *ctx) *ir.Value {
	x := n.Input(0)
	if x == nil || len(n.Outputs) == 0 || n.Outputs[0] == nil {
		return nil
	}
	y := n.Outputs[0]
	switch n.Op {
	case ir.OpIdentity:
		return x
	case ir.OpDropout:
		if len(n.Outputs) > 1 && n.Outputs[1] != nil && (len(c.uses(n.Outputs[1])) > 0 || c.isOutput(n.Outputs[1])) {
			return nil
		}
		if tm := n.Input(2); tm != nil && !isZeroConst(tm) {
			return nil
		}
		return x
	case ir.OpTranspose:
		perm := n.Ints("perm")
		if perm == nil {
			if len(x.Shape) <= 1 && x.Shape != nil {
				return x
			}
			return nil
		}
		for i, p := range perm {
			if p != int64(i) {
				return nil
			}
		}
		return x
	case ir.OpCast:
		if x.DType == y.DType && x.DType != ir.Undefined {
			return x
		}
	case ir.OpConcat:
		if len(n.Inputs) == 1 {
			return x
		}
	case ir.OpPad:
		if p, ok := ints(n.Input(1)); ok {
			for _, v := range p {
				if v != 0 {
					return nil
				}
			}
			return x
		}
	case ir.OpReshape:
		if x.Shape != nil && y.Shape != nil && sameKnownShape(x.Shape, y.Shape) {
			return x
		}
	}
	return nil
}

// sameKnownShape reports whether a and b are equal and every dim is static
// or symbolic (unknown dims prove nothing).
func sameKnownShape(a, b ir.Shape) bool {
	if !a.Equal(b) {
		return false
	}
	for _, d := range a {
		if !d.Static() && d.Sym == "" {
			return false
		}
	}
	return true
}
