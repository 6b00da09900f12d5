package engine

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"

	"github.com/ferminets/fermi/ir"
)

// This file holds the ops that move data without arithmetic. They work on
// any dtype: data is copied by element index (take, copyElems).

// alloc returns a zeroed tensor of dtype dt.
func alloc(dt ir.DType, dims []int) *ir.Tensor {
	t := &ir.Tensor{DType: dt, Dims: dims64(dims)}
	n := prod(dims)
	switch dt {
	case ir.Float32:
		t.F32 = make([]float32, n)
	case ir.Int64:
		t.I64 = make([]int64, n)
	case ir.String:
		t.Strs = make([]string, n)
	default:
		t.Raw = make([]byte, n*dt.Size())
	}
	return t
}

// view returns a tensor sharing x's data with new dims.
func view(x *ir.Tensor, dims []int) *ir.Tensor {
	return &ir.Tensor{DType: x.DType, Dims: dims64(dims), F32: x.F32, I64: x.I64, Raw: x.Raw, Strs: x.Strs}
}

// copyElems copies n elements of src starting at si to dst at di (same dtype).
func copyElems(dst *ir.Tensor, di int, src *ir.Tensor, si, n int) {
	switch src.DType {
	case ir.Float32:
		copy(dst.F32[di:di+n], src.F32[si:si+n])
	case ir.Int64:
		copy(dst.I64[di:di+n], src.I64[si:si+n])
	case ir.String:
		copy(dst.Strs[di:di+n], src.Strs[si:si+n])
	default:
		sz := src.DType.Size()
		copy(dst.Raw[di*sz:(di+n)*sz], src.Raw[si*sz:(si+n)*sz])
	}
}

// take returns the tensor of the given dims whose element i is x's element
// idx[i], or fill's first element (zero if fill is nil) when idx[i] < 0.
func take(x *ir.Tensor, dims []int, idx []int, fill *ir.Tensor) *ir.Tensor {
	y := alloc(x.DType, dims)
	switch x.DType {
	case ir.Float32:
		var f float32
		if fill != nil {
			f = fill.F32[0]
		}
		for i, j := range idx {
			if j >= 0 {
				y.F32[i] = x.F32[j]
			} else {
				y.F32[i] = f
			}
		}
	case ir.Int64:
		var f int64
		if fill != nil {
			f = fill.I64[0]
		}
		for i, j := range idx {
			if j >= 0 {
				y.I64[i] = x.I64[j]
			} else {
				y.I64[i] = f
			}
		}
	default:
		for i, j := range idx {
			if j >= 0 {
				copyElems(y, i, x, j, 1)
			} else if fill != nil {
				copyElems(y, i, fill, 0, 1)
			}
		}
	}
	return y
}

// strides returns the row-major strides of dims.
func strides(dims []int) []int {
	st := make([]int, len(dims))
	s := 1
	for i := len(dims) - 1; i >= 0; i-- {
		st[i] = s
		s *= dims[i]
	}
	return st
}

// gatherIndex returns, for every element of an output of shape out, the flat
// index src(coord) computes in the input (or -1 for a fill element).
func gatherIndex(out []int, src func(coord []int) int) []int {
	total := prod(out)
	idx := make([]int, total)
	coord := make([]int, len(out))
	for i := 0; i < total; i++ {
		idx[i] = src(coord)
		for d := len(out) - 1; d >= 0; d-- {
			coord[d]++
			if coord[d] < out[d] {
				break
			}
			coord[d] = 0
		}
	}
	return idx
}

// int64Input returns optional input i as int64 values (nil if absent).
func int64Input(in []*ir.Tensor, i int, what string) ([]int64, error) {
	if i >= len(in) || in[i] == nil {
		return nil, nil
	}
	if in[i].DType != ir.Int64 && in[i].DType != ir.Int32 {
		return nil, fmt.Errorf("%s is %v, want i64", what, in[i].DType)
	}
	return in[i].Int64s(), nil
}

func identity(e *Executor, n *ir.Node, in []*ir.Tensor) ([]*ir.Tensor, error) {
	return []*ir.Tensor{view(in[0], ints(in[0].Dims))}, nil
}

