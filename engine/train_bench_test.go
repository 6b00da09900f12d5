package engine

import (
	"math/rand/v2"
	"testing"

	"github.com/ferminets/fermi/zoo"
)

// benchTrainBatch is the batch of the training benchmarks (BENCHMARK.md B).
const benchTrainBatch = 128

// benchmarkTrainStep times one SGD step of a zoo network on a random
// batch and reports images per second, with the last of testKernels
// (OpenBLAS when built with the openblas tag).
func benchmarkTrainStep(b *testing.B, arch string) {
	g, err := zoo.Build(arch, zoo.Options{})
	if err != nil {
		b.Fatal(err)
	}
	tr, err := NewTrainer(g, TrainConfig{LR: 0.01, Momentum: 0.9, Nesterov: true, WeightDecay: 5e-4, Kernels: testKernels[len(testKernels)-1]})
	if err != nil {
		b.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	x := randT(rng, d(benchTrainBatch, 1, 28, 28), -1, 1, 0)
	labels := make([]uint8, benchTrainBatch)
	for i := range labels {
		labels[i] = uint8(rng.IntN(10))
	}
	if _, err := tr.Step(x, labels); err != nil { // warm-up: fills the buffer arena
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := CPUTime()
	for i := 0; i < b.N; i++ {
		if _, err := tr.Step(x, labels); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*benchTrainBatch)/b.Elapsed().Seconds(), "img/s")
	b.ReportMetric(float64(CPUTime()-cpu0)/1e6/float64(b.N), "cpu-ms/op")
}

func BenchmarkTrainStep_LeNet5(b *testing.B)      { benchmarkTrainStep(b, "lenet5") }
func BenchmarkTrainStep_ResNet20(b *testing.B)    { benchmarkTrainStep(b, "resnet20") }
func BenchmarkTrainStep_MobileNetV2(b *testing.B) { benchmarkTrainStep(b, "mobilenetv2") }
