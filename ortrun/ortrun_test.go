package ortrun

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/ferminets/fermi/ir"
)

func readModel(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name+".onnx"))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// rawOf encodes data little-endian, independently of the package's own helpers.
func rawOf(t *testing.T, data any) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := binary.Write(&buf, binary.LittleEndian, data); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestRunIdentity feeds every supported dtype through an Identity model and
// expects the exact input back.
func TestRunIdentity(t *testing.T) {
	Require(t)
	dims := []int64{2, 3}
	tests := []struct {
		model   string
		in      *ir.Tensor
		wantErr string // onnxruntime_go limitation
	}{
		{"identity_float", ir.NewFloat32(dims, []float32{1.5, -2, 0, float32(math.Inf(1)), 3e-39, -0.25}), ""},
		{"identity_double", &ir.Tensor{DType: ir.Float64, Dims: dims, Raw: rawOf(t, []float64{1, -2.5, 1e300, 0, 7, -8})}, ""},
		{"identity_int64", ir.NewInt64(dims, []int64{math.MinInt64, -1, 0, 1, 2, math.MaxInt64}), ""},
		{"identity_int32", &ir.Tensor{DType: ir.Int32, Dims: dims, Raw: rawOf(t, []int32{math.MinInt32, -1, 0, 1, 2, math.MaxInt32})}, ""},
		{"identity_int8", &ir.Tensor{DType: ir.Int8, Dims: dims, Raw: rawOf(t, []int8{-128, -1, 0, 1, 2, 127})}, ""},
		{"identity_uint8", &ir.Tensor{DType: ir.Uint8, Dims: dims, Raw: []byte{0, 1, 2, 128, 254, 255}}, ""},
		{"identity_bool", &ir.Tensor{DType: ir.Bool, Dims: dims, Raw: []byte{1, 0, 0, 1, 1, 0}}, ""},
		{"identity_float16", &ir.Tensor{DType: ir.Float16, Dims: dims, Raw: rawOf(t, []uint16{0x3c00, 0xc000, 0, 0x7bff, 0x0001, 0x8000})},
			`output "y": f16 output needs a static non-empty shape`},
		{"identity_float", ir.NewFloat32([]int64{0, 3}, []float32{}), ""}, // empty batch
	}
	for _, tt := range tests {
		t.Run(tt.model, func(t *testing.T) {
			out, err := Run(readModel(t, tt.model), map[string]*ir.Tensor{"x": tt.in}, Options{IntraOpThreads: 1})
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			y := out["y"]
			if y == nil || len(out) != 1 {
				t.Fatalf("outputs %v, want only y", out)
			}
			if !equalTensors(y, tt.in) {
				t.Errorf("y = %+v, want %+v", y, tt.in)
			}
		})
	}
}

func equalTensors(a, b *ir.Tensor) bool {
	return a.DType == b.DType && reflect.DeepEqual(a.Dims, b.Dims) &&
		reflect.DeepEqual(append([]float32{}, a.F32...), append([]float32{}, b.F32...)) &&
		reflect.DeepEqual(append([]int64{}, a.I64...), append([]int64{}, b.I64...)) &&
		bytes.Equal(a.Raw, b.Raw)
}

func TestRunScalars(t *testing.T) {
	Require(t)
	in := map[string]*ir.Tensor{
		"a": ir.NewFloat32([]int64{}, []float32{-3.25}),
		"i": ir.NewInt64([]int64{}, []int64{42}),
	}
	out, err := Run(readModel(t, "identity_scalar"), in, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if !equalTensors(out["b"], in["a"]) || !equalTensors(out["j"], in["i"]) {
		t.Errorf("got b=%+v j=%+v, want %+v %+v", out["b"], out["j"], in["a"], in["i"])
	}
}

func TestRunNoInputs(t *testing.T) {
	Require(t)
	_, err := Run(readModel(t, "constant"), nil, Options{})
	if want := "model has 0 inputs and 1 outputs"; err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("err = %v, want containing %q", err, want)
	}
}

