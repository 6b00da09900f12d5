package engine

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"

	"github.com/ferminets/fermi/engine/simd"
	"github.com/ferminets/fermi/ir"
)

// unaryOps maps each unary elementwise op to a constructor that reads the
// node's attributes once and returns the scalar function.
var unaryOps = [...]func(n *ir.Node) func(x float32) float32{
	ir.OpRelu: func(*ir.Node) func(float32) float32 { return func(x float32) float32 { return max(x, 0) } },
	ir.OpLeakyRelu: func(n *ir.Node) func(float32) float32 {
		a := n.Float("alpha")
		return func(x float32) float32 {
			if x >= 0 {
				return x
			}
			return a * x
		}
	},
	ir.OpSigmoid: func(*ir.Node) func(float32) float32 {
		return func(x float32) float32 { return float32(1 / (1 + math.Exp(-float64(x)))) }
	},
	ir.OpHardSigmoid: func(n *ir.Node) func(float32) float32 {
		a, b := n.Float("alpha"), n.Float("beta")
		return func(x float32) float32 { return max(0, min(1, a*x+b)) }
	},
	ir.OpHardSwish: func(*ir.Node) func(float32) float32 {
		return func(x float32) float32 { return x * max(0, min(1, x/6+0.5)) }
	},
	ir.OpTanh: func(*ir.Node) func(float32) float32 {
		return func(x float32) float32 { return float32(math.Tanh(float64(x))) }
	},
	ir.OpErf: func(*ir.Node) func(float32) float32 {
		return func(x float32) float32 { return float32(math.Erf(float64(x))) }
	},
	ir.OpSqrt: func(*ir.Node) func(float32) float32 {
		return func(x float32) float32 { return float32(math.Sqrt(float64(x))) }
	},
}

// binaryOps holds each binary elementwise op on float32 and on int64.
var binaryOps = [...]struct {
	f func(a, b float32) float32
	i func(a, b int64) int64
}{
	ir.OpAdd: {func(a, b float32) float32 { return a + b }, func(a, b int64) int64 { return a + b }},
	ir.OpSub: {func(a, b float32) float32 { return a - b }, func(a, b int64) int64 { return a - b }},
	ir.OpMul: {func(a, b float32) float32 { return a * b }, func(a, b int64) int64 { return a * b }},
	ir.OpDiv: {func(a, b float32) float32 { return a / b }, func(a, b int64) int64 { return a / b }}, // b ≠ 0 checked by binaryOp
	ir.OpPow: {func(a, b float32) float32 { return float32(math.Pow(float64(a), float64(b))) }, ipow},
}

// ipow is a^b for integers: exact by repeated squaring; 0 for negative b
// unless |a| is 1.
func ipow(a, b int64) int64 {
	if b < 0 {
		switch a {
		case 1:
			return 1
		case -1:
			if b%2 == 0 {
				return 1
			}
			return -1
		}
		return 0
	}
	r := int64(1)
	for ; b > 0; b >>= 1 {
		if b&1 == 1 {
			r *= a
		}
		a *= a
	}
	return r
}

func unaryOp(e *Executor, n *ir.Node, in []*ir.Tensor) ([]*ir.Tensor, error) {
	x := in[0]
	if err := needF32(x, "input", -1); err != nil {
		return nil, err
	}
	f := unaryOps[n.Op](n)
	y := &ir.Tensor{DType: ir.Float32, Dims: x.Dims, F32: e.buf(len(x.F32), false)}
	e.parallelElems(len(x.F32), func(lo, hi int) {
		if n.Op == ir.OpRelu { // the common case, without a call per element
			relu(y.F32[lo:hi], x.F32[lo:hi])
			return
		}
		for i := lo; i < hi; i++ {
			y.F32[i] = f(x.F32[i])
		}
	})
	return []*ir.Tensor{y}, nil
}

