package onnxio

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// FuzzDecodeTensor checks that DecodeTensor (the .pb inputs of fcompile run)
// never panics, that what it accepts holds as many elements as its dims
// declare, and that it encodes and decodes to the same encoding. Seeds:
// input files of the ONNX backend node tests.
func FuzzDecodeTensor(f *testing.F) {
	dirs, _ := filepath.Glob("/usr/share/libonnx-testdata/data/node/test_*/test_data_set_0")
	for i, d := range dirs {
		if i%40 != 0 {
			continue // a spread of a couple of dozen ops and dtypes
		}
		if b, err := os.ReadFile(filepath.Join(d, "input_0.pb")); err == nil {
			f.Add(b)
		}
	}
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		x, name, err := DecodeTensor(data)
		if err != nil {
			return
		}
		if err := x.CheckData(); err != nil {
			t.Fatalf("accepted tensor %v %v: %v", x.DType, x.Dims, err)
		}
		b, err := EncodeTensor(name, x)
		if err != nil {
			t.Fatalf("EncodeTensor: %v", err)
		}
		y, name2, err := DecodeTensor(b)
		if err != nil {
			t.Fatalf("DecodeTensor(EncodeTensor(x)): %v", err)
		}
		b2, err := EncodeTensor(name2, y)
		if err != nil || !bytes.Equal(b, b2) || name != name2 {
			t.Fatalf("round trip changed the tensor (%v)", err)
		}
	})
}
