package simd

//go:noescape
func affine8(y, x *float32, n int, a, b float32)

//go:noescape
func affineRelu8(y, x *float32, n int, a, b float32)

//go:noescape
func bnGrad8(dx, dy, x *float32, n int, alpha, beta, gamma, a, b float32, on int)

//go:noescape
func reluGrad8(dx, y, dy *float32, n int)

//go:noescape
func sums8(u, v *float32, n int, out *[2]float64, a, b float32, on int)

//go:noescape
func maxPool2x2Row(y, r0, r1 *float32, n int)

//go:noescape
func maxPool2x2BackRow(d0, d1, r0, r1, y, dy *float32, n int)

//go:noescape
func add8(y, a, b *float32, n int)

//go:noescape
func axpy(y, x *float32, n int, a float32)

//go:noescape
func dot(x, y *float32, n int) float32

//go:noescape
func winoInput(v *float32, vs int, x *float32, wp, tw, th int)

//go:noescape
func winoOutput(y *float32, ys int, m *float32, ms, tw, th int, bias, lo, fix float32)

//go:noescape
func winoGrad(dm *float32, ms int, dy *float32, ys, tw, th int)

//go:noescape
func copyRows(dst *float32, ds int, src *float32, ss, w, h int)

//go:noescape
func evenOdd(inter, even, odd *float32, n int, join bool)

//go:noescape
func winoInput4(v *float32, vs int, x *float32, wp, pairs int)

//go:noescape
func winoGrad4(dm *float32, ms int, dy *float32, ys, pairs int)

//go:noescape
func winoOutput4(y *float32, ys int, m *float32, ms, pairs int, bias, lo, fix float32)

//go:noescape
func winoInputF4(v *float32, vs int, x *float32, wp, tw, th int)

//go:noescape
func winoOutputF4(y *float32, ys int, m *float32, ms, tw, th int, bias, lo, fix float32)

//go:noescape
func winoGradF4(dm *float32, ms int, dy *float32, ys, tw, th int)

//go:noescape
func winoInputF4Pairs(v *float32, vs int, x *float32, wp int, off *[4]int, n, xstep int)

//go:noescape
func winoOutputF4Pairs(y *float32, ys int, m *float32, ms int, off *[4]int, n, ystep int, bias, lo, fix float32)

//go:noescape
func winoGradF4Pairs(dm *float32, ms int, dy *float32, ys int, off *[4]int, n, ystep int)