// clip clamps to the optional scalar bounds in inputs 1 and 2.
func clip(e *Executor, n *ir.Node, in []*ir.Tensor) ([]*ir.Tensor, error) {
	x := in[0]
	bound := func(i int, def float64) (float64, error) {
		if i >= len(in) || in[i] == nil {
			return def, nil
		}
		if in[i].DType != x.DType || in[i].Len() != 1 {
			return 0, fmt.Errorf("bound %d must be a %v scalar, got %v %v", i, x.DType, in[i].DType, in[i].Dims)
		}
		return in[i].Float64s()[0], nil
	}
	lo, err := bound(1, math.Inf(-1))
	if err != nil {
		return nil, err
	}
	hi, err := bound(2, math.Inf(1))
	if err != nil {
		return nil, err
	}
	switch x.DType {
	case ir.Float32:
		l, h := float32(lo), float32(hi)
		y := e.allocRaw(ints(x.Dims))
		e.parallelElems(len(x.F32), func(a, b int) {
			for i, v := range x.F32[a:b] {
				// Comparisons rather than min/max, which would spend
				// branches on NaN and signed zeros; NaN passes through.
				if v < l {
					v = l
				}
				if v > h {
					v = h
				}
				y.F32[a+i] = v
			}
		})
		return []*ir.Tensor{y}, nil
	case ir.Int64:
		l, h := int64(math.MinInt64), int64(math.MaxInt64)
		if len(in) > 1 && in[1] != nil {
			l = in[1].I64[0]
		}
		if len(in) > 2 && in[2] != nil {
			h = in[2].I64[0]
		}
		y := &ir.Tensor{DType: ir.Int64, Dims: x.Dims, I64: make([]int64, len(x.I64))}
		for i, v := range x.I64 {
			y.I64[i] = min(max(v, l), h)
		}
		return []*ir.Tensor{y}, nil
	}
	return nil, fmt.Errorf("input is %v, want f32 or i64", x.DType)
}

// broadcastDims returns the numpy broadcast of shapes a and b.
func broadcastDims(a, b []int) ([]int, error) {
	r := max(len(a), len(b))
	out := make([]int, r)
	for i := 0; i < r; i++ {
		da, db := 1, 1
		if j := i - (r - len(a)); j >= 0 {
			da = a[j]
		}
		if j := i - (r - len(b)); j >= 0 {
			db = b[j]
		}
		switch {
		case da == db || db == 1:
			out[i] = da
		case da == 1:
			out[i] = db
		default:
			return nil, fmt.Errorf("shapes %v and %v do not broadcast", a, b)
		}
	}
	return out, nil
}

// broadcastStrides returns the strides of shape in (aligned to the right of
// out), with 0 for broadcast dims.
func broadcastStrides(in, out []int) []int {
	st := make([]int, len(out))
	s := 1
	for i := len(out) - 1; i >= 0; i-- {
		j := i - (len(out) - len(in))
		if j >= 0 && in[j] != 1 {
			st[i] = s
		}
		if j >= 0 {
			s *= in[j]
		}
	}
	return st
}

// broadcastRows walks out in rows of its last dim and calls f with the
// flat offsets of each row in out, a and b and the row's strides in a and b.
func broadcastRows(out, a, b []int, f func(o, ia, ib, n, sa, sb int)) {
	broadcastRowRange(out, a, b, 0, math.MaxInt, f)
}

// broadcastRowRange is broadcastRows for the rows [lo, hi) only (hi is
// clipped to the row count), so that row ranges can run in parallel.
func broadcastRowRange(out, a, b []int, lo, hi int, f func(o, ia, ib, n, sa, sb int)) {
	if len(out) == 0 {
		if lo == 0 && hi > 0 {
			f(0, 0, 0, 1, 0, 0)
		}
		return
	}
	r := len(out)
	last := out[r-1]
	if last == 0 {
		return
	}
	hi = min(hi, prod(out)/last)
	stA, stB := broadcastStrides(a, out), broadcastStrides(b, out)
	idx := make([]int, r)
	ia, ib := 0, 0
	for d, rem := r-2, lo; d >= 0; d-- { // position of row lo
		idx[d] = rem % out[d]
		rem /= out[d]
		ia += idx[d] * stA[d]
		ib += idx[d] * stB[d]
	}
	for row := lo; row < hi; row++ {
		f(row*last, ia, ib, last, stA[r-1], stB[r-1])
		for d := r - 2; d >= 0; d-- { // odometer over the leading dims
			idx[d]++
			ia += stA[d]
			ib += stB[d]
			if idx[d] < out[d] {
				break
			}
			ia -= stA[d] * out[d]
			ib -= stB[d] * out[d]
			idx[d] = 0
		}
	}
}

// rowChunks returns how many rows of out one parallel work item takes, so
// that an item covers at least 16K elements.
func rowChunks(out []int) (rows, per int) {
	if len(out) == 0 {
		return 1, 1
	}
	last := max(out[len(out)-1], 1)
	rows = prod(out) / last
	return rows, max(1, (1<<14)/last)
}

var errIntDivZero = errors.New("integer division by zero")

