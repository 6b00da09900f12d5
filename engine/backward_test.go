package engine

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/ferminets/fermi/ir"
)

// Finite-difference gradient checks. For every differentiable op, the loss
// L = Σ r·y with a fixed random r is differentiated analytically (the
// op's gradient kernel with dy = r) and numerically by central differences
// (L(x+h) − L(x−h))/2h, h = 1e-2, summed in float64 from the float32
// kernel outputs. The bar: |numeric − analytic| ≤ 1e-2·max(|numeric|,
// |analytic|, 0.1), i.e. 1 % relative error, absolute 1e-3 near zero.
// Inputs of piecewise-linear ops stay at least 0.05 from their kinks (and
// pool inputs have no near-ties), so the differences never straddle one.

const (
	fdStep = 1e-2
	fdTol  = 1e-2
	fdAbs  = 0.1 // floor of the magnitude the relative error divides by
)

// randT returns a tensor of dims with uniform values in [lo, hi), kept at
// least gap away from every point in avoid.
func randT(rng *rand.Rand, dims []int64, lo, hi float64, gap float64, avoid ...float64) *ir.Tensor {
	t := ir.NewFloat32(dims, make([]float32, ir.NumElements(dims)))
	for i := range t.F32 {
	again:
		v := lo + (hi-lo)*rng.Float64()
		for _, a := range avoid {
			if math.Abs(v-a) < gap {
				goto again
			}
		}
		t.F32[i] = float32(v)
	}
	return t
}

// distinctT returns a tensor whose values are a random permutation of
// multiples of 0.05, so windows never hold near-ties.
func distinctT(rng *rand.Rand, dims []int64) *ir.Tensor {
	n := int(ir.NumElements(dims))
	t := ir.NewFloat32(dims, make([]float32, n))
	for i, p := range rng.Perm(n) {
		t.F32[i] = float32(p-n/2) * 0.05
	}
	return t
}

type gradCase struct {
	name  string
	op    ir.Op
	attrs []ir.Attr
	in    func(rng *rand.Rand) []*ir.Tensor
	need  []bool // inputs to check; nil: all float inputs
}

