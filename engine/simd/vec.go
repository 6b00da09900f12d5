package simd

import "math"

// The vector kernels below run 8 floats at a time in assembly where
// Available, and the same arithmetic in Go elsewhere and on the last
// len mod 8 elements, so their results do not depend on the CPU (but for
// which NaN a NaN result is: that follows operand order, which Go's
// compiler may swap). Products that the assembly rounds before a sum are
// converted to float32 in Go, which forbids the compiler to fuse them.

// Affine sets y = x·a + b, the product rounded before the sum; with relu
// set, y = max(x·a + b, 0) as Go's max computes it (NaN stays NaN, −0 is
// +0).
func Affine(y, x []float32, a, b float32, relu bool) {
	x = x[:len(y)]
	n8 := 0
	if haveKernel {
		n8 = len(y) &^ 7
		if n8 > 0 {
			if relu {
				affineRelu8(&y[0], &x[0], n8, a, b)
			} else {
				affine8(&y[0], &x[0], n8, a, b)
			}
		}
	}
	for i := n8; i < len(y); i++ {
		v := float32(x[i]*a) + b // the conversion forbids fusing into an FMA
		if relu {
			v = max(v, 0)
		}
		y[i] = v
	}
}

// Rectifier is the Relu that a BatchNormalization fused into its output,
// y = max(x·A + B, 0), told from its input x: with On set, a gradient g
// passes where x·A + B > 0 (the product rounded before the sum, as Affine
// computes it, so exactly where y > 0) and is +0 elsewhere; otherwise it
// passes everywhere. Recomputing the sign costs a multiply and an add per
// float; reading y would cost a pass over a tensor.
type Rectifier struct {
	A, B float32
	On   bool
}

// pass returns g masked as r says for input x.
func (r Rectifier) pass(g, x float32) float32 {
	if !r.On {
		return g
	}
	return ReluMask(g, float32(x*r.A)+r.B)
}

// asmArgs returns r as the assembly takes it: its A and B, and 1 when on.
func (r Rectifier) asmArgs() (a, b float32, on int) {
	if r.On {
		on = 1
	}
	return r.A, r.B, on
}

// BNGrad sets dx = (alpha·g + beta·x) + gamma, each product and sum
// rounded, where g = dy masked by the rectifier r of x.
func BNGrad(dx, dy, x []float32, r Rectifier, alpha, beta, gamma float32) {
	dy, x = dy[:len(dx)], x[:len(dx)]
	n8 := 0
	if haveKernel {
		n8 = len(dx) &^ 7
		if n8 > 0 {
			a, b, on := r.asmArgs()
			bnGrad8(&dx[0], &dy[0], &x[0], n8, alpha, beta, gamma, a, b, on)
		}
	}
	for i := n8; i < len(dx); i++ {
		g := r.pass(dy[i], x[i])
		dx[i] = float32(alpha*g) + float32(beta*x[i]) + gamma
	}
}

// ReluGrad sets dx = ReluMask(dy, y) elementwise.
func ReluGrad(dx, y, dy []float32) {
	y, dy = y[:len(dx)], dy[:len(dx)]
	n8 := 0
	if haveKernel {
		n8 = len(dx) &^ 7
		if n8 > 0 {
			reluGrad8(&dx[0], &y[0], &dy[0], n8)
		}
	}
	for i := n8; i < len(dx); i++ {
		dx[i] = ReluMask(dy[i], y[i])
	}
}

// ReluMask returns g where y > 0 and +0 elsewhere (NaN included), by a
// mask on the bits rather than a branch: the sign of activations is close
// to random, so a branch would mispredict often.
func ReluMask(g, y float32) float32 {
	// y > 0 exactly when its bits, as an integer, lie in [1, +Inf]: −0 and
	// negatives have the sign bit, NaNs lie above +Inf.
	var m uint32
	if math.Float32bits(y)-1 < 0x7f800000 {
		m = ^uint32(0)
	}
	return math.Float32frombits(math.Float32bits(g) & m)
}

// SumSq returns Σx and Σx² in float64.
func SumSq(x []float32) (s, q float64) { return sums(x, nil, Rectifier{}) }

// SumDot returns Σg and Σg·x in float64, g masked by the rectifier r of x.
func SumDot(g, x []float32, r Rectifier) (s, d float64) {
	return sums(g, x[:len(g)], r)
}

