package ir

import (
	"bytes"
	"fmt"
	"math"
	"slices"
)

// Equal reports whether a and b are the same graph, down to the bits, and
// otherwise returns an error describing the first difference. It compares
// names, metadata, opsets, inputs, parameters (data bit for bit, NaN
// payloads and -0 included, and Init recipes), nodes (op, opaque
// domain/type, name, doc, attributes in order with their kinds, extra
// bytes), every value's dtype, shape (nil, unknown rank, differs from empty,
// a scalar), doc and extra bytes, and which value each edge refers to.
// A nil slice equals an empty one except for shapes. Remarks are not compared:
// they are diagnostics, not IR.
func Equal(a, b *Graph) error {
	if a == nil || b == nil {
		if a == b {
			return nil
		}
		return fmt.Errorf("ir: graphs differ: one is nil")
	}
	e := &equaler{ida: valueIDs(a), idb: valueIDs(b), nodes: make(map[*Node]int)}
	for _, g := range []*Graph{a, b} {
		for i, n := range g.Nodes {
			e.nodes[n] = i
		}
	}
	if err := e.graph(a, b); err != nil {
		return fmt.Errorf("ir: graphs differ: %w", err)
	}
	return nil
}

type equaler struct {
	ida, idb map[*Value]string // where each value is defined
	nodes    map[*Node]int     // position of every node of both graphs
}

// valueIDs names each value by where g defines it ("input 0", "node 3
// output 1"), so that edges compare by position rather than by pointer.
func valueIDs(g *Graph) map[*Value]string {
	ids := make(map[*Value]string)
	for i, v := range g.Inputs {
		ids[v] = fmt.Sprintf("input %d", i)
	}
	for i, v := range g.Params {
		ids[v] = fmt.Sprintf("param %d", i)
	}
	for i, n := range g.Nodes {
		if n == nil {
			continue
		}
		for j, v := range n.Outputs {
			if v != nil {
				ids[v] = fmt.Sprintf("node %d output %d", i, j)
			}
		}
	}
	return ids
}

func (e *equaler) graph(a, b *Graph) error {
	for _, f := range []struct {
		name string
		x, y any
	}{
		{"name", a.Name, b.Name}, {"doc", a.Doc, b.Doc}, {"model doc", a.ModelDoc, b.ModelDoc},
		{"producer", a.Producer, b.Producer}, {"producer version", a.ProducerVersion, b.ProducerVersion},
		{"model domain", a.ModelDomain, b.ModelDomain}, {"model version", a.ModelVersion, b.ModelVersion},
		{"ir version", a.IRVersion, b.IRVersion},
	} {
		if f.x != f.y {
			return fmt.Errorf("graph %s: %q vs %q", f.name, fmt.Sprint(f.x), fmt.Sprint(f.y))
		}
	}
	if !slices.Equal(a.Opsets, b.Opsets) {
		return fmt.Errorf("opsets: %v vs %v", a.Opsets, b.Opsets)
	}
	if !slices.Equal(a.Metadata, b.Metadata) {
		return fmt.Errorf("metadata: %q vs %q", a.Metadata, b.Metadata)
	}
	if !bytes.Equal(a.Extra, b.Extra) {
		return fmt.Errorf("graph extra bytes: %x vs %x", a.Extra, b.Extra)
	}
	if !bytes.Equal(a.ModelExtra, b.ModelExtra) {
		return fmt.Errorf("model extra bytes: %x vs %x", a.ModelExtra, b.ModelExtra)
	}
	if err := e.values("input", a.Inputs, b.Inputs); err != nil {
		return err
	}
	if err := e.values("param", a.Params, b.Params); err != nil {
		return err
	}
	if len(a.Nodes) != len(b.Nodes) {
		return fmt.Errorf("%d nodes vs %d", len(a.Nodes), len(b.Nodes))
	}
	for i := range a.Nodes {
		if err := e.node(a.Nodes[i], b.Nodes[i]); err != nil {
			if n := a.Nodes[i]; n != nil {
				return fmt.Errorf("node %d %q (%s): %w", i, n.Name, n.TypeName(), err)
			}
			return fmt.Errorf("node %d: %w", i, err)
		}
	}
	return e.refs("graph outputs", a.Outputs, b.Outputs)
}

