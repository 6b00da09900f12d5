package ir

import (
	"errors"
	"fmt"
	"math"
	"strings"
)

// Shape inference.
//
// Every core op has an Infer function (installed into opTable below) that
// sets the dtype and shape of the node's outputs from its inputs and
// attributes, with ONNX opset 13 semantics. The rules for dims:
//
//   - Static dims are computed exactly; invalid inputs (wrong rank, channel
//     mismatch, bad axis, incompatible broadcast, bad attribute) are errors.
//   - Symbolic dims (the batch "N") flow through every op that copies a dim
//     (elementwise, conv and pool batch dims, concat on other axes, reshape
//     0 and -1 when the arithmetic says so). Broadcasting N with 1 gives N.
//   - A dim that cannot be determined is Unknown; a shape whose rank cannot
//     be determined is nil. Unknown inputs never cause errors.
//
// Shape-valued inputs (Reshape shape, Slice starts..., Squeeze/Unsqueeze
// axes, Split sizes, Pad pads, Resize scales/sizes, Clip bounds) are read
// from parameters and Constant nodes, and also from the small integer
// subgraphs exporters build from Shape (Shape → Gather → Unsqueeze → Concat,
// with integer arithmetic); see shapeElems.

func init() {
	infer := map[Op]func(*Node) error{
		OpConv:              inferConv,
		OpConvTranspose:     inferConvTranspose,
		OpBatchNorm:         inferBatchNorm,
		OpRelu:              inferUnary(false),
		OpClip:              inferClip,
		OpLeakyRelu:         inferUnary(false),
		OpSigmoid:           inferUnary(true),
		OpHardSigmoid:       inferUnary(true),
		OpHardSwish:         inferUnary(true),
		OpTanh:              inferUnary(true),
		OpErf:               inferUnary(true),
		OpSqrt:              inferUnary(true),
		OpAdd:               inferBinary,
		OpSub:               inferBinary,
		OpMul:               inferBinary,
		OpDiv:               inferBinary,
		OpPow:               inferBinary,
		OpConcat:            inferConcat,
		OpSplit:             inferSplit,
		OpSlice:             inferSlice,
		OpMaxPool:           inferPool,
		OpAveragePool:       inferPool,
		OpGlobalAveragePool: inferGlobalPool,
		OpReduceMean:        inferReduceMean,
		OpResize:            inferResize,
		OpGemm:              inferGemm,
		OpMatMul:            inferMatMul,
		OpFlatten:           inferFlatten,
		OpReshape:           inferReshape,
		OpTranspose:         inferTranspose,
		OpSqueeze:           inferSqueeze,
		OpUnsqueeze:         inferUnsqueeze,
		OpSoftmax:           inferSoftmax,
		OpDropout:           inferDropout,
		OpIdentity:          inferUnary(false),
		OpPad:               inferPad,
		OpShape:             inferShape,
		OpGather:            inferGather,
		OpCast:              inferCast,
		OpConstant:          inferConstant,
		OpQuantizeLinear:    inferQuantize,
		OpDequantizeLinear:  inferDequantize,
	}
	for op, f := range infer {
		opTable[op].Infer = f
	}
}

// InferNode sets the dtype and shape of n's outputs from its inputs and
// attributes, using the op table's Infer function. Opaque nodes keep the
// types their outputs already declare.
func InferNode(n *Node) error {
	if n.Op == OpOpaque {
		return nil
	}
	info := n.Op.Info()
	if info.Infer == nil {
		return fmt.Errorf("ir: node %q (%s): no shape inference", n.Name, n.TypeName())
	}
	err := checkArity(n, info)
	if err == nil {
		err = info.Infer(n)
	}
	if err == nil {
		err = checkInferred(n)
	}
	if err != nil {
		if msg := err.Error(); len(msg) > maxErrorText {
			// A hostile attribute list (perm of a million values) must not
			// turn into a megabyte of error text.
			cut := strings.ToValidUTF8(msg[:maxErrorText], "")
			return fmt.Errorf("ir: node %q (%s): %s … (%d bytes more)", n.Name, n.TypeName(), cut, len(msg)-len(cut))
		}
		return fmt.Errorf("ir: node %q (%s): %w", n.Name, n.TypeName(), err)
	}
	return nil
}

// checkInferred rejects inferred dims below -1: arithmetic on hostile
// attributes or dims (huge pads, kernels, strides) that overflowed.
func checkInferred(n *Node) error {
	for i, o := range n.Outputs {
		if o == nil {
			continue
		}
		for j, d := range o.Shape {
			if d.Sym == "" && d.Size < -1 {
				o.Shape = nil
				return fmt.Errorf("output %d: dim %d has invalid size %d (overflow)", i, j, d.Size)
			}
		}
	}
	return nil
}

// maxErrorText bounds the length of one inference error's message.
const maxErrorText = 400

// InferShapes runs InferNode over g's nodes in order. It does not stop at the
// first failure: a node whose inference fails gets outputs of unknown type
// and shape, later nodes are still inferred, and every failure is returned
// (joined, in node order).
func InferShapes(g *Graph) error {
	var errs []error
	for _, n := range g.Nodes {
		if n == nil {
			errs = append(errs, errors.New("ir: nil node in graph"))
			continue
		}
		if err := InferNode(n); err != nil {
			errs = append(errs, err)
			for _, o := range n.Outputs {
				if o != nil {
					o.DType, o.Shape = Undefined, nil
				}
			}
		}
	}
	return errors.Join(errs...)
}

// checkArity checks n's input and output counts against its table row.
// Trailing omitted (nil) inputs do not count.
func checkArity(n *Node, info *OpInfo) error {
	nin := len(n.Inputs)
	for nin > 0 && n.Inputs[nin-1] == nil {
		nin--
	}
	if nin < info.MinIn || (info.MaxIn >= 0 && nin > info.MaxIn) {
		return fmt.Errorf("has %d inputs, want %s", nin, arity(info.MinIn, info.MaxIn))
	}
	for i := 0; i < info.MinIn; i++ {
		if n.Inputs[i] == nil {
			return fmt.Errorf("required input %d is missing", i)
		}
	}
	if len(n.Outputs) < info.MinOut || (info.MaxOut >= 0 && len(n.Outputs) > info.MaxOut) {
		return fmt.Errorf("has %d outputs, want %s", len(n.Outputs), arity(info.MinOut, info.MaxOut))
	}
	return nil
}

func arity(lo, hi int) string {
	switch {
	case hi < 0:
		return fmt.Sprintf("at least %d", lo)
	case lo == hi:
		return fmt.Sprint(lo)
	}
	return fmt.Sprintf("%d to %d", lo, hi)
}

// ConstValue returns the constant tensor behind v: the data of a parameter,
// or the value of the Constant node that produces v. It returns nil when v is
// nil or not a constant.
func ConstValue(v *Value) *Tensor {
	if v == nil {
		return nil
	}
	if v.Const != nil {
		return v.Const
	}
	if n := v.Def; n != nil && n.Op == OpConstant && len(n.Outputs) > 0 && n.Outputs[0] == v {
		return constantTensor(n)
	}
	return nil
}

// constantTensor returns the tensor a Constant node produces: attribute
// value, or one of the scalar and list forms (value_float, value_floats,
// value_int, value_ints) older exporters use.
func constantTensor(n *Node) *Tensor {
	for _, a := range n.Attrs {
		switch a.Name {
		case "value":
			if a.Kind == AttrTensor {
				return a.Tensor
			}
		case "value_float":
			return NewFloat32([]int64{}, []float32{a.Float})
		case "value_floats":
			return NewFloat32([]int64{int64(len(a.Floats))}, a.Floats)
		case "value_int":
			return NewInt64([]int64{}, []int64{a.Int})
		case "value_ints":
			return NewInt64([]int64{int64(len(a.Ints))}, a.Ints)
		}
	}
	return nil
}

// ---- small helpers ----

func shapeOf(v *Value) Shape {
	if v == nil {
		return nil
	}
	return v.Shape
}

func dtypeOf(v *Value) DType {
	if v == nil {
		return Undefined
	}
	return v.DType
}

