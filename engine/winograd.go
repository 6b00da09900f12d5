package engine

import (
	"sync"

	"github.com/ferminets/fermi/engine/simd"
)

// Winograd convolution F(r×r, 3×3) (Lavin and Gray, "Fast Algorithms for
// Convolutional Neural Networks", 2016), with r = 2 or 4.
//
// A 3×3 correlation computes each r×r output tile from an a×a input tile
// d (a = r+2) with a² multiplications instead of 9r²:
//
//	Y = Aᵀ [(G g Gᵀ) ⊙ (Bᵀ d B)] A
//
// Summed over input channels, the elementwise products become a²
// independent matrix products, one per position ξ of the a×a tile:
// M_ξ [m × tiles] = U_ξ [m × c] · V_ξ [c × tiles], with U = G g Gᵀ the
// transformed filters and V = Bᵀ d B the transformed input tiles: 2.25×
// (F(2×2)) or 4× (F(4×4)) fewer multiply-adds than im2col's product for
// the same output; the transforms (simd.WinoInput, simd.WinoOutput and
// their F4 forms) only add, subtract and scale by powers of two.
//
// The filter gradient is the chain rule through the same bilinear form:
// dM = A dY Aᵀ per output tile (simd.WinoGrad), dU_ξ = dM_ξ · V_ξᵀ, and
// dW = Gᵀ dU G. The input gradient is the adjoint convolution (dY with
// flipped kernels), itself a Winograd convolution.
//
// Images are processed in groups whose tiles share one set of a²
// products. Outputs are sums of a²·c products of transformed values rather
// than 9·c products of the inputs, so they agree with the other paths to
// float32 rounding, not in every bit (F(4×4)'s transforms scale by up to
// 8, so its rounding error is the larger); they do not depend on the
// thread count.

// winoScheme is one Winograd algorithm F(r×r, 3×3): its tile size, its
// filter transform G and its transforms of whole planes.
type winoScheme struct {
	once   sync.Once
	t      []float32    // filterMap
	r      int          // output tile side; input tiles are r+2 wide
	g      [][3]float64 // G, (r+2)×3
	input  func(v []float32, vs int, x []float32, wp, tw, th int)
	output func(y []float32, ys, ho, wo int, m []float32, ms, tw, th int, ep simd.Epilogue)
	grad   func(dm []float32, ms int, dy []float32, ys, tw, th int)
}

var (
	winoF2 = &winoScheme{r: 2, g: [][3]float64{{1, 0, 0}, {.5, .5, .5}, {.5, -.5, .5}, {0, 0, 1}},
		input: simd.WinoInput, output: simd.WinoOutput, grad: simd.WinoGrad}
	winoF4 = &winoScheme{r: 4, g: [][3]float64{{1. / 4, 0, 0}, {-1. / 6, -1. / 6, -1. / 6}, {-1. / 6, 1. / 6, -1. / 6},
		{1. / 24, 1. / 12, 1. / 6}, {1. / 24, -1. / 12, 1. / 6}, {0, 0, 1}},
		input: simd.WinoInputF4, output: simd.WinoOutputF4, grad: simd.WinoGradF4}
)

// planes returns a², the number of transformed values of a tile.
func (s *winoScheme) planes() int { return len(s.g) * len(s.g) }

// filterMap returns the a²×9 matrix T of the filter transform,
// T[ia+j][3p+q] = G[i][p]·G[j][q], so that U = T·g for a filter g of 9
// values, and Gᵀ dU G = Tᵀ·dU for its gradient.
func (s *winoScheme) filterMap() []float32 {
	s.once.Do(func() {
		a := len(s.g)
		s.t = make([]float32, a*a*9)
		for i, gi := range s.g {
			for j, gj := range s.g {
				for p := range 3 {
					for q := range 3 {
						s.t[(i*a+j)*9+p*3+q] = float32(gi[p] * gj[q])
					}
				}
			}
		}
	})
	return s.t
}

// filters sets u [a²][m][c] to the transformed filters G g Gᵀ of w
// [m, c, 3, 3]: one matrix product, U = T·Wᵀ.
func (s *winoScheme) filters(e *Executor, u, w []float32, m, c int) {
	e.cfg.kernels.Sgemm(false, true, s.planes(), m*c, 9, 1, s.filterMap(), 9, w, 9, 0, u, m*c)
}

