//go:build !amd64

package simdgemm

// haveKernel is false where no assembly kernel exists.
const haveKernel = false

func kernel(k int, a, b, c *float32, ldc int, alpha float32) {
	panic("simdgemm: no kernel on this architecture")
}
