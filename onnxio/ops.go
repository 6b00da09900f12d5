package onnxio

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"slices"

	"github.com/ferminets/fermi/ir"
	"github.com/ferminets/fermi/onnxio/onnxpb"
)

// opRule says how one core op differs between the ONNX opsets and the IR's
// opset-13 form. up normalizes a node read at opset c.opset (it may add
// params and nodes through c, or return keepOpaque); down adapts a copy of a
// node to the export opset e.opset (it may add initializers through e).
// Ops without a row are the same at every supported opset.
type opRule struct {
	up   func(c *conv, n *ir.Node) error
	down func(e *exporter, n *ir.Node) error
}

var opRules = map[ir.Op]opRule{
	ir.OpBatchNorm:        {up: upBatchNorm, down: downBatchNorm},
	ir.OpClip:             {up: upClip},
	ir.OpSqueeze:          {up: upAxesInput},
	ir.OpUnsqueeze:        {up: upAxesInput},
	ir.OpSplit:            {up: upSplit, down: downSplit},
	ir.OpSlice:            {up: upSlice},
	ir.OpReduceMean:       {up: upReduceMean, down: downReduceMean},
	ir.OpPad:              {up: upPad, down: downPad},
	ir.OpDropout:          {up: upDropout},
	ir.OpSoftmax:          {up: upSoftmax},
	ir.OpResize:           {up: upResize, down: downResize},
	ir.OpConstant:         {up: upConstant},
	ir.OpQuantizeLinear:   {up: upQDQ, down: downSaturate},
	ir.OpDequantizeLinear: {up: upQDQ},
	ir.OpCast:             {down: downSaturate},
	ir.OpAveragePool:      {down: downAveragePool},
	ir.OpShape:            {down: downShape},
	ir.OpHardSwish:        {down: downHardSwish},
}

// keepOpaque is returned by an up rule for a node whose meaning the IR op
// cannot express; the node is kept opaque in its original form.
type keepOpaque string

func (k keepOpaque) Error() string { return string(k) }

// conv is the conversion of one node on import. Params and nodes it creates
// are committed only if the node converts.
type conv struct {
	im        *importer
	opset     int64
	params    []*ir.Value
	consumed  []*ir.Value
	pre, post []*ir.Node // nodes to place before and after the converted node
}

// param adds a param called after node n holding t.
func (c *conv) param(n *ir.Node, suffix string, t *ir.Tensor) *ir.Value {
	v := &ir.Value{Name: c.freshValue(n.Name + "_" + suffix), DType: t.DType, Shape: ir.Static(t.Dims...), Const: t}
	c.im.values[v.Name] = v
	c.params = append(c.params, v)
	return v
}

func (c *conv) freshValue(base string) string {
	name := base
	for i := 1; c.im.values[name] != nil; i++ {
		name = fmt.Sprintf("%s_%d", base, i)
	}
	return name
}

// node creates a single-output node named after base, to be placed before
// the converted node; it returns the output.
func (c *conv) node(op ir.Op, base string, inputs []*ir.Value, attrs ...ir.Attr) *ir.Value {
	m := &ir.Node{Name: freshName(base, c.im.nodes), Op: op, Inputs: inputs, Attrs: attrs}
	c.im.nodes[m.Name] = true
	out := &ir.Value{Name: c.freshValue(m.Name), Def: m}
	c.im.values[out.Name] = out
	m.Outputs = []*ir.Value{out}
	c.pre = append(c.pre, m)
	return out
}

// constant returns the tensor v holds if it is a param or a Constant node's
// output, else nil. Params read this way are dropped if nothing else uses them.
func (c *conv) constant(v *ir.Value) *ir.Tensor {
	switch {
	case v == nil:
		return nil
	case v.Const != nil:
		c.consumed = append(c.consumed, v)
		return v.Const
	case v.Def != nil && v.Def.Op == ir.OpConstant:
		if a := v.Def.Attr("value"); a != nil && a.Kind == ir.AttrTensor {
			return a.Tensor
		}
	}
	return nil
}

