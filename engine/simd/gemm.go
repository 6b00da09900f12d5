// Package simd holds the engine's vector kernels, in Go assembly (AVX2 and
// FMA on amd64) without cgo: a matrix product, Sgemm, cache-blocked in
// BLIS's loop order (panels of B in L3, of A in L2, a 4×24 block of C in
// registers), the elementwise passes and per-channel sums of
// BatchNormalization and Relu (vec.go), and the tile transforms of
// Winograd's F(2×2, 3×3) and F(4×4, 3×3) convolutions (winograd.go,
// winograd4.go: by tile rows, or by pairs of tiles for narrow planes).
//
// Every kernel runs on the calling goroutine and sums in a fixed order,
// so results are deterministic on a given CPU. The package lives apart
// from engine because a package that uses cgo (engine's OpenBLAS build)
// cannot hold Go assembly.
package simd

import "sync"

// Available reports whether the assembly runs on this CPU (amd64 with AVX2
// and FMA). Sgemm needs it; the vector kernels fall back to Go.
func Available() bool { return haveKernel }

// Blocking of Sgemm: mr×nr is the kernel's block of C; kc steps
// of k share packed panels; mc rows of A (kc·mc floats, 72 KiB) stay in
// L2 while nc columns of B (kc·nc floats, 3 MiB) stream from L3.
const (
	gemmMR = 4
	gemmNR = 24
	gemmKC = 256
	gemmMC = 72
	gemmNC = 3072
)

// gemmBuffers recycles the packing buffers of Sgemm.
var gemmBuffers = sync.Pool{New: func() any { return new(gemmPack) }}

// gemmPack holds one product's packed panels, and sgemmNT's padded copies,
// each grown to what a product needs (the pool may be emptied by any
// garbage collection, so the buffers are no larger than that).
type gemmPack struct{ a, b, nt []float32 }

// grow returns buf with at least n elements, reallocated when too short.
func grow(buf []float32, n int) []float32 {
	if cap(buf) < n {
		return make([]float32, n)
	}
	return buf[:n]
}

// Sgemm computes C = alpha·op(A)·op(B) + beta·C for row-major matrices,
// where op(A) is m×k, op(B) is k×n and C is m×n; op transposes when the
// flag is set; lda, ldb and ldc are row strides. When beta is 0, C's old
// contents (even NaN) are ignored. It panics when Available is false.
func Sgemm(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	if !haveKernel {
		panic("simd: Sgemm needs amd64 with AVX2 and FMA")
	}
	if m == 0 || n == 0 {
		return
	}
	ar, ac, br, bc := m, k, k, n // op(A) is m×k, op(B) k×n
	if transA {
		ar, ac = k, m
	}
	if transB {
		br, bc = n, k
	}
	if k > 0 && (len(a) < (ar-1)*lda+ac || len(b) < (br-1)*ldb+bc) || len(c) < (m-1)*ldc+n {
		panic("simd: Sgemm: short matrix") // the kernel reads through pointers, unchecked
	}
	nt := !transA && transB
	// fresh: the first k-block writes C instead of adding into a cleared C.
	fresh := beta == 0 && alpha != 0 && k > 0 && !nt
	if beta != 1 && !fresh {
		scale(m, n, beta, c, ldc)
	}
	if alpha == 0 || k == 0 {
		return
	}
	if nt {
		sgemmNT(m, n, k, alpha, a, lda, b, ldb, c, ldc)
		return
	}
	p := gemmBuffers.Get().(*gemmPack)
	defer gemmBuffers.Put(p)
	kc0, mc0, nc0 := min(gemmKC, k), min(gemmMC, m), min(gemmNC, n)
	p.a = grow(p.a, (mc0+gemmMR-1)/gemmMR*gemmMR*kc0)
	if transB {
		p.b = grow(p.b, (nc0+gemmNR-1)/gemmNR*gemmNR*kc0)
	} else {
		p.b = grow(p.b, gemmNR*kc0) // the partial panel
	}
	var edge [gemmMR * gemmNR]float32 // a partial block of C
	for jc := 0; jc < n; jc += gemmNC {
		nc := min(gemmNC, n-jc)
		for pc := 0; pc < k; pc += gemmKC {
			kc := min(gemmKC, k-pc)
			// A row-major B is read in place, but for its last, partial
			// panel; a transposed one is packed.
			packed := nc
			if !transB {
				packed = nc % gemmNR
				packB(p.b, b, ldb, false, pc, jc+nc-packed, kc, packed)
			} else {
				packB(p.b, b, ldb, true, pc, jc, kc, nc)
			}
			for ic := 0; ic < m; ic += gemmMC {
				mc := min(gemmMC, m-ic)
				packA(p.a, a, lda, transA, ic, pc, mc, kc)
				for jr := 0; jr < nc; jr += gemmNR {
					nr := min(gemmNR, nc-jr)
					bp, bs := &p.b[0], gemmNR // the packed panel
					switch {
					case transB:
						bp = &p.b[jr*kc]
					case jr < nc-packed:
						bp, bs = &b[pc*ldb+jc+jr], ldb
					}
					for ir := 0; ir < mc; ir += gemmMR {
						mr := min(gemmMR, mc-ir)
						ap := &p.a[ir*kc]
						o := (ic+ir)*ldc + jc + jr
						first := fresh && pc == 0
						if mr == gemmMR && nr == gemmNR {
							kernel(kc, ap, bp, &c[o], bs, ldc, alpha, first)
							continue
						}
						switch {
						case nr == 8 && mr == gemmMR:
							kernel8(kc, ap, bp, &c[o], bs, ldc, alpha, first)
							continue
						case nr <= 8:
							kernel8(kc, ap, bp, &edge[0], bs, gemmNR, alpha, true)
						default:
							kernel(kc, ap, bp, &edge[0], bs, gemmNR, alpha, true)
						}
						for i := range mr {
							row := c[o+i*ldc : o+i*ldc+nr]
							for j := range row {
								if first {
									row[j] = 0 + edge[i*gemmNR+j] // as the cleared C did: −0 becomes +0
								} else {
									row[j] += edge[i*gemmNR+j]
								}
							}
						}
					}
				}
			}
		}
	}
}

