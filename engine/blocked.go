package engine

import "github.com/ferminets/fermi/engine/simd"

// Blocked implements Kernels with package simd's cache-blocked product on
// an AVX2/FMA kernel in Go assembly, without cgo; where that kernel cannot
// run (no AVX2/FMA, not amd64) it is Gonum. It is the default. Its fused
// multiply-adds round once, so results differ from Gonum's in the last
// bits; like Gonum's they do not depend on the thread count.
type Blocked struct{}

// smallGemmFast reports whether Blocked is fast on grouped convolutions'
// small products (see wideMinGroup): where its assembly runs.
func (Blocked) smallGemmFast() bool { return simd.Available() }

// Sgemm implements Kernels.
func (Blocked) Sgemm(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	if !simd.Available() {
		Gonum{}.Sgemm(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
		return
	}
	simd.Sgemm(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}
