package synth

import (
	"fmt"
	"slices"

	"github.com/ferminets/fermi/ir"
	"github.com/ferminets/fermi/passes"
)

// trainForm returns g in a form the engine's Trainer can differentiate:
// every channel shuffle (Reshape N×g×(C/g)×H×W → Transpose 0,2,1,3,4 →
// Reshape N×C×H×W, which the Trainer has no gradient for) becomes
// Reshape N×C×(H·W) → MatMul with a constant C×C permutation matrix (not
// trainable: it is MatMul's first operand) → the same final Reshape. The
// two forms compute the same function exactly (each output is one input
// times 1 plus zeros). The result shares its parameter tensors with g, so
// training it trains g, which keeps the deployed form; g itself is
// returned when it has no shuffle.
func trainForm(g *ir.Graph) (*ir.Graph, error) {
	if !slices.ContainsFunc(g.Nodes, func(n *ir.Node) bool { return n.Op == ir.OpTranspose }) {
		return g, nil
	}
	c := passes.Clone(g)
	for _, t := range c.Nodes {
		if t.Op != ir.OpTranspose {
			continue
		}
		split := t.Inputs[0].Def
		if !slices.Equal(t.Ints("perm"), []int64{0, 2, 1, 3, 4}) || split == nil || split.Op != ir.OpReshape || len(split.Inputs) != 2 {
			return nil, fmt.Errorf("synth: node %q (Transpose) is not a channel shuffle", t.Name)
		}
		x, shape := split.Inputs[0], ir.ConstValue(split.Inputs[1])
		if len(x.Shape) != 4 || !x.Shape[1:].IsStatic() || shape == nil || len(shape.Int64s()) != 5 {
			return nil, fmt.Errorf("synth: node %q (Reshape) is not a channel shuffle's split", split.Name)
		}
		ch, hw, groups := x.Shape[1].Size, x.Shape[2].Size*x.Shape[3].Size, shape.Int64s()[1]
		perm := make([]float32, ch*ch)
		for o := range ch {
			perm[o*ch+(o%groups)*(ch/groups)+o/groups] = 1
		}
		p := &ir.Value{Name: t.Name + ".perm", DType: ir.Float32, Shape: ir.Static(ch, ch), Const: ir.NewFloat32([]int64{ch, ch}, perm)}
		s := &ir.Value{Name: split.Name + ".flat", DType: ir.Int64, Shape: ir.Static(3), Const: ir.NewInt64([]int64{3}, []int64{0, ch, hw})}
		c.Params = append(c.Params, p, s)
		flat := ir.Shape{x.Shape[0], ir.D(ch), ir.D(hw)}
		split.Inputs[1] = s
		split.Outputs[0].Shape = flat
		t.Op, t.Inputs, t.Attrs = ir.OpMatMul, []*ir.Value{p, split.Outputs[0]}, nil
		t.Outputs[0].Shape = slices.Clone(flat)
	}
	if err := ir.Verify(c); err != nil {
		return nil, fmt.Errorf("synth: training form of %q: %w", g.Name, err)
	}
	return c, nil
}
