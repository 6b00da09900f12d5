package engine

import (
	"fmt"
	"slices"

	"github.com/ferminets/fermi/engine/simd"
	"github.com/ferminets/fermi/ir"
)

// geom is the geometry of a sliding-window op (Conv, ConvTranspose, pools)
// over 1 to 3 spatial dims. Fewer than 3 dims are padded on the left with
// size-1 dims (kernel 1, stride 1, dilation 1, no padding), so one loop nest
// serves 1-D, 2-D and 3-D. For ConvTranspose, in and out are the op's input
// and output, and pads crop the full output.
type geom struct {
	rank                int // number of real spatial dims
	in, out, k, s, d    [3]int
	padBegin, padEnd    [3]int
	inVol, outVol, kVol int
	outDimsSp           []int // the output's real spatial dims
}

// newGeom builds a geometry from a node's kernel_shape, strides, dilations,
// pads and auto_pad attributes. kernel is the kernel's spatial shape (from
// the weight, or kernel_shape for pools). ceil selects ceil_mode output
// sizes. Only the forward (Conv/pool) output size is computed here.
func newGeom(n *ir.Node, inSp, kernel []int, ceil bool) (*geom, error) {
	r := len(inSp)
	if r < 1 || r > 3 {
		return nil, fmt.Errorf("%d spatial dims, want 1 to 3", r)
	}
	if len(kernel) != r {
		return nil, fmt.Errorf("kernel has %d spatial dims, input %d", len(kernel), r)
	}
	s, err := attrInts(n, "strides", r, 1)
	if err != nil {
		return nil, err
	}
	d, err := attrInts(n, "dilations", r, 1)
	if err != nil {
		return nil, err
	}
	p, err := attrInts(n, "pads", 2*r, 0)
	if err != nil {
		return nil, err
	}
	g := &geom{rank: r}
	off := 3 - r
	for i := 0; i < 3; i++ {
		g.in[i], g.out[i], g.k[i], g.s[i], g.d[i] = 1, 1, 1, 1, 1
	}
	autoPad := n.Str("auto_pad")
	for i := 0; i < r; i++ {
		j := i + off
		g.in[j], g.k[j], g.s[j], g.d[j] = inSp[i], kernel[i], s[i], d[i]
		if g.k[j] < 1 || g.s[j] < 1 || g.d[j] < 1 {
			return nil, fmt.Errorf("kernel %v, strides %v and dilations %v must be positive", kernel, s, d)
		}
		eff := (g.k[j]-1)*g.d[j] + 1
		switch autoPad {
		case "SAME_UPPER", "SAME_LOWER":
			g.out[j] = (g.in[j] + g.s[j] - 1) / g.s[j]
			total := max(0, (g.out[j]-1)*g.s[j]+eff-g.in[j])
			g.padBegin[j] = total / 2
			if autoPad == "SAME_LOWER" {
				g.padBegin[j] = total - total/2
			}
			g.padEnd[j] = total - g.padBegin[j]
			continue
		case "VALID":
		case "NOTSET", "":
			g.padBegin[j], g.padEnd[j] = p[i], p[i+r]
			if g.padBegin[j] < 0 || g.padEnd[j] < 0 {
				return nil, fmt.Errorf("negative pads %v", p)
			}
		default:
			return nil, fmt.Errorf("auto_pad %q not supported", autoPad)
		}
		num := g.in[j] + g.padBegin[j] + g.padEnd[j] - eff
		if num < 0 {
			return nil, fmt.Errorf("kernel %v (dilations %v) is larger than the padded input %v", kernel, d, inSp)
		}
		g.out[j] = num/g.s[j] + 1
		if ceil && num%g.s[j] != 0 {
			g.out[j]++
			if (g.out[j]-1)*g.s[j] >= g.in[j]+g.padBegin[j] { // last window would start in the end padding
				g.out[j]--
			}
		}
	}
	g.finish()
	return g, nil
}

func (g *geom) finish() {
	g.inVol = g.in[0] * g.in[1] * g.in[2]
	g.outVol = g.out[0] * g.out[1] * g.out[2]
	g.kVol = g.k[0] * g.k[1] * g.k[2]
	g.outDimsSp = slices.Clone(g.out[3-g.rank:])
}

// attrInts returns integer-list attribute name, which must have length want,
// or want copies of def when absent.
func attrInts(n *ir.Node, name string, want int, def int) ([]int, error) {
	v := n.Ints(name)
	if v == nil {
		out := make([]int, want)
		for i := range out {
			out[i] = def
		}
		return out, nil
	}
	if len(v) != want {
		return nil, fmt.Errorf("%s %v has %d values, want %d", name, v, len(v), want)
	}
	return ints(v), nil
}

// span returns the range [lo, hi) of output positions o with
// 0 <= o*s + off < in, clipped to [0, out).
func span(out, s, off, in int) (lo, hi int) {
	lo = min(max(0, ceilDiv(-off, s)), out) // a tap entirely in the padding has lo = hi = out
	hi = min(out, ceilDiv(in-off, s))
	return lo, max(lo, hi)
}

func ceilDiv(a, b int) int { return -floorDiv(-a, b) }

func floorDiv(a, b int) int {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}

// convOperands checks Conv/ConvTranspose inputs: X is [N, C, spatial...],
// W has the same rank, B (optional) is 1-D.
func convOperands(n *ir.Node, in []*ir.Tensor) (x, w, b *ir.Tensor, err error) {
	x, w = in[0], in[1]
	if err := needF32(x, "input", -1); err != nil {
		return nil, nil, nil, err
	}
	if len(x.Dims) < 3 || len(x.Dims) > 5 {
		return nil, nil, nil, fmt.Errorf("input has %d dims, want 3 to 5", len(x.Dims))
	}
	if err := needF32(w, "weight", len(x.Dims)); err != nil {
		return nil, nil, nil, err
	}
	if len(in) > 2 && in[2] != nil {
		b = in[2]
		if err := needF32(b, "bias", 1); err != nil {
			return nil, nil, nil, err
		}
	}
	if ks := n.Ints("kernel_shape"); ks != nil && !sameDims(ks, w.Dims[2:]) {
		return nil, nil, nil, fmt.Errorf("kernel_shape %v, weight has %v", ks, w.Dims[2:])
	}
	if n.Int("group") < 1 {
		return nil, nil, nil, fmt.Errorf("group %d", n.Int("group"))
	}
	return x, w, b, nil
}

