package passes_test

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/ferminets/fermi/crosscheck"
	"github.com/ferminets/fermi/onnxio"
	"github.com/ferminets/fermi/ortrun"
	"github.com/ferminets/fermi/passes"
	"github.com/ferminets/fermi/zoo"
)

// TestDefaultPipelineZoo runs the default pipeline on every network of the
// zoo (random BatchNorm statistics, so folding changes weights measurably;
// ImageNet networks at 3×64×64 to keep the engine fast) with verification
// after every pass, and checks equivalence in the engine.
func TestDefaultPipelineZoo(t *testing.T) {
	for _, name := range zoo.Names() {
		t.Run(name, func(t *testing.T) {
			opts := zoo.Options{Seed: 1, RandomBNStats: true}
			g0, err := zoo.Build(name, opts)
			if err != nil {
				t.Fatal(err)
			}
			if g0.Inputs[0].Shape[1].Size == 3 {
				if testing.Short() {
					t.Skip("ImageNet network in -short mode")
				}
				opts.InputShape = [3]int{3, 64, 64}
				if g0, err = zoo.Build(name, opts); err != nil {
					t.Fatal(err)
				}
			}
			g := passes.Clone(g0)
			if _, err := passes.Run(g, passes.Default(), passes.Options{VerifyEach: true}); err != nil {
				t.Fatal(err)
			}
			res, err := passes.CheckEquivalence(g0, g, passes.EquivOptions{Seed: 2, Tol: 1e-4})
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("%d → %d nodes, max rel error %.3g", len(g0.Nodes), len(g.Nodes), res.MaxRel)
		})
	}
}

// TestCompileTime measures import + default pipeline + export against ONNX
// Runtime's basic-level optimize-to-file of the same bytes, for the shared
// models and a ResNet-50 built from the IR. Timings on a shared machine are
// noisy, so each side takes the best of three runs.
func TestCompileTime(t *testing.T) {
	if testing.Short() {
		t.Skip("timing in -short mode")
	}
	ortrun.Require(t)
	type model struct {
		name string
		data []byte
	}
	var models []model
	for _, m := range sharedModels {
		data, err := os.ReadFile(filepath.Join(modelDir, m.file))
		if err != nil {
			t.Skip(err)
		}
		models = append(models, model{m.file, data})
	}
	r50, err := zoo.Build("resnet50", zoo.Options{Seed: 1, RandomBNStats: true})
	if err != nil {
		t.Fatal(err)
	}
	data, err := onnxio.Encode(r50, onnxio.WriteOptions{})
	if err != nil {
		t.Fatal(err)
	}
	models = append(models, model{"resnet50 (zoo)", data})
	dir := t.TempDir()
	for _, m := range models {
		ours, theirs := time.Duration(1<<62), time.Duration(1<<62)
		var nodes int
		for range 3 {
			start := time.Now()
			g, err := onnxio.Decode(m.data, onnxio.ReadOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := passes.Run(g, passes.Default(), passes.Options{}); err != nil {
				t.Fatal(err)
			}
			if _, err := onnxio.Encode(g, onnxio.WriteOptions{}); err != nil {
				t.Fatal(err)
			}
			ours = min(ours, time.Since(start))
			nodes = len(g.Nodes)

			start = time.Now()
			s, err := ortrun.NewSession(m.data, ortrun.Options{OptLevel: ortrun.OptBasic, OptimizedModelPath: filepath.Join(dir, "ort.onnx")})
			if err != nil {
				t.Fatal(err)
			}
			theirs = min(theirs, time.Since(start))
			s.Close()
		}
		t.Logf("%-30s ours %8v (%d nodes)  ORT basic optimize-to-file %8v", m.name, ours.Round(time.Millisecond), nodes, theirs.Round(time.Millisecond))
		if ours > theirs {
			t.Errorf("%s: import + default pipeline + export took %v, ORT's optimize-to-file %v", m.name, ours, theirs)
		}
	}
}

// TestResNet50ORT runs the default pipeline on a ResNet-50 built from the
// IR (random BatchNorm statistics) and compares original and result in
// ONNX Runtime at 224×224 (relative error ≤ 1e-4), with onnx.checker on
// the result.
func TestResNet50ORT(t *testing.T) {
	if testing.Short() {
		t.Skip("ResNet-50 in -short mode")
	}
	ortrun.Require(t)
	g, err := zoo.Build("resnet50", zoo.Options{Seed: 1, RandomBNStats: true})
	if err != nil {
		t.Fatal(err)
	}
	orig, err := onnxio.Encode(g, onnxio.WriteOptions{})
	if err != nil {
		t.Fatal(err)
	}
	n0 := len(g.Nodes)
	if _, err := passes.Run(g, passes.Default(), passes.Options{VerifyEach: true}); err != nil {
		t.Fatal(err)
	}
	opt, err := onnxio.Encode(g, onnxio.WriteOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := crosscheck.Check(opt); err != nil {
		t.Errorf("onnx.checker: %v", err)
	}
	in, err := ortrun.RandomModelInputs(orig, 3, 1)
	if err != nil {
		t.Fatal(err)
	}
	want, err := ortrun.Run(orig, in, ortrun.Options{OptLevel: ortrun.OptDisabled})
	if err != nil {
		t.Fatal(err)
	}
	got, err := ortrun.Run(opt, in, ortrun.Options{OptLevel: ortrun.OptDisabled})
	if err != nil {
		t.Fatal(err)
	}
	for name, w := range want {
		rel := passes.RelError(w, got[name])
		t.Logf("%d → %d nodes; ORT output %q max rel error %.3g", n0, len(g.Nodes), name, rel)
		if !(rel <= 1e-4) {
			t.Errorf("output %q: relative error %.3g", name, rel)
		}
	}
}
