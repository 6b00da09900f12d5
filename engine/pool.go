package engine

import (
	"fmt"
	"math"

	"github.com/ferminets/fermi/ir"
)

// poolSetup checks a pool's input [N, C, spatial...] and returns its
// geometry and the output tensor.
func poolSetup(n *ir.Node, x *ir.Tensor) (*geom, *ir.Tensor, error) {
	if err := needF32(x, "input", -1); err != nil {
		return nil, nil, err
	}
	if len(x.Dims) < 3 || len(x.Dims) > 5 {
		return nil, nil, fmt.Errorf("input has %d dims, want 3 to 5", len(x.Dims))
	}
	g, err := newGeom(n, ints(x.Dims[2:]), ints(n.Ints("kernel_shape")), n.Int("ceil_mode") != 0)
	if err != nil {
		return nil, nil, err
	}
	return g, newF32(append(ints(x.Dims[:2]), g.outDimsSp...)), nil
}

// window calls f with the flat input index of every in-bounds element of
// the window at output position (oz, oy, ox), and returns how many window
// positions lie inside the padded input [−padBegin, in+padEnd).
func (g *geom) window(oz, oy, ox int, f func(i, z, y, x int)) (padded int) {
	padded = 1
	var lo, hi, cnt [3]int
	o := [3]int{oz, oy, ox}
	for a := 0; a < 3; a++ {
		start := o[a]*g.s[a] - g.padBegin[a]
		lo[a], hi[a] = span(g.k[a], g.d[a], start, g.in[a])
		pl, ph := span(g.k[a], g.d[a], start+g.padBegin[a], g.in[a]+g.padBegin[a]+g.padEnd[a])
		cnt[a] = ph - pl
		padded *= cnt[a]
	}
	for kz := lo[0]; kz < hi[0]; kz++ {
		z := o[0]*g.s[0] - g.padBegin[0] + kz*g.d[0]
		for ky := lo[1]; ky < hi[1]; ky++ {
			y := o[1]*g.s[1] - g.padBegin[1] + ky*g.d[1]
			for kx := lo[2]; kx < hi[2]; kx++ {
				x := o[2]*g.s[2] - g.padBegin[2] + kx*g.d[2]
				f((z*g.in[1]+y)*g.in[2]+x, z, y, x)
			}
		}
	}
	return padded
}

// maxPool takes the window max (padding never wins). The optional second
// output holds argmax indices into the flattened input, row-major
// (storage_order 0) or with spatial dims column-major (storage_order 1).
func maxPool(e *Executor, n *ir.Node, in []*ir.Tensor) ([]*ir.Tensor, error) {
	x := in[0]
	g, y, err := poolSetup(n, x)
	if err != nil {
		return nil, err
	}
	planes := int(x.Dims[0] * x.Dims[1])
	withIdx := len(n.Outputs) > 1 && n.Outputs[1] != nil && n.Outputs[1].Name != ""
	var idx *ir.Tensor
	if withIdx {
		idx = &ir.Tensor{DType: ir.Int64, Dims: y.Dims, I64: make([]int64, len(y.F32))}
	}
	colMajor := n.Int("storage_order") == 1
	e.parallel(planes, func(lo, hi int) {
		for pl := lo; pl < hi; pl++ {
			xp := x.F32[pl*g.inVol : (pl+1)*g.inVol]
			o := pl * g.outVol
			for oz := 0; oz < g.out[0]; oz++ {
				for oy := 0; oy < g.out[1]; oy++ {
					for ox := 0; ox < g.out[2]; ox++ {
						best, arg := float32(math.Inf(-1)), -1
						var az, ay, ax int
						g.window(oz, oy, ox, func(i, z, y, x int) {
							if v := xp[i]; v > best || arg < 0 {
								best, arg, az, ay, ax = v, i, z, y, x
							}
						})
						y.F32[o] = best
						if withIdx {
							if colMajor {
								arg = (ax*g.in[1]+ay)*g.in[0] + az
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
	g, y, err := poolSetup(n, x)
	if err != nil {
		return nil, err
	}
	incl := n.Int("count_include_pad") != 0
	planes := int(x.Dims[0] * x.Dims[1])
	e.parallel(planes, func(lo, hi int) {
		for pl := lo; pl < hi; pl++ {
			xp := x.F32[pl*g.inVol : (pl+1)*g.inVol]
			o := pl * g.outVol
			for oz := 0; oz < g.out[0]; oz++ {
				for oy := 0; oy < g.out[1]; oy++ {
					for ox := 0; ox < g.out[2]; ox++ {
						var s float64
						cnt := 0
						padded := g.window(oz, oy, ox, func(i, _, _, _ int) {
							s += float64(xp[i])
							cnt++
						})
						if incl {
							cnt = padded
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
	y := newF32(out)
	for pl := range y.F32 {
		var s float64
		for _, v := range x.F32[pl*vol : (pl+1)*vol] {
			s += float64(v)
		}
		y.F32[pl] = float32(s / float64(vol))
	}
	return []*ir.Tensor{y}, nil
}
