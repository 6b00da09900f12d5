package onnxio

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/ferminets/fermi/internal/sharedmodels"
	"github.com/ferminets/fermi/ir"
)

// FuzzDecode checks that Decode never panics and that whatever it accepts
// exports and re-imports to an equal graph. Seeds: the hand-built models of
// the other tests and the smallest real model.
func FuzzDecode(f *testing.F) {
	t := &testing.T{}
	f.Add(opaqueModel().bytes(t))
	for _, opset := range []int64{7, 9, 10, 11, 13, 18, 21} {
		f.Add(oldOpsetModel(opset).bytes(t))
	}
	if dir, ok := sharedmodels.Dir(); ok {
		if b, err := os.ReadFile(filepath.Join(dir, "fashion-lenet5.onnx")); err == nil {
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		g, err := Decode(data, ReadOptions{})
		if err != nil {
			return
		}
		b, err := Encode(g, WriteOptions{})
		if err != nil {
			return // e.g. an attribute the export opset lacks
		}
		g2, err := Decode(b, ReadOptions{})
		if err != nil {
			t.Fatalf("Decode(Encode(g)): %v", err)
		}
		g.IRVersion, g.Opsets = g2.IRVersion, g2.Opsets
		if err := ir.Equal(g, g2); err != nil {
			t.Fatalf("round trip: %v", err)
		}
	})
}
