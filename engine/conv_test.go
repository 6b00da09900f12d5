package engine

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/ferminets/fermi/ir"
)

func randTensor(rng *rand.Rand, dims ...int) *ir.Tensor {
	t := newF32(dims)
	for i := range t.F32 {
		t.F32[i] = float32(rng.NormFloat64())
	}
	return t
}

// convCase is one convolution configuration; spatial lists hold one entry
// per spatial dim.
type convCase struct {
	batch, c, m, group int
	in, k, s, dil      []int
	padB, padE         []int
}

func (cc convCase) attrs() []ir.Attr {
	var p []int64
	for _, v := range cc.padB {
		p = append(p, int64(v))
	}
	for _, v := range cc.padE {
		p = append(p, int64(v))
	}
	return []ir.Attr{ia("group", int64(cc.group)), ila("strides", dims64(cc.s)...), ila("dilations", dims64(cc.dil)...), ila("pads", p...)}
}

// coords calls f for every multi-index below dims (row-major order).
func coords(dims []int, f func(c []int)) {
	c := make([]int, len(dims))
	for i := 0; i < prod(dims); i++ {
		f(c)
		for a := len(dims) - 1; a >= 0; a-- {
			if c[a]++; c[a] < dims[a] {
				break
			}
			c[a] = 0
		}
	}
}

func flat(c, dims []int) int {
	i := 0
	for a := range dims {
		i = i*dims[a] + c[a]
	}
	return i
}

// naiveConv is the textbook definition, accumulating in float64:
// y[n,m,o] = b[m] + Σ_{ic,k} x[n, g·cg+ic, o·s − padB + k·dil] · w[m, ic, k].
func naiveConv(cc convCase, x, w, b *ir.Tensor) *ir.Tensor {
	r := len(cc.in)
	out := make([]int, r)
	for a := 0; a < r; a++ {
		out[a] = (cc.in[a]+cc.padB[a]+cc.padE[a]-(cc.k[a]-1)*cc.dil[a]-1)/cc.s[a] + 1
	}
	cg, mg := cc.c/cc.group, cc.m/cc.group
	y := newF32(append([]int{cc.batch, cc.m}, out...))
	pos := make([]int, r)
	for n := 0; n < cc.batch; n++ {
		for m := 0; m < cc.m; m++ {
			coords(out, func(o []int) {
				s := float64(b.F32[m])
				for ic := 0; ic < cg; ic++ {
					coords(cc.k, func(k []int) {
						for a := 0; a < r; a++ {
							pos[a] = o[a]*cc.s[a] - cc.padB[a] + k[a]*cc.dil[a]
							if pos[a] < 0 || pos[a] >= cc.in[a] {
								return
							}
						}
						xi := (n*cc.c+(m/mg)*cg+ic)*prod(cc.in) + flat(pos, cc.in)
						wi := (m*cg+ic)*prod(cc.k) + flat(k, cc.k)
						s += float64(x.F32[xi]) * float64(w.F32[wi])
					})
				}
				y.F32[(n*cc.m+m)*prod(out)+flat(o, out)] = float32(s)
			})
		}
	}
	return y
}

