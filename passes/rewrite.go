package passes

import (
	"fmt"
	"math"

	"github.com/ferminets/fermi/ir"
)

// ctx is the state of one pass run: the graph, the pass's options, and the
// bookkeeping the rewrite helpers share (uses, deleted nodes, names).
type ctx struct {
	g       *ir.Graph
	args    any
	changed bool
	dead    map[*ir.Node]bool
	users   map[*ir.Value][]*ir.Node
	names   map[string]bool
}

func newCtx(g *ir.Graph, args any) *ctx {
	return &ctx{g: g, args: args, dead: make(map[*ir.Node]bool)}
}

// uses returns the live nodes reading v (a node reading v twice appears twice).
func (c *ctx) uses(v *ir.Value) []*ir.Node {
	if c.users == nil {
		c.users = make(map[*ir.Value][]*ir.Node)
		for _, n := range c.g.Nodes {
			for _, in := range n.Inputs {
				if in != nil {
					c.users[in] = append(c.users[in], n)
				}
			}
		}
	}
	var out []*ir.Node
	for _, n := range c.users[v] {
		if !c.dead[n] {
			out = append(out, n)
		}
	}
	return out
}

// isOutput reports whether v is a graph output.
func (c *ctx) isOutput(v *ir.Value) bool {
	for _, o := range c.g.Outputs {
		if o == v {
			return true
		}
	}
	return false
}

// singleUse reports whether v is read by exactly one input of one live node
// and is not a graph output.
func (c *ctx) singleUse(v *ir.Value) bool {
	return len(c.uses(v)) == 1 && !c.isOutput(v)
}

// setInput points input i of n at v.
func (c *ctx) setInput(n *ir.Node, i int, v *ir.Value) {
	old := n.Inputs[i]
	n.Inputs[i] = v
	if c.users != nil {
		if old != nil {
			us := c.users[old]
			for j, u := range us {
				if u == n {
					c.users[old] = append(us[:j:j], us[j+1:]...)
					break
				}
			}
		}
		if v != nil {
			c.users[v] = append(c.users[v], n)
		}
	}
	c.changed = true
}

// replaceAll makes every reader of old read nv instead. When old is a graph
// output, nv takes its place and its name (so the model's interface does not
// change); that is impossible when nv is itself a graph input, parameter or
// output, and replaceAll then changes nothing and returns false.
func (c *ctx) replaceAll(old, nv *ir.Value) bool {
	if old == nv {
		return false
	}
	if c.isOutput(old) {
		if nv.Def == nil || c.isOutput(nv) {
			return false
		}
		for i, o := range c.g.Outputs {
			if o == old {
				c.g.Outputs[i] = nv
			}
		}
		// The output keeps its name: old's node is about to be deleted.
		old.Name, nv.Name = nv.Name, old.Name
		if old.Doc != "" && nv.Doc == "" {
			nv.Doc = old.Doc
		}
	}
	for _, n := range c.uses(old) {
		for i, in := range n.Inputs {
			if in == old {
				c.setInput(n, i, nv)
			}
		}
	}
	c.changed = true
	return true
}

// remove deletes n at the end of the pass.
func (c *ctx) remove(n *ir.Node) {
	c.dead[n] = true
	c.changed = true
}

// sweep drops the removed nodes from the graph.
func (c *ctx) sweep() {
	if len(c.dead) == 0 {
		return
	}
	nodes := c.g.Nodes[:0]
	for _, n := range c.g.Nodes {
		if !c.dead[n] {
			nodes = append(nodes, n)
		}
	}
	clear(c.g.Nodes[len(nodes):])
	c.g.Nodes = nodes
	c.dead = make(map[*ir.Node]bool)
	c.users = nil
}

// unique returns base, or base with the smallest suffix that is unused by
// any value or node of the graph.
func (c *ctx) unique(base string) string {
	if c.names == nil {
		c.names = make(map[string]bool)
		for _, v := range c.g.Values() {
			c.names[v.Name] = true
		}
		for _, n := range c.g.Nodes {
			c.names[n.Name] = true
		}
	}
	name := base
	for i := 1; c.names[name]; i++ {
		name = fmt.Sprintf("%s_%d", base, i)
	}
	c.names[name] = true
	return name
}

// newParam adds a parameter holding t, named after base.
func (c *ctx) newParam(base string, t *ir.Tensor) *ir.Value {
	v := &ir.Value{Name: c.unique(base), DType: t.DType, Shape: ir.Static(t.Dims...), Const: t}
	c.g.Params = append(c.g.Params, v)
	c.changed = true
	return v
}

// remark records why a candidate was left alone.
func (c *ctx) remark(n *ir.Node, format string, args ...any) {
	c.g.Remark(n, format, args...)
}

// floats returns the float32 data of constant v (materializing a recipe),
// or nil when v is not a constant f32 tensor.
func floats(v *ir.Value) []float32 {
	t := ir.ConstValue(v)
	if t == nil || t.DType != ir.Float32 {
		return nil
	}
	if len(t.F32) == 0 && t.Len() > 0 && t.Init != nil {
		return t.Init.Materialize(t.Dims).F32
	}
	if int64(len(t.F32)) != t.Len() {
		return nil
	}
	return t.F32
}

// ints returns the integer data of constant v, or false.
func ints(v *ir.Value) ([]int64, bool) {
	t := ir.ConstValue(v)
	if t == nil || !t.DType.IsInt() || t.CheckData() != nil {
		return nil, false
	}
	return t.Int64s(), true
}

// isZeroScalar reports whether constant v holds only zeros (any numeric dtype).
func isZeroConst(v *ir.Value) bool {
	t := ir.ConstValue(v)
	if t == nil || t.CheckData() != nil {
		return false
	}
	if t.DType == ir.Float32 && len(t.F32) == 0 && t.Init != nil {
		return false
	}
	for _, x := range t.Float64s() {
		if x != 0 || math.Signbit(x) {
			return false
		}
	}
	return true
}

// infer re-runs shape inference on n.
func infer(n *ir.Node) error { return ir.InferNode(n) }