func cloneShape(s Shape) Shape {
	if s == nil {
		return nil
	}
	return append(Shape{}, s...)
}

// unknownShape returns rank unknown dims, or nil (unknown rank) for a rank
// beyond maxRank, which no real model has (and which would be a huge
// allocation when a malformed model declares it).
func unknownShape(rank int) Shape {
	if rank < 0 || rank > maxRank {
		return nil
	}
	s := make(Shape, rank)
	for i := range s {
		s[i] = Unknown
	}
	return s
}

// setOutput sets output i of n, if present, to dtype dt and a copy of s.
func setOutput(n *Node, i int, dt DType, s Shape) {
	if i < len(n.Outputs) && n.Outputs[i] != nil {
		n.Outputs[i].DType = dt
		n.Outputs[i].Shape = cloneShape(s)
	}
}

// sameDType returns the common dtype of n's inputs at positions idx, ignoring
// absent inputs and unknown dtypes; differing known dtypes are an error.
func sameDType(n *Node, idx ...int) (DType, error) {
	dt, first := Undefined, -1
	for _, i := range idx {
		d := dtypeOf(n.Input(i))
		if d == Undefined {
			continue
		}
		if dt == Undefined {
			dt, first = d, i
		} else if d != dt {
			return dt, fmt.Errorf("input %d has dtype %v, input %d has %v", i, d, first, dt)
		}
	}
	return dt, nil
}

// normAxis maps axis (negative counts from the end) into [0, rank).
func normAxis(axis int64, rank int) (int, error) {
	if axis < -int64(rank) || axis >= int64(rank) {
		return 0, fmt.Errorf("axis %d out of range for rank %d", axis, rank)
	}
	if axis < 0 {
		axis += int64(rank)
	}
	return int(axis), nil
}

// normAxes normalizes a list of axes for rank, rejecting duplicates.
func normAxes(axes []int64, rank int) ([]int, error) {
	out := make([]int, len(axes))
	seen := make(map[int]bool)
	for i, a := range axes {
		ax, err := normAxis(a, rank)
		if err != nil {
			return nil, err
		}
		if seen[ax] {
			return nil, fmt.Errorf("axis %d repeated in %v", a, axes)
		}
		seen[ax] = true
		out[i] = ax
	}
	return out, nil
}

func ceilDiv(a, b int64) int64 {
	if a >= 0 {
		return (a + b - 1) / b
	}
	return a / b
}

// broadcastDim combines two dims under numpy broadcasting.
func broadcastDim(a, b Dim) (Dim, bool) {
	switch {
	case a == b:
		return a, true
	case a.Static() && b.Static():
		if a.Size == 1 {
			return b, true
		}
		if b.Size == 1 {
			return a, true
		}
		return Dim{}, false
	case a.Static(): // b symbolic or unknown: it is 1 or equals a
		if a.Size == 1 {
			return b, true
		}
		return a, true
	case b.Static():
		if b.Size == 1 {
			return a, true
		}
		return b, true
	case a.Sym != "" && b.Sym != "": // two different names
		return Unknown, true
	case a.Sym != "":
		return a, true
	}
	return b, true
}

// broadcastShapes returns the numpy broadcast of a and b (nil if either rank
// is unknown).
func broadcastShapes(a, b Shape) (Shape, error) {
	if a == nil || b == nil {
		return nil, nil
	}
	r := max(len(a), len(b))
	out := make(Shape, r)
	for i := range out {
		da, db := D(1), D(1)
		if j := i - (r - len(a)); j >= 0 {
			da = a[j]
		}
		if j := i - (r - len(b)); j >= 0 {
			db = b[j]
		}
		d, ok := broadcastDim(da, db)
		if !ok {
			return nil, fmt.Errorf("shapes %v and %v do not broadcast (%v vs %v)", a, b, da, db)
		}
		out[i] = d
	}
	return out, nil
}

// unifyDim merges two dims that must be equal; ok is false when both are
// static and differ.
func unifyDim(a, b Dim) (Dim, bool) {
	switch {
	case a.Static() && b.Static():
		return a, a.Size == b.Size
	case a.Static():
		return a, true
	case b.Static():
		return b, true
	case a.Sym != "":
		return a, true
	}
	return b, true
}

// prodDims returns the product of dims: static when all are, the symbolic
// dim when it is the only non-static one and the rest multiply to 1, zero
// when any static dim is zero, and Unknown otherwise.
func prodDims(dims []Dim) Dim {
	p, syms, unknown := int64(1), []string(nil), false
	for _, d := range dims {
		switch {
		case d.Static():
			if d.Size == 0 {
				return D(0)
			}
			if p > math.MaxInt64/d.Size {
				unknown = true // the product overflows; Verify rejects such shapes
				continue
			}
			p *= d.Size
		case d.Sym != "":
			syms = append(syms, d.Sym)
		default:
			unknown = true
		}
	}
	switch {
	case unknown:
		return Unknown
	case len(syms) == 0:
		return D(p)
	case len(syms) == 1 && p == 1:
		return Sym(syms[0])
	}
	return Unknown
}

// ---- values of small integer tensors ----

// elem is one element of an integer tensor tracked during inference: a known
// integer (ok, sym == ""), a symbolic dim (sym != "") or unknown (!ok).
type elem struct {
	n   int64
	sym string
	ok  bool
}

func (e elem) static() bool { return e.ok && e.sym == "" }

func (e elem) dim() Dim {
	switch {
	case e.sym != "":
		return Sym(e.sym)
	case e.ok && e.n >= 0:
		return D(e.n)
	}
	return Unknown
}

func dimElem(d Dim) elem {
	switch {
	case d.Sym != "":
		return elem{sym: d.Sym, ok: true}
	case d.Size >= 0:
		return elem{n: d.Size, ok: true}
	}
	return elem{}
}

const (
	maxElems      = 1 << 12 // larger integer tensors are not tracked
	maxEvalDepth  = 48      // longest chain of integer ops followed
	maxEvalVisits = 1 << 12 // most values one shapeElems call looks at
	maxRank       = 1 << 10 // largest rank made up from an input's size
)

// shapeElems returns the elements of v, a 0-D or 1-D integer tensor, as far
// as they can be known before running the graph: constants, Shape outputs
// (symbolic dims included) and what Gather, Slice, Concat, Unsqueeze,
// Squeeze, Reshape, Identity, Cast and integer Add/Sub/Mul/Div make of them.
// It returns nil when even the element count is unknown.
func shapeElems(v *Value) []elem {
	var e elemEval
	return e.elems(v, 0)
}

// elemEval is one shapeElems evaluation. Its visit budget, shared by every
// operand (Slice bounds included), keeps a hostile graph that reuses values
// (x2 = x1 + x1, x3 = x2 + x2, ...) from making the walk exponential.
type elemEval struct{ visits int }

// constInts returns the elements of v when all are known integers.
func constInts(v *Value) ([]int64, bool) { return staticElems(shapeElems(v)) }

// staticElems returns es as integers when all are known.
func staticElems(es []elem) ([]int64, bool) {
	if es == nil {
		return nil, false
	}
	out := make([]int64, len(es))
	for i, e := range es {
		if !e.static() {
			return nil, false
		}
		out[i] = e.n
	}
	return out, true
}