// conv computes a grouped N-d convolution. Ungrouped 3×3 unit-stride
// ones run as Winograd (F(4×4, 3×3) or F(2×2, 3×3)) where e.winograd
// allows; other
// ungrouped convs use the padded layout of convWide (unit strides) or
// im2col, with matrix products;
// grouped unit-stride ones with enough channels a group (wideGroups) run
// convWide once per group; other grouped (and depthwise) 1-D/2-D ones with
// strides up to maxPhaseStride the padded phase planes of convGrouped, the
// rest direct loops.
func conv(e *Executor, n *ir.Node, in []*ir.Tensor) ([]*ir.Tensor, error) {
	x, w, b, err := convOperands(n, in)
	if err != nil {
		return nil, err
	}
	grp := int(n.Int("group"))
	batch, c, m, cg := int(x.Dims[0]), int(x.Dims[1]), int(w.Dims[0]), int(w.Dims[1])
	switch {
	case c != cg*grp && grp == 1:
		return nil, fmt.Errorf("input has %d channels, weight wants %d", c, cg)
	case c != cg*grp:
		return nil, fmt.Errorf("input has %d channels, weight wants %d (%d groups of %d)", c, cg*grp, grp, cg)
	}
	if m%grp != 0 {
		return nil, fmt.Errorf("%d output channels do not split into %d groups", m, grp)
	}
	if b != nil && int(b.Dims[0]) != m {
		return nil, fmt.Errorf("bias has %d values, weight has %d output channels", b.Dims[0], m)
	}
	g, err := newGeom(n, ints(x.Dims[2:]), ints(w.Dims[2:]), false)
	if err != nil {
		return nil, err
	}
	var bias []float32
	if b != nil {
		bias = b.F32
	}
	relu := e.reluFused(n)
	var y *ir.Tensor
	switch {
	case e.winograd(grp, batch, c, m, g):
		y = e.allocRaw(append([]int{batch, m}, g.outDimsSp...)) // every element is written with its bias and Relu
		var mom []float64
		if e.momentsFused(n) {
			mom = e.arena.getF64(2 * batch * m) // its reader gives it back
		}
		convWinograd(e, x.F32, w.F32, bias, y.F32, mom, nil, batch, c, m, g, relu)
		if mom != nil {
			e.putMoments(y, mom)
		}
		return []*ir.Tensor{y}, nil
	case e.wide(grp, c, m, g):
		y = e.allocRaw(append([]int{batch, m}, g.outDimsSp...)) // every element is written by the epilogue
		convWide(e, x.F32, w.F32, bias, y.F32, batch, c, m, grp, g, relu)
		return []*ir.Tensor{y}, nil
	case grp == 1:
		y = e.allocRaw(append([]int{batch, m}, g.outDimsSp...)) // every element is a GEMM output
		convGemm(e, x.F32, w.F32, y.F32, batch, c, m, g)
	case groupedFast(grp, g):
		y = e.allocRaw(append([]int{batch, m}, g.outDimsSp...)) // every element is written with its bias and Relu
		convGrouped(e, x.F32, w.F32, bias, y.F32, batch, c, m, grp, g, relu)
		return []*ir.Tensor{y}, nil
	default:
		y = e.alloc(append([]int{batch, m}, g.outDimsSp...))
		convDirect(e, x.F32, w.F32, y.F32, batch, c, m, grp, g)
	}
	if b != nil || relu {
		epilogue(e, y.F32, bias, batch, m, g.outVol, relu)
	}
	return []*ir.Tensor{y}, nil
}

// epilogue adds the per-channel bias b (when non-nil) to y [batch, m, vol]
// and then rectifies it when relu is set (a Relu fused into the node).
func epilogue(e *Executor, y, b []float32, batch, m, vol int, relu bool) {
	e.parallel(batch*m, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			var bv float32
			if b != nil {
				bv = b[i%m]
			}
			biasRelu(y[i*vol:(i+1)*vol], y[i*vol:(i+1)*vol], bv, b != nil, relu)
		}
	})
}

// biasRelu sets dst = src + bv (when bias is set), rectified when relu is
// set: the arithmetic of a bias add followed by Relu, in one pass, as
// simd.Affine's src·1 + bv (src·1 is src; with no bias, + 0 changes only
// −0, which the Relu makes +0 anyway).
func biasRelu(dst, src []float32, bv float32, bias, relu bool) {
	dst = dst[:len(src)]
	if !bias && !relu {
		copy(dst, src)
		return
	}
	if !bias {
		bv = 0
	}
	simd.Affine(dst, src, 1, bv, relu)
}

// widePadded reports whether g is a convolution that convWide computes: a
// 1-D or 2-D one with unit strides (and not a pointwise one, which needs
// no patch matrix at all), or a 2-D one with strides 2 and unit
// dilations larger than 1×1, on the padded image's phase planes.
func (g *geom) widePadded() bool {
	if g.rank > 2 || g.pointwise() {
		return false
	}
	return g.s == [3]int{1, 1, 1} || g.phased()
}

// phased reports whether g is a 2-D convolution with strides 2, unit
// dilations and a kernel larger than 1×1, which convWide runs on the
// 2×2 phase planes of the padded image.
func (g *geom) phased() bool {
	return g.rank == 2 && g.s == [3]int{1, 2, 2} && g.d == [3]int{1, 1, 1} && g.kVol > 1
}

// wide reports whether convWide takes a convolution of grp groups, c input
// and m output channels and geometry g: strided ones only ungrouped.
func (e *Executor) wide(grp, c, m int, g *geom) bool {
	return g.widePadded() && e.wideGroups(grp, c, m) && (grp == 1 || !g.phased())
}

// wideMinGroup is the fewest input and output channels per group with
// which a grouped convolution runs on convWide's matrix products (one per
// group) rather than on convGrouped's phase planes (one vector operation
// per tap and channel pair), when the kernels multiply small matrices fast
// (smallGemm): BenchmarkGroupedPaths on OpenBLAS, 32 channels in 8 groups
// (4 a group), has the products ~1.7× faster forward and backward, in 4
// groups ~3×; on Blocked 1.6× (8 groups) to 2.2–3× (4 and 2 groups); on
// gonum's Sgemm they are 2–3× slower at both.
const wideMinGroup = 4

// smallGemm is implemented by Kernels whose Sgemm can be fast on the small
// products of a grouped convolution's groups; smallGemmFast says whether
// it is on this machine.
type smallGemm interface{ smallGemmFast() bool }

// wideGroups reports whether a unit-stride convolution of grp groups runs on
// convWide: ungrouped ones, and with smallGemm kernels those with at least
// wideMinGroup input and output channels per group.
func (e *Executor) wideGroups(grp, c, m int) bool {
	if grp == 1 {
		return true
	}
	k, ok := e.cfg.kernels.(smallGemm)
	return ok && k.smallGemmFast() && c/grp >= wideMinGroup && m/grp >= wideMinGroup
}

// wideLayout is the padded layout of convWide and convWideBackward: each
// image is copied into a zero-padded [c, hp, wp] buffer, and the output is
// computed over ho rows of the padded width wp, n = ho·wp columns per
// image, of which the first wo of every row are the output. With strides 2
// (phased) each channel's padded image is split into its four phase planes
// (even and odd rows × even and odd columns) of hq rows of wp floats: a
// tap reads one of them at unit stride.
type wideLayout struct {
	c, hIn, wIn, hq, wp, ho, wo int
	k, n, plane, tail           int
	g                           *geom
}

func newWideLayout(c int, g *geom) wideLayout {
	l := wideLayout{c: c, hIn: g.in[1], wIn: g.in[2], ho: g.out[1], wo: g.out[2], g: g}
	l.hq, l.wp = l.hIn+g.padBegin[1]+g.padEnd[1], l.wIn+g.padBegin[2]+g.padEnd[2]
	l.tail = (g.k[2] - 1) * g.d[2] // the last tap's run reads this far past the last plane
	l.plane = l.hq * l.wp
	if g.phased() {
		l.hq, l.wp = (l.hq+1)/2, (l.wp+1)/2
		l.tail = (g.k[2] - 1) / 2
		l.plane = 4 * l.hq * l.wp
	}
	l.k, l.n = c*g.kVol, l.ho*l.wp
	return l
}