// binaryOp applies a binary elementwise op with numpy broadcasting on float32
// or int64 tensors. Pow also accepts mixed dtypes; its result has a's dtype.
func binaryOp(e *Executor, n *ir.Node, in []*ir.Tensor) ([]*ir.Tensor, error) {
	a, b := in[0], in[1]
	if a == nil || b == nil {
		return nil, errors.New("missing operand")
	}
	outDims, err := broadcastDims(ints(a.Dims), ints(b.Dims))
	if err != nil {
		return nil, err
	}
	if a.DType != b.DType {
		if n.Op != ir.OpPow {
			return nil, fmt.Errorf("operands are %v and %v", a.DType, b.DType)
		}
		// Mixed-type Pow: compute in float64, convert to a's dtype.
		af, bf := a.Float64s(), b.Float64s()
		out := make([]float64, prod(outDims))
		broadcastRows(outDims, ints(a.Dims), ints(b.Dims), func(o, ia, ib, n, sa, sb int) {
			for j := 0; j < n; j++ {
				out[o+j] = math.Pow(af[ia+j*sa], bf[ib+j*sb])
			}
		})
		return []*ir.Tensor{fromFloat64s(a.DType, outDims, out)}, nil
	}
	op := binaryOps[n.Op]
	switch a.DType {
	case ir.Float32:
		y := e.allocRaw(outDims)
		relu := e.reluFused(n)
		if sameDims(a.Dims, b.Dims) && n.Op != ir.OpPow { // no broadcasting: plain loops
			e.parallelElems(len(y.F32), func(lo, hi int) {
				sameShapeOp(n.Op, y.F32[lo:hi], a.F32[lo:hi], b.F32[lo:hi])
				if relu {
					relu1(y.F32[lo:hi])
				}
			})
			return []*ir.Tensor{y}, nil
		}
		f, x, z := op.f, a.F32, b.F32
		rows, per := rowChunks(outDims)
		e.parallel((rows+per-1)/per, func(lo, hi int) {
			broadcastRowRange(outDims, ints(a.Dims), ints(b.Dims), lo*per, hi*per, func(o, ia, ib, n, sa, sb int) {
				for j := 0; j < n; j++ {
					y.F32[o+j] = f(x[ia+j*sa], z[ib+j*sb])
				}
				if relu {
					relu1(y.F32[o : o+n])
				}
			})
		})
		return []*ir.Tensor{y}, nil
	case ir.Int64:
		if n.Op == ir.OpDiv {
			for _, v := range b.I64 {
				if v == 0 {
					return nil, errIntDivZero
				}
			}
		}
		y := &ir.Tensor{DType: ir.Int64, Dims: dims64(outDims), I64: make([]int64, prod(outDims))}
		f, x, z := op.i, a.I64, b.I64
		broadcastRows(outDims, ints(a.Dims), ints(b.Dims), func(o, ia, ib, n, sa, sb int) {
			for j := 0; j < n; j++ {
				y.I64[o+j] = f(x[ia+j*sa], z[ib+j*sb])
			}
		})
		return []*ir.Tensor{y}, nil
	}
	return nil, fmt.Errorf("operands are %v, want f32 or i64", a.DType)
}

// castable are the dtypes Cast converts between.
var castable = map[ir.DType]bool{ir.Float32: true, ir.Float64: true, ir.Int64: true, ir.Int32: true,
	ir.Int8: true, ir.Uint8: true, ir.Bool: true}

// cast converts between float32, float64, int64, int32, int8, uint8 and bool
// as C casts do: floats truncate toward zero, narrower ints wrap, nonzero is
// true.
func cast(e *Executor, n *ir.Node, in []*ir.Tensor) ([]*ir.Tensor, error) {
	x, to := in[0], ir.DType(n.Int("to"))
	if to == ir.Float16 && castable[x.DType] { // float16 values run widened (float16.go)
		return []*ir.Tensor{castToHalf(x)}, nil
	}
	if !castable[x.DType] || !castable[to] {
		return nil, fmt.Errorf("cannot cast %v to %v", x.DType, to)
	}
	dims := ints(x.Dims)
	if !x.DType.IsFloat() && !to.IsFloat() {
		return []*ir.Tensor{fromInt64s(to, dims, x.Int64s())}, nil
	}
	return []*ir.Tensor{fromFloat64s(to, dims, x.Float64s())}, nil
}