func (e *elemEval) elems(v *Value, depth int) []elem {
	if v == nil || depth > maxEvalDepth || e.visits >= maxEvalVisits {
		return nil
	}
	e.visits++
	if t := ConstValue(v); t != nil {
		if !t.DType.IsInt() || len(t.Dims) > 1 || t.Len() > maxElems || t.CheckData() != nil {
			return nil
		}
		out := make([]elem, 0, t.Len())
		for _, x := range t.Int64s() {
			out = append(out, elem{n: x, ok: true})
		}
		return out
	}
	n := v.Def
	if n == nil || len(n.Outputs) == 0 || n.Outputs[0] != v {
		return nil
	}
	if s := v.Shape; s != nil && len(s) > 1 {
		return nil
	}
	in := func(i int) []elem { return e.elems(n.Input(i), depth+1) }
	switch n.Op {
	case OpShape:
		s := shapeOf(n.Input(0))
		if s == nil {
			return nil
		}
		start, end := shapeRange(n, len(s))
		out := make([]elem, 0, end-start)
		for _, d := range s[start:end] {
			out = append(out, dimElem(d))
		}
		return out
	case OpIdentity, OpUnsqueeze, OpSqueeze, OpReshape, OpFlatten:
		return in(0)
	case OpCast:
		if DType(n.Int("to")).IsInt() {
			return in(0)
		}
	case OpGather:
		data, idx := in(0), in(1)
		if data == nil || idx == nil || len(shapeOf(n.Input(0))) != 1 {
			return nil
		}
		out := make([]elem, len(idx))
		for i, x := range idx {
			if !x.static() {
				continue // unknown element
			}
			j := x.n
			if j < 0 {
				j += int64(len(data))
			}
			if j < 0 || j >= int64(len(data)) {
				return nil
			}
			out[i] = data[j]
		}
		return out
	case OpConcat:
		var out []elem
		for i := range n.Inputs {
			part := in(i)
			if part == nil {
				s := shapeOf(n.Input(i))
				if len(s) != 1 || !s[0].Static() || s[0].Size > maxElems {
					return nil
				}
				part = make([]elem, s[0].Size)
			}
			out = append(out, part...)
		}
		return out
	case OpSlice:
		return e.sliceElems(in(0), n, depth)
	case OpAdd, OpSub, OpMul, OpDiv:
		return arithElems(n.Op, in(0), in(1))
	}
	return nil
}

// ints returns the elements of v when all are known integers.
func (e *elemEval) ints(v *Value, depth int) ([]int64, bool) {
	return staticElems(e.elems(v, depth))
}

func (ev *elemEval) sliceElems(data []elem, n *Node, depth int) []elem {
	if data == nil {
		return nil
	}
	constInts := func(v *Value) ([]int64, bool) { return ev.ints(v, depth+1) }
	starts, ok1 := constInts(n.Input(1))
	ends, ok2 := constInts(n.Input(2))
	if !ok1 || !ok2 || len(starts) != 1 || len(ends) != 1 {
		return nil
	}
	step := int64(1)
	if n.Input(4) != nil {
		st, ok := constInts(n.Input(4))
		if !ok || len(st) != 1 || st[0] == 0 {
			return nil
		}
		step = st[0]
	}
	if n.Input(3) != nil {
		ax, ok := constInts(n.Input(3))
		if !ok || len(ax) != 1 || (ax[0] != 0 && ax[0] != -1) {
			return nil
		}
	}
	lo, hi := sliceBounds(starts[0], ends[0], step, int64(len(data)))
	var out []elem
	for i := lo; (step > 0 && i < hi) || (step < 0 && i > hi); i += step {
		out = append(out, data[i])
	}
	if out == nil {
		out = []elem{}
	}
	return out
}

func arithElems(op Op, a, b []elem) []elem {
	if a == nil || b == nil {
		return nil
	}
	if len(a) != len(b) && len(a) != 1 && len(b) != 1 {
		return nil
	}
	if len(a) == 0 || len(b) == 0 {
		return []elem{} // [0] broadcast with [1] is [0]
	}
	out := make([]elem, max(len(a), len(b)))
	for i := range out {
		x, y := a[min(i, len(a)-1)], b[min(i, len(b)-1)]
		switch {
		case x.static() && y.static():
			switch op {
			case OpAdd:
				out[i] = elem{n: x.n + y.n, ok: true}
			case OpSub:
				out[i] = elem{n: x.n - y.n, ok: true}
			case OpMul:
				out[i] = elem{n: x.n * y.n, ok: true}
			case OpDiv:
				if y.n != 0 {
					out[i] = elem{n: x.n / y.n, ok: true}
				}
			}
		case y.static() && ((y.n == 1 && (op == OpMul || op == OpDiv)) || (y.n == 0 && (op == OpAdd || op == OpSub))):
			out[i] = x
		case x.static() && ((x.n == 1 && op == OpMul) || (x.n == 0 && op == OpAdd)):
			out[i] = y
		}
	}
	return out
}

// shapeRange returns the [start, end) range of a Shape node over rank dims.
func shapeRange(n *Node, rank int) (int, int) {
	clamp := func(x int64) int {
		if x < 0 {
			x += int64(rank)
		}
		return int(min(max(x, 0), int64(rank)))
	}
	start, end := clamp(n.Int("start")), rank
	if n.Attr("end") != nil {
		end = clamp(n.Int("end"))
	}
	return start, max(start, end)
}

// sliceBounds clamps ONNX Slice start and end for a dim of size dim; the
// selected indices are start, start+step, ... before end.
func sliceBounds(start, end, step, dim int64) (int64, int64) {
	if start < 0 {
		start += dim
	}
	if end < 0 {
		end += dim
	}
	if step > 0 {
		return min(max(start, 0), dim), min(max(end, 0), dim)
	}
	return min(max(start, 0), dim-1), min(max(end, -1), dim-1)
}

// ---- elementwise ----

func inferUnary(floatOnly bool) func(n *Node) error {
	return func(n *Node) error {
		x := n.Input(0)
		if floatOnly && x != nil && x.DType != Undefined && !x.DType.IsFloat() {
			return fmt.Errorf("input %v has dtype %v, want a float type", x, x.DType)
		}
		setOutput(n, 0, dtypeOf(x), shapeOf(x))
		return nil
	}
}

func inferClip(n *Node) error {
	dt, err := sameDType(n, 0, 1, 2)
	if err != nil {
		return err
	}
	for i, what := range []string{1: "min", 2: "max"} {
		if s := shapeOf(n.Input(i)); i > 0 && s.IsStatic() && NumElements(s.Ints()) != 1 {
			return fmt.Errorf("%s bound has shape %v, want a scalar", what, s)
		}
	}
	setOutput(n, 0, dt, shapeOf(n.Input(0)))
	return nil
}

func inferBinary(n *Node) error {
	dt := dtypeOf(n.Input(0))
	if n.Op != OpPow { // Pow's exponent may have another type
		var err error
		if dt, err = sameDType(n, 0, 1); err != nil {
			return err
		}
	}
	s, err := broadcastShapes(shapeOf(n.Input(0)), shapeOf(n.Input(1)))
	if err != nil {
		return err
	}
	setOutput(n, 0, dt, s)
	return nil
}

// ---- convolution and pooling ----

// windowAttrs reads strides, dilations, pads and auto_pad of a conv or pool
// node with k spatial dims, applying ONNX defaults and checking values.
func windowAttrs(n *Node, k int) (strides, dil, pads []int64, autoPad string, err error) {
	ones := func(name string) ([]int64, error) {
		v := n.Ints(name)
		if n.Attr(name) == nil {
			v = make([]int64, k)
			for i := range v {
				v[i] = 1
			}
		}
		if len(v) != k {
			return nil, fmt.Errorf("%s %v has %d values, want %d", name, v, len(v), k)
		}
		for _, x := range v {
			if x < 1 {
				return nil, fmt.Errorf("%s %v must be positive", name, v)
			}
		}
		return v, nil
	}
	if strides, err = ones("strides"); err != nil {
		return
	}
	if dil, err = ones("dilations"); err != nil {
		return
	}
	pads = n.Ints("pads")
	if n.Attr("pads") == nil {
		pads = make([]int64, 2*k)
	}
	if len(pads) != 2*k {
		err = fmt.Errorf("pads %v has %d values, want %d", pads, len(pads), 2*k)
		return
	}
	for _, p := range pads {
		if p < 0 {
			err = fmt.Errorf("pads %v must not be negative", pads)
			return
		}
	}
	switch autoPad = n.Str("auto_pad"); autoPad {
	case "NOTSET", "":
		autoPad = "NOTSET"
	case "VALID":
		pads = make([]int64, 2*k)
	case "SAME_UPPER", "SAME_LOWER":
	default:
		err = fmt.Errorf("auto_pad %q is not NOTSET, SAME_UPPER, SAME_LOWER or VALID", autoPad)
	}
	return
}