// dropout is the identity at inference; its mask output is all true.
// Training mode with a nonzero ratio is rejected: it is not deterministic.
func dropout(e *Executor, n *ir.Node, in []*ir.Tensor) ([]*ir.Tensor, error) {
	if len(in) > 2 && in[2] != nil && in[2].Len() == 1 && in[2].Float64s()[0] != 0 {
		ratio := 0.5
		if in[1] != nil && in[1].Len() == 1 {
			ratio = in[1].Float64s()[0]
		}
		if ratio != 0 {
			return nil, errors.New("training-mode dropout is not supported")
		}
	}
	x := in[0]
	mask := alloc(ir.Bool, ints(x.Dims))
	for i := range mask.Raw {
		mask.Raw[i] = 1
	}
	return []*ir.Tensor{view(x, ints(x.Dims)), mask}, nil
}

func constant(e *Executor, n *ir.Node, in []*ir.Tensor) ([]*ir.Tensor, error) {
	a := n.Attr("value")
	if a == nil || a.Tensor == nil {
		return nil, errors.New("no value attribute")
	}
	t, err := materialize(a.Tensor)
	if err != nil {
		return nil, err
	}
	return []*ir.Tensor{t}, nil
}

// shape returns dims[start:end] as int64, with ONNX's clamping.
func shape(e *Executor, n *ir.Node, in []*ir.Tensor) ([]*ir.Tensor, error) {
	r := int64(len(in[0].Dims))
	norm := func(v int64) int64 {
		if v < 0 {
			v += r
		}
		return min(max(v, 0), r)
	}
	start, end := norm(n.Int("start")), r
	if n.Attr("end") != nil {
		end = norm(n.Int("end"))
	}
	end = max(end, start)
	return []*ir.Tensor{ir.NewInt64([]int64{end - start}, slices.Clone(in[0].Dims[start:end]))}, nil
}

func flatten(e *Executor, n *ir.Node, in []*ir.Tensor) ([]*ir.Tensor, error) {
	d := ints(in[0].Dims)
	a := n.Int("axis")
	if a < 0 {
		a += int64(len(d))
	}
	if a < 0 || a > int64(len(d)) {
		return nil, fmt.Errorf("axis %d out of range for rank %d", n.Int("axis"), len(d))
	}
	return []*ir.Tensor{view(in[0], []int{prod(d[:a]), prod(d[a:])})}, nil
}

// reshape takes the new shape from input 1: 0 copies the input dim (unless
// allowzero), -1 is inferred.
func reshape(e *Executor, n *ir.Node, in []*ir.Tensor) ([]*ir.Tensor, error) {
	x := in[0]
	s, err := int64Input(in, 1, "shape")
	if err != nil || s == nil {
		return nil, errors.Join(err, errors.New("shape input is missing"))
	}
	out := make([]int, len(s))
	infer := -1
	for i, v := range s {
		switch {
		case v == 0 && n.Int("allowzero") == 0:
			if i >= len(x.Dims) {
				return nil, fmt.Errorf("shape %v copies dim %d of a rank-%d input", s, i, len(x.Dims))
			}
			out[i] = int(x.Dims[i])
		case v == -1 && infer < 0:
			infer = i
			out[i] = 1
		case v < 0:
			return nil, fmt.Errorf("invalid shape %v", s)
		default:
			out[i] = int(v)
		}
	}
	total := int(x.Len())
	if infer >= 0 {
		if p := prod(out); p == 0 || total%p != 0 {
			return nil, fmt.Errorf("cannot reshape %v to %v", x.Dims, s)
		} else {
			out[infer] = total / p
		}
	}
	if prod(out) != total {
		return nil, fmt.Errorf("cannot reshape %v to %v", x.Dims, s)
	}
	return []*ir.Tensor{view(x, out)}, nil
}

// squeezeAxes normalizes axes against rank r, rejecting duplicates.
func squeezeAxes(axes []int64, r int) (map[int]bool, error) {
	set := map[int]bool{}
	for _, a := range axes {
		ax, err := axis(a, r)
		if err != nil {
			return nil, err
		}
		if set[ax] {
			return nil, fmt.Errorf("axis %d repeated", a)
		}
		set[ax] = true
	}
	return set, nil
}

