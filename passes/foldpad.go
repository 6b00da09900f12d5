package passes

import (
	"slices"

	"github.com/ferminets/fermi/ir"
)

// fold-pad moves a constant-mode Pad with zero fill and constant,
// non-negative pads on the spatial dims only into the pads attribute of the
// Conv or AveragePool reading it (AveragePool then counts the padding,
// count_include_pad=1, which is what averaging the explicit zeros did).
// Readers with auto_pad set, and AveragePools that already exclude their
// own padding from the count, are left alone; MaxPool is never a target
// (it pads with −∞, not zero) and gets a remark. The Pad, once unread, is
// left for dce.
func foldPad(c *ctx) error {
	for _, n := range c.g.Nodes {
		if c.dead[n] || n.Op != ir.OpPad || n.Str("mode") != "constant" {
			continue
		}
		x := n.Input(0)
		pads, ok := ints(n.Input(1))
		if !ok || x.Shape == nil || len(pads) != 2*len(x.Shape) || len(x.Shape) < 3 {
			continue
		}
		if v := n.Input(2); v != nil && !isZeroConst(v) {
			c.remark(n, "fold-pad: fill value %s is not a constant zero", v)
			continue
		}
		r := len(x.Shape)
		if pads[0] != 0 || pads[1] != 0 || pads[r] != 0 || pads[r+1] != 0 || slices.ContainsFunc(pads, func(p int64) bool { return p < 0 }) {
			continue
		}
		k := r - 2
		extra := append(append([]int64(nil), pads[2:r]...), pads[r+2:]...)
		for _, u := range c.uses(n.Outputs[0]) {
			if u.Input(0) != n.Outputs[0] || u.Str("auto_pad") != "NOTSET" {
				continue
			}
			switch u.Op {
			case ir.OpMaxPool:
				c.remark(u, "fold-pad: MaxPool pads with -inf, not zero")
				continue
			case ir.OpConv:
			case ir.OpAveragePool:
				if own := u.Ints("pads"); u.Int("count_include_pad") == 0 && slices.ContainsFunc(own, func(p int64) bool { return p != 0 }) {
					c.remark(u, "fold-pad: AveragePool excludes its own padding from the count")
					continue
				}
			default:
				continue
			}
			own := u.Ints("pads")
			if own == nil {
				own = make([]int64, 2*k)
			}
			if len(own) != 2*k {
				continue
			}
			np := make([]int64, 2*k)
			for i := range np {
				np[i] = own[i] + extra[i]
			}
			before := u.Outputs[0].Shape
			u.SetAttr(ir.IntsAttr("pads", np...))
			if u.Op == ir.OpAveragePool {
				u.SetAttr(ir.IntAttr("count_include_pad", 1))
			}
			c.setInput(u, 0, x)
			if err := infer(u); err != nil {
				return err
			}
			u.Outputs[0].Shape = before
		}
	}
	return nil
}