// windowOut returns the output size of a sliding window over a dim of size
// in: kernel k (-1 if unknown), stride s, dilation d, pads pb and pe.
// ceil_mode rounds up, dropping a last window that would start in the end
// padding (PyTorch and ONNX Runtime semantics).
func windowOut(in Dim, k, s, d, pb, pe int64, autoPad string, ceil bool) (Dim, error) {
	if autoPad == "SAME_UPPER" || autoPad == "SAME_LOWER" {
		switch {
		case in.Static():
			return D(ceilDiv(in.Size, s)), nil
		case s == 1:
			return in, nil
		}
		return Unknown, nil
	}
	if k < 0 {
		return Unknown, nil
	}
	const lim = 1 << 40 // beyond any real window; keeps the arithmetic below from overflowing
	if k > lim || d > lim || s > lim || pb > lim || pe > lim || (k > 1 && d > lim/(k-1)) || in.Size > 1<<60 {
		return Unknown, fmt.Errorf("kernel %d, dilation %d, stride %d or pads %d, %d out of range", k, d, s, pb, pe)
	}
	eff := d*(k-1) + 1
	if !in.Static() {
		if eff == 1 && s == 1 && pb+pe == 0 {
			return in, nil
		}
		return Unknown, nil
	}
	num := in.Size + pb + pe - eff
	if num < 0 {
		return Unknown, fmt.Errorf("kernel %d (dilation %d) is larger than the padded input %d", k, d, in.Size+pb+pe)
	}
	out := num/s + 1
	if ceil {
		out = ceilDiv(num, s) + 1
		if (out-1)*s >= in.Size+pb {
			out--
		}
	}
	return D(out), nil
}

// convRank determines the rank of a conv-like node from X, W and the
// kernel_shape attribute; -1 when unknown.
func convRank(n *Node, xs, ws Shape) (int, error) {
	rank := -1
	if xs != nil {
		if len(xs) < 3 {
			return 0, fmt.Errorf("input X has shape %v, want at least 3 dims (N, C, spatial...)", xs)
		}
		rank = len(xs)
	}
	if ws != nil {
		if rank >= 0 && len(ws) != rank {
			return 0, fmt.Errorf("weight W has shape %v, want %d dims like X %v", ws, rank, xs)
		}
		if len(ws) < 3 {
			return 0, fmt.Errorf("weight W has shape %v, want at least 3 dims", ws)
		}
		rank = len(ws)
	}
	if ks := n.Ints("kernel_shape"); rank < 0 && ks != nil {
		rank = len(ks) + 2
	}
	return rank, nil
}

// convKernel returns the kernel sizes (-1 where unknown) from W's spatial
// dims and kernel_shape, which must agree.
func convKernel(n *Node, ws Shape, k int) ([]int64, error) {
	ks := n.Ints("kernel_shape")
	if n.Attr("kernel_shape") != nil && len(ks) != k {
		return nil, fmt.Errorf("kernel_shape %v has %d values, want %d", ks, len(ks), k)
	}
	kernel := make([]int64, k)
	for i := range kernel {
		kernel[i] = -1
		if ws != nil && ws[2+i].Static() {
			kernel[i] = ws[2+i].Size
		}
		if ks != nil {
			if ks[i] < 1 {
				return nil, fmt.Errorf("kernel_shape %v must be positive", ks)
			}
			if kernel[i] >= 0 && kernel[i] != ks[i] {
				return nil, fmt.Errorf("kernel_shape %v does not match weight W %v", ks, ws)
			}
			kernel[i] = ks[i]
		}
	}
	return kernel, nil
}

func checkBias(b *Value, m Dim) error {
	bs := shapeOf(b)
	if bs == nil {
		return nil
	}
	if len(bs) != 1 {
		return fmt.Errorf("bias B has shape %v, want [%v]", bs, m)
	}
	if _, ok := unifyDim(bs[0], m); !ok {
		return fmt.Errorf("bias B has shape %v, want [%v]", bs, m)
	}
	return nil
}

func batchDim(xs Shape) Dim {
	if xs == nil {
		return Unknown
	}
	return xs[0]
}

// convGeom is what Conv and ConvTranspose inference both read first.
type convGeom struct {
	xs, ws Shape
	dt     DType
	group  int64
	rank   int
	kernel []int64
}

// convCommon checks the dtypes, group, rank and kernel shared by Conv and
// ConvTranspose. A nil result with a nil error means the rank is unknown:
// the output has been set to unknown rank and there is nothing more to infer.
func convCommon(n *Node) (*convGeom, error) {
	c := &convGeom{xs: shapeOf(n.Input(0)), ws: shapeOf(n.Input(1))}
	var err error
	if c.dt, err = sameDType(n, 0, 1, 2); err != nil {
		return nil, err
	}
	if c.group = n.Int("group"); c.group < 1 {
		return nil, fmt.Errorf("group %d must be positive", c.group)
	}
	c.rank, err = convRank(n, c.xs, c.ws)
	if err != nil || c.rank < 0 {
		setOutput(n, 0, c.dt, nil)
		return nil, err
	}
	if c.kernel, err = convKernel(n, c.ws, c.rank-2); err != nil {
		return nil, err
	}
	return c, nil
}

func inferConv(n *Node) error {
	c, err := convCommon(n)
	if err != nil || c == nil {
		return err
	}
	xs, ws, dt, group, rank, k, kernel := c.xs, c.ws, c.dt, c.group, c.rank, c.rank-2, c.kernel
	m := Unknown
	if ws != nil {
		m = ws[0]
		if xs != nil && xs[1].Static() && ws[1].Static() && xs[1].Size != ws[1].Size*group {
			return fmt.Errorf("input X has %d channels, want W.shape[1]*group = %d*%d = %d", xs[1].Size, ws[1].Size, group, ws[1].Size*group)
		}
		if m.Static() && m.Size%group != 0 {
			return fmt.Errorf("weight W has %d output channels, not divisible by group %d", m.Size, group)
		}
	}
	if err := checkBias(n.Input(2), m); err != nil {
		return err
	}
	strides, dil, pads, autoPad, err := windowAttrs(n, k)
	if err != nil {
		return err
	}
	out := make(Shape, rank)
	out[0], out[1] = batchDim(xs), m
	for i := 0; i < k; i++ {
		in := Unknown
		if xs != nil {
			in = xs[2+i]
		}
		if out[2+i], err = windowOut(in, kernel[i], strides[i], dil[i], pads[i], pads[k+i], autoPad, false); err != nil {
			return fmt.Errorf("spatial dim %d: %w", i, err)
		}
	}
	setOutput(n, 0, dt, out)
	return nil
}

func inferConvTranspose(n *Node) error {
	c, err := convCommon(n)
	if err != nil || c == nil {
		return err
	}
	xs, ws, dt, group, rank, k, kernel := c.xs, c.ws, c.dt, c.group, c.rank, c.rank-2, c.kernel
	m := Unknown
	if ws != nil {
		if xs != nil && xs[1].Static() && ws[0].Static() && xs[1].Size != ws[0].Size {
			return fmt.Errorf("input X has %d channels, want W.shape[0] = %d", xs[1].Size, ws[0].Size)
		}
		if ws[0].Static() && ws[0].Size%group != 0 {
			return fmt.Errorf("weight W has %d input channels, not divisible by group %d", ws[0].Size, group)
		}
		if ws[1].Static() {
			m = D(ws[1].Size * group)
		}
	}
	if err := checkBias(n.Input(2), m); err != nil {
		return err
	}
	strides, dil, pads, autoPad, err := windowAttrs(n, k)
	if err != nil {
		return err
	}
	outPad := n.Ints("output_padding")
	if n.Attr("output_padding") == nil {
		outPad = make([]int64, k)
	}
	if len(outPad) != k {
		return fmt.Errorf("output_padding %v has %d values, want %d", outPad, len(outPad), k)
	}
	for i, p := range outPad {
		if p < 0 || p >= max(strides[i], dil[i]) {
			return fmt.Errorf("output_padding %v must be in [0, max(stride, dilation))", outPad)
		}
	}
	outShape := n.Ints("output_shape")
	if n.Attr("output_shape") != nil {
		if len(outShape) == k+2 {
			outShape = outShape[2:]
		}
		if len(outShape) != k {
			return fmt.Errorf("output_shape %v has %d values, want %d", n.Ints("output_shape"), len(outShape), k)
		}
	}
	out := make(Shape, rank)
	out[0], out[1] = batchDim(xs), m
	for i := 0; i < k; i++ {
		in := Unknown
		if xs != nil {
			in = xs[2+i]
		}
		switch {
		case outShape != nil:
			if outShape[i] < 1 {
				return fmt.Errorf("output_shape %v must be positive", outShape)
			}
			out[2+i] = D(outShape[i])
		case autoPad == "SAME_UPPER" || autoPad == "SAME_LOWER":
			out[2+i] = Unknown
			if in.Static() {
				out[2+i] = D(in.Size * strides[i])
			} else if strides[i] == 1 {
				out[2+i] = in
			}
		case kernel[i] < 0:
			out[2+i] = Unknown
		case !in.Static():
			out[2+i] = Unknown
			if strides[i] == 1 && kernel[i] == 1 && outPad[i] == 0 && pads[i]+pads[k+i] == 0 {
				out[2+i] = in
			}
		default:
			o := strides[i]*(in.Size-1) + outPad[i] + dil[i]*(kernel[i]-1) + 1 - pads[i] - pads[k+i]
			if o < 1 {
				return fmt.Errorf("spatial dim %d: output size %d is not positive", i, o)
			}
			out[2+i] = D(o)
		}
	}
	setOutput(n, 0, dt, out)
	return nil
}