// floatScalar returns a scalar tensor of float dtype dt (float32 when dt is
// unknown) holding x, or nil for other dtypes.
func floatScalar(dt ir.DType, x float64) *ir.Tensor {
	switch dt {
	case ir.Float32, ir.Undefined:
		return ir.NewFloat32([]int64{}, []float32{float32(x)})
	case ir.Float64:
		return &ir.Tensor{DType: ir.Float64, Dims: []int64{}, Raw: binary.LittleEndian.AppendUint64(nil, math.Float64bits(x))}
	}
	return nil
}

func ints1D(x []int64) *ir.Tensor { return ir.NewInt64([]int64{int64(len(x))}, x) }

// attrToInput moves ints attribute name of n to input position pos as an
// int64 param, if present.
func (c *conv) attrToInput(n *ir.Node, name string, pos int) error {
	a := n.Attr(name)
	if a == nil {
		return nil
	}
	if a.Kind != ir.AttrInts {
		return keepOpaque(fmt.Sprintf("attribute %q is %v, want ints", name, a.Kind))
	}
	v := c.param(n, name, ints1D(a.Ints))
	for len(n.Inputs) <= pos {
		n.Inputs = append(n.Inputs, nil)
	}
	n.Inputs[pos] = v
	n.DelAttr(name)
	return nil
}

// Clip before opset 11: min and max are attributes.
func upClip(c *conv, n *ir.Node) error {
	if c.opset >= 11 {
		return nil
	}
	if n.Input(0) == nil {
		return nil // the arity check reports it
	}
	in := make([]*ir.Value, 3)
	in[0] = n.Input(0)
	for i, name := range []string{"min", "max"} {
		a := n.Attr(name)
		if a == nil {
			continue
		}
		t := floatScalar(in[0].DType, float64(a.Float))
		if a.Kind != ir.AttrFloat || t == nil {
			return keepOpaque(fmt.Sprintf("cannot make a %v bound from attribute %q", in[0].DType, name))
		}
		in[i+1] = c.param(n, name, t)
		n.DelAttr(name)
	}
	for len(in) > 1 && in[len(in)-1] == nil {
		in = in[:len(in)-1]
	}
	n.Inputs = in
	return nil
}

// Squeeze and Unsqueeze before opset 13: axes is an attribute.
func upAxesInput(c *conv, n *ir.Node) error {
	if c.opset >= 13 {
		return nil
	}
	return c.attrToInput(n, "axes", 1)
}

// Split before 13: sizes in attribute split; from 18: num_outputs, which the
// IR infers from the output count (equal parts) except for a static axis
// that does not divide evenly.
func upSplit(c *conv, n *ir.Node) error {
	if c.opset < 13 {
		return c.attrToInput(n, "split", 1)
	}
	a := n.Attr("num_outputs")
	if a == nil {
		return nil
	}
	parts := int64(len(n.Outputs))
	if a.Kind != ir.AttrInt || a.Int != parts || parts == 0 {
		return keepOpaque("num_outputs does not match the outputs")
	}
	n.DelAttr("num_outputs")
	// Opset 18 makes the last part smaller when the axis does not divide
	// evenly; the IR's equal split cannot, so give the sizes explicitly.
	x := n.Input(0)
	if x == nil || x.Shape == nil || len(n.Inputs) != 1 {
		return nil
	}
	axis := n.Int("axis")
	if axis < 0 {
		axis += int64(len(x.Shape))
	}
	if axis < 0 || axis >= int64(len(x.Shape)) || !x.Shape[axis].Static() || x.Shape[axis].Size%parts == 0 {
		return nil
	}
	d := x.Shape[axis].Size
	chunk := (d + parts - 1) / parts
	sizes := make([]int64, parts)
	for i := range sizes {
		sizes[i] = max(0, min(chunk, d-int64(i)*chunk))
	}
	n.Inputs = append(n.Inputs, c.param(n, "split", ints1D(sizes)))
	return nil
}

// Slice before opset 10: starts, ends and axes are attributes.
func upSlice(c *conv, n *ir.Node) error {
	if c.opset >= 10 {
		return nil
	}
	for i, name := range []string{"starts", "ends", "axes"} {
		if err := c.attrToInput(n, name, i+1); err != nil {
			return err
		}
	}
	return nil
}

