package ir

import (
	"fmt"
	"strconv"
	"strings"
)

// Dim is one dimension of a shape: a static size (Sym == "" and Size >= 0), a
// symbolic size such as the batch dim "N" (Sym != ""), or unknown (Size < 0, Sym == "").
type Dim struct {
	Size int64
	Sym  string
}

// D returns the static dimension n.
func D(n int64) Dim { return Dim{Size: n} }

// Sym returns the symbolic dimension named s.
func Sym(s string) Dim { return Dim{Sym: s, Size: -1} }

// Unknown is a dimension of unknown size.
var Unknown = Dim{Size: -1}

// Static reports whether d is a known integer size.
func (d Dim) Static() bool { return d.Sym == "" && d.Size >= 0 }

// String formats d as in the .fir syntax: "8", "N" or "?".
func (d Dim) String() string {
	switch {
	case d.Sym != "":
		return d.Sym
	case d.Size < 0:
		return "?"
	}
	return strconv.FormatInt(d.Size, 10)
}

// Shape is a list of dims. A nil Shape means the rank is unknown; an empty
// non-nil Shape is a scalar.
type Shape []Dim

// Static returns the shape of static sizes s (nil if dims is nil, a scalar if empty).
func Static(dims ...int64) Shape {
	s := make(Shape, len(dims))
	for i, d := range dims {
		s[i] = D(d)
	}
	return s
}

// IsStatic reports whether the rank and every dim of s are known integers.
func (s Shape) IsStatic() bool {
	if s == nil {
		return false
	}
	for _, d := range s {
		if !d.Static() {
			return false
		}
	}
	return true
}

// Ints returns the static sizes of s; unknown or symbolic dims are -1.
func (s Shape) Ints() []int64 {
	out := make([]int64, len(s))
	for i, d := range s {
		if d.Static() {
			out[i] = d.Size
		} else {
			out[i] = -1
		}
	}
	return out
}

// Equal reports whether s and t are identical (same rank, same dims, same knownness).
func (s Shape) Equal(t Shape) bool {
	if (s == nil) != (t == nil) || len(s) != len(t) {
		return false
	}
	for i := range s {
		if s[i] != t[i] {
			return false
		}
	}
	return true
}

// String formats s as in the .fir syntax: "[N,3,224,224]", "[]" or "[*]".
func (s Shape) String() string {
	if s == nil {
		return "[*]"
	}
	parts := make([]string, len(s))
	for i, d := range s {
		parts[i] = d.String()
	}
	return "[" + strings.Join(parts, ",") + "]"
}

// Value is an edge of the graph: a graph input, a parameter (Const != nil) or
// the output of exactly one node.
type Value struct {
	Name  string
	DType DType
	Shape Shape
	Const *Tensor // non-nil for parameters (ONNX initializers)
	Doc   string
	Def   *Node  // producing node; nil for graph inputs and parameters
	Extra []byte // front-end data the IR does not interpret (e.g. unknown protobuf fields), kept verbatim
}

// String returns "%name".
func (v *Value) String() string { return "%" + v.Name }

// AttrKind says which field of an Attr holds its value.
type AttrKind uint8

// Attribute kinds.
const (
	AttrInt AttrKind = iota + 1
	AttrFloat
	AttrString
	AttrInts
	AttrFloats
	AttrStrings
	AttrTensor
	AttrRaw // an attribute the IR does not model (e.g. a subgraph), kept as encoded bytes
)

var attrKindNames = [...]string{AttrInt: "int", AttrFloat: "float", AttrString: "string",
	AttrInts: "ints", AttrFloats: "floats", AttrStrings: "strings", AttrTensor: "tensor", AttrRaw: "raw"}

// String returns the kind's name.
func (k AttrKind) String() string {
	if int(k) < len(attrKindNames) && attrKindNames[k] != "" {
		return attrKindNames[k]
	}
	return fmt.Sprintf("attrkind(%d)", uint8(k))
}

// Attr is a named attribute of a node. Kind selects the field that holds the value.
type Attr struct {
	Name   string
	Kind   AttrKind
	Int    int64
	Float  float32
	Str    string
	Ints   []int64
	Floats []float32
	Strs   []string
	Tensor *Tensor
	Raw    []byte // AttrRaw: the front end's encoding, opaque to the IR
}

// Node is one operation. Inputs may contain nil for an omitted optional input.
type Node struct {
	Name    string
	Op      Op
	Inputs  []*Value
	Outputs []*Value
	Attrs   []Attr // in the order given; names unique
	Doc     string
	// Domain and OpType name an opaque node's operator (Op == OpOpaque); for
	// known ops they are empty (the domain is ONNX's default).
	Domain string
	OpType string
	Extra  []byte // front-end data the IR does not interpret, kept verbatim
}