// fromFloat64s builds a tensor of dtype dt from float64 values.
func fromFloat64s(dt ir.DType, dims []int, v []float64) *ir.Tensor {
	t := &ir.Tensor{DType: dt, Dims: dims64(dims)}
	switch dt {
	case ir.Float32:
		t.F32 = make([]float32, len(v))
		for i, x := range v {
			t.F32[i] = float32(x)
		}
		return t
	case ir.Float64:
		t.Raw = make([]byte, 8*len(v))
		for i, x := range v {
			binary.LittleEndian.PutUint64(t.Raw[8*i:], math.Float64bits(x))
		}
		return t
	case ir.Bool:
		t.Raw = make([]byte, len(v))
		for i, x := range v {
			if x != 0 {
				t.Raw[i] = 1
			}
		}
		return t
	}
	iv := make([]int64, len(v))
	for i, x := range v {
		iv[i] = int64(x)
	}
	return fromInt64s(dt, dims, iv)
}

// fromInt64s builds a tensor of dtype dt from int64 values (narrower integer
// types wrap).
func fromInt64s(dt ir.DType, dims []int, v []int64) *ir.Tensor {
	t := &ir.Tensor{DType: dt, Dims: dims64(dims)}
	switch dt {
	case ir.Int64:
		t.I64 = append([]int64(nil), v...)
	case ir.Int32:
		t.Raw = make([]byte, 4*len(v))
		for i, x := range v {
			binary.LittleEndian.PutUint32(t.Raw[4*i:], uint32(int32(x)))
		}
	case ir.Int8, ir.Uint8:
		t.Raw = make([]byte, len(v))
		for i, x := range v {
			t.Raw[i] = byte(x)
		}
	case ir.Bool:
		t.Raw = make([]byte, len(v))
		for i, x := range v {
			if x != 0 {
				t.Raw[i] = 1
			}
		}
	default:
		f := make([]float64, len(v))
		for i, x := range v {
			f[i] = float64(x)
		}
		return fromFloat64s(dt, dims, f)
	}
	return t
}

// unaryGrads maps each differentiable unary op to a constructor of its
// derivative dy/dx, given the input x and the output y. At kinks the
// derivative is PyTorch's (Relu'(0) = 0, LeakyRelu'(0) = 1).
var unaryGrads = [...]func(n *ir.Node) func(x, y float32) float32{
	ir.OpRelu: func(*ir.Node) func(x, y float32) float32 {
		return func(x, _ float32) float32 {
			if x > 0 {
				return 1
			}
			return 0
		}
	},
	ir.OpLeakyRelu: func(n *ir.Node) func(x, y float32) float32 {
		a := n.Float("alpha")
		return func(x, _ float32) float32 {
			if x >= 0 {
				return 1
			}
			return a
		}
	},
	ir.OpSigmoid: func(*ir.Node) func(x, y float32) float32 {
		return func(_, y float32) float32 { return y * (1 - y) }
	},
	ir.OpHardSigmoid: func(n *ir.Node) func(x, y float32) float32 {
		a, b := n.Float("alpha"), n.Float("beta")
		return func(x, _ float32) float32 {
			if v := a*x + b; v > 0 && v < 1 {
				return a
			}
			return 0
		}
	},
	ir.OpHardSwish: func(*ir.Node) func(x, y float32) float32 {
		return func(x, _ float32) float32 {
			switch {
			case x < -3:
				return 0
			case x > 3:
				return 1
			}
			return x/3 + 0.5
		}
	},
	ir.OpTanh: func(*ir.Node) func(x, y float32) float32 {
		return func(_, y float32) float32 { return 1 - y*y }
	},
	ir.OpErf: func(*ir.Node) func(x, y float32) float32 {
		return func(x, _ float32) float32 { return float32(2 / math.SqrtPi * math.Exp(-float64(x)*float64(x))) }
	},
	ir.OpSqrt: func(*ir.Node) func(x, y float32) float32 {
		return func(_, y float32) float32 { return 0.5 / y }
	},
}

// unaryBackward is dx = dy·f'(x) for the ops of unaryGrads.
func unaryBackward(e *Executor, n *ir.Node, in, out, dout []*ir.Tensor, need []bool) ([]*ir.Tensor, error) {
	x, y, dy := in[0], out[0], dout[0]
	if int(n.Op) >= len(unaryGrads) || unaryGrads[n.Op] == nil {
		return nil, fmt.Errorf("no gradient")
	}
	df := unaryGrads[n.Op](n)
	dx := &ir.Tensor{DType: ir.Float32, Dims: x.Dims, F32: e.buf(len(x.F32), false)} // every element is written
	e.parallelElems(len(x.F32), func(lo, hi int) {
		if n.Op == ir.OpRelu { // the common case, without a call per element
			simd.ReluGrad(dx.F32[lo:hi], x.F32[lo:hi], dy.F32[lo:hi])
			return
		}
		for i := lo; i < hi; i++ {
			dx.F32[i] = dy.F32[i] * df(x.F32[i], y.F32[i])
		}
	})
	return []*ir.Tensor{dx}, nil
}

