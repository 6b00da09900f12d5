package engine

import (
	"slices"
	"testing"

	"github.com/ferminets/fermi/ir"
)

// TestTransposeRuns checks Transpose against the definition, element by
// element, for permutations that keep trailing axes in place (copied as
// runs) and ones that do not, in float32 and int64.
func TestTransposeRuns(t *testing.T) {
	for _, c := range []struct {
		dims, perm []int64
	}{
		{[]int64{2, 2, 3, 2, 3}, []int64{0, 2, 1, 3, 4}}, // channel shuffle: runs of 6
		{[]int64{2, 3, 4, 5}, []int64{1, 0, 2, 3}},       // runs of 20
		{[]int64{3, 2, 4}, []int64{1, 0, 2}},             // runs of 4
		{[]int64{2, 3, 4}, []int64{0, 1, 2}},             // identity: one run
		{[]int64{2, 3, 4}, []int64{2, 0, 1}},             // no run
		{[]int64{4, 3, 2}, []int64{1, 0, 2}},             // runs of 2: element path
	} {
		n := int(ir.NumElements(c.dims))
		f := make([]float32, n)
		l := make([]int64, n)
		for i := range f {
			f[i], l[i] = float32(i), int64(i)
		}
		st := strides(ints(c.dims))
		out := make([]int64, len(c.dims))
		for i, p := range c.perm {
			out[i] = c.dims[p]
		}
		want := make([]int64, n)
		coord := make([]int, len(out))
		for o := range want {
			for i, p := range c.perm {
				want[o] += int64(coord[i] * st[p])
			}
			for i := len(coord) - 1; i >= 0; i-- {
				if coord[i]++; coord[i] < int(out[i]) {
					break
				}
				coord[i] = 0
			}
		}
		for _, x := range []*ir.Tensor{f32(c.dims, f...), i64(c.dims, l...)} {
			y, err := run1(ir.OpTranspose, at(ila("perm", c.perm...)), ins(x), 1)
			if err != nil {
				t.Fatalf("dims %v perm %v: %v", c.dims, c.perm, err)
			}
			if !slices.Equal(y[0].Dims, out) {
				t.Errorf("dims %v perm %v: output dims %v, want %v", c.dims, c.perm, y[0].Dims, out)
			}
			for o, w := range want {
				got := func() int64 {
					if x.DType == ir.Float32 {
						return int64(y[0].F32[o])
					}
					return y[0].I64[o]
				}()
				if got != w {
					t.Errorf("dims %v perm %v %s: element %d is %d, want %d", c.dims, c.perm, x.DType, o, got, w)
				}
			}
		}
	}
}
