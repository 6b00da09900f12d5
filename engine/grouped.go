package engine

import "github.com/ferminets/fermi/engine/simd"

// Grouped convolutions (depthwise ones included) over 1 or 2 spatial dims
// with strides up to maxPhaseStride run on zero-padded phase planes, one
// group of one image at a time. With stride s (sy down, sx across), the
// padded plane splits into sy·sx phase planes, phase (a, b) holding
// padded[a + sy·i][b + sx·j]; output (oy, ox) with tap (ky, kx) reads
// padded[sy·oy + ky·dy][sx·ox + kx·dx], which is phase ((ky·dy) mod sy,
// (kx·dx) mod sx) at [oy + ⌊ky·dy/sy⌋][ox + ⌊kx·dx/sx⌋]. With phase planes
// of width wph, the input run that a tap (ic, ky, kx) multiplies over all
// outputs is one contiguous slice of ho·wph elements, so the forward pass
// is one vectorized axpy per tap (the wph − wo extra columns per row are
// dropped when the output is written), the kernel gradient one dot product
// per tap (dY spread to width wph with zeros in the extra columns) and the
// input gradient one axpy per tap into zeroed phase planes, which are then
// merged back into the image. The group's input is split once for all its
// output channels. With unit strides there is one phase: the padded plane
// of convWide. The direct loops of convDirect, which 3-D grouped convs and
// larger strides keep, run one short row at a time in scalar code.

// maxPhaseStride is the largest stride groupedFast accepts.
const maxPhaseStride = 4

// groupedFast reports whether a grouped convolution is one the phase-plane
// path computes.
func groupedFast(grp int, g *geom) bool {
	return grp > 1 && g.rank <= 2 && g.s[1] <= maxPhaseStride && g.s[2] <= maxPhaseStride
}

// phaseLayout is the layout of one group's c input channels: per channel,
// sy·sx phase planes of hph × wph elements, phase (a, b) at plane a·sx + b.
// A phase plane holds only the rows and columns some tap reads: hph = ho +
// ⌊(kh−1)·dy/sy⌋ and wph = wo + ⌊(kw−1)·dx/sx⌋ (the padded height and
// width with unit strides).
type phaseLayout struct {
	c, hIn, wIn, ho, wo int
	sy, sx, hph, wph    int
	pp, plane, k, n     int   // phase plane size, channel size, kernel size per output channel, run length
	tail                int   // the last tap's run reads this far past the last plane
	offs                []int // per tap (ky, kx), the offset of its run in a channel's planes
	g                   *geom
}

func newPhaseLayout(c int, g *geom) phaseLayout {
	l := phaseLayout{c: c, hIn: g.in[1], wIn: g.in[2], ho: g.out[1], wo: g.out[2], sy: g.s[1], sx: g.s[2], g: g}
	l.hph = l.ho + (g.k[1]-1)*g.d[1]/l.sy
	l.wph = l.wo + (g.k[2]-1)*g.d[2]/l.sx
	l.pp = l.hph * l.wph
	l.plane = l.sy * l.sx * l.pp
	l.k, l.n = c*g.kVol, l.ho*l.wph
	l.tail = (g.k[2] - 1) * g.d[2] / l.sx
	for ky := 0; ky < g.k[1]; ky++ {
		for kx := 0; kx < g.k[2]; kx++ {
			vy, vx := ky*g.d[1], kx*g.d[2]
			l.offs = append(l.offs, (vy%l.sy*l.sx+vx%l.sx)*l.pp+vy/l.sy*l.wph+vx/l.sx)
		}
	}
	return l
}

// padded returns a zeroed buffer for the phase planes of one group.
func (l *phaseLayout) padded(e *Executor) []float32 { return e.buf(l.c*l.plane+l.tail, true) }

// split writes the group's input xi [c, hIn, wIn] into the phase planes xp,
// whose elements in the padding stay zero. With back set it is the
// reverse: xi is set from the phase planes (an input gradient), and
// pixels that lie beyond every phase plane (no tap reads them) get zero.
func (l *phaseLayout) split(xi, xp []float32, back bool) {
	sy, sx, pp, wph, wIn := l.sy, l.sx, l.pp, l.wph, l.wIn
	pby, pbx := l.g.padBegin[1], l.g.padBegin[2]
	if sy == 1 && sx == 1 { // one phase, the padded image, which holds every pixel
		copyPadded(xi, xp, l.c, l.hIn, wIn, l.plane, wph, l.g, back)
		return
	}
	// Rows [0, hLim) and columns [0, wLim) lie in the phase planes.
	hLim, wLim := min(max(l.hph*sy-pby, 0), l.hIn), min(max(wph*sx-pbx, 0), wIn)
	for ch := 0; ch < l.c; ch++ {
		xc := xi[ch*l.hIn*wIn : (ch+1)*l.hIn*wIn]
		a, i := pby%sy, pby/sy // row iy is row i of the phase planes (a, ·)
		for iy := 0; iy < hLim; iy++ {
			row := xc[iy*wIn : (iy+1)*wIn]
			base := ch*l.plane + a*sx*pp + i*wph
			if a++; a == sy {
				a, i = 0, i+1
			}
			switch sx {
			case 1:
				if ph := xp[base+pbx : base+pbx+wLim]; back {
					copy(row, ph)
				} else {
					copy(ph, row)
				}
			case 2:
				if wLim > 0 { // else every pixel of the row lies beyond the phase planes
					interleave(row[:wLim], xp[base+pbx%2*pp+pbx/2:], xp[base+(1-pbx%2)*pp+(pbx+1)/2:], !back)
				}
			default:
				for b := 0; b < sx; b++ { // columns ix0, ix0 + sx, … of phase b
					ix0 := ((b-pbx)%sx + sx) % sx
					if ix0 >= wLim {
						continue
					}
					src := row[ix0:wLim]
					ph := xp[base+b*pp+(ix0+pbx)/sx:][:(len(src)+sx-1)/sx]
					if back {
						for j, v := range ph {
							src[j*sx] = v
						}
					} else {
						for j := range ph {
							ph[j] = src[j*sx]
						}
					}
				}
			}
			if back {
				clear(row[wLim:])
			}
		}
		if back {
			clear(xc[hLim*wIn:])
		}
	}
}

