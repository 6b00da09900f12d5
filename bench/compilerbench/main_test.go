package main

import (
	"math"
	"testing"

	"github.com/ferminets/fermi/ir"
)

func TestRelErr(t *testing.T) {
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
		if got := relErr(tc.a, tc.b); got != tc.want {
			t.Errorf("%s: relErr = %g, want %g", tc.name, got, tc.want)
		}
	}
}

func TestRunRejectsBadRuns(t *testing.T) {
	if err := run([]string{"--runs", "0", "--out", ""}, nil); err == nil {
		t.Error("run accepted --runs 0")
	}
}
