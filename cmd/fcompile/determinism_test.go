package main

import (
	"bytes"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/ferminets/fermi/engine"
	"github.com/ferminets/fermi/internal/sharedmodels"
	"github.com/ferminets/fermi/ir"
	"github.com/ferminets/fermi/onnxio"
	"github.com/ferminets/fermi/passes"
	"github.com/ferminets/fermi/zoo"
)

// TestDeterministicOutput compiles each model twice with the same flags and
// expects byte-identical files: nothing in import, verification or export
// may depend on map order, timing or addresses.
func TestDeterministicOutput(t *testing.T) {
	models := []string{tinyCNN}
	if dir, ok := sharedmodels.Dir(); ok {
		for _, f := range []string{"fashion-lenet5.onnx", "fashion-resnet20.onnx", "mobilenet_v2-op13.onnx",
			"shufflenet_v2_x0_5-op13.onnx", "squeezenet1_1-op13.onnx"} {
			if p := filepath.Join(dir, f); fileExists(p) {
				models = append(models, p)
			}
		}
	} else {
		t.Log("shared models not found; checking tiny-cnn only")
	}
	flagSets := [][]string{{}, {"--opset", "13"}, {"--opset", "17"}}
	for _, model := range models {
		for _, flags := range flagSets {
			for _, ext := range []string{".onnx", ".fir"} {
				if ext == ".fir" && len(flags) > 0 {
					continue // --opset only affects ONNX output
				}
				name := filepath.Base(model) + ext
				for _, f := range flags {
					name += " " + f
				}
				t.Run(name, func(t *testing.T) {
					dir := t.TempDir()
					var outs [2][]byte
					for i := range outs {
						// The same file name in two directories: a .fir names its sidecar.
						out := filepath.Join(dir, string(rune('a'+i)), "out"+ext)
						if err := os.Mkdir(filepath.Dir(out), 0o755); err != nil {
							t.Fatal(err)
						}
						args := append([]string{model, "-o", out}, flags...)
						if code, _, stderr := run(t, args...); code != 0 {
							t.Fatalf("exit %d: %s", code, stderr)
						}
						b, err := os.ReadFile(out)
						if err != nil {
							t.Fatal(err)
						}
						outs[i] = b
					}
					if !bytes.Equal(outs[0], outs[1]) {
						t.Errorf("two runs wrote different files (%d and %d bytes, first difference at byte %d)",
							len(outs[0]), len(outs[1]), firstDiff(outs[0], outs[1]))
					}
				})
			}
		}
	}
}

// TestDeterministicPipeline runs the default pass pipeline twice on fresh
// imports of each model and expects byte-identical ONNX.
func TestDeterministicPipeline(t *testing.T) {
	dir := sharedmodels.Require(t)
	for _, f := range []string{"fashion-lenet5.onnx", "fashion-resnet20.onnx", "squeezenet1_1-op13.onnx"} {
		t.Run(f, func(t *testing.T) {
			var outs [2][]byte
			for i := range outs {
				g, err := onnxio.ReadFile(filepath.Join(dir, f))
				if err != nil {
					t.Fatal(err)
				}
				if _, err := passes.Run(g, passes.Default(), passes.Options{VerifyEach: true}); err != nil {
					t.Fatal(err)
				}
				if outs[i], err = onnxio.Encode(g, onnxio.WriteOptions{}); err != nil {
					t.Fatal(err)
				}
			}
			t.Logf("pipeline %v: %d bytes", passes.Default(), len(outs[0]))
			if !bytes.Equal(outs[0], outs[1]) {
				t.Errorf("two runs of %v gave different ONNX (first difference at byte %d)", passes.Default(), firstDiff(outs[0], outs[1]))
			}
		})
	}
}

// TestEngineThreadsBitIdentical runs zoo networks with 1 and with 2 threads
// on the same seeded batch and expects bit-identical outputs.
func TestEngineThreadsBitIdentical(t *testing.T) {
	for _, name := range []string{"resnet20", "mobilenetv2"} {
		t.Run(name, func(t *testing.T) {
			g, err := zoo.Build(name, zoo.Options{Seed: 1, RandomBNStats: true})
			if err != nil {
				t.Fatal(err)
			}
			in := g.Inputs[0]
			dims := []int64{4}
			for _, d := range in.Shape[1:] {
				dims = append(dims, d.Size)
			}
			x := ir.NewFloat32(dims, make([]float32, ir.NumElements(dims)))
			rng := rand.New(rand.NewPCG(7, 7))
			for i := range x.F32 {
				x.F32[i] = float32(rng.NormFloat64())
			}
			var outs [2][]*ir.Tensor
			for i, threads := range []int{1, 2} {
				ex, err := engine.New(g, engine.WithThreads(threads))
				if err != nil {
					t.Fatal(err)
				}
				if outs[i], err = ex.Run(map[string]*ir.Tensor{in.Name: x}); err != nil {
					t.Fatal(err)
				}
			}
			for k := range outs[0] {
				a, b := outs[0][k].F32, outs[1][k].F32
				if len(a) != len(b) || len(a) == 0 {
					t.Fatalf("output %d: %d and %d elements", k, len(a), len(b))
				}
				for j := range a {
					if math.Float32bits(a[j]) != math.Float32bits(b[j]) {
						t.Fatalf("output %d[%d]: %v with 1 thread, %v with 2", k, j, a[j], b[j])
					}
				}
			}
		})
	}
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// firstDiff returns the index of the first byte where a and b differ.
func firstDiff(a, b []byte) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}
