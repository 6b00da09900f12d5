package ir

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// Cost model.
//
// Every figure is for one sample: symbolic dims (the batch "N") and unknown
// dims count as 1, and a value of unknown rank counts as 0 elements. A static
// batch dim counts as it is, so a graph with a static batch of B reports B
// samples' worth; give the batch a symbolic dim for per-sample figures.
//
//   - MACs are multiply-accumulates of Conv, ConvTranspose, Gemm and MatMul
//     only: output elements × (C_in/group × kernel) for Conv, input elements
//     × (C_out/group × kernel) for ConvTranspose, output elements × K for
//     Gemm and MatMul.
//   - FLOPs count every arithmetic operation: a MAC is 2, a bias add 1 per
//     output element (Gemm's alpha and beta scalings are not counted), and other ops a fixed number per output element
//     (flopsPerElem: one per arithmetic step or transcendental function, so
//     Relu 1, Sigmoid 3 for exp, add and divide, BatchNorm 2 for its folded
//     scale and shift); pooling and reductions 1 per input element they read
//     (a window's size per output element). Ops that only move data (shape
//     ops, Pad, Cast, Dropout and Identity at inference) count 0.
//   - BytesRead is the size of every input (activations and weights; Shape
//     reads only metadata, 0); BytesWrite the size of every output.

func init() {
	perElem := func(k int64) func(*Node) Cost {
		return func(n *Node) Cost {
			c := traffic(n)
			c.FLOPs = k * outElems(n)
			return c
		}
	}
	cost := map[Op]func(*Node) Cost{
		OpConv:              costConv,
		OpConvTranspose:     costConvTranspose,
		OpBatchNorm:         perElem(2),
		OpRelu:              perElem(1),
		OpClip:              perElem(2),
		OpLeakyRelu:         perElem(2),
		OpSigmoid:           perElem(3),
		OpHardSigmoid:       perElem(4),
		OpHardSwish:         perElem(5),
		OpTanh:              perElem(1),
		OpErf:               perElem(1),
		OpSqrt:              perElem(1),
		OpAdd:               perElem(1),
		OpSub:               perElem(1),
		OpMul:               perElem(1),
		OpDiv:               perElem(1),
		OpPow:               perElem(1),
		OpConcat:            perElem(0),
		OpSplit:             perElem(0),
		OpSlice:             perElem(0),
		OpMaxPool:           costPool,
		OpAveragePool:       costPool,
		OpGlobalAveragePool: costReduce,
		OpReduceMean:        costReduce,
		OpResize:            costResize,
		OpGemm:              costGemm,
		OpMatMul:            costMatMul,
		OpFlatten:           perElem(0),
		OpReshape:           perElem(0),
		OpTranspose:         perElem(0),
		OpSqueeze:           perElem(0),
		OpUnsqueeze:         perElem(0),
		OpSoftmax:           perElem(5), // max, subtract, exp, sum, divide
		OpDropout:           perElem(0),
		OpIdentity:          perElem(0),
		OpPad:               perElem(0),
		OpShape:             costShape,
		OpGather:            perElem(0),
		OpCast:              perElem(0),
		OpConstant:          perElem(0),
		OpQuantizeLinear:    perElem(3), // scale, round, shift
		OpDequantizeLinear:  perElem(2), // shift, scale
	}
	for op, f := range cost {
		opTable[op].Cost = f
	}
}

// elems returns the per-sample element count of s (symbolic and unknown dims
// count as 1, unknown rank as 0).
func elems(s Shape) int64 {
	if s == nil {
		return 0
	}
	p := int64(1)
	for _, d := range s {
		if d.Static() {
			p *= d.Size
		}
	}
	return p
}

// valueBytes returns the per-sample size of v in bytes.
func valueBytes(v *Value) int64 {
	if v == nil {
		return 0
	}
	return elems(v.Shape) * int64(v.DType.Size())
}

func outElems(n *Node) int64 {
	if len(n.Outputs) == 0 || n.Outputs[0] == nil {
		return 0
	}
	return elems(n.Outputs[0].Shape)
}

// traffic returns the bytes n reads and writes, without arithmetic.
func traffic(n *Node) Cost {
	var c Cost
	for _, in := range n.Inputs {
		c.BytesRead += valueBytes(in)
	}
	for _, o := range n.Outputs {
		c.BytesWrite += valueBytes(o)
	}
	return c
}