// interleave sets row[2j] = p0[j] and row[2j+1] = p1[j], or with split
// set the reverse: p0 and p1 get the even and odd elements of row.
func interleave(row, p0, p1 []float32, split bool) {
	n := len(row) / 2
	p0, p1 = p0[:n+len(row)%2], p1[:n]
	if split {
		for j := range p1 {
			p0[j], p1[j] = row[2*j], row[2*j+1]
		}
	} else {
		for j := range p1 {
			row[2*j], row[2*j+1] = p0[j], p1[j]
		}
	}
	if len(row)%2 == 1 {
		if split {
			p0[n] = row[2*n]
		} else {
			row[2*n] = p0[n]
		}
	}
}

// taps calls f for every tap of one output channel's kernel wk [l.c, kh,
// kw], in kernel order, with the tap's weight and the offset of its input
// run in the group's phase planes.
func (l *phaseLayout) taps(wk []float32, f func(wv float32, o int)) {
	t := 0
	for ch := 0; ch < l.c; ch++ {
		for _, o := range l.offs {
			f(wk[t], ch*l.plane+o)
			t++
		}
	}
}

// convGrouped is the forward pass: y = conv(x, w) + bias, rectified when
// relu is set, for x [batch, c, h, w] and w [m, c/grp, kh, kw].
func convGrouped(e *Executor, x, w, bias, y []float32, batch, c, m, grp int, g *geom, relu bool) {
	cg, mg := c/grp, m/grp
	l := newPhaseLayout(cg, g)
	inSize, outSize := l.hIn*l.wIn, l.ho*l.wo
	e.parallel(batch*grp, func(lo, hi int) {
		xp, acc := l.padded(e), e.scratch(l.n)
		defer func() { e.unscratch(xp); e.unscratch(acc) }()
		for item := lo; item < hi; item++ { // item = img·grp + group
			img, gi := item/grp, item%grp
			l.split(x[(img*c+gi*cg)*inSize:(img*c+(gi+1)*cg)*inSize], xp, false)
			for oc := gi * mg; oc < (gi+1)*mg; oc++ {
				clear(acc)
				l.taps(w[oc*l.k:(oc+1)*l.k], func(wv float32, o int) {
					simd.Axpy(acc[:l.n], wv, xp[o:o+l.n])
				})
				var bv float32
				if bias != nil {
					bv = bias[oc]
				}
				out := y[(img*m+oc)*outSize : (img*m+oc+1)*outSize]
				for oy := 0; oy < l.ho; oy++ {
					biasRelu(out[oy*l.wo:(oy+1)*l.wo], acc[oy*l.wph:oy*l.wph+l.wo], bv, bias != nil, relu)
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
	l := newPhaseLayout(cg, g)
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
						l.split(x[xg:xg+cg*inSize], xp, false)
					}
					if dx != nil {
						clear(dxp)
					}
					for oc := gi * mg; oc < (gi+1)*mg; oc++ {
						dyi := dy[(img*m+oc)*outSize : (img*m+oc+1)*outSize]
						for oy := 0; oy < l.ho; oy++ {
							copy(dyp[oy*l.wph:oy*l.wph+l.wo], dyi[oy*l.wo:(oy+1)*l.wo])
						}
						wk := w[oc*l.k : (oc+1)*l.k]
						if parts != nil {
							dwk := parts[ci][oc*l.k : (oc+1)*l.k]
							t := 0
							l.taps(wk, func(_ float32, o int) {
								dwk[t] += simd.Dot(dyp[:l.n], xp[o:o+l.n])
								t++
							})
						}
						if dx != nil {
							l.taps(wk, func(wv float32, o int) {
								simd.Axpy(dxp[o:o+l.n], wv, dyp)
							})
						}
					}
					if dx != nil {
						l.split(dx[xg:xg+cg*inSize], dxp, true)
					}
				}
			}
		}
	})
}
