package ir

import "fmt"

// DType is a tensor element type. The numbering is ONNX's TensorProto.DataType,
// so front ends convert without a table.
type DType uint8

// Element types. Float32, Int64, Int8 and Uint8 are what the core ops compute
// with; the others exist so that any ONNX value can be described and kept.
const (
	Undefined  DType = 0
	Float32    DType = 1
	Uint8      DType = 2
	Int8       DType = 3
	Uint16     DType = 4
	Int16      DType = 5
	Int32      DType = 6
	Int64      DType = 7
	String     DType = 8
	Bool       DType = 9
	Float16    DType = 10
	Float64    DType = 11
	Uint32     DType = 12
	Uint64     DType = 13
	Complex64  DType = 14
	Complex128 DType = 15
	BFloat16   DType = 16
)

// dtypeInfo is one row of the dtype table: its .fir spelling and element size.
type dtypeInfo struct {
	name string
	size int // bytes per element; 0 for variable-size (string)
}

var dtypeTable = [...]dtypeInfo{
	Undefined:  {"undef", 0},
	Float32:    {"f32", 4},
	Uint8:      {"u8", 1},
	Int8:       {"i8", 1},
	Uint16:     {"u16", 2},
	Int16:      {"i16", 2},
	Int32:      {"i32", 4},
	Int64:      {"i64", 8},
	String:     {"str", 0},
	Bool:       {"bool", 1},
	Float16:    {"f16", 2},
	Float64:    {"f64", 8},
	Uint32:     {"u32", 4},
	Uint64:     {"u64", 8},
	Complex64:  {"c64", 8},
	Complex128: {"c128", 16},
	BFloat16:   {"bf16", 2},
}

// String returns the .fir spelling of d ("f32", "i64", ...).
func (d DType) String() string {
	if int(d) < len(dtypeTable) {
		return dtypeTable[d].name
	}
	return fmt.Sprintf("dtype(%d)", uint8(d))
}

// Size returns the size in bytes of one element of d, or 0 if d has no fixed size.
func (d DType) Size() int {
	if int(d) < len(dtypeTable) {
		return dtypeTable[d].size
	}
	return 0
}

// Valid reports whether d is a known, defined element type.
func (d DType) Valid() bool { return d != Undefined && int(d) < len(dtypeTable) }

// IsFloat reports whether d is a floating-point type.
func (d DType) IsFloat() bool {
	return d == Float32 || d == Float16 || d == Float64 || d == BFloat16
}

// IsInt reports whether d is a (signed or unsigned) integer type.
func (d DType) IsInt() bool {
	switch d {
	case Uint8, Int8, Uint16, Int16, Int32, Int64, Uint32, Uint64:
		return true
	}
	return false
}

// ParseDType returns the DType spelled s in the .fir syntax.
func ParseDType(s string) (DType, bool) {
	for i, r := range dtypeTable {
		if r.name == s && DType(i) != Undefined {
			return DType(i), true
		}
	}
	return Undefined, false
}
