package engine

import (
	"fmt"
	"math"

	"github.com/ferminets/fermi/engine/simd"
	"github.com/ferminets/fermi/ir"
)

// poolSetup checks a pool's input [N, C, spatial...] and returns its
// geometry and the output tensor.
func poolSetup(e *Executor, n *ir.Node, x *ir.Tensor) (*geom, *ir.Tensor, error) {
	g, err := poolGeom(n, x)
	if err != nil {
		return nil, nil, err
	}
	return g, e.allocRaw(append(ints(x.Dims[:2]), g.outDimsSp...)), nil // pools write every output
}

// poolGeom checks a pool's input [N, C, spatial...] and returns its
// geometry.
func poolGeom(n *ir.Node, x *ir.Tensor) (*geom, error) {
	if err := needF32(x, "input", -1); err != nil {
		return nil, err
	}
	if len(x.Dims) < 3 || len(x.Dims) > 5 {
		return nil, fmt.Errorf("input has %d dims, want 3 to 5", len(x.Dims))
	}
	g, err := newGeom(n, ints(x.Dims[2:]), ints(n.Ints("kernel_shape")), n.Int("ceil_mode") != 0)
	if err != nil {
		return nil, err
	}
	return g, nil
}

// axisWin is the window of one output position along one axis: input
// position start + k·d for kernel taps k in [lo, hi) are inside the input,
// and padded taps are inside the padded input.
type axisWin struct{ start, lo, hi, padded int }

// windows returns the window of every output position along axis a.
func (g *geom) windows(a int) []axisWin {
	w := make([]axisWin, g.out[a])
	for o := range w {
		start := o*g.s[a] - g.padBegin[a]
		lo, hi := span(g.k[a], g.d[a], start, g.in[a])
		pl, ph := span(g.k[a], g.d[a], start+g.padBegin[a], g.in[a]+g.padBegin[a]+g.padEnd[a])
		w[o] = axisWin{start, lo, hi, ph - pl}
	}
	return w
}

// maxPool takes the window max (padding never wins). The optional second
// output holds argmax indices into the flattened input, row-major
// (storage_order 0) or with spatial dims column-major (storage_order 1).
func maxPool(e *Executor, n *ir.Node, in []*ir.Tensor) ([]*ir.Tensor, error) {
	x := in[0]
	g, y, err := poolSetup(e, n, x)
	if err != nil {
		return nil, err
	}
	planes := int(x.Dims[0] * x.Dims[1])
	withIdx := len(n.Outputs) > 1 && n.Outputs[1] != nil && n.Outputs[1].Name != ""
	var idx *ir.Tensor
	if withIdx {
		idx = &ir.Tensor{DType: ir.Int64, Dims: y.Dims, I64: make([]int64, len(y.F32))}
	}
	if !withIdx && g.windowsInside() {
		e.parallel(planes, func(lo, hi int) {
			for pl := lo; pl < hi; pl++ {
				maxPlane(g, x.F32[pl*g.inVol:(pl+1)*g.inVol], y.F32[pl*g.outVol:(pl+1)*g.outVol], nil, nil)
			}
		})
		return []*ir.Tensor{y}, nil
	}
	colMajor := n.Int("storage_order") == 1
	wz, wy, wx := g.windows(0), g.windows(1), g.windows(2)
	e.parallel(planes, func(lo, hi int) {
		for pl := lo; pl < hi; pl++ {
			xp := x.F32[pl*g.inVol : (pl+1)*g.inVol]
			o := pl * g.outVol
			for _, az := range wz {
				for _, ay := range wy {
					for _, ax := range wx {
						best, arg := g.windowMax(xp, az, ay, ax)
						y.F32[o] = best
						if withIdx {
							if colMajor && arg >= 0 { // spatial dims column-major
								z, yy, xx := arg/(g.in[1]*g.in[2]), arg/g.in[2]%g.in[1], arg%g.in[2]
								arg = (xx*g.in[1]+yy)*g.in[0] + z
							}
							idx.I64[o] = int64(pl*g.inVol + arg)
						}
						o++
					}
				}
			}
		}
	})
	if withIdx {
		return []*ir.Tensor{y, idx}, nil
	}
	return []*ir.Tensor{y}, nil
}

