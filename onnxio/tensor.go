package onnxio

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"unsafe"

	"github.com/ferminets/fermi/atomicfile"
	"github.com/ferminets/fermi/ir"
	"github.com/ferminets/fermi/onnxio/onnxpb"
	"google.golang.org/protobuf/proto"
)

// maxElements bounds the element count of a tensor read from a file, so that
// hostile dims can neither overflow nor trigger a huge allocation.
const maxElements = 1 << 48

// littleEndian reports whether the machine stores numbers as ONNX raw_data
// does, so raw bytes and []float32/[]int64 can share memory.
var littleEndian = func() bool {
	x := uint16(1)
	return *(*byte)(unsafe.Pointer(&x)) == 1
}()

// DecodeTensor decodes an encoded ONNX TensorProto (as in the .pb files of
// ONNX test data) and returns the tensor and its name. External data is not
// allowed.
func DecodeTensor(data []byte) (*ir.Tensor, string, error) {
	if len(data) == 0 {
		return nil, "", errors.New("onnxio: empty file")
	}
	tp := new(onnxpb.TensorProto)
	if err := proto.Unmarshal(data, tp); err != nil {
		return nil, "", fmt.Errorf("onnxio: not an ONNX tensor: %v", err)
	}
	t, err := tensorFromProto(tp, nil)
	if err != nil {
		return nil, "", fmt.Errorf("onnxio: %v", err)
	}
	return t, tp.GetName(), nil
}

// EncodeTensor encodes t as an ONNX TensorProto called name, with raw_data
// (typed fields for strings).
func EncodeTensor(name string, t *ir.Tensor) ([]byte, error) {
	tp, err := tensorToProto(name, t)
	if err != nil {
		return nil, fmt.Errorf("onnxio: %v", err)
	}
	b, err := proto.MarshalOptions{Deterministic: true}.Marshal(tp)
	if err != nil {
		return nil, fmt.Errorf("onnxio: tensor %q: %v", name, err)
	}
	return b, nil
}

// ReadTensorFile reads a file holding one encoded TensorProto and returns the
// tensor and its name.
func ReadTensorFile(path string) (*ir.Tensor, string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, "", fmt.Errorf("onnxio: %w", err)
	}
	return DecodeTensor(data)
}

// WriteTensorFile atomically writes t as an encoded TensorProto called name.
func WriteTensorFile(path string, name string, t *ir.Tensor) error {
	b, err := EncodeTensor(name, t)
	if err != nil {
		return err
	}
	if err := atomicfile.WriteBytes(path, b); err != nil {
		return fmt.Errorf("onnxio: %w", err)
	}
	return nil
}

// checkedLen returns the element count of dims, rejecting negative dims and
// counts above maxElements.
func checkedLen(dims []int64) (int64, error) {
	n := int64(1)
	for i, d := range dims {
		if d < 0 {
			return 0, fmt.Errorf("dim %d is negative (%d)", i, d)
		}
		if d != 0 && n > maxElements/d {
			return 0, fmt.Errorf("dims %v hold too many elements", dims)
		}
		n *= d
	}
	return n, nil
}