func (e *equaler) values(what string, a, b []*Value) error {
	if len(a) != len(b) {
		return fmt.Errorf("%d %ss vs %d", len(a), what, len(b))
	}
	for i := range a {
		if err := e.value(a[i], b[i]); err != nil {
			return fmt.Errorf("%s %d: %w", what, i, err)
		}
	}
	return nil
}

func (e *equaler) value(a, b *Value) error {
	switch {
	case a == nil || b == nil:
		if a != b {
			return fmt.Errorf("%s vs %s", refName(a), refName(b))
		}
		return nil
	case a.Name != b.Name:
		return fmt.Errorf("name %q vs %q", a.Name, b.Name)
	case a.DType != b.DType:
		return fmt.Errorf("value %s: dtype %v vs %v", a, a.DType, b.DType)
	case !a.Shape.Equal(b.Shape):
		return fmt.Errorf("value %s: shape %s vs %s", a, shapeDetail(a.Shape), shapeDetail(b.Shape))
	case a.Doc != b.Doc:
		return fmt.Errorf("value %s: doc %q vs %q", a, a.Doc, b.Doc)
	case !bytes.Equal(a.Extra, b.Extra):
		return fmt.Errorf("value %s: extra bytes %x vs %x", a, a.Extra, b.Extra)
	case (a.Const == nil) != (b.Const == nil):
		return fmt.Errorf("value %s: param data present %v vs %v", a, a.Const != nil, b.Const != nil)
	}
	if a.Const != nil {
		if err := tensorDiff(a.Const, b.Const); err != nil {
			return fmt.Errorf("value %s: %w", a, err)
		}
	}
	if da, db := e.defID(a), e.defID(b); da != db {
		return fmt.Errorf("value %s: defined by %s vs %s", a, da, db)
	}
	return nil
}

// defID describes v.Def by its position in its graph.
func (e *equaler) defID(v *Value) string {
	if v.Def == nil {
		return "nothing"
	}
	if i, ok := e.nodes[v.Def]; ok {
		return fmt.Sprintf("node %d", i)
	}
	return fmt.Sprintf("node %q outside the graph", v.Def.Name)
}

func (e *equaler) node(a, b *Node) error {
	switch {
	case a == nil || b == nil:
		if a != b {
			return fmt.Errorf("nil node vs non-nil")
		}
		return nil
	case a.Op != b.Op:
		return fmt.Errorf("op %v vs %v", a.Op, b.Op)
	case a.Domain != b.Domain || a.OpType != b.OpType:
		return fmt.Errorf("op type %q.%q vs %q.%q", a.Domain, a.OpType, b.Domain, b.OpType)
	case a.Name != b.Name:
		return fmt.Errorf("name %q vs %q", a.Name, b.Name)
	case a.Doc != b.Doc:
		return fmt.Errorf("doc %q vs %q", a.Doc, b.Doc)
	case !bytes.Equal(a.Extra, b.Extra):
		return fmt.Errorf("extra bytes %x vs %x", a.Extra, b.Extra)
	case len(a.Attrs) != len(b.Attrs):
		return fmt.Errorf("%d attributes vs %d", len(a.Attrs), len(b.Attrs))
	}
	for i := range a.Attrs {
		if err := attrDiff(&a.Attrs[i], &b.Attrs[i]); err != nil {
			return fmt.Errorf("attribute %d %q: %w", i, a.Attrs[i].Name, err)
		}
	}
	if err := e.refs("inputs", a.Inputs, b.Inputs); err != nil {
		return err
	}
	return e.values("output", a.Outputs, b.Outputs)
}

// refs compares edges: each side must name the value defined at the same
// place (or, for values defined nowhere in the graph, the same name).
func (e *equaler) refs(what string, a, b []*Value) error {
	if len(a) != len(b) {
		return fmt.Errorf("%d %s vs %d", len(a), what, len(b))
	}
	for i := range a {
		if ra, rb := e.refID(e.ida, a[i]), e.refID(e.idb, b[i]); ra != rb {
			return fmt.Errorf("%s %d: %s vs %s", what, i, ra, rb)
		}
	}
	return nil
}

func (e *equaler) refID(ids map[*Value]string, v *Value) string {
	if v == nil {
		return "omitted"
	}
	if id, ok := ids[v]; ok {
		return fmt.Sprintf("%s (%s)", v, id)
	}
	return fmt.Sprintf("%s (defined outside the graph)", v)
}

func refName(v *Value) string {
	if v == nil {
		return "omitted"
	}
	return v.String()
}

