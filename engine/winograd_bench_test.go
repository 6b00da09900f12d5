package engine

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/ferminets/fermi/ir"
)

// BenchmarkWinograd times the forward pass, filter gradient and input
// gradient (the adjoint convolution) of ResNet-20's 3×3 convolutions at
// batch 128 on one thread, as Winograd (F(4×4, 3×3) at 28×28, F(2×2, 3×3)
// at the others) and on convWide's
// padded im2col, with Blocked.
func BenchmarkWinograd(b *testing.B) {
	for _, s := range []struct{ c, hw int }{{16, 28}, {32, 14}, {64, 7}} {
		for _, path := range []string{"winograd", "wide"} {
			b.Run(fmt.Sprintf("c%d-%dx%d/%s", s.c, s.hw, s.hw, path), func(b *testing.B) {
				const batch = 128
				rng := rand.New(rand.NewPCG(1, 2))
				x := randT(rng, d(batch, int64(s.c), int64(s.hw), int64(s.hw)), -1, 1, 0)
				w := randT(rng, d(int64(s.c), int64(s.c), 3, 3), -1, 1, 0)
				dy := randT(rng, d(batch, int64(s.c), int64(s.hw), int64(s.hw)), -1, 1, 0)
				n := &ir.Node{Op: ir.OpConv, Attrs: []ir.Attr{ir.IntsAttr("pads", 1, 1, 1, 1)}}
				g, err := newGeom(n, []int{s.hw, s.hw}, []int{3, 3}, false)
				if err != nil {
					b.Fatal(err)
				}
				e := &Executor{cfg: config{threads: 1, kernels: testKernels[len(testKernels)-1]}, arena: newArena()}
				y := make([]float32, len(dy.F32))
				parts := make([][]float32, gradChunks)
				for i := range parts {
					parts[i] = make([]float32, len(w.F32))
				}
				dx := &ir.Tensor{DType: ir.Float32, Dims: x.Dims, F32: make([]float32, len(x.F32))}
				ga, _ := g.adjoint()
				wt := make([]float32, len(w.F32))
				flipKernels(wt, w.F32, s.c, s.c, 1, 9)
				b.ResetTimer()
				for range b.N {
					r := e.inRun()
					if path == "winograd" {
						convWinograd(r, x.F32, w.F32, nil, y, nil, nil, batch, s.c, s.c, g, false)
						convWinogradFilterGrad(r, x.F32, dy.F32, parts, batch, s.c, s.c, g)
						convWinograd(r, dy.F32, wt, nil, dx.F32, nil, nil, batch, s.c, s.c, ga, false)
					} else {
						convWide(r, x.F32, w.F32, nil, y, batch, s.c, s.c, 1, g, false)
						convWideBackward(r, x.F32, w.F32, dy.F32, nil, parts, batch, s.c, s.c, 1, g)
						convWide(r, dy.F32, wt, nil, dx.F32, batch, s.c, s.c, 1, ga, false)
					}
					r.rs.finish(nil)
				}
			})
		}
	}
}
