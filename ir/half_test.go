package ir

import (
	"math"
	"testing"
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
// to the even one). The midpoints come from HalfToFloat32.
func TestFloat32ToHalfExhaustive(t *testing.T) {
	for h := uint32(0); h < 0x10000; h++ {
		x := HalfToFloat32(uint16(h))
		if x != x {
			continue
		}
		if got := Float32ToHalf(x); got != uint16(h) {
			t.Fatalf("round trip %#04x (%g) → %#04x", h, x, got)
		}
	}
	for h := uint16(0); h < 0x7bff; h++ { // positive finite, next one finite
		lo, hi := HalfToFloat32(h), HalfToFloat32(h+1)
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
