package engine

import "github.com/ferminets/fermi/engine/simd"

// Winograd convolution F(2×2, 3×3) (Lavin and Gray, "Fast Algorithms for
// Convolutional Neural Networks", 2016).
//
// A 3×3 correlation computes each 2×2 output tile from a 4×4 input tile d
// with 16 multiplications instead of 36:
//
//	Y = Aᵀ [(G g Gᵀ) ⊙ (Bᵀ d B)] A
//
// Summed over input channels, the elementwise products become 16
// independent matrix products, one per position ξ of the 4×4 tile:
// M_ξ [m × tiles] = U_ξ [m × c] · V_ξ [c × tiles], with U = G g Gᵀ the
// transformed filters and V = Bᵀ d B the transformed input tiles: 2.25×
// fewer multiply-adds than im2col's product for the same output, and the
// transforms (simd.WinoInput, simd.WinoOutput) only add and subtract.
//
// The filter gradient is the chain rule through the same bilinear form:
// dM = A dY Aᵀ per output tile (simd.WinoGrad), dU_ξ = dM_ξ · V_ξᵀ, and
// dW = Gᵀ dU G. The input gradient is the adjoint convolution (dY with
// flipped kernels), itself a Winograd convolution.
//
// Images are processed in groups whose tiles share one set of 16 products.
// Outputs are sums of 16·c products of transformed values rather than
// 9·c products of the inputs, so they agree with the other paths to
// float32 rounding, not in every bit; they do not depend on the thread
// count.

// winogradMinChannels is the fewest input and output channels with which a
// convolution runs as Winograd: with fewer, the products are too thin to
// pay for the transforms.
const winogradMinChannels = 8

// winogradColTarget is the product of product columns and the larger
// channel count that image groups aim for, so that a group's transformed
// tiles (V and M, 16 planes each) stay within the core's L2 cache.
const winogradColTarget = 8192

// winograd reports whether a convolution of geometry g with grp groups, c
// input and m output channels over batch images runs as Winograd
// F(2×2, 3×3): ungrouped, 2-D, 3×3 kernel, unit strides and dilations,
// enough channels, at least two images (image groups are what threads
// split), and kernels fast on small products with the vector transforms.
func (e *Executor) winograd(grp, batch, c, m int, g *geom) bool {
	k, ok := e.cfg.kernels.(smallGemm)
	if !ok || !k.smallGemmFast() || !simd.Available() || grp != 1 || batch < 2 {
		return false
	}
	if c < winogradMinChannels || m < winogradMinChannels || g.rank != 2 {
		return false
	}
	return g.k[1] == 3 && g.k[2] == 3 && g.s[1] == 1 && g.s[2] == 1 && g.d[1] == 1 && g.d[2] == 1 &&
		g.out[1] > 0 && g.out[2] > 0
}

// winoLayout is the tiling of one Winograd convolution.
type winoLayout struct {
	c, m, hIn, wIn, ho, wo int
	th, tw, tiles          int // tiles down, across, per image
	wp, plane              int // padded input planes: 2th+2 rows of wp = 2tw+2
	ys                     int // row stride of dY's planes padded to whole tiles (2th rows)
	gs                     int // images per group
	g                      *geom
}

// winoSlack is how far past its planes the transforms' assembly reads
// and writes (a partial group of 8 tiles), in floats.
const winoSlack = 16

func newWinoLayout(c, m, batch int, g *geom) winoLayout {
	l := winoLayout{c: c, m: m, hIn: g.in[1], wIn: g.in[2], ho: g.out[1], wo: g.out[2], g: g}
	l.th, l.tw = (l.ho+1)/2, (l.wo+1)/2
	l.tiles = l.th * l.tw
	l.wp = 2*l.tw + 2
	l.plane = (2*l.th + 2) * l.wp
	l.ys = 2 * ((l.tw + 7) &^ 7)
	l.gs = max(1, min(winogradColTarget/max(c, m)/l.tiles, batch/4))
	return l
}