func inferPool(n *Node) error {
	x := n.Input(0)
	xs := shapeOf(x)
	if n.Attr("kernel_shape") == nil {
		return errors.New("missing required attribute kernel_shape")
	}
	ks := n.Ints("kernel_shape")
	if xs == nil {
		setOutput(n, 0, dtypeOf(x), unknownShape(len(ks)+2))
		setOutput(n, 1, Int64, unknownShape(len(ks)+2))
		return nil
	}
	if len(xs) < 3 {
		return fmt.Errorf("input X has shape %v, want at least 3 dims (N, C, spatial...)", xs)
	}
	k := len(xs) - 2
	if len(ks) != k {
		return fmt.Errorf("kernel_shape %v has %d values, want %d for input %v", ks, len(ks), k, xs)
	}
	strides, dil, pads, autoPad, err := windowAttrs(n, k)
	if err != nil {
		return err
	}
	out := make(Shape, len(xs))
	out[0], out[1] = xs[0], xs[1]
	for i := 0; i < k; i++ {
		if ks[i] < 1 {
			return fmt.Errorf("kernel_shape %v must be positive", ks)
		}
		if out[2+i], err = windowOut(xs[2+i], ks[i], strides[i], dil[i], pads[i], pads[k+i], autoPad, n.Int("ceil_mode") != 0); err != nil {
			return fmt.Errorf("spatial dim %d: %w", i, err)
		}
	}
	setOutput(n, 0, x.DType, out)
	setOutput(n, 1, Int64, out)
	return nil
}

func inferGlobalPool(n *Node) error {
	x := n.Input(0)
	xs := shapeOf(x)
	if xs != nil {
		if len(xs) < 3 {
			return fmt.Errorf("input X has shape %v, want at least 3 dims (N, C, spatial...)", xs)
		}
		out := cloneShape(xs)
		for i := 2; i < len(out); i++ {
			out[i] = D(1)
		}
		xs = out
	}
	setOutput(n, 0, dtypeOf(x), xs)
	return nil
}

func inferBatchNorm(n *Node) error {
	x := n.Input(0)
	xs := shapeOf(x)
	c := Unknown
	if xs != nil {
		if len(xs) < 2 {
			return fmt.Errorf("input X has shape %v, want at least 2 dims (N, C, ...)", xs)
		}
		c = xs[1]
	}
	names := []string{1: "scale", 2: "B", 3: "mean", 4: "var"}
	for i := 1; i <= 4; i++ {
		s := shapeOf(n.Input(i))
		if s == nil {
			continue
		}
		d := Unknown
		if len(s) == 1 {
			d = s[0]
		}
		u, ok := unifyDim(d, c)
		if len(s) != 1 || !ok {
			return fmt.Errorf("%s has shape %v, want [%v]", names[i], s, c)
		}
		c = u
	}
	setOutput(n, 0, dtypeOf(x), xs)
	statDT := dtypeOf(n.Input(3))
	if statDT == Undefined {
		statDT = dtypeOf(x)
	}
	setOutput(n, 1, statDT, Shape{c})
	setOutput(n, 2, statDT, Shape{c})
	return nil
}

// ---- joining, splitting, slicing ----

func inferConcat(n *Node) error {
	if n.Attr("axis") == nil {
		return errors.New("missing required attribute axis")
	}
	dt, err := sameDType(n, indices(len(n.Inputs))...)
	if err != nil {
		return err
	}
	var out Shape
	var axis int
	for i, in := range n.Inputs {
		s := shapeOf(in)
		if s == nil {
			continue
		}
		if out == nil {
			if axis, err = normAxis(n.Int("axis"), len(s)); err != nil {
				return err
			}
			out = cloneShape(s)
			continue
		}
		if len(s) != len(out) {
			return fmt.Errorf("input %d has shape %v, want rank %d", i, s, len(out))
		}
		for j := range s {
			if j == axis {
				continue
			}
			d, ok := unifyDim(out[j], s[j])
			if !ok {
				return fmt.Errorf("input %d has shape %v, incompatible with %v outside axis %d", i, s, out, axis)
			}
			out[j] = d
		}
	}
	if out != nil {
		dims := make([]Dim, 0, len(n.Inputs))
		for _, in := range n.Inputs {
			if s := shapeOf(in); s != nil {
				dims = append(dims, s[axis])
			} else {
				dims = append(dims, Unknown)
			}
		}
		out[axis] = sumDims(dims)
	}
	setOutput(n, 0, dt, out)
	return nil
}

func indices(n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = i
	}
	return out
}

// sumDims returns the sum of dims when all are static, the single dim when
// there is one, and Unknown otherwise.
func sumDims(dims []Dim) Dim {
	if len(dims) == 1 {
		return dims[0]
	}
	var s int64
	for _, d := range dims {
		if !d.Static() || s > math.MaxInt64-d.Size {
			return Unknown // overflow: Verify rejects such shapes
		}
		s += d.Size
	}
	return D(s)
}

func inferSplit(n *Node) error {
	x := n.Input(0)
	xs := shapeOf(x)
	nout := len(n.Outputs)
	if nout == 0 {
		return errors.New("has no outputs")
	}
	var sizes []int64
	known := true
	if n.Input(1) != nil {
		sizes, known = constInts(n.Input(1))
		if known && len(sizes) != nout {
			return fmt.Errorf("split %v has %d sizes for %d outputs", sizes, len(sizes), nout)
		}
		for _, s := range sizes {
			if s < 0 {
				return fmt.Errorf("split %v has a negative size", sizes)
			}
		}
	}
	if xs == nil {
		for i := range n.Outputs {
			setOutput(n, i, dtypeOf(x), nil)
		}
		return nil
	}
	axis, err := normAxis(n.Int("axis"), len(xs))
	if err != nil {
		return err
	}
	dim := xs[axis]
	if n.Input(1) == nil {
		if dim.Static() {
			if dim.Size%int64(nout) != 0 {
				return fmt.Errorf("dim %d on axis %d is not divisible into %d outputs", dim.Size, axis, nout)
			}
			sizes = make([]int64, nout)
			for i := range sizes {
				sizes[i] = dim.Size / int64(nout)
			}
		} else {
			known = false
		}
	}
	if known && dim.Static() {
		var sum int64
		for _, s := range sizes {
			sum += s
		}
		if sum != dim.Size {
			return fmt.Errorf("split %v sums to %d, want dim %d of axis %d", sizes, sum, dim.Size, axis)
		}
	}
	for i := range n.Outputs {
		out := cloneShape(xs)
		out[axis] = Unknown
		if known {
			out[axis] = D(sizes[i])
		}
		setOutput(n, i, x.DType, out)
	}
	return nil
}

