package simd

import (
	"math/rand/v2"
	"testing"
)

// BenchmarkWinoTransforms times each scheme's three transforms on one
// 28×28 output plane (ResNet-20's first stage on Fashion-MNIST), with the
// planes of the transformed values as far apart as in a group of 4
// images of 16 channels.
func BenchmarkWinoTransforms(b *testing.B) {
	needKernel(b)
	rng := rand.New(rand.NewPCG(1, 2))
	const out = 28
	for _, s := range winoSchemes {
		tw := out / s.r
		wp, n := s.r*tw+2, s.a*s.a
		vs := 16 * (4*tw*tw + 40)
		x := normalInput(rng, (s.r*tw+2)*wp+s.r*winoChunks(tw)+8)
		v := make([]float32, n*vs)
		y := make([]float32, out*out+64)
		b.Run(s.name+"/input", func(b *testing.B) {
			for range b.N {
				s.input(v, vs, x, wp, tw, tw)
			}
		})
		b.Run(s.name+"/output", func(b *testing.B) {
			for range b.N {
				s.output(y, out, out, out, v, vs, tw, tw, Epilogue{Relu: true})
			}
		})
		b.Run(s.name+"/grad", func(b *testing.B) {
			for range b.N {
				s.grad(v, vs, y, out, tw, tw)
			}
		})
	}
}

// BenchmarkWinoPairs times the tile-pair transforms on the groups of 8
// tiles of pairLayouts, per group.
func BenchmarkWinoPairs(b *testing.B) {
	needKernel(b)
	rng := rand.New(rand.NewPCG(1, 2))
	for _, l := range pairLayouts {
		vs := 8*l.n + 5
		x := normalInput(rng, (l.n-1)*l.step+l.off[3]+5*l.wp+12)
		v := make([]float32, 36*vs)
		y := make([]float32, len(x))
		for _, f := range []struct {
			name string
			run  func()
		}{
			{"input", func() { WinoInputF4Pairs(v, vs, x, l.wp, l.off, l.n, l.step) }},
			{"output", func() { WinoOutputF4Pairs(y, l.wp, v, vs, l.off, l.n, l.step, Epilogue{Relu: true}) }},
			{"grad", func() { WinoGradF4Pairs(v, vs, x, l.wp, l.off, l.n, l.step) }},
		} {
			b.Run(l.name+"/"+f.name, func(b *testing.B) {
				for range b.N {
					f.run()
				}
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*l.n), "ns/group")
			})
		}
	}
}

// normalInput returns n normal floats (no subnormals, whose arithmetic
// would be what the benchmarks time).
func normalInput(rng *rand.Rand, n int) []float32 {
	x := make([]float32, n)
	for i := range x {
		x[i] = float32(rng.NormFloat64())
	}
	return x
}
