package passes

import (
	"encoding/binary"
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/ferminets/fermi/ir"
)

// FP16Tol is the relative error --check-equivalence allows by default after
// fp16: float16 keeps 11 significant bits (a rounding error of at most
// 2^-11 ≈ 4.9e-4 per value), and the errors of a few dozen layers add up to
// a few 1e-3 of the output's range on the shared models (measured: see
// bench/results/fp16.json).
const FP16Tol = 1e-2

// FP16Args are the options of fp16.
type FP16Args struct {
	// IO16 converts float32 graph inputs and outputs to float16 too
	// (io=fp16); by default (io=fp32) they stay float32 and Casts convert at
	// the boundary, like onnxconverter-common's keep_io_types.
	IO16 bool
	// Keep lists core ops (by ONNX op type) that stay float32, with Casts
	// around them (keep=Softmax|Resize).
	Keep []ir.Op
}

// String returns the options as Parse reads them.
func (a FP16Args) String() string {
	var parts []string
	if a.IO16 {
		parts = append(parts, "io=fp16")
	}
	if len(a.Keep) > 0 {
		names := make([]string, len(a.Keep))
		for i, op := range a.Keep {
			names[i] = op.String()
		}
		parts = append(parts, "keep="+strings.Join(names, "|"))
	}
	return strings.Join(parts, ",")
}

func fp16Args(opts []option) (any, error) {
	var a FP16Args
	for _, o := range opts {
		switch o.key {
		case "io":
			switch o.value {
			case "fp32":
			case "fp16":
				a.IO16 = true
			default:
				return nil, fmt.Errorf("io=%q: want fp32 or fp16", o.value)
			}
		case "keep":
			for _, name := range strings.Split(o.value, "|") {
				name = strings.TrimSpace(name)
				op, ok := ir.LookupOp(name)
				if !ok {
					return nil, fmt.Errorf("keep=%q: %q is not an op of the core set (other ops always stay float32)", o.value, name)
				}
				if !slices.Contains(a.Keep, op) {
					a.Keep = append(a.Keep, op)
				}
			}
			slices.Sort(a.Keep)
		default:
			return nil, fmt.Errorf("unknown option %q (want io or keep)", o.key)
		}
	}
	return a, nil
}

// slotKind says which dtype an input slot of an op takes.
type slotKind uint8

const (
	slotT   slotKind = iota // the op's computation type: float16 when the node is converted
	slotF32                 // float32 whatever the node computes in (ONNX fixes it)
	slotAny                 // any dtype (Cast, Shape): never cast
)

// fp16Slots lists the float inputs that do not follow the op's computation
// type; every other float input does. Integer and bool inputs are never
// touched. From the ONNX operator schemas (opsets 7–21; checked against
// the installed onnx package by TestFP16SlotsMatchONNX): Resize's scales
// are tensor(float) only and its roi (T2) stays float32 with them;
// Dropout's ratio (T1) may stay, so it does; Cast and Shape read any type.
var fp16Slots = map[ir.Op]map[int]slotKind{
	ir.OpResize:  {1: slotF32, 2: slotF32},
	ir.OpDropout: {1: slotF32},
	ir.OpCast:    {0: slotAny},
	ir.OpShape:   {0: slotAny},
}

// kindOf returns the kind of input i of n. A Cast to an integer or bool
// type reads float32: float arithmetic that ends in integers (computed
// shapes and sizes) stays exact beyond float16's 2048.
func kindOf(n *ir.Node, i int) slotKind {
	if n.Op == ir.OpCast && i == 0 && !ir.DType(n.Int("to")).IsFloat() {
		return slotF32
	}
	return fp16Slots[n.Op][i] // slotT when absent
}