// dotKC is the k-block of sgemmNT: four rows of A and the rows of B it
// reads stay in L1 and L2.
const dotKC = 512

// sgemmNT adds alpha·A·Bᵀ into C for row-major A (m×k) and B (n×k), both
// contiguous along k: no packing, dot products of 4×3 rows at a time
// (dotKernel) over multiples of 8 elements, the rest of k from
// zero-padded copies. The last m mod 4 rows of A and n mod 3 rows of B
// are copied with zero rows up to a whole block, and their strips of C go
// through a scratch C.
func sgemmNT(m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, c []float32, ldc int) {
	m4, n3 := m/4*4, n/3*3
	em, en := m-m4, n-n3
	p := gemmBuffers.Get().(*gemmPack)
	defer gemmBuffers.Put(p)
	tail := 8 * (max(m4, 4) + max(n3, 3)) // ntBlocks' copies of the last k mod 8 elements
	p.nt = grow(p.nt, tail+7*k+max(3*m4, 4*n3, 12))
	tb, bp, ap, cp := p.nt[:tail], p.nt[tail:tail+3*k], p.nt[tail+3*k:tail+7*k], p.nt[tail+7*k:]
	if m4 > 0 && n3 > 0 {
		ntBlocks(m4, n3, k, alpha, a, lda, b, ldb, c, ldc, tb)
	}
	if en > 0 {
		clear(bp)
		for j := range en {
			copy(bp[j*k:(j+1)*k], b[(n3+j)*ldb:(n3+j)*ldb+k])
		}
	}
	if em > 0 {
		clear(ap)
		for i := range em {
			copy(ap[i*k:(i+1)*k], a[(m4+i)*lda:(m4+i)*lda+k])
		}
	}
	// strip computes the rows×cols block of C at (i0, j0) from A's rows
	// (ar, stride la, rows4 of them, a multiple of 4) and B's (br, lb,
	// cols3), through cp.
	strip := func(i0, j0, rows, cols, rows4, cols3 int, ar []float32, la int, br []float32, lb int) {
		cs := cp[:rows4*cols3]
		clear(cs)
		ntBlocks(rows4, cols3, k, alpha, ar, la, br, lb, cs, cols3, tb)
		for i := range rows {
			row := c[(i0+i)*ldc+j0 : (i0+i)*ldc+j0+cols]
			for j := range row {
				row[j] += cs[i*cols3+j]
			}
		}
	}
	if en > 0 && m4 > 0 {
		strip(0, n3, m4, en, m4, 3, a, lda, bp, k)
	}
	if em > 0 && n3 > 0 {
		strip(m4, 0, em, n3, 4, n3, ap, k, b, ldb)
	}
	if em > 0 && en > 0 {
		strip(m4, n3, em, en, 4, 3, ap, k, bp, k)
	}
}

