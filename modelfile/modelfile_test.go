package modelfile

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestLoadWithMaxBytes checks the size limit for both formats and that a
// .fir model is verified on load.
func TestLoadWithMaxBytes(t *testing.T) {
	const tiny = "../testdata/ir/tiny-cnn.fir"
	g, err := Load(tiny)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	onnxPath := filepath.Join(dir, "tiny.onnx")
	if err := Save(g, onnxPath, SaveOptions{}); err != nil {
		t.Fatal(err)
	}
	invalid := filepath.Join(dir, "invalid.fir")
	src := "graph @g(%x: f32[1,4]) {\n  %y = Relu(%x) : f32[1,5]\n  return %y\n}\n"
	if err := os.WriteFile(invalid, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	size := func(p string) int64 {
		st, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		return st.Size()
	}
	tests := []struct {
		path     string
		maxBytes int64
		want     string // "" for success
	}{
		{tiny, 0, ""},
		{tiny, size(tiny), ""},
		{tiny, size(tiny) - 1, "more than the limit of"},
		{onnxPath, size(onnxPath), ""},
		{onnxPath, size(onnxPath) - 1, "more than the limit of"},
		{invalid, 0, `has shape [1,5], inferred [1,4]`},
	}
	for _, tt := range tests {
		_, err := LoadWith(tt.path, LoadOptions{MaxBytes: tt.maxBytes})
		switch {
		case tt.want == "" && err != nil:
			t.Errorf("%s with MaxBytes %d: %v", tt.path, tt.maxBytes, err)
		case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want) || !strings.HasPrefix(err.Error(), tt.path)):
			t.Errorf("%s with MaxBytes %d: got %v, want %q after the path", tt.path, tt.maxBytes, err, tt.want)
		}
	}
}
