package simd

import "golang.org/x/sys/cpu"

// haveKernel reports whether kernel runs here: it needs AVX2
// and FMA (and the OS saving the wide registers, which cpu checks).
var haveKernel = cpu.X86.HasAVX2 && cpu.X86.HasFMA

// kernel adds alpha·A·B into the 4×24 block of C at c (row stride ldc),
// for a packed panel a (k columns of 4) and k rows of 24 floats at b, ldb
// apart; k ≥ 1. With fresh set it ignores C's old contents and writes
// +0 + alpha·A·B, the bits a cleared C would get.
//
//go:noescape
func kernel(k int, a, b, c *float32, ldb, ldc int, alpha float32, fresh bool)

// kernel8 is kernel for a 4×8 block of C and rows of 8 floats at b.
//
//go:noescape
func kernel8(k int, a, b, c *float32, ldb, ldc int, alpha float32, fresh bool)

// dotKernel adds alpha times the dot products over 8·k8 elements of row
// i < 4 of A (at a, rows lda apart) and row j < 3 of B (at b, rows ldb
// apart) into C[i·ldc+j] at c; k8 ≥ 1.
//
//go:noescape
func dotKernel(k8 int, a *float32, lda int, b *float32, ldb int, c *float32, ldc int, alpha float32)

// packPanel sets dst[4p+r] = a[r·lda+p] for r < 4, p < 8·k8; k8 ≥ 1.
//
//go:noescape
func packPanel(dst, a *float32, lda, k8 int)

// packPanelT sets dst[4p+r] = a[p·lda+r] for r < 4, p < k; k ≥ 1.
//
//go:noescape
func packPanelT(dst, a *float32, lda, k int)
