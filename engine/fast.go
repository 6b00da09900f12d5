package engine

import (
	"github.com/ferminets/fermi/engine/simd"
	"github.com/ferminets/fermi/ir"
)

// Fast paths of the common elementwise cases. Each computes exactly what
// the general kernel's scalar function computes, element by element, so
// results do not depend on which path runs.

// relu sets y[i] = max(x[i], 0), Relu's scalar function, as
// simd.Affine's max(x·1 + 0, 0): x·1 is x, and +0 changes only −0, which
// the max makes +0 anyway.
func relu(y, x []float32) { simd.Affine(y[:len(x)], x, 1, 0, true) }

// relu1 rectifies y in place.
func relu1(y []float32) { relu(y, y) }

// sameShapeOp sets y = a op b for operands of one shape (no broadcasting);
// op is Add, Sub, Mul or Div.
func sameShapeOp(op ir.Op, y, a, b []float32) {
	a, b = a[:len(y)], b[:len(y)]
	switch op {
	case ir.OpAdd:
		simd.Add(y, a, b)
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