// ntBlocks is sgemmNT for m a multiple of 4 and n of 3; tail is scratch
// of 8·(m+n) floats.
func ntBlocks(m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, c []float32, ldc int, tail []float32) {
	k8 := k / 8 * 8
	_ = c[(m-1)*ldc+n-1] // the kernel writes C through a pointer, unchecked
	for pc := 0; pc < k8; pc += dotKC {
		kc := min(dotKC, k8-pc)
		for i := 0; i < m; i += 4 {
			for j := 0; j < n; j += 3 {
				dotKernel(kc/8, &a[i*lda+pc], lda, &b[j*ldb+pc], ldb, &c[i*ldc+j], ldc, alpha)
			}
		}
	}
	if k8 < k { // the last k−k8 < 8 elements, zero-padded to 8
		clear(tail)
		at, bt := tail[:m*8], tail[m*8:]
		for i := range m {
			copy(at[i*8:], a[i*lda+k8:i*lda+k])
		}
		for j := range n {
			copy(bt[j*8:], b[j*ldb+k8:j*ldb+k])
		}
		for i := 0; i < m; i += 4 {
			for j := 0; j < n; j += 3 {
				dotKernel(1, &at[i*8], 8, &bt[j*8], 8, &c[i*ldc+j], ldc, alpha)
			}
		}
	}
}

// packA copies rows [ic, ic+mc) and columns [pc, pc+kc) of op(A) into dst
// as panels of gemmMR rows, each kc columns of gemmMR floats; rows past
// mc are zero.
func packA(dst, a []float32, lda int, trans bool, ic, pc, mc, kc int) {
	for ir := 0; ir < mc; ir += gemmMR {
		panel := dst[ir*kc : (ir+gemmMR)*kc]
		mr := min(gemmMR, mc-ir)
		if mr < gemmMR {
			clear(panel)
		}
		if mr == gemmMR && kc > 0 { // whole panels in assembly (Sgemm runs only where it exists)
			i := ic + ir
			if trans {
				_ = a[(pc+kc-1)*lda+i+gemmMR-1]
				packPanelT(&panel[0], &a[pc*lda+i], lda, kc)
				continue
			}
			_ = a[(i+gemmMR-1)*lda+pc+kc-1]
			k8 := kc / 8
			if k8 > 0 {
				packPanel(&panel[0], &a[i*lda+pc], lda, k8)
			}
			for r := range gemmMR {
				for p := 8 * k8; p < kc; p++ {
					panel[p*gemmMR+r] = a[(i+r)*lda+pc+p]
				}
			}
			continue
		}
		for r := range mr {
			i := ic + ir + r
			if trans { // op(A)[i][p] = a[p·lda + i]
				for p := range kc {
					panel[p*gemmMR+r] = a[(pc+p)*lda+i]
				}
				continue
			}
			for p, v := range a[i*lda+pc : i*lda+pc+kc] {
				panel[p*gemmMR+r] = v
			}
		}
	}
}

// packB copies rows [pc, pc+kc) and columns [jc, jc+nc) of op(B) into dst
// as panels of gemmNR columns, each kc rows of gemmNR floats; columns past
// nc are zero.
func packB(dst, b []float32, ldb int, trans bool, pc, jc, kc, nc int) {
	for jr := 0; jr < nc; jr += gemmNR {
		panel := dst[jr*kc : (jr+gemmNR)*kc]
		nr := min(gemmNR, nc-jr)
		if nr < gemmNR {
			clear(panel)
		}
		if trans { // op(B)[p][j] = b[j·ldb + p]
			for j := range nr {
				col := b[(jc+jr+j)*ldb+pc : (jc+jr+j)*ldb+pc+kc]
				for p, v := range col {
					panel[p*gemmNR+j] = v
				}
			}
			continue
		}
		for p := range kc {
			o := (pc+p)*ldb + jc + jr
			copy(panel[p*gemmNR:p*gemmNR+nr], b[o:o+nr])
		}
	}
}

// scale sets C = beta·C (zero when beta is 0, whatever C held).
func scale(m, n int, beta float32, c []float32, ldc int) {
	for i := range m {
		row := c[i*ldc : i*ldc+n]
		if beta == 0 {
			clear(row)
			continue
		}
		for j := range row {
			row[j] *= beta
		}
	}
}
