package synth

import (
	"context"
	"fmt"
	"testing"
)

// Benchmark sizes: networks per cycle and fine-tune steps per network.
const (
	tinyPerCycle, tinySteps   = 4, 8
	smallPerCycle, smallSteps = 8, 40
)

// benchmarkCycle times whole runs of one cycle (generate, probe, update,
// checkpoint) on 2,000 MNIST training images.
func benchmarkCycle(b *testing.B, perCycle, steps int) {
	cfg := tinyConfig()
	cfg.Cycles, cfg.PerCycle, cfg.Steps, cfg.Final = 1, perCycle, steps, 0
	cfg.Requirements.MaxMACs, cfg.Requirements.MaxParams = 0, 0 // train every network
	for i := 0; b.Loop(); i++ {
		if _, err := Run(context.Background(), fmt.Sprintf("%s/%d", b.TempDir(), i), cfg, nopRecorder{}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkCycle_Tiny(b *testing.B)  { benchmarkCycle(b, tinyPerCycle, tinySteps) }
func BenchmarkCycle_Small(b *testing.B) { benchmarkCycle(b, smallPerCycle, smallSteps) }
