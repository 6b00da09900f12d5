// Package enginetest checks implementations of engine.Kernels against a
// naive reference, in the manner of gonum's blas/testblas: an
// implementation proves itself by calling Conformance from its tests.
package enginetest

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/ferminets/fermi/engine"
)

// sgemmCase is one Sgemm call shape; pad is the extra row stride beyond the
// minimum for A, B and C.
type sgemmCase struct {
	m, n, k     int
	pad         int
	alpha, beta float32
	tA, tB      bool
	nanC        bool // C starts as NaN (must be ignored when beta is 0)
}

func sgemmCases() []sgemmCase {
	var cs []sgemmCase
	sizes := [][3]int{{1, 1, 1}, {2, 3, 4}, {7, 5, 3}, {1, 17, 9}, {33, 1, 70}, {65, 66, 67}, {130, 20, 129}, {3, 4, 0}, {0, 3, 2}, {6, 5, 1100}, {9, 32, 300}}
	for _, s := range sizes {
		for _, tA := range []bool{false, true} {
			for _, tB := range []bool{false, true} {
				cs = append(cs,
					sgemmCase{m: s[0], n: s[1], k: s[2], alpha: 1, beta: 0, tA: tA, tB: tB, nanC: true},
					sgemmCase{m: s[0], n: s[1], k: s[2], pad: 3, alpha: -0.5, beta: 1, tA: tA, tB: tB},
					sgemmCase{m: s[0], n: s[1], k: s[2], pad: 1, alpha: 2, beta: 0.25, tA: tA, tB: tB})
			}
		}
	}
	// Larger than the blocking of engine.Blocked in every dimension (72 rows
	// of A, 256 steps of k, 3072 columns of B), with partial blocks.
	for _, tA := range []bool{false, true} {
		for _, tB := range []bool{false, true} {
			cs = append(cs, sgemmCase{m: 77, n: 3075, k: 259, pad: 2, alpha: 1.5, beta: 0.5, tA: tA, tB: tB})
		}
	}
	return cs
}

// naiveSgemm is the definition, accumulating in float64.
func naiveSgemm(c sgemmCase, a []float32, lda int, b []float32, ldb int, cm []float32, ldc int) []float64 {
	out := make([]float64, c.m*c.n)
	for i := 0; i < c.m; i++ {
		for j := 0; j < c.n; j++ {
			var s float64
			for l := 0; l < c.k; l++ {
				var av, bv float32
				if c.tA {
					av = a[l*lda+i]
				} else {
					av = a[i*lda+l]
				}
				if c.tB {
					bv = b[j*ldb+l]
				} else {
					bv = b[l*ldb+j]
				}
				s += float64(av) * float64(bv)
			}
			s *= float64(c.alpha)
			if c.beta != 0 {
				s += float64(c.beta) * float64(cm[i*ldc+j])
			}
			out[i*c.n+j] = s
		}
	}
	return out
}

// Conformance checks k.Sgemm against the naive definition for every
// combination of transposes, several shapes (including empty ones and ones
// larger than typical blocking), padded leading dimensions, alpha and beta
// (beta 0 must ignore NaN in C), and that elements outside the m×n window of
// C are left untouched.
func Conformance(t *testing.T, k engine.Kernels) {
	t.Helper()
	rng := rand.New(rand.NewPCG(11, 12))
	fill := func(n int) []float32 {
		v := make([]float32, n)
		for i := range v {
			v[i] = float32(rng.NormFloat64())
		}
		return v
	}
	for _, c := range sgemmCases() {
		name := fmt.Sprintf("m%d_n%d_k%d_tA%v_tB%v_alpha%g_beta%g_pad%d", c.m, c.n, c.k, c.tA, c.tB, c.alpha, c.beta, c.pad)
		ar, ac := c.m, c.k
		if c.tA {
			ar, ac = c.k, c.m
		}
		br, bc := c.k, c.n
		if c.tB {
			br, bc = c.n, c.k
		}
		lda, ldb, ldc := max(ac, 1)+c.pad, max(bc, 1)+c.pad, max(c.n, 1)+c.pad
		a, b, cm := fill(max(ar, 1)*lda), fill(max(br, 1)*ldb), fill(max(c.m, 1)*ldc)
		if c.nanC {
			for i := range cm {
				cm[i] = float32(math.NaN())
			}
		}
		orig := append([]float32(nil), cm...)
		want := naiveSgemm(c, a, lda, b, ldb, cm, ldc)
		k.Sgemm(c.tA, c.tB, c.m, c.n, c.k, c.alpha, a, lda, b, ldb, c.beta, cm, ldc)
		for i := 0; i < max(c.m, 1); i++ {
			for j := 0; j < ldc; j++ {
				got := cm[i*ldc+j]
				if i >= c.m || j >= c.n {
					if !sameBits(got, orig[i*ldc+j]) {
						t.Errorf("%s: C[%d,%d] outside the result changed", name, i, j)
					}
					continue
				}
				w := want[i*c.n+j]
				if math.IsNaN(float64(got)) || math.Abs(float64(got)-w) > 1e-4*(1+math.Abs(w))*math.Sqrt(float64(c.k+1)) {
					t.Errorf("%s: C[%d,%d] = %g, want %g", name, i, j, got, w)
				}
			}
		}
	}
}

func sameBits(a, b float32) bool { return math.Float32bits(a) == math.Float32bits(b) }
