//go:build !amd64

package simd

// haveKernel is false where no assembly kernel exists.
var haveKernel = false

func kernel(k int, a, b, c *float32, ldb, ldc int, alpha float32, fresh bool) {
	panic("simd: no kernel on this architecture")
}

func dotKernel(k8 int, a *float32, lda int, b *float32, ldb int, c *float32, ldc int, alpha float32) {
	panic("simd: no kernel on this architecture")
}

func affine8(y, x *float32, n int, a, b float32)     { panic("simd: no kernel") }
func affineRelu8(y, x *float32, n int, a, b float32) { panic("simd: no kernel") }
func bnGrad8(dx, dy, x *float32, n int, alpha, beta, gamma, a, b float32, on int) {
	panic("simd: no kernel")
}
func reluGrad8(dx, y, dy *float32, n int)                               { panic("simd: no kernel") }
func sums8(u, v *float32, n int, out *[2]float64, a, b float32, on int) { panic("simd: no kernel") }

func maxPool2x2Row(y, r0, r1 *float32, n int) { panic("simd: no kernel") }

func maxPool2x2BackRow(d0, d1, r0, r1, y, dy *float32, n int) { panic("simd: no kernel") }

func add8(y, a, b *float32, n int) { panic("simd: no kernel") }

func axpy(y, x *float32, n int, a float32) { panic("simd: no kernel") }
func dot(x, y *float32, n int) float32     { panic("simd: no kernel") }

func winoInput(v *float32, vs int, x *float32, wp, tw, th int) { panic("simd: no kernel") }
func winoOutput(y *float32, ys int, m *float32, ms, tw, th int, bias, lo, fix float32) {
	panic("simd: no kernel")
}
func winoGrad(dm *float32, ms int, dy *float32, ys, tw, th int) { panic("simd: no kernel") }

func copyRows(dst *float32, ds int, src *float32, ss, w, h int) { panic("simd: no kernel") }

func packPanel(dst, a *float32, lda, k8 int) { panic("simd: no kernel") }
func packPanelT(dst, a *float32, lda, k int) { panic("simd: no kernel") }

func kernel8(k int, a, b, c *float32, ldb, ldc int, alpha float32, fresh bool) {
	panic("simd: no kernel on this architecture")
}

func evenOdd(inter, even, odd *float32, n int, join bool) { panic("simd: no kernel") }

func winoInput4(v *float32, vs int, x *float32, wp, pairs int)  { panic("simd: no kernel") }
func winoGrad4(dm *float32, ms int, dy *float32, ys, pairs int) { panic("simd: no kernel") }
func winoOutput4(y *float32, ys int, m *float32, ms, pairs int, bias, lo, fix float32) {
	panic("simd: no kernel")
}

func winoInputF4(v *float32, vs int, x *float32, wp, tw, th int) { panic("simd: no kernel") }
func winoOutputF4(y *float32, ys int, m *float32, ms, tw, th int, bias, lo, fix float32) {
	panic("simd: no kernel")
}
func winoGradF4(dm *float32, ms int, dy *float32, ys, tw, th int) { panic("simd: no kernel") }

func winoInputF4Pairs(v *float32, vs int, x *float32, wp int, off *[4]int, n, xstep int) {
	panic("simd: no kernel")
}
func winoOutputF4Pairs(y *float32, ys int, m *float32, ms int, off *[4]int, n, ystep int, bias, lo, fix float32) {
	panic("simd: no kernel")
}
func winoGradF4Pairs(dm *float32, ms int, dy *float32, ys int, off *[4]int, n, ystep int) {
	panic("simd: no kernel")
}
