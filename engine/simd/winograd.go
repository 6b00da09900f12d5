package simd

import "math"

// Transforms of Winograd's F(2×2, 3×3) convolution (Lavin and Gray, "Fast
// Algorithms for Convolutional Neural Networks", 2016), over whole planes
// of tiles. Output tile (ty, tx) covers outputs 2ty..2ty+1 × 2tx..2tx+1; its
// input tile is the 4×4 block of the padded input at rows 2ty..2ty+3 and
// columns 2tx..2tx+3. Transformed values live in 16 planes, one per
// position ξ = 4i + j of the 4×4 transformed tile, tile (ty, tx) at column
// ty·tw + tx of each, so that the 16 matrix products of a Winograd
// convolution read them as rows.
//
// The assembly runs 8 tiles of a tile row at a time (two tile rows of 4
// tiles, for 7×7 and 8×8 outputs), deinterleaving the even and odd columns
// of the rows it reads (or interleaving the rows it writes), and computes
// the same sums in the same order as the Go definitions, so results agree
// in every bit. Its last group of a tile row reads and writes past the
// row's end: each function says how far, and runs in Go when its slices
// do not reach that far. Values written past a row's end mean nothing; the
// tile rows are done in order, so in the tile-plane layout they land on
// columns the next tile row then writes.

// winoChunks returns the columns that tile rows of tw tiles cover when
// written 8 tiles at a time.
func winoChunks(tw int) int { return (tw + 7) &^ 7 }

// WinoInput writes the transformed input tiles Bᵀ d B of a padded plane x
// (rows of wp floats, at least 2th+2 rows and 2tw+2 columns) into v: tile
// (ty, tx)'s value ξ goes to v[ξ·vs + ty·tw + tx]. The assembly reads up
// to 2·⌈tw/8⌉·8 + 2 floats into row 2th+1 and writes up to ⌈tw/8⌉·8
// columns into the last tile row of each plane.
//
//	Bᵀ = [1 0 −1 0; 0 1 1 0; 0 −1 1 0; 0 1 0 −1]
func WinoInput(v []float32, vs int, x []float32, wp, tw, th int) {
	if tw <= 0 || th <= 0 {
		return
	}
	last := (th - 1) * tw
	if haveKernel && len(x) >= (2*th+1)*wp+2*winoChunks(tw)+2 && len(v) >= 15*vs+last+winoChunks(tw) {
		if tw == 4 && th >= 2 { // two tile rows a vector
			winoInput4(&v[0], vs, &x[0], wp, th/2)
			if th%2 == 1 {
				winoInput(&v[last], vs, &x[2*(th-1)*wp], wp, tw, 1)
			}
			return
		}
		winoInput(&v[0], vs, &x[0], wp, tw, th)
		return
	}
	for ty := range th {
		r := x[2*ty*wp:]
		for tx := range tw {
			var c [4][4]float32 // c[i][j]: row i of Bᵀ d at column j
			for j := range 4 {
				k := 2*tx + j
				r0, r1, r2, r3 := r[k], r[wp+k], r[2*wp+k], r[3*wp+k]
				c[0][j], c[1][j], c[2][j], c[3][j] = r0-r2, r1+r2, r2-r1, r1-r3
			}
			o := ty*tw + tx
			for i, ci := range c {
				v[4*i*vs+o] = ci[0] - ci[2]
				v[(4*i+1)*vs+o] = ci[1] + ci[2]
				v[(4*i+2)*vs+o] = ci[2] - ci[1]
				v[(4*i+3)*vs+o] = ci[1] - ci[3]
			}
		}
	}
}

// Epilogue is what WinoOutput applies to each output: Bias added when
// AddBias is set, then a Relu (Go's max(v, 0): NaN stays NaN, −0 becomes
// +0) when Relu is set.
type Epilogue struct {
	Bias          float32
	AddBias, Relu bool
}

// apply returns v with the epilogue applied.
func (ep Epilogue) apply(v float32) float32 {
	if ep.AddBias {
		v += ep.Bias
	}
	if ep.Relu {
		v = max(v, 0)
	}
	return v
}

// winoOutputScratch is the floats of the scratch on the stack through
// which the output transforms' assembly finishes a tile row that would
// leave y (its r rows of r·⌈tw/8⌉·8 floats: F(4×4) planes up to 512 wide);
// wider planes' last tile rows run in Go.
const winoOutputScratch = 2048

