package passes

import (
	"fmt"
	"slices"
	"strings"

	"github.com/ferminets/fermi/ir"
)

// freeze-shapes binds dynamic input dims to static sizes, as mobile and DSP
// runtimes need (fcompile --input-shape NAME:1,3,224,224). Each named input
// gets the given dims (rank and existing static dims must agree); every
// symbolic dim that was bound (such as the batch "N") takes its size in
// every value of the graph, and shape inference then fills in what the
// new static sizes determine. Running simplify afterwards folds the
// shape computations that became static. The graph computes the same
// outputs for inputs of the frozen shapes.
func freezeShapes(c *ctx) error {
	a, _ := c.args.(FreezeArgs)
	bind := make(map[string]int64)
	for _, in := range a.Inputs {
		var v *ir.Value
		for _, x := range c.g.Inputs {
			if x.Name == in.Name {
				v = x
			}
		}
		if v == nil {
			names := make([]string, len(c.g.Inputs))
			for i, x := range c.g.Inputs {
				names[i] = fmt.Sprintf("%q", x.Name)
			}
			return fmt.Errorf("no input %q (inputs: %s)", in.Name, strings.Join(names, ", "))
		}
		if v.Shape == nil || len(v.Shape) != len(in.Dims) {
			return fmt.Errorf("input %q has shape %v, cannot freeze to %d dims %v", v.Name, v.Shape, len(in.Dims), in.Dims)
		}
		for i, d := range v.Shape {
			switch {
			case d.Static() && d.Size != in.Dims[i]:
				return fmt.Errorf("input %q: dim %d is %d, cannot freeze to %d", v.Name, i, d.Size, in.Dims[i])
			case d.Sym != "":
				if old, ok := bind[d.Sym]; ok && old != in.Dims[i] {
					return fmt.Errorf("input %q: dim %d (%s) frozen to both %d and %d", v.Name, i, d.Sym, old, in.Dims[i])
				}
				bind[d.Sym] = in.Dims[i]
			}
		}
		v.Shape = ir.Static(in.Dims...)
		c.changed = true
	}
	for _, v := range c.g.Values() {
		for i, d := range v.Shape {
			if s, ok := bind[d.Sym]; ok && d.Sym != "" {
				v.Shape[i] = ir.D(s)
			}
		}
	}
	for _, n := range c.g.Nodes {
		before := make([]ir.Shape, len(n.Outputs))
		for i, o := range n.Outputs {
			if o != nil {
				before[i] = o.Shape
			}
		}
		if err := ir.InferNode(n); err != nil {
			return err
		}
		for i, o := range n.Outputs {
			if o != nil {
				o.Shape = mergeShape(before[i], o.Shape)
			}
		}
	}
	return nil
}

// mergeShape returns the more specific of the stored shape a and the
// inferred shape b, dim by dim.
func mergeShape(a, b ir.Shape) ir.Shape {
	if a == nil {
		return b
	}
	if b == nil || len(a) != len(b) {
		return a
	}
	out := make(ir.Shape, len(a))
	for i := range a {
		out[i] = b[i]
		if !b[i].Static() && (a[i].Static() || b[i].Sym == "") {
			out[i] = a[i]
		}
	}
	return out
}

// FreezeArgs are the options of freeze-shapes: the static shape of each
// named input.
type FreezeArgs struct {
	Inputs []InputShape
}

// InputShape is one input's frozen shape.
type InputShape struct {
	Name string
	Dims []int64
}

// String returns the options as Parse reads them: "input=1,3,224,224".
func (a FreezeArgs) String() string {
	parts := make([]string, len(a.Inputs))
	for i, in := range a.Inputs {
		ds := make([]string, len(in.Dims))
		for j, d := range in.Dims {
			ds[j] = fmt.Sprint(d)
		}
		parts[i] = in.Name + "=" + strings.Join(ds, ",")
	}
	return strings.Join(parts, ",")
}

func freezeArgs(opts []option) (any, error) {
	var a FreezeArgs
	if len(opts) == 0 {
		return nil, fmt.Errorf("want at least one NAME=DIMS option")
	}
	for _, o := range opts {
		dims, err := parseInts(o.value)
		if err != nil {
			return nil, fmt.Errorf("option %q: %v", o.key, err)
		}
		for _, d := range dims {
			if d < 1 {
				return nil, fmt.Errorf("option %q: dim %d is not positive", o.key, d)
			}
		}
		a.Inputs = append(a.Inputs, InputShape{Name: o.key, Dims: dims})
	}
	return a, nil
}

// FreezeStep returns the freeze-shapes step for the given input shapes
// (what fcompile --input-shape NAME:DIMS builds).
func FreezeStep(inputs ...InputShape) (Step, error) {
	if len(inputs) == 0 {
		return Step{}, fmt.Errorf("passes: freeze-shapes: no input shapes")
	}
	for _, in := range inputs {
		for _, d := range in.Dims {
			if d < 1 {
				return Step{}, fmt.Errorf("passes: freeze-shapes: input %q: dim %d is not positive", in.Name, d)
			}
		}
	}
	return Step{Name: "freeze-shapes", Args: FreezeArgs{Inputs: inputs}, p: lookup("freeze-shapes")}, nil
}

// ParseInputShape reads fcompile's --input-shape value "NAME:1,3,224,224".
func ParseInputShape(s string) (InputShape, error) {
	name, dims, ok := strings.Cut(s, ":")
	if !ok || name == "" {
		return InputShape{}, fmt.Errorf("passes: input shape %q: want NAME:D0,D1,...", s)
	}
	ds, err := parseInts(dims)
	if err != nil {
		return InputShape{}, fmt.Errorf("passes: input shape %q: %v", s, err)
	}
	return InputShape{Name: name, Dims: ds}, nil
}

// WithInputShapes returns p preceded by freeze-shapes for the given input
// shapes (fcompile --input-shape) and, when p does not simplify again
// after it, followed by simplify, so shape computations that became
// static fold. With no shapes it returns p unchanged.
func WithInputShapes(p Pipeline, shapes ...InputShape) (Pipeline, error) {
	if len(shapes) == 0 {
		return p, nil
	}
	st, err := FreezeStep(shapes...)
	if err != nil {
		return nil, err
	}
	out := append(Pipeline{st}, p...)
	if !slices.ContainsFunc(p, func(s Step) bool { return s.Name == "simplify" || s.Name == "const-fold" }) {
		out = append(out, Step{Name: "simplify", p: lookup("simplify")})
	}
	return out, nil
}