// sums returns Σg and Σg·w in float64, g = u masked by the rectifier r of
// v, w = v or, when v is nil, g. In blocks of 8: floats 0–3 add into four
// low lanes, 4–7 into four high ones (products fused into the sums); the
// lanes are added pairwise, low + high, then (0 + 2) + (1 + 3); the
// remaining len mod 8 floats follow in order.
func sums(u, v []float32, r Rectifier) (s1, s2 float64) {
	n8 := len(u) &^ 7
	if haveKernel && n8 > 0 {
		var vp *float32
		if v != nil {
			vp = &v[0]
		}
		var out [2]float64
		a, b, on := r.asmArgs()
		sums8(&u[0], vp, n8, &out, a, b, on)
		s1, s2 = out[0], out[1]
	} else if n8 > 0 {
		var a, b [8]float64
		for i := 0; i < n8; i += 8 {
			for l := range 8 {
				g, w := term(u, v, r, i+l)
				a[l] += g
				b[l] = math.FMA(g, w, b[l])
			}
		}
		s1 = ((a[0] + a[4]) + (a[2] + a[6])) + ((a[1] + a[5]) + (a[3] + a[7]))
		s2 = ((b[0] + b[4]) + (b[2] + b[6])) + ((b[1] + b[5]) + (b[3] + b[7]))
	}
	for i := n8; i < len(u); i++ {
		g, w := term(u, v, r, i)
		s1 += g
		s2 = math.FMA(g, w, s2)
	}
	return s1, s2
}

// term returns element i of sums' g and w in float64.
func term(u, v []float32, r Rectifier, i int) (g, w float64) {
	gf := u[i]
	if v != nil {
		gf = r.pass(gf, v[i])
	}
	g, w = float64(gf), float64(gf)
	if v != nil {
		w = float64(v[i])
	}
	return g, w
}

// MaxPool2x2Row sets y[i] = max(max(r0[2i], r0[2i+1]), max(r1[2i],
// r1[2i+1])) with Go's max (a NaN if any tap is one, +0 over −0): one
// output row of a 2×2 stride-2 MaxPool from its two input rows.
func MaxPool2x2Row(y, r0, r1 []float32) {
	n := len(y)
	r0, r1 = r0[:2*n], r1[:2*n]
	if !haveKernel {
		for i := range y {
			y[i] = max(max(r0[2*i], r0[2*i+1]), max(r1[2*i], r1[2*i+1]))
		}
		return
	}
	n8 := n &^ 7
	if n8 > 0 {
		maxPool2x2Row(&y[0], &r0[0], &r1[0], n8)
	}
	if n8 < n { // the last windows, through zero-padded copies: rows are short
		var a, b [16]float32
		var out [8]float32
		copy(a[:], r0[2*n8:])
		copy(b[:], r1[2*n8:])
		maxPool2x2Row(&out[0], &a[0], &b[0], 8)
		copy(y[n8:], out[:n-n8])
	}
}

// MaxPool2x2BackRow is the input gradient of MaxPool2x2Row: it writes
// the 2·len(y) taps of rows d0 and d1, giving dy[i] to the first tap of
// window i (r0[2i], r0[2i+1], r1[2i], r1[2i+1]) whose bits equal y[i]'s,
// to the first when y[i] is a NaN, and +0 to the others.
func MaxPool2x2BackRow(d0, d1, r0, r1, y, dy []float32) {
	n := len(y)
	d0, d1, r0, r1, dy = d0[:2*n], d1[:2*n], r0[:2*n], r1[:2*n], dy[:n]
	n8 := 0
	if haveKernel {
		n8 = n &^ 7
		if n8 > 0 {
			maxPool2x2BackRow(&d0[0], &d1[0], &r0[0], &r1[0], &y[0], &dy[0], n8)
		}
		if n8 < n { // the last windows, through zero-padded copies: rows are short
			var a, b, e0, e1 [16]float32
			var ym, g [8]float32
			copy(a[:], r0[2*n8:])
			copy(b[:], r1[2*n8:])
			copy(ym[:], y[n8:])
			copy(g[:], dy[n8:])
			maxPool2x2BackRow(&e0[0], &e1[0], &a[0], &b[0], &ym[0], &g[0], 8)
			copy(d0[2*n8:], e0[:2*(n-n8)])
			copy(d1[2*n8:], e1[:2*(n-n8)])
		}
		return
	}
	for i := range n {
		// The winner is found by arithmetic on the bits, not by a
		// data-dependent branch per tap.
		m := math.Float32bits(y[i])
		eb := isZero(math.Float32bits(r0[2*i+1]) ^ m)
		ec := isZero(math.Float32bits(r1[2*i]) ^ m)
		ed := isZero(math.Float32bits(r1[2*i+1]) ^ m)
		notA := (1 - isZero(math.Float32bits(r0[2*i])^m)) * (1 - isNaN(m))
		tb := notA * eb
		tc := notA * (1 - eb) * ec
		td := notA * (1 - eb) * (1 - ec) * ed
		gb := math.Float32bits(dy[i]) // masked, not multiplied: 0·Inf is NaN
		d0[2*i] = math.Float32frombits(gb & -uint32(1-tb-tc-td))
		d0[2*i+1] = math.Float32frombits(gb & -uint32(tb))
		d1[2*i] = math.Float32frombits(gb & -uint32(tc))
		d1[2*i+1] = math.Float32frombits(gb & -uint32(td))
	}
}

