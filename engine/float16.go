package engine

import (
	"encoding/binary"

	"github.com/ferminets/fermi/ir"
)

// Float16 execution.
//
// The engine computes float16 graphs the way ONNX Runtime's CPU execution
// provider effectively does: every kernel works in float32 (ORT inserts
// Casts around the many ops it has no float16 kernel for) and every value
// the graph declares float16 is rounded to the nearest float16 when it is
// produced. Inside a run a float16 value is held in a Float32 tensor whose
// elements are all exactly representable in float16 (the "widened" form),
// so every float32 kernel reads it unchanged; parameters and inputs are
// widened on entry, Run and RunAll return float16 values in their IR form
// (Float16 dtype, little-endian bits in Raw).
// Rounding is ir.Float32ToHalf's.

// RoundHalf returns f rounded to the nearest float16 value (ties to even),
// as a float32.
func RoundHalf(f float32) float32 { return ir.HalfToFloat32(ir.Float32ToHalf(f)) }

// isHalf reports whether f is exactly a float16 value (NaN counts).
func isHalf(f float32) bool {
	r := RoundHalf(f)
	return r == f || f != f
}

// roundHalfs returns data with every element rounded to float16, sharing
// data when nothing changes and copying otherwise (kernel outputs may share
// their inputs' data, which must not change).
func roundHalfs(data []float32) []float32 {
	for i, v := range data {
		if isHalf(v) {
			continue
		}
		out := make([]float32, len(data))
		copy(out, data[:i])
		for j := i; j < len(data); j++ {
			out[j] = RoundHalf(data[j])
		}
		return out
	}
	return data
}

// widenHalf returns the widened (Float32, float16-exact) form of a Float16
// tensor in IR form, and any other tensor unchanged.
func widenHalf(t *ir.Tensor) *ir.Tensor {
	if t == nil || t.DType != ir.Float16 {
		return t
	}
	n := len(t.Raw) / 2
	f := make([]float32, n)
	for i := range f {
		f[i] = ir.HalfToFloat32(binary.LittleEndian.Uint16(t.Raw[2*i:]))
	}
	return &ir.Tensor{DType: ir.Float32, Dims: append([]int64(nil), t.Dims...), F32: f}
}

// narrowHalf returns t in IR form for value v: the Float16 tensor of a
// widened float16 value, any other tensor unchanged.
func narrowHalf(v *ir.Value, t *ir.Tensor) *ir.Tensor {
	if v == nil || t == nil || v.DType != ir.Float16 || t.DType != ir.Float32 {
		return t
	}
	raw := make([]byte, 2*len(t.F32))
	for i, x := range t.F32 {
		binary.LittleEndian.PutUint16(raw[2*i:], ir.Float32ToHalf(x))
	}
	return &ir.Tensor{DType: ir.Float16, Dims: append([]int64(nil), t.Dims...), Raw: raw}
}

// asDeclared returns the kernel output t in the form the run keeps for
// value v: float16 values widened and rounded (a Float32 result is rounded,
// a Float16 one widened), other values as they are. ok is false when t's
// dtype does not match v's.
func asDeclared(v *ir.Value, t *ir.Tensor) (_ *ir.Tensor, ok bool) {
	switch {
	case v.DType == ir.Float16 && t.DType == ir.Float16:
		return widenHalf(t), true
	case v.DType == ir.Float16 && t.DType == ir.Float32:
		if r := roundHalfs(t.F32); len(r) > 0 && &r[0] != &t.F32[0] {
			return &ir.Tensor{DType: ir.Float32, Dims: t.Dims, F32: r}, true
		}
		return t, true
	}
	return t, v.DType == ir.Undefined || t.DType == v.DType
}

// castToHalf is Cast(to=FLOAT16) of x: float inputs round through float32,
// integers and bools convert exactly to float32 first. The result is
// widened.
func castToHalf(x *ir.Tensor) *ir.Tensor {
	vals := x.Float64s()
	out := make([]float32, len(vals))
	for i, v := range vals {
		out[i] = RoundHalf(float32(v))
	}
	return &ir.Tensor{DType: ir.Float32, Dims: append([]int64(nil), x.Dims...), F32: out}
}
