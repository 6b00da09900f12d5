package irtest

import (
	"fmt"
	"slices"

	"github.com/ferminets/fermi/ir"
)

// Equiv reports whether a and b are the same graph up to the names of the
// graph, its values and its nodes, and otherwise describes the first
// difference (see ir.Equal, which compares everything else).
func Equiv(a, b *ir.Graph) error {
	if a == nil || b == nil {
		return ir.Equal(a, b)
	}
	return ir.Equal(anonymous(a), anonymous(b))
}

// anonymous returns a deep copy of g with the graph, every value and every
// node renamed by position: values v0, v1, ... in definition order (inputs,
// params, node outputs) and nodes n0, n1, ...; values defined outside the
// graph keep their names.
func anonymous(g *ir.Graph) *ir.Graph {
	c := *g
	c.Name = "g"
	vals := make(map[*ir.Value]*ir.Value)
	for i, v := range g.Values() {
		nv := *v
		nv.Name = fmt.Sprintf("v%d", i)
		if v.Const != nil {
			nv.Const = v.Const.Clone()
		}
		vals[v] = &nv
	}
	ref := func(v *ir.Value) *ir.Value {
		if nv, ok := vals[v]; ok || v == nil {
			return nv
		}
		return v
	}
	mapAll := func(vs []*ir.Value) []*ir.Value {
		out := make([]*ir.Value, len(vs))
		for i, v := range vs {
			out[i] = ref(v)
		}
		return out
	}
	c.Inputs, c.Params, c.Outputs = mapAll(g.Inputs), mapAll(g.Params), mapAll(g.Outputs)
	c.Nodes = make([]*ir.Node, len(g.Nodes))
	nodes := make(map[*ir.Node]*ir.Node)
	for i, n := range g.Nodes {
		nn := *n
		nn.Name = fmt.Sprintf("n%d", i)
		nn.Inputs, nn.Outputs = mapAll(n.Inputs), mapAll(n.Outputs)
		nn.Attrs = slices.Clone(n.Attrs)
		c.Nodes[i] = &nn
		nodes[n] = &nn
	}
	for _, nv := range vals {
		if d, ok := nodes[nv.Def]; ok {
			nv.Def = d
		}
	}
	return &c
}
