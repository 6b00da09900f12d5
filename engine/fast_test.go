package engine

import (
	"math"
	"testing"

	"github.com/ferminets/fermi/engine/simd"
)

// TestReluGrad checks the branch-free Relu gradient (simd.ReluGrad, 8
// lanes of assembly and a scalar tail here) against its definition
// (dy where x > 0, +0 elsewhere) bit for bit on the edge values of x.
func TestReluGrad(t *testing.T) {
	nan := float32(math.NaN())
	negNaN := math.Float32frombits(math.Float32bits(nan) | 1<<31)
	inf := float32(math.Inf(1))
	xs := []float32{0, float32(math.Copysign(0, -1)), math.SmallestNonzeroFloat32, -math.SmallestNonzeroFloat32,
		1, -1, math.MaxFloat32, -math.MaxFloat32, inf, -inf, nan, negNaN}
	dys := []float32{2.5, -3, float32(math.Copysign(0, -1)), nan, -inf}
	for _, dv := range dys {
		x := xs
		dy := make([]float32, len(x))
		for i := range dy {
			dy[i] = dv
		}
		dx := make([]float32, len(x))
		for i := range dx {
			dx[i] = 42 // stale data must not survive
		}
		simd.ReluGrad(dx, x, dy)
		for i, v := range x {
			want := float32(0)
			if v > 0 {
				want = dy[i]
			}
			if math.Float32bits(dx[i]) != math.Float32bits(want) {
				t.Errorf("x %v, dy %v: got %v (%#x), want %v (%#x)", v, dy[i], dx[i], math.Float32bits(dx[i]), want, math.Float32bits(want))
			}
		}
	}
}