// padded returns a zeroed buffer for one padded image.
func (l *wideLayout) padded(e *Executor) []float32 { return e.buf(l.c*l.plane+l.tail, true) }

// pad writes image xi into the interior of xp (whose borders stay zero).
func (l *wideLayout) pad(xi, xp []float32) {
	if l.g.phased() {
		l.phases(xi, xp, false)
		return
	}
	copyPadded(xi, xp, l.c, l.hIn, l.wIn, l.plane, l.wp, l.g, false)
}

// unpad copies the interior of xp into image xi.
func (l *wideLayout) unpad(xp, xi []float32) {
	if l.g.phased() {
		l.phases(xi, xp, true)
		return
	}
	copyPadded(xi, xp, l.c, l.hIn, l.wIn, l.plane, l.wp, l.g, true)
}

// phases writes image xi into the interiors of its phase planes in xp:
// padded row r and column j go to phase plane (r mod 2, j mod 2) at row
// r/2, column j/2. With back set it reads them back into xi.
func (l *wideLayout) phases(xi, xp []float32, back bool) {
	pb1, pb2, q := l.g.padBegin[1], l.g.padBegin[2], l.hq*l.wp
	// x's even columns go to phase column pe from column ce on, its odd
	// ones to po from co.
	pe, ce, po, co := 0, pb2/2, 1, pb2/2
	if pb2%2 == 1 {
		pe, ce, po, co = 1, (pb2-1)/2, 0, (pb2+1)/2
	}
	ne, no := (l.wIn+1)/2, l.wIn/2
	for ch := range l.c {
		for iy := range l.hIn {
			r := iy + pb1
			row := xi[(ch*l.hIn+iy)*l.wIn:][:l.wIn]
			base := ch*l.plane + 2*(r%2)*q + (r/2)*l.wp
			ev, od := xp[base+pe*q+ce:][:ne], xp[base+po*q+co:][:no]
			if back {
				simd.Interleave(row, ev, od)
			} else {
				simd.Deinterleave(ev, od, row)
			}
		}
	}
}

// copyPadded copies the c channels of image xi [c, hIn, wIn] into the
// interiors of the zero-padded planes of xp (plane floats per channel,
// rows of wp, g's leading padding), or with back set the interiors into
// xi.
func copyPadded(xi, xp []float32, c, hIn, wIn, plane, wp int, g *geom, back bool) {
	for ch := range c {
		o := ch*plane + g.padBegin[1]*wp + g.padBegin[2]
		if back {
			simd.CopyRows(xi[ch*hIn*wIn:], wIn, xp[o:], wp, wIn, hIn)
		} else {
			copyIntoPadding(xp[o:], wp, xi[ch*hIn*wIn:], wIn, wIn, hIn, g.padEnd[2])
		}
	}
}

// copyIntoPadding copies h rows of w floats from src (rows ss apart) into
// dst (rows ds apart), where each row of dst is followed by room floats of
// zero padding. Rows shorter than 8 floats copy as 8 when the extra floats
// land in that padding and src has them (masked stores, which CopyRows
// needs for short rows, are slow), and the padding is cleared again.
func copyIntoPadding(dst []float32, ds int, src []float32, ss, w, h, room int) {
	if extra := 8 - w; extra <= 0 || room < extra || h <= 0 || len(src) < (h-1)*ss+8 {
		simd.CopyRows(dst, ds, src, ss, w, h)
		return
	}
	simd.CopyRows(dst, ds, src, ss, 8, h)
	for r := range h {
		clear(dst[r*ds+w : r*ds+8])
	}
}

// patches writes the patch matrix of padded image xp into columns [off,
// off+n) of col (row stride ld): row (ch, ky, kx) is one contiguous run
// of xp. With add set it is the adjoint instead: every run of xp is added
// the columns of col.
func (l *wideLayout) patches(xp, col []float32, ld, off int, add bool) {
	g := l.g
	row := 0
	for ch := 0; ch < l.c; ch++ {
		for ky := 0; ky < g.k[1]; ky++ {
			for kx := 0; kx < g.k[2]; kx++ {
				o := ch*l.plane + ky*g.d[1]*l.wp + kx*g.d[2]
				if g.phased() { // tap (ky, kx) reads phase plane (ky mod 2, kx mod 2)
					o = ch*l.plane + (2*(ky%2)+kx%2)*l.hq*l.wp + ky/2*l.wp + kx/2
				}
				if add {
					addTo(xp[o:o+l.n], col[row*ld+off:row*ld+off+l.n])
				} else {
					copy(col[row*ld+off:row*ld+off+l.n], xp[o:o+l.n])
				}
				row++
			}
		}
	}
}

// wideTarget is the number of product columns convWide aims for: images
// are grouped into one product until their columns reach it, so that small
// images (late layers) still make products wide enough to run at speed.
const wideTarget = 512

// group returns how many images share one product: enough for about
// wideTarget columns, but at most a quarter of the batch so that groups
// still spread over threads. It depends on the batch and the layer only,
// never on the thread count.
func (l *wideLayout) group(batch int) int {
	return max(1, min((wideTarget+l.n-1)/l.n, batch/4))
}

// convWide is a unit-stride 1-D/2-D convolution of grp groups on a
// zero-padded copy of each image. With the padded width Wp, the
// patch-matrix row of channel ch and tap (ky, kx), taken over the output
// rows at the padded width, is one contiguous run of the padded image, so
// im2col is one copy per row of the patch matrix; the GEMM then computes
// Wp − Wout extra columns per output row, which the epilogue (bias, fused
// Relu) skips while it writes the output. Groups of images (see group)
// share one product per channel group; image groups are split across
// threads, or a single image's output channels in fixed chunks.
func convWide(e *Executor, x, w, bias, y []float32, batch, c, m, grp int, g *geom, relu bool) {
	cg, mg := c/grp, m/grp
	l := newWideLayout(cg, g)
	k, n, ho, wo, wp := l.k, l.n, l.ho, l.wo, l.wp
	inSize, outSize, grpIn := c*l.hIn*l.wIn, m*ho*wo, cg*l.hIn*l.wIn
	// out writes output channels [r0, r1) of image img from yp, whose rows
	// (from channel r0 on) have stride ld and the image's columns start at
	// off.
	// The rows are copied first and the epilogue then runs over whole
	// channel planes: rows are short, vector passes want long runs.
	out := func(img, r0, r1 int, yp []float32, ld, off int) {
		yi := y[img*outSize : (img+1)*outSize]
		for oc := r0; oc < r1; oc++ {
			var bv float32
			if bias != nil {
				bv = bias[oc]
			}
			simd.CopyRows(yi[oc*ho*wo:], wo, yp[(oc-r0)*ld+off:], wp, wo, ho)
			plane := yi[oc*ho*wo : (oc+1)*ho*wo]
			biasRelu(plane, plane, bv, bias != nil, relu)
		}
	}
	if batch == 1 && mg > convRowChunk { // one image: chunks of output channels in parallel
		xp, col, yp := l.padded(e), e.scratch(k*n), e.scratch(mg*n)
		defer func() { e.unscratch(xp); e.unscratch(col); e.unscratch(yp) }()
		for gr := 0; gr < grp; gr++ {
			l.pad(x[gr*grpIn:(gr+1)*grpIn], xp)
			l.patches(xp, col, n, 0, false)
			wg := w[gr*mg*k : (gr+1)*mg*k]
			e.parallel((mg+convRowChunk-1)/convRowChunk, func(lo, hi int) {
				for ch := lo; ch < hi; ch++ {
					r0, r1 := ch*convRowChunk, min(mg, (ch+1)*convRowChunk)
					e.cfg.kernels.Sgemm(false, false, r1-r0, n, k, 1, wg[r0*k:r1*k], k, col, n, 0, yp[r0*n:r1*n], n)
					out(0, gr*mg+r0, gr*mg+r1, yp[r0*n:], n, 0)
				}
			})
		}
		return
	}
	gs := l.group(batch)
	e.parallel((batch+gs-1)/gs, func(lo, hi int) {
		xp, col, yp := l.padded(e), e.scratch(k*n*gs), e.scratch(mg*n*gs)
		defer func() { e.unscratch(xp); e.unscratch(col); e.unscratch(yp) }()
		for gi := lo; gi < hi; gi++ {
			i0, i1 := gi*gs, min(batch, (gi+1)*gs)
			ld := (i1 - i0) * n
			for gr := 0; gr < grp; gr++ {
				for img := i0; img < i1; img++ {
					l.pad(x[img*inSize+gr*grpIn:][:grpIn], xp)
					l.patches(xp, col, ld, (img-i0)*n, false)
				}
				e.cfg.kernels.Sgemm(false, false, mg, ld, k, 1, w[gr*mg*k:(gr+1)*mg*k], k, col, ld, 0, yp, ld)
				for img := i0; img < i1; img++ {
					out(img, gr*mg, (gr+1)*mg, yp, ld, (img-i0)*n)
				}
			}
		}
	})
}