// isZero is 1 when v is 0 and 0 otherwise, without a branch.
func isZero(v uint32) int { return int((uint64(v) - 1) >> 63) }

// isNaN is 1 when the float32 of bits v is a NaN and 0 otherwise, without
// a branch.
func isNaN(v uint32) int { return int(uint64(0x7f800000-int64(v&0x7fffffff)) >> 63) }

// Add sets y = a + b elementwise.
func Add(y, a, b []float32) {
	a, b = a[:len(y)], b[:len(y)]
	n8 := 0
	if haveKernel {
		n8 = len(y) &^ 7
		if n8 > 0 {
			add8(&y[0], &a[0], &b[0], n8)
		}
	}
	for i := n8; i < len(y); i++ {
		y[i] = a[i] + b[i]
	}
}

// Axpy sets y += a·x elementwise, each product rounded before its sum
// (gonum's Saxpy, in wider vectors).
func Axpy(y []float32, a float32, x []float32) {
	x = x[:len(y)]
	if haveKernel {
		if len(y) > 0 {
			axpy(&y[0], &x[0], len(y), a)
		}
		return
	}
	for i := range y {
		y[i] += float32(a * x[i])
	}
}

// Dot returns Σ x·y in float32: 8 lanes, lane l summing the products of
// elements l, l+8, … (each rounded before its sum), added ((0 + 4) +
// (2 + 6)) + ((1 + 5) + (3 + 7)). Unlike gonum's Sdot, the order does not
// depend on alignment.
func Dot(x, y []float32) float32 {
	y = y[:len(x)]
	if haveKernel {
		if len(x) == 0 {
			return 0
		}
		return dot(&x[0], &y[0], len(x))
	}
	var l [8]float32
	for i := range x {
		l[i%8] += float32(x[i] * y[i])
	}
	return ((l[0] + l[4]) + (l[2] + l[6])) + ((l[1] + l[5]) + (l[3] + l[7]))
}

// CopyRows copies h rows of w floats from src, rows ss floats apart, to
// dst, rows ds floats apart: one call for a plane of short rows, which
// copy would move one runtime call at a time.
func CopyRows(dst []float32, ds int, src []float32, ss, w, h int) {
	if w <= 0 || h <= 0 {
		return
	}
	_, _ = dst[(h-1)*ds+w-1], src[(h-1)*ss+w-1] // the assembly's last row must lie inside
	if haveKernel {
		copyRows(&dst[0], ds, &src[0], ss, w, h)
		return
	}
	for r := range h {
		copy(dst[r*ds:r*ds+w], src[r*ss:r*ss+w])
	}
}

// Deinterleave sets even[k] = src[2k] and odd[k] = src[2k+1]; even holds
// (len(src)+1)/2 floats and odd len(src)/2, and nothing past them is
// written.
func Deinterleave(even, odd, src []float32) {
	n := len(src)
	even, odd = even[:(n+1)/2], odd[:n/2]
	if haveKernel && n >= 8 {
		evenOdd(&src[0], &even[0], &odd[0], n, false)
		return
	}
	for k := range even {
		even[k] = src[2*k]
	}
	for k := range odd {
		odd[k] = src[2*k+1]
	}
}

// Interleave is Deinterleave's inverse: dst[2k] = even[k], dst[2k+1] =
// odd[k].
func Interleave(dst, even, odd []float32) {
	n := len(dst)
	even, odd = even[:(n+1)/2], odd[:n/2]
	if haveKernel && n >= 8 {
		evenOdd(&dst[0], &even[0], &odd[0], n, true)
		return
	}
	for k := range even {
		dst[2*k] = even[k]
	}
	for k := range odd {
		dst[2*k+1] = odd[k]
	}
}