// fp16 converts float32 computation to float16, as onnxconverter-common's
// float16 converter does with keep_io_types:
//
//   - every node of the core set computes in float16: its float32 outputs
//     become float16 and its float32 inputs are converted (parameters and
//     Constant nodes by rewriting their data, other values by a Cast);
//   - graph inputs and outputs stay float32 with Casts at the boundary
//     (io=fp16 converts them too);
//   - inputs ONNX requires float32 stay float32 (Resize roi and scales,
//     Dropout ratio), as do inputs of Casts to integer types, and so does
//     every node whose float results feed only such inputs (shape-like
//     arithmetic such as computed Resize scales or sizes);
//   - ops outside the core set (their type constraints are unknown) and
//     those named in keep= stay float32 with Casts around them;
//   - Cast nodes to float32 of non-float16 data become Casts to float16;
//     Casts from float16 to float32 (boundaries) stay;
//   - a Cast back to the type a value was cast from is cancelled when exact
//     (float16 → float32 → float16) or when the pass made the first Cast.
//
// Every core op accepts float16 in its type constraints at every opset the
// IR reads, except QuantizeLinear/DequantizeLinear before opset 19: QDQ
// (quantized) graphs are refused with an error.
//
// Parameters round to nearest even; finite values beyond ±65504 (the
// largest float16) are clamped to ±65504 instead of becoming ±Inf, and
// each clamped or flushed-to-zero parameter gets a remark (--stats shows
// remarks). ±Inf and NaN stay. Converted float32 parameters no longer read
// are removed. The pass is deterministic and idempotent: a second run finds
// nothing to convert.
func fp16(c *ctx) error {
	a, _ := c.args.(FP16Args)
	g := c.g
	for _, n := range g.Nodes {
		if n.Op == ir.OpQuantizeLinear || n.Op == ir.OpDequantizeLinear {
			return fmt.Errorf("fp16: node %q (%s): quantized (QDQ) models are not converted to float16; run fp16 on the float model instead of quantize", n.Name, n.TypeName())
		}
	}
	f := &fp16Conv{c: c, args: a, shapeLike: make(map[*ir.Node]bool), casts: make(map[castKey]*ir.Value),
		made: make(map[*ir.Node]bool), after: make(map[*ir.Node][]*ir.Node)}
	f.findShapeLike()
	paramUsed := make(map[*ir.Value]bool)
	for _, n := range g.Nodes {
		for _, in := range n.Inputs {
			if in != nil && in.Const != nil {
				paramUsed[in] = true
			}
		}
	}
	// Graph inputs.
	if a.IO16 {
		for _, v := range g.Inputs {
			if v.DType == ir.Float32 && v.Const == nil && !f.wantsF32(v) {
				f.setF16(v)
			}
		}
	}
	// Nodes, in order: inputs first (their producers are done), then outputs.
	for _, n := range g.Nodes {
		convert := f.converts(n)
		for i, v := range n.Inputs {
			if v == nil {
				continue
			}
			var need ir.DType
			switch k := kindOf(n, i); {
			case k == slotAny:
				continue
			case k == slotT && convert && v.DType == ir.Float32:
				need = ir.Float16
			case v.DType == ir.Float16 && f.origF32[v] && (k == slotF32 || !convert):
				need = ir.Float32 // converted here, read by a float32 input
			default:
				continue
			}
			w, err := f.castOf(v, need)
			if err != nil {
				return err
			}
			c.setInput(n, i, w)
		}
		if err := f.convertOutputs(n, convert); err != nil {
			return err
		}
	}
	// Graph outputs: float32 stays float32 unless io=fp16; the boundary
	// value takes the output's name.
	done := make(map[*ir.Value]*ir.Value)
	for i, o := range g.Outputs {
		if w, ok := done[o]; ok {
			g.Outputs[i] = w
			continue
		}
		need := o.DType
		switch {
		case !a.IO16 && o.DType == ir.Float16 && f.origF32[o]:
			need = ir.Float32
		case a.IO16 && o.DType == ir.Float32 && (o.Def != nil || o.Const != nil):
			need = ir.Float16
		}
		done[o] = o
		if need == o.DType {
			continue
		}
		w, err := f.castOf(o, need)
		if err != nil {
			return err
		}
		done[o] = w
		shared := c.isOutput(w)
		g.Outputs[i] = w
		if (w.Def == nil && w.Const == nil) || shared {
			continue // a graph input or another output keeps its own name
		}
		name := o.Name
		o.Name = c.unique(name + dtypeSuffix[o.DType])
		w.Name = name
	}
	for _, d := range f.cancelled {
		if len(c.uses(d.Outputs[0])) == 0 && !c.isOutput(d.Outputs[0]) {
			c.remove(d)
		}
	}
	f.insertCasts()
	// Drop the float32 parameters that nothing reads any more.
	// A converted copy of a dropped parameter takes its name and place.
	users := g.Users()
	var params []*ir.Value
	placed := make(map[*ir.Value]bool)
	for _, p := range g.Params {
		switch q := f.casts[castKey{p, ir.Float16}]; {
		case placed[p]:
		case paramUsed[p] && len(users[p]) == 0 && !c.isOutput(p):
			c.changed = true
			if q != nil && q.Const != nil && !c.isOutput(q) {
				q.Name = p.Name
				params = append(params, q)
				placed[q] = true
			}
		default:
			params = append(params, p)
		}
	}
	g.Params = params
	return nil
}

// isF reports whether dt is float32 or float16, the types fp16 moves between.
func isF(dt ir.DType) bool { return dt == ir.Float32 || dt == ir.Float16 }

type castKey struct {
	v  *ir.Value
	dt ir.DType
}

