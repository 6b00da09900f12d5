//go:build openblas && cgo

package engine

// testKernels are the Kernels implementations the conv tests run with.
var testKernels = []Kernels{Gonum{}, Blocked{}, OpenBLAS{}}