// spatialElems returns the product of dims from index 'from' on (static
// dims only), or 0 when s is shorter.
func tailElems(s Shape, from int) int64 {
	if len(s) < from {
		return 0
	}
	return elems(s[from:])
}

func costConv(n *Node) Cost {
	c := traffic(n)
	out := outElems(n)
	c.MACs = out * tailElems(shapeOf(n.Input(1)), 1)
	c.FLOPs = 2 * c.MACs
	if n.Input(2) != nil {
		c.FLOPs += out
	}
	return c
}

func costConvTranspose(n *Node) Cost {
	c := traffic(n)
	c.MACs = elems(shapeOf(n.Input(0))) * tailElems(shapeOf(n.Input(1)), 1)
	c.FLOPs = 2 * c.MACs
	if n.Input(2) != nil {
		c.FLOPs += outElems(n)
	}
	return c
}

func costGemm(n *Node) Cost {
	c := traffic(n)
	k := int64(0)
	if as := shapeOf(n.Input(0)); len(as) == 2 {
		kd := as[1]
		if n.Int("transA") != 0 {
			kd = as[0]
		}
		k = elems(Shape{kd})
	}
	out := outElems(n)
	c.MACs = out * k
	c.FLOPs = 2 * c.MACs
	if n.Input(2) != nil {
		c.FLOPs += out
	}
	return c
}

func costMatMul(n *Node) Cost {
	c := traffic(n)
	k := int64(0)
	if as := shapeOf(n.Input(0)); len(as) > 0 {
		k = elems(as[len(as)-1:])
	}
	c.MACs = outElems(n) * k
	c.FLOPs = 2 * c.MACs
	return c
}

// costPool counts one operation per window element per output element.
func costPool(n *Node) Cost {
	c := traffic(n)
	c.FLOPs = outElems(n) * NumElements(n.Ints("kernel_shape"))
	return c
}

// costReduce counts one operation per input element (sum) and one per output
// element (divide).
func costReduce(n *Node) Cost {
	c := traffic(n)
	c.FLOPs = elems(shapeOf(n.Input(0))) + outElems(n)
	return c
}

// costResize counts a weighted sum over the interpolation taps of each output
// element: 2^r taps for linear and 4^r for cubic, r being the number of axes
// that change size, 2 FLOPs a tap; nearest only copies.
func costResize(n *Node) Cost {
	c := traffic(n)
	xs := shapeOf(n.Input(0))
	var ys Shape
	if len(n.Outputs) > 0 && n.Outputs[0] != nil {
		ys = n.Outputs[0].Shape
	}
	base := int64(0)
	switch n.Str("mode") {
	case "linear":
		base = 2
	case "cubic":
		base = 4
	}
	if base == 0 || len(xs) != len(ys) {
		return c
	}
	taps := int64(1)
	for i := range xs {
		if xs[i] != ys[i] {
			taps *= base
		}
	}
	c.FLOPs = 2 * taps * outElems(n)
	return c
}

func costShape(n *Node) Cost {
	c := traffic(n)
	c.BytesRead = 0
	return c
}

// Report is the cost analysis of a whole graph (see Analyze).
type Report struct {
	Nodes []NodeCost `json:"nodes"`
	// MACs and FLOPs are totals over the nodes, per sample.
	MACs  int64 `json:"macs"`
	FLOPs int64 `json:"flops"`
	// Params counts weights in deploy form (see Analyze).
	Params int64 `json:"params"`
	// WeightBytes is the size of all constant data: every parameter and the
	// value of every Constant node, split by dtype in WeightBytesByDType
	// (marshalled to JSON with dtype names as keys: {"f32": 1024}).
	WeightBytes        int64           `json:"weight_bytes"`
	WeightBytesByDType map[DType]int64 `json:"weight_bytes_by_dtype"`
	// PeakActivationBytes is the largest total size of the activations live
	// at one time when the nodes run in graph order, per sample.
	PeakActivationBytes int64 `json:"peak_activation_bytes"`
	// PeakMemoryBytes is PeakActivationBytes + WeightBytes.
	PeakMemoryBytes int64 `json:"peak_memory_bytes"`
	// Incomplete names the nodes with an output of unknown rank or dims:
	// their figures count unknown dims as 1 and are lower bounds.
	Incomplete []string `json:"incomplete,omitempty"`
}

