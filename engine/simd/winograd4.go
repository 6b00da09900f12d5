package simd

// Transforms of Winograd's F(4×4, 3×3) convolution (Lavin and Gray's 6×6
// tiles, interpolation points 0, ±1, ±2 and ∞). Output tile (ty, tx)
// covers outputs 4ty..4ty+3 × 4tx..4tx+3; its input tile is the 6×6 block
// of the padded input at rows 4ty..4ty+5 and columns 4tx..4tx+5. The 36
// transformed values live in planes ξ = 6i + j, laid out as F(2×2)'s 16
// (see winograd.go). Per output, the 36 products are 2.25 multiply-adds
// against F(2×2)'s 4, and the planes hold 2.25 values against 4.
//
// The assembly runs 8 tiles of a tile row at a time: it combines whole
// rows first (those need no shuffles), then turns 4 loads of 8 floats,
// 4 floats a tile, into 4 vectors of one tile column each (an in-lane 4×4
// transpose after swapping the loads' 128-bit halves) and combines those.
// All multiplications are by powers of two, so they are exact, and the
// assembly rounds each sum as the Go definitions do: results agree in
// every bit. Reads and writes past a row's end are as for F(2×2), four
// times as wide.

// winoF4In is Bᵀ's combination of six values along a column or row of a
// 6×6 input tile:
//
//	Bᵀ = [4 0 −5 0 1 0; 0 −4 −4 1 1 0; 0 4 −4 −1 1 0;
//	      0 −2 −1 2 1 0; 0 2 −1 −2 1 0; 0 4 0 −5 0 1]
func winoF4In(a0, a1, a2, a3, a4, a5 float32) [6]float32 {
	q, d := a4-a2, float32(2*(a3-a1))
	return [6]float32{q + float32(4*(a0-a2)), (a3 + a4) - float32(4*(a1+a2)), (a4 - a3) + float32(4*(a1-a2)),
		q + d, q - d, (a5 - a3) + float32(4*(a1-a3))}
}

// winoF4Out is Aᵀ's combination of six values along a column or row of a
// 6×6 product tile:
//
//	Aᵀ = [1 1 1 1 1 0; 0 1 −1 2 −2 0; 0 1 1 4 4 0; 0 1 −1 8 −8 1]
func winoF4Out(m0, m1, m2, m3, m4, m5 float32) [4]float32 {
	s12, d12, s34, d34 := m1+m2, m1-m2, m3+m4, m3-m4
	return [4]float32{(m0 + s12) + s34, d12 + float32(2*d34), s12 + float32(4*s34), (d12 + float32(8*d34)) + m5}
}

// winoF4Grad is A's combination of four values along a column or row of a
// 4×4 output-gradient tile (A is Aᵀ transposed, so this is winoF4Out's
// adjoint).
func winoF4Grad(y0, y1, y2, y3 float32) [6]float32 {
	e, f := y0+y2, y1+y3
	e4, f4 := y0+float32(4*y2), float32(2*(y1+float32(4*y3)))
	return [6]float32{y0, e + f, e - f, e4 + f4, e4 - f4, y3}
}

// WinoInputF4 writes the transformed input tiles Bᵀ d B of a padded plane x
// (rows of wp floats, at least 4th+2 rows and 4tw+2 columns) into v: tile
// (ty, tx)'s value ξ goes to v[ξ·vs + ty·tw + tx]. The assembly reads up
// to 4·⌈tw/8⌉·8 + 8 floats into row 4th+1 and writes up to ⌈tw/8⌉·8
// columns into the last tile row of each plane.
func WinoInputF4(v []float32, vs int, x []float32, wp, tw, th int) {
	if tw <= 0 || th <= 0 {
		return
	}
	w8 := winoChunks(tw)
	if haveKernel && len(x) >= (4*th+1)*wp+4*w8+8 && len(v) >= 35*vs+(th-1)*tw+w8 {
		winoInputF4(&v[0], vs, &x[0], wp, tw, th)
		return
	}
	for ty := range th {
		r := x[4*ty*wp:]
		for tx := range tw {
			var c [6][6]float32 // c[i][j]: row i of Bᵀ d at column j
			for j := range 6 {
				k := 4*tx + j
				col := winoF4In(r[k], r[wp+k], r[2*wp+k], r[3*wp+k], r[4*wp+k], r[5*wp+k])
				for i := range 6 {
					c[i][j] = col[i]
				}
			}
			o := ty*tw + tx
			for i, ci := range c {
				for j, vj := range winoF4In(ci[0], ci[1], ci[2], ci[3], ci[4], ci[5]) {
					v[(6*i+j)*vs+o] = vj
				}
			}
		}
	}
}

