package engine_test

import (
	"testing"

	"github.com/ferminets/fermi/engine"
	"github.com/ferminets/fermi/ortrun"
	"github.com/ferminets/fermi/passes"
	"github.com/ferminets/fermi/zoo"
)

// benchInferBatch is the batch of the inference benchmarks (BENCHMARK.md B).
const benchInferBatch = 256

// benchmarkInfer times Executor.Run on a zoo network after the default pass
// pipeline, as bench/enginebench does, and reports images per second.
func benchmarkInfer(b *testing.B, arch string) {
	g, err := zoo.Build(arch, zoo.Options{Seed: 1})
	if err != nil {
		b.Fatal(err)
	}
	if _, err := passes.Run(g, passes.Default(), passes.Options{}); err != nil {
		b.Fatal(err)
	}
	in, err := ortrun.RandomInputs(g, 1, benchInferBatch)
	if err != nil {
		b.Fatal(err)
	}
	ex, err := engine.New(g, engine.WithKernels(engine.BenchKernels))
	if err != nil {
		b.Fatal(err)
	}
	if _, err := ex.Run(in); err != nil { // warm-up: fills the buffer arena
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := engine.CPUTime()
	for i := 0; i < b.N; i++ {
		if _, err := ex.Run(in); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*benchInferBatch)/b.Elapsed().Seconds(), "img/s")
	b.ReportMetric(float64(engine.CPUTime()-cpu0)/1e6/float64(b.N), "cpu-ms/op")
}

func BenchmarkInfer_ResNet20(b *testing.B) { benchmarkInfer(b, "resnet20") }
func BenchmarkInfer_LeNet5(b *testing.B)   { benchmarkInfer(b, "lenet5") }