// clipBackward passes dy where lo < x < hi (PyTorch's hardtanh gradient, so
// ReLU6 has zero gradient at 0 and 6). The bounds get no gradient.
func clipBackward(e *Executor, n *ir.Node, in, out, dout []*ir.Tensor, need []bool) ([]*ir.Tensor, error) {
	x, dy := in[0], dout[0]
	if err := needF32(x, "input", -1); err != nil {
		return nil, err
	}
	lo, hi := float32(math.Inf(-1)), float32(math.Inf(1))
	if len(in) > 1 && in[1] != nil {
		lo = float32(in[1].Float64s()[0])
	}
	if len(in) > 2 && in[2] != nil {
		hi = float32(in[2].Float64s()[0])
	}
	dx := &ir.Tensor{DType: ir.Float32, Dims: x.Dims, F32: e.buf(len(x.F32), true)}
	e.parallelElems(len(x.F32), func(l, h int) {
		for i := l; i < h; i++ {
			if v := x.F32[i]; v > lo && v < hi {
				dx.F32[i] = dy.F32[i]
			}
		}
	})
	grads := make([]*ir.Tensor, len(in))
	grads[0] = dx
	return grads, nil
}

// binaryGrads gives, for each differentiable binary op, ∂y/∂a and ∂y/∂b at
// (a, b).
var binaryGrads = [...]struct{ da, db func(a, b float32) float32 }{
	ir.OpAdd: {func(a, b float32) float32 { return 1 }, func(a, b float32) float32 { return 1 }},
	ir.OpSub: {func(a, b float32) float32 { return 1 }, func(a, b float32) float32 { return -1 }},
	ir.OpMul: {func(a, b float32) float32 { return b }, func(a, b float32) float32 { return a }},
	ir.OpDiv: {func(a, b float32) float32 { return 1 / b }, func(a, b float32) float32 { return -a / (b * b) }},
}

// binaryBackward is the gradient of a broadcasting binary op: each
// operand's gradient is dy·∂y/∂operand summed over the dims it was
// broadcast along. An operand with the output's shape is computed in
// parallel; a broadcast one is reduced serially, row by row, so its sums
// have a fixed order.
func binaryBackward(e *Executor, n *ir.Node, in, out, dout []*ir.Tensor, need []bool) ([]*ir.Tensor, error) {
	a, b, dy := in[0], in[1], dout[0]
	if a.DType != ir.Float32 || b.DType != ir.Float32 {
		return nil, fmt.Errorf("operands are %v and %v, want f32", a.DType, b.DType)
	}
	ad, bd, od := ints(a.Dims), ints(b.Dims), ints(dy.Dims)
	gr := binaryGrads[n.Op]
	grads := make([]*ir.Tensor, 2)
	for i, t := range []*ir.Tensor{a, b} {
		if !need[i] {
			continue
		}
		d := gr.da
		if i == 1 {
			d = gr.db
		}
		if n.Op == ir.OpAdd && sameDims(t.Dims, dy.Dims) {
			grads[i] = dy // shared: the tape copies it before adding into it
			continue
		}
		var g *ir.Tensor
		if sameDims(t.Dims, dy.Dims) {
			g = e.allocRaw(ints(t.Dims)) // every element is written
		} else {
			g = e.alloc(ints(t.Dims)) // sums over the broadcast dims
		}
		x, z := a.F32, b.F32
		if sameDims(t.Dims, dy.Dims) {
			rows, per := rowChunks(od)
			e.parallel((rows+per-1)/per, func(lo, hi int) {
				broadcastRowRange(od, ad, bd, lo*per, hi*per, func(o, ia, ib, cnt, sa, sb int) {
					for j := 0; j < cnt; j++ {
						g.F32[o+j] = dy.F32[o+j] * d(x[ia+j*sa], z[ib+j*sb])
					}
				})
			})
		} else {
			broadcastRows(od, ad, bd, func(o, ia, ib, cnt, sa, sb int) {
				gi, sg := ia, sa
				if i == 1 {
					gi, sg = ib, sb
				}
				for j := 0; j < cnt; j++ {
					g.F32[gi+j*sg] += dy.F32[o+j] * d(x[ia+j*sa], z[ib+j*sb])
				}
			})
		}
		grads[i] = g
	}
	return grads, nil
}
