package passes

import (
	"slices"

	"github.com/ferminets/fermi/ir"
)

// reshape-batch rewrites the shape input of a Reshape that is computed from
// dims at run time (Shape → Gather → Unsqueeze → Concat, as exporters emit
// for x.view(x.size(0), ...)) into a constant, when every element is either
// known or a dim that ONNX's Reshape can express without knowing it:
//
//   - an element equal to the data input's dim at the same position (the
//     same symbolic dim, such as the batch "N") becomes 0 ("copy");
//   - one remaining unknown element becomes -1 ("infer"), when the shape
//     has no -1 already.
//
// This lets ShuffleNet's channel shuffle fold to constant-shape Reshapes
// while the batch dim stays dynamic. Requires allowzero=0 (the default) and
// a data input of known rank. The orphaned shape computation is left for
// dce.
func reshapeBatch(c *ctx) error {
	for _, n := range c.g.Nodes {
		if c.dead[n] || n.Op != ir.OpReshape || n.Int("allowzero") != 0 {
			continue
		}
		x, s := n.Input(0), n.Input(1)
		if x == nil || s == nil || x.Shape == nil || ir.ConstValue(s) != nil {
			continue
		}
		es := elems(s, 0)
		if es == nil {
			continue
		}
		vals := make([]int64, len(es))
		unknown := -1
		for i, e := range es {
			switch {
			case e.static():
				vals[i] = e.n
				if e.n == 0 && i >= len(x.Shape) {
					vals = nil
				}
			case e.ok && i < len(x.Shape) && x.Shape[i].Sym == e.sym:
				vals[i] = 0
			case unknown < 0:
				unknown = i
				vals[i] = -1
			default:
				vals = nil
			}
			if vals == nil {
				break
			}
		}
		if vals == nil {
			continue
		}
		if unknown >= 0 && slices.Contains(append(vals[:unknown:unknown], vals[unknown+1:]...), -1) {
			continue
		}
		old := n.Outputs[0].Shape
		c.setInput(n, 1, c.newParam(n.Name+"_shape", ir.NewInt64([]int64{int64(len(vals))}, vals)))
		if err := infer(n); err != nil {
			return err
		}
		// Keep what the graph knew about the output when inference now
		// knows less (it never knows more than the original symbolic form).
		if old != nil && len(old) == len(n.Outputs[0].Shape) {
			n.Outputs[0].Shape = old
		}
	}
	return nil
}