// pointwise reports whether g is a 1×1 conv with unit stride and no padding,
// whose im2col matrix is the input itself.
// subsample reports whether g is a 1×1 convolution with strides 2 and no
// pads over even 2-D planes: it reads the even columns of the even rows.
func (g *geom) subsample() bool {
	return g.rank == 2 && g.kVol == 1 && g.s == [3]int{1, 2, 2} && g.padBegin == [3]int{} && g.padEnd == [3]int{} &&
		g.in[1]%2 == 0 && g.in[2]%2 == 0 && g.out[1] == g.in[1]/2 && g.out[2] == g.in[2]/2 && g.out[2] <= subsampleRow
}

// subsampleRow is the widest output row subsample takes (the odd floats
// of an input row go through a scratch of this size on the stack).
const subsampleRow = 256

func (g *geom) pointwise() bool {
	return g.kVol == 1 && g.s == [3]int{1, 1, 1} && g.padBegin == [3]int{} && g.padEnd == [3]int{}
}

// convGemm is an ungrouped convolution: Y[m×P] = W[m×K]·col[K×P] with K =
// c·kVol, for groups of images side by side (gemmGroup: small outputs
// make one product of several images, their patch columns copied next to
// each other). Image groups are split across threads; a single image
// splits its output channels instead.
func convGemm(e *Executor, x, w, y []float32, batch, c, m int, g *geom) {
	k, p := c*g.kVol, g.outVol
	if batch > 1 || m <= convRowChunk {
		gs := gemmGroup(batch, p)
		e.parallel((batch+gs-1)/gs, func(lo, hi int) {
			var col, yp []float32
			if gs > 1 || !g.pointwise() {
				col = e.scratch(k * p * gs)
				defer e.unscratch(col)
			}
			if gs > 1 {
				yp = e.scratch(m * p * gs)
				defer e.unscratch(yp)
			}
			for gi := lo; gi < hi; gi++ {
				i0, i1 := gi*gs, min(batch, (gi+1)*gs)
				ld := (i1 - i0) * p
				b := groupCols(x, col, c, g, i0, i1)
				if gs == 1 { // the product is the image's output
					e.cfg.kernels.Sgemm(false, false, m, p, k, 1, w, k, b, p, 0, y[i0*m*p:(i0+1)*m*p], p)
					continue
				}
				e.cfg.kernels.Sgemm(false, false, m, ld, k, 1, w, k, b, ld, 0, yp, ld)
				for img := i0; img < i1; img++ {
					for oc := range m {
						copy(y[(img*m+oc)*p:(img*m+oc+1)*p], yp[oc*ld+(img-i0)*p:])
					}
				}
			}
		})
		return
	}
	var buf []float32
	if !g.pointwise() {
		buf = e.scratch(k * p)
		defer e.unscratch(buf)
	}
	for img := 0; img < batch; img++ {
		col := groupCols(x, buf, c, g, img, img+1)
		yi := y[img*m*p : (img+1)*m*p]
		e.parallel((m+convRowChunk-1)/convRowChunk, func(lo, hi int) {
			for ch := lo; ch < hi; ch++ { // one product per chunk, whatever the thread count
				r0, r1 := ch*convRowChunk, min(m, (ch+1)*convRowChunk)
				e.cfg.kernels.Sgemm(false, false, r1-r0, p, k, 1, w[r0*k:r1*k], k, col, p, 0, yi[r0*p:r1*p], p)
			}
		})
	}
}

// gemmGroup is how many images share one product in convGemm and
// convGemmBackward: as convWide's group, enough for about wideTarget
// columns, at most a quarter of the batch. It depends on the batch and
// the layer only, never on the thread count.
func gemmGroup(batch, p int) int {
	return max(1, min((wideTarget+p-1)/p, batch/4))
}

// groupCols returns the patch matrix [c·kVol × (i1−i0)·P] of images [i0,
// i1) of x, image by image in column blocks: written into col, or for one
// image of a pointwise convolution the image itself.
func groupCols(x, col []float32, c int, g *geom, i0, i1 int) []float32 {
	p, in := g.outVol, c*g.inVol
	if i1-i0 == 1 && g.pointwise() {
		return x[i0*in : (i0+1)*in]
	}
	ld := (i1 - i0) * p
	for img := i0; img < i1; img++ {
		xi := x[img*in : (img+1)*in]
		if g.pointwise() {
			for ch := range c {
				copy(col[ch*ld+(img-i0)*p:][:p], xi[ch*p:(ch+1)*p])
			}
			continue
		}
		im2col(xi, c, g, col, ld, (img-i0)*p)
	}
	return col[:c*g.kVol*ld]
}

// convRowChunk is how many output channels one product computes when a
// single image's convolution is split across threads. The split depends
// on the batch and the channel count only, never on the thread count:
// BLAS implementations may round a product of another shape differently,
// and results must not depend on the thread count.
const convRowChunk = 16