func squeeze(e *Executor, n *ir.Node, in []*ir.Tensor) ([]*ir.Tensor, error) {
	d := ints(in[0].Dims)
	axes, err := int64Input(in, 1, "axes")
	if err != nil {
		return nil, err
	}
	set, err := squeezeAxes(axes, len(d))
	if err != nil {
		return nil, err
	}
	var out []int
	for i, v := range d {
		switch {
		case axes == nil && v == 1, set[i] && v == 1:
		case set[i]:
			return nil, fmt.Errorf("cannot squeeze axis %d of size %d", i, v)
		default:
			out = append(out, v)
		}
	}
	return []*ir.Tensor{view(in[0], out)}, nil
}

func unsqueeze(e *Executor, n *ir.Node, in []*ir.Tensor) ([]*ir.Tensor, error) {
	d := ints(in[0].Dims)
	axes, err := int64Input(in, 1, "axes")
	if err != nil || axes == nil {
		return nil, errors.Join(err, errors.New("axes input is missing"))
	}
	r := len(d) + len(axes)
	set, err := squeezeAxes(axes, r)
	if err != nil {
		return nil, err
	}
	out := make([]int, 0, r)
	for i := 0; i < r; i++ {
		if set[i] {
			out = append(out, 1)
		} else {
			out = append(out, d[0])
			d = d[1:]
		}
	}
	return []*ir.Tensor{view(in[0], out)}, nil
}

// transpose permutes axes by perm (reversed when absent).
func transpose(e *Executor, n *ir.Node, in []*ir.Tensor) ([]*ir.Tensor, error) {
	x := in[0]
	d := ints(x.Dims)
	perm := n.Ints("perm")
	if perm == nil {
		for i := len(d) - 1; i >= 0; i-- {
			perm = append(perm, int64(i))
		}
	}
	if len(perm) != len(d) {
		return nil, fmt.Errorf("perm %v for rank %d", perm, len(d))
	}
	seen := make([]bool, len(d))
	out := make([]int, len(d))
	for i, p := range perm {
		if p < 0 || int(p) >= len(d) || seen[p] {
			return nil, fmt.Errorf("perm %v is not a permutation", perm)
		}
		seen[p] = true
		out[i] = d[p]
	}
	st := strides(d)
	// Trailing axes the permutation keeps in place are copied as runs (a
	// channel shuffle moves H×W planes): an index per element made the
	// shuffle of a grouped network a tenth of its training step.
	keep := len(d)
	for keep > 0 && perm[keep-1] == int64(keep-1) {
		keep--
	}
	if run := prod(d[keep:]); run >= 4 {
		y := alloc(x.DType, out)
		c := make([]int, keep)
		for o, total := 0, prod(out); o < total; o += run {
			src := 0
			for i, v := range c {
				src += v * st[perm[i]]
			}
			copyElems(y, o, x, src, run)
			for i := keep - 1; i >= 0; i-- {
				if c[i]++; c[i] < out[i] {
					break
				}
				c[i] = 0
			}
		}
		return []*ir.Tensor{y}, nil
	}
	idx := gatherIndex(out, func(c []int) int {
		s := 0
		for i, p := range perm {
			s += c[i] * st[p]
		}
		return s
	})
	return []*ir.Tensor{take(x, out, idx, nil)}, nil
}

// concat joins inputs along axis; all other dims must agree.
func concat(e *Executor, n *ir.Node, in []*ir.Tensor) ([]*ir.Tensor, error) {
	if len(in) == 0 || in[0] == nil {
		return nil, errors.New("no inputs")
	}
	first := in[0]
	ax, err := axis(n.Int("axis"), len(first.Dims))
	if err != nil {
		return nil, err
	}
	out := ints(first.Dims)
	out[ax] = 0
	for i, t := range in {
		if t == nil || t.DType != first.DType || len(t.Dims) != len(first.Dims) {
			return nil, fmt.Errorf("input %d does not match input 0 (%v %v)", i, first.DType, first.Dims)
		}
		for j, v := range t.Dims {
			if j != ax && v != first.Dims[j] {
				return nil, fmt.Errorf("input %d has shape %v, input 0 %v", i, t.Dims, first.Dims)
			}
		}
		out[ax] += int(t.Dims[ax])
	}
	y := alloc(first.DType, out)
	outer, inner := prod(out[:ax]), prod(out[ax+1:])
	off := 0
	for _, t := range in {
		blk := int(t.Dims[ax]) * inner
		for o := 0; o < outer; o++ {
			copyElems(y, o*out[ax]*inner+off, t, o*blk, blk)
		}
		off += blk
	}
	return []*ir.Tensor{y}, nil
}