// WinoOutputF4 is WinoOutput for F(4×4, 3×3): it writes the output tiles
// Aᵀ M A of the 36 product planes m, with the epilogue ep, into the ho×wo
// plane at the start of y (rows ys ≥ wo floats apart), spilling up to 28
// floats past a row's last column on the same terms.
func WinoOutputF4(y []float32, ys, ho, wo int, m []float32, ms, tw, th int, ep Epilogue) {
	winoOutputPlane(winoOut{m, ms, tw, ep, true}, y, ys, ho, wo, th)
}

// winoOutputF4Asm runs the assembly over th tile rows (see winoOutputAsm).
func winoOutputF4Asm(y []float32, ys int, m []float32, ms, tw, th int, ep Epilogue) {
	bias, lo, fix := ep.asmArgs()
	winoOutputF4(&y[0], ys, &m[0], ms, tw, th, bias, lo, fix)
}

// winoOutputF4Go is WinoOutputF4's definition, for tile rows [ty0, ty1).
func winoOutputF4Go(y []float32, ys, ho, wo int, m []float32, ms, tw, ty0, ty1 int, ep Epilogue) {
	for ty := ty0; ty < ty1; ty++ {
		for tx := range tw {
			o := ty*tw + tx
			var a [4][6]float32 // a[r][k]: row r of Aᵀ M at column k
			for k := range 6 {
				col := winoF4Out(m[k*ms+o], m[(6+k)*ms+o], m[(12+k)*ms+o], m[(18+k)*ms+o], m[(24+k)*ms+o], m[(30+k)*ms+o])
				for r := range 4 {
					a[r][k] = col[r]
				}
			}
			for i, ai := range a {
				for j, out := range winoF4Out(ai[0], ai[1], ai[2], ai[3], ai[4], ai[5]) {
					if r, c := 4*ty+i, 4*tx+j; r < ho && c < wo {
						y[r*ys+c] = ep.apply(out)
					}
				}
			}
		}
	}
}

// WinoGradF4 is WinoGrad for F(4×4, 3×3): it writes the transformed output
// gradients A dY Aᵀ of dy (rows of ys floats, 4th rows of 4tw columns)
// into the 36 planes of dm. The assembly reads up to 4·⌈tw/8⌉·8 floats of
// row 4th−1 and writes up to ⌈tw/8⌉·8 columns into the last tile row of
// each plane.
func WinoGradF4(dm []float32, ms int, dy []float32, ys, tw, th int) {
	if tw <= 0 || th <= 0 {
		return
	}
	w8 := winoChunks(tw)
	if haveKernel && len(dy) >= (4*th-1)*ys+4*w8 && len(dm) >= 35*ms+(th-1)*tw+w8 {
		winoGradF4(&dm[0], ms, &dy[0], ys, tw, th)
		return
	}
	for ty := range th {
		r := dy[4*ty*ys:]
		for tx := range tw {
			var c [6][4]float32 // c[i][j]: row i of A dY at column j
			for j := range 4 {
				k := 4*tx + j
				col := winoF4Grad(r[k], r[ys+k], r[2*ys+k], r[3*ys+k])
				for i := range 6 {
					c[i][j] = col[i]
				}
			}
			o := ty*tw + tx
			for i, ci := range c {
				for j, vj := range winoF4Grad(ci[0], ci[1], ci[2], ci[3]) {
					dm[(6*i+j)*ms+o] = vj
				}
			}
		}
	}
}

// F(4×4, 3×3) over tile pairs, for planes too narrow to fill a vector with
// a tile row (4 and 2 tiles a row). A group is 8 tiles: 4 pairs of
// horizontally adjacent tiles (a|b), pair p at off[p] floats from the
// group's base; group g's base is g·step floats from the start. The
// group's transformed values go to 8 consecutive columns, 8g..8g+7, of
// each plane, in the order a₀ a₁ a₂ a₃ b₀ b₁ b₂ b₃: the three transforms
// agree on it, and the matrix products do not care. pairTile returns the
// offset of the tile in lane j.
func pairTile(off *[4]int, j int) int { return off[j%4] + 4*(j/4) }