// ReduceMean from opset 18: axes is an optional input, and
// noop_with_empty_axes can make an empty axes list mean identity.
func upReduceMean(c *conv, n *ir.Node) error {
	if c.opset < 18 || len(n.Inputs) == 0 {
		return nil
	}
	var axes []int64
	if x := n.Input(1); x != nil {
		t := c.constant(x)
		if t == nil || !t.DType.IsInt() {
			return keepOpaque("axes input is not a constant")
		}
		axes = t.Int64s()
	}
	if a := n.Attr("noop_with_empty_axes"); a != nil {
		if a.Int != 0 && len(axes) == 0 {
			return keepOpaque("noop_with_empty_axes with no axes")
		}
		n.DelAttr("noop_with_empty_axes")
	}
	n.Inputs = n.Inputs[:1]
	if len(axes) > 0 {
		n.SetAttr(ir.IntsAttr("axes", axes...))
	}
	return nil
}

// Pad before opset 11: pads and value are attributes; from 18 an optional
// axes input, which the IR does not have.
func upPad(c *conv, n *ir.Node) error {
	if c.opset >= 18 && n.Input(3) != nil {
		return keepOpaque("axes input")
	}
	if len(n.Inputs) > 3 {
		n.Inputs = n.Inputs[:3]
	}
	if c.opset >= 11 || n.Input(0) == nil || len(n.Inputs) > 1 {
		return nil
	}
	if err := c.attrToInput(n, "pads", 1); err != nil {
		return err
	}
	if len(n.Inputs) != 2 {
		return keepOpaque("no pads")
	}
	if a := n.Attr("value"); a != nil {
		if a.Kind != ir.AttrFloat {
			return keepOpaque("attribute \"value\" is not a float")
		}
		if a.Float != 0 {
			t := floatScalar(n.Input(0).DType, float64(a.Float))
			if t == nil {
				return keepOpaque(fmt.Sprintf("cannot make a %v pad value", n.Input(0).DType))
			}
			n.Inputs = append(n.Inputs[:2], c.param(n, "value", t))
		}
		n.DelAttr("value")
	}
	return nil
}

// Dropout before opset 12: ratio is an attribute (and is_test before 7).
func upDropout(c *conv, n *ir.Node) error {
	if c.opset >= 12 || len(n.Inputs) != 1 {
		return nil
	}
	n.DelAttr("is_test")
	if a := n.Attr("ratio"); a != nil {
		if a.Kind != ir.AttrFloat {
			return keepOpaque("attribute \"ratio\" is not a float")
		}
		n.Inputs = append(n.Inputs[:1], c.param(n, "ratio", ir.NewFloat32([]int64{}, []float32{a.Float})))
		n.DelAttr("ratio")
	}
	return nil
}

// BatchNormalization before opset 14: extra outputs mean training mode, and
// older versions carry is_test, consumed_inputs and spatial.
func upBatchNorm(c *conv, n *ir.Node) error {
	if c.opset >= 14 {
		return nil
	}
	for len(n.Outputs) > 1 && n.Outputs[len(n.Outputs)-1] == nil {
		n.Outputs = n.Outputs[:len(n.Outputs)-1]
	}
	if len(n.Outputs) > 1 {
		return keepOpaque("training-mode outputs")
	}
	if a := n.Attr("spatial"); a != nil {
		if a.Kind != ir.AttrInt || a.Int != 1 {
			return keepOpaque("spatial=0")
		}
		n.DelAttr("spatial")
	}
	n.DelAttr("is_test")
	n.DelAttr("consumed_inputs")
	return nil
}