func inferSlice(n *Node) error {
	x := n.Input(0)
	xs := shapeOf(x)
	for i, what := range []string{1: "starts", 2: "ends", 3: "axes", 4: "steps"} {
		if i == 0 {
			continue
		}
		if v := n.Input(i); v != nil {
			if v.DType != Undefined && v.DType != Int64 && v.DType != Int32 {
				return fmt.Errorf("%s %v has dtype %v, want i32 or i64", what, v, v.DType)
			}
			if s := v.Shape; s != nil && len(s) != 1 {
				return fmt.Errorf("%s %v has shape %v, want 1 dim", what, v, s)
			}
		}
	}
	if xs == nil {
		setOutput(n, 0, dtypeOf(x), nil)
		return nil
	}
	starts, ok1 := constInts(n.Input(1))
	ends, ok2 := constInts(n.Input(2))
	axes, ok3 := constInts(n.Input(3))
	steps, ok4 := constInts(n.Input(4))
	out := cloneShape(xs)
	if !ok1 || !ok2 || (n.Input(3) != nil && !ok3) || (n.Input(4) != nil && !ok4) {
		// Unknown parameters: the sliced axes are unknown.
		if n.Input(3) != nil && ok3 {
			ax, err := normAxes(axes, len(xs))
			if err != nil {
				return err
			}
			for _, a := range ax {
				out[a] = Unknown
			}
		} else {
			out = unknownShape(len(xs))
		}
		setOutput(n, 0, x.DType, out)
		return nil
	}
	if len(starts) != len(ends) {
		return fmt.Errorf("starts %v and ends %v differ in length", starts, ends)
	}
	if n.Input(3) == nil {
		axes = make([]int64, len(starts))
		for i := range axes {
			axes[i] = int64(i)
		}
	}
	if n.Input(4) == nil {
		steps = make([]int64, len(starts))
		for i := range steps {
			steps[i] = 1
		}
	}
	if len(axes) != len(starts) || len(steps) != len(starts) {
		return fmt.Errorf("starts %v, ends %v, axes %v, steps %v differ in length", starts, ends, axes, steps)
	}
	ax, err := normAxes(axes, len(xs))
	if err != nil {
		return err
	}
	for i, a := range ax {
		st := steps[i]
		if st == 0 {
			return fmt.Errorf("steps %v contains 0", steps)
		}
		d := xs[a]
		if !d.Static() {
			if st == 1 && starts[i] == 0 && ends[i] >= math.MaxInt32 {
				continue // the whole dim
			}
			out[a] = Unknown
			continue
		}
		b, e := sliceBounds(starts[i], ends[i], st, d.Size)
		var size int64
		if st > 0 && e > b {
			size = ceilDiv(e-b, st)
		} else if st < 0 && b > e {
			size = ceilDiv(b-e, -st)
		}
		out[a] = D(size)
	}
	setOutput(n, 0, x.DType, out)
	return nil
}

// ---- reductions, resize ----

func inferReduceMean(n *Node) error {
	x := n.Input(0)
	xs := shapeOf(x)
	if xs == nil {
		setOutput(n, 0, dtypeOf(x), nil)
		return nil
	}
	axes := n.Ints("axes")
	reduce := make([]bool, len(xs))
	if len(axes) == 0 {
		for i := range reduce {
			reduce[i] = true
		}
	}
	ax, err := normAxes(axes, len(xs))
	if err != nil {
		return err
	}
	for _, a := range ax {
		reduce[a] = true
	}
	keep := n.Int("keepdims") != 0
	out := Shape{}
	for i, d := range xs {
		switch {
		case !reduce[i]:
			out = append(out, d)
		case keep:
			out = append(out, D(1))
		}
	}
	setOutput(n, 0, x.DType, out)
	return nil
}

func inferResize(n *Node) error {
	x := n.Input(0)
	xs := shapeOf(x)
	switch m := n.Str("mode"); m {
	case "nearest", "linear", "cubic":
	default:
		return fmt.Errorf("mode %q is not nearest, linear or cubic", m)
	}
	var scales []float64
	if t := ConstValue(n.Input(2)); t != nil && t.Len() > 0 {
		if !t.DType.IsFloat() || t.CheckData() != nil {
			return fmt.Errorf("scales has dtype %v, want a float type", t.DType)
		}
		scales = t.Float64s()
	}
	var sizes []elem
	if v := n.Input(3); v != nil && !(v.Shape != nil && len(v.Shape) == 1 && v.Shape[0] == D(0)) {
		sizes = shapeElems(v)
		if sizes == nil {
			sizes = []elem{} // present but not known
		}
	}
	if scales != nil && sizes != nil {
		return errors.New("both scales and sizes are given")
	}
	rank := -1
	if xs != nil {
		rank = len(xs)
	}
	axes := n.Ints("axes")
	if rank < 0 {
		switch {
		case axes != nil:
		case scales != nil:
			rank = len(scales)
		case len(sizes) > 0:
			rank = len(sizes)
		}
		if rank < 0 {
			setOutput(n, 0, dtypeOf(x), nil)
			return nil
		}
		if xs = unknownShape(rank); xs == nil {
			setOutput(n, 0, dtypeOf(x), nil)
			return nil
		}
	}
	if axes == nil {
		axes = make([]int64, rank)
		for i := range axes {
			axes[i] = int64(i)
		}
	}
	ax, err := normAxes(axes, rank)
	if err != nil {
		return err
	}
	out := cloneShape(xs)
	switch {
	case scales != nil:
		if len(scales) != len(ax) {
			return fmt.Errorf("scales has %d values, want %d", len(scales), len(ax))
		}
		for i, a := range ax {
			s := scales[i]
			switch {
			case !(s > 0):
				return fmt.Errorf("scale %v must be positive", s)
			case s == 1:
			case xs[a].Static():
				out[a] = D(int64(math.Floor(float64(float32(xs[a].Size) * float32(s)))))
			default:
				out[a] = Unknown
			}
		}
	case len(sizes) > 0:
		if len(sizes) != len(ax) {
			return fmt.Errorf("sizes has %d values, want %d", len(sizes), len(ax))
		}
		for i, a := range ax {
			if sizes[i].static() && sizes[i].n < 0 {
				return fmt.Errorf("size %d must not be negative", sizes[i].n)
			}
			out[a] = sizes[i].dim()
		}
		if err := keepAspect(n.Str("keep_aspect_ratio_policy"), xs, out, ax); err != nil {
			return err
		}
	case sizes != nil || n.Input(2) != nil:
		for _, a := range ax {
			out[a] = Unknown
		}
	default:
		return errors.New("one of scales (input 2) and sizes (input 3) is required")
	}
	setOutput(n, 0, dtypeOf(x), out)
	return nil
}

// keepAspect applies Resize's keep_aspect_ratio_policy to sizes already in out.
func keepAspect(policy string, xs, out Shape, ax []int) error {
	if policy == "stretch" {
		return nil
	}
	if policy != "not_larger" && policy != "not_smaller" {
		return fmt.Errorf("keep_aspect_ratio_policy %q is not stretch, not_larger or not_smaller", policy)
	}
	scale := math.NaN()
	for _, a := range ax {
		if !xs[a].Static() || !out[a].Static() || xs[a].Size == 0 {
			for _, b := range ax {
				out[b] = Unknown
			}
			return nil
		}
		s := float64(out[a].Size) / float64(xs[a].Size)
		if math.IsNaN(scale) || (policy == "not_larger" && s < scale) || (policy == "not_smaller" && s > scale) {
			scale = s
		}
	}
	for _, a := range ax {
		out[a] = D(int64(math.Round(scale * float64(xs[a].Size))))
	}
	return nil
}

// ---- matrix products ----

