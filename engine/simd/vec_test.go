package simd

import (
	"math"
	"math/rand/v2"
	"os"
	"slices"
	"testing"
)

// needKernel skips a test of the assembly where it cannot run, except on
// CI (amd64), where that is a failure.
func needKernel(t testing.TB) {
	t.Helper()
	if !Available() {
		if os.Getenv("CI") == "true" {
			t.Fatal("the AVX2/FMA kernels are not available on this CI machine")
		}
		t.Skip("the AVX2/FMA kernels are not available here")
	}
}

// inGo runs f with the assembly switched off: every kernel in its Go
// definition.
func inGo(f func()) {
	haveKernel = false
	defer func() { haveKernel = true }()
	f()
}

// vecInput returns n floats from rng with the values the masks and the
// Relu must get right sprinkled in: ±0, NaN, ±Inf, the smallest subnormal.
func vecInput(rng *rand.Rand, n int) []float32 {
	special := []float32{0, float32(math.Copysign(0, -1)), float32(math.NaN()), float32(math.Inf(1)),
		float32(math.Inf(-1)), math.SmallestNonzeroFloat32, -math.SmallestNonzeroFloat32}
	x := make([]float32, n)
	for i := range x {
		if rng.IntN(6) == 0 {
			x[i] = special[rng.IntN(len(special))]
		} else {
			x[i] = float32(rng.NormFloat64() * 3)
		}
	}
	return x
}

// sameBits32 returns the first index where a and b differ in their bits,
// or -1. NaNs count as equal: which NaN an operation returns depends on
// its operand order, which Go's compiler may swap.
func sameBits32(a, b []float32) int {
	for i := range a {
		if math.Float32bits(a[i]) != math.Float32bits(b[i]) && !(a[i] != a[i] && b[i] != b[i]) {
			return i
		}
	}
	return -1
}

// same64 reports whether a and b have the same bits or are both NaN.
func same64(a, b float64) bool {
	return math.Float64bits(a) == math.Float64bits(b) || (math.IsNaN(a) && math.IsNaN(b))
}

// TestVecMatchesGo checks every vector kernel against its Go definition,
// bit for bit (any NaN for a NaN), on lengths 0 to 70 (every remainder mod 8, several blocks)
// at unaligned offsets, inputs full of signed zeros, NaNs and infinities.
func TestVecMatchesGo(t *testing.T) {
	needKernel(t)
	rng := rand.New(rand.NewPCG(3, 4))
	for n := 0; n <= 70; n++ {
		off := rng.IntN(8) // the slices start anywhere
		u, v, y := vecInput(rng, n+off)[off:], vecInput(rng, n+off)[off:], vecInput(rng, n+off)[off:]
		a, b, c := float32(rng.NormFloat64()), float32(rng.NormFloat64()), float32(rng.NormFloat64())
		if n%3 == 0 { // −0 outputs where x is ±0: the Relu must make them +0
			b = float32(math.Copysign(0, -1))
		}
		for _, relu := range []bool{false, true} {
			got, want := make([]float32, n), make([]float32, n)
			Affine(got, u, a, b, relu)
			inGo(func() { Affine(want, u, a, b, relu) })
			if i := sameBits32(got, want); i >= 0 {
				t.Fatalf("Affine n=%d relu=%v: [%d] = %v, Go %v", n, relu, i, got[i], want[i])
			}
			for i, x := range u { // the definition: Go's max after a rounded product and sum
				w := x*a + b
				if relu {
					w = max(w, 0)
				}
				if sameBits32([]float32{w}, want[i:i+1]) >= 0 {
					t.Fatalf("Affine n=%d relu=%v: Go path [%d] = %v, want %v", n, relu, i, want[i], w)
				}
			}
		}
		rb := float32(rng.NormFloat64())
		if n%4 == 1 {
			rb = 0 // x·A + B = ±0 where x is ±0: the Relu's output is +0, the gradient blocked
		}
		for _, r := range []Rectifier{{}, {A: float32(rng.NormFloat64()), B: rb, On: true}} {
			got, want := make([]float32, n), make([]float32, n)
			BNGrad(got, u, v, r, a, b, c)
			inGo(func() { BNGrad(want, u, v, r, a, b, c) })
			if i := sameBits32(got, want); i >= 0 {
				t.Fatalf("BNGrad n=%d %+v: [%d] = %v, Go %v", n, r, i, got[i], want[i])
			}
			if r.On { // the definition: masked by the Relu of Affine's output, y > 0
				yr := make([]float32, n)
				Affine(yr, v, r.A, r.B, true)
				for i := range want {
					g := u[i]
					if !(yr[i] > 0) {
						g = 0
					}
					w := float32(a*g) + float32(b*v[i]) + c
					if sameBits32([]float32{w}, want[i:i+1]) >= 0 {
						t.Fatalf("BNGrad n=%d %+v: Go path [%d] = %v, want %v (y = %v)", n, r, i, want[i], w, yr[i])
					}
				}
			}
			var s, d, gs, gd float64
			if !r.On {
				s, d = SumSq(u)
				inGo(func() { gs, gd = SumSq(u) })
				if !same64(s, gs) || !same64(d, gd) {
					t.Fatalf("SumSq n=%d: (%v, %v), Go (%v, %v)", n, s, d, gs, gd)
				}
			}
			s, d = SumDot(u, v, r)
			inGo(func() { gs, gd = SumDot(u, v, r) })
			if !same64(s, gs) || !same64(d, gd) {
				t.Fatalf("SumDot n=%d %+v: (%v, %v), Go (%v, %v)", n, r, s, d, gs, gd)
			}
		}
		ax, axGo := slices.Clone(v), slices.Clone(v)
		Axpy(ax, a, u)
		inGo(func() { Axpy(axGo, a, u) })
		if i := sameBits32(ax, axGo); i >= 0 {
			t.Fatalf("Axpy n=%d: [%d] = %v, Go %v", n, i, ax[i], axGo[i])
		}
		if d, dGo := Dot(u, v), func() (r float32) { inGo(func() { r = Dot(u, v) }); return }(); sameBits32([]float32{d}, []float32{dGo}) >= 0 {
			t.Fatalf("Dot n=%d: %v, Go %v", n, d, dGo)
		}
		sum, sumGo := make([]float32, n), make([]float32, n)
		Add(sum, u, v)
		inGo(func() { Add(sumGo, u, v) })
		if i := sameBits32(sum, sumGo); i >= 0 {
			t.Fatalf("Add n=%d: [%d] = %v, Go %v", n, i, sum[i], sumGo[i])
		}
		got, want := make([]float32, n), make([]float32, n)
		ReluGrad(got, y, u)
		inGo(func() { ReluGrad(want, y, u) })
		if i := sameBits32(got, want); i >= 0 {
			t.Fatalf("ReluGrad n=%d: [%d] = %v, Go %v", n, i, got[i], want[i])
		}
		for i := range want { // the definition
			w := float32(0)
			if y[i] > 0 {
				w = u[i]
			}
			if math.Float32bits(w) != math.Float32bits(want[i]) {
				t.Fatalf("ReluGrad n=%d: Go path [%d] = %v, want %v", n, i, want[i], w)
			}
		}
	}
}