// filterGrads adds to dw [m, c, 3, 3] the filter gradient Gᵀ dU G of du
// [a²][m][c]: one matrix product, dW += dUᵀ·T.
func (s *winoScheme) filterGrads(e *Executor, dw, du []float32, m, c int) {
	e.cfg.kernels.Sgemm(true, false, m*c, 9, s.planes(), 1, du, m*c, s.filterMap(), 9, 1, dw, 9)
}

// winogradMinChannels is the fewest input and output channels with which a
// convolution runs as Winograd: with fewer, the products are too thin to
// pay for the transforms.
const winogradMinChannels = 8

// winogradColTarget is the product of product columns, the larger
// channel count and the tile's transformed values that image groups aim
// for, so that a group's transformed tiles (V and M) stay within the
// core's L2 cache.
const winogradColTarget = 8192 * 16

// winograd reports whether a convolution of geometry g with grp groups, c
// input and m output channels over batch images runs as Winograd:
// ungrouped, 2-D, 3×3 kernel, unit strides and dilations, enough
// channels, at least two images (image groups are what threads split),
// and kernels fast on small products with the vector transforms.
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
	*winoScheme
	pairs                  bool // F(4×4) over tile pairs (simd.WinoInputF4Pairs): planes 4 or 2 tiles wide
	c, m, hIn, wIn, ho, wo int
	th, tw, tiles          int // tiles down, across, per image
	n                      int // transformed values a tile
	wp, plane              int // padded input planes: r·th+2 rows of wp = r·tw+2
	ys                     int // row stride of dY's planes padded to whole tiles (r·th rows)
	gs                     int // images per group
	g                      *geom
}

// winoSlack is how far past its planes the transforms' assembly reads
// and writes (a partial group of 8 tiles, and F(4×4)'s input transform
// reading 8 floats more), in floats.
const winoSlack = 40

// newWinoLayout tiles a convolution of geometry g. It takes F(4×4) where
// its tiles cover the output planes exactly and a tile row fills most of
// a vector of 8 tiles, or where a plane is 4 tiles wide with an even
// number of tile rows, or 2×2 tiles (tile pairs fill the vectors; the
// products are then 1.36× and 1.78× fewer than F(2×2)'s, although the
// tiles overhang the plane); F(2×2) otherwise.
func newWinoLayout(c, m, batch int, g *geom) winoLayout {
	l := winoLayout{c: c, m: m, hIn: g.in[1], wIn: g.in[2], ho: g.out[1], wo: g.out[2], g: g, winoScheme: winoF2}
	th4, tw4 := (l.ho+3)/4, (l.wo+3)/4
	switch {
	case l.ho%4 == 0 && l.wo%4 == 0 && l.wo >= 20:
		l.winoScheme = winoF4
	case tw4 == 4 && th4%2 == 0, tw4 == 2 && th4 == 2:
		l.winoScheme, l.pairs = winoF4, true
	}
	r := l.r
	l.th, l.tw = (l.ho+r-1)/r, (l.wo+r-1)/r
	l.tiles = l.th * l.tw
	l.n = l.planes()
	l.wp = r*l.tw + 2
	l.plane = (r*l.th + 2) * l.wp
	l.ys = r * ((l.tw + 7) &^ 7)
	if l.pairs {
		l.ys = r * l.tw
	}
	target := winogradColTarget
	if l.pairs {
		// Small planes have few tiles an image: the products' columns
		// matter more than L2 (measured: 14×14 and 7×7 planes of ResNet-20
		// 10 % faster with 4 times the columns).
		target *= 4
	}
	l.gs = max(1, min(target/l.n/max(c, m)/l.tiles, batch/4))
	// Groups in a multiple of 4, so that 2 or 4 threads get equal shares
	// (5 groups of 28 images left one of 2 threads idle a third of the
	// time); the thread count itself must not change the grouping, which
	// the filter gradient's sums follow.
	ng := ((batch+l.gs-1)/l.gs + 3) &^ 3
	l.gs = (batch + ng - 1) / ng
	return l
}

// ld returns the row stride of the transformed planes of a group of n
// images: their tiles plus the slack a partial group of 8 tiles writes.
func (l *winoLayout) ld(n int) int { return n*l.tiles + winoSlack }

// cols returns the columns of the transformed planes that the products
// of a group of n images take: their tiles, and with 2×2 tiles over tile
// pairs an odd group's phantom image too, whose tiles share vectors with
// the last image's (its columns are transformed from zeros).
func (l *winoLayout) cols(n int) int {
	if l.pairs && l.tw == 2 {
		return (n + 1) / 2 * 8
	}
	return n * l.tiles
}

