//go:build cgo

package ortrun

import (
	"encoding/binary"
	"errors"
	"fmt"
	"reflect"
	"time"

	"github.com/ferminets/fermi/ir"
	ort "github.com/yalue/onnxruntime_go"
)

func initRuntime() error {
	path, err := LibraryPath()
	if err != nil {
		return err
	}
	ort.SetSharedLibraryPath(path)
	// Fatal only: every error ONNX Runtime would log is also returned.
	if err := ort.InitializeEnvironment(ort.WithLogLevelFatal()); err != nil {
		return fmt.Errorf("%w: loading %s: %v", ErrUnavailable, path, err)
	}
	return nil
}

func runtimeVersion() string { return ort.GetVersion() }

// backend is a DynamicAdvancedSession plus what Run needs to work around the
// bindings: onnxruntime_go v1.27.0 cannot convert rank-0 outputs (it rejects
// the empty shape) or float16/bfloat16 outputs (it copies one byte per
// element) that ONNX Runtime allocates, so such outputs are preallocated from
// the shapes the model declares.
type backend struct {
	sess    *ort.DynamicAdvancedSession
	inputs  []ValueInfo
	outputs []ValueInfo
	// noScalarAlloc is set once a run failed with preallocated rank-0 outputs:
	// the model declared no shape rather than a scalar one.
	noScalarAlloc bool
}

func newBackend(model []byte, opts Options) (*backend, []ValueInfo, []ValueInfo, error) {
	ins, outs, err := modelInfo(model)
	if err != nil {
		return nil, nil, nil, err
	}
	if len(ins) == 0 || len(outs) == 0 {
		// DynamicAdvancedSession.Run indexes the first input and output.
		return nil, nil, nil, fmt.Errorf("ortrun: model has %d inputs and %d outputs; onnxruntime_go needs at least one of each", len(ins), len(outs))
	}
	so, err := ort.NewSessionOptions()
	if err != nil {
		return nil, nil, nil, fmt.Errorf("ortrun: session options: %v", err)
	}
	defer so.Destroy()
	if opts.IntraOpThreads > 0 {
		if err := so.SetIntraOpNumThreads(opts.IntraOpThreads); err != nil {
			return nil, nil, nil, fmt.Errorf("ortrun: intra-op threads %d: %v", opts.IntraOpThreads, err)
		}
	}
	if opts.OptLevel != OptDefault {
		lvl := map[OptLevel]ort.GraphOptimizationLevel{
			OptDisabled: ort.GraphOptimizationLevelDisableAll,
			OptBasic:    ort.GraphOptimizationLevelEnableBasic,
			OptExtended: ort.GraphOptimizationLevelEnableExtended,
			OptAll:      ort.GraphOptimizationLevelEnableAll,
		}[opts.OptLevel]
		if err := so.SetGraphOptimizationLevel(lvl); err != nil {
			return nil, nil, nil, fmt.Errorf("ortrun: optimization level %v: %v", opts.OptLevel, err)
		}
	}
	if opts.OptimizedModelPath != "" {
		if err := so.SetOptimizedModelFilePath(opts.OptimizedModelPath); err != nil {
			return nil, nil, nil, fmt.Errorf("ortrun: optimized model path %q: %v", opts.OptimizedModelPath, err)
		}
	}
	sess, err := ort.NewDynamicAdvancedSessionWithONNXData(model, names(ins), names(outs), so)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("ortrun: creating session: %v", err)
	}
	return &backend{sess: sess, inputs: ins, outputs: outs}, ins, outs, nil
}

func names(vs []ValueInfo) []string {
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = v.Name
	}
	return out
}

func modelInfo(model []byte) ([]ValueInfo, []ValueInfo, error) {
	ins, outs, err := ort.GetInputOutputInfoWithONNXData(model)
	if err != nil {
		return nil, nil, fmt.Errorf("ortrun: reading model inputs and outputs: %v", err)
	}
	conv := func(infos []ort.InputOutputInfo) ([]ValueInfo, error) {
		out := make([]ValueInfo, len(infos))
		for i, in := range infos {
			if in.OrtValueType != ort.ONNXTypeTensor {
				return nil, fmt.Errorf("ortrun: %q is a %v, only tensors are supported", in.Name, in.OrtValueType)
			}
			out[i] = ValueInfo{Name: in.Name, DType: ir.DType(in.DataType), Dims: append([]int64{}, in.Dimensions...)}
		}
		return out, nil
	}
	vi, err := conv(ins)
	if err != nil {
		return nil, nil, err
	}
	vo, err := conv(outs)
	if err != nil {
		return nil, nil, err
	}
	return vi, vo, nil
}

