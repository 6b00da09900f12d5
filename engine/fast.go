package engine

import (
	"math"

	"github.com/ferminets/fermi/ir"
)

// Fast paths of the common elementwise cases. Each computes exactly what
// the general kernel's scalar function computes, element by element, so
// results do not depend on which path runs.

// relu sets y[i] = max(x[i], 0), Relu's scalar function.
func relu(y, x []float32) {
	y = y[:len(x)]
	for i, v := range x {
		y[i] = max(v, 0)
	}
}

// reluGrad sets dx = dy where x > 0 and +0 elsewhere (NaN included), the
// Relu gradient, as a select rather than a branch: the sign of
// activations is close to random, so a branch would mispredict often.
func reluGrad(dx, x, dy []float32) {
	x, dy = x[:len(dx)], dy[:len(dx)]
	for i, v := range x {
		// v > 0 exactly when its bits, as an integer, lie in [1, +Inf]:
		// -0 and negatives have the sign bit, NaNs lie above +Inf.
		var m uint32
		if math.Float32bits(v)-1 < 0x7f800000 {
			m = ^uint32(0)
		}
		dx[i] = math.Float32frombits(math.Float32bits(dy[i]) & m)
	}
}

// relu1 rectifies y in place.
func relu1(y []float32) {
	for i, v := range y {
		y[i] = max(v, 0)
	}
}

// sameShapeOp sets y = a op b for operands of one shape (no broadcasting);
// op is Add, Sub, Mul or Div.
func sameShapeOp(op ir.Op, y, a, b []float32) {
	a, b = a[:len(y)], b[:len(y)]
	switch op {
	case ir.OpAdd:
		for i := range y {
			y[i] = a[i] + b[i]
		}
	case ir.OpSub:
		for i := range y {
			y[i] = a[i] - b[i]
		}
	case ir.OpMul:
		for i := range y {
			y[i] = a[i] * b[i]
		}
	case ir.OpDiv:
		for i := range y {
			y[i] = a[i] / b[i]
		}
	default:
		f := binaryOps[op].f
		for i := range y {
			y[i] = f(a[i], b[i])
		}
	}
}
