package passes

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"

	"github.com/ferminets/fermi/dataset"
	"github.com/ferminets/fermi/engine"
	"github.com/ferminets/fermi/ir"
)

// quantize rewrites a float model into ONNX's static int8 QDQ form, which
// ONNX Runtime runs (and fuses into integer kernels where it can):
//
//   - the weights of every Conv, Gemm and MatMul with constant f32 weights
//     become int8 parameters, quantized per output channel symmetrically
//     (zero point 0, scale max|w|/127), read through DequantizeLinear;
//   - the activation input of each such node gets a QuantizeLinear →
//     DequantizeLinear pair, per tensor, int8 (S8S8), with scale and zero
//     point from the range observed on calibration data: minmax (the
//     observed min and max, widened to include 0) or percentile (the
//     0.01st and 99.99th percentiles of a reservoir sample of each
//     tensor's values).
//
// Biases, residual Adds, pooling and everything else stay float.
// Error bound: every quantized weight or activation element in range is
// off by at most half its scale (values outside the calibrated range
// saturate); the end-to-end error depends on the model and is measured by
// the tests (accuracy on Fashion-MNIST). Run fold-bn before (BatchNorm is
// folded into the weights that get quantized) and not simplify after
// (const-fold never folds DequantizeLinear, so this is safe, but there is
// nothing left to gain).
//
// Options: calib=DATASET (a dataset.Load name such as fashion-mnist, read
// from its "train" split with dataset.DefaultNormalization, or "random"
// for seeded N(0,1) inputs), samples=N (default 256), method=minmax|
// percentile (default minmax).
func quantize(c *ctx) error {
	a, _ := c.args.(QuantizeArgs)
	batches, err := calibrationBatches(c.g, a)
	if err != nil {
		return err
	}
	targets := quantTargets(c.g)
	if len(targets) == 0 {
		return fmt.Errorf("quantize: no Conv, Gemm or MatMul with constant f32 weights")
	}
	ranges, err := observe(c.g, targets, batches, a.Method)
	if err != nil {
		return err
	}
	return insertQDQ(c, targets, ranges)
}

// QuantizeArgs are the options of quantize.
type QuantizeArgs struct {
	Calib   string // data set name, or "random"
	Samples int
	Method  string // "minmax" or "percentile"
}

// String returns the options as Parse reads them.
func (a QuantizeArgs) String() string {
	return fmt.Sprintf("calib=%s,samples=%d,method=%s", a.Calib, a.Samples, a.Method)
}

func quantizeArgs(opts []option) (any, error) {
	a := QuantizeArgs{Samples: 256, Method: "minmax"}
	for _, o := range opts {
		switch o.key {
		case "calib":
			if o.value == "" {
				return nil, fmt.Errorf("calib: empty data set name")
			}
			a.Calib = o.value
		case "samples":
			n, err := strconv.Atoi(o.value)
			if err != nil || n < 1 {
				return nil, fmt.Errorf("samples=%q: want a positive integer", o.value)
			}
			a.Samples = n
		case "method":
			if o.value != "minmax" && o.value != "percentile" {
				return nil, fmt.Errorf("unknown method %q (want minmax or percentile)", o.value)
			}
			a.Method = o.value
		default:
			return nil, fmt.Errorf("unknown option %q (want calib, samples or method)", o.key)
		}
	}
	if a.Calib == "" {
		return nil, fmt.Errorf("want calib=DATASET (or calib=random)")
	}
	return a, nil
}

// calibBatch is the number of samples run through the engine at once.
const calibBatch = 32