// TestSumsAccurate checks the float64 sums against exact ones on values
// whose sums float64 holds exactly (integers): the lanes must not lose or
// double-count an element.
func TestSumsAccurate(t *testing.T) {
	for n := 0; n <= 40; n++ {
		x, w := make([]float32, n), make([]float32, n)
		var s, q, d float64
		for i := range x {
			x[i], w[i] = float32(i%7-3), float32(i%5+1)
			s += float64(x[i])
			q += float64(x[i]) * float64(x[i])
			d += float64(x[i]) * float64(w[i])
		}
		if gs, gq := SumSq(x); gs != s || gq != q {
			t.Errorf("SumSq n=%d: %v %v, want %v %v", n, gs, gq, s, q)
		}
		if gs, gd := SumDot(x, w, Rectifier{}); gs != s || gd != d {
			t.Errorf("SumDot n=%d: %v %v, want %v %v", n, gs, gd, s, d)
		}
		if gd := Dot(x, w); float64(gd) != d { // small integers: exact in float32 too
			t.Errorf("Dot n=%d: %v, want %v", n, gd, d)
		}
	}
}

// TestMaxPool2x2RowMatchesGo checks MaxPool2x2Row against Go's max on rows
// of every length mod 8, with ties between signed zeros, NaNs and
// infinities in the windows.
func TestMaxPool2x2RowMatchesGo(t *testing.T) {
	needKernel(t)
	rng := rand.New(rand.NewPCG(5, 6))
	for n := 0; n <= 40; n++ {
		for range 4 {
			off := rng.IntN(8)
			r0, r1 := vecInput(rng, 2*n+off)[off:], vecInput(rng, 2*n+off)[off:]
			got, want := make([]float32, n), make([]float32, n)
			MaxPool2x2Row(got, r0, r1)
			for i := range want {
				want[i] = max(max(r0[2*i], r0[2*i+1]), max(r1[2*i], r1[2*i+1]))
			}
			if i := sameBits32(got, want); i >= 0 {
				t.Fatalf("n=%d: y[%d] = %v (%x), want %v (%x); window %v %v %v %v", n, i, got[i], math.Float32bits(got[i]),
					want[i], math.Float32bits(want[i]), r0[2*i], r0[2*i+1], r1[2*i], r1[2*i+1])
			}
		}
	}
}