var convCases = []convCase{
	{batch: 2, c: 3, m: 4, group: 1, in: []int{7, 6}, k: []int{3, 3}, s: []int{1, 1}, dil: []int{1, 1}, padB: []int{1, 1}, padE: []int{1, 1}},
	{batch: 1, c: 4, m: 6, group: 1, in: []int{9, 8}, k: []int{3, 2}, s: []int{2, 3}, dil: []int{1, 2}, padB: []int{0, 2}, padE: []int{1, 0}},
	{batch: 3, c: 5, m: 2, group: 1, in: []int{5, 5}, k: []int{1, 1}, s: []int{1, 1}, dil: []int{1, 1}, padB: []int{0, 0}, padE: []int{0, 0}},
	// 1×1 stride-2 subsampling (ResNet shortcuts): rows of the vector
	// kernels' width, and rows too short for them
	{batch: 3, c: 5, m: 6, group: 1, in: []int{28, 12}, k: []int{1, 1}, s: []int{2, 2}, dil: []int{1, 1}, padB: []int{0, 0}, padE: []int{0, 0}},
	{batch: 2, c: 3, m: 4, group: 1, in: []int{6, 4}, k: []int{1, 1}, s: []int{2, 2}, dil: []int{1, 1}, padB: []int{0, 0}, padE: []int{0, 0}},
	{batch: 2, c: 4, m: 6, group: 2, in: []int{6, 7}, k: []int{3, 3}, s: []int{2, 1}, dil: []int{1, 2}, padB: []int{1, 2}, padE: []int{2, 1}},
	{batch: 2, c: 6, m: 6, group: 6, in: []int{8, 8}, k: []int{3, 3}, s: []int{1, 1}, dil: []int{1, 1}, padB: []int{1, 1}, padE: []int{1, 1}},
	{batch: 3, c: 5, m: 5, group: 5, in: []int{9, 7}, k: []int{5, 3}, s: []int{1, 1}, dil: []int{2, 1}, padB: []int{3, 0}, padE: []int{1, 2}},
	{batch: 2, c: 3, m: 3, group: 3, in: []int{10}, k: []int{3}, s: []int{1}, dil: []int{1}, padB: []int{2}, padE: []int{0}},
	{batch: 2, c: 6, m: 4, group: 2, in: []int{7, 5}, k: []int{3, 3}, s: []int{1, 1}, dil: []int{1, 1}, padB: []int{1, 0}, padE: []int{2, 1}},
	{batch: 1, c: 8, m: 12, group: 4, in: []int{6, 6}, k: []int{5, 3}, s: []int{1, 1}, dil: []int{1, 2}, padB: []int{2, 1}, padE: []int{2, 1}},
	{batch: 3, c: 4, m: 6, group: 2, in: []int{9}, k: []int{3}, s: []int{1}, dil: []int{2}, padB: []int{1}, padE: []int{3}},
	{batch: 1, c: 3, m: 6, group: 3, in: []int{9, 9}, k: []int{5, 5}, s: []int{2, 2}, dil: []int{1, 1}, padB: []int{2, 2}, padE: []int{2, 2}},
	{batch: 2, c: 2, m: 3, group: 1, in: []int{11}, k: []int{4}, s: []int{3}, dil: []int{2}, padB: []int{2}, padE: []int{0}},
	{batch: 1, c: 2, m: 2, group: 2, in: []int{10}, k: []int{3}, s: []int{2}, dil: []int{1}, padB: []int{1}, padE: []int{1}},
	{batch: 1, c: 2, m: 3, group: 1, in: []int{4, 5, 3}, k: []int{2, 3, 2}, s: []int{1, 2, 1}, dil: []int{2, 1, 1}, padB: []int{1, 0, 1}, padE: []int{0, 1, 1}},
	// One image with more output channels than one product computes.
	{batch: 1, c: 3, m: 40, group: 1, in: []int{6, 5}, k: []int{3, 3}, s: []int{1, 1}, dil: []int{1, 1}, padB: []int{1, 1}, padE: []int{1, 1}},
	{batch: 1, c: 3, m: 40, group: 1, in: []int{7, 6}, k: []int{3, 3}, s: []int{2, 2}, dil: []int{1, 1}, padB: []int{1, 0}, padE: []int{1, 1}},
	// Kernels wider than the input, with taps wholly in the padding.
	{batch: 2, c: 4, m: 4, group: 4, in: []int{1, 1}, k: []int{5, 5}, s: []int{1, 1}, dil: []int{1, 1}, padB: []int{2, 2}, padE: []int{2, 2}},
	{batch: 2, c: 3, m: 2, group: 1, in: []int{1, 2}, k: []int{5, 5}, s: []int{1, 1}, dil: []int{1, 1}, padB: []int{2, 2}, padE: []int{2, 2}},
	{batch: 1, c: 2, m: 2, group: 2, in: []int{2, 2}, k: []int{5, 5}, s: []int{2, 2}, dil: []int{1, 1}, padB: []int{2, 2}, padE: []int{2, 2}},
	// Strided grouped convs on phase planes: every phase of strides 2 to 4,
	// odd sizes, asymmetric pads, dilations (some leaving phases unread),
	// channel multipliers, 1-D, inputs smaller than the kernel, and strides
	// past the kernel that leave rows and columns no tap reads.
	{batch: 2, c: 3, m: 3, group: 3, in: []int{9, 7}, k: []int{3, 3}, s: []int{2, 2}, dil: []int{1, 1}, padB: []int{0, 1}, padE: []int{1, 0}},
	{batch: 3, c: 4, m: 4, group: 4, in: []int{8, 8}, k: []int{3, 3}, s: []int{2, 2}, dil: []int{1, 1}, padB: []int{1, 1}, padE: []int{1, 1}},
	{batch: 2, c: 2, m: 4, group: 2, in: []int{11, 10}, k: []int{3, 3}, s: []int{3, 3}, dil: []int{2, 2}, padB: []int{2, 1}, padE: []int{0, 2}},
	{batch: 1, c: 4, m: 6, group: 2, in: []int{9, 11}, k: []int{3, 2}, s: []int{2, 3}, dil: []int{1, 2}, padB: []int{1, 0}, padE: []int{2, 1}},
	{batch: 2, c: 3, m: 3, group: 3, in: []int{7, 10}, k: []int{2, 5}, s: []int{1, 2}, dil: []int{3, 1}, padB: []int{1, 2}, padE: []int{0, 1}},
	{batch: 2, c: 6, m: 6, group: 3, in: []int{10, 9}, k: []int{4, 3}, s: []int{3, 1}, dil: []int{1, 1}, padB: []int{2, 1}, padE: []int{1, 1}},
	{batch: 1, c: 2, m: 2, group: 2, in: []int{13, 9}, k: []int{3, 3}, s: []int{4, 4}, dil: []int{1, 1}, padB: []int{1, 3}, padE: []int{1, 0}},
	{batch: 2, c: 4, m: 4, group: 4, in: []int{10, 10}, k: []int{2, 2}, s: []int{3, 3}, dil: []int{1, 1}, padB: []int{0, 0}, padE: []int{0, 0}},
	{batch: 2, c: 4, m: 8, group: 4, in: []int{7, 6}, k: []int{1, 1}, s: []int{2, 2}, dil: []int{1, 1}, padB: []int{0, 0}, padE: []int{0, 0}},
	{batch: 2, c: 2, m: 2, group: 2, in: []int{2, 3}, k: []int{5, 5}, s: []int{3, 2}, dil: []int{1, 1}, padB: []int{2, 3}, padE: []int{3, 2}},
	{batch: 2, c: 3, m: 6, group: 3, in: []int{12}, k: []int{4}, s: []int{3}, dil: []int{1}, padB: []int{1}, padE: []int{2}},
	{batch: 3, c: 4, m: 4, group: 2, in: []int{13}, k: []int{3}, s: []int{2}, dil: []int{2}, padB: []int{0}, padE: []int{3}},
	{batch: 1, c: 2, m: 2, group: 2, in: []int{1}, k: []int{3}, s: []int{2}, dil: []int{1}, padB: []int{2}, padE: []int{2}},
	// 4 and 5 channels a group: convWide's per-group products with OpenBLAS.
	{batch: 3, c: 8, m: 10, group: 2, in: []int{6, 5}, k: []int{3, 3}, s: []int{1, 1}, dil: []int{1, 1}, padB: []int{1, 1}, padE: []int{1, 1}},
	// Inputs wholly beyond the phase planes: every tap reads padding.
	{batch: 2, c: 2, m: 2, group: 2, in: []int{1}, k: []int{2}, s: []int{2}, dil: []int{1}, padB: []int{2}, padE: []int{0}},
	{batch: 1, c: 2, m: 4, group: 2, in: []int{1, 1}, k: []int{2, 2}, s: []int{2, 3}, dil: []int{1, 1}, padB: []int{2, 3}, padE: []int{0, 0}},
}