// padded returns a zeroed buffer for the padded images of a group (one
// image at a time unless over tile pairs, which take two images' 2×2
// tiles at once: room for one more).
func (l *winoLayout) padded(e *Executor) []float32 {
	if l.pairs {
		return e.buf((l.gs+1)*l.c*l.plane+winoSlack, true)
	}
	return e.buf(l.c*l.plane+winoSlack, true)
}

// inputGroup writes the transformed tiles of images [i0, i1) of x into v
// [n][c][ld], image i's at columns (i−i0)·tiles on, padding them in xp.
func (l *winoLayout) inputGroup(x []float32, i0, i1 int, xp, v []float32, ld int) {
	inSize := l.c * l.hIn * l.wIn
	if !l.pairs {
		for img := i0; img < i1; img++ {
			copyPadded(x[img*inSize:(img+1)*inSize], xp, l.c, l.hIn, l.wIn, l.plane, l.wp, l.g, false)
			off := (img - i0) * l.tiles
			for ch := range l.c {
				l.input(v[ch*ld+off:], l.c*ld, xp[ch*l.plane:], l.wp, l.tw, l.th)
			}
		}
		return
	}
	is := l.c * l.plane
	for img := i0; img < i1; img++ {
		copyPadded(x[img*inSize:(img+1)*inSize], xp[(img-i0)*is:], l.c, l.hIn, l.wIn, l.plane, l.wp, l.g, false)
	}
	if l.cols(i1-i0) > (i1-i0)*l.tiles { // the phantom image
		clear(xp[(i1-i0)*is : (i1-i0+1)*is])
	}
	for k := range l.pairCalls(i1 - i0) {
		base, col, off, n, step := l.pairCall(k, i1-i0, is, l.wp)
		for ch := range l.c {
			simd.WinoInputF4Pairs(v[ch*ld+col:], l.c*ld, xp[base+ch*l.plane:], l.wp, off, n, step)
		}
	}
}

// pairCalls returns how many transform calls cover nimg images' planes
// over tile pairs: one an image for planes 4 tiles wide, one for all
// images (two a group) for 2×2 tiles.
func (l *winoLayout) pairCalls(nimg int) int {
	if l.tw == 4 {
		return nimg
	}
	return 1
}

// pairCall returns call k of pairCalls over planes whose images are is
// floats apart and rows rs: the offset of its first plane, its first
// column of the transformed planes, and its tile pairs, groups and step.
func (l *winoLayout) pairCall(k, nimg, is, rs int) (base, col int, off [4]int, n, step int) {
	if l.tw == 4 { // two tile rows a group
		return k * is, k * l.tiles, [4]int{0, 8, 4 * rs, 4*rs + 8}, l.th / 2, 8 * rs
	}
	return 0, 0, [4]int{0, 4 * rs, is, is + 4*rs}, (nimg + 1) / 2, 2 * is
}

// convWinograd is the forward pass of an ungrouped 3×3 unit-stride
// convolution as Winograd (see winograd), with the bias and a
// fused Relu applied as the output planes are written; image groups are
// split across threads. With mom non-nil it also sums each output plane
// into mom [batch][m][2] (Σ, Σ²) once written (moments fusion, fuse.go);
// with add non-nil it adds add to the output, an image at a time while it
// is in cache (the input gradient's sum, fuse.go).
func convWinograd(e *Executor, x, w, bias, y []float32, mom []float64, add []float32, batch, c, m int, g *geom, relu bool) {
	l := newWinoLayout(c, m, batch, g)
	u := e.scratch(l.n * m * c)
	defer e.unscratch(u)
	l.filters(e, u, w, m, c)
	e.parallel((batch+l.gs-1)/l.gs, func(lo, hi int) {
		b := l.bufs(e)
		defer b.release(e)
		for gi := lo; gi < hi; gi++ {
			l.forward(e, b, x, u, bias, y, mom, add, gi*l.gs, min(batch, (gi+1)*l.gs), relu)
		}
	})
}

// winoBufs are one thread's buffers for forward passes of a layout.
type winoBufs struct {
	xp, v, mo []float32
	yt        []float32 // the outputs' planes of whole tiles, over tile pairs
}

