package engine

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/ferminets/fermi/ir"
)

// BenchmarkBatchNormTrain times a training-mode BatchNormalization forward
// and backward pass on ResNet-20's activation shapes at batch 128, with
// and without a folded Relu.
func BenchmarkBatchNormTrain(b *testing.B) {
	for _, dims := range [][]int64{{128, 16, 28, 28}, {128, 64, 7, 7}} {
		for _, relu := range []bool{false, true} {
			b.Run(fmt.Sprintf("%v/relu=%v", dims, relu), func(b *testing.B) {
				rng := rand.New(rand.NewPCG(1, 2))
				c := dims[1]
				in := []*ir.Tensor{randT(rng, dims, -2, 2, 0), randT(rng, d(c), 0.5, 1.5, 0),
					randT(rng, d(c), -1, 1, 0), randT(rng, d(c), -1, 1, 0), randT(rng, d(c), 0.5, 1.5, 0)}
				dy := randT(rng, dims, -1, 1, 0)
				n := &ir.Node{Name: "bn", Op: ir.OpBatchNorm, Attrs: []ir.Attr{ir.IntAttr("training_mode", 1)}}
				e := (&Executor{cfg: config{threads: 2, kernels: Gonum{}}, arena: newArena()})
				need := []bool{true, true, true, false, false}
				b.SetBytes(int64(4 * in[0].Len()))
				for i := 0; i < b.N; i++ {
					r := e.inRun()
					out, err := batchNormTrainRelu(r, n, in, relu)
					if err != nil {
						b.Fatal(err)
					}
					if _, err := batchNormBackwardRelu(r, n, in, out, []*ir.Tensor{dy}, need, relu); err != nil {
						b.Fatal(err)
					}
					r.rs.finish(nil)
				}
			})
		}
	}
}