// Softmax before opset 13 flattens its input to 2-D at axis (default 1) and
// normalizes each row. On the last axis that is opset 13's Softmax; otherwise
// it becomes Reshape(Softmax(Flatten(x, axis)), Shape(x)), valid for any rank.
func upSoftmax(c *conv, n *ir.Node) error {
	if c.opset >= 13 {
		return nil
	}
	axis := int64(1)
	if a := n.Attr("axis"); a != nil {
		if a.Kind != ir.AttrInt {
			return keepOpaque("attribute \"axis\" is not an int")
		}
		axis = a.Int
	}
	x := n.Input(0)
	if x == nil || len(n.Outputs) != 1 || n.Outputs[0] == nil {
		return nil // the arity check reports it
	}
	rank := int64(len(x.Shape))
	if axis == -1 || (x.Shape != nil && axis == rank-1) {
		n.SetAttr(ir.IntAttr("axis", -1))
		return nil
	}
	shape := c.node(ir.OpShape, n.Name+"_shape", []*ir.Value{x})
	flat := c.node(ir.OpFlatten, n.Name+"_flatten", []*ir.Value{x}, ir.IntAttr("axis", axis))
	out := n.Outputs[0]
	rows := &ir.Value{Name: c.freshValue(n.Name + "_rows"), Def: n}
	c.im.values[rows.Name] = rows
	reshape := &ir.Node{Name: freshName(n.Name+"_reshape", c.im.nodes), Op: ir.OpReshape,
		Inputs: []*ir.Value{rows, shape}, Outputs: []*ir.Value{out}}
	c.im.nodes[reshape.Name] = true
	out.Def = reshape
	n.Inputs = []*ir.Value{flat}
	n.Outputs = []*ir.Value{rows}
	n.SetAttr(ir.IntAttr("axis", -1))
	c.post = append(c.post, reshape)
	return nil
}

// Resize at opset 10 takes (X, scales) and behaves like Upsample: asymmetric
// coordinates, nearest rounding down (as ONNX's 10-to-11 adapter says).
// Opsets 11 and 12 have a coordinate mode that 13 dropped.
func upResize(c *conv, n *ir.Node) error {
	if a := n.Attr("coordinate_transformation_mode"); a != nil && a.Str == "tf_half_pixel_for_nn" {
		return keepOpaque("coordinate_transformation_mode tf_half_pixel_for_nn (removed in opset 13)")
	}
	if c.opset >= 11 {
		return nil
	}
	if len(n.Inputs) != 2 {
		return keepOpaque("opset-10 Resize wants 2 inputs")
	}
	n.Inputs = []*ir.Value{n.Inputs[0], nil, n.Inputs[1]}
	mode := "nearest"
	if a := n.Attr("mode"); a != nil {
		mode = a.Str
	}
	n.SetAttr(ir.StrAttr("coordinate_transformation_mode", "asymmetric"))
	if mode == "nearest" {
		n.SetAttr(ir.StrAttr("nearest_mode", "floor"))
	}
	return nil
}

// Constant's value_float(s), value_int(s) and value_string(s) become value.
func upConstant(c *conv, n *ir.Node) error {
	if len(n.Attrs) != 1 {
		return keepOpaque("want exactly one attribute")
	}
	a := &n.Attrs[0]
	var t *ir.Tensor
	switch {
	case a.Name == "value":
		return nil
	case a.Name == "value_float" && a.Kind == ir.AttrFloat:
		t = ir.NewFloat32([]int64{}, []float32{a.Float})
	case a.Name == "value_floats" && a.Kind == ir.AttrFloats:
		t = ir.NewFloat32([]int64{int64(len(a.Floats))}, a.Floats)
	case a.Name == "value_int" && a.Kind == ir.AttrInt:
		t = ir.NewInt64([]int64{}, []int64{a.Int})
	case a.Name == "value_ints" && a.Kind == ir.AttrInts:
		t = ints1D(a.Ints)
	case a.Name == "value_string" && a.Kind == ir.AttrString:
		t = &ir.Tensor{DType: ir.String, Dims: []int64{}, Strs: []string{a.Str}}
	case a.Name == "value_strings" && a.Kind == ir.AttrStrings:
		t = &ir.Tensor{DType: ir.String, Dims: []int64{int64(len(a.Strs))}, Strs: a.Strs}
	default:
		return keepOpaque(fmt.Sprintf("attribute %q", a.Name))
	}
	n.Attrs = []ir.Attr{ir.TensorAttr("value", t)}
	return nil
}

// QuantizeLinear and DequantizeLinear at opset 21 may say block_size and
// output_dtype; only their defaults fit the IR.
func upQDQ(c *conv, n *ir.Node) error {
	for _, name := range []string{"block_size", "output_dtype"} {
		if a := n.Attr(name); a != nil && a.Kind == ir.AttrInt && a.Int == 0 {
			n.DelAttr(name)
		}
	}
	return nil
}