// averagePool takes the window mean, summing in float64. The divisor counts
// the window's positions inside the input, or inside the padded input when
// count_include_pad is set.
func averagePool(e *Executor, n *ir.Node, in []*ir.Tensor) ([]*ir.Tensor, error) {
	x := in[0]
	g, y, err := poolSetup(e, n, x)
	if err != nil {
		return nil, err
	}
	incl := n.Int("count_include_pad") != 0
	planes := int(x.Dims[0] * x.Dims[1])
	wz, wy, wx := g.windows(0), g.windows(1), g.windows(2)
	e.parallel(planes, func(lo, hi int) {
		for pl := lo; pl < hi; pl++ {
			xp := x.F32[pl*g.inVol : (pl+1)*g.inVol]
			o := pl * g.outVol
			for _, az := range wz {
				for _, ay := range wy {
					for _, ax := range wx {
						var s float64
						for kz := az.lo; kz < az.hi; kz++ {
							z := az.start + kz*g.d[0]
							for ky := ay.lo; ky < ay.hi; ky++ {
								row := (z*g.in[1] + ay.start + ky*g.d[1]) * g.in[2]
								for kx := ax.lo; kx < ax.hi; kx++ {
									s += float64(xp[row+ax.start+kx*g.d[2]])
								}
							}
						}
						cnt := (az.hi - az.lo) * (ay.hi - ay.lo) * (ax.hi - ax.lo)
						if incl {
							cnt = az.padded * ay.padded * ax.padded
						}
						y.F32[o] = float32(s / float64(cnt))
						o++
					}
				}
			}
		}
	})
	return []*ir.Tensor{y}, nil
}

// globalAveragePool averages each [N, C] plane over all spatial dims.
func globalAveragePool(e *Executor, n *ir.Node, in []*ir.Tensor) ([]*ir.Tensor, error) {
	x := in[0]
	if err := needF32(x, "input", -1); err != nil {
		return nil, err
	}
	if len(x.Dims) < 2 {
		return nil, fmt.Errorf("input has %d dims, want at least 2", len(x.Dims))
	}
	out := ints(x.Dims)
	vol := prod(out[2:])
	for i := 2; i < len(out); i++ {
		out[i] = 1
	}
	y := e.allocRaw(out)
	for pl := range y.F32 {
		var s float64
		for _, v := range x.F32[pl*vol : (pl+1)*vol] {
			s += float64(v)
		}
		y.F32[pl] = float32(s / float64(vol))
	}
	return []*ir.Tensor{y}, nil
}

// maxPoolBackward routes each output gradient to the input position that
// won its window (the first maximum, as maxPool picks it).
func maxPoolBackward(e *Executor, n *ir.Node, in, out, dout []*ir.Tensor, need []bool) ([]*ir.Tensor, error) {
	x, dy := in[0], dout[0]
	g, err := poolGeom(n, x)
	if err != nil {
		return nil, err
	}
	planes := int(x.Dims[0] * x.Dims[1])
	if g.windowsInside() && g.is2x2() && len(out) > 0 && out[0] != nil {
		dx, y := e.allocRaw(ints(x.Dims)), out[0] // every element is written
		e.parallel(planes, func(lo, hi int) {
			for pl := lo; pl < hi; pl++ {
				maxPlane2x2Backward(g.in[1], g.in[2], g.out[1], g.out[2], x.F32[pl*g.inVol:(pl+1)*g.inVol], y.F32[pl*g.outVol:(pl+1)*g.outVol],
					dy.F32[pl*g.outVol:(pl+1)*g.outVol], dx.F32[pl*g.inVol:(pl+1)*g.inVol])
			}
		})
		return []*ir.Tensor{dx}, nil
	}
	dx := e.alloc(ints(x.Dims))
	if g.windowsInside() {
		e.parallel(planes, func(lo, hi int) {
			for pl := lo; pl < hi; pl++ {
				maxPlane(g, x.F32[pl*g.inVol:(pl+1)*g.inVol], nil, dy.F32[pl*g.outVol:(pl+1)*g.outVol], dx.F32[pl*g.inVol:(pl+1)*g.inVol])
			}
		})
		return []*ir.Tensor{dx}, nil
	}
	wz, wy, wx := g.windows(0), g.windows(1), g.windows(2)
	e.parallel(planes, func(lo, hi int) {
		for pl := lo; pl < hi; pl++ {
			xp := x.F32[pl*g.inVol : (pl+1)*g.inVol]
			dp := dx.F32[pl*g.inVol : (pl+1)*g.inVol]
			o := pl * g.outVol
			for _, az := range wz {
				for _, ay := range wy {
					for _, ax := range wx {
						if _, arg := g.windowMax(xp, az, ay, ax); arg >= 0 {
							dp[arg] += dy.F32[o]
						}
						o++
					}
				}
			}
		}
	})
	return []*ir.Tensor{dx}, nil
}