// WinoOutput writes the output tiles Aᵀ M A of the 16 product planes m
// (value ξ of tile (ty, tx) at m[ξ·ms + ty·tw + tx]), with the epilogue
// ep, into the ho×wo plane at the start of y (rows ys ≥ wo floats apart);
// the tiles cover at least that plane. The assembly writes whole tile
// rows (both output rows, even past an odd ho) in groups of 8 tiles, and
// so spills up to 16 floats past a row's last column, always before the
// columns spilled into are written: only the last tile row leaves values
// of no meaning, and only in y past the plane. Callers pass y as long as
// it may be overwritten; tile rows whose writes would leave y go through
// a scratch. The assembly reads up to ⌈tw/8⌉·8 columns of each plane's
// last tile row of m.
//
//	Aᵀ = [1 1 1 0; 0 1 −1 −1]
func WinoOutput(y []float32, ys, ho, wo int, m []float32, ms, tw, th int, ep Epilogue) {
	winoOutputPlane(winoOut{m, ms, tw, ep, false}, y, ys, ho, wo, th)
}

// winoOut is one output transform's products and epilogue, for
// winoOutputPlane.
type winoOut struct {
	m      []float32
	ms, tw int
	ep     Epilogue
	f4     bool // F(4×4, 3×3); F(2×2, 3×3) if not set
}

// def writes tile rows [ty0, ty1) with the Go definition.
func (o winoOut) def(y []float32, ys, ho, wo, ty0, ty1 int) {
	if o.f4 {
		winoOutputF4Go(y, ys, ho, wo, o.m, o.ms, o.tw, ty0, ty1, o.ep)
	} else {
		winoOutputGo(y, ys, ho, wo, o.m, o.ms, o.tw, ty0, ty1, o.ep)
	}
}

// asm writes tile rows [ty, ty+rows) with the assembly, y at the first
// one's first row.
func (o winoOut) asm(y []float32, ys, ty, rows int) {
	if o.f4 {
		winoOutputF4Asm(y, ys, o.m[ty*o.tw:], o.ms, o.tw, rows, o.ep)
	} else {
		winoOutputAsm(y, ys, o.m[ty*o.tw:], o.ms, o.tw, rows, o.ep)
	}
}

// winoOutputPlane is the output transforms over an ho×wo plane at y: the
// assembly, where m reaches as far as it reads. Tile rows whose writes
// would leave y go through a scratch on the stack, or through the Go
// definition when wider than that.
func winoOutputPlane(o winoOut, y []float32, ys, ho, wo, th int) {
	if o.tw <= 0 || th <= 0 || ho <= 0 || wo <= 0 {
		return
	}
	_ = y[(ho-1)*ys+wo-1]
	r, planes := 2, 16
	if o.f4 {
		r, planes = 4, 36
	}
	w8 := winoChunks(o.tw)
	if !haveKernel || len(o.m) < (planes-1)*o.ms+(th-1)*o.tw+w8 {
		o.def(y, ys, ho, wo, 0, th)
		return
	}
	rows := th // tile rows the assembly writes in place
	for rows > 0 && (r*rows-1)*ys+r*w8 > len(y) {
		rows--
	}
	if rows > 0 {
		o.asm(y, ys, 0, rows)
	}
	for ty := rows; ty < th && r*ty < ho; ty++ {
		switch n := r * r * w8; {
		case n <= winoOutputScratch/4: // the usual planes: a quarter to clear
			var buf [winoOutputScratch / 4]float32
			o.viaScratch(buf[:], y, ys, ho, wo, r, w8, ty)
		case n <= winoOutputScratch:
			var buf [winoOutputScratch]float32
			o.viaScratch(buf[:], y, ys, ho, wo, r, w8, ty)
		default:
			o.def(y, ys, ho, wo, ty, ty+1)
		}
	}
}

// viaScratch writes tile row ty with the assembly into buf, then its rows
// that lie in the ho×wo plane into y.
func (o winoOut) viaScratch(buf, y []float32, ys, ho, wo, r, w8, ty int) {
	o.asm(buf, r*w8, ty, 1)
	for i := 0; i < r && r*ty+i < ho; i++ {
		copy(y[(r*ty+i)*ys:(r*ty+i)*ys+wo], buf[i*r*w8:i*r*w8+wo])
	}
}