// destroyAll destroys every value, skipping nil ones, including the typed
// nil pointers the bindings leave behind when converting an output fails.
func destroyAll(vs []ort.Value) {
	for _, v := range vs {
		if v != nil && !reflect.ValueOf(v).IsNil() {
			v.Destroy()
		}
	}
}

func (b *backend) close() error { return b.sess.Destroy() }

// makeInputs converts inputs to ONNX Runtime values in model order.
func (b *backend) makeInputs(inputs map[string]*ir.Tensor) ([]ort.Value, error) {
	vals := make([]ort.Value, len(b.inputs))
	for i, in := range b.inputs {
		v, err := toValue(inputs[in.Name])
		if err != nil {
			destroyAll(vals)
			return nil, fmt.Errorf("ortrun: input %q: %v", in.Name, err)
		}
		vals[i] = v
	}
	return vals, nil
}

// makeOutputs preallocates the outputs the bindings cannot convert; the rest
// stay nil for ONNX Runtime to allocate.
func (b *backend) makeOutputs() ([]ort.Value, error) {
	vals := make([]ort.Value, len(b.outputs))
	for i, o := range b.outputs {
		var err error
		switch {
		case o.DType == ir.Float16 || o.DType == ir.BFloat16:
			dims := o.Dims
			if len(dims) == 0 || ir.NumElements(dims) <= 0 || hasNegative(dims) {
				err = fmt.Errorf("%v output needs a static non-empty shape, model declares %v", o.DType, dims)
				break
			}
			raw := make([]byte, ir.NumElements(dims)*int64(o.DType.Size()))
			vals[i], err = ort.NewCustomDataTensor(ort.NewShape(dims...), raw, ort.TensorElementDataType(o.DType))
		case len(o.Dims) == 0 && !b.noScalarAlloc:
			vals[i], err = newScalar(o.DType)
		}
		if err != nil {
			destroyAll(vals)
			return nil, fmt.Errorf("ortrun: output %q: %v", o.Name, err)
		}
	}
	return vals, nil
}

func hasNegative(dims []int64) bool {
	for _, d := range dims {
		if d < 0 {
			return true
		}
	}
	return false
}

func (b *backend) runValues(ins []ort.Value) ([]ort.Value, error) {
	outs, err := b.makeOutputs()
	if err != nil {
		return nil, err
	}
	err = b.sess.Run(ins, outs)
	if err != nil && !b.noScalarAlloc && b.hasScalarOutput() {
		// The model may declare no rank rather than a scalar: retry with
		// ONNX Runtime allocating those outputs, and keep doing so if that
		// works. If it fails too, the first error is the one to report.
		destroyAll(outs)
		b.noScalarAlloc = true
		retry, rerr := b.makeOutputs()
		if rerr == nil {
			if rerr = b.sess.Run(ins, retry); rerr == nil {
				return retry, nil
			}
			destroyAll(retry)
		}
		b.noScalarAlloc = false
		return nil, fmt.Errorf("ortrun: %v", err)
	}
	if err != nil {
		destroyAll(outs)
		return nil, fmt.Errorf("ortrun: %v", err)
	}
	return outs, nil
}

func (b *backend) hasScalarOutput() bool {
	for _, o := range b.outputs {
		if len(o.Dims) == 0 {
			return true
		}
	}
	return false
}

func (b *backend) run(inputs map[string]*ir.Tensor) (map[string]*ir.Tensor, error) {
	ins, err := b.makeInputs(inputs)
	if err != nil {
		return nil, err
	}
	defer destroyAll(ins)
	outs, err := b.runValues(ins)
	if err != nil {
		return nil, err
	}
	defer destroyAll(outs)
	res := make(map[string]*ir.Tensor, len(outs))
	for i, v := range outs {
		t, err := fromValue(v)
		if err != nil {
			return nil, fmt.Errorf("ortrun: output %q: %v", b.outputs[i].Name, err)
		}
		res[b.outputs[i].Name] = t
	}
	return res, nil
}

