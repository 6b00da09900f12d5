package simd

import (
	"math/rand/v2"
	"os"
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
		if os.Getenv("WP") != "" {
			wp = 32
		}
		vs := 16 * (4*tw*tw + 40)
		x := vecInput(rng, (s.r*tw+2)*wp+s.r*winoChunks(tw)+8)
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
