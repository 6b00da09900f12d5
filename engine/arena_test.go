package engine

import (
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"testing"

	"github.com/ferminets/fermi/ir"
	"github.com/ferminets/fermi/zoo"
)

// arenaNets are the networks the buffer-reuse tests run: plain, residual,
// depthwise/grouped and squeeze-excitation (Mul, HardSwish) convolutions.
var arenaNets = []struct {
	arch string
	opts zoo.Options
}{
	{"lenet5", zoo.Options{Seed: 3}},
	{"resnet20", zoo.Options{Seed: 3, Width: 0.5, RandomBNStats: true}},
	{"mobilenetv2", zoo.Options{Seed: 3, Width: 0.5, RandomBNStats: true}},
	{"mobilenetv3-small", zoo.Options{Seed: 3, Width: 0.5, InputShape: [3]int{3, 32, 32}, RandomBNStats: true}},
}

// poisoned runs f with every buffer given back to an arena overwritten by
// NaNs.
func poisoned(t *testing.T, f func()) {
	t.Helper()
	poisonArena = true
	defer func() { poisonArena = false }()
	f()
}

func arenaBatch(t *testing.T, g *ir.Graph, n int, seed uint64) (*ir.Tensor, []uint8) {
	t.Helper()
	in := g.Inputs[0]
	dims := []int64{int64(n)}
	for _, s := range in.Shape[1:] {
		dims = append(dims, s.Size)
	}
	rng := rand.New(rand.NewPCG(seed, 7))
	x := randT(rng, dims, -1, 1, 0)
	labels := make([]uint8, n)
	for i := range labels {
		labels[i] = uint8(rng.IntN(10))
	}
	return x, labels
}

func sameBits(a, b []float32) bool {
	return slices.EqualFunc(a, b, func(x, y float32) bool { return math.Float32bits(x) == math.Float32bits(y) })
}

// TestArenaRunMatchesRunAll checks that Run, which recycles buffers across
// nodes and calls, returns the bits RunAll (no recycling) returns, call
// after call, with recycled buffers poisoned.
func TestArenaRunMatchesRunAll(t *testing.T) {
	for _, nw := range arenaNets {
		t.Run(nw.arch, func(t *testing.T) {
			g, err := zoo.Build(nw.arch, nw.opts)
			if err != nil {
				t.Fatal(err)
			}
			for _, k := range testKernels {
				ex, err := New(g, WithKernels(k), WithThreads(2))
				if err != nil {
					t.Fatal(err)
				}
				poisoned(t, func() {
					for call, n := range []int{3, 3, 2, 3} { // a batch-size change in between
						x, _ := arenaBatch(t, g, n, uint64(call))
						feed := map[string]*ir.Tensor{g.Inputs[0].Name: x}
						all, err := ex.RunAll(feed)
						if err != nil {
							t.Fatal(err)
						}
						want := slices.Clone(all[g.Outputs[0].Name].F32)
						out, err := ex.Run(feed)
						if err != nil {
							t.Fatal(err)
						}
						if !sameBits(out[0].F32, want) {
							t.Fatalf("%T call %d: Run %v, RunAll %v", k, call, out[0].F32[:4], want[:4])
						}
					}
				})
			}
		})
	}
}

// TestArenaTrainingMatchesFresh checks that training steps that recycle
// buffers (poisoned when recycled) produce the losses and parameters of a
// trainer whose every buffer is fresh, bit for bit, with 1 and 2 threads.
func TestArenaTrainingMatchesFresh(t *testing.T) {
	for _, nw := range arenaNets {
		t.Run(nw.arch, func(t *testing.T) {
			run := func(threads int, fresh bool) ([]float64, map[string][]float32) {
				g, err := zoo.Build(nw.arch, nw.opts)
				if err != nil {
					t.Fatal(err)
				}
				tr, err := NewTrainer(g, TrainConfig{LR: 0.05, Momentum: 0.9, Nesterov: true, WeightDecay: 5e-4, Threads: threads})
				if err != nil {
					t.Fatal(err)
				}
				if fresh {
					tr.exec.arena = nil
				}
				var losses []float64
				for s := 0; s < 3; s++ {
					x, labels := arenaBatch(t, g, 4, uint64(s))
					loss, err := tr.Step(x, labels)
					if err != nil {
						t.Fatal(err)
					}
					losses = append(losses, loss)
				}
				params := map[string][]float32{}
				for _, p := range g.Params {
					if p.Const != nil && p.Const.DType == ir.Float32 {
						params[p.Name] = slices.Clone(p.Const.F32)
					}
				}
				return losses, params
			}
			wantLoss, wantParams := run(1, true)
			for _, threads := range []int{1, 2} {
				var loss []float64
				var params map[string][]float32
				poisoned(t, func() { loss, params = run(threads, false) })
				if !slices.Equal(loss, wantLoss) {
					t.Errorf("threads %d: losses %v, fresh buffers %v", threads, loss, wantLoss)
				}
				for name, w := range wantParams {
					if !sameBits(params[name], w) {
						t.Errorf("threads %d: parameter %q differs from the fresh-buffer run", threads, name)
					}
				}
			}
		})
	}
}

// stepBytes returns the bytes a training step of arch allocates once warm,
// with and without buffer reuse.
func stepBytes(t *testing.T, arch string, batch int, fresh bool) uint64 {
	t.Helper()
	g, err := zoo.Build(arch, zoo.Options{Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	tr, err := NewTrainer(g, TrainConfig{LR: 0.01, Momentum: 0.9, Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	if fresh {
		tr.exec.arena = nil
	}
	x, labels := arenaBatch(t, g, batch, 1)
	for i := 0; i < 2; i++ { // warm up the arena
		if _, err := tr.Step(x, labels); err != nil {
			t.Fatal(err)
		}
	}
	const steps = 3
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for i := 0; i < steps; i++ {
		if _, err := tr.Step(x, labels); err != nil {
			t.Fatal(err)
		}
	}
	runtime.ReadMemStats(&after)
	return (after.TotalAlloc - before.TotalAlloc) / steps
}

// TestArenaStepAllocations checks that buffer reuse cuts the bytes a warm
// training step allocates at least tenfold.
func TestArenaStepAllocations(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts are meaningless under the race detector (sync.Pool drops buffers at random)")
	}
	for _, arch := range []string{"lenet5", "resnet20"} {
		fresh, reused := stepBytes(t, arch, 16, true), stepBytes(t, arch, 16, false)
		t.Logf("%s batch 16: %d bytes per step fresh, %d with reuse", arch, fresh, reused)
		if reused*10 > fresh {
			t.Errorf("%s: %d bytes per step with reuse, want at most a tenth of %d", arch, reused, fresh)
		}
	}
}
