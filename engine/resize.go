package engine

import (
	"errors"
	"fmt"
	"math"

	"github.com/ferminets/fermi/ir"
)

// tap is one input index and its interpolation weight.
type tap struct {
	i int
	w float64
}

// resize interpolates X to the sizes in input 3, or to floor(dim·scale) for
// the scales in input 2. Interpolation is separable: each axis maps every
// output coordinate to weighted input taps, following the ONNX reference
// (coordinate transform, then nearest/linear/cubic taps with indices clamped
// to the edge). tf_crop_and_resize coordinates outside the input give
// extrapolation_value.
func resize(e *Executor, n *ir.Node, in []*ir.Tensor) ([]*ir.Tensor, error) {
	x := in[0]
	if err := needF32(x, "input", -1); err != nil {
		return nil, err
	}
	if n.Int("antialias") != 0 {
		return nil, errors.New("antialias is not supported")
	}
	if p := n.Str("keep_aspect_ratio_policy"); p != "stretch" {
		return nil, fmt.Errorf("keep_aspect_ratio_policy %q is not supported", p)
	}
	d := ints(x.Dims)
	r := len(d)
	axes := make([]int, r)
	for i := range axes {
		axes[i] = i
	}
	if a := n.Ints("axes"); a != nil {
		axes = axes[:0]
		for _, v := range a {
			ax, err := axis(v, r)
			if err != nil {
				return nil, err
			}
			axes = append(axes, ax)
		}
	}
	get := func(i int) *ir.Tensor {
		if i < len(in) && in[i] != nil && in[i].Len() > 0 {
			return in[i]
		}
		return nil
	}
	roi, scalesT, sizesT := get(1), get(2), get(3)
	scale, out := make([]float64, r), append([]int(nil), d...)
	for i := range scale {
		scale[i] = 1
	}
	roiStart, roiEnd := make([]float64, r), make([]float64, r)
	for i := range roiEnd {
		roiEnd[i] = 1
	}
	if roi != nil {
		v := roi.Float64s()
		if len(v) != 2*len(axes) {
			return nil, fmt.Errorf("roi has %d values, want %d", len(v), 2*len(axes))
		}
		for j, ax := range axes {
			roiStart[ax], roiEnd[ax] = v[j], v[j+len(axes)]
		}
	}
	switch {
	case sizesT != nil:
		v := sizesT.Int64s()
		if len(v) != len(axes) {
			return nil, fmt.Errorf("sizes has %d values, want %d", len(v), len(axes))
		}
		for j, ax := range axes {
			if v[j] < 0 {
				return nil, fmt.Errorf("negative size in %v", v)
			}
			out[ax] = int(v[j])
			scale[ax] = float64(v[j]) / float64(d[ax])
		}
	case scalesT != nil:
		if scalesT.DType != ir.Float32 {
			return nil, fmt.Errorf("scales are %v, want f32", scalesT.DType)
		}
		if len(scalesT.F32) != len(axes) {
			return nil, fmt.Errorf("scales has %d values, want %d", len(scalesT.F32), len(axes))
		}
		for j, ax := range axes {
			scale[ax] = float64(scalesT.F32[j])
			if scale[ax] <= 0 {
				return nil, fmt.Errorf("scale %g must be positive", scale[ax])
			}
			out[ax] = int(math.Floor(float64(d[ax]) * scale[ax])) // roi does not scale it (ONNX reference, ONNX Runtime)
		}
	default:
		return nil, errors.New("neither scales nor sizes given")
	}
	taps := make([][][]tap, r)
	for ax := 0; ax < r; ax++ {
		t, err := resizeTaps(n, d[ax], out[ax], scale[ax], roiStart[ax], roiEnd[ax])
		if err != nil {
			return nil, err
		}
		taps[ax] = t
	}
	st := strides(d)
	extra := float32(n.Float("extrapolation_value"))
	y := newF32(out)
	coord := make([]int, r)
	var at func(a, off int) float64
	at = func(a, off int) float64 {
		if a == r {
			return float64(x.F32[off])
		}
		var s float64
		for _, t := range taps[a][coord[a]] {
			if t.w != 0 {
				s += t.w * at(a+1, off+t.i*st[a])
			}
		}
		return s
	}
	for i := range y.F32 {
		outside := false
		for a := 0; a < r; a++ {
			outside = outside || taps[a][coord[a]] == nil
		}
		if outside {
			y.F32[i] = extra
		} else {
			y.F32[i] = float32(at(0, 0))
		}
		for a := r - 1; a >= 0; a-- {
			coord[a]++
			if coord[a] < out[a] {
				break
			}
			coord[a] = 0
		}
	}
	return []*ir.Tensor{y}, nil
}