func (b *backend) time(inputs map[string]*ir.Tensor, n int) ([]time.Duration, error) {
	ins, err := b.makeInputs(inputs)
	if err != nil {
		return nil, err
	}
	defer destroyAll(ins)
	// The warm-up run allocates the outputs; the timed runs reuse them.
	outs, err := b.runValues(ins)
	if err != nil {
		return nil, err
	}
	defer destroyAll(outs)
	times := make([]time.Duration, n)
	for i := range times {
		start := time.Now()
		if err := b.sess.Run(ins, outs); err != nil {
			return nil, fmt.Errorf("ortrun: timed run %d: %v", i, err)
		}
		times[i] = time.Since(start)
	}
	return times, nil
}

// newScalar returns a preallocated rank-0 tensor of dtype dt.
func newScalar(dt ir.DType) (ort.Value, error) {
	switch dt {
	case ir.Float32:
		return ort.NewEmptyScalar[float32]()
	case ir.Float64:
		return ort.NewEmptyScalar[float64]()
	case ir.Int64:
		return ort.NewEmptyScalar[int64]()
	case ir.Int32:
		return ort.NewEmptyScalar[int32]()
	case ir.Int16:
		return ort.NewEmptyScalar[int16]()
	case ir.Int8:
		return ort.NewEmptyScalar[int8]()
	case ir.Uint64:
		return ort.NewEmptyScalar[uint64]()
	case ir.Uint32:
		return ort.NewEmptyScalar[uint32]()
	case ir.Uint16:
		return ort.NewEmptyScalar[uint16]()
	case ir.Uint8:
		return ort.NewEmptyScalar[uint8]()
	case ir.Bool:
		return ort.NewEmptyScalar[bool]()
	}
	return nil, fmt.Errorf("rank-0 %v tensors are not supported by onnxruntime_go", dt)
}

// toValue converts t to an ONNX Runtime value backed by a copy of its data.
func toValue(t *ir.Tensor) (ort.Value, error) {
	switch t.DType {
	case ir.Float32:
		return newValue(t.Dims, append([]float32(nil), t.F32...))
	case ir.Int64:
		return newValue(t.Dims, append([]int64(nil), t.I64...))
	case ir.Float64:
		return rawValue[float64](t)
	case ir.Int32:
		return rawValue[int32](t)
	case ir.Int16:
		return rawValue[int16](t)
	case ir.Int8:
		return rawValue[int8](t)
	case ir.Uint64:
		return rawValue[uint64](t)
	case ir.Uint32:
		return rawValue[uint32](t)
	case ir.Uint16:
		return rawValue[uint16](t)
	case ir.Uint8:
		return rawValue[uint8](t)
	case ir.Bool:
		return rawValue[bool](t)
	case ir.Float16, ir.BFloat16:
		if len(t.Dims) == 0 || len(t.Raw) == 0 {
			return nil, fmt.Errorf("rank-0 or empty %v tensors are not supported by onnxruntime_go", t.DType)
		}
		return ort.NewCustomDataTensor(ort.NewShape(t.Dims...), append([]byte(nil), t.Raw...), ort.TensorElementDataType(t.DType))
	case ir.String:
		if len(t.Dims) == 0 {
			return nil, errors.New("rank-0 string tensors are not supported by onnxruntime_go")
		}
		st, err := ort.NewStringTensor(ort.NewShape(t.Dims...))
		if err != nil {
			return nil, err
		}
		if err := st.SetContents(t.Strs); err != nil {
			st.Destroy()
			return nil, err
		}
		return st, nil
	}
	return nil, fmt.Errorf("dtype %v not supported", t.DType)
}

func rawValue[T ort.TensorData](t *ir.Tensor) (ort.Value, error) {
	data := make([]T, t.Len())
	if _, err := binary.Decode(t.Raw, binary.LittleEndian, data); err != nil {
		return nil, err
	}
	return newValue(t.Dims, data)
}

