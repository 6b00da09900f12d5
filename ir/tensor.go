package ir

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/rand/v2"
)

// Tensor is a constant tensor: a parameter, a Constant node's value or a
// tensor-valued attribute. Exactly one of the data fields is used, chosen by
// DType: F32 for Float32, I64 for Int64, Strs for String, and Raw (little-endian,
// the ONNX raw_data layout) for every other type.
type Tensor struct {
	DType DType
	Dims  []int64
	F32   []float32
	I64   []int64
	Raw   []byte
	Strs  []string
	// Init, when set, records that the data was produced by a deterministic
	// initializer, so the text format can print the recipe instead of the data.
	Init *Init
}

// Init is a deterministic initializer recipe: Kind "normal" draws N(Mean, Std²)
// from a PCG stream seeded with Seed; "uniform" draws from [Low, High); "abs"
// variants take absolute values (for variances). The recipe defines the data:
// the same recipe always yields the same bits.
type Init struct {
	Kind string  // "normal", "uniform"
	Seed uint64  // PCG seed
	A, B float64 // normal: mean, std; uniform: low, high
	Abs  bool    // take |x| (e.g. BatchNorm variances)
}

// NumElements returns the product of dims (1 for a scalar).
func NumElements(dims []int64) int64 {
	n := int64(1)
	for _, d := range dims {
		n *= d
	}
	return n
}

// Len returns the number of elements t holds according to its dims.
func (t *Tensor) Len() int64 { return NumElements(t.Dims) }

// Bytes returns the storage size of t's data in bytes.
func (t *Tensor) Bytes() int64 {
	if t.DType == String {
		var n int64
		for _, s := range t.Strs {
			n += int64(len(s))
		}
		return n
	}
	return t.Len() * int64(t.DType.Size())
}

// CheckData reports whether the data field matching t.DType holds exactly the
// number of elements its dims declare.
func (t *Tensor) CheckData() error {
	n := t.Len()
	var have int64
	switch t.DType {
	case Float32:
		have = int64(len(t.F32))
	case Int64:
		have = int64(len(t.I64))
	case String:
		have = int64(len(t.Strs))
	default:
		sz := t.DType.Size()
		if sz == 0 {
			return fmt.Errorf("tensor of dtype %v has no storage", t.DType)
		}
		if len(t.Raw)%sz != 0 {
			return fmt.Errorf("%v tensor raw data has %d bytes, not a multiple of %d", t.DType, len(t.Raw), sz)
		}
		have = int64(len(t.Raw) / sz)
	}
	if have != n {
		return fmt.Errorf("%v tensor %v holds %d elements, want %d", t.DType, t.Dims, have, n)
	}
	return nil
}

// Float64s returns t's elements converted to float64, for any numeric dtype
// small enough to inspect (shape tensors, scales, attribute values).
func (t *Tensor) Float64s() []float64 {
	n := int(t.Len())
	out := make([]float64, 0, n)
	switch t.DType {
	case Float32:
		for _, v := range t.F32 {
			out = append(out, float64(v))
		}
	case Int64:
		for _, v := range t.I64 {
			out = append(out, float64(v))
		}
	default:
		for i := 0; i < n; i++ {
			out = append(out, t.rawAt(i))
		}
	}
	return out
}

// Int64s returns t's elements converted to int64 (for index and shape tensors).
func (t *Tensor) Int64s() []int64 {
	if t.DType == Int64 {
		return t.I64
	}
	f := t.Float64s()
	out := make([]int64, len(f))
	for i, v := range f {
		out[i] = int64(v)
	}
	return out
}

func (t *Tensor) rawAt(i int) float64 {
	r := t.Raw
	switch t.DType {
	case Uint8, Bool:
		return float64(r[i])
	case Int8:
		return float64(int8(r[i]))
	case Uint16:
		return float64(binary.LittleEndian.Uint16(r[2*i:]))
	case Int16:
		return float64(int16(binary.LittleEndian.Uint16(r[2*i:])))
	case Int32:
		return float64(int32(binary.LittleEndian.Uint32(r[4*i:])))
	case Uint32:
		return float64(binary.LittleEndian.Uint32(r[4*i:]))
	case Uint64:
		return float64(binary.LittleEndian.Uint64(r[8*i:]))
	case Float64:
		return math.Float64frombits(binary.LittleEndian.Uint64(r[8*i:]))
	case Float16:
		return float64(HalfToFloat32(binary.LittleEndian.Uint16(r[2*i:])))
	case BFloat16:
		return float64(math.Float32frombits(uint32(binary.LittleEndian.Uint16(r[2*i:])) << 16))
	}
	return math.NaN()
}

