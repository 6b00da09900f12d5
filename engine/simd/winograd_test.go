package simd

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// winoScheme is one Winograd algorithm's transforms, for the tests.
type winoScheme struct {
	name   string
	r, a   int         // output tile side, input tile side
	g      [][]float64 // G, a×3: the filter transform U = G g Gᵀ
	input  func(v []float32, vs int, x []float32, wp, tw, th int)
	output func(y []float32, ys, ho, wo int, m []float32, ms, tw, th int, ep Epilogue)
	grad   func(dm []float32, ms int, dy []float32, ys, tw, th int)
}

var winoSchemes = []winoScheme{
	{"F2", 2, 4, [][]float64{{1, 0, 0}, {.5, .5, .5}, {.5, -.5, .5}, {0, 0, 1}}, WinoInput, WinoOutput, WinoGrad},
	{"F4", 4, 6, [][]float64{{1. / 4, 0, 0}, {-1. / 6, -1. / 6, -1. / 6}, {-1. / 6, 1. / 6, -1. / 6},
		{1. / 24, 1. / 12, 1. / 6}, {1. / 24, -1. / 12, 1. / 6}, {0, 0, 1}}, WinoInputF4, WinoOutputF4, WinoGradF4},
}

// TestWinogradMatchesGo checks the transforms' assembly against their Go
// definitions bit for bit, over tile rows of every length mod 8 (with the
// slack the assembly needs).
func TestWinogradMatchesGo(t *testing.T) {
	needKernel(t)
	rng := rand.New(rand.NewPCG(3, 4))
	for _, s := range winoSchemes {
		for _, tw := range []int{1, 2, 4, 5, 7, 8, 9, 14, 16, 17, 40} { // 40: F(4×4)'s last row through the scratch
			for _, th := range []int{1, 2, 3, 4} {
				t.Run(fmt.Sprintf("%s/%dx%d", s.name, th, tw), func(t *testing.T) {
					w8 := winoChunks(tw)
					wp := s.r*tw + 2
					plane := th * tw
					vs := plane + 8
					n := s.a * s.a

					x := vecInput(rng, (s.r*th+2)*wp+s.r*w8+8)
					v, vg := make([]float32, n*vs), make([]float32, n*vs)
					s.input(v, vs, x, wp, tw, th)
					inGo(func() { s.input(vg, vs, x, wp, tw, th) })
					checkPlanes(t, s.name+" input", v, vg, n, vs, plane)

					checkOutput(t, s, v, vs, tw, th)
					negZeros := make([]float32, len(v)) // outputs of −0: kept, or +0 after a Relu
					for i := range negZeros {
						negZeros[i] = float32(math.Copysign(0, -1))
					}
					checkOutput(t, s, negZeros, vs, tw, th)

					ys := s.r * w8
					dy := vecInput(rng, s.r*th*ys)
					dm, dmg := make([]float32, n*vs), make([]float32, n*vs)
					s.grad(dm, vs, dy, ys, tw, th)
					inGo(func() { s.grad(dmg, vs, dy, ys, tw, th) })
					checkPlanes(t, s.name+" grad", dm, dmg, n, vs, plane)
				})
			}
		}
	}
}

// checkOutput checks the output transform's assembly against its Go
// definition on the products m: planes of sizes that fill the last tiles
// and that do not, row strides of the width and wider, every epilogue, y
// ending at the plane (the last tile row goes through the scratch) or
// reaching past it (the spill may land there).
func checkOutput(t *testing.T, s winoScheme, m []float32, ms, tw, th int) {
	t.Helper()
	for _, ho := range []int{s.r * th, s.r*th - 1, s.r*(th-1) + 1} {
		for _, wo := range []int{s.r * tw, s.r*tw - 1, s.r*(tw-1) + 1} {
			if ho <= 0 || wo <= 0 {
				continue
			}
			for _, ys := range []int{wo, wo + 3} {
				for _, extra := range []int{0, 40} {
					for _, ep := range []Epilogue{{}, {Bias: 0.7, AddBias: true}, {Relu: true}, {Bias: -0.3, AddBias: true, Relu: true}} {
						n := (ho-1)*ys + wo + extra
						y, yg := make([]float32, n), make([]float32, n)
						s.output(y, ys, ho, wo, m, ms, tw, th, ep)
						inGo(func() { s.output(yg, ys, ho, wo, m, ms, tw, th, ep) })
						for r := range ho {
							if i := sameBits32(y[r*ys:r*ys+wo], yg[r*ys:r*ys+wo]); i >= 0 {
								t.Fatalf("%s output %dx%d ys %d extra %d %+v: row %d column %d: assembly %v, Go %v",
									s.name, ho, wo, ys, extra, ep, r, i, y[r*ys+i], yg[r*ys+i])
							}
						}
					}
				}
			}
		}
	}
}

