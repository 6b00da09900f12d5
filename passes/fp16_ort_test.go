package passes_test

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"flag"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/ferminets/fermi/crosscheck"
	"github.com/ferminets/fermi/dataset"
	"github.com/ferminets/fermi/ir"
	"github.com/ferminets/fermi/onnxio"
	"github.com/ferminets/fermi/ortrun"
	"github.com/ferminets/fermi/passes"
	"github.com/ferminets/fermi/zoo"
)

var fp16JSON = flag.String("fp16-json", "", "TestFP16Models writes its measurements to this `file` (bench/results/fp16.json)")

// fp16ORTBound is the largest relative error (max |fp16 − fp32| / max
// |fp32| per output, passes.RelError) TestFP16Models allows between ONNX
// Runtime's outputs of the float32 model and of its fp16 conversion: the
// same bound as passes.FP16Tol, which the measured errors (a few 1e-3 at
// most) stay well below.
const fp16ORTBound = passes.FP16Tol

// fp16SizeBound is the largest fp16 file size allowed, as a fraction of the
// original float32 file.
const fp16SizeBound = 0.55

// fp16Result is one row of bench/results/fp16.json.
type fp16Result struct {
	Model            string   `json:"model"`
	Nodes            [2]int   `json:"nodes"` // original, after default pipeline + fp16
	Casts            int      `json:"casts"`
	FileBytesFP32    int      `json:"file_bytes_fp32"`
	FileBytesFP16    int      `json:"file_bytes_fp16"`
	SizeRatio        float64  `json:"size_ratio"`
	WeightBytes      [2]int64 `json:"weight_bytes"` // ir.Analyze before and after fp16
	EngineMaxRel     float64  `json:"engine_max_rel_error"`
	ORTRuns          bool     `json:"ort_runs"`
	ORTError         string   `json:"ort_error,omitempty"`
	ORTMaxRel        float64  `json:"ort_max_rel_error"`
	ORTMaxRelIO16    float64  `json:"ort_max_rel_error_io_fp16,omitempty"` // fp16{io=fp16}: float16 inputs and outputs
	ORTMaxRelContrib float64  `json:"ort_max_rel_error_contrib,omitempty"` // fp16 then fuse-contrib (fcompile --onnx-contrib): float16 FusedConv
	CheckerOK        *bool    `json:"onnx_checker_ok"`                     // null when the checker is unavailable
	AccuracyFP32     *float64 `json:"ort_test_accuracy_fp32,omitempty"`
	AccuracyFP16     *float64 `json:"ort_test_accuracy_fp16,omitempty"`
	AccuracySample   int      `json:"test_images,omitempty"`
}