// TypeName returns the op name as users see it: the ONNX op type, or the
// opaque node's "domain.OpType".
func (n *Node) TypeName() string {
	if n.Op == OpOpaque {
		if n.Domain != "" {
			return n.Domain + "." + n.OpType
		}
		return n.OpType
	}
	return n.Op.String()
}

// Attr returns the attribute called name, or nil.
func (n *Node) Attr(name string) *Attr {
	for i := range n.Attrs {
		if n.Attrs[i].Name == name {
			return &n.Attrs[i]
		}
	}
	return nil
}

// SetAttr sets (adding or replacing) attribute a.
func (n *Node) SetAttr(a Attr) {
	if p := n.Attr(a.Name); p != nil {
		*p = a
		return
	}
	n.Attrs = append(n.Attrs, a)
}

// DelAttr removes the attribute called name, if present.
func (n *Node) DelAttr(name string) {
	for i := range n.Attrs {
		if n.Attrs[i].Name == name {
			n.Attrs = append(n.Attrs[:i], n.Attrs[i+1:]...)
			return
		}
	}
}

// Int returns integer attribute name, or its schema default when absent.
func (n *Node) Int(name string) int64 {
	if a := n.Attr(name); a != nil {
		return a.Int
	}
	if s := n.Op.Info().attrSpec(name); s != nil {
		return s.Default.Int
	}
	return 0
}

// Float returns float attribute name, or its schema default when absent.
func (n *Node) Float(name string) float32 {
	if a := n.Attr(name); a != nil {
		return a.Float
	}
	if s := n.Op.Info().attrSpec(name); s != nil {
		return s.Default.Float
	}
	return 0
}

// Str returns string attribute name, or its schema default when absent.
func (n *Node) Str(name string) string {
	if a := n.Attr(name); a != nil {
		return a.Str
	}
	if s := n.Op.Info().attrSpec(name); s != nil {
		return s.Default.Str
	}
	return ""
}

// Ints returns integer-list attribute name, or nil when absent (ONNX list
// defaults depend on the input rank, so callers supply them).
func (n *Node) Ints(name string) []int64 {
	if a := n.Attr(name); a != nil {
		return a.Ints
	}
	return nil
}

// Input returns input i, or nil when it is absent or omitted.
func (n *Node) Input(i int) *Value {
	if i < len(n.Inputs) {
		return n.Inputs[i]
	}
	return nil
}

// OpsetImport is an operator set a model declares (ONNX opset_import).
type OpsetImport struct {
	Domain  string
	Version int64
}

// MetaProp is one metadata key/value pair (ONNX metadata_props).
type MetaProp struct{ Key, Value string }

// Graph is a model: named inputs and outputs, parameters, and nodes in
// topological order. Model-level metadata travels with it so that front ends
// can write back what they read.
type Graph struct {
	Name    string
	Inputs  []*Value
	Outputs []*Value
	Params  []*Value // values with Const set, in a stable order
	Nodes   []*Node

	Doc             string
	ModelDoc        string
	Producer        string
	ProducerVersion string
	ModelDomain     string
	ModelVersion    int64
	IRVersion       int64
	Opsets          []OpsetImport
	Metadata        []MetaProp
	Extra           []byte   // graph-level front-end data the IR does not interpret, kept verbatim
	ModelExtra      []byte   // model-level front-end data the IR does not interpret, kept verbatim
	Remarks         []string // notes left by passes ("fold-bn: %c has 2 users")
}

// Remark records a note about node n for tests and --stats.
func (g *Graph) Remark(n *Node, format string, args ...any) {
	g.Remarks = append(g.Remarks, fmt.Sprintf("node %q: ", n.Name)+fmt.Sprintf(format, args...))
}

// Opset returns the version of the default ONNX domain the graph imports, or 0.
func (g *Graph) Opset() int64 {
	for _, o := range g.Opsets {
		if o.Domain == "" || o.Domain == "ai.onnx" {
			return o.Version
		}
	}
	return 0
}

// Users returns, for every value, the nodes that read it (graph outputs are
// not nodes and are not included).
func (g *Graph) Users() map[*Value][]*Node {
	u := make(map[*Value][]*Node)
	for _, n := range g.Nodes {
		for _, in := range n.Inputs {
			if in != nil {
				u[in] = append(u[in], n)
			}
		}
	}
	return u
}

// Values returns every value of g in definition order: inputs, params, then
// node outputs.
func (g *Graph) Values() []*Value {
	var vs []*Value
	vs = append(vs, g.Inputs...)
	vs = append(vs, g.Params...)
	for _, n := range g.Nodes {
		for _, o := range n.Outputs {
			if o != nil {
				vs = append(vs, o)
			}
		}
	}
	return vs
}

// Param returns the parameter called name, or nil.
func (g *Graph) Param(name string) *Value {
	for _, p := range g.Params {
		if p.Name == name {
			return p
		}
	}
	return nil
}