func TestConvAgainstNaive(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for i, cc := range convCases {
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			x := randTensor(rng, append([]int{cc.batch, cc.c}, cc.in...)...)
			w := randTensor(rng, append([]int{cc.m, cc.c / cc.group}, cc.k...)...)
			b := randTensor(rng, cc.m)
			want := naiveConv(cc, x, w, b)
			for _, k := range testKernels {
				var first *ir.Tensor
				for _, threads := range []int{1, 2, 3} {
					got, err := run1(ir.OpConv, cc.attrs(), ins(x, w, b), 1, WithThreads(threads), WithKernels(k))
					if err != nil {
						t.Fatal(err)
					}
					if msg := sameTensor(got[0], want, 1e-4); msg != "" {
						t.Fatalf("%T, threads %d: %s", k, threads, msg)
					}
					if first == nil {
						first = got[0]
					} else if !slices.Equal(first.F32, got[0].F32) {
						t.Errorf("%T, threads %d: result differs bitwise from threads 1", k, threads)
					}
				}
			}
		})
	}
}

// TestConvAutoPad checks SAME_UPPER/SAME_LOWER against explicit pads that
// put the odd unit of padding at the end (upper) or the beginning (lower).
func TestConvAutoPad(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	x, w := randTensor(rng, 1, 1, 6), randTensor(rng, 1, 1, 4)
	b := f32(d(1), 0)
	// in 6, stride 2: out 3, total pad (3−1)·2 + 4 − 6 = 2 → 1, 1; in 6, stride 1, k 4: total 3.
	for _, c := range []struct {
		auto       string
		s          int64
		padB, padE int
	}{{"SAME_UPPER", 2, 1, 1}, {"SAME_UPPER", 1, 1, 2}, {"SAME_LOWER", 1, 2, 1}, {"VALID", 1, 0, 0}} {
		cc := convCase{batch: 1, c: 1, m: 1, group: 1, in: []int{6}, k: []int{4}, s: []int{int(c.s)}, dil: []int{1}, padB: []int{c.padB}, padE: []int{c.padE}}
		got, err := run1(ir.OpConv, at(sa("auto_pad", c.auto), ila("strides", c.s)), ins(x, w, b), 1)
		if err != nil {
			t.Fatal(err)
		}
		if msg := sameTensor(got[0], naiveConv(cc, x, w, b), 1e-5); msg != "" {
			t.Errorf("%s stride %d: %s", c.auto, c.s, msg)
		}
	}
}