// averagePoolBackward spreads each output gradient evenly over its window
// (divided by the same count averagePool divides by).
func averagePoolBackward(e *Executor, n *ir.Node, in, out, dout []*ir.Tensor, need []bool) ([]*ir.Tensor, error) {
	x, dy := in[0], dout[0]
	g, err := poolGeom(n, x)
	if err != nil {
		return nil, err
	}
	incl := n.Int("count_include_pad") != 0
	dx := e.alloc(ints(x.Dims))
	planes := int(x.Dims[0] * x.Dims[1])
	wz, wy, wx := g.windows(0), g.windows(1), g.windows(2)
	e.parallel(planes, func(lo, hi int) {
		for pl := lo; pl < hi; pl++ {
			dp := dx.F32[pl*g.inVol : (pl+1)*g.inVol]
			o := pl * g.outVol
			for _, az := range wz {
				for _, ay := range wy {
					for _, ax := range wx {
						cnt := (az.hi - az.lo) * (ay.hi - ay.lo) * (ax.hi - ax.lo)
						if incl {
							cnt = az.padded * ay.padded * ax.padded
						}
						v := dy.F32[o] / float32(cnt)
						o++
						for kz := az.lo; kz < az.hi; kz++ {
							z := az.start + kz*g.d[0]
							for ky := ay.lo; ky < ay.hi; ky++ {
								row := (z*g.in[1] + ay.start + ky*g.d[1]) * g.in[2]
								for kx := ax.lo; kx < ax.hi; kx++ {
									dp[row+ax.start+kx*g.d[2]] += v
								}
							}
						}
					}
				}
			}
		}
	})
	return []*ir.Tensor{dx}, nil
}

// globalAveragePoolBackward spreads each plane's gradient evenly over the
// plane.
func globalAveragePoolBackward(e *Executor, n *ir.Node, in, out, dout []*ir.Tensor, need []bool) ([]*ir.Tensor, error) {
	x, dy := in[0], dout[0]
	dx := e.allocRaw(ints(x.Dims))
	vol := prod(ints(x.Dims[2:]))
	for pl, d := range dy.F32 {
		v := d / float32(vol)
		p := dx.F32[pl*vol : (pl+1)*vol]
		for i := range p {
			p[i] = v
		}
	}
	return []*ir.Tensor{dx}, nil
}

// windowsInside reports whether g is a pool over at most 2 spatial dims
// whose every window lies wholly inside the input (no padding reached,
// ceil_mode windows included), the case maxPlane computes.
func (g *geom) windowsInside() bool {
	if g.rank > 2 || g.padBegin != [3]int{} {
		return false
	}
	for a := 1; a < 3; a++ {
		if (g.out[a]-1)*g.s[a]+(g.k[a]-1)*g.d[a] >= g.in[a] {
			return false
		}
	}
	return true
}

// windowMax returns the maximum of one window of plane xp and the index of
// its winner, the first tap in row-major order holding the maximum; arg is
// -1 for a window wholly in padding (its maximum is −∞). A NaN anywhere in
// the window makes the maximum NaN (as PyTorch's max pooling does) and the
// winner the window's first tap.
func (g *geom) windowMax(xp []float32, az, ay, ax axisWin) (best float32, arg int) {
	best, arg = float32(math.Inf(-1)), -1
	for pass := 0; pass < 2; pass++ { // the maximum, then its first tap
		for kz := az.lo; kz < az.hi; kz++ {
			z := az.start + kz*g.d[0]
			for ky := ay.lo; ky < ay.hi; ky++ {
				row := (z*g.in[1] + ay.start + ky*g.d[1]) * g.in[2]
				for kx := ax.lo; kx < ax.hi; kx++ {
					i := row + ax.start + kx*g.d[2]
					if pass == 0 {
						best = max(best, xp[i])
					} else if arg < 0 && xp[i] >= best {
						arg = i
					}
				}
			}
		}
	}
	if arg < 0 && az.hi > az.lo && ay.hi > ay.lo && ax.hi > ax.lo { // NaN
		arg = ((az.start+az.lo*g.d[0])*g.in[1]+ay.start+ay.lo*g.d[1])*g.in[2] + ax.start + ax.lo*g.d[2]
	}
	return best, arg
}