// NodeCost is one node's row of a Report.
type NodeCost struct {
	Name string `json:"name"`
	Op   string `json:"op"` // the ONNX op type (or an opaque node's domain.type)
	Cost
	// Params counts the weights this node contributes in deploy form: the
	// first node to use a parameter counts it.
	Params int64 `json:"params"`
	// OutputShape is the shape of the node's outputs, "[N,6,28,28]", several
	// separated by spaces.
	OutputShape string `json:"output_shape"`
	// LiveBytes is the total size of the activations live while the node
	// runs: its inputs, its outputs and every value still needed later.
	LiveBytes int64 `json:"live_bytes"`
	// FoldedInto names the Conv a BatchNormalization folds into in deploy
	// form; empty otherwise.
	FoldedInto string `json:"folded_into,omitempty"`
}

// reportJSON is Report's JSON form, with dtype names as map keys.
type reportJSON struct {
	*reportAlias
	WeightBytesByDType map[string]int64 `json:"weight_bytes_by_dtype"`
}

type reportAlias Report

// MarshalJSON encodes r with dtype names ("f32") as the keys of
// weight_bytes_by_dtype.
func (r *Report) MarshalJSON() ([]byte, error) {
	m := make(map[string]int64, len(r.WeightBytesByDType))
	for dt, b := range r.WeightBytesByDType {
		m[dt.String()] = b
	}
	return json.Marshal(reportJSON{reportAlias: (*reportAlias)(r), WeightBytesByDType: m})
}

// UnmarshalJSON decodes the form MarshalJSON writes.
func (r *Report) UnmarshalJSON(data []byte) error {
	aux := reportJSON{reportAlias: (*reportAlias)(r)}
	if err := json.Unmarshal(data, &aux); err != nil {
		return err
	}
	r.WeightBytesByDType = make(map[DType]int64, len(aux.WeightBytesByDType))
	for name, b := range aux.WeightBytesByDType {
		dt, ok := ParseDType(name)
		if !ok {
			return fmt.Errorf("ir: report: unknown dtype %q in weight_bytes_by_dtype", name)
		}
		r.WeightBytesByDType[dt] = b
	}
	return nil
}

// isConstData reports whether v is constant data (a parameter or a Constant
// node's output) rather than an activation.
func isConstData(v *Value) bool {
	return v.Const != nil || (v.Def != nil && v.Def.Op == OpConstant)
}

// Analyze computes the per-node and total cost of g, whose shapes must
// already be inferred (Builder and the importers do so).
//
// Params are counted in deploy form, the convention of the reference models:
//   - the elements of each constant weight input of Conv, ConvTranspose,
//     Gemm and MatMul (the table's TrainableWeights positions), whatever
//     its dtype, also when it reaches the node through DequantizeLinear,
//     Identity or Cast (so int8 weights count);
//   - float parameters consumed by Add, Sub, Mul and Div (e.g. the bias of a
//     MatMul);
//   - a BatchNormalization whose input is produced by a Conv or
//     ConvTranspose folds into it: it adds C bias elements if that conv has
//     no bias, else nothing; any other BatchNormalization counts 2×C (scale
//     and shift);
//   - nothing else: shape and index inputs, quantization scales and zero
//     points, Clip bounds, Resize scales, Pad values.
//
// Each parameter is counted once, however many nodes use it.
//
// Activation liveness follows node order: a value is live from the node
// that defines it (graph inputs from the start) to its last use (graph
// outputs to the end); parameters and Constant outputs are not activations.
func Analyze(g *Graph) (*Report, error) {
	if g == nil {
		return nil, errors.New("ir: analyze: nil graph")
	}
	r := &Report{Nodes: []NodeCost{}, WeightBytesByDType: make(map[DType]int64)}
	addConst := func(t *Tensor) {
		b := t.Bytes()
		r.WeightBytes += b
		r.WeightBytesByDType[t.DType] += b
	}
	for _, p := range g.Params {
		if p == nil || p.Const == nil {
			return nil, fmt.Errorf("ir: analyze: parameter %v has no data", p)
		}
		addConst(p.Const)
	}
	counted := make(map[*Tensor]bool)
	biased := make(map[*Node]bool) // convs given a bias by a folded BatchNorm
	for i, n := range g.Nodes {
		if n == nil {
			return nil, fmt.Errorf("ir: analyze: node %d is nil", i)
		}
		nc := NodeCost{Name: n.Name, Op: n.TypeName()}
		if f := n.Op.Info().Cost; f != nil {
			nc.Cost = f(n)
		} else {
			nc.Cost = traffic(n)
		}
		if n.Op == OpConstant {
			if t := constantTensor(n); t != nil {
				addConst(t)
			}
		}
		nc.Params, nc.FoldedInto = nodeParams(n, counted, biased)
		var shapes []string
		incomplete := false
		for _, o := range n.Outputs {
			if o == nil {
				continue
			}
			shapes = append(shapes, o.Shape.String())
			if o.Shape == nil || strings.Contains(o.Shape.String(), "?") {
				incomplete = true
			}
		}
		if incomplete {
			r.Incomplete = append(r.Incomplete, n.Name)
		}
		nc.OutputShape = strings.Join(shapes, " ")
		r.MACs += nc.MACs
		r.FLOPs += nc.FLOPs
		r.Params += nc.Params
		r.Nodes = append(r.Nodes, nc)
	}
	live := liveness(g)
	for i := range r.Nodes {
		r.Nodes[i].LiveBytes = live[i+1]
	}
	for _, b := range live {
		r.PeakActivationBytes = max(r.PeakActivationBytes, b)
	}
	r.PeakMemoryBytes = r.PeakActivationBytes + r.WeightBytes
	return r, nil
}