// shapeDetail formats s, telling nil (unknown rank) and odd dims apart.
func shapeDetail(s Shape) string {
	if s == nil {
		return "[*] (nil)"
	}
	return fmt.Sprintf("%s %v", s, []Dim(s))
}

func attrDiff(a, b *Attr) error {
	switch {
	case a.Name != b.Name:
		return fmt.Errorf("name %q vs %q", a.Name, b.Name)
	case a.Kind != b.Kind:
		return fmt.Errorf("kind %v vs %v", a.Kind, b.Kind)
	case a.Int != b.Int:
		return fmt.Errorf("int %d vs %d", a.Int, b.Int)
	case math.Float32bits(a.Float) != math.Float32bits(b.Float):
		return fmt.Errorf("float %s vs %s (bits %#x vs %#x)", formatF32(a.Float), formatF32(b.Float),
			math.Float32bits(a.Float), math.Float32bits(b.Float))
	case a.Str != b.Str:
		return fmt.Errorf("string %q vs %q", a.Str, b.Str)
	case !slices.Equal(a.Ints, b.Ints):
		return fmt.Errorf("ints %v vs %v", a.Ints, b.Ints)
	case !f32sEqual(a.Floats, b.Floats):
		return fmt.Errorf("floats %v vs %v", a.Floats, b.Floats)
	case !slices.Equal(a.Strs, b.Strs):
		return fmt.Errorf("strings %q vs %q", a.Strs, b.Strs)
	case !bytes.Equal(a.Raw, b.Raw):
		return fmt.Errorf("raw bytes %x vs %x", a.Raw, b.Raw)
	case (a.Tensor == nil) != (b.Tensor == nil):
		return fmt.Errorf("tensor present %v vs %v", a.Tensor != nil, b.Tensor != nil)
	case a.Tensor != nil:
		return tensorDiff(a.Tensor, b.Tensor)
	}
	return nil
}

// tensorDiff compares every field of two tensors bit for bit.
func tensorDiff(a, b *Tensor) error {
	switch {
	case a.DType != b.DType:
		return fmt.Errorf("tensor dtype %v vs %v", a.DType, b.DType)
	case !slices.Equal(a.Dims, b.Dims):
		return fmt.Errorf("tensor dims %v vs %v", a.Dims, b.Dims)
	case !slices.Equal(a.I64, b.I64):
		return fmt.Errorf("tensor i64 data %s", firstDiff(len(a.I64), len(b.I64), func(i int) bool { return a.I64[i] == b.I64[i] }))
	case !bytes.Equal(a.Raw, b.Raw):
		return fmt.Errorf("tensor raw data %s", firstDiff(len(a.Raw), len(b.Raw), func(i int) bool { return a.Raw[i] == b.Raw[i] }))
	case !slices.Equal(a.Strs, b.Strs):
		return fmt.Errorf("tensor string data %s", firstDiff(len(a.Strs), len(b.Strs), func(i int) bool { return a.Strs[i] == b.Strs[i] }))
	case (a.Init == nil) != (b.Init == nil) || a.Init != nil && !initEqual(*a.Init, *b.Init):
		return fmt.Errorf("tensor recipe %s vs %s", initText(a.Init), initText(b.Init))
	}
	if !f32sEqual(a.F32, b.F32) {
		return fmt.Errorf("tensor f32 data %s", firstDiff(len(a.F32), len(b.F32), func(i int) bool {
			return math.Float32bits(a.F32[i]) == math.Float32bits(b.F32[i])
		}))
	}
	return nil
}

func initEqual(a, b Init) bool {
	return a.Kind == b.Kind && a.Seed == b.Seed && a.Abs == b.Abs &&
		math.Float64bits(a.A) == math.Float64bits(b.A) && math.Float64bits(a.B) == math.Float64bits(b.B)
}

func initText(in *Init) string {
	if in == nil {
		return "none"
	}
	return recipeText(in)
}

func f32sEqual(a, b []float32) bool {
	return slices.EqualFunc(a, b, func(x, y float32) bool { return math.Float32bits(x) == math.Float32bits(y) })
}

// firstDiff describes where two sequences of lengths na and nb first differ.
func firstDiff(na, nb int, same func(i int) bool) string {
	for i := 0; i < min(na, nb); i++ {
		if !same(i) {
			return fmt.Sprintf("differs at element %d", i)
		}
	}
	return fmt.Sprintf("has %d elements vs %d", na, nb)
}