// bufs returns buffers for forward passes of groups of up to gs images.
func (l *winoLayout) bufs(e *Executor) winoBufs {
	ldMax := l.ld(l.gs)
	b := winoBufs{xp: l.padded(e), v: e.scratch(l.n * l.c * ldMax), mo: e.scratch(l.n * l.m * ldMax)}
	if l.pairs {
		b.yt = e.scratch((l.gs + 1) * l.m * l.r * l.th * l.ys)
	}
	return b
}

// release gives b's buffers back.
func (b winoBufs) release(e *Executor) {
	e.unscratch(b.xp)
	e.unscratch(b.v)
	e.unscratch(b.mo)
	e.unscratch(b.yt)
}

// forward is convWinograd's forward pass over images [i0, i1) (at most gs
// of them) with the transformed filters u.
func (l *winoLayout) forward(e *Executor, b winoBufs, x, u, bias, y []float32, mom []float64, add []float32, i0, i1 int, relu bool) {
	c, m := l.c, l.m
	outSize := m * l.ho * l.wo
	ld := l.ld(i1 - i0)
	l.inputGroup(x, i0, i1, b.xp, b.v, ld)
	n := l.cols(i1 - i0)
	for xi := range l.n {
		e.cfg.kernels.Sgemm(false, false, m, n, c, 1, u[xi*m*c:], c, b.v[xi*c*ld:], ld, 0, b.mo[xi*m*ld:], ld)
	}
	if l.pairs {
		l.outputPairs(y[i0*outSize:i1*outSize], b.mo, b.yt, i1-i0, ld, bias, relu)
		if add != nil {
			simd.Add(y[i0*outSize:i1*outSize], y[i0*outSize:i1*outSize], add[i0*outSize:i1*outSize])
		}
		if mom != nil {
			planeSums(mom[2*i0*m:2*i1*m], y[i0*outSize:i1*outSize], l.ho*l.wo)
		}
		return
	}
	for img := i0; img < i1; img++ {
		// Each channel's plane is written with the rest of the image
		// after it: the spill of its groups of 8 tiles lands on
		// planes written next.
		yi := y[img*outSize : (img+1)*outSize]
		for oc := range m {
			l.output(yi[oc*l.ho*l.wo:], l.wo, l.ho, l.wo, b.mo[oc*ld+(img-i0)*l.tiles:], m*ld, l.tw, l.th, winoEpilogue(bias, relu, oc))
		}
		if add != nil { // the image's planes are written and in cache
			simd.Add(yi, yi, add[img*outSize:(img+1)*outSize])
		}
		if mom != nil {
			planeSums(mom[2*img*m:2*(img+1)*m], yi, l.ho*l.wo)
		}
	}
}

// planeSums sets mom [planes][2] to Σ and Σ² (simd.SumSq) of the planes of
// size floats in y.
func planeSums(mom []float64, y []float32, size int) {
	for p := range len(mom) / 2 {
		mom[2*p], mom[2*p+1] = simd.SumSq(y[p*size : (p+1)*size])
	}
}

// winoEpilogue is what the output transforms apply to output channel oc:
// its bias, if any, then a Relu if relu is set.
func winoEpilogue(bias []float32, relu bool, oc int) simd.Epilogue {
	ep := simd.Epilogue{AddBias: bias != nil, Relu: relu}
	if bias != nil {
		ep.Bias = bias[oc]
	}
	return ep
}

// outputPairs writes the output planes of nimg images into y from their
// products mo over tile pairs: whole tiles into yt, then the planes out
// of them.
func (l *winoLayout) outputPairs(y, mo, yt []float32, nimg, ld int, bias []float32, relu bool) {
	tp := l.r * l.th * l.ys // a plane of whole tiles
	is := l.m * tp
	for k := range l.pairCalls(nimg) {
		base, col, off, n, step := l.pairCall(k, nimg, is, l.ys)
		for oc := range l.m {
			simd.WinoOutputF4Pairs(yt[base+oc*tp:], l.ys, mo[oc*ld+col:], l.m*ld, off, n, step, winoEpilogue(bias, relu, oc))
		}
	}
	// Rows go out as whole vectors (ys ≥ wo rounded up to 8), each row's
	// spill overwritten by the next row or plane; the last row is exact.
	w8, planes := (l.wo+7)&^7, nimg*l.m
	for p := range planes {
		if p < planes-1 {
			simd.CopyRows(y[p*l.ho*l.wo:], l.wo, yt[p*tp:], l.ys, w8, l.ho)
			continue
		}
		h := l.ho - 1
		simd.CopyRows(y[p*l.ho*l.wo:], l.wo, yt[p*tp:], l.ys, w8, h)
		copy(y[(p*l.ho+h)*l.wo:(p*l.ho+h+1)*l.wo], yt[p*tp+h*l.ys:])
	}
}