// weightData returns the constant tensor behind weight input v, looking
// through DequantizeLinear, Identity and Cast.
func weightData(v *Value) *Tensor {
	for depth := 0; v != nil && depth < 8; depth++ {
		if t := ConstValue(v); t != nil {
			return t
		}
		if v.Def == nil {
			return nil
		}
		switch v.Def.Op {
		case OpDequantizeLinear, OpIdentity, OpCast:
			v = v.Def.Input(0)
		default:
			return nil
		}
	}
	return nil
}

// nodeParams returns the deploy-form parameters n contributes (see Analyze)
// and, for a BatchNormalization folded into a conv, that conv's name.
func nodeParams(n *Node, counted map[*Tensor]bool, biased map[*Node]bool) (int64, string) {
	count := func(t *Tensor) int64 {
		if t == nil || counted[t] {
			return 0
		}
		counted[t] = true
		return t.Len()
	}
	switch n.Op {
	case OpBatchNorm:
		c := int64(0)
		if s := shapeOf(n.Input(1)); len(s) == 1 && s[0].Static() {
			c = s[0].Size
		} else if xs := shapeOf(n.Input(0)); len(xs) >= 2 && xs[1].Static() {
			c = xs[1].Size
		}
		if x := n.Input(0); x != nil && x.Def != nil && (x.Def.Op == OpConv || x.Def.Op == OpConvTranspose) {
			conv := x.Def
			if conv.Input(2) != nil || biased[conv] {
				return 0, conv.Name
			}
			biased[conv] = true
			return c, conv.Name
		}
		return 2 * c, ""
	case OpAdd, OpSub, OpMul, OpDiv:
		var p int64
		for _, in := range n.Inputs {
			if in != nil && in.Const != nil && in.Const.DType.IsFloat() {
				p += count(in.Const)
			}
		}
		return p, ""
	}
	var p int64
	for _, i := range n.Op.Info().TrainableWeights {
		p += count(weightData(n.Input(i)))
	}
	return p, ""
}

// liveness returns the activation bytes live at each moment of running g's
// nodes in order: index 0 is the start (graph inputs), i+1 is while node i
// runs, and the last index is the end (graph outputs).
func liveness(g *Graph) []int64 {
	end := len(g.Nodes) + 1
	first := make(map[*Value]int)
	last := make(map[*Value]int)
	var order []*Value
	see := func(v *Value, t int) {
		if _, ok := first[v]; !ok {
			first[v] = t
			order = append(order, v)
		}
		last[v] = max(last[v], t)
	}
	for _, v := range g.Inputs {
		if v != nil {
			see(v, 0)
		}
	}
	for i, n := range g.Nodes {
		for _, v := range n.Inputs {
			if v != nil && !isConstData(v) {
				see(v, i+1)
			}
		}
		for _, v := range n.Outputs {
			if v != nil && !isConstData(v) {
				see(v, i+1)
			}
		}
	}
	for _, v := range g.Outputs {
		if v != nil && !isConstData(v) {
			see(v, end)
		}
	}
	delta := make([]int64, end+2)
	for _, v := range order {
		b := valueBytes(v)
		delta[first[v]] += b
		delta[last[v]+1] -= b
	}
	live := make([]int64, end+1)
	var sum int64
	for t := range live {
		sum += delta[t]
		live[t] = sum
	}
	return live
}
