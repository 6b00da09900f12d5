package engine_test

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/ferminets/fermi/dataset"
	"github.com/ferminets/fermi/engine"
	"github.com/ferminets/fermi/internal/sharedmodels"
	"github.com/ferminets/fermi/ir"
	"github.com/ferminets/fermi/onnxio"
	"github.com/ferminets/fermi/onnxio/backendtest"
	"github.com/ferminets/fermi/ortrun"
)

// TestModelsAgainstORT runs the shared real models in the engine and in ONNX
// Runtime on the same seeded random batch and compares every output
// (rtol 1e-3, atol 1e-4: deep nets sum float32 rounding over many layers).
// The 224×224 ImageNet models run only without -short.
func TestModelsAgainstORT(t *testing.T) {
	ortrun.Require(t)
	models := []struct {
		file  string
		large bool
	}{
		{"fashion-lenet5.onnx", false},
		{"fashion-resnet20.onnx", false},
		{"shufflenet_v2_x0_5-op13.onnx", false},
		{"mobilenet_v2-op13.onnx", true},
		{"squeezenet1_1-op13.onnx", true},
	}
	for _, m := range models {
		t.Run(m.file, func(t *testing.T) {
			if m.large && testing.Short() {
				t.Skip("large model in -short mode")
			}
			path := sharedmodels.Path(t, m.file)
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			g, err := onnxio.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			in, err := ortrun.RandomInputs(g, 1, 2)
			if err != nil {
				t.Fatal(err)
			}
			e, err := engine.New(g)
			if err != nil {
				t.Fatal(err)
			}
			start := time.Now()
			got, err := e.Run(in)
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("engine: %v for batch 2", time.Since(start).Round(time.Millisecond))
			want, err := ortrun.Run(data, in, ortrun.Options{})
			if err != nil {
				t.Fatal(err)
			}
			for i, v := range g.Outputs {
				if msg := backendtest.CloseTo(got[i], want[v.Name], 1e-3, 1e-4); msg != "" {
					t.Errorf("output %q: %s", v.Name, msg)
				}
			}
		})
	}
}

// TestFashionLeNetAccuracy evaluates fashion-lenet5 on the 10,000 Fashion-MNIST
// test images with the README's preprocessing; ONNX Runtime scores 91.41 %.
// Float rounding may flip a borderline image, so ±2 images are accepted.
func TestFashionLeNetAccuracy(t *testing.T) {
	if testing.Short() {
		t.Skip("10,000 images in -short mode")
	}
	set, err := dataset.Load("fashion-mnist", "test", dataset.Options{})
	if err != nil {
		requireTestData(t, err.Error())
	}
	g, err := onnxio.ReadFile(sharedmodels.Path(t, "fashion-lenet5.onnx"))
	if err != nil {
		t.Fatal(err)
	}
	e, err := engine.New(g)
	if err != nil {
		t.Fatal(err)
	}
	const batch = 500
	correct := 0
	for lo := 0; lo < set.N; lo += batch {
		n := min(batch, set.N-lo)
		x := ir.NewFloat32([]int64{int64(n), 1, 28, 28}, make([]float32, n*784))
		for i, p := range set.Pixels[lo*784 : (lo+n)*784] {
			x.F32[i] = (float32(p)/255 - 0.2860) / 0.3530
		}
		out, err := e.Run(map[string]*ir.Tensor{g.Inputs[0].Name: x})
		if err != nil {
			t.Fatal(err)
		}
		logits := out[0].F32
		for i := 0; i < n; i++ {
			row := logits[i*10 : (i+1)*10]
			best := 0
			for j, v := range row {
				if v > row[best] {
					best = j
				}
			}
			if best == int(set.Labels[lo+i]) {
				correct++
			}
		}
	}
	t.Logf("fashion-lenet5: %d of %d correct (%.2f %%)", correct, set.N, 100*float64(correct)/float64(set.N))
	if set.N != 10000 || correct < 9141-2 || correct > 9141+2 {
		t.Errorf("%d of %d correct, want 9141 of 10000 (ONNX Runtime's 91.41 %%)", correct, set.N)
	}
}

func benchmarkModel(b *testing.B, file string, batch int64) {
	dir, ok := sharedmodels.Dir()
	if !ok {
		b.Skip("shared models not found")
	}
	g, err := onnxio.ReadFile(filepath.Join(dir, file))
	if err != nil {
		b.Skip(err)
	}
	in, err := ortrun.RandomInputs(g, 1, batch)
	if err != nil {
		b.Fatal(err)
	}
	e, err := engine.New(g)
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := e.Run(in); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkResNet20 runs fashion-resnet20 on a batch of 8 (31 M MACs per image).
func BenchmarkResNet20(b *testing.B) { benchmarkModel(b, "fashion-resnet20.onnx", 8) }

// BenchmarkShuffleNet runs shufflenet_v2_x0_5 on one 224×224 image (40 M MACs).
func BenchmarkShuffleNet(b *testing.B) { benchmarkModel(b, "shufflenet_v2_x0_5-op13.onnx", 1) }
