package passes

import (
	"bytes"
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/ferminets/fermi/ir"
)

// cse merges duplicates: parameters with the same dtype, dims and bits (the
// many Clip bounds and Unsqueeze axes exporters emit), then nodes of the same
// op with the same inputs and attributes, in one forward sweep (so chains
// of duplicates merge too). The later duplicate's readers move to the
// earlier one; the duplicates are left for dce. Opaque nodes and Dropout
// are never merged.
func cse(c *ctx) error {
	// Parameters: bucket by dtype and dims, then compare data (weights of
	// equal shape almost always differ in their first elements).
	seen := make(map[string][]*ir.Value)
	for _, p := range c.g.Params {
		if p.Const == nil || c.isOutput(p) || p.Const.CheckData() != nil || p.Const.DType == ir.String {
			continue
		}
		k := fmt.Sprint(p.Const.DType, p.Const.Dims)
		var dup *ir.Value
		for _, q := range seen[k] {
			if sameData(q.Const, p.Const) {
				dup = q
				break
			}
		}
		if dup == nil {
			seen[k] = append(seen[k], p)
			continue
		}
		for _, n := range c.uses(p) {
			for i, in := range n.Inputs {
				if in == p {
					c.setInput(n, i, dup)
				}
			}
		}
	}
	// Nodes.
	nodes := make(map[string]*ir.Node)
	for _, n := range c.g.Nodes {
		if c.dead[n] || n.Op == ir.OpOpaque || n.Op == ir.OpDropout {
			continue
		}
		k := nodeKey(n)
		m, ok := nodes[k]
		if !ok {
			nodes[k] = n
			continue
		}
		if len(m.Outputs) != len(n.Outputs) {
			continue
		}
		merged := true
		for i, o := range n.Outputs {
			if o == nil {
				continue
			}
			if m.Outputs[i] == nil || !c.replaceAll(o, m.Outputs[i]) {
				merged = false
			}
		}
		if merged {
			c.remove(n)
		}
	}
	return nil
}

// sameData reports whether a and b (same dtype and dims, data checked)
// hold the same bits.
func sameData(a, b *ir.Tensor) bool {
	switch a.DType {
	case ir.Float32:
		for i, v := range a.F32 {
			if math.Float32bits(v) != math.Float32bits(b.F32[i]) {
				return false
			}
		}
		return true
	case ir.Int64:
		return slices.Equal(a.I64, b.I64)
	}
	return bytes.Equal(a.Raw, b.Raw)
}

// nodeKey identifies n's computation: op, inputs by identity, attributes.
func nodeKey(n *ir.Node) string {
	var sb strings.Builder
	fmt.Fprintf(&sb, "%d %d|", n.Op, len(n.Outputs))
	for _, in := range n.Inputs {
		fmt.Fprintf(&sb, "%p,", in)
	}
	for _, a := range n.Attrs {
		fmt.Fprintf(&sb, "|%s=%d:%d:%v:%q:%v:%v:%q:%p:%x", a.Name, a.Kind, a.Int, math.Float32bits(a.Float), a.Str, a.Ints, a.Floats, a.Strs, a.Tensor, a.Raw)
	}
	return sb.String()
}