// split cuts along axis into the sizes of input 1, or into len(outputs)
// parts of ceil(dim/parts) with a smaller last part.
func split(e *Executor, n *ir.Node, in []*ir.Tensor) ([]*ir.Tensor, error) {
	x := in[0]
	d := ints(x.Dims)
	ax, err := axis(n.Int("axis"), len(d))
	if err != nil {
		return nil, err
	}
	sizes, err := int64Input(in, 1, "split")
	if err != nil {
		return nil, err
	}
	parts := len(n.Outputs)
	if parts == 0 {
		return nil, errors.New("no outputs")
	}
	if sizes == nil {
		each := (d[ax] + parts - 1) / parts
		for i, left := 0, d[ax]; i < parts; i++ {
			sizes = append(sizes, int64(min(each, left)))
			left -= min(each, left)
		}
	}
	sum := int64(0)
	for _, s := range sizes {
		if s < 0 {
			return nil, fmt.Errorf("negative split size in %v", sizes)
		}
		sum += s
	}
	if len(sizes) != parts || sum != int64(d[ax]) {
		return nil, fmt.Errorf("split %v into %d outputs does not cover axis %d of size %d", sizes, parts, ax, d[ax])
	}
	outer, inner := prod(d[:ax]), prod(d[ax+1:])
	outs := make([]*ir.Tensor, parts)
	off := 0
	for i, s := range sizes {
		od := slices.Clone(d)
		od[ax] = int(s)
		y := alloc(x.DType, od)
		blk := int(s) * inner
		for o := 0; o < outer; o++ {
			copyElems(y, o*blk, x, o*d[ax]*inner+off, blk)
		}
		off += blk
		outs[i] = y
	}
	return outs, nil
}

// slice takes data[starts:ends:steps] on axes, clamping as ONNX does.
func slice(e *Executor, n *ir.Node, in []*ir.Tensor) ([]*ir.Tensor, error) {
	x := in[0]
	d := ints(x.Dims)
	starts, err1 := int64Input(in, 1, "starts")
	ends, err2 := int64Input(in, 2, "ends")
	axes, err3 := int64Input(in, 3, "axes")
	steps, err4 := int64Input(in, 4, "steps")
	if err := errors.Join(err1, err2, err3, err4); err != nil {
		return nil, err
	}
	if len(starts) != len(ends) || (axes != nil && len(axes) != len(starts)) || (steps != nil && len(steps) != len(starts)) {
		return nil, fmt.Errorf("starts, ends, axes and steps have different lengths")
	}
	begin, step, out := make([]int, len(d)), make([]int, len(d)), slices.Clone(d)
	for i := range step {
		step[i] = 1
	}
	for i := range starts {
		ax := i
		if axes != nil {
			a, err := axis(axes[i], len(d))
			if err != nil {
				return nil, err
			}
			ax = a
		}
		st := int64(1)
		if steps != nil {
			st = steps[i]
		}
		if st == 0 {
			return nil, errors.New("slice step is 0")
		}
		dim := int64(d[ax])
		s, en := starts[i], ends[i]
		if s < 0 {
			s += dim
		}
		if en < 0 {
			en += dim
		}
		if st > 0 {
			s, en = min(max(s, 0), dim), min(max(en, 0), dim)
		} else {
			s, en = min(max(s, 0), dim-1), min(max(en, -1), dim-1)
		}
		cnt := int64(0)
		if st > 0 && en > s {
			cnt = (en - s + st - 1) / st
		} else if st < 0 && s > en {
			cnt = (s - en - st - 1) / -st
		}
		begin[ax], step[ax], out[ax] = int(s), int(st), int(cnt)
	}
	st := strides(d)
	idx := gatherIndex(out, func(c []int) int {
		s := 0
		for i, v := range c {
			s += (begin[i] + v*step[i]) * st[i]
		}
		return s
	})
	return []*ir.Tensor{take(x, out, idx, nil)}, nil
}

