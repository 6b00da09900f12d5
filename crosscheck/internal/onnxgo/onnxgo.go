// Package onnxgo decodes ONNX models with github.com/owulveryck/onnx-go.
//
// It lives in its own binary (crosscheck/internal/onnxgodump) because
// onnx-go registers its protobuf messages under the names "onnx.*" in the
// global protobuf registry, as onnxio's bindings do: a binary linking both
// panics at init.
package onnxgo

import (
	"fmt"
	"math"
	"reflect"

	onnx "github.com/owulveryck/onnx-go"
	"gonum.org/v1/gonum/graph"
	"gonum.org/v1/gonum/graph/simple"
	"gorgonia.org/tensor"
)

// Model is what onnx-go reports about a model.
type Model struct {
	Nodes   int            // operations (one per NodeProto)
	OpTypes map[string]int // operations per op type (without domain)
	Inputs  int            // graph inputs that are not initializers
	Outputs int
	Tensors map[string]Tensor // data attached to named values; initializers win over declared types
}

// Tensor is a tensor as onnx-go decoded it.
type Tensor struct {
	Shape  []int
	Values []float64 // the elements converted to float64
}

// backend is an onnx.Backend that records what the decoder builds.
type backend struct {
	*simple.WeightedDirectedGraph
	ops   map[string]int
	nodes int
}

// node is a graph node that carries a name and a tensor.
type node struct {
	id   int64
	name string
	t    tensor.Tensor
}

func (n *node) ID() int64                       { return n.id }
func (n *node) SetName(s string)                { n.name = s }
func (n *node) GetName() string                 { return n.name }
func (n *node) SetTensor(t tensor.Tensor) error { n.t = t; return nil }
func (n *node) GetTensor() tensor.Tensor        { return n.t }

func (b *backend) NewNode() graph.Node {
	return &node{id: b.WeightedDirectedGraph.NewNode().ID()}
}

func (b *backend) ApplyOperation(op onnx.Operation, _ ...graph.Node) error {
	b.ops[op.Name]++
	b.nodes++
	return nil
}

// Decode decodes model with onnx-go (onnx.NewModel + UnmarshalBinary). A
// panic inside onnx-go is returned as an error.
func Decode(model []byte) (m *Model, err error) {
	defer func() {
		if r := recover(); r != nil {
			m, err = nil, fmt.Errorf("onnx-go panicked: %v", r)
		}
	}()
	b := &backend{WeightedDirectedGraph: simple.NewWeightedDirectedGraph(math.MaxFloat64, -1), ops: map[string]int{}}
	gm := onnx.NewModel(b)
	if err := gm.UnmarshalBinary(model); err != nil {
		return nil, fmt.Errorf("onnx-go: %v", err)
	}
	m = &Model{Nodes: b.nodes, OpTypes: b.ops, Inputs: len(gm.Input), Outputs: len(gm.Output), Tensors: map[string]Tensor{}}
	nodes := b.Nodes()
	for nodes.Next() {
		n, ok := nodes.Node().(*node)
		if !ok || n.t == nil || n.name == "" {
			continue
		}
		vals, err := float64s(n.t.Data())
		if err != nil {
			return nil, fmt.Errorf("onnx-go value %q: %v", n.name, err)
		}
		m.Tensors[n.name] = Tensor{Shape: append([]int{}, n.t.Shape()...), Values: vals}
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