// im2col writes the [c·kVol × outVol] patch matrix of one image x [c,
// in...] into columns [off, off+outVol) of col (row stride ld).
func im2col(x []float32, c int, g *geom, col []float32, ld, off int) {
	if g.subsample() { // even columns of even rows, split off by the vector kernel
		ho, wo, w := g.out[1], g.out[2], g.in[2]
		var odd [subsampleRow]float32
		for ch := range c {
			for oy := range ho {
				src := x[(ch*g.in[1]+2*oy)*w:]
				simd.Deinterleave(col[ch*ld+off+oy*wo:][:wo], odd[:], src[:2*wo-1])
			}
		}
		return
	}
	row := 0
	for ch := 0; ch < c; ch++ {
		xc := x[ch*g.inVol : (ch+1)*g.inVol]
		for kz := 0; kz < g.k[0]; kz++ {
			for ky := 0; ky < g.k[1]; ky++ {
				for kx := 0; kx < g.k[2]; kx++ {
					dst := col[row*ld+off : row*ld+off+g.outVol]
					row++
					offX := kx*g.d[2] - g.padBegin[2]
					lo, hi := span(g.out[2], g.s[2], offX, g.in[2])
					i := 0
					for oz := 0; oz < g.out[0]; oz++ {
						iz := oz*g.s[0] - g.padBegin[0] + kz*g.d[0]
						for oy := 0; oy < g.out[1]; oy++ {
							iy := oy*g.s[1] - g.padBegin[1] + ky*g.d[1]
							d := dst[i : i+g.out[2]]
							i += g.out[2]
							if iz < 0 || iz >= g.in[0] || iy < 0 || iy >= g.in[1] {
								clear(d)
								continue
							}
							src := xc[(iz*g.in[1]+iy)*g.in[2]:]
							clear(d[:lo])
							if g.s[2] == 1 {
								if lo < hi { // an empty span may start beyond the row
									copy(d[lo:hi], src[lo+offX:hi+offX])
								}
							} else {
								for ox := lo; ox < hi; ox++ {
									d[ox] = src[ox*g.s[2]+offX]
								}
							}
							clear(d[hi:])
						}
					}
				}
			}
		}
	}
}

// convDirect is a grouped convolution by direct loops, one output plane per
// work item (depthwise convs have one input channel per plane), for the
// grouped convs groupedFast rejects: 3-D ones and strides above
// maxPhaseStride.
func convDirect(e *Executor, x, w, y []float32, batch, c, m, grp int, g *geom) {
	cg, mg := c/grp, m/grp
	e.parallel(batch*m, func(lo, hi int) {
		for item := lo; item < hi; item++ {
			img, oc := item/m, item%m
			out := y[item*g.outVol : (item+1)*g.outVol]
			for ic := 0; ic < cg; ic++ {
				xc := x[(img*c+(oc/mg)*cg+ic)*g.inVol:]
				wk := w[(oc*cg+ic)*g.kVol:]
				kpos := 0
				for kz := 0; kz < g.k[0]; kz++ {
					for ky := 0; ky < g.k[1]; ky++ {
						for kx := 0; kx < g.k[2]; kx++ {
							wv := wk[kpos]
							kpos++
							offX := kx*g.d[2] - g.padBegin[2]
							lo, hi := span(g.out[2], g.s[2], offX, g.in[2])
							for oz := 0; oz < g.out[0]; oz++ {
								iz := oz*g.s[0] - g.padBegin[0] + kz*g.d[0]
								if iz < 0 || iz >= g.in[0] {
									continue
								}
								for oy := 0; oy < g.out[1]; oy++ {
									iy := oy*g.s[1] - g.padBegin[1] + ky*g.d[1]
									if iy < 0 || iy >= g.in[1] {
										continue
									}
									src := xc[(iz*g.in[1]+iy)*g.in[2]:]
									dst := out[(oz*g.out[1]+oy)*g.out[2]:]
									if g.s[2] == 1 {
										if lo >= hi { // an empty span may start beyond the row
											continue
										}
										s := src[lo+offX : hi+offX]
										d := dst[lo:hi]
										for j := range d {
											d[j] += wv * s[j]
										}
										continue
									}
									for ox := lo; ox < hi; ox++ {
										dst[ox] += wv * src[ox*g.s[2]+offX]
									}
								}
							}
						}
					}
				}
			}
		}
	})
}

// convTranspose computes the transpose (input gradient) of a grouped
// convolution: per image and group, col = Wᵀ·X, then col2im scatters col
// into the output, cropped by pads.
func convTranspose(e *Executor, n *ir.Node, in []*ir.Tensor) ([]*ir.Tensor, error) {
	x, w, b, err := convOperands(n, in)
	if err != nil {
		return nil, err
	}
	grp := int(n.Int("group"))
	batch, c, mg := int(x.Dims[0]), int(x.Dims[1]), int(w.Dims[1])
	m := mg * grp
	if int(w.Dims[0]) != c || c%grp != 0 {
		return nil, fmt.Errorf("input has %d channels, weight wants %d in %d groups", c, w.Dims[0], grp)
	}
	if b != nil && int(b.Dims[0]) != m {
		return nil, fmt.Errorf("bias has %d values, want %d output channels", b.Dims[0], m)
	}
	g, err := transposeGeom(n, ints(x.Dims[2:]), ints(w.Dims[2:]))
	if err != nil {
		return nil, err
	}
	cg := c / grp
	kk, pin := mg*g.kVol, g.inVol
	y := e.alloc(append([]int{batch, m}, g.outDimsSp...))
	e.parallel(batch*grp, func(lo, hi int) {
		col := e.scratch(kk * pin)
		defer e.unscratch(col)
		for item := lo; item < hi; item++ {
			img, gi := item/grp, item%grp
			xg := x.F32[(img*c+gi*cg)*pin : (img*c+(gi+1)*cg)*pin]
			wg := w.F32[gi*cg*kk : (gi+1)*cg*kk]
			e.cfg.kernels.Sgemm(true, false, kk, pin, cg, 1, wg, kk, xg, pin, 0, col, pin)
			col2im(col, y.F32[(img*m+gi*mg)*g.outVol:(img*m+(gi+1)*mg)*g.outVol], mg, g)
		}
	})
	if b != nil {
		epilogue(e, y.F32, b.F32, batch, m, g.outVol, false)
	}
	return []*ir.Tensor{y}, nil
}

// col2im adds col [mg·kVol × inVol] into out [mg, out...]: input position i
// and kernel position k land on output position i·s − padBegin + k·d.
func col2im(col, out []float32, mg int, g *geom) {
	row := 0
	for ch := 0; ch < mg; ch++ {
		oc := out[ch*g.outVol : (ch+1)*g.outVol]
		for kz := 0; kz < g.k[0]; kz++ {
			for ky := 0; ky < g.k[1]; ky++ {
				for kx := 0; kx < g.k[2]; kx++ {
					src := col[row*g.inVol : (row+1)*g.inVol]
					row++
					for iz := 0; iz < g.in[0]; iz++ {
						oz := iz*g.s[0] - g.padBegin[0] + kz*g.d[0]
						if oz < 0 || oz >= g.out[0] {
							continue
						}
						for iy := 0; iy < g.in[1]; iy++ {
							oy := iy*g.s[1] - g.padBegin[1] + ky*g.d[1]
							if oy < 0 || oy >= g.out[1] {
								continue
							}
							s := src[(iz*g.in[1]+iy)*g.in[2]:]
							d := oc[(oz*g.out[1]+oy)*g.out[2]:]
							for ix := 0; ix < g.in[2]; ix++ {
								if ox := ix*g.s[2] - g.padBegin[2] + kx*g.d[2]; ox >= 0 && ox < g.out[2] {
									d[ox] += s[ix]
								}
							}
						}
					}
				}
			}
		}
	}
}

