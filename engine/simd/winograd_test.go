package simd

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// TestWinogradMatchesGo checks the three transforms' assembly against
// their Go definitions bit for bit, over tile rows of every length mod 8
// (with the slack the assembly needs), and checks that the Go definitions
// are the transforms: WinoOutput ∘ (U ⊙ WinoInput) is a 3×3 correlation,
// and WinoGrad is WinoOutput's adjoint.
func TestWinogradMatchesGo(t *testing.T) {
	needKernel(t)
	rng := rand.New(rand.NewPCG(3, 4))
	for _, tw := range []int{1, 2, 4, 5, 7, 8, 9, 14, 16, 17} {
		for _, th := range []int{1, 2, 3, 4} {
			t.Run(fmt.Sprintf("%dx%d", th, tw), func(t *testing.T) {
				w8 := winoChunks(tw)
				wp := 2*tw + 2
				plane := th * tw
				vs := plane + 8

				x := vecInput(rng, (2*th+2)*wp+2*w8+2)
				v, vg := make([]float32, 16*vs), make([]float32, 16*vs)
				WinoInput(v, vs, x, wp, tw, th)
				inGo(func() { WinoInput(vg, vs, x, wp, tw, th) })
				checkPlanes(t, "WinoInput", v, vg, vs, plane)

				ys := 2 * w8
				checkOutput(t, v, vs, tw, th)
				negZeros := make([]float32, len(v)) // outputs of −0: kept, or +0 after a Relu
				for i := range negZeros {
					negZeros[i] = float32(math.Copysign(0, -1))
				}
				checkOutput(t, negZeros, vs, tw, th)

				dy := vecInput(rng, 2*th*ys)
				dm, dmg := make([]float32, 16*vs), make([]float32, 16*vs)
				WinoGrad(dm, vs, dy, ys, tw, th)
				inGo(func() { WinoGrad(dmg, vs, dy, ys, tw, th) })
				checkPlanes(t, "WinoGrad", dm, dmg, vs, plane)
			})
		}
	}
}

// checkOutput checks WinoOutput's assembly against its Go definition on
// the products m: planes of odd and even sizes, row strides of the width
// and wider, every epilogue, y ending at the plane (the last tile row goes
// through the scratch) or reaching past it (the spill may land there).
func checkOutput(t *testing.T, m []float32, ms, tw, th int) {
	t.Helper()
	for _, ho := range []int{2 * th, 2*th - 1} {
		for _, wo := range []int{2 * tw, 2*tw - 1} {
			if ho == 0 || wo == 0 {
				continue
			}
			for _, ys := range []int{wo, wo + 3} {
				for _, extra := range []int{0, 40} {
					for _, ep := range []Epilogue{{}, {Bias: 0.7, AddBias: true}, {Relu: true}, {Bias: -0.3, AddBias: true, Relu: true}} {
						n := (ho-1)*ys + wo + extra
						y, yg := make([]float32, n), make([]float32, n)
						WinoOutput(y, ys, ho, wo, m, ms, tw, th, ep)
						inGo(func() { WinoOutput(yg, ys, ho, wo, m, ms, tw, th, ep) })
						for r := range ho {
							if i := sameBits32(y[r*ys:r*ys+wo], yg[r*ys:r*ys+wo]); i >= 0 {
								t.Fatalf("WinoOutput %dx%d ys %d extra %d %+v: row %d column %d: assembly %v, Go %v",
									ho, wo, ys, extra, ep, r, i, y[r*ys+i], yg[r*ys+i])
							}
						}
					}
				}
			}
		}
	}
}

// checkPlanes compares the first n columns of the 16 planes of a and b.
func checkPlanes(t *testing.T, name string, a, b []float32, stride, n int) {
	t.Helper()
	for xi := range 16 {
		if i := sameBits32(a[xi*stride:xi*stride+n], b[xi*stride:xi*stride+n]); i >= 0 {
			t.Fatalf("%s plane %d column %d: assembly %v, Go %v", name, xi, i, a[xi*stride+i], b[xi*stride+i])
		}
	}
}

// TestWinogradIsCorrelation checks the Go definitions against the
// direct sums: with the filter transform U = G g Gᵀ, the output tiles of
// U ⊙ (Bᵀ d B) are the 3×3 correlation of the padded plane with g, and
// WinoGrad satisfies ⟨WinoOutput(M), dY⟩ = ⟨M, WinoGrad(dY)⟩.
func TestWinogradIsCorrelation(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	const tw, th = 3, 2
	wp := 2*tw + 2
	x := make([]float32, (2*th+2)*wp)
	for i := range x {
		x[i] = float32(rng.NormFloat64())
	}
	var g [9]float32
	for i := range g {
		g[i] = float32(rng.NormFloat64())
	}
	// U = G g Gᵀ, G = [1 0 0; ½ ½ ½; ½ −½ ½; 0 0 1].
	G := [4][3]float64{{1, 0, 0}, {.5, .5, .5}, {.5, -.5, .5}, {0, 0, 1}}
	var u [16]float32
	for i := range 4 {
		for j := range 4 {
			var s float64
			for a := range 3 {
				for b := range 3 {
					s += G[i][a] * float64(g[a*3+b]) * G[j][b]
				}
			}
			u[i*4+j] = float32(s)
		}
	}
	plane := tw * th
	v := make([]float32, 16*plane)
	inGo(func() { WinoInput(v, plane, x, wp, tw, th) })
	for xi := range 16 {
		for p := range plane {
			v[xi*plane+p] *= u[xi]
		}
	}
	y := make([]float32, 2*th*2*tw)
	inGo(func() { WinoOutput(y, 2*tw, 2*th, 2*tw, v, plane, tw, th, Epilogue{}) })
	for oy := range 2 * th {
		for ox := range 2 * tw {
			var want float64
			for a := range 3 {
				for b := range 3 {
					want += float64(x[(oy+a)*wp+ox+b]) * float64(g[a*3+b])
				}
			}
			if got := float64(y[oy*2*tw+ox]); got-want > 1e-4 || want-got > 1e-4 {
				t.Fatalf("output (%d, %d) = %v, want %v", oy, ox, got, want)
			}
		}
	}

	m := make([]float32, 16*plane)
	for i := range m {
		m[i] = float32(rng.NormFloat64())
	}
	dy := make([]float32, len(y))
	for i := range dy {
		dy[i] = float32(rng.NormFloat64())
	}
	dm := make([]float32, len(m))
	inGo(func() {
		WinoOutput(y, 2*tw, 2*th, 2*tw, m, plane, tw, th, Epilogue{})
		WinoGrad(dm, plane, dy, 2*tw, tw, th)
	})
	var lhs, rhs float64
	for i := range y {
		lhs += float64(y[i]) * float64(dy[i])
	}
	for i := range m {
		rhs += float64(m[i]) * float64(dm[i])
	}
	if d := lhs - rhs; d > 1e-3 || d < -1e-3 {
		t.Fatalf("⟨WinoOutput(M), dY⟩ = %v, ⟨M, WinoGrad(dY)⟩ = %v", lhs, rhs)
	}
}
