package engine

import "gonum.org/v1/gonum/blas/blas32"

// Depthwise convolutions (group = input channels = output channels) with
// unit strides run on the padded layout of convWide, one plane at a time:
// with the plane zero-padded to width wp, the input run that a tap (ky, kx)
// multiplies is one contiguous slice, so the forward pass is one vectorized
// axpy per tap over ho·wp outputs (the wp − wo extra columns per row are
// dropped when the output is written), the kernel gradient one dot product
// per tap (dY spread to the padded width with zeros in the extra columns)
// and the input gradient one axpy per tap into a padded plane. The direct
// loops of convDirect run one short row at a time in scalar code.

// depthwiseFast reports whether a grouped convolution is one the padded
// depthwise path computes.
func depthwiseFast(c, m, grp int, g *geom) bool {
	return grp == c && m == c && g.rank <= 2 && g.s == [3]int{1, 1, 1}
}

// convDepthwise is the forward pass: y = conv(x, w) + bias, rectified when
// relu is set, for x [batch, c, h, w] and w [c, 1, kh, kw].
func convDepthwise(e *Executor, x, w, bias, y []float32, batch, c int, g *geom, relu bool) {
	l := newWideLayout(1, g)
	inSize, outSize := l.hIn*l.wIn, l.ho*l.wo
	e.parallel(batch*c, func(lo, hi int) {
		xp, acc := l.padded(e), e.scratch(l.n)
		defer func() { e.unscratch(xp); e.unscratch(acc) }()
		for item := lo; item < hi; item++ { // item = img·c + ch
			ch := item % c
			l.pad(x[item*inSize:(item+1)*inSize], xp)
			clear(acc)
			l.taps(w[ch*g.kVol:(ch+1)*g.kVol], func(wv float32, o int) {
				blas32.Implementation().Saxpy(l.n, wv, xp[o:o+l.n], 1, acc, 1)
			})
			var bv float32
			if bias != nil {
				bv = bias[ch]
			}
			out := y[item*outSize : (item+1)*outSize]
			for oy := 0; oy < l.ho; oy++ {
				biasRelu(out[oy*l.wo:(oy+1)*l.wo], acc[oy*l.wp:oy*l.wp+l.wo], bv, bias != nil, relu)
			}
		}
	})
}

// convDepthwiseBackward is the backward of convDepthwise (without its bias
// and Relu, which have their own gradients): per fixed chunk of images
// (see gradChunks), parts[chunk] accumulates the kernel gradient (when
// parts is non-nil); dx receives the input gradient (when non-nil).
func convDepthwiseBackward(e *Executor, x, w, dy []float32, dx []float32, parts [][]float32, batch, c int, g *geom) {
	l := newWideLayout(1, g)
	inSize, outSize := l.hIn*l.wIn, l.ho*l.wo
	nch := min(batch, gradChunks)
	e.parallel(nch, func(clo, chi int) {
		xp, dxp := l.padded(e), l.padded(e)
		dyp := e.buf(l.n, true) // the extra columns of every row stay zero
		defer func() { e.unscratch(xp); e.unscratch(dxp); e.unscratch(dyp) }()
		for ci := clo; ci < chi; ci++ {
			lo, hi := chunkBounds(batch, nch, ci)
			for img := lo; img < hi; img++ {
				for ch := 0; ch < c; ch++ {
					item := img*c + ch
					dyi := dy[item*outSize : (item+1)*outSize]
					for oy := 0; oy < l.ho; oy++ {
						copy(dyp[oy*l.wp:oy*l.wp+l.wo], dyi[oy*l.wo:(oy+1)*l.wo])
					}
					wk := w[ch*g.kVol : (ch+1)*g.kVol]
					if parts != nil {
						l.pad(x[item*inSize:(item+1)*inSize], xp)
						dwk := parts[ci][ch*g.kVol : (ch+1)*g.kVol]
						t := 0
						l.taps(wk, func(_ float32, o int) {
							dwk[t] += blas32.Implementation().Sdot(l.n, dyp, 1, xp[o:o+l.n], 1)
							t++
						})
					}
					if dx != nil {
						clear(dxp)
						l.taps(wk, func(wv float32, o int) {
							blas32.Implementation().Saxpy(l.n, wv, dyp, 1, dxp[o:o+l.n], 1)
						})
						l.unpad(dxp, dx[item*inSize:(item+1)*inSize])
					}
				}
			}
		}
	})
}

// taps calls f for every tap of one plane's kernel wk, in kernel order, with
// the tap's weight and the offset of its input run in the padded plane.
func (l *wideLayout) taps(wk []float32, f func(wv float32, o int)) {
	g := l.g
	t := 0
	for ky := 0; ky < g.k[1]; ky++ {
		for kx := 0; kx < g.k[2]; kx++ {
			f(wk[t], ky*g.d[1]*l.wp+kx*g.d[2])
			t++
		}
	}
}