// transposeGeom computes ConvTranspose's geometry. The full output has size
// s·(in−1) + output_padding + (k−1)·d + 1; pads crop it. With output_shape
// (or SAME auto_pad, whose output is in·s) the pads are derived from the
// requested size, split as the ONNX reference does (floor division, the odd
// unit at the end for SAME_UPPER and at the beginning otherwise).
func transposeGeom(n *ir.Node, inSp, kernel []int) (*geom, error) {
	r := len(inSp)
	if r < 1 || r > 3 {
		return nil, fmt.Errorf("%d spatial dims, want 1 to 3", r)
	}
	s, err := attrInts(n, "strides", r, 1)
	if err != nil {
		return nil, err
	}
	d, err := attrInts(n, "dilations", r, 1)
	if err != nil {
		return nil, err
	}
	p, err := attrInts(n, "pads", 2*r, 0)
	if err != nil {
		return nil, err
	}
	op, err := attrInts(n, "output_padding", r, 0)
	if err != nil {
		return nil, err
	}
	autoPad := n.Str("auto_pad")
	var outShape []int
	if v := n.Ints("output_shape"); len(v) > 0 {
		outShape = ints(v)
	}
	if len(outShape) > r {
		outShape = outShape[len(outShape)-r:]
	}
	if outShape == nil && (autoPad == "SAME_UPPER" || autoPad == "SAME_LOWER") {
		for i := range inSp {
			outShape = append(outShape, inSp[i]*s[i])
		}
	}
	if outShape != nil && len(outShape) != r {
		return nil, fmt.Errorf("output_shape %v for %d spatial dims", outShape, r)
	}
	g := &geom{rank: r}
	for i := 0; i < 3; i++ {
		g.in[i], g.out[i], g.k[i], g.s[i], g.d[i] = 1, 1, 1, 1, 1
	}
	off := 3 - r
	for i := 0; i < r; i++ {
		j := i + off
		g.in[j], g.k[j], g.s[j], g.d[j] = inSp[i], kernel[i], s[i], d[i]
		if g.k[j] < 1 || g.s[j] < 1 || g.d[j] < 1 {
			return nil, fmt.Errorf("kernel %v, strides %v and dilations %v must be positive", kernel, s, d)
		}
		full := g.s[j]*(g.in[j]-1) + op[i] + (g.k[j]-1)*g.d[j] + 1
		switch {
		case outShape != nil:
			total := full - outShape[i]
			if autoPad == "SAME_UPPER" {
				g.padBegin[j], g.padEnd[j] = floorDiv(total, 2), total-floorDiv(total, 2)
			} else {
				g.padBegin[j], g.padEnd[j] = total-floorDiv(total, 2), floorDiv(total, 2)
			}
		case autoPad == "VALID":
		default:
			g.padBegin[j], g.padEnd[j] = p[i], p[i+r]
		}
		g.out[j] = full - g.padBegin[j] - g.padEnd[j]
		if g.out[j] < 0 {
			return nil, fmt.Errorf("pads %v leave a negative output size", p)
		}
	}
	g.finish()
	return g, nil
}

// gradChunks is the number of batch chunks a backward kernel splits a batch
// into when it reduces over images (weight gradients). It is fixed, not the
// thread count, so the summation order and the bits of every gradient do
// not depend on how many threads run.
const gradChunks = 8

// chunkBounds returns the images [lo, hi) of chunk i of gradChunks.
func chunkBounds(batch, nchunks, i int) (lo, hi int) {
	return i * batch / nchunks, (i + 1) * batch / nchunks
}

// convBackward computes the gradients of a grouped convolution: dB sums dY
// per channel; ungrouped convs use, per image, dW += dY·colᵀ and dcol =
// Wᵀ·dY followed by col2im (or the padded layout of convWide, which also
// takes the grouped convs wideGroups accepts, group by group, and there
// computes dX as the adjoint convolution of dY on convWide when the pads
// allow it; Winograd convolutions take their filter gradient from
// convWinogradFilterGrad and their adjoint is a Winograd convolution
// too); other grouped (and depthwise) convs the phase planes of
// convGroupedBackward when groupedFast accepts them, direct loops
// otherwise. Weight gradients are summed per fixed batch chunk, then over
// chunks in order.
func convBackward(e *Executor, n *ir.Node, in, out, dout []*ir.Tensor, need []bool) ([]*ir.Tensor, error) {
	x, w, b, err := convOperands(n, in)
	if err != nil {
		return nil, err
	}
	dy := dout[0]
	grp := int(n.Int("group"))
	batch, c, m, cg := int(x.Dims[0]), int(x.Dims[1]), int(w.Dims[0]), int(w.Dims[1])
	if c != cg*grp || m%grp != 0 {
		return nil, fmt.Errorf("input has %d channels, weight %v, %d groups", c, w.Dims, grp)
	}
	g, err := newGeom(n, ints(x.Dims[2:]), ints(w.Dims[2:]), false)
	if err != nil {
		return nil, err
	}
	if len(dy.F32) != batch*m*g.outVol {
		return nil, fmt.Errorf("output gradient has %d elements, want %d", len(dy.F32), batch*m*g.outVol)
	}
	grads := make([]*ir.Tensor, len(in))
	needX, needW := need[0], len(need) > 1 && need[1]
	ga, adjoint := g.adjoint()
	adjoint = adjoint && e.wide(grp, c, m, g)
	var dx *ir.Tensor
	switch {
	case needX && adjoint:
		dx = e.allocRaw(ints(x.Dims)) // convWide writes every element
	case needX && grp == 1 && g.subsample() && !e.wide(grp, c, m, g):
		dx = e.allocRaw(ints(x.Dims)) // convGemmBackward writes every element
	case needX:
		dx = e.alloc(ints(x.Dims))
	}
	nch := min(batch, gradChunks)
	var parts [][]float32
	if needW {
		parts = make([][]float32, nch)
		for i := range parts {
			parts[i] = e.buf(len(w.F32), true)
			defer e.unscratch(parts[i])
		}
	}
	wino := e.winograd(grp, batch, c, m, g)
	switch {
	case wino && (adjoint || dx == nil), adjoint && dx != nil:
		switch {
		case parts != nil && wino:
			convWinogradFilterGrad(e, x.F32, dy.F32, parts, batch, c, m, g)
		case parts != nil:
			convWideBackward(e, x.F32, w.F32, dy.F32, nil, parts, batch, c, m, grp, g)
		}
		if dx == nil {
			break
		}
		wt := e.scratch(len(w.F32))
		defer e.unscratch(wt)
		flipKernels(wt, w.F32, c, m, grp, g.kVol)
		if e.winograd(grp, batch, m, c, ga) {
			// dX adds into the gradient x already has, when the tape offers it
			convWinograd(e, dy.F32, wt, nil, dx.F32, nil, e.takeGradBase(x), batch, m, c, ga, false)
		} else {
			convWide(e, dy.F32, wt, nil, dx.F32, batch, m, c, grp, ga, false)
		}
	case e.wide(grp, c, m, g):
		convWideBackward(e, x.F32, w.F32, dy.F32, dx, parts, batch, c, m, grp, g)
	case grp == 1:
		convGemmBackward(e, x.F32, w.F32, dy.F32, dx, parts, batch, c, m, g)
	case groupedFast(grp, g):
		var dxf []float32
		if dx != nil {
			dxf = dx.F32
		}
		convGroupedBackward(e, x.F32, w.F32, dy.F32, dxf, parts, batch, c, m, grp, g)
	default:
		convDirectBackward(e, x.F32, w.F32, dy.F32, dx, parts, batch, c, m, grp, g)
	}
	grads[0] = dx
	if needW {
		dw := e.allocRaw(ints(w.Dims))
		sumParts(e, dw.F32, parts)
		grads[1] = dw
	}
	if b != nil && len(need) > 2 && need[2] {
		grads[2] = channelSums(e, dy.F32, batch, m, g.outVol)
	}
	return grads, nil
}