// checkPlanes compares the first n columns of the planes of a and b.
func checkPlanes(t *testing.T, name string, a, b []float32, planes, stride, n int) {
	t.Helper()
	for xi := range planes {
		if i := sameBits32(a[xi*stride:xi*stride+n], b[xi*stride:xi*stride+n]); i >= 0 {
			t.Fatalf("%s plane %d column %d: assembly %v, Go %v", name, xi, i, a[xi*stride+i], b[xi*stride+i])
		}
	}
}

// TestWinogradIsCorrelation checks the Go definitions against the
// direct sums: with the filter transform U = G g Gᵀ, the output tiles of
// U ⊙ (Bᵀ d B) are the 3×3 correlation of the padded plane with g, and
// the gradient transform satisfies ⟨output(M), dY⟩ = ⟨M, grad(dY)⟩.
func TestWinogradIsCorrelation(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for _, s := range winoSchemes {
		const tw, th = 3, 2
		wp, n := s.r*tw+2, s.a*s.a
		x := make([]float32, (s.r*th+2)*wp)
		for i := range x {
			x[i] = float32(rng.NormFloat64())
		}
		var g [9]float32
		for i := range g {
			g[i] = float32(rng.NormFloat64())
		}
		u := make([]float32, n)
		for i := range s.a {
			for j := range s.a {
				var sum float64
				for a := range 3 {
					for b := range 3 {
						sum += s.g[i][a] * float64(g[a*3+b]) * s.g[j][b]
					}
				}
				u[i*s.a+j] = float32(sum)
			}
		}
		plane := tw * th
		v := make([]float32, n*plane)
		inGo(func() { s.input(v, plane, x, wp, tw, th) })
		for xi := range n {
			for p := range plane {
				v[xi*plane+p] *= u[xi]
			}
		}
		ho, wo := s.r*th, s.r*tw
		y := make([]float32, ho*wo)
		inGo(func() { s.output(y, wo, ho, wo, v, plane, tw, th, Epilogue{}) })
		for oy := range ho {
			for ox := range wo {
				var want float64
				for a := range 3 {
					for b := range 3 {
						want += float64(x[(oy+a)*wp+ox+b]) * float64(g[a*3+b])
					}
				}
				if got := float64(y[oy*wo+ox]); got-want > 1e-4 || want-got > 1e-4 {
					t.Fatalf("%s: output (%d, %d) = %v, want %v", s.name, oy, ox, got, want)
				}
			}
		}

		m := make([]float32, n*plane)
		for i := range m {
			m[i] = float32(rng.NormFloat64())
		}
		dy := make([]float32, len(y))
		for i := range dy {
			dy[i] = float32(rng.NormFloat64())
		}
		dm := make([]float32, len(m))
		inGo(func() {
			s.output(y, wo, ho, wo, m, plane, tw, th, Epilogue{})
			s.grad(dm, plane, dy, wo, tw, th)
		})
		var lhs, rhs float64
		for i := range y {
			lhs += float64(y[i]) * float64(dy[i])
		}
		for i := range m {
			rhs += float64(m[i]) * float64(dm[i])
		}
		if d := lhs - rhs; d > 1e-3 || d < -1e-3 {
			t.Fatalf("%s: ⟨output(M), dY⟩ = %v, ⟨M, grad(dY)⟩ = %v", s.name, lhs, rhs)
		}
	}
}

// pairLayouts are the tile-pair groupings the engine uses: two tile rows
// of a plane 4 tiles wide (plane 18×18 padded), and the 2×2 tiles of two
// planes (10×10 padded, planes 100·3 floats apart).
var pairLayouts = []struct {
	name          string
	wp, tw, th    int
	off           [4]int
	step, n, size int
}{
	{"4 tiles a row", 18, 4, 4, [4]int{0, 8, 4 * 18, 4*18 + 8}, 8 * 18, 2, 18 * 18},
	{"2×2 tiles, two planes", 10, 2, 2, [4]int{0, 40, 300, 340}, 600, 3, 6 * 300},
}

