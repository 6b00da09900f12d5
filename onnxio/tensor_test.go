package onnxio

import (
	"encoding/binary"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/ferminets/fermi/ir"
	"github.com/ferminets/fermi/onnxio/onnxpb"
	"google.golang.org/protobuf/proto"
)

// TestTensorTypedFields decodes every typed-field layout ONNX allows and
// checks the values, then that the raw_data re-encoding decodes the same.
func TestTensorTypedFields(t *testing.T) {
	tp := func(dt onnxpb.TensorProto_DataType, dims ...int64) *onnxpb.TensorProto {
		return &onnxpb.TensorProto{Name: proto.String("t"), DataType: proto.Int32(int32(dt)), Dims: dims}
	}
	with := func(p *onnxpb.TensorProto, f func(p *onnxpb.TensorProto)) *onnxpb.TensorProto { f(p); return p }
	tests := []struct {
		name string
		tp   *onnxpb.TensorProto
		want []float64
	}{
		{"float_data", with(tp(onnxpb.TensorProto_FLOAT, 2), func(p *onnxpb.TensorProto) { p.FloatData = []float32{1.5, -2} }), []float64{1.5, -2}},
		{"raw float", with(tp(onnxpb.TensorProto_FLOAT, 2), func(p *onnxpb.TensorProto) {
			p.RawData = binary.LittleEndian.AppendUint32(binary.LittleEndian.AppendUint32(nil, math.Float32bits(3)), math.Float32bits(-0.5))
		}), []float64{3, -0.5}},
		{"int64_data", with(tp(onnxpb.TensorProto_INT64, 3), func(p *onnxpb.TensorProto) { p.Int64Data = []int64{-1, 0, 1 << 40} }), []float64{-1, 0, 1 << 40}},
		{"int32_data int8", with(tp(onnxpb.TensorProto_INT8, 3), func(p *onnxpb.TensorProto) { p.Int32Data = []int32{-128, 0, 127} }), []float64{-128, 0, 127}},
		{"int32_data uint8", with(tp(onnxpb.TensorProto_UINT8, 2), func(p *onnxpb.TensorProto) { p.Int32Data = []int32{0, 255} }), []float64{0, 255}},
		{"int32_data int16", with(tp(onnxpb.TensorProto_INT16, 2), func(p *onnxpb.TensorProto) { p.Int32Data = []int32{-300, 300} }), []float64{-300, 300}},
		{"int32_data uint16", with(tp(onnxpb.TensorProto_UINT16, 1), func(p *onnxpb.TensorProto) { p.Int32Data = []int32{65535} }), []float64{65535}},
		{"int32_data int32", with(tp(onnxpb.TensorProto_INT32, 2, 1), func(p *onnxpb.TensorProto) { p.Int32Data = []int32{-70000, 5} }), []float64{-70000, 5}},
		{"int32_data bool", with(tp(onnxpb.TensorProto_BOOL, 2), func(p *onnxpb.TensorProto) { p.Int32Data = []int32{1, 0} }), []float64{1, 0}},
		{"int32_data float16", with(tp(onnxpb.TensorProto_FLOAT16, 2), func(p *onnxpb.TensorProto) { p.Int32Data = []int32{0x3C00, 0xC000} }), []float64{1, -2}},
		{"int32_data bfloat16", with(tp(onnxpb.TensorProto_BFLOAT16, 1), func(p *onnxpb.TensorProto) { p.Int32Data = []int32{0x3F80} }), []float64{1}},
		{"double_data", with(tp(onnxpb.TensorProto_DOUBLE, 2), func(p *onnxpb.TensorProto) { p.DoubleData = []float64{0.1, -1e300} }), []float64{0.1, -1e300}},
		{"uint64_data uint32", with(tp(onnxpb.TensorProto_UINT32, 1), func(p *onnxpb.TensorProto) { p.Uint64Data = []uint64{4000000000} }), []float64{4000000000}},
		{"uint64_data uint64", with(tp(onnxpb.TensorProto_UINT64, 1), func(p *onnxpb.TensorProto) { p.Uint64Data = []uint64{1 << 50} }), []float64{1 << 50}},
		{"scalar", with(tp(onnxpb.TensorProto_FLOAT), func(p *onnxpb.TensorProto) { p.FloatData = []float32{7} }), []float64{7}},
		{"empty", tp(onnxpb.TensorProto_FLOAT, 0, 3), []float64{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tt, name, err := DecodeTensor(mustMarshal(t, tc.tp))
			if err != nil {
				t.Fatal(err)
			}
			if name != "t" || !slices.Equal(tt.Dims, append([]int64{}, tc.tp.Dims...)) || tt.DType != ir.DType(tc.tp.GetDataType()) {
				t.Errorf("decoded %q %v %v", name, tt.DType, tt.Dims)
			}
			if got := tt.Float64s(); !slices.Equal(got, tc.want) {
				t.Errorf("values %v, want %v", got, tc.want)
			}
			b, err := EncodeTensor("t", tt)
			if err != nil {
				t.Fatal(err)
			}
			back, _, err := DecodeTensor(b)
			if err != nil {
				t.Fatal(err)
			}
			if got := back.Float64s(); !slices.Equal(got, tc.want) {
				t.Errorf("after re-encoding: %v, want %v", got, tc.want)
			}
		})
	}
}

