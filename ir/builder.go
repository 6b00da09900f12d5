package ir

import (
	"errors"
	"fmt"
)

// Builder constructs a graph in Go: inputs, parameters and nodes in
// topological order, with output types inferred as nodes are added. The first
// error sticks; Build reports it (with the node's name) and runs the verifier.
type Builder struct {
	g         *Graph
	names     map[string]bool // value names
	nodeNames map[string]bool // node names: a namespace of their own, as in ONNX
	err       error
}

// NewBuilder starts an empty graph called name. IR-built models import the
// default ONNX domain at opset 17.
func NewBuilder(name string) *Builder {
	return &Builder{
		g:         &Graph{Name: name, IRVersion: 8, Opsets: []OpsetImport{{Domain: "", Version: 17}}},
		names:     make(map[string]bool),
		nodeNames: make(map[string]bool),
	}
}

// Graph returns the graph under construction (for setting metadata).
func (b *Builder) Graph() *Graph { return b.g }

// Err returns the first error recorded so far.
func (b *Builder) Err() error { return b.err }

func (b *Builder) fail(err error) {
	if b.err == nil {
		b.err = err
	}
}

// unique returns name, or name with the smallest suffix that makes it
// unused in the value namespace.
func (b *Builder) unique(name string) string { return uniqueIn(b.names, name) }

func uniqueIn(used map[string]bool, name string) string {
	if !used[name] {
		used[name] = true
		return name
	}
	for i := 1; ; i++ {
		n := fmt.Sprintf("%s_%d", name, i)
		if !used[n] {
			used[n] = true
			return n
		}
	}
}

// Input adds a graph input.
func (b *Builder) Input(name string, dt DType, shape Shape) *Value {
	v := &Value{Name: b.unique(name), DType: dt, Shape: shape}
	b.g.Inputs = append(b.g.Inputs, v)
	return v
}

// Param adds a parameter holding t.
func (b *Builder) Param(name string, t *Tensor) *Value {
	v := &Value{Name: b.unique(name), DType: t.DType, Shape: Static(t.Dims...), Const: t}
	b.g.Params = append(b.g.Params, v)
	return v
}

// Node adds a single-output node and returns its output.
func (b *Builder) Node(op Op, name string, inputs []*Value, attrs ...Attr) *Value {
	outs := b.NodeN(op, name, 1, inputs, attrs...)
	return outs[0]
}

// NodeN adds a node with nout outputs, infers their types and returns them.
// Outputs are named after the node (name, name_1, ...).
func (b *Builder) NodeN(op Op, name string, nout int, inputs []*Value, attrs ...Attr) []*Value {
	if name == "" {
		name = op.String()
	}
	n := &Node{Name: uniqueIn(b.nodeNames, name), Op: op, Inputs: inputs, Attrs: attrs}
	for i := 0; i < nout; i++ {
		oname := n.Name
		if i > 0 {
			oname = fmt.Sprintf("%s_out%d", n.Name, i)
		}
		n.Outputs = append(n.Outputs, &Value{Name: b.unique(oname), Def: n})
	}
	b.g.Nodes = append(b.g.Nodes, n)
	if b.err == nil {
		if err := InferNode(n); err != nil {
			b.fail(err)
		}
	}
	return n.Outputs
}

// Output marks values as graph outputs, in order.
func (b *Builder) Output(vs ...*Value) { b.g.Outputs = append(b.g.Outputs, vs...) }

// Build returns the verified graph, or the first construction error followed
// by the verifier's findings.
func (b *Builder) Build() (*Graph, error) {
	if b.err != nil {
		return nil, b.err
	}
	if len(b.g.Outputs) == 0 {
		return nil, errors.New("ir: graph " + b.g.Name + " has no outputs")
	}
	if err := Verify(b.g); err != nil {
		return nil, err
	}
	return b.g, nil
}

// IntAttr returns an integer attribute.
func IntAttr(name string, v int64) Attr { return Attr{Name: name, Kind: AttrInt, Int: v} }

// FloatAttr returns a float attribute.
func FloatAttr(name string, v float32) Attr { return Attr{Name: name, Kind: AttrFloat, Float: v} }

// StrAttr returns a string attribute.
func StrAttr(name, v string) Attr { return Attr{Name: name, Kind: AttrString, Str: v} }

// IntsAttr returns an integer-list attribute.
func IntsAttr(name string, v ...int64) Attr { return Attr{Name: name, Kind: AttrInts, Ints: v} }

// FloatsAttr returns a float-list attribute.
func FloatsAttr(name string, v ...float32) Attr { return Attr{Name: name, Kind: AttrFloats, Floats: v} }

// TensorAttr returns a tensor attribute.
func TensorAttr(name string, t *Tensor) Attr { return Attr{Name: name, Kind: AttrTensor, Tensor: t} }