// tensorFromProto converts tp. Raw bytes are reinterpreted in place (no copy)
// where the machine allows it, so the tensor shares memory with tp: neither
// may be modified afterwards. ext reads external data; nil forbids it.
func tensorFromProto(tp *onnxpb.TensorProto, ext *externalReader) (*ir.Tensor, error) {
	name := tp.GetName()
	fail := func(format string, args ...any) error {
		return fmt.Errorf("tensor %q: %s", name, fmt.Sprintf(format, args...))
	}
	dt := ir.DType(tp.GetDataType())
	if tp.GetDataType() < 0 || tp.GetDataType() > 255 || !dt.Valid() {
		return nil, fail("unsupported data type %d", tp.GetDataType())
	}
	if tp.Segment != nil {
		return nil, fail("segmented tensors are not supported")
	}
	if len(tp.Dims) > ir.MaxRank {
		return nil, fail("rank %d exceeds %d", len(tp.Dims), ir.MaxRank)
	}
	n, err := checkedLen(tp.Dims)
	if err != nil {
		return nil, fail("%v", err)
	}
	t := &ir.Tensor{DType: dt, Dims: tp.Dims}
	if t.Dims == nil {
		t.Dims = []int64{}
	}
	size := int64(dt.Size())
	raw := tp.RawData
	if tp.GetDataLocation() == onnxpb.TensorProto_EXTERNAL {
		if dt == ir.String {
			return nil, fail("string tensor with external data")
		}
		if ext == nil {
			return nil, fail("external data is not allowed here")
		}
		if t.F32, t.I64, raw, err = ext.read(tp, n*size); err != nil {
			return nil, fail("%v", err)
		}
		if t.F32 == nil && t.I64 == nil {
			t.Raw = raw
		}
		return t, nil
	}
	if raw != nil {
		if dt == ir.String {
			return nil, fail("string tensor with raw_data")
		}
		if int64(len(raw)) != n*size {
			return nil, fail("raw_data has %d bytes, want %d for %v %v", len(raw), n*size, dt, tp.Dims)
		}
		switch dt {
		case ir.Float32:
			t.F32 = bytesAsFloat32(raw)
		case ir.Int64:
			t.I64 = bytesAsInt64(raw)
		default:
			t.Raw = raw
		}
		return t, nil
	}
	count := func(have, per int) error {
		if int64(have) != n*int64(per) {
			return fail("has %d data elements, want %d for %v %v", have, n*int64(per), dt, tp.Dims)
		}
		return nil
	}
	switch dt {
	case ir.Float32:
		err = count(len(tp.FloatData), 1)
		t.F32 = tp.FloatData
	case ir.Complex64:
		err = count(len(tp.FloatData), 2)
		t.Raw = make([]byte, 0, 4*len(tp.FloatData))
		for _, v := range tp.FloatData {
			t.Raw = binary.LittleEndian.AppendUint32(t.Raw, math.Float32bits(v))
		}
	case ir.Int64:
		err = count(len(tp.Int64Data), 1)
		t.I64 = tp.Int64Data
	case ir.String:
		err = count(len(tp.StringData), 1)
		t.Strs = make([]string, len(tp.StringData))
		for i, s := range tp.StringData {
			t.Strs[i] = string(s)
		}
	case ir.Float64, ir.Complex128:
		per := 1
		if dt == ir.Complex128 {
			per = 2
		}
		err = count(len(tp.DoubleData), per)
		t.Raw = make([]byte, 0, 8*len(tp.DoubleData))
		for _, v := range tp.DoubleData {
			t.Raw = binary.LittleEndian.AppendUint64(t.Raw, math.Float64bits(v))
		}
	case ir.Uint32, ir.Uint64:
		err = count(len(tp.Uint64Data), 1)
		t.Raw = make([]byte, 0, int(size)*len(tp.Uint64Data))
		for _, v := range tp.Uint64Data {
			t.Raw = appendLE(t.Raw, v, int(size))
		}
	default: // 8-, 16- and 32-bit integer types, bool, float16, bfloat16 in int32_data
		err = count(len(tp.Int32Data), 1)
		t.Raw = make([]byte, 0, int(size)*len(tp.Int32Data))
		for _, v := range tp.Int32Data {
			t.Raw = appendLE(t.Raw, uint64(uint32(v)), int(size))
		}
	}
	if err != nil {
		return nil, err
	}
	return t, nil
}

// appendLE appends the low size bytes of v, little-endian.
func appendLE(b []byte, v uint64, size int) []byte {
	for i := 0; i < size; i++ {
		b = append(b, byte(v>>(8*i)))
	}
	return b
}

// tensorToProto converts t to a TensorProto with raw_data (string_data for
// strings). Float32 and Int64 data is shared with t, not copied.
func tensorToProto(name string, t *ir.Tensor) (*onnxpb.TensorProto, error) {
	if t == nil {
		return nil, fmt.Errorf("tensor %q is nil", name)
	}
	if !t.DType.Valid() {
		return nil, fmt.Errorf("tensor %q has invalid dtype %v", name, t.DType)
	}
	if t.Init != nil && t.Len() > 0 && t.DType == ir.Float32 && len(t.F32) == 0 {
		t = t.Init.Materialize(t.Dims)
	}
	if err := t.CheckData(); err != nil {
		return nil, fmt.Errorf("tensor %q: %v", name, err)
	}
	tp := &onnxpb.TensorProto{Dims: t.Dims, DataType: proto.Int32(int32(t.DType))}
	if name != "" {
		tp.Name = proto.String(name)
	}
	switch t.DType {
	case ir.String:
		tp.StringData = make([][]byte, len(t.Strs))
		for i, s := range t.Strs {
			tp.StringData[i] = []byte(s)
		}
	case ir.Float32:
		tp.RawData = float32Bytes(t.F32)
	case ir.Int64:
		tp.RawData = int64Bytes(t.I64)
	default:
		tp.RawData = t.Raw
	}
	if tp.RawData == nil && t.DType != ir.String {
		tp.RawData = []byte{}
	}
	return tp, nil
}