func inferGemm(n *Node) error {
	dt, err := sameDType(n, 0, 1, 2)
	if err != nil {
		return err
	}
	as, bs, cs := shapeOf(n.Input(0)), shapeOf(n.Input(1)), shapeOf(n.Input(2))
	for i, s := range []Shape{as, bs} {
		if s != nil && len(s) != 2 {
			return fmt.Errorf("input %c has shape %v, want 2 dims", "AB"[i], s)
		}
	}
	m, ka, kb, nn := Unknown, Unknown, Unknown, Unknown
	if as != nil {
		m, ka = as[0], as[1]
		if n.Int("transA") != 0 {
			m, ka = ka, m
		}
	}
	if bs != nil {
		kb, nn = bs[0], bs[1]
		if n.Int("transB") != 0 {
			kb, nn = nn, kb
		}
	}
	if _, ok := unifyDim(ka, kb); !ok {
		return fmt.Errorf("inner dims differ: A %v (transA=%d) has K=%v, B %v (transB=%d) has K=%v",
			as, n.Int("transA"), ka, bs, n.Int("transB"), kb)
	}
	out := Shape{m, nn}
	if cs != nil {
		if len(cs) > 2 {
			return fmt.Errorf("input C has shape %v, want at most 2 dims", cs)
		}
		for i, d := range cs {
			o := out[2-len(cs)+i]
			if d.Static() && d.Size != 1 && o.Static() && d.Size != o.Size {
				return fmt.Errorf("input C has shape %v, not broadcastable to %v", cs, out)
			}
		}
	}
	setOutput(n, 0, dt, out)
	return nil
}

func inferMatMul(n *Node) error {
	dt, err := sameDType(n, 0, 1)
	if err != nil {
		return err
	}
	as, bs := shapeOf(n.Input(0)), shapeOf(n.Input(1))
	for i, s := range []Shape{as, bs} {
		if s != nil && len(s) == 0 {
			return fmt.Errorf("input %c is a scalar", "AB"[i])
		}
	}
	if as == nil || bs == nil {
		setOutput(n, 0, dt, nil)
		return nil
	}
	a, b := as, bs
	if len(a) == 1 {
		a = Shape{D(1), a[0]}
	}
	if len(b) == 1 {
		b = Shape{b[0], D(1)}
	}
	if _, ok := unifyDim(a[len(a)-1], b[len(b)-2]); !ok {
		return fmt.Errorf("inner dims differ: A %v, B %v", as, bs)
	}
	batch, err := broadcastShapes(a[:len(a)-2], b[:len(b)-2])
	if err != nil {
		return fmt.Errorf("batch dims: %w", err)
	}
	out := batch
	if len(as) > 1 {
		out = append(out, a[len(a)-2])
	}
	if len(bs) > 1 {
		out = append(out, b[len(b)-1])
	}
	setOutput(n, 0, dt, out)
	return nil
}

// ---- views ----

func inferFlatten(n *Node) error {
	x := n.Input(0)
	xs := shapeOf(x)
	if xs == nil {
		setOutput(n, 0, dtypeOf(x), Shape{Unknown, Unknown})
		return nil
	}
	axis := n.Int("axis")
	if axis < -int64(len(xs)) || axis > int64(len(xs)) {
		return fmt.Errorf("axis %d out of range for rank %d", axis, len(xs))
	}
	if axis < 0 {
		axis += int64(len(xs))
	}
	setOutput(n, 0, x.DType, Shape{prodDims(xs[:axis]), prodDims(xs[axis:])})
	return nil
}

func inferReshape(n *Node) error {
	x, sv := n.Input(0), n.Input(1)
	if sv != nil && sv.DType != Undefined && sv.DType != Int64 {
		return fmt.Errorf("shape %v has dtype %v, want i64", sv, sv.DType)
	}
	if s := shapeOf(sv); s != nil && len(s) != 1 {
		return fmt.Errorf("shape %v has shape %v, want 1 dim", sv, s)
	}
	xs := shapeOf(x)
	target := shapeElems(sv)
	if target == nil {
		var out Shape
		if s := shapeOf(sv); len(s) == 1 && s[0].Static() {
			out = unknownShape(int(s[0].Size))
		}
		setOutput(n, 0, dtypeOf(x), out)
		return nil
	}
	allowZero := n.Int("allowzero") != 0
	out := make(Shape, len(target))
	infer := -1
	for i, e := range target {
		switch {
		case !e.ok:
			out[i] = Unknown
		case e.sym != "":
			out[i] = Sym(e.sym)
		case e.n == -1:
			if infer >= 0 {
				return fmt.Errorf("shape %v has more than one -1", target)
			}
			infer = i
		case e.n < -1:
			return fmt.Errorf("shape has invalid size %d", e.n)
		case e.n == 0 && !allowZero:
			if xs == nil {
				out[i] = Unknown
			} else if i >= len(xs) {
				return fmt.Errorf("shape element %d is 0 (copy) but input %v has %d dims", i, xs, len(xs))
			} else {
				out[i] = xs[i]
			}
		default:
			out[i] = D(e.n)
		}
	}
	if infer >= 0 {
		d, err := reshapeInfer(xs, out, infer)
		if err != nil {
			return err
		}
		out[infer] = d
	} else if xs.IsStatic() && out.IsStatic() && NumElements(xs.Ints()) != NumElements(out.Ints()) {
		return fmt.Errorf("cannot reshape %v to %v", xs, out)
	}
	setOutput(n, 0, dtypeOf(x), out)
	return nil
}

// reshapeInfer computes the -1 dim at position at of out from the input
// shape in: the input's element count divided by out's other dims, with
// symbolic dims cancelling by name.
func reshapeInfer(in, out Shape, at int) (Dim, error) {
	if in == nil {
		return Unknown, nil
	}
	pin, symIn, ok1 := factor(in, -1)
	pout, symOut, ok2 := factor(out, at)
	if !ok1 || !ok2 {
		return Unknown, nil
	}
	for s, c := range symOut {
		if symIn[s] < c {
			return Unknown, nil
		}
		symIn[s] -= c
	}
	var rest []string
	for s, c := range symIn {
		for ; c > 0; c-- {
			rest = append(rest, s)
		}
	}
	if pout == 0 {
		if pin == 0 {
			return Unknown, nil
		}
		return Unknown, fmt.Errorf("cannot reshape %v to %v: -1 with a zero dim", in, out)
	}
	if pin%pout != 0 {
		if len(rest) == 0 {
			return Unknown, fmt.Errorf("cannot reshape %v (%d elements) to %v", in, pin, out)
		}
		return Unknown, nil
	}
	q := pin / pout
	switch {
	case len(rest) == 0:
		return D(q), nil
	case len(rest) == 1 && q == 1:
		return Sym(rest[0]), nil
	}
	return Unknown, nil
}

// factor splits s (skipping index skip) into its static product and a count
// of symbolic dims by name; ok is false if a dim is unknown.
func factor(s Shape, skip int) (int64, map[string]int, bool) {
	p, syms := int64(1), make(map[string]int)
	for i, d := range s {
		switch {
		case i == skip:
		case d.Static():
			p *= d.Size
		case d.Sym != "":
			syms[d.Sym]++
		default:
			return 0, nil, false
		}
	}
	return p, syms, true
}

func inferTranspose(n *Node) error {
	x := n.Input(0)
	xs := shapeOf(x)
	perm := n.Ints("perm")
	if xs == nil {
		var out Shape
		if n.Attr("perm") != nil {
			out = unknownShape(len(perm))
		}
		setOutput(n, 0, dtypeOf(x), out)
		return nil
	}
	if n.Attr("perm") == nil {
		perm = make([]int64, len(xs))
		for i := range perm {
			perm[i] = int64(len(xs) - 1 - i)
		}
	}
	if len(perm) != len(xs) {
		return fmt.Errorf("perm %v has %d values, want %d for input %v", perm, len(perm), len(xs), xs)
	}
	seen := make([]bool, len(xs))
	out := make(Shape, len(xs))
	for i, p := range perm {
		if p < 0 || p >= int64(len(xs)) || seen[p] {
			return fmt.Errorf("perm %v is not a permutation of 0..%d", perm, len(xs)-1)
		}
		seen[p] = true
		out[i] = xs[p]
	}
	setOutput(n, 0, x.DType, out)
	return nil
}