// convWinogradFilterGrad adds the filter gradient of convWinograd's
// convolution into parts[0] (the other parts stay as they are): the
// transformed gradients dU of the chunks of gradChunks are summed in
// order, then transformed back once.
func convWinogradFilterGrad(e *Executor, x, dy []float32, parts [][]float32, batch, c, m int, g *geom) {
	l := newWinoLayout(c, m, batch, g)
	outSize := m * l.ho * l.wo
	// dY is transformed in place when its planes have whole tiles;
	// otherwise from a copy padded with zeros to whole tiles.
	inPlace := l.ho%l.r == 0 && l.wo%l.r == 0
	nch := min(batch, gradChunks)
	dus := make([][]float32, nch)
	for i := range dus {
		dus[i] = e.scratch(l.n * m * c) // the chunk's first products write it
		defer e.unscratch(dus[i])
	}
	e.parallel(nch, func(clo, chi int) {
		ldMax := l.ld(l.gs)
		xp, v, dm := l.padded(e), e.scratch(l.n*c*ldMax), e.scratch(l.n*m*ldMax)
		var dyp []float32
		switch {
		case l.pairs: // all the group's planes, whole tiles each
			dyp = e.buf((l.gs+1)*m*l.r*l.th*l.ys, true)
		case !inPlace:
			dyp = e.buf(l.r*l.th*l.ys, true)
		}
		defer func() { e.unscratch(xp); e.unscratch(v); e.unscratch(dm); e.unscratch(dyp) }()
		for ci := clo; ci < chi; ci++ {
			du := dus[ci]
			lo, hi := chunkBounds(batch, nch, ci)
			for i0 := lo; i0 < hi; i0 += l.gs {
				i1 := min(hi, i0+l.gs)
				ld := l.ld(i1 - i0)
				l.inputGroup(x, i0, i1, xp, v, ld)
				if l.pairs {
					l.gradPairs(dy[i0*outSize:i1*outSize], dyp, dm, i1-i0, ld)
				}
				for img := i0; img < i1 && !l.pairs; img++ {
					off := (img - i0) * l.tiles
					for oc := range m {
						src, stride := dy[img*outSize+oc*l.ho*l.wo:], l.wo // the assembly may read past the plane
						if !inPlace {
							copyIntoPadding(dyp, l.ys, src, l.wo, l.wo, l.ho, l.ys-l.wo)
							src, stride = dyp, l.ys
						}
						l.grad(dm[oc*ld+off:], m*ld, src, stride, l.tw, l.th)
					}
				}
				n, beta := l.cols(i1-i0), float32(1)
				if i0 == lo {
					beta = 0
				}
				for xi := range l.n {
					e.cfg.kernels.Sgemm(false, true, m, c, n, 1, dm[xi*m*ld:], ld, v[xi*c*ld:], ld, beta, du[xi*m*c:], c)
				}
			}
		}
	})
	e.parallelElems(len(dus[0]), func(lo, hi int) {
		for _, du := range dus[1:] { // in chunk order, whatever the threads
			simd.Add(dus[0][lo:hi], dus[0][lo:hi], du[lo:hi])
		}
	})
	l.filterGrads(e, parts[0], dus[0], m, c)
}

// gradPairs writes the transformed output gradients of nimg images' dY
// into dm [n][m][ld] over tile pairs, from copies of the planes padded
// with zeros to whole tiles in dyp.
func (l *winoLayout) gradPairs(dy, dyp, dm []float32, nimg, ld int) {
	tp := l.r * l.th * l.ys
	for p := range nimg * l.m {
		copyIntoPadding(dyp[p*tp:], l.ys, dy[p*l.ho*l.wo:], l.wo, l.wo, l.ho, l.ys-l.wo)
	}
	if l.cols(nimg) > nimg*l.tiles { // the phantom image
		clear(dyp[nimg*l.m*tp : (nimg+1)*l.m*tp])
	}
	is := l.m * tp
	for k := range l.pairCalls(nimg) {
		base, col, off, n, step := l.pairCall(k, nimg, is, l.ys)
		for oc := range l.m {
			simd.WinoGradF4Pairs(dm[oc*ld+col:], l.m*ld, dyp[base+oc*tp:], l.ys, off, n, step)
		}
	}
}