// fits returns why n does not fit its op's schema, or "".
func fits(n *ir.Node) string {
	info := n.Op.Info()
	if len(n.Inputs) < info.MinIn || (info.MaxIn >= 0 && len(n.Inputs) > info.MaxIn) {
		return fmt.Sprintf("%d inputs", len(n.Inputs))
	}
	for j := 0; j < info.MinIn; j++ {
		if n.Inputs[j] == nil {
			return fmt.Sprintf("input %d missing", j)
		}
	}
	if len(n.Outputs) < info.MinOut || (info.MaxOut >= 0 && len(n.Outputs) > info.MaxOut) {
		return fmt.Sprintf("%d outputs", len(n.Outputs))
	}
	for j := 0; j < info.MinOut; j++ {
		if n.Outputs[j] == nil {
			return fmt.Sprintf("output %d missing", j)
		}
	}
	for _, a := range n.Attrs {
		s := info.AttrSpec(a.Name)
		if s == nil {
			return fmt.Sprintf("attribute %q", a.Name)
		}
		if s.Kind != a.Kind {
			return fmt.Sprintf("attribute %q is %v, want %v", a.Name, a.Kind, s.Kind)
		}
	}
	for _, s := range info.Attrs {
		if s.Required && n.Attr(s.Name) == nil {
			return fmt.Sprintf("attribute %q missing", s.Name)
		}
	}
	return ""
}

// convert normalizes core-op node n (read from np) to the IR's opset-13 form
// and returns the nodes replacing it. A node the IR cannot express is kept
// opaque in its original form, with a remark saying why.
func (im *importer) convert(n *ir.Node, np *onnxpb.NodeProto) []*ir.Node {
	if n.Op == ir.OpOpaque {
		return []*ir.Node{n}
	}
	c := &conv{im: im, opset: im.opset}
	inputs := append([]*ir.Value(nil), n.Inputs...)
	outputs := append([]*ir.Value(nil), n.Outputs...)
	var why string
	if r := opRules[n.Op]; r.up != nil {
		if err := r.up(c, n); err != nil {
			var k keepOpaque
			if !errors.As(err, &k) {
				im.errorf("node %q (%s): %v", n.Name, n.TypeName(), err)
				return []*ir.Node{n}
			}
			why = string(k)
		}
	}
	if why == "" {
		why = fits(n)
	}
	if why != "" {
		for _, v := range c.params {
			delete(im.values, v.Name)
		}
		for _, m := range append(c.pre, c.post...) {
			delete(im.nodes, m.Name)
			for _, o := range m.Outputs {
				if !slices.Contains(outputs, o) {
					delete(im.values, o.Name)
				}
			}
		}
		n.Domain, n.OpType = np.GetDomain(), np.GetOpType()
		n.Op = ir.OpOpaque
		n.Inputs, n.Outputs = inputs, outputs
		for _, o := range outputs {
			if o != nil {
				o.Def = n
			}
		}
		attrs, err := attrsFromProto(np, true, nil)
		if err != nil {
			im.errorf("node %q (%s): %v", n.Name, n.OpType, err)
		}
		n.Attrs = attrs
		im.g.Remark(n, "onnxio: kept as opaque %s (opset %d): %s", n.OpType, im.opset, why)
		return []*ir.Node{n}
	}
	im.g.Params = append(im.g.Params, c.params...)
	im.consumed = append(im.consumed, c.consumed...)
	out := append(c.pre, n)
	return append(out, c.post...)
}

// Export rules: n is a copy whose Inputs and Attrs may be edited.

// ReduceMean from opset 18 takes axes as an input.
func downReduceMean(e *exporter, n *ir.Node) error {
	if e.opset < 18 {
		return nil
	}
	if a := n.Attr("axes"); a != nil {
		n.Inputs = []*ir.Value{n.Input(0), e.initializer(n.Name+"_axes", ints1D(a.Ints))}
		n.DelAttr("axes")
	}
	return nil
}

// Split from opset 18 needs num_outputs when no sizes are given.
func downSplit(e *exporter, n *ir.Node) error {
	if e.opset >= 18 && n.Input(1) == nil && len(n.Inputs) > 0 {
		n.Inputs = n.Inputs[:1]
		n.SetAttr(ir.IntAttr("num_outputs", int64(len(n.Outputs))))
	}
	return nil
}

