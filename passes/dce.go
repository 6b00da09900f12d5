package passes

import "github.com/ferminets/fermi/ir"

// dce removes what nothing uses: nodes none of whose outputs are read by a
// live node or are graph outputs, unused optional outputs (Dropout's mask,
// MaxPool's indices, BatchNormalization's running statistics), and
// parameters no live node reads. Opaque nodes without outputs are kept
// (they may have effects the IR does not model).
func dce(c *ctx) error {
	live := make(map[*ir.Value]bool)
	for _, o := range c.g.Outputs {
		live[o] = true
	}
	for i := len(c.g.Nodes) - 1; i >= 0; i-- {
		n := c.g.Nodes[i]
		used := n.Op == ir.OpOpaque && len(n.Outputs) == 0
		for _, o := range n.Outputs {
			if o != nil && live[o] {
				used = true
			}
		}
		if !used {
			c.remove(n)
			continue
		}
		for _, in := range n.Inputs {
			if in != nil {
				live[in] = true
			}
		}
		if n.Op == ir.OpOpaque || n.Op.Info().MaxOut < 0 {
			continue // variadic outputs (Split) are all significant
		}
		min := n.Op.Info().MinOut
		k := len(n.Outputs)
		for j := len(n.Outputs) - 1; j >= max(min, 1); j-- {
			if o := n.Outputs[j]; o != nil && !live[o] {
				n.Outputs[j] = nil
				c.changed = true
			}
			if n.Outputs[j] == nil && j == k-1 {
				k--
			}
		}
		n.Outputs = n.Outputs[:k]
	}
	params := c.g.Params[:0]
	for _, p := range c.g.Params {
		if live[p] {
			params = append(params, p)
		} else {
			c.changed = true
		}
	}
	clear(c.g.Params[len(params):])
	c.g.Params = params
	return nil
}
