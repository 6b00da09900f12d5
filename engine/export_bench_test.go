package engine

// BenchKernels are the matrix kernels the external benchmarks use: the last
// of testKernels (OpenBLAS when built with the openblas tag).
var BenchKernels = testKernels[len(testKernels)-1]
