package passes

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/ferminets/fermi/engine"
	"github.com/ferminets/fermi/ir"
)

// EquivOptions configure CheckEquivalence.
type EquivOptions struct {
	Seed  uint64  // seed of the random inputs
	Batch int64   // size bound to symbolic and unknown input dims; 0 means 2
	Tol   float64 // largest allowed relative error; 0 means DefaultTol
}

// DefaultTol is the relative error CheckEquivalence allows by default.
const DefaultTol = 1e-4

// EquivResult is the measured difference between two graphs' outputs.
type EquivResult struct {
	MaxAbs float64 // largest |after − before| over all output elements
	MaxRel float64 // largest per-output MaxAbs / max|before| (MaxAbs when before is all zero)
	Worst  string  // name of the output with the largest relative error
}

// CheckEquivalence runs before and after in the engine on the same seeded
// random inputs (drawn for after's inputs: N(0,1) for floats, zero for
// integers, false for bool; symbolic dims bound to opts.Batch) and compares
// the outputs position by position. It returns the measured errors, and an
// error when the graphs cannot be run, disagree in outputs or dtypes, or
// differ by more than opts.Tol relative error.
func CheckEquivalence(before, after *ir.Graph, opts EquivOptions) (*EquivResult, error) {
	if opts.Batch <= 0 {
		opts.Batch = 2
	}
	if opts.Tol <= 0 {
		opts.Tol = DefaultTol
	}
	inputs, err := RandomInputs(after, opts.Seed, opts.Batch)
	if err != nil {
		return nil, err
	}
	run := func(g *ir.Graph, which string) ([]*ir.Tensor, error) {
		e, err := engine.New(g)
		if err != nil {
			return nil, fmt.Errorf("passes: equivalence: %s: %w", which, err)
		}
		out, err := e.Run(floatInputsFor(g, inputs))
		if err != nil {
			return nil, fmt.Errorf("passes: equivalence: %s: %w", which, err)
		}
		return out, nil
	}
	want, err := run(before, "before")
	if err != nil {
		return nil, err
	}
	got, err := run(after, "after")
	if err != nil {
		return nil, err
	}
	if len(want) != len(got) {
		return nil, fmt.Errorf("passes: equivalence: %d outputs before, %d after", len(want), len(got))
	}
	res := &EquivResult{}
	for i := range want {
		name := after.Outputs[i].Name
		w, g := want[i], got[i]
		if (w.DType != g.DType && !(isF(w.DType) && isF(g.DType))) || !equalDims(w.Dims, g.Dims) { // fp16{io=fp16} changes f32 to f16
			return res, fmt.Errorf("passes: equivalence: output %q: %v%v before, %v%v after", name, w.DType, w.Dims, g.DType, g.Dims)
		}
		wf, gf := w.Float64s(), g.Float64s()
		var maxAbs, scale float64
		for j := range wf {
			if math.IsNaN(wf[j]) != math.IsNaN(gf[j]) {
				return res, fmt.Errorf("passes: equivalence: output %q: element %d is %v before, %v after", name, j, wf[j], gf[j])
			}
			if d := math.Abs(wf[j] - gf[j]); d > maxAbs {
				maxAbs = d
			}
			scale = max(scale, math.Abs(wf[j]))
		}
		rel := maxAbs
		if scale > 0 {
			rel = maxAbs / scale
		}
		res.MaxAbs = max(res.MaxAbs, maxAbs)
		if rel > res.MaxRel || res.Worst == "" {
			res.MaxRel, res.Worst = rel, name
		}
	}
	if res.MaxRel > opts.Tol {
		return res, fmt.Errorf("passes: equivalence: output %q: relative error %.3g exceeds tolerance %.3g (max abs error %.3g)", res.Worst, res.MaxRel, opts.Tol, res.MaxAbs)
	}
	return res, nil
}

// floatInputsFor returns inputs with float32 and float16 tensors converted
// to the dtype g declares for them (fp16{io=fp16} changes input dtypes).
func floatInputsFor(g *ir.Graph, inputs map[string]*ir.Tensor) map[string]*ir.Tensor {
	out := make(map[string]*ir.Tensor, len(inputs))
	for name, t := range inputs {
		out[name] = t
		for _, v := range g.Inputs {
			if v.Name == name && v.DType != t.DType && isF(v.DType) && isF(t.DType) {
				vals := t.Float64s()
				c := ir.NewFloat32(append([]int64(nil), t.Dims...), make([]float32, len(vals)))
				for i, x := range vals {
					c.F32[i] = float32(x)
				}
				if v.DType == ir.Float16 {
					c = halfOf(c)
				}
				out[name] = c
			}
		}
	}
	return out
}