// adjoint returns the geometry of a unit-stride convolution's input
// gradient as a convolution of its own: over dY, with the kernel flipped
// (flipKernels) and pads (k−1)·d minus the forward's on each side, it
// gives dX. ok is false when a pad would be negative (padding wider than
// the kernel's reach).
func (g *geom) adjoint() (a *geom, ok bool) {
	a = &geom{rank: g.rank, in: g.out, out: g.in, k: g.k, s: g.s, d: g.d}
	for i := range 3 {
		reach := (g.k[i] - 1) * g.d[i]
		a.padBegin[i], a.padEnd[i] = reach-g.padBegin[i], reach-g.padEnd[i]
		if a.padBegin[i] < 0 || a.padEnd[i] < 0 || g.s[i] != 1 {
			return nil, false
		}
	}
	a.finish()
	return a, true
}

// flipKernels sets wt [c, m/grp, k...] to the kernels of the adjoint
// convolution of w [m, c/grp, k...] (grp groups, kVol taps): input and
// output channels swapped within each group, taps reversed.
func flipKernels(wt, w []float32, c, m, grp, kVol int) {
	cg, mg := c/grp, m/grp
	for gr := range grp {
		for mo := range mg {
			for ci := range cg {
				src := w[((gr*mg+mo)*cg+ci)*kVol:][:kVol]
				dst := wt[((gr*cg+ci)*mg+mo)*kVol:][:kVol]
				for t, v := range src {
					dst[kVol-1-t] = v
				}
			}
		}
	}
}

// sumParts sets dst to the sum of parts, added in order.
func sumParts(e *Executor, dst []float32, parts [][]float32) {
	e.parallelElems(len(dst), func(lo, hi int) {
		for i := lo; i < hi; i++ {
			var s float32
			for _, p := range parts {
				s += p[i]
			}
			dst[i] = s
		}
	})
}

// channelSums returns the [m] tensor of per-channel sums of dy [batch, m,
// vol], accumulated in float64 image by image.
func channelSums(e *Executor, dy []float32, batch, m, vol int) *ir.Tensor {
	db := e.allocRaw([]int{m})
	e.parallel(m, func(lo, hi int) {
		for ch := lo; ch < hi; ch++ {
			var s float64
			for img := 0; img < batch; img++ {
				for _, v := range dy[(img*m+ch)*vol : (img*m+ch+1)*vol] {
					s += float64(v)
				}
			}
			db.F32[ch] = float32(s)
		}
	})
	return db
}

// convGemmBackward is the backward of convGemm. Chunks of images run in
// parallel, each in convGemm's image groups; chunk i adds its weight
// gradient into parts[i] (when parts is non-nil) and writes the input
// gradient of its images into dx (when non-nil).
func convGemmBackward(e *Executor, x, w, dy []float32, dx *ir.Tensor, parts [][]float32, batch, c, m int, g *geom) {
	k, p := c*g.kVol, g.outVol
	nch := min(batch, gradChunks)
	gs := gemmGroup(batch, p)
	pw := g.pointwise()
	e.parallel(nch, func(clo, chi int) {
		var col, dcol, dyp []float32
		if gs > 1 || !pw {
			col = e.scratch(k * p * gs)
			defer e.unscratch(col)
			if dx != nil {
				dcol = e.scratch(k * p * gs)
				defer e.unscratch(dcol)
			}
		}
		if gs > 1 {
			dyp = e.scratch(m * p * gs)
			defer e.unscratch(dyp)
		}
		var zeros [subsampleRow]float32 // the odd columns of a subsampled dX row
		for ci := clo; ci < chi; ci++ {
			lo, hi := chunkBounds(batch, nch, ci)
			for i0 := lo; i0 < hi; i0 += gs {
				i1 := min(hi, i0+gs)
				ld := (i1 - i0) * p
				dyg := dy[i0*m*p : (i0+1)*m*p] // one image: its own gradient
				if i1-i0 > 1 {
					for img := i0; img < i1; img++ {
						for oc := range m {
							copy(dyp[oc*ld+(img-i0)*p:][:p], dy[(img*m+oc)*p:(img*m+oc+1)*p])
						}
					}
					dyg = dyp[:m*ld]
				}
				if parts != nil {
					b := groupCols(x, col, c, g, i0, i1)
					e.cfg.kernels.Sgemm(false, true, m, k, ld, 1, dyg, ld, b, ld, 1, parts[ci], k)
				}
				if dx == nil {
					continue
				}
				if pw && i1-i0 == 1 {
					e.cfg.kernels.Sgemm(true, false, k, p, m, 1, w, k, dyg, p, 0, dx.F32[i0*c*g.inVol:(i0+1)*c*g.inVol], p)
					continue
				}
				e.cfg.kernels.Sgemm(true, false, k, ld, m, 1, w, k, dyg, ld, 0, dcol, ld)
				for img := i0; img < i1; img++ {
					dxi := dx.F32[img*c*g.inVol : (img+1)*c*g.inVol]
					if g.subsample() { // dX is dcol at the even columns of the even rows, 0 elsewhere
						ho, wo, w := g.out[1], g.out[2], g.in[2]
						for ch := range c {
							for oy := range ho {
								r := dxi[(ch*g.in[1]+2*oy)*w:]
								simd.Interleave(r[:2*wo], dcol[ch*ld+(img-i0)*p+oy*wo:][:wo], zeros[:wo])
								clear(r[w : 2*w])
							}
						}
						continue
					}
					if pw {
						for ch := range c {
							copy(dxi[ch*p:(ch+1)*p], dcol[ch*ld+(img-i0)*p:])
						}
						continue
					}
					col2imConv(dcol, dxi, c, g, ld, (img-i0)*p)
				}
			}
		}
	})
}

