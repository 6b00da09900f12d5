package engine

import (
	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas32"
)

// Kernels are the dense linear-algebra routines Conv, ConvTranspose, Gemm and
// MatMul are built on. Implementations must be safe for concurrent calls on
// disjoint outputs.
type Kernels interface {
	// Sgemm computes C = alpha·op(A)·op(B) + beta·C for row-major matrices,
	// where op(A) is m×k, op(B) is k×n and C is m×n; op transposes when
	// the flag is set. lda, ldb and ldc are row strides. When beta is 0, C
	// is overwritten (its old contents, even NaN, are ignored).
	Sgemm(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int)
}

// Gonum implements Kernels with gonum's pure Go BLAS (blas32). Blocked,
// the default, is 3–4× faster where its assembly kernel runs.
type Gonum struct{}

// Sgemm implements Kernels.
func (Gonum) Sgemm(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	if m == 0 || n == 0 {
		return
	}
	if k == 0 {
		scaleMatrix(m, n, beta, c, ldc)
		return
	}
	blas32.Implementation().Sgemm(trans(transA), trans(transB), m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

func trans(t bool) blas.Transpose {
	if t {
		return blas.Trans
	}
	return blas.NoTrans
}

// scaleMatrix sets C = beta·C (C = 0 when beta is 0), the k = 0 case of Sgemm.
func scaleMatrix(m, n int, beta float32, c []float32, ldc int) {
	for i := 0; i < m; i++ {
		row := c[i*ldc : i*ldc+n]
		for j := range row {
			if beta == 0 {
				row[j] = 0
			} else {
				row[j] *= beta
			}
		}
	}
}