// TestFP16Models converts the shared real models (and the zoo's ResNet-50
// with random weights) with the default pipeline followed by fp16, and
// checks in ONNX Runtime on the same random inputs (batch 2) that the
// outputs stay within fp16ORTBound relative error of the float32 model's,
// that the file is at most 55 % of the original, that onnx.checker
// full_check accepts it, and that the engine's simulation agrees within
// passes.FP16Tol. On fashion-resnet20 it also measures Fashion-MNIST test
// accuracy in ONNX Runtime, float32 versus float16 (not in -short mode).
// With -fp16-json FILE the figures are written to FILE.
func TestFP16Models(t *testing.T) {
	ortrun.Require(t)
	p := append(passes.Default(), mustParse(t, "fp16")...)
	var results []fp16Result
	type model struct {
		name  string
		large bool
		load  func() ([]byte, error)
	}
	var models []model
	for _, m := range sharedModels {
		models = append(models, model{m.file, m.large, func() ([]byte, error) { return os.ReadFile(filepath.Join(modelDir, m.file)) }})
	}
	models = append(models, model{"zoo resnet50 (random weights)", true, func() ([]byte, error) {
		g, err := zoo.Build("resnet50", zoo.Options{Seed: 1, RandomBNStats: true})
		if err != nil {
			return nil, err
		}
		return onnxio.Encode(g, onnxio.WriteOptions{})
	}})
	for _, m := range models {
		t.Run(m.name, func(t *testing.T) {
			if m.large && testing.Short() {
				t.Skip("large model in -short mode")
			}
			orig, err := m.load()
			if err != nil {
				t.Skip(err)
			}
			g, err := onnxio.Decode(orig, onnxio.ReadOptions{})
			if err != nil {
				t.Fatal(err)
			}
			before := passes.Clone(g)
			r := fp16Result{Model: m.name, FileBytesFP32: len(orig)}
			r.Nodes[0] = len(g.Nodes)
			if _, err := passes.Run(g, p[:len(p)-1], passes.Options{VerifyEach: true}); err != nil {
				t.Fatal(err)
			}
			if a, err := ir.Analyze(g); err == nil {
				r.WeightBytes[0] = a.WeightBytes
			}
			if _, err := passes.Run(g, p[len(p)-1:], passes.Options{VerifyEach: true}); err != nil {
				t.Fatal(err)
			}
			if a, err := ir.Analyze(g); err == nil {
				r.WeightBytes[1] = a.WeightBytes
			}
			r.Nodes[1] = len(g.Nodes)
			for _, n := range g.Nodes {
				if n.Op == ir.OpCast {
					r.Casts++
				}
			}
			data, err := onnxio.Encode(g, onnxio.WriteOptions{})
			if err != nil {
				t.Fatal(err)
			}
			r.FileBytesFP16 = len(data)
			r.SizeRatio = float64(len(data)) / float64(len(orig))
			if r.SizeRatio > fp16SizeBound {
				t.Errorf("fp16 file is %.1f%% of the original, want ≤ %.0f%%", 100*r.SizeRatio, 100*fp16SizeBound)
			}
			switch err := crosscheck.Check(data); {
			case errors.Is(err, crosscheck.ErrUnavailable):
				t.Logf("onnx.checker unavailable: %v", err)
			case err != nil:
				r.CheckerOK = new(bool)
				t.Errorf("onnx.checker: %v", err)
			default:
				ok := true
				r.CheckerOK = &ok
			}
			eq, err := passes.CheckEquivalence(before, g, passes.EquivOptions{Seed: 1, Batch: 2, Tol: passes.FP16Tol})
			if err != nil {
				t.Error(err)
			}
			if eq != nil {
				r.EngineMaxRel = eq.MaxRel
			}

			in, err := ortrun.RandomInputs(before, 7, 2)
			if err != nil {
				t.Fatal(err)
			}
			want, err := ortrun.Run(orig, in, ortrun.Options{})
			if err != nil {
				t.Fatal(err)
			}
			got, err := ortrun.Run(data, in, ortrun.Options{})
			if err != nil {
				r.ORTError = err.Error()
				t.Errorf("ORT cannot run the fp16 model: %v", err)
			} else {
				r.ORTRuns = true
				for name, w := range want {
					gt, ok := got[name]
					if !ok {
						t.Fatalf("ORT: output %q missing after fp16", name)
					}
					rel := passes.RelError(w, gt)
					if math.IsNaN(rel) || math.IsInf(rel, 0) {
						r.ORTMaxRel = math.Inf(1)
					} else {
						r.ORTMaxRel = max(r.ORTMaxRel, rel)
					}
					if !(rel <= fp16ORTBound) {
						t.Errorf("ORT: output %q: relative error %.3g > %g", name, rel, fp16ORTBound)
					}
				}
			}
			if m.name == "fashion-resnet20.onnx" {
				r.ORTMaxRelIO16 = fp16IO16(t, orig, in, want)
				r.ORTMaxRelContrib = fp16Contrib(t, orig, in, want)
			}
			if m.name == "fashion-resnet20.onnx" && !testing.Short() && r.ORTRuns {
				test, err := dataset.Load("fashion-mnist", "test", dataset.Options{})
				if err != nil {
					t.Logf("accuracy not measured: %v", err)
				} else {
					a32, a16 := accuracy(t, orig, test), accuracy(t, data, test)
					r.AccuracyFP32, r.AccuracyFP16, r.AccuracySample = &a32, &a16, test.N
					t.Logf("ORT test accuracy: fp32 %.2f%%, fp16 %.2f%%", 100*a32, 100*a16)
					if a16 < a32-0.002 {
						t.Errorf("fp16 accuracy %.2f%% is more than 0.2 points below fp32 %.2f%%", 100*a16, 100*a32)
					}
				}
			}
			t.Logf("%d → %d nodes (%d Casts), file %d → %d bytes (%.1f%%), weights %d → %d B, engine max rel %.3g, ORT max rel %.3g",
				r.Nodes[0], r.Nodes[1], r.Casts, r.FileBytesFP32, r.FileBytesFP16, 100*r.SizeRatio, r.WeightBytes[0], r.WeightBytes[1], r.EngineMaxRel, r.ORTMaxRel)
			results = append(results, r)
		})
	}
	if *fp16JSON != "" {
		v, _ := ortrun.Version()
		doc := map[string]any{
			"description": "fp16 conversion (default pipeline, then fp16 with float32 inputs/outputs) of the shared models and the zoo's ResNet-50: " +
				"ONNX Runtime (CPU EP, default optimizations) outputs of the fp16 model vs the float32 original on the same random inputs (batch 2, seed 7), " +
				"max relative error = max|fp16−fp32| / max|fp32| per output; file size ratio vs the original file; engine = the reference engine's float16 simulation vs float32",
			"command":             "go test ./passes -run TestFP16Models -args -fp16-json ../bench/results/fp16.json",
			"ort_version":         v,
			"ort_rel_error_bound": fp16ORTBound,
			"size_ratio_bound":    fp16SizeBound,
			"models":              results,
		}
		b, err := json.MarshalIndent(doc, "", "  ")
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(*fp16JSON, append(b, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// fp16IO16 converts the model with fp16{io=fp16} (input shapes frozen to
// in's), runs it in ONNX Runtime
// on inputs rounded to float16 and returns the largest relative error
// against want (the float32 model's outputs on the unrounded inputs).
func fp16IO16(t *testing.T, orig []byte, in, want map[string]*ir.Tensor) float64 {
	t.Helper()
	g, err := onnxio.Decode(orig, onnxio.ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	// ortrun needs static shapes for float16 outputs: freeze the inputs to
	// the shapes of in.
	var shapes []passes.InputShape
	for _, v := range g.Inputs {
		shapes = append(shapes, passes.InputShape{Name: v.Name, Dims: in[v.Name].Dims})
	}
	p, err := passes.WithInputShapes(append(passes.Default(), mustParse(t, "fp16{io=fp16}")...), shapes...)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := passes.Run(g, p, passes.Options{VerifyEach: true}); err != nil {
		t.Fatal(err)
	}
	for _, v := range append(append([]*ir.Value{}, g.Inputs...), g.Outputs...) {
		if v.DType != ir.Float16 {
			t.Errorf("io=fp16: %q is %v, want f16", v.Name, v.DType)
		}
	}
	data, err := onnxio.Encode(g, onnxio.WriteOptions{})
	if err != nil {
		t.Fatal(err)
	}
	in16 := make(map[string]*ir.Tensor)
	for name, x := range in {
		raw := make([]byte, 2*len(x.F32))
		for i, f := range x.F32 {
			binary.LittleEndian.PutUint16(raw[2*i:], ir.Float32ToHalf(f))
		}
		in16[name] = &ir.Tensor{DType: ir.Float16, Dims: x.Dims, Raw: raw}
	}
	got, err := ortrun.Run(data, in16, ortrun.Options{})
	if err != nil {
		t.Errorf("ORT cannot run the fp16{io=fp16} model: %v", err)
		return math.Inf(1)
	}
	worst := 0.0
	for name, w := range want {
		gt, ok := got[name]
		if !ok || gt.DType != ir.Float16 {
			t.Fatalf("io=fp16: output %q missing or not f16", name)
		}
		rel := passes.RelError(w, gt)
		if !(rel <= fp16ORTBound) {
			t.Errorf("io=fp16: ORT output %q: relative error %.3g > %g", name, rel, fp16ORTBound)
		}
		worst = max(worst, rel)
	}
	t.Logf("io=fp16: ORT max rel %.3g", worst)
	return worst
}

// fp16Contrib runs the default pipeline, fp16 and fuse-contrib (what
// fcompile --target jetson-nano --onnx-contrib does) and returns the
// largest relative error of ONNX Runtime's outputs against want: ONNX
// Runtime must run com.microsoft FusedConv in float16.
func fp16Contrib(t *testing.T, orig []byte, in, want map[string]*ir.Tensor) float64 {
	t.Helper()
	g, err := onnxio.Decode(orig, onnxio.ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	p := append(passes.Default(), mustParse(t, "fp16,fuse-contrib,dce")...)
	if _, err := passes.Run(g, p, passes.Options{VerifyEach: true}); err != nil {
		t.Fatal(err)
	}
	fused := 0
	for _, n := range g.Nodes {
		if n.OpType == "FusedConv" && n.Outputs[0].DType == ir.Float16 {
			fused++
		}
	}
	if fused == 0 {
		t.Error("fp16,fuse-contrib: no float16 FusedConv")
	}
	data, err := onnxio.Encode(g, onnxio.WriteOptions{})
	if err != nil {
		t.Fatal(err)
	}
	got, err := ortrun.Run(data, in, ortrun.Options{})
	if err != nil {
		t.Errorf("ORT cannot run fp16 with float16 FusedConv: %v", err)
		return math.Inf(1)
	}
	worst := 0.0
	for name, w := range want {
		rel := passes.RelError(w, got[name])
		if !(rel <= fp16ORTBound) {
			t.Errorf("fp16,fuse-contrib: ORT output %q: relative error %.3g > %g", name, rel, fp16ORTBound)
		}
		worst = max(worst, rel)
	}
	t.Logf("fp16,fuse-contrib: %d float16 FusedConv, ORT max rel %.3g", fused, worst)
	return worst
}