func TestTensorStrings(t *testing.T) {
	p := &onnxpb.TensorProto{Name: proto.String("s"), DataType: proto.Int32(int32(onnxpb.TensorProto_STRING)), Dims: []int64{2},
		StringData: [][]byte{[]byte("a"), []byte("\x00b")}}
	tt, _, err := DecodeTensor(mustMarshal(t, p))
	if err != nil || !slices.Equal(tt.Strs, []string{"a", "\x00b"}) {
		t.Fatalf("DecodeTensor: %v %v", tt, err)
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "s.pb")
	if err := WriteTensorFile(path, "s", tt); err != nil {
		t.Fatal(err)
	}
	back, name, err := ReadTensorFile(path)
	if err != nil || name != "s" || !slices.Equal(back.Strs, tt.Strs) {
		t.Errorf("ReadTensorFile: %q %v %v", name, back, err)
	}
}

func TestTensorErrors(t *testing.T) {
	tp := func(dt int32, dims ...int64) *onnxpb.TensorProto {
		return &onnxpb.TensorProto{Name: proto.String("t"), DataType: proto.Int32(dt), Dims: dims}
	}
	with := func(p *onnxpb.TensorProto, f func(p *onnxpb.TensorProto)) *onnxpb.TensorProto { f(p); return p }
	tests := []struct {
		name string
		tp   *onnxpb.TensorProto
		want string
	}{
		{"undefined dtype", tp(0, 1), "unsupported data type 0"},
		{"unknown dtype", tp(99, 1), "unsupported data type 99"},
		{"float8", tp(17, 1), "unsupported data type 17"},
		{"too few floats", with(tp(1, 3), func(p *onnxpb.TensorProto) { p.FloatData = []float32{1} }), "has 1 data elements, want 3"},
		{"raw too long", with(tp(7, 1), func(p *onnxpb.TensorProto) { p.RawData = make([]byte, 9) }), "raw_data has 9 bytes, want 8"},
		{"negative dim", tp(1, 2, -1), "dim 1 is negative"},
		{"overflowing dims", tp(1, 1<<40, 1<<40), "too many elements"},
		{"string raw", with(tp(8, 1), func(p *onnxpb.TensorProto) { p.RawData = []byte("x") }), "string tensor with raw_data"},
		{"external without base", with(tp(1, 1), func(p *onnxpb.TensorProto) {
			p.DataLocation = onnxpb.TensorProto_EXTERNAL.Enum()
		}), "external data is not allowed here"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := DecodeTensor(mustMarshal(t, tc.tp))
			if err == nil || !strings.HasPrefix(err.Error(), `onnxio: tensor "t": `) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want `onnxio: tensor \"t\": ...%s`", err, tc.want)
			}
		})
	}
	if _, _, err := DecodeTensor(nil); err == nil || err.Error() != "onnxio: empty file" {
		t.Errorf("empty: %v", err)
	}
}

// TestReadONNXTestData reads input and output tensors of ONNX's own node
// tests and checks them against the model's declared types.
func TestReadONNXTestData(t *testing.T) {
	dir := "/usr/share/libonnx-testdata/data/node/test_relu"
	if _, err := os.Stat(dir); err != nil {
		t.Skip("ONNX test data not installed")
	}
	g, err := ReadFile(filepath.Join(dir, "model.onnx"))
	if err != nil {
		t.Fatal(err)
	}
	x, name, err := ReadTensorFile(filepath.Join(dir, "test_data_set_0", "input_0.pb"))
	if err != nil {
		t.Fatal(err)
	}
	y, _, err := ReadTensorFile(filepath.Join(dir, "test_data_set_0", "output_0.pb"))
	if err != nil {
		t.Fatal(err)
	}
	if name != g.Inputs[0].Name || x.DType != g.Inputs[0].DType || !ir.Static(x.Dims...).Equal(g.Inputs[0].Shape) {
		t.Fatalf("input tensor %q %v %v, model input %q %v %v", name, x.DType, x.Dims, g.Inputs[0].Name, g.Inputs[0].DType, g.Inputs[0].Shape)
	}
	for i := range x.F32 {
		if want := max(x.F32[i], 0); y.F32[i] != want {
			t.Fatalf("output %d = %v, want relu(%v)", i, y.F32[i], x.F32[i])
		}
	}
}