// HalfToFloat32 converts an IEEE 754 binary16 value to float32.
func HalfToFloat32(h uint16) float32 {
	sign := uint32(h>>15) << 31
	exp := uint32(h>>10) & 0x1f
	frac := uint32(h) & 0x3ff
	switch {
	case exp == 0 && frac == 0:
		return math.Float32frombits(sign)
	case exp == 0: // subnormal
		e := uint32(127 - 15 + 1)
		for frac&0x400 == 0 {
			frac <<= 1
			e--
		}
		frac &= 0x3ff
		return math.Float32frombits(sign | e<<23 | frac<<13)
	case exp == 0x1f:
		return math.Float32frombits(sign | 0xff<<23 | frac<<13)
	}
	return math.Float32frombits(sign | (exp+127-15)<<23 | frac<<13)
}

// Float32ToHalf returns the IEEE 754 binary16 bits nearest to f, rounding
// ties to even; subnormal results are kept, magnitudes from 65520 up become
// ±Inf and a NaN becomes a quiet NaN of the same sign.
func Float32ToHalf(f float32) uint16 {
	b := math.Float32bits(f)
	sign := uint16(b>>16) & 0x8000
	exp := int32(b>>23) & 0xff
	mant := b & 0x7fffff
	switch {
	case exp == 0xff: // Inf or NaN
		if mant != 0 {
			return sign | 0x7e00 | uint16(mant>>13)
		}
		return sign | 0x7c00
	case exp-127+15 >= 0x1f: // too large even before rounding
		return sign | 0x7c00
	case exp-127+15 <= 0: // subnormal half (or zero)
		e := exp - 127 + 15 // ≤ 0
		if e < -10 {        // below half the smallest subnormal (2^-25): rounds to zero
			return sign
		}
		mant |= 0x800000 // implicit bit
		shift := uint32(14 - e)
		h := mant >> shift
		rem := mant & (1<<shift - 1)
		half := uint32(1) << (shift - 1)
		if rem > half || (rem == half && h&1 == 1) {
			h++ // may become the smallest normal, which is the correct result
		}
		return sign | uint16(h)
	}
	h := uint32(exp-127+15)<<10 | mant>>13
	rem := mant & 0x1fff
	if rem > 0x1000 || (rem == 0x1000 && h&1 == 1) {
		h++ // a carry into the exponent is the correct rounding (up to Inf)
	}
	return sign | uint16(h)
}

// Clone returns a deep copy of t.
func (t *Tensor) Clone() *Tensor {
	c := *t
	c.Dims = append([]int64(nil), t.Dims...)
	c.F32 = append([]float32(nil), t.F32...)
	c.I64 = append([]int64(nil), t.I64...)
	c.Raw = append([]byte(nil), t.Raw...)
	c.Strs = append([]string(nil), t.Strs...)
	if t.Init != nil {
		in := *t.Init
		c.Init = &in
	}
	return &c
}

// NewFloat32 returns a Float32 tensor with the given dims and data.
func NewFloat32(dims []int64, data []float32) *Tensor {
	return &Tensor{DType: Float32, Dims: dims, F32: data}
}

// NewInt64 returns an Int64 tensor with the given dims and data.
func NewInt64(dims []int64, data []int64) *Tensor {
	return &Tensor{DType: Int64, Dims: dims, I64: data}
}

// Materialize returns the Float32 tensor that the recipe in produces for dims.
// It is the single definition of what a recipe means.
func (in Init) Materialize(dims []int64) *Tensor {
	n := NumElements(dims)
	rng := rand.New(rand.NewPCG(in.Seed, 0x9e3779b97f4a7c15))
	data := make([]float32, n)
	for i := range data {
		var v float64
		switch in.Kind {
		case "uniform":
			v = in.A + (in.B-in.A)*rng.Float64()
		default:
			v = in.A + in.B*rng.NormFloat64()
		}
		if in.Abs {
			v = math.Abs(v)
		}
		data[i] = float32(v)
	}
	r := in
	return &Tensor{DType: Float32, Dims: dims, F32: data, Init: &r}
}