func gradCases() []gradCase {
	ints := func(name string, v ...int64) ir.Attr { return ir.IntsAttr(name, v...) }
	x4 := func(n, c, h, w int64) func(rng *rand.Rand) *ir.Tensor {
		return func(rng *rand.Rand) *ir.Tensor { return randT(rng, d(n, c, h, w), -1, 1, 0) }
	}
	conv := func(name string, x, w []int64, bias bool, attrs ...ir.Attr) gradCase {
		return gradCase{name: name, op: ir.OpConv, attrs: attrs, in: func(rng *rand.Rand) []*ir.Tensor {
			in := []*ir.Tensor{randT(rng, x, -1, 1, 0), randT(rng, w, -1, 1, 0)}
			if bias {
				in = append(in, randT(rng, d(w[0]), -1, 1, 0))
			}
			return in
		}}
	}
	unary := func(op ir.Op, lo, hi float64, attrs []ir.Attr, kinks ...float64) gradCase {
		return gradCase{name: op.String(), op: op, attrs: attrs, in: func(rng *rand.Rand) []*ir.Tensor {
			return []*ir.Tensor{randT(rng, d(2, 3, 4, 5), lo, hi, 0.05, kinks...)}
		}}
	}
	binary := func(op ir.Op, a, b []int64, blo float64) gradCase {
		return gradCase{name: fmt.Sprintf("%v %v %v", op, a, b), op: op, in: func(rng *rand.Rand) []*ir.Tensor {
			return []*ir.Tensor{randT(rng, a, -1, 1, 0), randT(rng, b, blo, 1, 0)}
		}}
	}
	pool := func(op ir.Op, name string, attrs ...ir.Attr) gradCase {
		return gradCase{name: name, op: op, attrs: attrs, in: func(rng *rand.Rand) []*ir.Tensor {
			return []*ir.Tensor{distinctT(rng, d(2, 3, 7, 6))}
		}}
	}
	return []gradCase{
		conv("Conv k3 pad1", d(2, 3, 6, 6), d(4, 3, 3, 3), true, ints("pads", 1, 1, 1, 1)),
		conv("Conv stride2 dilation2 asymmetric pads", d(2, 3, 9, 8), d(4, 3, 3, 2), true,
			ints("strides", 2, 2), ints("dilations", 2, 1), ints("pads", 0, 1, 1, 0)),
		conv("Conv 1x1 pointwise", d(3, 5, 4, 4), d(6, 5, 1, 1), true),
		conv("Conv dilation2 asymmetric pads stride1", d(3, 3, 7, 6), d(4, 3, 3, 2), true,
			ints("dilations", 2, 1), ints("pads", 2, 0, 1, 1)),
		conv("Conv 1-D k5 pad2", d(2, 3, 9), d(2, 3, 5), false, ints("pads", 2, 2)),
		conv("Conv 1x1 stride2 no bias", d(2, 4, 5, 5), d(3, 4, 1, 1), false, ints("strides", 2, 2)),
		conv("Conv grouped g2 stride2 pad1", d(2, 4, 7, 7), d(6, 2, 3, 3), true,
			ir.IntAttr("group", 2), ints("strides", 2, 2), ints("pads", 1, 1, 1, 1)),
		conv("Conv depthwise stride2 pad1 dilation2", d(2, 4, 8, 8), d(4, 1, 3, 3), true,
			ir.IntAttr("group", 4), ints("strides", 2, 2), ints("pads", 1, 2, 1, 2), ints("dilations", 2, 2)),
		conv("Conv depthwise multiplier2 stride1", d(2, 3, 5, 5), d(6, 1, 3, 3), false,
			ir.IntAttr("group", 3), ints("pads", 1, 1, 1, 1)),
		conv("Conv batch 11 (several images per gradient chunk)", d(11, 2, 4, 4), d(3, 2, 3, 3), true, ints("pads", 1, 1, 1, 1)),
		conv("Conv depthwise batch 10", d(10, 2, 4, 4), d(2, 1, 3, 3), false, ir.IntAttr("group", 2)),
		// Unit-stride grouped convs take the phase-plane path with one phase.
		conv("Conv depthwise stride1 pad1 bias", d(3, 4, 6, 5), d(4, 1, 3, 3), true,
			ir.IntAttr("group", 4), ints("pads", 1, 1, 1, 1)),
		conv("Conv depthwise stride1 dilation2 asymmetric pads k5x3", d(2, 3, 7, 6), d(3, 1, 5, 3), false,
			ir.IntAttr("group", 3), ints("dilations", 2, 1), ints("pads", 3, 0, 1, 2)),
		conv("Conv grouped g2 stride1 pad1 bias", d(2, 4, 6, 5), d(6, 2, 3, 3), true,
			ir.IntAttr("group", 2), ints("pads", 1, 1, 1, 1)),
		conv("Conv grouped g3 stride1 dilation2 k3x2 no pad", d(3, 6, 7, 6), d(3, 2, 3, 2), false,
			ir.IntAttr("group", 3), ints("dilations", 2, 1)),
		conv("Conv depthwise 1-D stride1", d(2, 3, 9), d(3, 1, 3), true, ir.IntAttr("group", 3), ints("pads", 1, 1)),
		conv("Conv 1-D stride2", d(2, 3, 9), d(4, 3, 3), true, ints("strides", 2), ints("pads", 1, 0)),
		// Strided grouped convs take the phase-plane path.
		conv("Conv depthwise stride2 asymmetric pads odd size", d(2, 3, 7, 9), d(3, 1, 3, 3), true,
			ir.IntAttr("group", 3), ints("strides", 2, 2), ints("pads", 0, 1, 1, 0)),
		conv("Conv depthwise multiplier2 strides3x2 dilation2x1", d(2, 2, 10, 8), d(4, 1, 3, 2), false,
			ir.IntAttr("group", 2), ints("strides", 3, 2), ints("dilations", 2, 1), ints("pads", 2, 0, 1, 2)),
		conv("Conv grouped g2 strides2x3 k3x2 dilation1x2", d(2, 4, 7, 10), d(6, 2, 3, 2), true,
			ir.IntAttr("group", 2), ints("strides", 2, 3), ints("dilations", 1, 2), ints("pads", 1, 0, 0, 1)),
		conv("Conv depthwise stride3 k2 (rows and columns no tap reads)", d(2, 2, 10, 7), d(2, 1, 2, 2), true,
			ir.IntAttr("group", 2), ints("strides", 3, 3)),
		conv("Conv depthwise stride2 input smaller than kernel", d(2, 2, 2, 3), d(2, 1, 5, 5), false,
			ir.IntAttr("group", 2), ints("strides", 2, 2), ints("pads", 2, 3, 3, 2)),
		conv("Conv depthwise stride4 k3", d(2, 2, 9, 11), d(2, 1, 3, 3), true,
			ir.IntAttr("group", 2), ints("strides", 4, 4), ints("pads", 1, 2, 1, 0)),
		conv("Conv depthwise 1-D stride2 k4", d(2, 3, 11), d(3, 1, 4), true,
			ir.IntAttr("group", 3), ints("strides", 2), ints("pads", 2, 1)),
		conv("Conv grouped 1-D stride3 dilation2", d(2, 4, 13), d(4, 2, 3), false,
			ir.IntAttr("group", 2), ints("strides", 3), ints("dilations", 2), ints("pads", 1, 2)),
		conv("Conv depthwise stride2 batch 9", d(9, 2, 5, 5), d(2, 1, 3, 3), true,
			ir.IntAttr("group", 2), ints("strides", 2, 2), ints("pads", 1, 1, 1, 1)),
		{name: "BatchNormalization train", op: ir.OpBatchNorm, attrs: []ir.Attr{ir.IntAttr("training_mode", 1)},
			in: func(rng *rand.Rand) []*ir.Tensor {
				return []*ir.Tensor{randT(rng, d(3, 4, 3, 2), -2, 2, 0), randT(rng, d(4), 0.5, 1.5, 0),
					randT(rng, d(4), -1, 1, 0), randT(rng, d(4), -1, 1, 0), randT(rng, d(4), 0.5, 1.5, 0)}
			}, need: []bool{true, true, true, false, false}},
		unary(ir.OpRelu, -1, 1, nil, 0),
		unary(ir.OpLeakyRelu, -1, 1, []ir.Attr{ir.FloatAttr("alpha", 0.1)}, 0),
		unary(ir.OpSigmoid, -3, 3, nil),
		unary(ir.OpHardSigmoid, -3, 3, []ir.Attr{ir.FloatAttr("alpha", 1.0/6), ir.FloatAttr("beta", 0.5)}, -3, 3),
		unary(ir.OpHardSwish, -4, 4, nil, -3, 3),
		unary(ir.OpTanh, -2, 2, nil),
		unary(ir.OpErf, -2, 2, nil),
		unary(ir.OpSqrt, 0.5, 2, nil),
		{name: "Clip ReLU6", op: ir.OpClip, in: func(rng *rand.Rand) []*ir.Tensor {
			return []*ir.Tensor{randT(rng, d(2, 3, 4, 5), -2, 8, 0.05, 0, 6), f32(d(), 0), f32(d(), 6)}
		}, need: []bool{true, false, false}},
		binary(ir.OpAdd, d(2, 3, 4, 4), d(2, 3, 4, 4), -1),
		binary(ir.OpAdd, d(2, 3, 4, 4), d(1, 3, 1, 1), -1),
		binary(ir.OpSub, d(3, 1, 4), d(2, 1), -1),
		binary(ir.OpMul, d(2, 3, 4, 4), d(2, 3, 1, 1), -1),
		binary(ir.OpMul, d(2, 3, 1, 1), d(2, 3, 4, 4), -1),
		binary(ir.OpMul, d(4), d(3, 1), -1),
		binary(ir.OpDiv, d(2, 3, 4), d(3, 1), 0.5),
		{name: "Concat axis1", op: ir.OpConcat, attrs: []ir.Attr{ir.IntAttr("axis", 1)}, in: func(rng *rand.Rand) []*ir.Tensor {
			return []*ir.Tensor{x4(2, 3, 2, 2)(rng), x4(2, 1, 2, 2)(rng), x4(2, 2, 2, 2)(rng)}
		}},
		{name: "Concat axis-1", op: ir.OpConcat, attrs: []ir.Attr{ir.IntAttr("axis", -1)}, in: func(rng *rand.Rand) []*ir.Tensor {
			return []*ir.Tensor{x4(2, 3, 2, 2)(rng), x4(2, 3, 2, 3)(rng)}
		}},
		pool(ir.OpMaxPool, "MaxPool k2 s2", ints("kernel_shape", 2, 2), ints("strides", 2, 2)),
		pool(ir.OpMaxPool, "MaxPool k3 s2 pad1 dilation", ints("kernel_shape", 3, 2), ints("strides", 2, 1),
			ints("pads", 1, 0, 1, 1), ints("dilations", 1, 2)),
		pool(ir.OpAveragePool, "AveragePool k3 s2 pad1", ints("kernel_shape", 3, 3), ints("strides", 2, 2), ints("pads", 1, 1, 1, 1)),
		pool(ir.OpAveragePool, "AveragePool k3 s2 pad1 count_include_pad", ints("kernel_shape", 3, 3), ints("strides", 2, 2),
			ints("pads", 1, 1, 1, 1), ir.IntAttr("count_include_pad", 1)),
		pool(ir.OpGlobalAveragePool, "GlobalAveragePool"),
		{name: "Gemm transB bias", op: ir.OpGemm, attrs: []ir.Attr{ir.IntAttr("transB", 1)}, in: func(rng *rand.Rand) []*ir.Tensor {
			return []*ir.Tensor{randT(rng, d(3, 5), -1, 1, 0), randT(rng, d(4, 5), -1, 1, 0), randT(rng, d(4), -1, 1, 0)}
		}},
		{name: "Gemm transA alpha beta", op: ir.OpGemm, attrs: []ir.Attr{ir.IntAttr("transA", 1), ir.FloatAttr("alpha", 0.5), ir.FloatAttr("beta", 2)},
			in: func(rng *rand.Rand) []*ir.Tensor {
				return []*ir.Tensor{randT(rng, d(5, 3), -1, 1, 0), randT(rng, d(5, 4), -1, 1, 0), randT(rng, d(1, 4), -1, 1, 0)}
			}},
		{name: "Gemm transA transB", op: ir.OpGemm, attrs: []ir.Attr{ir.IntAttr("transA", 1), ir.IntAttr("transB", 1)},
			in: func(rng *rand.Rand) []*ir.Tensor {
				return []*ir.Tensor{randT(rng, d(5, 3), -1, 1, 0), randT(rng, d(4, 5), -1, 1, 0)}
			}},
		{name: "MatMul 2-D", op: ir.OpMatMul, in: func(rng *rand.Rand) []*ir.Tensor {
			return []*ir.Tensor{randT(rng, d(3, 5), -1, 1, 0), randT(rng, d(5, 4), -1, 1, 0)}
		}},
		{name: "MatMul batched broadcast", op: ir.OpMatMul, in: func(rng *rand.Rand) []*ir.Tensor {
			return []*ir.Tensor{randT(rng, d(2, 3, 4), -1, 1, 0), randT(rng, d(4, 5), -1, 1, 0)}
		}},
		{name: "Flatten", op: ir.OpFlatten, in: func(rng *rand.Rand) []*ir.Tensor { return []*ir.Tensor{x4(2, 3, 2, 2)(rng)} }},
		{name: "Reshape", op: ir.OpReshape, in: func(rng *rand.Rand) []*ir.Tensor {
			return []*ir.Tensor{x4(2, 3, 2, 2)(rng), i64(d(2), 4, -1)}
		}, need: []bool{true, false}},
		{name: "Transpose", op: ir.OpTranspose, attrs: []ir.Attr{ir.IntsAttr("perm", 0, 2, 3, 1)}, in: func(rng *rand.Rand) []*ir.Tensor {
			return []*ir.Tensor{randT(rng, d(2, 3, 4, 5), -1, 1, 0)}
		}},
		{name: "Transpose default perm", op: ir.OpTranspose, in: func(rng *rand.Rand) []*ir.Tensor {
			return []*ir.Tensor{randT(rng, d(2, 3, 4), -1, 1, 0)}
		}},
		{name: "Identity", op: ir.OpIdentity, in: func(rng *rand.Rand) []*ir.Tensor { return []*ir.Tensor{x4(2, 3, 2, 2)(rng)} }},
		{name: "Dropout train", op: ir.OpDropout, in: func(rng *rand.Rand) []*ir.Tensor {
			return []*ir.Tensor{x4(2, 3, 4, 4)(rng), f32(d(), 0.3)}
		}, need: []bool{true, false}},
	}
}