// calibrationBatches returns the calibration inputs, keyed by input name.
func calibrationBatches(g *ir.Graph, a QuantizeArgs) ([]map[string]*ir.Tensor, error) {
	if len(g.Inputs) == 0 {
		return nil, fmt.Errorf("quantize: graph has no inputs")
	}
	var out []map[string]*ir.Tensor
	if a.Calib == "random" {
		for i := 0; i < a.Samples; i += calibBatch {
			in, err := RandomInputs(g, uint64(i), int64(min(calibBatch, a.Samples-i)))
			if err != nil {
				return nil, err
			}
			out = append(out, in)
		}
		return out, nil
	}
	if len(g.Inputs) != 1 {
		return nil, fmt.Errorf("quantize: calib=%s needs a graph with one image input, this one has %d inputs", a.Calib, len(g.Inputs))
	}
	in := g.Inputs[0]
	set, err := dataset.Load(a.Calib, "train", dataset.Options{})
	if err != nil {
		return nil, fmt.Errorf("quantize: %w", err)
	}
	s := in.Shape
	if len(s) != 4 || s[1] != ir.D(int64(set.C)) || s[2] != ir.D(int64(set.H)) || s[3] != ir.D(int64(set.W)) {
		return nil, fmt.Errorf("quantize: input %q has shape %v, data set %s has %d×%d×%d images", in.Name, s, a.Calib, set.C, set.H, set.W)
	}
	norm := dataset.DefaultNormalization(a.Calib)
	n := min(a.Samples, set.N)
	bs := calibBatch
	if s[0].Static() {
		bs = int(s[0].Size)
	}
	for i := 0; i+bs <= n || (i < n && !s[0].Static()); i += bs {
		k := min(bs, n-i)
		idx := make([]int, k)
		for j := range idx {
			idx[j] = i + j
		}
		data := make([]float32, k*set.ImageSize())
		set.Batch(idx, norm, data)
		out = append(out, map[string]*ir.Tensor{in.Name: ir.NewFloat32([]int64{int64(k), int64(set.C), int64(set.H), int64(set.W)}, data)})
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("quantize: %d calibration samples do not fill one batch of %d", n, bs)
	}
	return out, nil
}

// quantTargets returns the nodes whose weights and activation input are
// quantized.
func quantTargets(g *ir.Graph) []*ir.Node {
	var out []*ir.Node
	for _, n := range g.Nodes {
		switch n.Op {
		case ir.OpConv, ir.OpGemm, ir.OpMatMul:
		default:
			continue
		}
		w := ir.ConstValue(n.Input(1))
		if w == nil || w.DType != ir.Float32 || n.Input(0).DType != ir.Float32 || n.Input(1).Def != nil {
			continue
		}
		if n.Op != ir.OpConv && (len(w.Dims) != 2 || n.Int("transA") != 0) {
			continue
		}
		out = append(out, n)
	}
	return out
}

// reservoirSize bounds the values kept per tensor for percentiles.
const reservoirSize = 1 << 16

// valueRange is the observed range of one activation.
type valueRange struct {
	lo, hi float64
	seen   int64
	res    []float32
}