// fp16Conv is the state of one fp16 run.
type fp16Conv struct {
	c         *ctx
	args      FP16Args
	shapeLike map[*ir.Node]bool
	casts     map[castKey]*ir.Value   // value converted to a dtype
	made      map[*ir.Node]bool       // Cast nodes this run made
	after     map[*ir.Node][]*ir.Node // Casts to insert after a node
	atStart   []*ir.Node              // Casts of graph inputs
	origF32   map[*ir.Value]bool      // values this run turned from float32 to float16
	cancelled []*ir.Node              // Casts whose reader a cancelled pair bypassed
}

// dtypeSuffix names a value converted to a dtype.
var dtypeSuffix = map[ir.DType]string{ir.Float16: "_fp16", ir.Float32: "_fp32"}

// blocked reports whether n stays float32 whatever it reads: ops outside
// the core set and those named in keep=.
func (f *fp16Conv) blocked(n *ir.Node) bool {
	return n.Op == ir.OpOpaque || slices.Contains(f.args.Keep, n.Op)
}

// converts reports whether n computes in float16 after the pass.
func (f *fp16Conv) converts(n *ir.Node) bool {
	return !f.blocked(n) && !f.shapeLike[n] && n.Op != ir.OpCast
}

// wantsF32 reports whether float32 value v must stay float32: it is read
// only by float32-only inputs, directly or through shape-like nodes.
func (f *fp16Conv) wantsF32(v *ir.Value) bool {
	if v.DType != ir.Float32 || f.c.isOutput(v) {
		return false
	}
	uses := 0
	for _, n := range f.c.uses(v) {
		for i, in := range n.Inputs {
			if in != v {
				continue
			}
			uses++
			switch kindOf(n, i) {
			case slotF32:
			case slotT:
				if !f.shapeLike[n] {
					return false
				}
			default:
				return false
			}
		}
	}
	return uses > 0
}

// findShapeLike marks the nodes whose float32 outputs all feed only
// float32-only inputs (in reverse order, so users are decided first).
func (f *fp16Conv) findShapeLike() {
	nodes := f.c.g.Nodes
	for i := len(nodes) - 1; i >= 0; i-- {
		n := nodes[i]
		if f.blocked(n) {
			continue
		}
		floats := 0
		all := true
		for _, o := range n.Outputs {
			if o == nil || o.DType != ir.Float32 {
				continue
			}
			floats++
			all = all && f.wantsF32(o)
		}
		if floats > 0 && all {
			f.shapeLike[n] = true
		}
	}
}

// convertOutputs turns n's float32 outputs to float16 when n converts, and
// Casts to float32 of data other than float16 into Casts to float16.
func (f *fp16Conv) convertOutputs(n *ir.Node, convert bool) error {
	if n.Op == ir.OpCast {
		o := n.Outputs[0]
		x := n.Input(0)
		if f.blocked(n) || f.shapeLike[n] || o.DType != ir.Float32 || x.DType == ir.Float16 && !f.origF32[x] {
			return nil // a float16 → float32 boundary, or float32 on purpose
		}
		n.SetAttr(ir.IntAttr("to", int64(ir.Float16)))
		f.setF16(o)
		return nil
	}
	if !convert {
		return nil
	}
	if n.Op == ir.OpConstant {
		t := ir.ConstValue(n.Outputs[0])
		if t == nil || t.DType != ir.Float32 {
			return nil
		}
		h, err := f.halfTensor(n.Outputs[0].Name, t)
		if err != nil {
			return err
		}
		n.Attrs = []ir.Attr{ir.TensorAttr("value", h)}
		f.setF16(n.Outputs[0])
		return nil
	}
	for _, o := range n.Outputs {
		if o != nil && o.DType == ir.Float32 {
			f.setF16(o)
		}
	}
	return nil
}

func (f *fp16Conv) setF16(v *ir.Value) {
	if f.origF32 == nil {
		f.origF32 = make(map[*ir.Value]bool)
	}
	v.DType = ir.Float16
	f.origF32[v] = true
	f.c.changed = true
}

