//go:build openblas && cgo

package engine

/*
#cgo LDFLAGS: -lopenblas
#include <cblas.h>
*/
import "C"

import "sync"

var openblasOnce sync.Once

// openblasSingleThread makes OpenBLAS run every product on the calling
// thread. The engine already splits work across images and channels on
// its own goroutines; OpenBLAS's thread pool on top of that
// oversubscribes the cores (three times the CPU time for a ResNet-20
// training step on 2 cores).
func openblasSingleThread() {
	openblasOnce.Do(func() { C.openblas_set_num_threads(1) })
}
