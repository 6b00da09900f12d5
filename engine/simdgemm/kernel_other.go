//go:build !amd64

package simdgemm

// haveKernel is false where no assembly kernel exists.
const haveKernel = false

func kernel(k int, a, b, c *float32, ldb, ldc int, alpha float32) {
	panic("simdgemm: no kernel on this architecture")
}

func dotKernel(k8 int, a *float32, lda int, b *float32, ldb int, out *[12]float32) {
	panic("simdgemm: no kernel on this architecture")
}