// resizeTaps maps each of the outLen output coordinates of one axis to its
// input taps (nil: outside the crop, extrapolate).
func resizeTaps(n *ir.Node, inLen, outLen int, scale, roiStart, roiEnd float64) ([][]tap, error) {
	taps := make([][]tap, outLen)
	if inLen == outLen && scale == 1 && roiStart == 0 && roiEnd == 1 {
		for o := range taps {
			taps[o] = []tap{{o, 1}}
		}
		return taps, nil
	}
	mode, ctm, nearest := n.Str("mode"), n.Str("coordinate_transformation_mode"), n.Str("nearest_mode")
	a, exclude := float64(n.Float("cubic_coeff_a")), n.Int("exclude_outside") != 0
	L, outW := float64(inLen), scale*float64(inLen)
	for o := range taps {
		xo := float64(o)
		var xi float64
		switch ctm {
		case "half_pixel":
			xi = (xo+0.5)/scale - 0.5
		case "half_pixel_symmetric":
			adj := float64(outLen) / outW
			xi = L/2*(1-adj) + (xo+0.5)/scale - 0.5
		case "pytorch_half_pixel":
			if outW > 1 {
				xi = (xo+0.5)/scale - 0.5
			}
		case "align_corners":
			if outW != 1 {
				xi = xo * (L - 1) / (outW - 1)
			}
		case "asymmetric":
			xi = xo / scale
		case "tf_half_pixel_for_nn":
			xi = (xo + 0.5) / scale
		case "tf_crop_and_resize":
			if outW > 1 {
				xi = roiStart*(L-1) + xo*(roiEnd-roiStart)*(L-1)/(outW-1)
			} else {
				xi = 0.5 * (roiStart + roiEnd) * (L - 1)
			}
			if xi < 0 || xi > L-1 {
				continue // taps[o] stays nil: extrapolate
			}
		default:
			return nil, fmt.Errorf("coordinate_transformation_mode %q not supported", ctm)
		}
		i0 := math.Floor(xi)
		frac := xi - i0
		base := int(i0)
		var t []tap
		switch mode {
		case "nearest":
			up := false
			switch nearest {
			case "round_prefer_floor":
				up = frac > 0.5
			case "round_prefer_ceil":
				up = frac >= 0.5
			case "floor":
			case "ceil":
				up = frac > 0
			default:
				return nil, fmt.Errorf("nearest_mode %q not supported", nearest)
			}
			if up {
				base++
			}
			t = []tap{{base, 1}}
		case "linear":
			t = []tap{{base, 1 - frac}, {base + 1, frac}}
		case "cubic":
			w := cubicCoeffs(frac, a)
			t = []tap{{base - 1, w[0]}, {base, w[1]}, {base + 1, w[2]}, {base + 2, w[3]}}
		default:
			return nil, fmt.Errorf("mode %q not supported", mode)
		}
		if exclude {
			var s float64
			for k := range t {
				if t[k].i < 0 || t[k].i >= inLen {
					t[k].w = 0
				}
				s += t[k].w
			}
			for k := range t {
				t[k].w /= s
			}
		}
		for k := range t {
			t[k].i = min(max(t[k].i, 0), inLen-1)
		}
		taps[o] = t
	}
	return taps, nil
}

// cubicCoeffs are the Keys cubic convolution weights of the taps at
// offsets −1, 0, 1, 2 from floor(x), for fractional part r and coefficient a.
func cubicCoeffs(r, a float64) [4]float64 {
	near := func(t float64) float64 { return ((a+2)*t-(a+3))*t*t + 1 }  // |t| ≤ 1
	far := func(t float64) float64 { return ((a*t-5*a)*t+8*a)*t - 4*a } // 1 < |t| < 2
	return [4]float64{far(r + 1), near(r), near(1 - r), far(2 - r)}
}