// bytesAsFloat32 returns b's little-endian float32s, sharing b's memory when
// the machine and alignment allow.
func bytesAsFloat32(b []byte) []float32 {
	n := len(b) / 4
	if n == 0 {
		return []float32{}
	}
	if littleEndian && uintptr(unsafe.Pointer(&b[0]))%4 == 0 {
		return unsafe.Slice((*float32)(unsafe.Pointer(&b[0])), n)
	}
	out := make([]float32, n)
	for i := range out {
		out[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
	}
	return out
}

// bytesAsInt64 is bytesAsFloat32 for int64.
func bytesAsInt64(b []byte) []int64 {
	n := len(b) / 8
	if n == 0 {
		return []int64{}
	}
	if littleEndian && uintptr(unsafe.Pointer(&b[0]))%8 == 0 {
		return unsafe.Slice((*int64)(unsafe.Pointer(&b[0])), n)
	}
	out := make([]int64, n)
	for i := range out {
		out[i] = int64(binary.LittleEndian.Uint64(b[8*i:]))
	}
	return out
}

// float32Bytes returns the little-endian bytes of f, sharing f's memory on
// little-endian machines.
func float32Bytes(f []float32) []byte {
	if len(f) == 0 {
		return []byte{}
	}
	if littleEndian {
		return unsafe.Slice((*byte)(unsafe.Pointer(&f[0])), 4*len(f))
	}
	b := make([]byte, 0, 4*len(f))
	for _, v := range f {
		b = binary.LittleEndian.AppendUint32(b, math.Float32bits(v))
	}
	return b
}

// int64Bytes is float32Bytes for int64.
func int64Bytes(x []int64) []byte {
	if len(x) == 0 {
		return []byte{}
	}
	if littleEndian {
		return unsafe.Slice((*byte)(unsafe.Pointer(&x[0])), 8*len(x))
	}
	b := make([]byte, 0, 8*len(x))
	for _, v := range x {
		b = binary.LittleEndian.AppendUint64(b, uint64(v))
	}
	return b
}

// externalReader loads tensor data stored in files next to a model.
type externalReader struct {
	baseDir  string
	realBase string // baseDir with symlinks resolved, computed on first use
	budget   int64  // bytes still allowed; < 0: unlimited
}

// read returns the nbytes of tp's external data: as float32s or int64s for
// those dtypes (allocated once and filled in place), as bytes otherwise.
func (r *externalReader) read(tp *onnxpb.TensorProto, nbytes int64) (f32 []float32, i64 []int64, raw []byte, err error) {
	var loc string
	offset, length := int64(0), int64(-1)
	for _, kv := range tp.ExternalData {
		switch kv.GetKey() {
		case "location":
			loc = kv.GetValue()
		case "offset", "length":
			v, perr := strconv.ParseInt(kv.GetValue(), 10, 64)
			if perr != nil || v < 0 {
				return nil, nil, nil, fmt.Errorf("external data %s %q is not a non-negative integer", kv.GetKey(), kv.GetValue())
			}
			if kv.GetKey() == "offset" {
				offset = v
			} else {
				length = v
			}
		}
	}
	if loc == "" {
		return nil, nil, nil, errors.New("external data has no location")
	}
	if length >= 0 && length != nbytes {
		return nil, nil, nil, fmt.Errorf("external data length %d, want %d bytes", length, nbytes)
	}
	path, err := r.resolve(loc)
	if err != nil {
		return nil, nil, nil, err
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("external data: %v", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, nil, nil, fmt.Errorf("external data: %v", err)
	}
	if offset > st.Size() || nbytes > st.Size()-offset {
		return nil, nil, nil, fmt.Errorf("external data %q has %d bytes, want %d at offset %d", loc, st.Size(), nbytes, offset)
	}
	if r.budget >= 0 {
		if nbytes > r.budget {
			return nil, nil, nil, fmt.Errorf("external data exceeds the size limit")
		}
		r.budget -= nbytes
	}
	dt := ir.DType(tp.GetDataType())
	switch {
	case dt == ir.Float32 && littleEndian:
		f32 = make([]float32, nbytes/4)
		raw = float32Bytes(f32)
	case dt == ir.Int64 && littleEndian:
		i64 = make([]int64, nbytes/8)
		raw = int64Bytes(i64)
	default:
		raw = make([]byte, nbytes)
	}
	if _, err := f.ReadAt(raw, offset); err != nil && nbytes > 0 {
		return nil, nil, nil, fmt.Errorf("external data %q: %v", loc, err)
	}
	if f32 == nil && i64 == nil {
		switch dt {
		case ir.Float32:
			f32 = bytesAsFloat32(raw)
		case ir.Int64:
			i64 = bytesAsInt64(raw)
		}
	}
	return f32, i64, raw, nil
}

// resolve returns the path of external data file loc, which must stay inside
// the base directory, also after resolving symbolic links.
func (r *externalReader) resolve(loc string) (string, error) {
	if r.baseDir == "" {
		return "", errors.New("external data needs a base directory (ReadOptions.BaseDir)")
	}
	rel := filepath.FromSlash(loc)
	if !filepath.IsLocal(rel) {
		return "", fmt.Errorf("external data location %q escapes the model's directory", loc)
	}
	if r.realBase == "" {
		b, err := filepath.EvalSymlinks(r.baseDir)
		if err != nil {
			return "", fmt.Errorf("external data: %v", err)
		}
		r.realBase = b
	}
	path, err := filepath.EvalSymlinks(filepath.Join(r.baseDir, rel))
	if err != nil {
		return "", fmt.Errorf("external data: %v", err)
	}
	if within, err := filepath.Rel(r.realBase, path); err != nil || !filepath.IsLocal(within) {
		return "", fmt.Errorf("external data location %q escapes the model's directory", loc)
	}
	return path, nil
}
