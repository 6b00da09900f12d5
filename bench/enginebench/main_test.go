package main

import (
	"testing"
	"time"
)

func TestMedian(t *testing.T) {
	for _, tc := range []struct {
		in   []time.Duration
		want time.Duration
	}{
		{[]time.Duration{3}, 3},
		{[]time.Duration{5, 1, 3}, 3},
		{[]time.Duration{4, 1, 3, 2}, 2}, // (2+3)/2 in integer nanoseconds
		{[]time.Duration{10, 20}, 15},
	} {
		if got := median(tc.in); got != tc.want {
			t.Errorf("median(%v) = %v, want %v", tc.in, got, tc.want)
		}
	}
}

func TestRatio(t *testing.T) {
	for _, tc := range []struct{ a, b, want float64 }{
		{3, 2, 1.5},
		{1, 3, 0.333},
		{5, 0, 0}, // missing baseline
	} {
		if got := ratio(tc.a, tc.b); got != tc.want {
			t.Errorf("ratio(%g, %g) = %g, want %g", tc.a, tc.b, got, tc.want)
		}
	}
}

func TestVmHWM(t *testing.T) {
	before, err := vmHWM()
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 64<<20)
	for i := range buf {
		buf[i] = byte(i)
	}
	after, err := vmHWM()
	if err != nil {
		t.Fatal(err)
	}
	if after < before+32<<20 {
		t.Errorf("VmHWM %d → %d bytes after touching 64 MiB", before, after)
	}
	_ = buf[len(buf)-1]
}

func TestRunRejectsBadFlags(t *testing.T) {
	for _, args := range [][]string{{"--steps", "0"}, {"--infer-runs", "0"}, {"--warmup", "-1"}, {"--rounds", "0"}} {
		if err := run(append(args, "--out", ""), nil); err == nil {
			t.Errorf("run accepted %v", args)
		}
	}
}

func TestMedianFloat(t *testing.T) {
	for _, tc := range []struct {
		in   []float64
		want float64
	}{
		{nil, 0},
		{[]float64{3}, 3},
		{[]float64{5, 1, 3}, 3},
		{[]float64{4, 1, 3, 2}, 2.5},
	} {
		if got := medianFloat(tc.in); got != tc.want {
			t.Errorf("medianFloat(%v) = %v, want %v", tc.in, got, tc.want)
		}
	}
}