// trainForward runs n's training-mode forward kernel; Dropout draws its
// mask from a fixed stream, so every call uses the same mask.
func trainForward(e *Executor, n *ir.Node, in []*ir.Tensor) ([]*ir.Tensor, error) {
	switch n.Op {
	case ir.OpBatchNorm:
		return batchNormTrain(e, n, in)
	case ir.OpDropout:
		y, mask, err := dropoutTrain(in[0], in[1].Float64s()[0], rand.New(rand.NewPCG(1, 2)))
		return []*ir.Tensor{y, mask}, err
	}
	return forward[n.Op](e, n, in)
}

func TestGradients(t *testing.T) {
	e := &Executor{cfg: config{threads: 2, kernels: Gonum{}}}
	for _, c := range gradCases() {
		t.Run(c.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(7, uint64(len(c.name))))
			in := c.in(rng)
			n := &ir.Node{Name: "n", Op: c.op, Attrs: c.attrs, Outputs: []*ir.Value{{Name: "y"}}}
			for range in {
				n.Inputs = append(n.Inputs, &ir.Value{Name: "x"})
			}
			need := c.need
			if need == nil {
				need = make([]bool, len(in))
				for i := range need {
					need[i] = in[i].DType == ir.Float32
				}
			}
			out, err := trainForward(e, n, in)
			if err != nil {
				t.Fatal(err)
			}
			r := randT(rng, out[0].Dims, -1, 1, 0)
			loss := func() float64 {
				o, err := trainForward(e, n, in)
				if err != nil {
					t.Fatal(err)
				}
				var s float64
				for i, v := range o[0].F32 {
					s += float64(v) * float64(r.F32[i])
				}
				return s
			}
			grads, err := backward[c.op](e, n, in, out, []*ir.Tensor{r}, need)
			if err != nil {
				t.Fatal(err)
			}
			checked := 0
			for i, x := range in {
				if !need[i] {
					continue
				}
				if grads[i] == nil || len(grads[i].F32) != len(x.F32) {
					t.Fatalf("input %d: gradient %v, want %d values", i, grads[i], len(x.F32))
				}
				for j := range x.F32 {
					old := x.F32[j]
					x.F32[j] = old + fdStep
					lp := loss()
					x.F32[j] = old - fdStep
					lm := loss()
					x.F32[j] = old
					num, ana := (lp-lm)/(2*fdStep), float64(grads[i].F32[j])
					if math.Abs(num-ana) > fdTol*max(math.Abs(num), math.Abs(ana), fdAbs) {
						t.Errorf("input %d element %d: analytic %.6g, numeric %.6g", i, j, ana, num)
					}
					checked++
				}
			}
			if checked == 0 {
				t.Fatal("no gradient checked")
			}
		})
	}
}

