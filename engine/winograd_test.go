package engine

import (
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"testing"

	"github.com/ferminets/fermi/engine/simd"
	"github.com/ferminets/fermi/ir"
)

// needWinograd skips a test of the Winograd path where it cannot run (no
// AVX2), except on CI, where that is a failure.
func needWinograd(t *testing.T) {
	t.Helper()
	if !simd.Available() {
		if os.Getenv("CI") == "true" {
			t.Fatal("the AVX2 transforms are not available on this CI machine")
		}
		t.Skip("no AVX2 here: Winograd does not run")
	}
}

// TestWinogradMatchesIm2col checks conv and convBackward on Blocked, which
// run these convolutions as Winograd (F(4×4, 3×3) on the planes marked
// so, F(2×2, 3×3) on the others), against Gonum's im2col:
// outputs with bias, filter and bias gradients, and input gradients, over
// odd sizes (partial tiles), asymmetric and zero pads, and pads beyond
// the kernel's reach (no adjoint convolution). The Relu fused into the
// output is checked on convWinograd directly.
func TestWinogradMatchesIm2col(t *testing.T) {
	needWinograd(t)
	var cases []convCase
	var kinds []string
	for _, p := range []struct {
		batch, c, m, h, w int
		pb, pe            []int
		kind              string
	}{
		{6, 16, 8, 28, 28, []int{1, 1}, []int{1, 1}, "F4"},
		{3, 8, 11, 22, 32, []int{0, 1}, []int{0, 1}, "F4"}, // 20×32 outputs, one pad
		{2, 12, 9, 26, 40, []int{3, 0}, []int{1, 2}, "F4"}, // 28×40, beyond the kernel's reach
		{3, 9, 16, 36, 37, []int{1, 0}, []int{1, 1}, "F4"}, // 36×36, two groups of 8 tiles a row
		{2, 8, 8, 20, 132, []int{1, 1}, []int{1, 1}, "F4"}, // 20×132: 33 tiles a row, the last row through the 8 KiB scratch
		{9, 16, 16, 14, 14, []int{1, 1}, []int{1, 1}, "F4 pairs"},
		{3, 8, 9, 13, 16, []int{1, 1}, []int{1, 1}, "F4 pairs"}, // 13×16
		{2, 9, 8, 8, 15, []int{0, 1}, []int{0, 1}, "F4 pairs"},  // 6×15
		{5, 8, 12, 7, 7, []int{1, 1}, []int{1, 1}, "F4 pairs"},  // one image a group: a lone 2×2 plane
		{11, 16, 8, 7, 7, []int{1, 1}, []int{1, 1}, "F4 pairs"}, // groups of 2 images
		{3, 9, 10, 5, 6, []int{0, 1}, []int{2, 1}, "F4 pairs"},  // 5×6
		{4, 10, 9, 6, 5, []int{3, 1}, []int{1, 3}, "F4 pairs"},  // 8×7, beyond the kernel's reach
		{2, 8, 8, 9, 13, []int{0, 0}, []int{0, 0}, "F2"},
		{9, 24, 17, 18, 21, []int{1, 1}, []int{1, 1}, "F2"},
	} {
		cases = append(cases, convCase{batch: p.batch, c: p.c, m: p.m, group: 1, in: []int{p.h, p.w},
			k: []int{3, 3}, s: []int{1, 1}, dil: []int{1, 1}, padB: p.pb, padE: p.pe})
		kinds = append(kinds, p.kind)
	}
	for ci, cc := range cases {
		t.Run(fmt.Sprint(cc.batch, cc.c, cc.m, cc.in, cc.padB, cc.padE), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(9, 9))
			x := randTensor(rng, append([]int{cc.batch, cc.c}, cc.in...)...)
			w := randTensor(rng, cc.m, cc.c, 3, 3)
			b := randTensor(rng, cc.m)
			n := &ir.Node{Op: ir.OpConv, Attrs: cc.attrs()}
			g, err := newGeom(n, cc.in, cc.k, false)
			if err != nil {
				t.Fatal(err)
			}
			if got := winoKind(newWinoLayout(cc.c, cc.m, cc.batch, g)); got != kinds[ci] {
				t.Fatalf("%v outputs: %s, want %s", g.out[1:], got, kinds[ci])
			}
			run := func(k Kernels) (y, dx, dw, db *ir.Tensor) {
				e, err := New(&ir.Graph{}, WithKernels(k), WithThreads(2))
				if err != nil {
					t.Fatal(err)
				}
				if got, want := e.winograd(1, cc.batch, cc.c, cc.m, g), k == Kernels(Blocked{}); got != want {
					t.Fatalf("%T: winograd %v", k, got)
				}
				out, err := conv(e, n, []*ir.Tensor{x, w, b})
				if err != nil {
					t.Fatal(err)
				}
				dy := randTensor(rand.New(rand.NewPCG(1, 1)), ints(out[0].Dims)...)
				gr, err := convBackward(e, n, []*ir.Tensor{x, w, b}, out, []*ir.Tensor{dy}, []bool{true, true, true})
				if err != nil {
					t.Fatal(err)
				}
				return out[0], gr[0], gr[1], gr[2]
			}
			y, dx, dw, db := run(Blocked{})
			yRef, dxRef, dwRef, dbRef := run(Gonum{})
			for _, c := range []struct {
				name      string
				got, want *ir.Tensor
			}{{"output", y, yRef}, {"input gradient", dx, dxRef}, {"bias gradient", db, dbRef}} {
				if msg := sameTensor(c.got, c.want, 2e-4); msg != "" {
					t.Errorf("%s: %.300s", c.name, msg)
				}
			}
			// A filter gradient element sums over every output position, so
			// its rounding error scales with the gradient's largest
			// elements rather than with its own (which may cancel to near
			// 0): 20×132 planes err by 4.7·10⁻⁴ where the largest is 274.
			var worst, largest float64
			for i, v := range dwRef.F32 {
				worst, largest = max(worst, math.Abs(float64(dw.F32[i]-v))), max(largest, math.Abs(float64(v)))
			}
			if worst > 2e-5*max(1, largest) {
				t.Errorf("filter gradient: off by up to %v, its largest element %v", worst, largest)
			}

			e, _ := New(&ir.Graph{}, WithThreads(2))
			yr := newF32(ints(y.Dims))
			mom := make([]float64, 2*cc.batch*cc.m)
			convWinograd(e, x.F32, w.F32, b.F32, yr.F32, mom, nil, cc.batch, cc.c, cc.m, g, true)
			for i, v := range yRef.F32 {
				if want := max(v, 0); math.Abs(float64(yr.F32[i]-want)) > 2e-4*max(1, math.Abs(float64(want))) {
					t.Fatalf("fused Relu: output %d = %v, want %v", i, yr.F32[i], want)
				}
			}
			// The plane sums are those BatchNormalization would take itself.
			plane := len(yr.F32) / (cc.batch * cc.m)
			for p := range cc.batch * cc.m {
				s, q := simd.SumSq(yr.F32[p*plane : (p+1)*plane])
				if s != mom[2*p] || q != mom[2*p+1] {
					t.Fatalf("plane %d: sums (%v, %v), want (%v, %v)", p, mom[2*p], mom[2*p+1], s, q)
				}
			}
		})
	}
}

