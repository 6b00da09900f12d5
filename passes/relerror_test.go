package passes_test

import (
	"math"
	"testing"

	"github.com/ferminets/fermi/ir"
	"github.com/ferminets/fermi/passes"
)

func TestRelError(t *testing.T) {
	f := func(v ...float32) *ir.Tensor {
		return &ir.Tensor{DType: ir.Float32, Dims: []int64{int64(len(v))}, F32: v}
	}
	for _, tc := range []struct {
		name string
		a, b *ir.Tensor
		want float64
	}{
		{"equal", f(1, -2, 3), f(1, -2, 3), 0},
		{"scaled by max |a|", f(1, -4, 2), f(1, -4, 3), 0.25},
		{"zero reference", f(0, 0), f(0, 0.5), 0.5},
		{"length mismatch", f(1, 2), f(1), math.Inf(1)},
	} {
		if got := passes.RelError(tc.a, tc.b); got != tc.want {
			t.Errorf("%s: RelError = %g, want %g", tc.name, got, tc.want)
		}
	}
}

// TestRelErrorNaN: a NaN difference must fail a bound check, not pass it.
func TestRelErrorNaN(t *testing.T) {
	a := &ir.Tensor{DType: ir.Float32, Dims: []int64{2}, F32: []float32{1, 2}}
	b := &ir.Tensor{DType: ir.Float32, Dims: []int64{2}, F32: []float32{1, float32(math.NaN())}}
	if rel := passes.RelError(a, b); rel <= 1e-4 {
		t.Errorf("RelError with a NaN = %g, passes a 1e-4 bound", rel)
	}
}