// TestMaxPool2x2BackRowMatchesGo checks the assembly of MaxPool2x2BackRow
// against its Go definition on windows full of ties (repeated taps, signed
// zeros), NaNs, and maxima that match no tap, for every length mod 8.
func TestMaxPool2x2BackRowMatchesGo(t *testing.T) {
	needKernel(t)
	rng := rand.New(rand.NewPCG(7, 8))
	for n := 0; n <= 40; n++ {
		for range 4 {
			off := rng.IntN(8)
			r0, r1 := vecInput(rng, 2*n+off)[off:], vecInput(rng, 2*n+off)[off:]
			for i := range 2 * n { // ties inside windows
				if rng.IntN(3) == 0 {
					r1[i] = r0[i]
				}
				if i%2 == 1 && rng.IntN(3) == 0 {
					r0[i] = r0[i-1]
				}
			}
			y, dy := make([]float32, n), vecInput(rng, n)
			MaxPool2x2Row(y, r0, r1)
			for i := range y {
				if rng.IntN(8) == 0 {
					y[i] = float32(rng.NormFloat64()) // a maximum no tap holds
				}
			}
			got0, got1 := make([]float32, 2*n), make([]float32, 2*n)
			want0, want1 := make([]float32, 2*n), make([]float32, 2*n)
			MaxPool2x2BackRow(got0, got1, r0, r1, y, dy)
			inGo(func() { MaxPool2x2BackRow(want0, want1, r0, r1, y, dy) })
			if i := sameBits32(got0, want0); i >= 0 {
				t.Fatalf("n=%d: d0[%d] = %v, Go %v", n, i, got0[i], want0[i])
			}
			if i := sameBits32(got1, want1); i >= 0 {
				t.Fatalf("n=%d: d1[%d] = %v, Go %v", n, i, got1[i], want1[i])
			}
		}
	}
}

// TestCopyRows checks CopyRows against row-by-row copies, for every row
// length mod 8, and that it writes nothing between or after the rows.
func TestCopyRows(t *testing.T) {
	needKernel(t)
	rng := rand.New(rand.NewPCG(7, 8))
	for w := 1; w <= 19; w++ {
		for _, h := range []int{1, 3} {
			ss, ds := w+rng.IntN(5), w+1+rng.IntN(5)
			src := vecInput(rng, (h-1)*ss+w)
			dst := make([]float32, (h-1)*ds+w+8)
			for i := range dst {
				dst[i] = -7
			}
			CopyRows(dst, ds, src, ss, w, h)
			for i, v := range dst {
				r, c := i/ds, i%ds
				want := float32(-7)
				if r < h && c < w {
					want = src[r*ss+c]
				}
				if sameBits32([]float32{v}, []float32{want}) >= 0 {
					t.Fatalf("w=%d h=%d: dst[%d] = %v, want %v", w, h, i, v, want)
				}
			}
		}
	}
}

// TestDeinterleave checks Deinterleave and Interleave against their
// definitions for every length up to 40, and that they write nothing past
// their outputs.
func TestDeinterleave(t *testing.T) {
	needKernel(t)
	rng := rand.New(rand.NewPCG(9, 10))
	for n := 1; n <= 40; n++ {
		src := vecInput(rng, n)
		even, odd := make([]float32, (n+1)/2+8), make([]float32, n/2+8)
		for i := range even {
			even[i] = -7
		}
		for i := range odd {
			odd[i] = -7
		}
		Deinterleave(even, odd, src)
		for i, v := range even {
			want := float32(-7)
			if i < (n+1)/2 {
				want = src[2*i]
			}
			if sameBits32([]float32{v}, []float32{want}) >= 0 {
				t.Fatalf("n=%d: even[%d] = %v, want %v", n, i, v, want)
			}
		}
		for i, v := range odd {
			want := float32(-7)
			if i < n/2 {
				want = src[2*i+1]
			}
			if sameBits32([]float32{v}, []float32{want}) >= 0 {
				t.Fatalf("n=%d: odd[%d] = %v, want %v", n, i, v, want)
			}
		}
		dst := make([]float32, n+8)
		for i := range dst {
			dst[i] = -7
		}
		Interleave(dst[:n], even, odd)
		for i, v := range dst {
			want := float32(-7)
			if i < n {
				want = src[i]
			}
			if sameBits32([]float32{v}, []float32{want}) >= 0 {
				t.Fatalf("n=%d: interleaved [%d] = %v, want %v", n, i, v, want)
			}
		}
	}
}
