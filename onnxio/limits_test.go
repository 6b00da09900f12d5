package onnxio

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestReadFileWithMaxBytes checks that MaxBytes bounds the model file (before
// it is read) and the model plus its external data, and that files without a
// size (devices, pipes) are read up to the limit.
func TestReadFileWithMaxBytes(t *testing.T) {
	dir := t.TempDir()
	data := make([]byte, 16)
	if err := os.WriteFile(filepath.Join(dir, "w.bin"), data, 0o644); err != nil {
		t.Fatal(err)
	}
	model := externalModel(t, map[string]string{"location": "w.bin"})
	path := filepath.Join(dir, "m.onnx")
	if err := os.WriteFile(path, model, 0o644); err != nil {
		t.Fatal(err)
	}
	n := int64(len(model))
	tests := []struct {
		path     string
		maxBytes int64
		want     string // "" for success
	}{
		{path, 0, ""},
		{path, n + 16, ""},
		{path, n + 15, "external data exceeds the size limit"},
		{path, n, "external data exceeds the size limit"},
		{path, n - 1, "more than the limit of"},
		{path, 1, "more than the limit of 1"},
		{os.DevNull, 0, "onnxio: empty file"},
		{os.DevNull, 10, "onnxio: empty file"},
		{filepath.Join(dir, "absent.onnx"), 0, "no such file"},
		{"/dev/zero", 1000, "more than the limit of 1000"},
	}
	for _, tt := range tests {
		_, err := ReadFileWith(tt.path, ReadOptions{MaxBytes: tt.maxBytes})
		switch {
		case tt.want == "" && err != nil:
			t.Errorf("%s with MaxBytes %d: %v", tt.path, tt.maxBytes, err)
		case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
			t.Errorf("%s with MaxBytes %d: got %v, want %q", tt.path, tt.maxBytes, err, tt.want)
		}
	}
}