// TestRunAffine checks arithmetic on a symbolic batch against values worked
// out by hand: y = 2x+1, z = row sums.
func TestRunAffine(t *testing.T) {
	Require(t)
	s, err := NewSession(readModel(t, "affine"), Options{IntraOpThreads: 1, OptLevel: OptDisabled})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if got, want := s.OutputNames(), []string{"y", "z"}; !reflect.DeepEqual(got, want) {
		t.Errorf("OutputNames = %v, want %v", got, want)
	}
	if got := s.Inputs(); len(got) != 1 || got[0].Name != "x" || got[0].DType != ir.Float32 || !reflect.DeepEqual(got[0].Dims, []int64{-1, 4}) {
		t.Errorf("Inputs = %+v, want x f32 [-1 4]", got)
	}
	x := ir.NewFloat32([]int64{3, 4}, []float32{0, 1, 2, 3, -1, -1, -1, -1, 0.5, 0.25, 0, 10})
	for range 2 { // a session is reusable
		out, err := s.Run(map[string]*ir.Tensor{"x": x})
		if err != nil {
			t.Fatal(err)
		}
		wantY := []float32{1, 3, 5, 7, -1, -1, -1, -1, 2, 1.5, 1, 21}
		if y := out["y"]; !reflect.DeepEqual(y.Dims, []int64{3, 4}) || !reflect.DeepEqual(y.F32, wantY) {
			t.Errorf("y = %v %v, want [3 4] %v", y.Dims, y.F32, wantY)
		}
		if z := out["z"]; !reflect.DeepEqual(z.Dims, []int64{3}) || !reflect.DeepEqual(z.F32, []float32{6, -4, 10.75}) {
			t.Errorf("z = %v %v, want [3] [6 -4 10.75]", z.Dims, z.F32)
		}
	}
}

func TestRunCastFloat16(t *testing.T) {
	Require(t)
	x := ir.NewFloat32([]int64{2, 3}, []float32{1, -2, 0.5, 65504, 1e-8, float32(math.Copysign(0, -1))})
	out, err := Run(readModel(t, "cast_f16"), map[string]*ir.Tensor{"x": x}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	want := &ir.Tensor{DType: ir.Float16, Dims: []int64{2, 3}, Raw: rawOf(t, []uint16{0x3c00, 0xc000, 0x3800, 0x7bff, 0x0000, 0x8000})}
	if !equalTensors(out["y"], want) {
		t.Errorf("y = %+v, want %+v", out["y"], want)
	}
}

func TestRunInputErrors(t *testing.T) {
	Require(t)
	model := readModel(t, "affine")
	good := ir.NewFloat32([]int64{1, 4}, make([]float32, 4))
	tests := []struct {
		name   string
		inputs map[string]*ir.Tensor
		want   string
	}{
		{"missing", map[string]*ir.Tensor{}, `missing input "x"`},
		{"dtype", map[string]*ir.Tensor{"x": ir.NewInt64([]int64{1, 4}, make([]int64, 4))}, `input "x" is i64, model wants f32`},
		{"extra", map[string]*ir.Tensor{"x": good, "w": good}, `no inputs ["w"]`},
		{"short data", map[string]*ir.Tensor{"x": ir.NewFloat32([]int64{2, 4}, make([]float32, 4))}, `input "x"`},
		{"bad shape", map[string]*ir.Tensor{"x": ir.NewFloat32([]int64{1, 5}, make([]float32, 5))}, `ortrun: `},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Run(model, tt.inputs, Options{})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want containing %q", err, tt.want)
			}
		})
	}
	if _, err := Run([]byte("not a model"), nil, Options{}); err == nil {
		t.Error("garbage model: no error")
	}
	if _, err := NewSession(model, Options{OptLevel: OptAll + 1}); err == nil {
		t.Error("invalid OptLevel: no error")
	}
}