// castOf returns v converted to dt: a converted parameter, the value a
// cancelled Cast pair started from, or the output of a new Cast inserted
// after v's definition. Results are shared by every reader.
func (f *fp16Conv) castOf(v *ir.Value, dt ir.DType) (*ir.Value, error) {
	k := castKey{v, dt}
	if w, ok := f.casts[k]; ok {
		return w, nil
	}
	var w *ir.Value
	switch d := v.Def; {
	case v.Const != nil:
		t, err := f.convertTensor(v.Name, v.Const, dt)
		if err != nil {
			return nil, err
		}
		w = f.c.newParam(v.Name+dtypeSuffix[dt], t)
	case d != nil && d.Op == ir.OpCast && d.Input(0) != nil && d.Input(0).DType == dt &&
		(dt == ir.Float16 || f.made[d]):
		// Cancel the pair: float16 → float32 → float16 is exact; a float32 →
		// float16 rounding this run inserted is not needed by a float32 reader.
		w = d.Input(0)
		f.cancelled = append(f.cancelled, d)
	default:
		name := f.c.unique(v.Name + dtypeSuffix[dt])
		n := &ir.Node{Name: name, Op: ir.OpCast, Inputs: []*ir.Value{v}, Attrs: []ir.Attr{ir.IntAttr("to", int64(dt))}}
		w = &ir.Value{Name: name, DType: dt, Shape: slices.Clone(v.Shape), Def: n}
		n.Outputs = []*ir.Value{w}
		f.made[n] = true
		if d != nil {
			f.after[d] = append(f.after[d], n)
		} else {
			f.atStart = append(f.atStart, n)
		}
		f.c.changed = true
	}
	f.casts[k] = w
	return w, nil
}

// insertCasts places the new Cast nodes right after their inputs'
// producers (graph inputs' Casts first), keeping topological order.
func (f *fp16Conv) insertCasts() {
	if len(f.atStart) == 0 && len(f.after) == 0 {
		return
	}
	var nodes []*ir.Node
	var add func(n *ir.Node)
	add = func(n *ir.Node) {
		nodes = append(nodes, n)
		for _, m := range f.after[n] {
			add(m)
		}
	}
	for _, n := range f.atStart {
		add(n)
	}
	for _, n := range f.c.g.Nodes {
		add(n)
	}
	f.c.g.Nodes = nodes
	f.c.users = nil
}

// convertTensor returns t in dtype dt (float16 ↔ float32).
func (f *fp16Conv) convertTensor(name string, t *ir.Tensor, dt ir.DType) (*ir.Tensor, error) {
	switch {
	case t.DType == ir.Float32 && dt == ir.Float16:
		return f.halfTensor(name, t)
	case t.DType == ir.Float16 && dt == ir.Float32:
		if err := t.CheckData(); err != nil {
			return nil, fmt.Errorf("fp16: value %q: %v", name, err)
		}
		out := make([]float32, len(t.Raw)/2)
		for i := range out {
			out[i] = ir.HalfToFloat32(binary.LittleEndian.Uint16(t.Raw[2*i:]))
		}
		return ir.NewFloat32(slices.Clone(t.Dims), out), nil
	}
	return nil, fmt.Errorf("fp16: value %q: cannot convert %v to %v", name, t.DType, dt)
}

// halfTensor returns float32 tensor t as float16, rounding to nearest even
// and clamping finite values beyond ±65504; clamped and flushed elements
// are reported as a remark on the graph.
func (f *fp16Conv) halfTensor(name string, t *ir.Tensor) (*ir.Tensor, error) {
	data := t.F32
	if len(data) == 0 && t.Len() > 0 && t.Init != nil {
		data = t.Init.Materialize(t.Dims).F32
	}
	if int64(len(data)) != t.Len() {
		return nil, fmt.Errorf("fp16: value %q: f32 tensor %v holds %d elements, want %d", name, t.Dims, len(data), t.Len())
	}
	raw := make([]byte, 2*len(data))
	clamped, flushed := 0, 0
	for i, x := range data {
		h := ir.Float32ToHalf(x)
		switch {
		case h&0x7fff == 0x7c00 && !math.IsInf(float64(x), 0):
			h = h&0x8000 | 0x7bff // ±65504
			clamped++
		case h&0x7fff == 0 && x != 0:
			flushed++
		}
		binary.LittleEndian.PutUint16(raw[2*i:], h)
	}
	if clamped > 0 {
		f.c.g.Remarks = append(f.c.g.Remarks, fmt.Sprintf("value %q: fp16: %d of %d elements beyond ±65504 clamped to ±65504", name, clamped, len(data)))
	}
	if flushed > 0 {
		f.c.g.Remarks = append(f.c.g.Remarks, fmt.Sprintf("value %q: fp16: %d of %d nonzero elements below 2^-25 flushed to zero", name, flushed, len(data)))
	}
	return &ir.Tensor{DType: ir.Float16, Dims: slices.Clone(t.Dims), Raw: raw}, nil
}

// halfOf returns float32 tensor t rounded to float16 (no clamping).
func halfOf(t *ir.Tensor) *ir.Tensor {
	raw := make([]byte, 2*len(t.F32))
	for i, x := range t.F32 {
		binary.LittleEndian.PutUint16(raw[2*i:], ir.Float32ToHalf(x))
	}
	return &ir.Tensor{DType: ir.Float16, Dims: slices.Clone(t.Dims), Raw: raw}
}
