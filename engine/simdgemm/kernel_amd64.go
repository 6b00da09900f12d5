package simdgemm

import "golang.org/x/sys/cpu"

// haveKernel reports whether kernel runs here: it needs AVX2
// and FMA (and the OS saving the wide registers, which cpu checks).
var haveKernel = cpu.X86.HasAVX2 && cpu.X86.HasFMA

// kernel adds alpha·A·B into the 4×24 block of C at c (row stride
// ldc), for packed panels a (k columns of 4) and b (k rows of 24); k ≥ 1.
//
//go:noescape
func kernel(k int, a, b, c *float32, ldc int, alpha float32)