// TestBackwardTableCovers checks that every op with a gradient has a
// forward kernel and that the trainable set of the issue is covered.
func TestBackwardTableCovers(t *testing.T) {
	for op, k := range backward {
		if k != nil && forwardOf(ir.Op(op)) == nil {
			t.Errorf("%v has a gradient but no forward kernel", ir.Op(op))
		}
	}
	tested := map[ir.Op]bool{}
	for _, c := range gradCases() {
		tested[c.op] = true
	}
	for _, op := range []ir.Op{ir.OpConv, ir.OpBatchNorm, ir.OpRelu, ir.OpClip, ir.OpLeakyRelu, ir.OpSigmoid,
		ir.OpHardSigmoid, ir.OpHardSwish, ir.OpAdd, ir.OpMul, ir.OpConcat, ir.OpMaxPool, ir.OpAveragePool,
		ir.OpGlobalAveragePool, ir.OpGemm, ir.OpMatMul, ir.OpFlatten, ir.OpReshape, ir.OpDropout, ir.OpIdentity} {
		if backwardOf(op) == nil {
			t.Errorf("%v has no gradient", op)
		}
	}
	for op, k := range backward {
		if k != nil && !tested[ir.Op(op)] && ir.Op(op) != ir.OpSqueeze && ir.Op(op) != ir.OpUnsqueeze {
			t.Errorf("%v has a gradient but no finite-difference case", ir.Op(op))
		}
	}
}
