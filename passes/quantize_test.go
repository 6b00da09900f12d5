package passes_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ferminets/fermi/crosscheck"
	"github.com/ferminets/fermi/dataset"
	"github.com/ferminets/fermi/ir"
	"github.com/ferminets/fermi/onnxio"
	"github.com/ferminets/fermi/ortrun"
	"github.com/ferminets/fermi/passes"
)

// TestQuantizeResNet20 quantizes fashion-resnet20 with Fashion-MNIST
// calibration and checks, in ONNX Runtime on the 10,000 test images, that
// accuracy stays ≥ 94.0 % (94.44 % in fp32), and that the file is at most
// 35 % of the fp32 file.
func TestQuantizeResNet20(t *testing.T) {
	if testing.Short() {
		t.Skip("full test set in -short mode")
	}
	ortrun.Require(t)
	path := filepath.Join(modelDir, "fashion-resnet20.onnx")
	fp32, err := os.ReadFile(path)
	if err != nil {
		t.Skip(err)
	}
	test, err := dataset.Load("fashion-mnist", "test", dataset.Options{})
	if err != nil {
		t.Skip(err)
	}
	g, err := onnxio.Decode(fp32, onnxio.ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	p, err := passes.Parse("simplify,fold-bn,quantize{calib=fashion-mnist},simplify")
	if err != nil {
		t.Fatal(err)
	}
	st, err := passes.Run(g, p, passes.Options{VerifyEach: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("pipeline %v", st.Total)
	q, err := onnxio.Encode(g, onnxio.WriteOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := crosscheck.Check(q); err != nil {
		t.Errorf("onnx.checker: %v", err)
	}
	ratio := float64(len(q)) / float64(len(fp32))
	t.Logf("file %d → %d bytes (%.1f%%)", len(fp32), len(q), 100*ratio)
	if ratio > 0.35 {
		t.Errorf("quantized file is %.1f%% of the fp32 file, want ≤ 35%%", 100*ratio)
	}
	accFP := accuracy(t, fp32, test)
	accQ := accuracy(t, q, test)
	t.Logf("ORT test accuracy: fp32 %.2f%%, int8 QDQ %.2f%%", 100*accFP, 100*accQ)
	if accQ < 0.94 {
		t.Errorf("int8 accuracy %.2f%%, want ≥ 94.0%%", 100*accQ)
	}
}

func accuracy(t *testing.T, model []byte, s *dataset.Set) float64 {
	t.Helper()
	sess, err := ortrun.NewSession(model, ortrun.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer sess.Close()
	norm := dataset.DefaultNormalization("fashion-mnist")
	const bs = 500
	correct := 0
	for i := 0; i < s.N; i += bs {
		k := min(bs, s.N-i)
		idx := make([]int, k)
		for j := range idx {
			idx[j] = i + j
		}
		data := make([]float32, k*s.ImageSize())
		s.Batch(idx, norm, data)
		out, err := sess.Run(map[string]*ir.Tensor{"input": ir.NewFloat32([]int64{int64(k), 1, 28, 28}, data)})
		if err != nil {
			t.Fatal(err)
		}
		y := out["logits"]
		for j := 0; j < k; j++ {
			row := y.F32[j*10 : (j+1)*10]
			best := 0
			for c := range row {
				if row[c] > row[best] {
					best = c
				}
			}
			if best == int(s.Labels[i+j]) {
				correct++
			}
		}
	}
	return float64(correct) / float64(s.N)
}

// TestQuantizeModels quantizes the other shared models with random
// calibration and checks they stay valid and ONNX Runtime runs them, with
// outputs close to the float model's (relative error ≤ 0.2: random
// calibration and untrained weights make this a smoke test, not an
// accuracy test).
func TestQuantizeModels(t *testing.T) {
	for _, m := range sharedModels {
		t.Run(m.file, func(t *testing.T) {
			if m.large && testing.Short() {
				t.Skip("large model in -short mode")
			}
			g, err := onnxio.ReadFile(filepath.Join(modelDir, m.file))
			if err != nil {
				t.Skip(err)
			}
			before := passes.Clone(g)
			p, err := passes.Parse("simplify,fold-bn,quantize{calib=random,samples=4},simplify")
			if err != nil {
				t.Fatal(err)
			}
			if _, err := passes.Run(g, p, passes.Options{VerifyEach: true}); err != nil {
				t.Fatal(err)
			}
			res, err := passes.CheckEquivalence(before, g, passes.EquivOptions{Seed: 9, Tol: 0.2})
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("engine: max rel error %.3g", res.MaxRel)
			data, err := onnxio.Encode(g, onnxio.WriteOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if err := crosscheck.Check(data); err != nil {
				t.Errorf("onnx.checker: %v", err)
			}
			if ortrun.Available() == nil {
				in, err := passes.RandomInputs(g, 1, 2)
				if err != nil {
					t.Fatal(err)
				}
				if _, err := ortrun.Run(data, in, ortrun.Options{}); err != nil {
					t.Errorf("ORT: %v", err)
				}
			}
		})
	}
}

func TestQuantizeErrors(t *testing.T) {
	b := ir.NewBuilder("g")
	x := b.Input("x", ir.Float32, ir.Shape{ir.Sym("N"), ir.D(3), ir.D(8), ir.D(8)})
	w := b.Param("w", ir.NewFloat32([]int64{2, 3, 1, 1}, []float32{1, 2, 3, 4, 5, 6}))
	b.Output(b.Node(ir.OpConv, "c", []*ir.Value{x, w}, ir.IntsAttr("kernel_shape", 1, 1)))
	g, err := b.Build()
	if err != nil {
		t.Fatal(err)
	}
	p, err := passes.Parse("quantize{calib=fashion-mnist}")
	if err != nil {
		t.Fatal(err)
	}
	_, err = passes.Run(g, p, passes.Options{VerifyEach: true})
	if err == nil || !strings.Contains(err.Error(), `pass quantize: quantize: input "x" has shape [N,3,8,8]`) {
		t.Errorf("error %v", err)
	}
	b = ir.NewBuilder("h")
	x = b.Input("x", ir.Float32, ir.Shape{ir.D(2)})
	b.Output(b.Node(ir.OpRelu, "r", []*ir.Value{x}))
	if g, err = b.Build(); err != nil {
		t.Fatal(err)
	}
	if p, err = passes.Parse("quantize{calib=random}"); err != nil {
		t.Fatal(err)
	}
	if _, err = passes.Run(g, p, passes.Options{}); err == nil || !strings.Contains(err.Error(), "no Conv, Gemm or MatMul") {
		t.Errorf("error %v", err)
	}
}
