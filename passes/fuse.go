package passes

import (
	"strings"

	"github.com/ferminets/fermi/ir"
)

// fuse finds the groups of nodes a runtime executes as one kernel: a Conv
// or Gemm, optionally followed by a residual Add of another tensor of the
// same shape (Conv only), optionally followed by an activation, each
// link the only reader of the previous one's output.
//
// Design: fusion is an annotation, not a rewrite. The graph keeps standard
// ONNX nodes, so every exported model stays standard and runnable by any
// runtime, and there is no expansion step that could drift from the
// fused form. fuse records each group as a remark on its anchor
// ("fuse: Conv+Add+Relu") for --stats and tests; Fusions returns the groups
// for cost models. (targets.Estimate groups nodes along its profile's
// fusion patterns by the same single-reader rule.) fuse never changes the
// graph.
func fuse(c *ctx) error {
	for _, k := range Fusions(c.g) {
		if k.Residual == nil && k.Activation == nil {
			continue
		}
		c.remark(k.Anchor, "fuse: %s", k)
	}
	return nil
}

// Kernel is one fusion group: an anchor Conv or Gemm and the nodes fused
// into it (nil when absent).
type Kernel struct {
	Anchor     *ir.Node
	Residual   *ir.Node // Add of the anchor's output and another tensor
	Activation *ir.Node // unary activation (ir.Activation flag)
}

// String names the group's ops: "Conv+Add+Relu".
func (k Kernel) String() string {
	parts := []string{k.Anchor.TypeName()}
	for _, n := range []*ir.Node{k.Residual, k.Activation} {
		if n != nil {
			parts = append(parts, n.TypeName())
		}
	}
	return strings.Join(parts, "+")
}

// Fusions returns the fusion groups of g, one per Conv and Gemm, in node
// order.
func Fusions(g *ir.Graph) []Kernel {
	c := newCtx(g, nil)
	var out []Kernel
	claimed := make(map[*ir.Node]bool) // a node joins at most one group
	next := func(v *ir.Value) *ir.Node {
		if !c.singleUse(v) || claimed[c.uses(v)[0]] {
			return nil
		}
		return c.uses(v)[0]
	}
	for _, n := range g.Nodes {
		if n.Op != ir.OpConv && n.Op != ir.OpGemm {
			continue
		}
		k := Kernel{Anchor: n}
		y := n.Outputs[0]
		if u := next(y); u != nil && n.Op == ir.OpConv && u.Op == ir.OpAdd && u.Input(0) != u.Input(1) && u.Outputs[0].Shape.Equal(y.Shape) {
			k.Residual, y = u, u.Outputs[0]
		}
		if u := next(y); u != nil && u.Op.Info().Flags&ir.Activation != 0 && u.Input(0) == y {
			k.Activation = u
		}
		claimed[k.Residual], claimed[k.Activation] = true, true
		out = append(out, k)
	}
	return out
}
