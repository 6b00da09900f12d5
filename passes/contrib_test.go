package passes_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/ferminets/fermi/crosscheck"
	"github.com/ferminets/fermi/onnxio"
	"github.com/ferminets/fermi/ortrun"
	"github.com/ferminets/fermi/passes"
)

// TestFuseContribModels runs the default pipeline plus fuse-contrib (what
// fcompile --onnx-contrib does) on the shared models and checks, in ONNX
// Runtime with its own optimizations disabled, that the outputs match the
// original (relative error ≤ 1e-4), that onnx.checker accepts the model,
// and that the node count is at most what ONNX Runtime's extended-level
// optimizer leaves (measured here, written to a file and read back).
func TestFuseContribModels(t *testing.T) {
	ortrun.Require(t)
	p := append(passes.Default(), mustParse(t, "fuse-contrib,dce")...)
	dir := t.TempDir()
	for _, m := range sharedModels {
		t.Run(m.file, func(t *testing.T) {
			if m.large && testing.Short() {
				t.Skip("large model in -short mode")
			}
			orig, err := os.ReadFile(filepath.Join(modelDir, m.file))
			if err != nil {
				t.Skip(err)
			}
			g, err := onnxio.Decode(orig, onnxio.ReadOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := passes.Run(g, p, passes.Options{VerifyEach: true}); err != nil {
				t.Fatal(err)
			}
			data, err := onnxio.Encode(g, onnxio.WriteOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if err := crosscheck.Check(data); err != nil {
				t.Errorf("onnx.checker: %v", err)
			}
			ortPath := filepath.Join(dir, m.file)
			s, err := ortrun.NewSession(orig, ortrun.Options{OptLevel: ortrun.OptExtended, OptimizedModelPath: ortPath})
			if err != nil {
				t.Fatal(err)
			}
			s.Close()
			extData, err := os.ReadFile(ortPath)
			if err != nil {
				t.Fatal(err)
			}
			ext, err := crosscheck.Scan(extData)
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("%d nodes with FusedConv; ORT extended level: %d", len(g.Nodes), len(ext.Nodes))
			if len(g.Nodes) > len(ext.Nodes) {
				t.Errorf("%d nodes, ORT's extended level leaves %d", len(g.Nodes), len(ext.Nodes))
			}
			in, err := ortrun.RandomModelInputs(orig, 5, 2)
			if err != nil {
				t.Fatal(err)
			}
			want, err := ortrun.Run(orig, in, ortrun.Options{OptLevel: ortrun.OptDisabled})
			if err != nil {
				t.Fatal(err)
			}
			got, err := ortrun.Run(data, in, ortrun.Options{OptLevel: ortrun.OptDisabled})
			if err != nil {
				t.Fatal(err)
			}
			for name, w := range want {
				if rel := passes.RelError(w, got[name]); !(rel <= 1e-4) {
					t.Errorf("output %q: relative error %.3g", name, rel)
				}
			}
		})
	}
}

func mustParse(t *testing.T, s string) passes.Pipeline {
	t.Helper()
	p, err := passes.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return p
}
