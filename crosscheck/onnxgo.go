package crosscheck

import (
	"fmt"
	"math"
	"reflect"
	"sort"
	"strings"

	onnx "github.com/owulveryck/onnx-go"
	"gonum.org/v1/gonum/graph"
	"gonum.org/v1/gonum/graph/simple"
	"gorgonia.org/tensor"

	"github.com/ferminets/fermi/ir"
)

// GoModel is what onnx-go reports about a model.
type GoModel struct {
	Nodes   int            // operations (one per NodeProto)
	OpTypes map[string]int // operations per op type (without domain)
	Inputs  int            // graph inputs that are not initializers
	Outputs int
	Tensors map[string]GoTensor // data onnx-go attached to named values; initializers win over declared types
}

// GoTensor is a tensor as onnx-go decoded it.
type GoTensor struct {
	Shape  []int
	Values []float64 // the elements converted to float64
}

// goBackend is an onnx.Backend that records what the decoder builds.
type goBackend struct {
	*simple.WeightedDirectedGraph
	ops   map[string]int
	nodes int
}

// goNode is a graph node that carries a name and a tensor.
type goNode struct {
	id   int64
	name string
	t    tensor.Tensor
}

func (n *goNode) ID() int64                       { return n.id }
func (n *goNode) SetName(s string)                { n.name = s }
func (n *goNode) GetName() string                 { return n.name }
func (n *goNode) SetTensor(t tensor.Tensor) error { n.t = t; return nil }
func (n *goNode) GetTensor() tensor.Tensor        { return n.t }

func (b *goBackend) NewNode() graph.Node {
	return &goNode{id: b.WeightedDirectedGraph.NewNode().ID()}
}

func (b *goBackend) ApplyOperation(op onnx.Operation, _ ...graph.Node) error {
	b.ops[op.Name]++
	b.nodes++
	return nil
}

// DecodeGo decodes model with onnx-go (onnx.NewModel + UnmarshalBinary).
// A panic inside onnx-go is returned as an error.
func DecodeGo(model []byte) (m *GoModel, err error) {
	defer func() {
		if r := recover(); r != nil {
			m, err = nil, fmt.Errorf("crosscheck: onnx-go panicked: %v", r)
		}
	}()
	b := &goBackend{WeightedDirectedGraph: simple.NewWeightedDirectedGraph(math.MaxFloat64, -1), ops: map[string]int{}}
	gm := onnx.NewModel(b)
	if err := gm.UnmarshalBinary(model); err != nil {
		return nil, fmt.Errorf("crosscheck: onnx-go: %v", err)
	}
	m = &GoModel{Nodes: b.nodes, OpTypes: b.ops, Inputs: len(gm.Input), Outputs: len(gm.Output), Tensors: map[string]GoTensor{}}
	nodes := b.Nodes()
	for nodes.Next() {
		n, ok := nodes.Node().(*goNode)
		if !ok || n.t == nil || n.name == "" {
			continue
		}
		vals, err := float64s(n.t.Data())
		if err != nil {
			return nil, fmt.Errorf("crosscheck: onnx-go value %q: %v", n.name, err)
		}
		m.Tensors[n.name] = GoTensor{Shape: append([]int{}, n.t.Shape()...), Values: vals}
	}
	return m, nil
}

// float64s converts a tensor's backing data (a slice, or one element for a
// scalar) to float64.
func float64s(data any) ([]float64, error) {
	v := reflect.ValueOf(data)
	if v.Kind() != reflect.Slice {
		v = reflect.Append(reflect.MakeSlice(reflect.SliceOf(v.Type()), 0, 1), v)
	}
	out := make([]float64, v.Len())
	for i := range out {
		e := v.Index(i)
		switch e.Kind() {
		case reflect.Float32, reflect.Float64:
			out[i] = e.Float()
		case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
			out[i] = float64(e.Int())
		case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
			out[i] = float64(e.Uint())
		case reflect.Bool:
			if e.Bool() {
				out[i] = 1
			}
		default:
			return nil, fmt.Errorf("element type %v", e.Type())
		}
	}
	return out, nil
}

// CompareGo reports every difference between g and what onnx-go decoded from
// g's encoding: node count, op-type histogram, input and output counts, and
// each parameter's presence, shape and values.
func CompareGo(g *ir.Graph, m *GoModel) error {
	var probs []string
	if m.Nodes != len(g.Nodes) {
		probs = append(probs, fmt.Sprintf("%d nodes, onnx-go %d", len(g.Nodes), m.Nodes))
	}
	ours := map[string]int{}
	for _, n := range g.Nodes {
		if n.Op == ir.OpOpaque {
			ours[n.OpType]++
		} else {
			ours[n.Op.String()]++
		}
	}
	if !reflect.DeepEqual(ours, m.OpTypes) {
		probs = append(probs, fmt.Sprintf("op types %s, onnx-go %s", histogram(ours), histogram(m.OpTypes)))
	}
	if m.Inputs != len(g.Inputs) {
		probs = append(probs, fmt.Sprintf("%d inputs, onnx-go %d", len(g.Inputs), m.Inputs))
	}
	if m.Outputs != len(g.Outputs) {
		probs = append(probs, fmt.Sprintf("%d outputs, onnx-go %d", len(g.Outputs), m.Outputs))
	}
	for _, p := range g.Params {
		gt, ok := m.Tensors[p.Name]
		if !ok {
			probs = append(probs, fmt.Sprintf("parameter %q missing in onnx-go", p.Name))
			continue
		}
		if !sameShape(p.Const.Dims, gt.Shape) {
			probs = append(probs, fmt.Sprintf("parameter %q: shape %v, onnx-go %v", p.Name, p.Const.Dims, gt.Shape))
			continue
		}
		if want := p.Const.Float64s(); !sameValues(want, gt.Values) {
			probs = append(probs, fmt.Sprintf("parameter %q: values differ from onnx-go's", p.Name))
		}
	}
	if len(probs) > 0 {
		return fmt.Errorf("crosscheck: onnx-go disagrees: %s", strings.Join(probs, "; "))
	}
	return nil
}

func histogram(h map[string]int) string {
	keys := make([]string, 0, len(h))
	for k := range h {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s×%d", k, h[k])
	}
	return "{" + strings.Join(parts, " ") + "}"
}

// sameShape compares dims, treating gorgonia's scalar shapes ([] or [1]) as
// equal to a rank-0 or one-element rank-1 shape.
func sameShape(dims []int64, shape []int) bool {
	if len(dims) <= 1 && len(shape) <= 1 && ir.NumElements(dims) == 1 {
		n := 1
		for _, s := range shape {
			n *= s
		}
		return n == 1
	}
	if len(dims) != len(shape) {
		return false
	}
	for i := range dims {
		if dims[i] != int64(shape[i]) {
			return false
		}
	}
	return true
}

func sameValues(a, b []float64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] && !(math.IsNaN(a[i]) && math.IsNaN(b[i])) {
			return false
		}
	}
	return true
}