// gather takes indices (negative counts from the end) along axis.
func gather(e *Executor, n *ir.Node, in []*ir.Tensor) ([]*ir.Tensor, error) {
	x := in[0]
	d := ints(x.Dims)
	ax, err := axis(n.Int("axis"), len(d))
	if err != nil {
		return nil, err
	}
	ind, err := int64Input(in, 1, "indices")
	if err != nil || ind == nil {
		return nil, errors.Join(err, errors.New("indices input is missing"))
	}
	ind = slices.Clone(ind)
	for i, v := range ind {
		if v < -int64(d[ax]) || v >= int64(d[ax]) {
			return nil, fmt.Errorf("index %d out of range for axis %d of size %d", v, ax, d[ax])
		}
		if v < 0 {
			ind[i] = v + int64(d[ax])
		}
	}
	id := ints(in[1].Dims)
	out := append(append(slices.Clone(d[:ax]), id...), d[ax+1:]...)
	outer, inner := prod(d[:ax]), prod(d[ax+1:])
	y := alloc(x.DType, out)
	for o := 0; o < outer; o++ {
		for j, v := range ind {
			copyElems(y, (o*len(ind)+j)*inner, x, (o*d[ax]+int(v))*inner, inner)
		}
	}
	return []*ir.Tensor{y}, nil
}

// pad pads by input 1 ([begins..., ends...], negative crops) with mode
// constant (value from input 2, default 0), reflect or edge.
func pad(e *Executor, n *ir.Node, in []*ir.Tensor) ([]*ir.Tensor, error) {
	x := in[0]
	d := ints(x.Dims)
	pads, err := int64Input(in, 1, "pads")
	if err != nil {
		return nil, err
	}
	if len(pads) != 2*len(d) {
		return nil, fmt.Errorf("pads %v for rank %d", pads, len(d))
	}
	var fill *ir.Tensor
	if len(in) > 2 && in[2] != nil {
		if in[2].DType != x.DType || in[2].Len() != 1 {
			return nil, fmt.Errorf("constant value must be a %v scalar", x.DType)
		}
		fill = in[2]
	}
	mode := n.Str("mode")
	out := make([]int, len(d))
	for i := range d {
		out[i] = d[i] + int(pads[i]+pads[i+len(d)])
		if out[i] < 0 {
			return nil, fmt.Errorf("pads %v crop axis %d of size %d below zero", pads, i, d[i])
		}
		if mode == "reflect" && (pads[i] >= int64(d[i]) || pads[i+len(d)] >= int64(d[i])) && (pads[i] > 0 || pads[i+len(d)] > 0) {
			return nil, fmt.Errorf("reflect pads %v must be smaller than dim %d", pads, d[i])
		}
		if mode == "edge" && d[i] == 0 && out[i] > 0 {
			return nil, fmt.Errorf("cannot edge-pad an empty axis")
		}
	}
	if mode != "constant" && mode != "reflect" && mode != "edge" {
		return nil, fmt.Errorf("pad mode %q not supported", mode)
	}
	st := strides(d)
	idx := gatherIndex(out, func(c []int) int {
		s := 0
		for i, v := range c {
			j := v - int(pads[i])
			if j < 0 || j >= d[i] {
				switch mode {
				case "constant":
					return -1
				case "edge":
					j = min(max(j, 0), d[i]-1)
				case "reflect":
					if d[i] == 1 {
						j = 0
					}
					for j < 0 || j >= d[i] {
						if j < 0 {
							j = -j
						}
						if j >= d[i] {
							j = 2*(d[i]-1) - j
						}
					}
				}
			}
			s += j * st[i]
		}
		return s
	})
	return []*ir.Tensor{take(x, out, idx, fill)}, nil
}