// convWideBackward is the backward of convWide, on the same padded layout
// and image groups: dY is spread to the padded width with zeros in the
// extra columns, dW += dY·colᵀ with col the padded patch matrix, and the
// input gradient is dcol = Wᵀ·dY added back into a padded image one
// contiguous run per patch row, whose interior is the image's gradient.
// The extra columns carry zero gradients, so they add nothing. Chunks of
// images run in parallel as in convGemmBackward; the groups of a chunk
// depend on the batch only.
func convWideBackward(e *Executor, x, w, dy []float32, dx *ir.Tensor, parts [][]float32, batch, c, m, grp int, g *geom) {
	cg, mg := c/grp, m/grp
	l := newWideLayout(cg, g)
	k, n, ho, wo, wp := l.k, l.n, l.ho, l.wo, l.wp
	inSize, outSize, grpIn := c*l.hIn*l.wIn, m*ho*wo, cg*l.hIn*l.wIn
	nch := min(batch, gradChunks)
	gs := l.group(batch)
	e.parallel(nch, func(clo, chi int) {
		dyp, col, xp := e.scratch(mg*n*gs), e.scratch(k*n*gs), l.padded(e)
		var dxp []float32 // the padded input gradient (xp keeps zero borders)
		if dx != nil {
			dxp = e.scratch(len(xp))
		}
		defer func() { e.unscratch(dyp); e.unscratch(col); e.unscratch(xp); e.unscratch(dxp) }()
		for ci := clo; ci < chi; ci++ {
			lo, hi := chunkBounds(batch, nch, ci)
			for i0 := lo; i0 < hi; i0 += gs {
				i1 := min(hi, i0+gs)
				ld := (i1 - i0) * n
				for gr := 0; gr < grp; gr++ {
					clear(dyp[:mg*ld]) // the extra columns must be zero
					for img := i0; img < i1; img++ {
						for oc := range mg {
							copyIntoPadding(dyp[oc*ld+(img-i0)*n:], wp, dy[img*outSize+(gr*mg+oc)*ho*wo:], wo, wo, ho, wp-wo)
						}
					}
					if parts != nil {
						for img := i0; img < i1; img++ {
							l.pad(x[img*inSize+gr*grpIn:][:grpIn], xp)
							l.patches(xp, col, ld, (img-i0)*n, false)
						}
						e.cfg.kernels.Sgemm(false, true, mg, k, ld, 1, dyp, ld, col, ld, 1, parts[ci][gr*mg*k:(gr+1)*mg*k], k)
					}
					if dx != nil {
						e.cfg.kernels.Sgemm(true, false, k, ld, mg, 1, w[gr*mg*k:(gr+1)*mg*k], k, dyp, ld, 0, col, ld)
						for img := i0; img < i1; img++ {
							clear(dxp)
							l.patches(dxp, col, ld, (img-i0)*n, true)
							l.unpad(dxp, dx.F32[img*inSize+gr*grpIn:][:grpIn])
						}
					}
				}
			}
		}
	})
}

// addTo sets dst += src elementwise (simd.Add: an exact elementwise add,
// so the result does not depend on the vector width).
func addTo(dst, src []float32) {
	simd.Add(dst[:len(src)], dst, src)
}

// col2imConv is the adjoint of im2col: it adds the patch matrix of one
// image, columns [off, off+outVol) of col (row stride ld), into x [c,
// in...].
func col2imConv(col, x []float32, c int, g *geom, ld, off int) {
	row := 0
	for ch := 0; ch < c; ch++ {
		xc := x[ch*g.inVol : (ch+1)*g.inVol]
		for kz := 0; kz < g.k[0]; kz++ {
			for ky := 0; ky < g.k[1]; ky++ {
				for kx := 0; kx < g.k[2]; kx++ {
					src := col[row*ld+off : row*ld+off+g.outVol]
					row++
					offX := kx*g.d[2] - g.padBegin[2]
					lo, hi := span(g.out[2], g.s[2], offX, g.in[2])
					i := 0
					for oz := 0; oz < g.out[0]; oz++ {
						iz := oz*g.s[0] - g.padBegin[0] + kz*g.d[0]
						for oy := 0; oy < g.out[1]; oy++ {
							iy := oy*g.s[1] - g.padBegin[1] + ky*g.d[1]
							s := src[i : i+g.out[2]]
							i += g.out[2]
							if iz < 0 || iz >= g.in[0] || iy < 0 || iy >= g.in[1] {
								continue
							}
							dst := xc[(iz*g.in[1]+iy)*g.in[2]:]
							if g.s[2] == 1 {
								if lo >= hi { // an empty span may start beyond the row
									continue
								}
								d := dst[lo+offX : hi+offX]
								for j, v := range s[lo:hi] {
									d[j] += v
								}
							} else {
								for ox := lo; ox < hi; ox++ {
									dst[ox*g.s[2]+offX] += s[ox]
								}
							}
						}
					}
				}
			}
		}
	}
}

// convDirectBackward is the backward of convDirect, by direct loops over
// chunks of images.
func convDirectBackward(e *Executor, x, w, dy []float32, dx *ir.Tensor, parts [][]float32, batch, c, m, grp int, g *geom) {
	cg, mg := c/grp, m/grp
	nch := min(batch, gradChunks)
	e.parallel(nch, func(clo, chi int) {
		for ci := clo; ci < chi; ci++ {
			lo, hi := chunkBounds(batch, nch, ci)
			for img := lo; img < hi; img++ {
				for oc := 0; oc < m; oc++ {
					dyp := dy[(img*m+oc)*g.outVol : (img*m+oc+1)*g.outVol]
					for ic := 0; ic < cg; ic++ {
						xo := (img*c + (oc/mg)*cg + ic) * g.inVol
						xc := x[xo : xo+g.inVol]
						var dxc []float32
						if dx != nil {
							dxc = dx.F32[xo : xo+g.inVol]
						}
						wo := (oc*cg + ic) * g.kVol
						var dwk []float32
						if parts != nil {
							dwk = parts[ci][wo : wo+g.kVol]
						}
						wk := w[wo : wo+g.kVol]
						convTapsBackward(xc, dxc, wk, dwk, dyp, g)
					}
				}
			}
		}
	})
}

// convTapsBackward accumulates, for one input plane xc and one output plane
// of gradient dyp, the kernel gradient dwk += Σ dy·x and the input gradient
// dxc += Σ w·dy (each when non-nil).
func convTapsBackward(xc, dxc, wk, dwk, dyp []float32, g *geom) {
	kpos := 0
	for kz := 0; kz < g.k[0]; kz++ {
		for ky := 0; ky < g.k[1]; ky++ {
			for kx := 0; kx < g.k[2]; kx++ {
				wv := wk[kpos]
				var acc float32
				offX := kx*g.d[2] - g.padBegin[2]
				lo, hi := span(g.out[2], g.s[2], offX, g.in[2])
				for oz := 0; oz < g.out[0]; oz++ {
					iz := oz*g.s[0] - g.padBegin[0] + kz*g.d[0]
					if iz < 0 || iz >= g.in[0] {
						continue
					}
					for oy := 0; oy < g.out[1]; oy++ {
						iy := oy*g.s[1] - g.padBegin[1] + ky*g.d[1]
						if iy < 0 || iy >= g.in[1] {
							continue
						}
						ro := (iz*g.in[1] + iy) * g.in[2]
						d := dyp[(oz*g.out[1]+oy)*g.out[2]:]
						if g.s[2] == 1 {
							if lo >= hi { // an empty span may start beyond the row
								continue
							}
							s := xc[ro+lo+offX : ro+hi+offX]
							dd := d[lo:hi]
							if dwk != nil {
								for j, v := range dd {
									acc += v * s[j]
								}
							}
							if dxc != nil {
								ds := dxc[ro+lo+offX : ro+hi+offX]
								for j, v := range dd {
									ds[j] += wv * v
								}
							}
							continue
						}
						for ox := lo; ox < hi; ox++ {
							i := ro + ox*g.s[2] + offX
							if dwk != nil {
								acc += d[ox] * xc[i]
							}
							if dxc != nil {
								dxc[i] += wv * d[ox]
							}
						}
					}
				}
				if dwk != nil {
					dwk[kpos] += acc
				}
				kpos++
			}
		}
	}
}
