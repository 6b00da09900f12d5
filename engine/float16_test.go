package engine

import (
	"encoding/binary"
	"math"
	"testing"

	"github.com/ferminets/fermi/ir"
)

func half(v ...float32) []byte {
	b := make([]byte, 2*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint16(b[2*i:], ir.Float32ToHalf(x))
	}
	return b
}

func halfs(t *testing.T, tn *ir.Tensor) []float32 {
	t.Helper()
	if tn.DType != ir.Float16 {
		t.Fatalf("tensor is %v, want f16", tn.DType)
	}
	out := make([]float32, len(tn.Raw)/2)
	for i := range out {
		out[i] = ir.HalfToFloat32(binary.LittleEndian.Uint16(tn.Raw[2*i:]))
	}
	return out
}

// TestFloat16Graph runs float16 graphs: Casts at the boundary, a float16
// parameter, and float16 inputs and outputs. Every float16 result is the
// exact sum rounded once, so the expectations are written by hand.
func TestFloat16Graph(t *testing.T) {
	src := `graph @h(%x: f32[5], %y: f16[2]) {
  %b = param f16[5] [1, 0.5, 0, 2048, 1]
  %xh = Cast(%x) {to=10} : f16[5]
  %s = Add(%xh, %b) : f16[5]
  %r = Relu(%s) : f16[5]
  %out = Cast(%r) {to=1} : f32[5]
  %m = Mul(%y, %y) : f16[2]
  return %out, %m, %s
}`
	g, err := ir.Parse("h.fir", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	e, err := New(g)
	if err != nil {
		t.Fatal(err)
	}
	// x: 1/3 rounds to 0x3555 = 0.33325195; 1+2^-11 (a tie) rounds to 1;
	// 70000 overflows to +Inf; 1 + 2048 is 2049, a tie between 2048 and
	// 2050, which rounds to even 2048; 1e-8 flushes to zero.
	x := ir.NewFloat32([]int64{5}, []float32{1.0 / 3, 1 + 1.0/2048, 70000, 1, 1e-8})
	y := &ir.Tensor{DType: ir.Float16, Dims: []int64{2}, Raw: half(300, 0.5)}
	out, err := e.Run(map[string]*ir.Tensor{"x": x, "y": y})
	if err != nil {
		t.Fatal(err)
	}
	inf := float32(math.Inf(1))
	want := []float32{1.3330078, 1.5, inf, 2048, 1}
	if out[0].DType != ir.Float32 {
		t.Fatalf("out is %v, want f32", out[0].DType)
	}
	for i, w := range want {
		if out[0].F32[i] != w {
			t.Errorf("out[%d] = %v, want %v", i, out[0].F32[i], w)
		}
	}
	// 300² = 90000 overflows float16; 0.5² = 0.25.
	if m := halfs(t, out[1]); m[0] != inf || m[1] != 0.25 {
		t.Errorf("m = %v, want [+Inf 0.25]", m)
	}
	if s := halfs(t, out[2]); s[3] != 2048 {
		t.Errorf("s = %v, want s[3] = 2048", s)
	}
	all, err := e.RunAll(map[string]*ir.Tensor{"x": x, "y": y})
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"b", "xh", "s", "r", "y"} {
		if all[name].DType != ir.Float16 {
			t.Errorf("RunAll: %s is %v, want f16", name, all[name].DType)
		}
	}
	// A wrong input dtype is an error, not a silent conversion.
	if _, err := e.Run(map[string]*ir.Tensor{"x": x, "y": ir.NewFloat32([]int64{2}, []float32{1, 2})}); err == nil {
		t.Error("f32 data for an f16 input: no error")
	}
}

// TestRoundHalfsShares checks that rounding copies only when something
// changes, so that kernel outputs sharing their inputs' data stay intact.
func TestRoundHalfsShares(t *testing.T) {
	exact := []float32{1, 0.5, -2}
	if r := roundHalfs(exact); &r[0] != &exact[0] {
		t.Error("exact data was copied")
	}
	in := []float32{1, 1.0 / 3}
	r := roundHalfs(in)
	if &r[0] == &in[0] || in[1] != 1.0/3 || r[1] != 0.33325195 {
		t.Errorf("roundHalfs(%v) = %v, input now %v", []float32{1, 1.0 / 3}, r, in)
	}
}