func TestTime(t *testing.T) {
	Require(t)
	s, err := NewSession(readModel(t, "affine"), Options{IntraOpThreads: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	in := map[string]*ir.Tensor{"x": ir.NewFloat32([]int64{2, 4}, make([]float32, 8))}
	times, err := s.Time(in, 5)
	if err != nil {
		t.Fatal(err)
	}
	if len(times) != 5 {
		t.Fatalf("%d times, want 5", len(times))
	}
	for i, d := range times {
		if d <= 0 {
			t.Errorf("run %d took %v", i, d)
		}
	}
	if _, err := s.Time(in, 0); err == nil {
		t.Error("Time(0): no error")
	}
	s.Close()
	if _, err := s.Run(in); err == nil {
		t.Error("Run after Close: no error")
	}
}

func TestOptimizedModelPath(t *testing.T) {
	Require(t)
	path := filepath.Join(t.TempDir(), "opt.onnx")
	s, err := NewSession(readModel(t, "affine"), Options{OptLevel: OptBasic, OptimizedModelPath: path})
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	if fi, err := os.Stat(path); err != nil || fi.Size() == 0 {
		t.Errorf("optimized model not written: %v", err)
	}
}

func TestRandomInputs(t *testing.T) {
	b := ir.NewBuilder("rand")
	b.Input("x", ir.Float32, ir.Shape{ir.Sym("N"), ir.D(3)})
	b.Input("idx", ir.Int64, ir.Shape{ir.D(2)})
	b.Input("h", ir.Float16, ir.Shape{ir.Unknown, ir.D(2)})
	b.Input("m", ir.Bool, ir.Shape{})
	g := b.Graph()
	a, err := RandomInputs(g, 7, 4)
	if err != nil {
		t.Fatal(err)
	}
	again, _ := RandomInputs(g, 7, 4)
	other, _ := RandomInputs(g, 8, 4)
	if !reflect.DeepEqual(a, again) {
		t.Error("same seed gave different inputs")
	}
	if reflect.DeepEqual(a["x"].F32, other["x"].F32) {
		t.Error("seeds 7 and 8 gave the same x")
	}
	if x := a["x"]; !reflect.DeepEqual(x.Dims, []int64{4, 3}) || len(x.F32) != 12 {
		t.Errorf("x: dims %v, %d values; want [4 3], 12", x.Dims, len(x.F32))
	}
	var sum, sq float64
	big, _ := RandomInputs(&ir.Graph{Inputs: []*ir.Value{{Name: "x", DType: ir.Float32, Shape: ir.Static(10000)}}}, 1, 1)
	for _, v := range big["x"].F32 {
		sum += float64(v)
		sq += float64(v) * float64(v)
	}
	if mean, varc := sum/1e4, sq/1e4; math.Abs(mean) > 0.05 || math.Abs(varc-1) > 0.05 {
		t.Errorf("x ~ mean %.3f variance %.3f, want N(0,1)", mean, varc)
	}
	if idx := a["idx"]; !reflect.DeepEqual(idx.I64, []int64{0, 0}) {
		t.Errorf("idx = %v, want zeros", idx.I64)
	}
	if h := a["h"]; !reflect.DeepEqual(h.Dims, []int64{4, 2}) || len(h.Raw) != 16 {
		t.Errorf("h: dims %v, %d bytes; want [4 2], 16", h.Dims, len(h.Raw))
	}
	if m := a["m"]; len(m.Dims) != 0 || !bytes.Equal(m.Raw, []byte{0}) {
		t.Errorf("m = %+v, want scalar false", m)
	}
	for _, bad := range []struct {
		g     *ir.Graph
		batch int64
	}{
		{&ir.Graph{Inputs: []*ir.Value{{Name: "s", DType: ir.String, Shape: ir.Static(1)}}}, 1},
		{&ir.Graph{Inputs: []*ir.Value{{Name: "r", DType: ir.Float32}}}, 1},
		{g, 0},
	} {
		if _, err := RandomInputs(bad.g, 1, bad.batch); err == nil {
			t.Errorf("RandomInputs(%v, batch %d): no error", bad.g.Inputs[0].Name, bad.batch)
		}
	}
}

// TestRandomModelInputs checks that the model path and the graph path agree.
func TestRandomModelInputs(t *testing.T) {
	Require(t)
	g := &ir.Graph{Inputs: []*ir.Value{{Name: "x", DType: ir.Float32, Shape: ir.Shape{ir.Sym("N"), ir.D(4)}}}}
	want, err := RandomInputs(g, 3, 2)
	if err != nil {
		t.Fatal(err)
	}
	got, err := RandomModelInputs(readModel(t, "affine"), 3, 2)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("RandomModelInputs = %+v, want %+v", got, want)
	}
}

func TestLibraryPath(t *testing.T) {
	t.Setenv(LibEnv, filepath.Join(t.TempDir(), "missing.so"))
	if _, err := LibraryPath(); !errors.Is(err, ErrUnavailable) {
		t.Errorf("LibraryPath with missing %s: err = %v, want ErrUnavailable", LibEnv, err)
	}
	lib := filepath.Join(t.TempDir(), "lib.so")
	if err := os.WriteFile(lib, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv(LibEnv, lib)
	if got, err := LibraryPath(); err != nil || got != lib {
		t.Errorf("LibraryPath = %q, %v; want %q", got, err, lib)
	}
}

func TestVersion(t *testing.T) {
	Require(t)
	v, err := Version()
	if err != nil || !strings.HasPrefix(v, "1.30.") {
		t.Errorf("Version() = %q, %v; want 1.30.x", v, err)
	}
}

func TestOptLevelString(t *testing.T) {
	for l, want := range map[OptLevel]string{OptDefault: "default", OptBasic: "basic", OptAll: "all", 9: "optlevel(9)"} {
		if got := l.String(); got != want {
			t.Errorf("OptLevel(%d).String() = %q, want %q", int(l), got, want)
		}
	}
}