// TestWinogradPairsMatchGo checks the tile-pair transforms' assembly
// against their Go definitions bit for bit.
func TestWinogradPairsMatchGo(t *testing.T) {
	needKernel(t)
	rng := rand.New(rand.NewPCG(7, 8))
	for _, l := range pairLayouts {
		t.Run(l.name, func(t *testing.T) {
			vs := 8*l.n + 5
			x := vecInput(rng, (l.n-1)*l.step+l.off[3]+5*l.wp+12)
			v, vg := make([]float32, 36*vs), make([]float32, 36*vs)
			WinoInputF4Pairs(v, vs, x, l.wp, l.off, l.n, l.step)
			inGo(func() { WinoInputF4Pairs(vg, vs, x, l.wp, l.off, l.n, l.step) })
			checkPlanes(t, "pairs input", v, vg, 36, vs, 8*l.n)

			dm, dmg := make([]float32, 36*vs), make([]float32, 36*vs)
			WinoGradF4Pairs(dm, vs, x, l.wp, l.off, l.n, l.step)
			inGo(func() { WinoGradF4Pairs(dmg, vs, x, l.wp, l.off, l.n, l.step) })
			checkPlanes(t, "pairs grad", dm, dmg, 36, vs, 8*l.n)

			for _, m := range [][]float32{v, vecInput(rng, len(v))} {
				for _, ep := range []Epilogue{{}, {Bias: 0.7, AddBias: true}, {Relu: true}, {Bias: -0.3, AddBias: true, Relu: true}} {
					y, yg := make([]float32, len(x)), make([]float32, len(x))
					WinoOutputF4Pairs(y, l.wp, m, vs, l.off, l.n, l.step, ep)
					inGo(func() { WinoOutputF4Pairs(yg, l.wp, m, vs, l.off, l.n, l.step, ep) })
					if i := sameBits32(y, yg); i >= 0 {
						t.Fatalf("pairs output %+v: float %d: assembly %v, Go %v", ep, i, y[i], yg[i])
					}
				}
			}
		})
	}
}

// TestWinogradPairsIsCorrelation checks the tile-pair transforms'
// definitions against the direct sums: output ∘ (U ⊙ input) is the 3×3
// correlation of each padded plane, tile by tile, and grad is output's
// adjoint.
func TestWinogradPairsIsCorrelation(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	f4 := winoSchemes[1]
	for _, l := range pairLayouts {
		x := make([]float32, (l.n-1)*l.step+l.off[3]+5*l.wp+12)
		for i := range x {
			x[i] = float32(rng.NormFloat64())
		}
		var g [9]float32
		for i := range g {
			g[i] = float32(rng.NormFloat64())
		}
		u := make([]float32, 36)
		for i := range 6 {
			for j := range 6 {
				var sum float64
				for a := range 3 {
					for b := range 3 {
						sum += f4.g[i][a] * float64(g[a*3+b]) * f4.g[j][b]
					}
				}
				u[i*6+j] = float32(sum)
			}
		}
		vs := 8 * l.n
		v := make([]float32, 36*vs)
		inGo(func() { WinoInputF4Pairs(v, vs, x, l.wp, l.off, l.n, l.step) })
		for xi := range 36 {
			for p := range vs {
				v[xi*vs+p] *= u[xi]
			}
		}
		y := make([]float32, len(x))
		inGo(func() { WinoOutputF4Pairs(y, l.wp, v, vs, l.off, l.n, l.step, Epilogue{}) })
		for gi := range l.n {
			for j := range 8 {
				o := gi*l.step + pairTile(&l.off, j)
				for r := range 4 {
					for c := range 4 {
						var want float64
						for a := range 3 {
							for b := range 3 {
								want += float64(x[o+(r+a)*l.wp+c+b]) * float64(g[a*3+b])
							}
						}
						if got := float64(y[o+r*l.wp+c]); math.Abs(got-want) > 1e-4 {
							t.Fatalf("%s: group %d tile %d output (%d, %d) = %v, want %v", l.name, gi, j, r, c, got, want)
						}
					}
				}
			}
		}

		m := make([]float32, 36*vs)
		for i := range m {
			m[i] = float32(rng.NormFloat64())
		}
		dy := make([]float32, len(x))
		for i := range dy {
			dy[i] = float32(rng.NormFloat64())
		}
		dm := make([]float32, len(m))
		clear(y)
		inGo(func() {
			WinoOutputF4Pairs(y, l.wp, m, vs, l.off, l.n, l.step, Epilogue{})
			WinoGradF4Pairs(dm, vs, dy, l.wp, l.off, l.n, l.step)
		})
		var lhs, rhs float64
		for i := range y {
			lhs += float64(y[i]) * float64(dy[i])
		}
		for i := range m {
			rhs += float64(m[i]) * float64(dm[i])
		}
		if d := lhs - rhs; math.Abs(d) > 1e-3 {
			t.Fatalf("%s: ⟨output(M), dY⟩ = %v, ⟨M, grad(dY)⟩ = %v", l.name, lhs, rhs)
		}
	}
}