func inferSqueeze(n *Node) error {
	x := n.Input(0)
	xs := shapeOf(x)
	if n.Input(1) == nil {
		var out Shape
		for _, d := range xs {
			if !d.Static() {
				out = nil
				break
			}
			if d.Size != 1 {
				out = append(out, d)
			}
		}
		if out == nil && xs != nil && xs.IsStatic() {
			out = Shape{}
		}
		setOutput(n, 0, dtypeOf(x), out)
		return nil
	}
	axes, ok := constInts(n.Input(1))
	if xs == nil || !ok {
		var out Shape
		if as := shapeOf(n.Input(1)); xs != nil && len(as) == 1 && as[0].Static() && int(as[0].Size) <= len(xs) {
			out = unknownShape(len(xs) - int(as[0].Size))
		}
		setOutput(n, 0, dtypeOf(x), out)
		return nil
	}
	ax, err := normAxes(axes, len(xs))
	if err != nil {
		return err
	}
	drop := make([]bool, len(xs))
	for _, a := range ax {
		if xs[a].Static() && xs[a].Size != 1 {
			return fmt.Errorf("cannot squeeze axis %d of size %d in %v", a, xs[a].Size, xs)
		}
		drop[a] = true
	}
	out := Shape{}
	for i, d := range xs {
		if !drop[i] {
			out = append(out, d)
		}
	}
	setOutput(n, 0, x.DType, out)
	return nil
}

func inferUnsqueeze(n *Node) error {
	x := n.Input(0)
	xs := shapeOf(x)
	axes, ok := constInts(n.Input(1))
	if xs == nil || !ok {
		var out Shape
		if as := shapeOf(n.Input(1)); xs != nil && len(as) == 1 && as[0].Static() {
			out = unknownShape(len(xs) + int(as[0].Size))
		}
		setOutput(n, 0, dtypeOf(x), out)
		return nil
	}
	r := len(xs) + len(axes)
	ax, err := normAxes(axes, r)
	if err != nil {
		return err
	}
	ins := make([]bool, r)
	for _, a := range ax {
		ins[a] = true
	}
	out := make(Shape, 0, r)
	j := 0
	for i := 0; i < r; i++ {
		if ins[i] {
			out = append(out, D(1))
		} else {
			out = append(out, xs[j])
			j++
		}
	}
	setOutput(n, 0, x.DType, out)
	return nil
}

// ---- the rest ----

func inferSoftmax(n *Node) error {
	x := n.Input(0)
	if xs := shapeOf(x); xs != nil {
		if _, err := normAxis(n.Int("axis"), len(xs)); err != nil {
			return err
		}
	}
	setOutput(n, 0, dtypeOf(x), shapeOf(x))
	return nil
}

func inferDropout(n *Node) error {
	x := n.Input(0)
	if s := shapeOf(n.Input(1)); s != nil && len(s) != 0 {
		return fmt.Errorf("ratio has shape %v, want a scalar", s)
	}
	setOutput(n, 0, dtypeOf(x), shapeOf(x))
	setOutput(n, 1, Bool, shapeOf(x))
	return nil
}

func inferPad(n *Node) error {
	x := n.Input(0)
	xs := shapeOf(x)
	switch m := n.Str("mode"); m {
	case "constant", "reflect", "edge":
	default:
		return fmt.Errorf("mode %q is not constant, reflect or edge", m)
	}
	if s := shapeOf(n.Input(2)); s != nil && len(s) != 0 && !(len(s) == 1 && s[0] == D(1)) {
		return fmt.Errorf("constant_value has shape %v, want a scalar", s)
	}
	if xs == nil {
		setOutput(n, 0, dtypeOf(x), nil)
		return nil
	}
	pads, ok := constInts(n.Input(1))
	if !ok {
		setOutput(n, 0, x.DType, unknownShape(len(xs)))
		return nil
	}
	r := len(xs)
	if len(pads) != 2*r {
		return fmt.Errorf("pads %v has %d values, want %d for input %v", pads, len(pads), 2*r, xs)
	}
	out := make(Shape, r)
	for i, d := range xs {
		p := pads[i] + pads[r+i]
		switch {
		case p == 0:
			out[i] = d
		case d.Static():
			if d.Size+p < 0 {
				return fmt.Errorf("pads %v make dim %d negative", pads, i)
			}
			out[i] = D(d.Size + p)
		default:
			out[i] = Unknown
		}
	}
	setOutput(n, 0, x.DType, out)
	return nil
}

func inferShape(n *Node) error {
	xs := shapeOf(n.Input(0))
	out := Shape{Unknown}
	if xs != nil {
		start, end := shapeRange(n, len(xs))
		out = Shape{D(int64(end - start))}
	}
	setOutput(n, 0, Int64, out)
	return nil
}

func inferGather(n *Node) error {
	data, idx := n.Input(0), n.Input(1)
	if dt := dtypeOf(idx); dt != Undefined && dt != Int64 && dt != Int32 {
		return fmt.Errorf("indices %v has dtype %v, want i32 or i64", idx, dt)
	}
	ds, is := shapeOf(data), shapeOf(idx)
	if ds == nil {
		setOutput(n, 0, dtypeOf(data), nil)
		return nil
	}
	if len(ds) == 0 {
		return errors.New("data is a scalar")
	}
	axis, err := normAxis(n.Int("axis"), len(ds))
	if err != nil {
		return err
	}
	if vals, ok := constInts(idx); ok && ds[axis].Static() {
		for _, v := range vals {
			if v < -ds[axis].Size || v >= ds[axis].Size {
				return fmt.Errorf("index %d out of range for axis %d of size %d", v, axis, ds[axis].Size)
			}
		}
	}
	if is == nil {
		setOutput(n, 0, data.DType, nil)
		return nil
	}
	out := append(append(cloneShape(ds[:axis]), is...), ds[axis+1:]...)
	setOutput(n, 0, data.DType, out)
	return nil
}

func inferCast(n *Node) error {
	if n.Attr("to") == nil {
		return errors.New("missing required attribute to")
	}
	to := n.Int("to")
	if to < 0 || to > math.MaxUint8 || !DType(to).Valid() {
		return fmt.Errorf("to=%d is not a valid dtype", to)
	}
	setOutput(n, 0, DType(to), shapeOf(n.Input(0)))
	return nil
}

func inferConstant(n *Node) error {
	t := constantTensor(n)
	if t == nil {
		return errors.New("missing attribute value")
	}
	for _, d := range t.Dims {
		if d < 0 {
			return fmt.Errorf("value has negative dims %v", t.Dims)
		}
	}
	setOutput(n, 0, t.DType, Static(t.Dims...))
	return nil
}

// checkQuantParams checks the scale and zero point of Quantize- and
// DequantizeLinear against x: a scalar (per tensor) or a 1-D tensor of size
// x.shape[axis] (per axis).
func checkQuantParams(n *Node) error {
	xs, ss, zs := shapeOf(n.Input(0)), shapeOf(n.Input(1)), shapeOf(n.Input(2))
	if ss != nil {
		switch {
		case len(ss) == 0 || (len(ss) == 1 && ss[0] == D(1)):
		case len(ss) == 1:
			if xs != nil {
				axis, err := normAxis(n.Int("axis"), len(xs))
				if err != nil {
					return err
				}
				if _, ok := unifyDim(ss[0], xs[axis]); !ok {
					return fmt.Errorf("scale has shape %v, want [%v] (axis %d of %v)", ss, xs[axis], axis, xs)
				}
			}
		default:
			return fmt.Errorf("scale has shape %v, want a scalar or 1 dim", ss)
		}
	}
	if ss != nil && zs != nil && !shapesCompatible(ss, zs) {
		return fmt.Errorf("zero point has shape %v, want %v like scale", zs, ss)
	}
	return nil
}

func shapesCompatible(a, b Shape) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if _, ok := unifyDim(a[i], b[i]); !ok {
			return false
		}
	}
	return true
}

func inferQuantize(n *Node) error {
	if err := checkQuantParams(n); err != nil {
		return err
	}
	dt := Uint8
	if z := n.Input(2); z != nil && z.DType != Undefined {
		dt = z.DType
	}
	setOutput(n, 0, dt, shapeOf(n.Input(0)))
	return nil
}

func inferDequantize(n *Node) error {
	if err := checkQuantParams(n); err != nil {
		return err
	}
	dt := Float32
	if s := n.Input(1); s != nil && s.DType.IsFloat() {
		dt = s.DType
	}
	setOutput(n, 0, dt, shapeOf(n.Input(0)))
	return nil
}