// observe runs the calibration batches and returns the range of every
// activation input of the targets.
func observe(g *ir.Graph, targets []*ir.Node, batches []map[string]*ir.Tensor, method string) (map[*ir.Value]*valueRange, error) {
	ranges := make(map[*ir.Value]*valueRange)
	for _, n := range targets {
		ranges[n.Input(0)] = &valueRange{lo: math.Inf(1), hi: math.Inf(-1)}
	}
	// Run a copy whose outputs are the observed values, so the engine keeps them.
	obs := Clone(g)
	vals := make(map[string]*ir.Value)
	for _, v := range obs.Values() {
		vals[v.Name] = v
	}
	var names []string
	for v := range ranges {
		names = append(names, v.Name)
	}
	slices.Sort(names)
	obs.Outputs = obs.Outputs[:0]
	for _, name := range names {
		obs.Outputs = append(obs.Outputs, vals[name])
	}
	e, err := engine.New(obs)
	if err != nil {
		return nil, fmt.Errorf("quantize: calibration: %w", err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	byName := make(map[string]*valueRange)
	for v, r := range ranges {
		byName[v.Name] = r
	}
	for _, in := range batches {
		out, err := e.Run(in)
		if err != nil {
			return nil, fmt.Errorf("quantize: calibration: %w", err)
		}
		for i, name := range names {
			r := byName[name]
			for _, x := range out[i].F32 {
				r.lo, r.hi = min(r.lo, float64(x)), max(r.hi, float64(x))
				if method == "percentile" {
					r.seen++
					if len(r.res) < reservoirSize {
						r.res = append(r.res, x)
					} else if j := rng.Int64N(r.seen); j < reservoirSize {
						r.res[j] = x
					}
				}
			}
		}
	}
	if method == "percentile" {
		for _, r := range ranges {
			if len(r.res) == 0 {
				continue
			}
			slices.Sort(r.res)
			at := func(p float64) float64 { return float64(r.res[int(p*float64(len(r.res)-1))]) }
			r.lo, r.hi = at(0.0001), at(0.9999)
		}
	}
	return ranges, nil
}

// insertQDQ rewrites the targets into QDQ form.
func insertQDQ(c *ctx, targets []*ir.Node, ranges map[*ir.Value]*valueRange) error {
	before := make(map[*ir.Node][]*ir.Node) // nodes to insert before each target
	act := make(map[*ir.Value]*ir.Value)    // dequantized activation of each value
	for _, n := range targets {
		x := n.Input(0)
		dq, ok := act[x]
		if !ok {
			r := ranges[x]
			lo, hi := min(r.lo, 0), max(r.hi, 0)
			scale := float32((hi - lo) / 255)
			if !(scale > 0) || math.IsInf(float64(scale), 0) {
				scale = 1
			}
			zp := int8(max(-128, min(127, math.RoundToEven(-128-lo/float64(scale)))))
			s := c.newParam(x.Name+"_scale", ir.NewFloat32([]int64{}, []float32{scale}))
			z := c.newParam(x.Name+"_zero_point", &ir.Tensor{DType: ir.Int8, Dims: []int64{}, Raw: []byte{byte(zp)}})
			q := newNode(c, ir.OpQuantizeLinear, x.Name+"_quantized", x, s, z)
			d := newNode(c, ir.OpDequantizeLinear, x.Name+"_dequantized", q.Outputs[0], s, z)
			for _, m := range []*ir.Node{q, d} {
				if err := ir.InferNode(m); err != nil {
					return err
				}
			}
			before[n] = append(before[n], q, d)
			dq = d.Outputs[0]
			act[x] = dq
		}
		c.setInput(n, 0, dq)

		// Weights: per output channel, symmetric.
		wv := n.Input(1)
		w := ir.ConstValue(wv)
		data := floats(wv)
		axis := 0
		if n.Op == ir.OpMatMul || (n.Op == ir.OpGemm && n.Int("transB") == 0) {
			axis = 1
		}
		ch := int(w.Dims[axis])
		inner := int(ir.NumElements(w.Dims[axis+1:]))
		maxAbs := make([]float64, ch)
		for i, v := range data {
			k := i / inner % ch
			maxAbs[k] = max(maxAbs[k], math.Abs(float64(v)))
		}
		scales := make([]float32, ch)
		for k, m := range maxAbs {
			scales[k] = float32(m / 127)
			if !(scales[k] > 0) {
				scales[k] = 1
			}
		}
		qw := make([]byte, len(data))
		for i, v := range data {
			k := i / inner % ch
			qw[i] = byte(int8(max(-127, min(127, math.RoundToEven(float64(v/scales[k]))))))
		}
		wq := c.newParam(wv.Name+"_int8", &ir.Tensor{DType: ir.Int8, Dims: append([]int64(nil), w.Dims...), Raw: qw})
		ws := c.newParam(wv.Name+"_scale", ir.NewFloat32([]int64{int64(ch)}, scales))
		wz := c.newParam(wv.Name+"_zero_point", &ir.Tensor{DType: ir.Int8, Dims: []int64{int64(ch)}, Raw: make([]byte, ch)})
		d := newNode(c, ir.OpDequantizeLinear, wv.Name+"_dequantized", wq, ws, wz)
		d.Attrs = []ir.Attr{ir.IntAttr("axis", int64(axis))}
		if err := ir.InferNode(d); err != nil {
			return err
		}
		before[n] = append(before[n], d)
		c.setInput(n, 1, d.Outputs[0])
	}
	var nodes []*ir.Node
	for _, n := range c.g.Nodes {
		nodes = append(nodes, before[n]...)
		nodes = append(nodes, n)
	}
	c.g.Nodes = nodes
	c.users = nil
	// The old f32 weights are left for dce.
	return nil
}

// newNode returns a single-output node named like its output, which is
// named after base (made unique).
func newNode(c *ctx, op ir.Op, base string, inputs ...*ir.Value) *ir.Node {
	name := c.unique(base)
	n := &ir.Node{Name: name, Op: op, Inputs: inputs}
	n.Outputs = []*ir.Value{{Name: name, Def: n}}
	return n
}
