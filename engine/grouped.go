package engine

import "gonum.org/v1/gonum/blas/blas32"

// Grouped convolutions (depthwise ones included) with unit strides run on
// the padded layout of convWide, one group of one image at a time: with
// the group's input planes zero-padded to width wp, the input run that a
// tap (ic, ky, kx) multiplies is one contiguous slice, so the forward pass
// is one vectorized axpy per tap over ho·wp outputs (the wp − wo extra
// columns per row are dropped when the output is written), the kernel
// gradient one dot product per tap (dY spread to the padded width with
// zeros in the extra columns) and the input gradient one axpy per tap into
// a padded plane. The group's input is padded once for all its output
// channels. The direct loops of convDirect, which strided and 3-D grouped
// convs keep, run one short row at a time in scalar code.

// groupedFast reports whether a grouped convolution is one the padded
// path computes.
func groupedFast(grp int, g *geom) bool {
	return grp > 1 && g.rank <= 2 && g.s == [3]int{1, 1, 1}
}

// convGrouped is the forward pass: y = conv(x, w) + bias, rectified when
// relu is set, for x [batch, c, h, w] and w [m, c/grp, kh, kw].
func convGrouped(e *Executor, x, w, bias, y []float32, batch, c, m, grp int, g *geom, relu bool) {
	cg, mg := c/grp, m/grp
	l := newWideLayout(cg, g)
	inSize, outSize := l.hIn*l.wIn, l.ho*l.wo
	e.parallel(batch*grp, func(lo, hi int) {
		xp, acc := l.padded(e), e.scratch(l.n)
		defer func() { e.unscratch(xp); e.unscratch(acc) }()
		for item := lo; item < hi; item++ { // item = img·grp + group
			img, gi := item/grp, item%grp
			l.pad(x[(img*c+gi*cg)*inSize:(img*c+(gi+1)*cg)*inSize], xp)
			for oc := gi * mg; oc < (gi+1)*mg; oc++ {
				clear(acc)
				l.taps(w[oc*l.k:(oc+1)*l.k], func(wv float32, o int) {
					blas32.Implementation().Saxpy(l.n, wv, xp[o:o+l.n], 1, acc, 1)
				})
				var bv float32
				if bias != nil {
					bv = bias[oc]
				}
				out := y[(img*m+oc)*outSize : (img*m+oc+1)*outSize]
				for oy := 0; oy < l.ho; oy++ {
					biasRelu(out[oy*l.wo:(oy+1)*l.wo], acc[oy*l.wp:oy*l.wp+l.wo], bv, bias != nil, relu)
				}
			}
		}
	})
}

// convGroupedBackward is the backward of convGrouped (without its bias
// and Relu, which have their own gradients): per fixed chunk of images
// (see gradChunks), parts[chunk] accumulates the kernel gradient (when
// parts is non-nil); dx receives the input gradient (when non-nil).
func convGroupedBackward(e *Executor, x, w, dy []float32, dx []float32, parts [][]float32, batch, c, m, grp int, g *geom) {
	cg, mg := c/grp, m/grp
	l := newWideLayout(cg, g)
	inSize, outSize := l.hIn*l.wIn, l.ho*l.wo
	nch := min(batch, gradChunks)
	e.parallel(nch, func(clo, chi int) {
		xp, dxp := l.padded(e), l.padded(e)
		dyp := e.buf(l.n, true) // the extra columns of every row stay zero
		defer func() { e.unscratch(xp); e.unscratch(dxp); e.unscratch(dyp) }()
		for ci := clo; ci < chi; ci++ {
			lo, hi := chunkBounds(batch, nch, ci)
			for img := lo; img < hi; img++ {
				for gi := 0; gi < grp; gi++ {
					xg := (img*c + gi*cg) * inSize
					if parts != nil {
						l.pad(x[xg:xg+cg*inSize], xp)
					}
					if dx != nil {
						clear(dxp)
					}
					for oc := gi * mg; oc < (gi+1)*mg; oc++ {
						dyi := dy[(img*m+oc)*outSize : (img*m+oc+1)*outSize]
						for oy := 0; oy < l.ho; oy++ {
							copy(dyp[oy*l.wp:oy*l.wp+l.wo], dyi[oy*l.wo:(oy+1)*l.wo])
						}
						wk := w[oc*l.k : (oc+1)*l.k]
						if parts != nil {
							dwk := parts[ci][oc*l.k : (oc+1)*l.k]
							t := 0
							l.taps(wk, func(_ float32, o int) {
								dwk[t] += blas32.Implementation().Sdot(l.n, dyp, 1, xp[o:o+l.n], 1)
								t++
							})
						}
						if dx != nil {
							l.taps(wk, func(wv float32, o int) {
								blas32.Implementation().Saxpy(l.n, wv, dyp, 1, dxp[o:o+l.n], 1)
							})
						}
					}
					if dx != nil {
						l.unpad(dxp, dx[xg:xg+cg*inSize])
					}
				}
			}
		}
	})
}

// taps calls f for every tap of one output channel's kernel wk [l.c, kh,
// kw], in kernel order, with the tap's weight and the offset of its input
// run in the padded group.
func (l *wideLayout) taps(wk []float32, f func(wv float32, o int)) {
	g := l.g
	t := 0
	for ch := 0; ch < l.c; ch++ {
		for ky := 0; ky < g.k[1]; ky++ {
			for kx := 0; kx < g.k[2]; kx++ {
				f(wk[t], ch*l.plane+ky*g.d[1]*l.wp+kx*g.d[2])
				t++
			}
		}
	}
}