// maxPlane is MaxPool on one plane xp whose windows all lie inside it
// (windowsInside), with windowMax's maximum and winner. With y non-nil it
// writes the maxima; otherwise it routes the output gradient dy to the
// winners in dx. The builtin max keeps data-dependent branches out of the
// maximum (taking the first larger tap with a branch mispredicted so often
// that MaxPool was a third of a small network's training step); the 2×2
// stride-2 kernels, most pools, find the winner without branches too.
func maxPlane(g *geom, xp, y, dy, dx []float32) {
	ky, kx, sy, sx, dly, dlx := g.k[1], g.k[2], g.s[1], g.s[2], g.d[1], g.d[2]
	in2 := g.in[2]
	if y != nil && g.is2x2() {
		maxPlane2x2(in2, g.out[1], g.out[2], xp, y)
		return
	}
	o := 0
	for oy := 0; oy < g.out[1]; oy++ {
		for ox := 0; ox < g.out[2]; ox++ {
			base := oy*sy*in2 + ox*sx
			best := xp[base]
			for iy := 0; iy < ky; iy++ {
				row := base + iy*dly*in2
				for ix := 0; ix < kx; ix++ {
					best = max(best, xp[row+ix*dlx])
				}
			}
			if y != nil {
				y[o] = best
				o++
				continue
			}
			arg := base // also a NaN window's winner
			for iy := ky - 1; iy >= 0; iy-- {
				row := base + iy*dly*in2
				for ix := kx - 1; ix >= 0; ix-- {
					if i := row + ix*dlx; xp[i] >= best {
						arg = i
					}
				}
			}
			dx[arg] += dy[o]
			o++
		}
	}
}

// is2x2 reports whether g is the most common pool: 2×2 windows at stride 2
// over 2 spatial dims.
func (g *geom) is2x2() bool {
	return g.rank == 2 && g.k[1] == 2 && g.k[2] == 2 && g.s[1] == 2 && g.s[2] == 2 && g.d[1] == 1 && g.d[2] == 1
}

// maxPlane2x2 is maxPlane's forward for 2×2 windows at stride 2 on a plane
// of rows of in2 values and an out1×out2 output.
func maxPlane2x2(in2, out1, out2 int, xp, y []float32) {
	for oy := 0; oy < out1; oy++ {
		simd.MaxPool2x2Row(y[oy*out2:(oy+1)*out2], xp[2*oy*in2:], xp[(2*oy+1)*in2:])
	}
}

// maxPlane2x2Backward writes the whole input gradient dx of one in1×in2
// plane xp of a 2×2 stride-2 MaxPool whose maxima are y: each output
// gradient goes to the first tap of its window holding the maximum (a NaN
// window's to its first tap), every other element, rows and columns no
// window reads included, is zero. The winners are found by arithmetic on
// the bits (simd.MaxPool2x2BackRow), not by a data-dependent branch per
// tap, which made MaxPool a third of a small network's training step.
func maxPlane2x2Backward(in1, in2, out1, out2 int, xp, y, dy, dx []float32) {
	for oy := 0; oy < out1; oy++ {
		d0 := dx[2*oy*in2 : (2*oy+1)*in2]
		d1 := dx[(2*oy+1)*in2 : (2*oy+2)*in2]
		simd.MaxPool2x2BackRow(d0, d1, xp[2*oy*in2:], xp[(2*oy+1)*in2:], y[oy*out2:(oy+1)*out2], dy[oy*out2:])
		clear(d0[2*out2:])
		clear(d1[2*out2:])
	}
	clear(dx[2*out1*in2 : in1*in2])
}