func newValue[T ort.TensorData](dims []int64, data []T) (ort.Value, error) {
	if len(dims) == 0 {
		if len(data) != 1 {
			return nil, fmt.Errorf("scalar holds %d elements", len(data))
		}
		return ort.NewScalar(data[0])
	}
	return ort.NewTensor(ort.NewShape(dims...), data)
}

// fromValue copies an ONNX Runtime output into an ir.Tensor.
func fromValue(v ort.Value) (*ir.Tensor, error) {
	switch v := v.(type) {
	case *ort.Tensor[float32]:
		return &ir.Tensor{DType: ir.Float32, Dims: dimsOf(v), F32: append([]float32{}, v.GetData()...)}, nil
	case *ort.Tensor[int64]:
		return &ir.Tensor{DType: ir.Int64, Dims: dimsOf(v), I64: append([]int64{}, v.GetData()...)}, nil
	case *ort.Tensor[float64]:
		return rawTensor(ir.Float64, dimsOf(v), v.GetData())
	case *ort.Tensor[int32]:
		return rawTensor(ir.Int32, dimsOf(v), v.GetData())
	case *ort.Tensor[int16]:
		return rawTensor(ir.Int16, dimsOf(v), v.GetData())
	case *ort.Tensor[int8]:
		return rawTensor(ir.Int8, dimsOf(v), v.GetData())
	case *ort.Tensor[uint64]:
		return rawTensor(ir.Uint64, dimsOf(v), v.GetData())
	case *ort.Tensor[uint32]:
		return rawTensor(ir.Uint32, dimsOf(v), v.GetData())
	case *ort.Tensor[uint16]:
		return rawTensor(ir.Uint16, dimsOf(v), v.GetData())
	case *ort.Tensor[uint8]:
		return rawTensor(ir.Uint8, dimsOf(v), v.GetData())
	case *ort.Tensor[bool]:
		return rawTensor(ir.Bool, dimsOf(v), v.GetData())
	case *ort.Scalar[float32]:
		return &ir.Tensor{DType: ir.Float32, Dims: []int64{}, F32: []float32{v.GetData()}}, nil
	case *ort.Scalar[int64]:
		return &ir.Tensor{DType: ir.Int64, Dims: []int64{}, I64: []int64{v.GetData()}}, nil
	case *ort.Scalar[float64]:
		return rawTensor(ir.Float64, []int64{}, []float64{v.GetData()})
	case *ort.Scalar[int32]:
		return rawTensor(ir.Int32, []int64{}, []int32{v.GetData()})
	case *ort.Scalar[int16]:
		return rawTensor(ir.Int16, []int64{}, []int16{v.GetData()})
	case *ort.Scalar[int8]:
		return rawTensor(ir.Int8, []int64{}, []int8{v.GetData()})
	case *ort.Scalar[uint64]:
		return rawTensor(ir.Uint64, []int64{}, []uint64{v.GetData()})
	case *ort.Scalar[uint32]:
		return rawTensor(ir.Uint32, []int64{}, []uint32{v.GetData()})
	case *ort.Scalar[uint16]:
		return rawTensor(ir.Uint16, []int64{}, []uint16{v.GetData()})
	case *ort.Scalar[uint8]:
		return rawTensor(ir.Uint8, []int64{}, []uint8{v.GetData()})
	case *ort.Scalar[bool]:
		return rawTensor(ir.Bool, []int64{}, []bool{v.GetData()})
	case *ort.CustomDataTensor:
		return &ir.Tensor{DType: ir.DType(v.DataType()), Dims: dimsOf(v), Raw: append([]byte{}, v.GetData()...)}, nil
	case *ort.StringTensor:
		strs, err := v.GetContents()
		if err != nil {
			return nil, err
		}
		return &ir.Tensor{DType: ir.String, Dims: dimsOf(v), Strs: strs}, nil
	case nil:
		return nil, errors.New("no value")
	}
	return nil, fmt.Errorf("unsupported value type %T", v)
}

func dimsOf(v ort.Value) []int64 { return append([]int64{}, v.GetShape()...) }

func rawTensor[T ort.TensorData](dt ir.DType, dims []int64, data []T) (*ir.Tensor, error) {
	raw, err := binary.Append(nil, binary.LittleEndian, data)
	if err != nil {
		return nil, err
	}
	return &ir.Tensor{DType: dt, Dims: dims, Raw: raw}, nil
}