// ld returns the row stride of the transformed planes of a group of n
// images: their tiles plus the slack a partial group of 8 tiles writes.
func (l *winoLayout) ld(n int) int { return n*l.tiles + winoSlack }

// padded returns a zeroed buffer for one padded image.
func (l *winoLayout) padded(e *Executor) []float32 { return e.buf(l.c*l.plane+winoSlack, true) }

// inputTiles pads image xi into xp and writes its transformed tiles into
// columns [off, off+tiles) of v [16][c][ld].
func (l *winoLayout) inputTiles(xi, xp, v []float32, ld, off int) {
	copyPadded(xi, xp, l.c, l.hIn, l.wIn, l.plane, l.wp, l.g, false)
	for ch := range l.c {
		simd.WinoInput(v[ch*ld+off:], l.c*ld, xp[ch*l.plane:], l.wp, l.tw, l.th)
	}
}

// winoFilters sets u [16][m][c] to the transformed filters G g Gᵀ of w
// [m, c, 3, 3].
//
//	G = [1 0 0; ½ ½ ½; ½ −½ ½; 0 0 1]
func winoFilters(u, w []float32, m, c int) {
	mc := m * c
	for k := range mc {
		g := w[k*9 : k*9+9]
		var t [4][3]float32 // G g
		for j := range 3 {
			g0, g1, g2 := g[j], g[3+j], g[6+j]
			t[0][j], t[1][j], t[2][j], t[3][j] = g0, (g0+g1+g2)*0.5, (g0-g1+g2)*0.5, g2
		}
		for r := range 4 {
			a, b, c := t[r][0], t[r][1], t[r][2]
			u[(r*4+0)*mc+k] = a
			u[(r*4+1)*mc+k] = (a + b + c) * 0.5
			u[(r*4+2)*mc+k] = (a - b + c) * 0.5
			u[(r*4+3)*mc+k] = c
		}
	}
}

// winoFilterGrads adds to dw [m, c, 3, 3] the filter gradient Gᵀ dU G of du
// [16][m][c].
func winoFilterGrads(dw, du []float32, m, c int) {
	mc := m * c
	for k := range mc {
		var t [3][4]float32 // Gᵀ dU
		for j := range 4 {
			u0, u1, u2, u3 := du[j*mc+k], du[(4+j)*mc+k], du[(8+j)*mc+k], du[(12+j)*mc+k]
			t[0][j], t[1][j], t[2][j] = u0+(u1+u2)*0.5, (u1-u2)*0.5, (u1+u2)*0.5+u3
		}
		d := dw[k*9 : k*9+9]
		for r := range 3 {
			p0, p1, p2, p3 := t[r][0], t[r][1], t[r][2], t[r][3]
			d[r*3] += p0 + (p1+p2)*0.5
			d[r*3+1] += (p1 - p2) * 0.5
			d[r*3+2] += (p1+p2)*0.5 + p3
		}
	}
}

