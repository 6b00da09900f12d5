//go:build cgo

package ortrun

import (
	"testing"

	"github.com/ferminets/fermi/ir"
)

// TestRunUnknownRank runs a model whose output has no known rank, which
// ONNX Runtime reports like a scalar's.
func TestRunUnknownRank(t *testing.T) {
	Require(t)
	s, err := NewSession(readModel(t, "reshape_norank"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if d := s.Outputs()[0].Dims; len(d) != 0 {
		t.Fatalf("ONNX Runtime reports dims %v for an unknown rank; the test assumes none", d)
	}
	x := ir.NewFloat32([]int64{4}, []float32{1, 2, 3, 4})
	for _, shape := range [][]int64{{2, 2}, {4}, {1, 4, 1}} {
		out, err := s.Run(map[string]*ir.Tensor{"x": x, "s": ir.NewInt64([]int64{int64(len(shape))}, shape)})
		if err != nil {
			t.Fatal(err)
		}
		if want := ir.NewFloat32(shape, x.F32); !equalTensors(out["y"], want) {
			t.Errorf("y = %+v, want %+v", out["y"], want)
		}
	}
	if !s.b.noScalarAlloc {
		t.Error("the rank-0 preallocation was never retried: this test no longer covers it")
	}
}

// TestRunScalarAfterError checks that a failed run does not stop a session
// from preallocating its rank-0 outputs.
func TestRunScalarAfterError(t *testing.T) {
	Require(t)
	s, err := NewSession(readModel(t, "identity_scalar"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	bad := map[string]*ir.Tensor{"a": ir.NewFloat32([]int64{1}, []float32{1}), "i": ir.NewInt64([]int64{}, []int64{1})}
	if _, err := s.Run(bad); err == nil {
		t.Fatal("rank-1 input for a scalar: no error")
	}
	good := map[string]*ir.Tensor{"a": ir.NewFloat32([]int64{}, []float32{2}), "i": ir.NewInt64([]int64{}, []int64{3})}
	out, err := s.Run(good)
	if err != nil {
		t.Fatal(err)
	}
	if !equalTensors(out["b"], good["a"]) || !equalTensors(out["j"], good["i"]) {
		t.Errorf("got b=%+v j=%+v", out["b"], out["j"])
	}
}