// WinoInputF4Pairs writes the transformed input tiles Bᵀ d B of n groups
// of tile pairs of padded planes in x (rows of wp floats; a tile at offset
// o reads rows o, o+wp, … of 6 floats) into v: lane j of group g goes to
// v[ξ·vs + 8g + j]. The assembly reads 12 floats from each of a pair's 6
// rows.
func WinoInputF4Pairs(v []float32, vs int, x []float32, wp int, off [4]int, n, step int) {
	if n <= 0 {
		return
	}
	if haveKernel && len(x) >= (n-1)*step+max(off[0], off[1], off[2], off[3])+5*wp+12 && len(v) >= 35*vs+8*n {
		winoInputF4Pairs(&v[0], vs, &x[0], wp, &off, n, step)
		return
	}
	for g := range n {
		for j := range 8 {
			r := x[g*step+pairTile(&off, j):]
			var c [6][6]float32 // c[i][k]: row i of Bᵀ d at column k
			for k := range 6 {
				col := winoF4In(r[k], r[wp+k], r[2*wp+k], r[3*wp+k], r[4*wp+k], r[5*wp+k])
				for i := range 6 {
					c[i][k] = col[i]
				}
			}
			for i, ci := range c {
				for k, vk := range winoF4In(ci[0], ci[1], ci[2], ci[3], ci[4], ci[5]) {
					v[(6*i+k)*vs+8*g+j] = vk
				}
			}
		}
	}
}

// WinoOutputF4Pairs writes the output tiles Aᵀ M A of n groups of
// columns of the 36 product planes m (lane j of group g at m[ξ·ms + 8g +
// j]), with the epilogue ep, into y (rows ys floats apart): the tile in
// lane j of group g at y[g·step + pairTile(off, j)], 4 rows of 4 floats.
func WinoOutputF4Pairs(y []float32, ys int, m []float32, ms int, off [4]int, n, step int, ep Epilogue) {
	if n <= 0 {
		return
	}
	_ = y[(n-1)*step+max(off[0], off[1], off[2], off[3])+3*ys+7]
	if haveKernel && len(m) >= 35*ms+8*n {
		bias, lo, fix := ep.asmArgs()
		winoOutputF4Pairs(&y[0], ys, &m[0], ms, &off, n, step, bias, lo, fix)
		return
	}
	for g := range n {
		for j := range 8 {
			o := 8*g + j
			var a [4][6]float32 // a[r][k]: row r of Aᵀ M at column k
			for k := range 6 {
				col := winoF4Out(m[k*ms+o], m[(6+k)*ms+o], m[(12+k)*ms+o], m[(18+k)*ms+o], m[(24+k)*ms+o], m[(30+k)*ms+o])
				for r := range 4 {
					a[r][k] = col[r]
				}
			}
			t := g*step + pairTile(&off, j)
			for r, ar := range a {
				for c, out := range winoF4Out(ar[0], ar[1], ar[2], ar[3], ar[4], ar[5]) {
					y[t+r*ys+c] = ep.apply(out)
				}
			}
		}
	}
}

// WinoGradF4Pairs writes the transformed output gradients A dY Aᵀ of n
// groups of tile pairs of dy (rows ys floats apart; a tile at offset o
// reads 4 rows of 4 floats) into the 36 planes of dm, lane j of group g
// at dm[ξ·ms + 8g + j].
func WinoGradF4Pairs(dm []float32, ms int, dy []float32, ys int, off [4]int, n, step int) {
	if n <= 0 {
		return
	}
	if haveKernel && len(dy) >= (n-1)*step+max(off[0], off[1], off[2], off[3])+3*ys+8 && len(dm) >= 35*ms+8*n {
		winoGradF4Pairs(&dm[0], ms, &dy[0], ys, &off, n, step)
		return
	}
	for g := range n {
		for j := range 8 {
			r := dy[g*step+pairTile(&off, j):]
			var c [6][4]float32 // c[i][k]: row i of A dY at column k
			for k := range 4 {
				col := winoF4Grad(r[k], r[ys+k], r[2*ys+k], r[3*ys+k])
				for i := range 6 {
					c[i][k] = col[i]
				}
			}
			for i, ci := range c {
				for k, vk := range winoF4Grad(ci[0], ci[1], ci[2], ci[3]) {
					dm[(6*i+k)*ms+8*g+j] = vk
				}
			}
		}
	}
}