// viewBackward is the gradient of the ops that only reshape their first
// input (Flatten, Reshape, Identity, Squeeze, Unsqueeze): dy seen with the
// input's dims.
func viewBackward(e *Executor, n *ir.Node, in, out, dout []*ir.Tensor, need []bool) ([]*ir.Tensor, error) {
	if int64(len(dout[0].F32)) != in[0].Len() {
		return nil, fmt.Errorf("output gradient has %d elements, input %d", len(dout[0].F32), in[0].Len())
	}
	grads := make([]*ir.Tensor, len(in))
	grads[0] = view(dout[0], ints(in[0].Dims))
	return grads, nil
}

// concatBackward cuts dy along the axis into one piece per input.
func concatBackward(e *Executor, n *ir.Node, in, out, dout []*ir.Tensor, need []bool) ([]*ir.Tensor, error) {
	dy := dout[0]
	d := ints(dy.Dims)
	ax, err := axis(n.Int("axis"), len(d))
	if err != nil {
		return nil, err
	}
	outer, inner := prod(d[:ax]), prod(d[ax+1:])
	grads := make([]*ir.Tensor, len(in))
	off := 0
	for i, t := range in {
		blk := int(t.Dims[ax]) * inner
		if need[i] {
			g := newF32(ints(t.Dims))
			for o := 0; o < outer; o++ {
				copy(g.F32[o*blk:(o+1)*blk], dy.F32[o*d[ax]*inner+off:])
			}
			grads[i] = g
		}
		off += blk
	}
	return grads, nil
}

// dropoutTrain is inverted dropout: each element is kept with probability
// 1−ratio and scaled by 1/(1−ratio), drawing one uniform number per
// element from rng in order. It returns Y and the mask (0 or the scale)
// that dropoutBackward multiplies by.
func dropoutTrain(x *ir.Tensor, ratio float64, rng *rand.Rand) (y, mask *ir.Tensor, err error) {
	if err := needF32(x, "input", -1); err != nil {
		return nil, nil, err
	}
	if ratio < 0 || ratio >= 1 {
		return nil, nil, fmt.Errorf("ratio %v, want [0, 1)", ratio)
	}
	y, mask = newF32(ints(x.Dims)), newF32(ints(x.Dims))
	scale := float32(1 / (1 - ratio))
	for i, v := range x.F32 {
		if rng.Float64() >= ratio {
			mask.F32[i] = scale
			y.F32[i] = v * scale
		}
	}
	return y, mask, nil
}

// dropoutBackward multiplies dy by the training mask (output 1 of the
// training-mode forward).
func dropoutBackward(e *Executor, n *ir.Node, in, out, dout []*ir.Tensor, need []bool) ([]*ir.Tensor, error) {
	grads := make([]*ir.Tensor, len(in))
	if len(out) < 2 || out[1] == nil || out[1].DType != ir.Float32 {
		grads[0] = view(dout[0], ints(in[0].Dims)) // inference-mode dropout is the identity
		return grads, nil
	}
	mask, dy := out[1].F32, dout[0].F32
	dx := newF32(ints(in[0].Dims))
	for i, m := range mask {
		dx.F32[i] = dy[i] * m
	}
	grads[0] = dx
	return grads, nil
}

// transposeBackward transposes dy back with the inverse permutation.
func transposeBackward(e *Executor, n *ir.Node, in, out, dout []*ir.Tensor, need []bool) ([]*ir.Tensor, error) {
	r := len(in[0].Dims)
	perm := n.Ints("perm")
	if perm == nil {
		for i := r - 1; i >= 0; i-- {
			perm = append(perm, int64(i))
		}
	}
	if len(perm) != r {
		return nil, fmt.Errorf("perm %v for rank %d", perm, r)
	}
	inv := make([]int64, r)
	for i, p := range perm {
		if p < 0 || int(p) >= r {
			return nil, fmt.Errorf("perm %v is not a permutation", perm)
		}
		inv[p] = int64(i)
	}
	back := &ir.Node{Name: n.Name, Op: ir.OpTranspose, Attrs: []ir.Attr{ir.IntsAttr("perm", inv...)}}
	dx, err := transpose(e, back, dout[:1])
	if err != nil {
		return nil, err
	}
	return dx, nil
}
