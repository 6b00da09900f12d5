package engine

import (
	"encoding/binary"
	"math"
	"testing"

	"github.com/ferminets/fermi/ir"
)

// TestFloat32ToHalf checks rounding against bit patterns from the IEEE 754
// binary16 tables (largest finite, smallest normal and subnormal, ties).
func TestFloat32ToHalf(t *testing.T) {
	for _, c := range []struct {
		name string
		in   float32
		want uint16
	}{
		{"one", 1, 0x3c00},
		{"minus two", -2, 0xc000},
		{"zero", 0, 0x0000},
		{"minus zero", float32(math.Copysign(0, -1)), 0x8000},
		{"max finite 65504", 65504, 0x7bff},
		{"just below halfway to 65536", 65519.996, 0x7bff},
		{"halfway 65520 ties to even (Inf)", 65520, 0x7c00},
		{"65536 overflows", 65536, 0x7c00},
		{"-1e6 overflows", -1e6, 0xfc00},
		{"smallest normal 2^-14 (6.1035e-5)", 6.1035156e-5, 0x0400},
		{"6.1e-5 is subnormal", 6.1e-5, 0x03ff},
		{"largest subnormal", 6.097555e-5, 0x03ff},
		{"smallest subnormal 2^-24 (5.96e-8)", 5.9604645e-8, 0x0001},
		{"5.96e-8 rounds to 2^-24", 5.96e-8, 0x0001},
		{"2^-25 ties to even (zero)", 2.9802322e-8, 0x0000},
		{"just above 2^-25", 2.9802326e-8, 0x0001},
		{"3·2^-25 ties to even (2^-23)", 8.940697e-8, 0x0002},
		{"1e-8 flushes", 1e-8, 0x0000},
		{"1/3", 1.0 / 3, 0x3555},
		{"0.1", 0.1, 0x2e66},
		{"1+2^-11 ties to even (1)", 1 + 1.0/2048, 0x3c00},
		{"1+3·2^-11 ties to even (1+2^-9)", 1 + 3.0/2048, 0x3c02},
		{"just above 1+2^-11", 1.0004884, 0x3c01},
		{"2047.5 ties to even (2048)", 2047.5, 0x6800},
		{"+Inf", float32(math.Inf(1)), 0x7c00},
		{"-Inf", float32(math.Inf(-1)), 0xfc00},
	} {
		if got := Float32ToHalf(c.in); got != c.want {
			t.Errorf("%s: Float32ToHalf(%g) = %#04x, want %#04x", c.name, c.in, got, c.want)
		}
	}
	for _, nan := range []float32{float32(math.NaN()), -float32(math.NaN())} {
		h := Float32ToHalf(nan)
		if h&0x7c00 != 0x7c00 || h&0x3ff == 0 || h>>15 != uint16(math.Float32bits(nan)>>31) {
			t.Errorf("Float32ToHalf(%v) = %#04x, want a NaN of the same sign", nan, h)
		}
	}
}

// TestFloat32ToHalfExhaustive checks every float16 value round-trips, and
// that the float32 points at, just below and just above each midpoint
// between neighbouring float16 values round to the right neighbour (ties
// to the even one). The midpoints come from ir.HalfToFloat32.
func TestFloat32ToHalfExhaustive(t *testing.T) {
	for h := uint32(0); h < 0x10000; h++ {
		x := ir.HalfToFloat32(uint16(h))
		if x != x {
			continue
		}
		if got := Float32ToHalf(x); got != uint16(h) {
			t.Fatalf("round trip %#04x (%g) → %#04x", h, x, got)
		}
	}
	for h := uint16(0); h < 0x7bff; h++ { // positive finite, next one finite
		lo, hi := ir.HalfToFloat32(h), ir.HalfToFloat32(h+1)
		mid := float32((float64(lo) + float64(hi)) / 2) // exact in float32
		even := h
		if h&1 == 1 {
			even = h + 1
		}
		for _, c := range []struct {
			x    float32
			want uint16
		}{
			{mid, even},
			{math.Nextafter32(mid, 0), h},
			{math.Nextafter32(mid, 1e9), h + 1},
		} {
			if got := Float32ToHalf(c.x); got != c.want {
				t.Fatalf("Float32ToHalf(%g) between %#04x and %#04x = %#04x, want %#04x", c.x, h, h+1, got, c.want)
			}
			if got := Float32ToHalf(-c.x); got != c.want|0x8000 {
				t.Fatalf("Float32ToHalf(%g) = %#04x, want %#04x", -c.x, got, c.want|0x8000)
			}
		}
	}
}

func half(v ...float32) []byte {
	b := make([]byte, 2*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint16(b[2*i:], Float32ToHalf(x))
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
