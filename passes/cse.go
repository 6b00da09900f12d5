package passes

import (
	"encoding/binary"
	"fmt"
	"hash/fnv"
	"math"
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
	// Parameters.
	seen := make(map[string][]*ir.Value)
	for _, p := range c.g.Params {
		if p.Const == nil || c.isOutput(p) {
			continue
		}
		k, data := paramKey(p.Const)
		if data == nil {
			continue
		}
		var dup *ir.Value
		for _, q := range seen[k] {
			if _, d := paramKey(q.Const); string(d) == string(data) {
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

// paramKey returns a hash key of t and its data as bytes (nil when the data
// is not a plain dense tensor).
func paramKey(t *ir.Tensor) (string, []byte) {
	if t.CheckData() != nil || t.DType == ir.String {
		return "", nil
	}
	var data []byte
	switch t.DType {
	case ir.Float32:
		data = make([]byte, 4*len(t.F32))
		for i, v := range t.F32 {
			binary.LittleEndian.PutUint32(data[4*i:], math.Float32bits(v))
		}
	case ir.Int64:
		data = make([]byte, 8*len(t.I64))
		for i, v := range t.I64 {
			binary.LittleEndian.PutUint64(data[8*i:], uint64(v))
		}
	default:
		data = t.Raw
	}
	if data == nil {
		data = []byte{}
	}
	h := fnv.New64a()
	h.Write(data)
	return fmt.Sprintf("%v%v%x", t.DType, t.Dims, h.Sum64()), data
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