// dropNewAttr removes attribute name, which exists only from opset since, if
// it holds its default (def) meaning; otherwise exporting is an error.
func dropNewAttr(e *exporter, n *ir.Node, name string, since int64, isDefault func(a *ir.Attr) bool) error {
	a := n.Attr(name)
	if a == nil || e.opset >= since {
		return nil
	}
	if !isDefault(a) {
		return fmt.Errorf("node %q (%s): attribute %q needs opset %d (exporting at %d)", n.Name, n.TypeName(), name, since, e.opset)
	}
	n.DelAttr(name)
	return nil
}

func intIs(v int64) func(a *ir.Attr) bool  { return func(a *ir.Attr) bool { return a.Int == v } }
func strIs(s string) func(a *ir.Attr) bool { return func(a *ir.Attr) bool { return a.Str == s } }
func allOnes(a *ir.Attr) bool {
	for _, x := range a.Ints {
		if x != 1 {
			return false
		}
	}
	return true
}

// Resize gained antialias, axes and keep_aspect_ratio_policy at 18 and the
// half_pixel_symmetric mode at 19.
func downResize(e *exporter, n *ir.Node) error {
	if err := dropNewAttr(e, n, "antialias", 18, intIs(0)); err != nil {
		return err
	}
	if err := dropNewAttr(e, n, "axes", 18, func(*ir.Attr) bool { return false }); err != nil {
		return err
	}
	if err := dropNewAttr(e, n, "keep_aspect_ratio_policy", 18, strIs("stretch")); err != nil {
		return err
	}
	if e.opset < 19 && n.Str("coordinate_transformation_mode") == "half_pixel_symmetric" {
		return fmt.Errorf("node %q (Resize): coordinate_transformation_mode half_pixel_symmetric needs opset 19 (exporting at %d)", n.Name, e.opset)
	}
	return nil
}

// Pad gained mode "wrap" at 19.
func downPad(e *exporter, n *ir.Node) error {
	if e.opset < 19 && n.Str("mode") == "wrap" {
		return fmt.Errorf("node %q (Pad): mode wrap needs opset 19 (exporting at %d)", n.Name, e.opset)
	}
	return nil
}

// Cast and QuantizeLinear gained saturate at 19. It only affects float8
// types, which the IR does not have, so it is dropped whatever its value.
func downSaturate(e *exporter, n *ir.Node) error {
	if e.opset < 19 {
		n.DelAttr("saturate")
	}
	return nil
}

// AveragePool gained dilations at 19.
func downAveragePool(e *exporter, n *ir.Node) error {
	return dropNewAttr(e, n, "dilations", 19, allOnes)
}

// Shape gained start and end at 15.
func downShape(e *exporter, n *ir.Node) error {
	rank := int64(-1)
	if x := n.Input(0); x != nil && x.Shape != nil {
		rank = int64(len(x.Shape))
	}
	whole := func(a *ir.Attr) bool {
		switch a.Name {
		case "start":
			return a.Int == 0 || (rank >= 0 && a.Int == -rank)
		default: // end
			return rank >= 0 && a.Int >= rank
		}
	}
	if err := dropNewAttr(e, n, "start", 15, whole); err != nil {
		return err
	}
	return dropNewAttr(e, n, "end", 15, whole)
}

// BatchNormalization gained training_mode at 14; before, extra outputs meant
// training.
func downBatchNorm(e *exporter, n *ir.Node) error {
	if e.opset >= 14 {
		return nil
	}
	if err := dropNewAttr(e, n, "training_mode", 14, intIs(0)); err != nil {
		return err
	}
	if len(n.Outputs) > 1 {
		return fmt.Errorf("node %q (BatchNormalization): %d outputs need opset 14 (exporting at %d)", n.Name, len(n.Outputs), e.opset)
	}
	return nil
}

// HardSwish only exists from opset 14.
func downHardSwish(e *exporter, n *ir.Node) error {
	if e.opset < 14 {
		return fmt.Errorf("node %q (HardSwish): the op needs opset 14 (exporting at %d)", n.Name, e.opset)
	}
	return nil
}