// RelError returns max |before−after| / max |before| over the elements of two
// tensors (max |before−after| when before is all zero): the relative error
// CheckEquivalence bounds, for comparing outputs of other runtimes. A NaN
// difference yields NaN and differing lengths +Inf, so a bound check
// written as !(err <= tol) fails on both.
func RelError(before, after *ir.Tensor) float64 {
	x, y := before.Float64s(), after.Float64s()
	if len(x) != len(y) {
		return math.Inf(1)
	}
	var d, s float64
	for i := range x {
		d = max(d, math.Abs(x[i]-y[i]))
		s = max(s, math.Abs(x[i]))
	}
	if s == 0 {
		return d
	}
	return d / s
}

func equalDims(a, b []int64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// RandomInputs returns seeded random tensors for g's inputs, keyed by name:
// N(0,1) for f32 and f16, zero for integers, false for bool; symbolic and unknown
// dims take the size batch. Input i draws from PCG stream (seed, i).
func RandomInputs(g *ir.Graph, seed uint64, batch int64) (map[string]*ir.Tensor, error) {
	out := make(map[string]*ir.Tensor, len(g.Inputs))
	for i, v := range g.Inputs {
		if v.Shape == nil {
			return nil, fmt.Errorf("passes: input %q has unknown rank", v.Name)
		}
		dims := make([]int64, len(v.Shape))
		for j, d := range v.Shape {
			dims[j] = batch
			if d.Static() {
				dims[j] = d.Size
			}
		}
		n := ir.NumElements(dims)
		t := &ir.Tensor{DType: v.DType, Dims: dims}
		switch {
		case v.DType == ir.Float32 || v.DType == ir.Float16:
			rng := rand.New(rand.NewPCG(seed, uint64(i)))
			t.DType = ir.Float32
			t.F32 = make([]float32, n)
			for j := range t.F32 {
				t.F32[j] = float32(rng.NormFloat64())
			}
			if v.DType == ir.Float16 { // the same draws, rounded
				t = halfOf(t)
			}
		case v.DType == ir.Int64:
			t.I64 = make([]int64, n)
		case v.DType.Size() > 0 && v.DType != ir.String:
			t.Raw = make([]byte, n*int64(v.DType.Size()))
		default:
			return nil, fmt.Errorf("passes: input %q: cannot make random %v data", v.Name, v.DType)
		}
		out[v.Name] = t
	}
	return out, nil
}

// Clone returns a deep copy of g's structure (values, nodes, attributes,
// metadata). Tensors are shared: passes never modify a tensor in place.
func Clone(g *ir.Graph) *ir.Graph {
	c := *g
	vm := make(map[*ir.Value]*ir.Value)
	val := func(v *ir.Value) *ir.Value {
		if v == nil {
			return nil
		}
		if w, ok := vm[v]; ok {
			return w
		}
		w := *v
		w.Shape = append(ir.Shape(nil), v.Shape...)
		if v.Shape != nil && len(v.Shape) == 0 {
			w.Shape = ir.Shape{}
		}
		vm[v] = &w
		return &w
	}
	c.Inputs = mapVals(g.Inputs, val)
	c.Params = mapVals(g.Params, val)
	c.Nodes = make([]*ir.Node, len(g.Nodes))
	for i, n := range g.Nodes {
		m := *n
		m.Inputs = mapVals(n.Inputs, val)
		m.Outputs = mapVals(n.Outputs, val)
		for _, o := range m.Outputs {
			if o != nil {
				o.Def = &m
			}
		}
		m.Attrs = append([]ir.Attr(nil), n.Attrs...)
		c.Nodes[i] = &m
	}
	c.Outputs = mapVals(g.Outputs, val)
	c.Opsets = append([]ir.OpsetImport(nil), g.Opsets...)
	c.Metadata = append([]ir.MetaProp(nil), g.Metadata...)
	c.Remarks = append([]string(nil), g.Remarks...)
	return &c
}

func mapVals(vs []*ir.Value, f func(*ir.Value) *ir.Value) []*ir.Value {
	if vs == nil {
		return nil
	}
	out := make([]*ir.Value, len(vs))
	for i, v := range vs {
		out[i] = f(v)
	}
	return out
}
