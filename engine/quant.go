package engine

import (
	"fmt"
	"math"

	"github.com/ferminets/fermi/ir"
)

// quantParams returns, for input x, the scale and zero point that apply to
// each element: per tensor (scalar scale) or per axis (1-D scale of length
// dims[axis]). zp may be nil (zero point 0).
func quantParams(n *ir.Node, x, scale, zp *ir.Tensor) (idx func(i int) int, err error) {
	if err := needF32(scale, "scale", -1); err != nil {
		return nil, err
	}
	if zp != nil && (zp.Len() != scale.Len() || len(zp.Dims) != len(scale.Dims)) {
		return nil, fmt.Errorf("zero point %v does not match scale %v", zp.Dims, scale.Dims)
	}
	switch {
	case len(scale.Dims) == 0 || (len(scale.Dims) == 1 && scale.Dims[0] == 1 && len(x.Dims) == 0):
		return func(int) int { return 0 }, nil
	case len(scale.Dims) == 1:
		ax, err := axis(n.Int("axis"), len(x.Dims))
		if err != nil {
			return nil, err
		}
		if x.Dims[ax] != scale.Dims[0] {
			if scale.Dims[0] == 1 {
				return func(int) int { return 0 }, nil
			}
			return nil, fmt.Errorf("scale has %d values, axis %d has size %d", scale.Dims[0], ax, x.Dims[ax])
		}
		inner := int(ir.NumElements(x.Dims[ax+1:]))
		c := int(x.Dims[ax])
		return func(i int) int { return i / inner % c }, nil
	}
	return nil, fmt.Errorf("scale has %d dims, want a scalar or 1-D", len(scale.Dims))
}

// quantRange is the saturation range of each quantized dtype.
var quantRange = map[ir.DType][2]float64{ir.Uint8: {0, 255}, ir.Int8: {-128, 127}}

// quantizeLinear computes saturate(round(x/scale) + zero_point), rounding
// half to even; the result has the zero point's dtype (uint8 by default).
func quantizeLinear(e *Executor, n *ir.Node, in []*ir.Tensor) ([]*ir.Tensor, error) {
	x := in[0]
	if err := needF32(x, "input", -1); err != nil {
		return nil, err
	}
	var zp *ir.Tensor
	if len(in) > 2 {
		zp = in[2]
	}
	dt := ir.Uint8
	if zp != nil {
		dt = zp.DType
	}
	r, ok := quantRange[dt]
	if !ok {
		return nil, fmt.Errorf("zero point is %v, want u8 or i8", dt)
	}
	idx, err := quantParams(n, x, in[1], zp)
	if err != nil {
		return nil, err
	}
	var z []float64
	if zp != nil {
		z = zp.Float64s()
	}
	y := alloc(dt, ints(x.Dims))
	for i, v := range x.F32 {
		c := idx(i)
		q := math.RoundToEven(float64(v / in[1].F32[c]))
		if z != nil {
			q += z[c]
		}
		y.Raw[i] = byte(int64(min(max(q, r[0]), r[1]))) // two's complement for int8
	}
	return []*ir.Tensor{y}, nil
}

// dequantizeLinear computes (x − zero_point)·scale for int8, uint8 or int32 x.
func dequantizeLinear(e *Executor, n *ir.Node, in []*ir.Tensor) ([]*ir.Tensor, error) {
	x := in[0]
	if x.DType != ir.Int8 && x.DType != ir.Uint8 && x.DType != ir.Int32 {
		return nil, fmt.Errorf("input is %v, want i8, u8 or i32", x.DType)
	}
	var zp *ir.Tensor
	if len(in) > 2 && in[2] != nil {
		zp = in[2]
		if zp.DType != x.DType {
			return nil, fmt.Errorf("zero point is %v, input %v", zp.DType, x.DType)
		}
	}
	idx, err := quantParams(n, x, in[1], zp)
	if err != nil {
		return nil, err
	}
	xv := x.Float64s()
	var z []float64
	if zp != nil {
		z = zp.Float64s()
	}
	y := newF32(ints(x.Dims))
	for i, v := range xv {
		c := idx(i)
		if z != nil {
			v -= z[c]
		}
		y.F32[i] = float32(v) * in[1].F32[c]
	}
	return []*ir.Tensor{y}, nil
}
