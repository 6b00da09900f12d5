//go:build openblas && cgo

package engine

/*
#cgo LDFLAGS: -lopenblas
#include <cblas.h>
*/
import "C"

// OpenBLAS implements Kernels with the system OpenBLAS library (Debian
// libopenblas-dev), called through its CBLAS interface. It is built only
// with the openblas build tag and cgo:
//
//	go test -tags openblas ./engine/
//
// and is injected with WithKernels(OpenBLAS{}). OpenBLAS runs each product
// single-threaded (see openblasSingleThread); the engine's goroutines use
// the cores.
type OpenBLAS struct{}

// smallGemmFast marks OpenBLAS as fast on grouped convolutions' small
// products (see wideMinGroup).
func (OpenBLAS) smallGemmFast() bool { return true }

// Sgemm implements Kernels.
func (OpenBLAS) Sgemm(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	if m == 0 || n == 0 {
		return
	}
	if k == 0 {
		scaleMatrix(m, n, beta, c, ldc)
		return
	}
	openblasSingleThread()
	if len(a) == 0 || len(b) == 0 || len(c) < (m-1)*ldc+n {
		panic("engine: OpenBLAS.Sgemm: short matrix")
	}
	C.cblas_sgemm(C.CblasRowMajor, cblasTrans(transA), cblasTrans(transB), C.blasint(m), C.blasint(n), C.blasint(k),
		C.float(alpha), (*C.float)(&a[0]), C.blasint(lda), (*C.float)(&b[0]), C.blasint(ldb),
		C.float(beta), (*C.float)(&c[0]), C.blasint(ldc))
}

func cblasTrans(t bool) C.enum_CBLAS_TRANSPOSE {
	if t {
		return C.CblasTrans
	}
	return C.CblasNoTrans
}