// convWinograd is the forward pass of an ungrouped 3×3 unit-stride
// convolution as Winograd F(2×2, 3×3) (see winograd), with the bias and a
// fused Relu applied as the output planes are written; image groups are
// split across threads.
func convWinograd(e *Executor, x, w, bias, y []float32, batch, c, m int, g *geom, relu bool) {
	l := newWinoLayout(c, m, batch, g)
	u := e.scratch(16 * m * c)
	defer e.unscratch(u)
	winoFilters(u, w, m, c)
	inSize, outSize := c*l.hIn*l.wIn, m*l.ho*l.wo
	e.parallel((batch+l.gs-1)/l.gs, func(lo, hi int) {
		ldMax := l.ld(l.gs)
		xp, v, mo := l.padded(e), e.scratch(16*c*ldMax), e.scratch(16*m*ldMax)
		defer func() { e.unscratch(xp); e.unscratch(v); e.unscratch(mo) }()
		for gi := lo; gi < hi; gi++ {
			i0, i1 := gi*l.gs, min(batch, (gi+1)*l.gs)
			ld := l.ld(i1 - i0)
			for img := i0; img < i1; img++ {
				l.inputTiles(x[img*inSize:(img+1)*inSize], xp, v, ld, (img-i0)*l.tiles)
			}
			n := (i1 - i0) * l.tiles
			for xi := range 16 {
				e.cfg.kernels.Sgemm(false, false, m, n, c, 1, u[xi*m*c:], c, v[xi*c*ld:], ld, 0, mo[xi*m*ld:], ld)
			}
			for img := i0; img < i1; img++ {
				// Each channel's plane is written with the rest of the image
				// after it: the spill of its groups of 8 tiles lands on
				// planes written next.
				yi := y[img*outSize : (img+1)*outSize]
				for oc := range m {
					ep := simd.Epilogue{AddBias: bias != nil, Relu: relu}
					if bias != nil {
						ep.Bias = bias[oc]
					}
					simd.WinoOutput(yi[oc*l.ho*l.wo:], l.wo, l.ho, l.wo, mo[oc*ld+(img-i0)*l.tiles:], m*ld, l.tw, l.th, ep)
				}
			}
		}
	})
}

// convWinogradFilterGrad adds the filter gradient of convWinograd's
// convolution into parts[0] (the other parts stay as they are): the
// transformed gradients dU of the chunks of gradChunks are summed in
// order, then transformed back once.
func convWinogradFilterGrad(e *Executor, x, dy []float32, parts [][]float32, batch, c, m int, g *geom) {
	l := newWinoLayout(c, m, batch, g)
	inSize, outSize := c*l.hIn*l.wIn, m*l.ho*l.wo
	// dY is transformed in place when its planes have whole tiles;
	// otherwise from a copy padded with zeros to whole tiles.
	inPlace := l.ho%2 == 0 && l.wo%2 == 0
	nch := min(batch, gradChunks)
	dus := make([][]float32, nch)
	for i := range dus {
		dus[i] = e.buf(16*m*c, true)
		defer e.unscratch(dus[i])
	}
	e.parallel(nch, func(clo, chi int) {
		ldMax := l.ld(l.gs)
		xp, v, dm := l.padded(e), e.scratch(16*c*ldMax), e.scratch(16*m*ldMax)
		var dyp []float32
		if !inPlace {
			dyp = e.buf(2*l.th*l.ys, true)
		}
		defer func() { e.unscratch(xp); e.unscratch(v); e.unscratch(dm); e.unscratch(dyp) }()
		for ci := clo; ci < chi; ci++ {
			du := dus[ci]
			lo, hi := chunkBounds(batch, nch, ci)
			for i0 := lo; i0 < hi; i0 += l.gs {
				i1 := min(hi, i0+l.gs)
				ld := l.ld(i1 - i0)
				for img := i0; img < i1; img++ {
					off := (img - i0) * l.tiles
					l.inputTiles(x[img*inSize:(img+1)*inSize], xp, v, ld, off)
					for oc := range m {
						src, stride := dy[img*outSize+oc*l.ho*l.wo:], l.wo // the assembly may read past the plane
						if !inPlace {
							copyIntoPadding(dyp, l.ys, src, l.wo, l.wo, l.ho, l.ys-l.wo)
							src, stride = dyp, l.ys
						}
						simd.WinoGrad(dm[oc*ld+off:], m*ld, src, stride, l.tw, l.th)
					}
				}
				n := (i1 - i0) * l.tiles
				for xi := range 16 {
					e.cfg.kernels.Sgemm(false, true, m, c, n, 1, dm[xi*m*ld:], ld, v[xi*c*ld:], ld, 1, du[xi*m*c:], c)
				}
			}
		}
	})
	for _, du := range dus[1:] {
		simd.Add(dus[0], dus[0], du)
	}
	winoFilterGrads(parts[0], dus[0], m, c)
}