// naiveConvTranspose scatters every input element through the kernel:
// full[n, g·mg+m, i·s + k·dil] += x[n, g·cg+ic, i] · w[g·cg+ic, m, k], then
// crops padB from the start and padE from the end (output_padding extends
// the end).
func naiveConvTranspose(cc convCase, outPad []int, x, w, b *ir.Tensor) *ir.Tensor {
	r := len(cc.in)
	full, out := make([]int, r), make([]int, r)
	for a := 0; a < r; a++ {
		full[a] = cc.s[a]*(cc.in[a]-1) + (cc.k[a]-1)*cc.dil[a] + 1 + outPad[a]
		out[a] = full[a] - cc.padB[a] - cc.padE[a]
	}
	cg, mg := cc.c/cc.group, cc.m/cc.group
	acc := make([]float64, cc.batch*cc.m*prod(out))
	pos := make([]int, r)
	for n := 0; n < cc.batch; n++ {
		for c := 0; c < cc.c; c++ {
			g := c / cg
			coords(cc.in, func(i []int) {
				xv := float64(x.F32[(n*cc.c+c)*prod(cc.in)+flat(i, cc.in)])
				for m := 0; m < mg; m++ {
					coords(cc.k, func(k []int) {
						for a := 0; a < r; a++ {
							pos[a] = i[a]*cc.s[a] + k[a]*cc.dil[a] - cc.padB[a]
							if pos[a] < 0 || pos[a] >= out[a] {
								return
							}
						}
						acc[(n*cc.m+g*mg+m)*prod(out)+flat(pos, out)] += xv * float64(w.F32[(c*mg+m)*prod(cc.k)+flat(k, cc.k)])
					})
				}
			})
		}
	}
	y := newF32(append([]int{cc.batch, cc.m}, out...))
	for i, v := range acc {
		y.F32[i] = float32(v + float64(b.F32[(i/prod(out))%cc.m]))
	}
	return y
}

func TestConvTransposeAgainstNaive(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	cases := []struct {
		cc     convCase
		outPad []int
	}{
		{convCase{batch: 2, c: 3, m: 2, group: 1, in: []int{3, 4}, k: []int{3, 3}, s: []int{2, 2}, dil: []int{1, 1}, padB: []int{1, 0}, padE: []int{1, 2}}, []int{1, 0}},
		{convCase{batch: 1, c: 4, m: 6, group: 2, in: []int{5, 3}, k: []int{2, 3}, s: []int{1, 3}, dil: []int{2, 1}, padB: []int{0, 1}, padE: []int{0, 1}}, []int{0, 2}},
		{convCase{batch: 2, c: 2, m: 2, group: 2, in: []int{6}, k: []int{4}, s: []int{2}, dil: []int{1}, padB: []int{1}, padE: []int{1}}, []int{0}},
		{convCase{batch: 1, c: 2, m: 1, group: 1, in: []int{2, 3, 2}, k: []int{2, 2, 3}, s: []int{2, 1, 1}, dil: []int{1, 1, 2}, padB: []int{0, 0, 1}, padE: []int{1, 0, 0}}, []int{0, 0, 0}},
	}
	for i, c := range cases {
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			cc := c.cc
			x := randTensor(rng, append([]int{cc.batch, cc.c}, cc.in...)...)
			w := randTensor(rng, append([]int{cc.c, cc.m / cc.group}, cc.k...)...)
			b := randTensor(rng, cc.m)
			attrs := append(cc.attrs(), ila("output_padding", dims64(c.outPad)...))
			want := naiveConvTranspose(cc, c.outPad, x, w, b)
			for _, k := range testKernels {
				got, err := run1(ir.OpConvTranspose, attrs, ins(x, w, b), 1, WithThreads(2), WithKernels(k))
				if err != nil {
					t.Fatal(err)
				}
				if msg := sameTensor(got[0], want, 1e-4); msg != "" {
					t.Errorf("%T: %s", k, msg)
				}
			}
		})
	}
}