// winoKind names l's algorithm.
func winoKind(l winoLayout) string {
	switch {
	case l.pairs:
		return "F4 pairs"
	case l.winoScheme == winoF4:
		return "F4"
	}
	return "F2"
}

// TestWinogradThreads checks that Winograd's results do not depend on the
// thread count.
func TestWinogradThreads(t *testing.T) {
	needWinograd(t)
	for _, hw := range [][2]int{{10, 9}, {7, 7}, {14, 14}, {28, 28}} { // F2, F4 pairs of planes, pairs of tile rows, F4
		cc := convCase{batch: 11, c: 12, m: 16, group: 1, in: hw[:], k: []int{3, 3}, s: []int{1, 1}, dil: []int{1, 1}, padB: []int{1, 1}, padE: []int{1, 1}}
		rng := rand.New(rand.NewPCG(2, 3))
		x, w := randTensor(rng, 11, 12, hw[0], hw[1]), randTensor(rng, 16, 12, 3, 3)
		n := &ir.Node{Op: ir.OpConv, Attrs: cc.attrs()}
		var ref []*ir.Tensor
		for _, threads := range []int{1, 2, 3} {
			e, err := New(&ir.Graph{}, WithThreads(threads))
			if err != nil {
				t.Fatal(err)
			}
			out, err := conv(e, n, []*ir.Tensor{x, w})
			if err != nil {
				t.Fatal(err)
			}
			dy := randTensor(rand.New(rand.NewPCG(1, 1)), ints(out[0].Dims)...)
			gr, err := convBackward(e, n, []*ir.Tensor{x, w}, out, []*ir.Tensor{dy}, []bool{true, true})
			if err != nil {
				t.Fatal(err)
			}
			got := []*ir.Tensor{out[0], gr[0], gr[1]}
			if ref == nil {
				ref = got
				continue
			}
			for i := range got {
				if msg := sameTensor(got[i], ref[i], 0); msg != "" {
					t.Fatalf("%v: %d threads, result %d differs from 1 thread: %.200s", hw, threads, i, msg)
				}
			}
		}
	}
}