// asmArgs returns the values the assembly adds and clamps with for ep:
// a bias of −0 and a floor of −Inf leave every value (NaN included) as it
// is; the last is added after the floor, +0 with a Relu so that −0 turns
// into +0.
func (ep Epilogue) asmArgs() (bias, lo, fix float32) {
	bias, lo, fix = float32(math.Copysign(0, -1)), float32(math.Inf(-1)), float32(math.Copysign(0, -1))
	if ep.AddBias {
		bias = ep.Bias
	}
	if ep.Relu {
		lo, fix = 0, 0
	}
	return bias, lo, fix
}

// winoOutputAsm runs the assembly over th tile rows, with ep's bias and
// Relu as asmArgs gives them. Tile rows of 4 tiles go two a vector.
func winoOutputAsm(y []float32, ys int, m []float32, ms, tw, th int, ep Epilogue) {
	bias, lo, fix := ep.asmArgs()
	if tw == 4 && th >= 2 {
		winoOutput4(&y[0], ys, &m[0], ms, th/2, bias, lo, fix)
		if th%2 == 0 {
			return
		}
		y, m, th = y[2*(th-1)*ys:], m[(th-1)*tw:], 1
	}
	winoOutput(&y[0], ys, &m[0], ms, tw, th, bias, lo, fix)
}

// winoOutputGo is WinoOutput's definition, for tile rows [ty0, ty1).
func winoOutputGo(y []float32, ys, ho, wo int, m []float32, ms, tw, ty0, ty1 int, ep Epilogue) {
	for ty := ty0; ty < ty1; ty++ {
		for tx := range tw {
			o := ty*tw + tx
			var a, b [4]float32 // the two rows of Aᵀ M
			for k := range 4 {
				m0, m1, m2, m3 := m[k*ms+o], m[(4+k)*ms+o], m[(8+k)*ms+o], m[(12+k)*ms+o]
				a[k], b[k] = m0+m1+m2, m1-m2-m3
			}
			out := [2][2]float32{{a[0] + a[1] + a[2], a[1] - a[2] - a[3]}, {b[0] + b[1] + b[2], b[1] - b[2] - b[3]}}
			for i := range 2 {
				for j := range 2 {
					if r, c := 2*ty+i, 2*tx+j; r < ho && c < wo {
						y[r*ys+c] = ep.apply(out[i][j])
					}
				}
			}
		}
	}
}

// WinoGrad writes the transformed output gradients A dY Aᵀ of dy (rows of
// ys floats, 2th rows of 2tw columns) into dm: tile (ty, tx)'s value ξ goes
// to dm[ξ·ms + ty·tw + tx]. It is the adjoint of WinoOutput: the gradient
// of the products M from that of the outputs. The assembly reads up to
// 2·⌈tw/8⌉·8 floats of row 2th−1 and writes up to ⌈tw/8⌉·8 columns into
// the last tile row of each plane.
func WinoGrad(dm []float32, ms int, dy []float32, ys, tw, th int) {
	if tw <= 0 || th <= 0 {
		return
	}
	w8 := winoChunks(tw)
	if haveKernel && len(dy) >= (2*th-1)*ys+2*w8 && len(dm) >= 15*ms+(th-1)*tw+w8 {
		if tw == 4 && th >= 2 { // two tile rows a vector
			winoGrad4(&dm[0], ms, &dy[0], ys, th/2)
			if th%2 == 1 {
				winoGrad(&dm[(th-1)*tw], ms, &dy[2*(th-1)*ys], ys, tw, 1)
			}
			return
		}
		winoGrad(&dm[0], ms, &dy[0], ys, tw, th)
		return
	}
	for ty := range th {
		top, bot := dy[2*ty*ys:], dy[(2*ty+1)*ys:]
		for tx := range tw {
			a, b, c, e := top[2*tx], top[2*tx+1], bot[2*tx], bot[2*tx+1]
			// A dY has rows [a b], [a+c b+e], [a−c b−e], [−c −e]; each row
			// [p q] times Aᵀ is [p, p+q, p−q, −q].
			rows := [4][2]float32{{a, b}, {a + c, b + e}, {a - c, b - e}, {-c, -e}}
			o := ty*tw + tx
			for i, r := range rows {
				p, q := r[0], r[1]
				dm[4*i*ms+o] = p
				dm[(4*i+1)*ms+o] = p + q
				dm[(4*i+2)*ms+o] = p - q
				dm[(4*i+3)*ms+o] = -q
			}
		}
	}
}