// benchmarkConv times one conv layer with each Kernels implementation.
func benchmarkConv(b *testing.B, cc convCase) {
	rng := rand.New(rand.NewPCG(7, 8))
	x := randTensor(rng, append([]int{cc.batch, cc.c}, cc.in...)...)
	w := randTensor(rng, append([]int{cc.m, cc.c / cc.group}, cc.k...)...)
	g, feeds := graph1(ir.OpConv, cc.attrs(), ins(x, w), 1)
	for _, k := range testKernels {
		b.Run(fmt.Sprintf("%T", k)[len("engine."):], func(b *testing.B) {
			e, err := New(g, WithKernels(k))
			if err != nil {
				b.Fatal(err)
			}
			for b.Loop() {
				if _, err := e.Run(feeds); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkConv is a small 3×3 conv layer: batch 8, 16→32 channels, 32×32.
func BenchmarkConv(b *testing.B) {
	benchmarkConv(b, convCase{batch: 8, c: 16, m: 32, group: 1, in: []int{32, 32}, k: []int{3, 3}, s: []int{1, 1}, dil: []int{1, 1}, padB: []int{1, 1}, padE: []int{1, 1}})
}

// BenchmarkConvDepthwise is the depthwise counterpart: 32 channels, 3×3.
func BenchmarkConvDepthwise(b *testing.B) {
	benchmarkConv(b, convCase{batch: 8, c: 32, m: 32, group: 32, in: []int{32, 32}, k: []int{3, 3}, s: []int{1, 1}, dil: []int{1, 1}, padB: []int{1, 1}, padE: []int{1, 1}})
}

// TestConcurrentRun runs one Executor from several goroutines at once (run
// it with -race): each must get the single-goroutine result.
func TestConcurrentRun(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	cc := convCases[0]
	x := randTensor(rng, append([]int{cc.batch, cc.c}, cc.in...)...)
	w := randTensor(rng, append([]int{cc.m, cc.c / cc.group}, cc.k...)...)
	g, feeds := graph1(ir.OpConv, cc.attrs(), ins(x, w), 1)
	e, err := New(g, WithThreads(2))
	if err != nil {
		t.Fatal(err)
	}
	want, err := e.Run(feeds)
	if err != nil {
		t.Fatal(err)
	}
	errs := make(chan string, 4)
	for i := 0; i < 4; i++ {
		go func() {
			got, err := e.Run(feeds)
			switch {
			case err != nil:
				errs <- err.Error()
			case !slices.Equal(got[0].F32, want[0].F32):
				errs <- "result differs"
			default:
				errs <- ""
			}
		}()
	}
	for i := 0; i < 4; i++ {
		if msg := <-errs; msg != "" {
			t.Error(msg)
		}
	}
}

// TestConvWideMatchesIm2col checks the padded-layout convolution and its
// backward (convWide, convWideBackward: image groups, extra columns, the
// single-image channel chunks, channel groups) against the im2col ones (the
// direct loops for grouped ones) on the same operands, for batches that
// make groups of several images, several groups per gradient chunk and a
// smaller last group.
func TestConvWideMatchesIm2col(t *testing.T) {
	for _, cc := range []convCase{
		{batch: 24, c: 2, m: 3, group: 1, in: []int{16, 16}, k: []int{3, 3}, s: []int{1, 1}, dil: []int{1, 1}, padB: []int{1, 1}, padE: []int{1, 1}},
		{batch: 13, c: 3, m: 5, group: 1, in: []int{5, 7}, k: []int{3, 2}, s: []int{1, 1}, dil: []int{2, 1}, padB: []int{2, 0}, padE: []int{1, 1}},
		{batch: 1, c: 4, m: 37, group: 1, in: []int{6, 6}, k: []int{3, 3}, s: []int{1, 1}, dil: []int{1, 1}, padB: []int{1, 1}, padE: []int{1, 1}},
		{batch: 30, c: 2, m: 2, group: 1, in: []int{9}, k: []int{5}, s: []int{1}, dil: []int{1}, padB: []int{2}, padE: []int{2}},
		{batch: 13, c: 16, m: 24, group: 2, in: []int{7, 6}, k: []int{3, 3}, s: []int{1, 1}, dil: []int{1, 1}, padB: []int{1, 1}, padE: []int{1, 1}},
		{batch: 1, c: 16, m: 40, group: 2, in: []int{5, 5}, k: []int{3, 3}, s: []int{1, 1}, dil: []int{1, 1}, padB: []int{1, 0}, padE: []int{1, 2}},
		{batch: 9, c: 32, m: 32, group: 4, in: []int{11}, k: []int{3}, s: []int{1}, dil: []int{2}, padB: []int{2}, padE: []int{2}},
		// Pads beyond the kernel's reach: no adjoint convolution.
		{batch: 5, c: 3, m: 4, group: 1, in: []int{6, 6}, k: []int{3, 3}, s: []int{1, 1}, dil: []int{1, 1}, padB: []int{3, 1}, padE: []int{1, 3}},
		// Strides 2, on the phase planes: odd sizes, asymmetric pads, even
		// and larger kernels, one image with its output channels split.
		{batch: 6, c: 3, m: 5, group: 1, in: []int{28, 28}, k: []int{3, 3}, s: []int{2, 2}, dil: []int{1, 1}, padB: []int{1, 1}, padE: []int{1, 1}},
		{batch: 5, c: 4, m: 3, group: 1, in: []int{7, 9}, k: []int{3, 3}, s: []int{2, 2}, dil: []int{1, 1}, padB: []int{0, 1}, padE: []int{1, 0}},
		{batch: 3, c: 2, m: 4, group: 1, in: []int{8, 6}, k: []int{2, 2}, s: []int{2, 2}, dil: []int{1, 1}, padB: []int{0, 0}, padE: []int{0, 0}},
		{batch: 2, c: 3, m: 2, group: 1, in: []int{11, 10}, k: []int{5, 5}, s: []int{2, 2}, dil: []int{1, 1}, padB: []int{2, 2}, padE: []int{2, 1}},
		{batch: 1, c: 4, m: 40, group: 1, in: []int{9, 9}, k: []int{3, 3}, s: []int{2, 2}, dil: []int{1, 1}, padB: []int{1, 1}, padE: []int{1, 1}},
	} {
		t.Run(fmt.Sprint(cc.batch, cc.in, cc.k, cc.padB, cc.padE), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(4, 4))
			x := randTensor(rng, append([]int{cc.batch, cc.c}, cc.in...)...)
			w := randTensor(rng, append([]int{cc.m, cc.c / cc.group}, cc.k...)...)
			n := &ir.Node{Op: ir.OpConv, Attrs: cc.attrs()}
			g, err := newGeom(n, cc.in, cc.k, false)
			if err != nil {
				t.Fatal(err)
			}
			if !g.widePadded() || cc.group > 1 && (cc.c/cc.group < wideMinGroup || cc.m/cc.group < wideMinGroup) {
				t.Fatal("not a padded-layout convolution")
			}
			for _, k := range testKernels {
				e, err := New(&ir.Graph{}, WithKernels(k), WithThreads(2))
				if err != nil {
					t.Fatal(err)
				}
				yWide, yRef := newF32([]int{cc.batch, cc.m, g.outVol}), newF32([]int{cc.batch, cc.m, g.outVol})
				convWide(e, x.F32, w.F32, nil, yWide.F32, cc.batch, cc.c, cc.m, cc.group, g, false)
				if cc.group == 1 {
					convGemm(e, x.F32, w.F32, yRef.F32, cc.batch, cc.c, cc.m, g)
				} else {
					convDirect(e, x.F32, w.F32, yRef.F32, cc.batch, cc.c, cc.m, cc.group, g)
				}
				if msg := sameTensor(yWide, yRef, 1e-5); msg != "" {
					t.Fatalf("%T forward: %s", k, msg)
				}
				dy := randTensor(rng, cc.batch, cc.m, g.outVol)
				nch := min(cc.batch, gradChunks)
				grads := func(f func(dx *ir.Tensor, parts [][]float32)) (*ir.Tensor, *ir.Tensor) {
					dx := newF32(ints(x.Dims))
					parts := make([][]float32, nch)
					for i := range parts {
						parts[i] = make([]float32, len(w.F32))
					}
					f(dx, parts)
					dw := newF32(ints(w.Dims))
					sumParts(e, dw.F32, parts)
					return dx, dw
				}
				dxWide, dwWide := grads(func(dx *ir.Tensor, parts [][]float32) {
					convWideBackward(e, x.F32, w.F32, dy.F32, dx, parts, cc.batch, cc.c, cc.m, cc.group, g)
				})
				dxRef, dwRef := grads(func(dx *ir.Tensor, parts [][]float32) {
					if cc.group == 1 {
						convGemmBackward(e, x.F32, w.F32, dy.F32, dx, parts, cc.batch, cc.c, cc.m, g)
					} else {
						convDirectBackward(e, x.F32, w.F32, dy.F32, dx, parts, cc.batch, cc.c, cc.m, cc.group, g)
					}
				})
				if msg := sameTensor(dxWide, dxRef, 1e-5); msg != "" {
					t.Errorf("%T input gradient: %s", k, msg)
				}
				// convBackward's input gradient: the adjoint convolution, where there is one.
				ga, ok := g.adjoint()
				beyond := false
				for i, k := range cc.k {
					beyond = beyond || (k-1)*cc.dil[i] < max(cc.padB[i], cc.padE[i])
				}
				if g.phased() {
					beyond = true // strided: no adjoint convolution at all
				}
				if ok == beyond {
					t.Fatalf("adjoint ok %v for pads %v %v", ok, cc.padB, cc.padE)
				}
				if ok {
					wt := make([]float32, len(w.F32))
					flipKernels(wt, w.F32, cc.c, cc.m, cc.group, g.kVol)
					dxAdj := newF32(ints(x.Dims))
					convWide(e, dy.F32, wt, nil, dxAdj.F32, cc.batch, cc.m, cc.c, cc.group, ga, false)
					if msg := sameTensor(dxAdj, dxRef, 1e-5); msg != "" {
						t.Errorf("%T input gradient as the adjoint convolution: %s", k, msg)
					}
				}
				if msg := sameTensor(dwWide, dwRef, 1e-4); msg != "" {
					t.Errorf("%T weight gradient: %s", k, msg)
				}
			}
		})
	}
}

// TestGroupedPhasesMatchDirect compares the phase-plane path of every
// grouped 1-D/2-D case of convCases, forward and both gradients, with the
// direct loops, for several thread counts (bitwise equal among them). The
// input gradient buffer starts as NaN: the phase path must write every
// element, zero where no tap reads the input.
func TestGroupedPhasesMatchDirect(t *testing.T) {
	rng := rand.New(rand.NewPCG(8, 9))
	for i, cc := range convCases {
		if cc.group == 1 || len(cc.in) > 2 {
			continue
		}
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			x := randTensor(rng, append([]int{cc.batch, cc.c}, cc.in...)...)
			w := randTensor(rng, append([]int{cc.m, cc.c / cc.group}, cc.k...)...)
			n := &ir.Node{Op: ir.OpConv, Attrs: cc.attrs()}
			g, err := newGeom(n, cc.in, cc.k, false)
			if err != nil {
				t.Fatal(err)
			}
			if !groupedFast(cc.group, g) {
				t.Fatal("not a phase-plane convolution")
			}
			dy := randTensor(rng, cc.batch, cc.m, g.outVol)
			nch := min(cc.batch, gradChunks)
			type result struct{ y, dx, dw *ir.Tensor }
			run := func(threads int, phases bool) result {
				e := &Executor{cfg: config{threads: threads, kernels: Gonum{}}}
				r := result{newF32([]int{cc.batch, cc.m, g.outVol}), newF32(ints(x.Dims)), newF32(ints(w.Dims))}
				parts := make([][]float32, nch)
				for i := range parts {
					parts[i] = make([]float32, len(w.F32))
				}
				if phases {
					for i := range r.dx.F32 {
						r.dx.F32[i] = float32(math.NaN())
					}
					convGrouped(e, x.F32, w.F32, nil, r.y.F32, cc.batch, cc.c, cc.m, cc.group, g, false)
					convGroupedBackward(e, x.F32, w.F32, dy.F32, r.dx.F32, parts, cc.batch, cc.c, cc.m, cc.group, g)
				} else {
					convDirect(e, x.F32, w.F32, r.y.F32, cc.batch, cc.c, cc.m, cc.group, g)
					convDirectBackward(e, x.F32, w.F32, dy.F32, r.dx, parts, cc.batch, cc.c, cc.m, cc.group, g)
				}
				sumParts(e, r.dw.F32, parts)
				return r
			}
			ref := run(1, false)
			first := run(1, true)
			for _, threads := range []int{1, 2, 3} {
				got := run(threads, true)
				for _, c := range []struct {
					name      string
					got, want *ir.Tensor
					first     []float32
				}{{"output", got.y, ref.y, first.y.F32}, {"input gradient", got.dx, ref.dx, first.dx.F32}, {"weight gradient", got.dw, ref.dw, first.dw.F32}} {
					if msg := sameTensor(c.got, c.want, 1e-4); msg != "" {
						t.Errorf("threads %d, %s: %s", threads, c.name, msg)
					}
					if !slices.Equal(c.got.F32, c.first) {
						t.Errorf("threads %d, %s: differs bitwise from threads 1", threads, c.name)
					}
				}
			}
		})
	}
}

// BenchmarkGroupedPaths times 3×3 grouped layers (batch 64, 32 channels,
// 28×28, pad 1, one thread, the build's fastest kernels): depthwise (32
// groups), 8, 4 and 2 groups with unit strides, and depthwise with stride 2
// (28×28 → 14×14), on the phase-plane path, on convWide's per-group matrix
// products (unit strides; wideMinGroup comes from this comparison) and, as
// the anchor in the same run, on the direct loops that 3-D grouped convs and
// larger strides keep: forward, and backward with both gradients.
func BenchmarkGroupedPaths(b *testing.B) {
	const batch, c, size = 64, 32, 28
	for _, l := range []struct {
		name        string
		grp, stride int
	}{{"depthwise", c, 1}, {"g8", 8, 1}, {"g4", 4, 1}, {"g2", 2, 1}, {"depthwise-s2", c, 2}} {
		grp, s := l.grp, l.stride
		cc := convCase{batch: batch, c: c, m: c, group: grp, in: []int{size, size}, k: []int{3, 3}, s: []int{s, s}, dil: []int{1, 1}, padB: []int{1, 1}, padE: []int{1, 1}}
		rng := rand.New(rand.NewPCG(3, 4))
		x := randTensor(rng, batch, c, size, size)
		w := randTensor(rng, c, c/grp, 3, 3)
		g, _ := graph1(ir.OpConv, cc.attrs(), ins(x, w), 1)
		gm, err := newGeom(g.Nodes[0], []int{size, size}, []int{3, 3}, false)
		if err != nil {
			b.Fatal(err)
		}
		e := &Executor{cfg: config{threads: 1, kernels: testKernels[len(testKernels)-1]}}
		y, dy := make([]float32, batch*c*gm.outVol), make([]float32, batch*c*gm.outVol)
		dx := &ir.Tensor{DType: ir.Float32, Dims: x.Dims, F32: make([]float32, len(x.F32))}
		parts := make([][]float32, gradChunks)
		for i := range parts {
			parts[i] = make([]float32, len(w.F32))
		}
		paths := []struct {
			name          string
			forward, back func()
		}{
			{"padded", func() { convGrouped(e, x.F32, w.F32, nil, y, batch, c, c, grp, gm, false) },
				func() { convGroupedBackward(e, x.F32, w.F32, dy, dx.F32, parts, batch, c, c, grp, gm) }},
			{"direct", func() { clear(y); convDirect(e, x.F32, w.F32, y, batch, c, c, grp, gm) },
				func() { clear(dx.F32); convDirectBackward(e, x.F32, w.F32, dy, dx, parts, batch, c, c, grp, gm) }},
		}
		if gm.widePadded() && c/grp > 1 {
			paths = append(paths, struct {
				name          string
				forward, back func()
			}{"wide", func() { convWide(e, x.F32, w.F32, nil, y, batch, c, c, grp, gm, false) },
				func() { convWideBackward(e, x.F32, w.F32, dy, dx, parts, batch, c, c, grp, gm) }})
		}
		for _, p := range paths {
			b.Run(l.name+"/"+p.name+"/forward", func(b *testing.B) {
				for range b.N {
					p.forward()
				}
				b.ReportMetric(float64(b.N*batch)/b.Elapsed().Seconds(), "img/s")
			})
			b.Run(l.name+"/"+p.name+"/backward", func(b *testing.B) {
				for range b.N {
					p.back()
				}
				b.ReportMetric(float64(b.N*batch)/b.Elapsed().Seconds(), "img/s")
			})
		}
	}
}

// TestSubsampleBackward checks the gradients of 1×1 stride-2 convolutions
// (geom.subsample: gathered and scattered by the vector kernels) against
// their definitions: dX is Wᵀ·dY at the even columns of the even rows and
// 0 elsewhere, dW sums dY times those inputs. The arena is poisoned, so
// an element of dX left unwritten shows.
func TestSubsampleBackward(t *testing.T) {
	poisonArena = true
	defer func() { poisonArena = false }()
	rng := rand.New(rand.NewPCG(4, 5))
	for _, cc := range convCases {
		n := &ir.Node{Op: ir.OpConv, Attrs: cc.attrs()}
		g, err := newGeom(n, cc.in, cc.k, false)
		if err != nil {
			t.Fatal(err)
		}
		if cc.group != 1 || !g.subsample() {
			continue
		}
		h, w, ho, wo := cc.in[0], cc.in[1], g.out[1], g.out[2]
		x := randTensor(rng, cc.batch, cc.c, h, w)
		wt := randTensor(rng, cc.m, cc.c, 1, 1)
		dy := randTensor(rng, cc.batch, cc.m, ho, wo)
		for _, k := range testKernels {
			e, err := New(&ir.Graph{}, WithKernels(k), WithThreads(2))
			if err != nil {
				t.Fatal(err)
			}
			var r *Executor
			var gr []*ir.Tensor
			for range 2 { // the second run takes the first's buffers back, poisoned
				if r != nil {
					r.rs.finish(nil)
				}
				r = e.inRun()
				out, err := conv(r, n, []*ir.Tensor{x, wt})
				if err != nil {
					t.Fatal(err)
				}
				if gr, err = convBackward(r, n, []*ir.Tensor{x, wt}, out, []*ir.Tensor{dy}, []bool{true, true}); err != nil {
					t.Fatal(err)
				}
			}
			for b := range cc.batch {
				for c := range cc.c {
					for iy := range h {
						for ix := range w {
							var want float64
							if iy%2 == 0 && ix%2 == 0 {
								for m := range cc.m {
									want += float64(wt.F32[m*cc.c+c]) * float64(dy.F32[((b*cc.m+m)*ho+iy/2)*wo+ix/2])
								}
							}
							if got := float64(gr[0].F32[((b*cc.c+c)*h+iy)*w+ix]); !(math.Abs(got-want) <= 1e-4*(1+math.Abs(want))) {
								t.Fatalf("%T %v: dX[%d,%d,%d,%d] = %v, want %v", k, cc.in, b, c, iy, ix, got, want)
							}
						}
					}
				}
			}
			for m := range cc.m {
				for c := range cc.c {
					var want float64
					for b := range cc.batch {
						for oy := range ho {
							for ox := range wo {
								want += float64(dy.F32[((b*cc.m+m)*ho+oy)*wo+ox]) * float64(x.F32[((b*cc.c+c)*h+2*oy)*w+2*ox])
							}
						}
					}
					if got := float64(gr[1].F32[m*cc.c+c]); !(math.Abs(got-want) <= 1e-4*(1+math.Abs(want))) {
						t.Fatalf("%T %v: dW[%d,%d] = %v, want %v", k, cc.in, m, c, got, want)
					}
				}
			}
			r.rs.finish(nil)
		}
	}
}
