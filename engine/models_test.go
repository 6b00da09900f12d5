package engine_test

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/ferminets/fermi/engine"
	"github.com/ferminets/fermi/onnxio"
	"github.com/ferminets/fermi/ortrun"
)

// modelDir holds real third-party models (see its README).
const modelDir = "/work/shared/models"

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
			path := filepath.Join(modelDir, m.file)
			data, err := os.ReadFile(path)
			if err != nil {
				t.Skip(err)
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
				if msg := closeTo(got[i], want[v.Name], 1e-3, 1e-4); msg != "" {
					t.Errorf("output %q: %s", v.Name, msg)
				}
			}
		})
	}
}
