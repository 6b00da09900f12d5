package engine

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/ferminets/fermi/ir"
)

// TestMaxPoolWinners checks MaxPool's three kernels (the 2×2 stride-2 one,
// windows inside the plane, windows reaching padding) against a direct
// reading of the rule on inputs full of ties and NaNs: the output is the
// window's maximum, NaN if the window holds one; the gradient goes to the
// first tap (row-major) holding the maximum, or to the window's first tap
// inside the input when the maximum is NaN.
func TestMaxPoolWinners(t *testing.T) {
	for _, c := range []struct {
		name          string
		h, w          int
		k, s, pad     int
		wantFastPath  bool // maxPlane2x2
		wantInsideWin bool // maxPlane
	}{
		{"k2 s2 even", 6, 8, 2, 2, 0, true, true},
		{"k2 s2 odd", 7, 5, 2, 2, 0, true, true},
		{"k3 s2", 7, 7, 3, 2, 0, false, true},
		{"k2 s1", 5, 6, 2, 1, 0, false, true},
		{"k3 s2 pad1", 7, 6, 3, 2, 1, false, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(3, uint64(c.h*c.w)))
			const planes = 6
			x := make([]float32, planes*c.h*c.w)
			for i := range x {
				x[i] = float32(rng.IntN(3)) // ties everywhere
				if rng.IntN(25) == 0 {
					x[i] = float32(math.NaN())
				}
			}
			attrs := at(ila("kernel_shape", int64(c.k), int64(c.k)), ila("strides", int64(c.s), int64(c.s)))
			if c.pad > 0 {
				p := int64(c.pad)
				attrs = append(attrs, ila("pads", p, p, p, p))
			}
			n := &ir.Node{Name: "pool", Op: ir.OpMaxPool, Attrs: attrs, Inputs: []*ir.Value{{Name: "x"}}, Outputs: []*ir.Value{{Name: "y"}}}
			xt := f32(d(2, 3, int64(c.h), int64(c.w)), x...)
			g, err := poolGeom(n, xt)
			if err != nil {
				t.Fatal(err)
			}
			if g.windowsInside() != c.wantInsideWin {
				t.Fatalf("windowsInside %v, want %v", g.windowsInside(), c.wantInsideWin)
			}
			if g.is2x2() != c.wantFastPath {
				t.Fatalf("2×2 stride-2 geometry %v, want %v", g.is2x2(), c.wantFastPath)
			}
			e := &Executor{cfg: config{threads: 2, kernels: Gonum{}}}
			// The input gradient comes from an arena holding a stale NaN
			// buffer of its size: kernels must write every element.
			a := newArena()
			e.rs = newRunState(a)
			stale := make([]float32, len(x))
			for i := range stale {
				stale[i] = float32(math.NaN())
			}
			a.put(stale)
			out, err := maxPool(e, n, []*ir.Tensor{xt})
			if err != nil {
				t.Fatal(err)
			}
			dy := make([]float32, len(out[0].F32))
			for i := range dy {
				dy[i] = float32(i + 1)
			}
			grads, err := maxPoolBackward(e, n, []*ir.Tensor{xt}, out, []*ir.Tensor{f32(out[0].Dims, dy...)}, []bool{true})
			if err != nil {
				t.Fatal(err)
			}
			oh, ow := int(out[0].Dims[2]), int(out[0].Dims[3])
			wantDx := make([]float32, len(x))
			for pl := range planes {
				for oy := range oh {
					for ox := range ow {
						best, arg, first := float32(math.Inf(-1)), -1, -1
						for ky := range c.k {
							for kx := range c.k {
								iy, ix := oy*c.s-c.pad+ky, ox*c.s-c.pad+kx
								if iy < 0 || iy >= c.h || ix < 0 || ix >= c.w {
									continue
								}
								i := (pl*c.h+iy)*c.w + ix
								if first < 0 {
									first = i
								}
								switch v := x[i]; {
								case math.IsNaN(float64(best)):
								case math.IsNaN(float64(v)):
									best, arg = v, -2
								case v > best:
									best, arg = v, i
								}
							}
						}
						if arg == -2 {
							arg = first
						}
						o := (pl*oh+oy)*ow + ox
						if got := out[0].F32[o]; math.Float32bits(got) != math.Float32bits(best) && !(math.IsNaN(float64(got)) && math.IsNaN(float64(best))) {
							t.Errorf("plane %d output (%d,%d): %v, want %v", pl, oy, ox, got, best)
						}
						wantDx[arg] += dy[o]
					}
				}
			}
			for i, v := range grads[0].F32 {
				if v != wantDx[i] {
					t.Errorf("input gradient %d (plane %d, (%d,%d)): %v, want %v", i, i/(c.h*c.w), i/c.w%c.h, i%c.w, v, wantDx[i])
				}
			}
		})
	}
}
