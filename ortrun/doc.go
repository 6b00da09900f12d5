// Package ortrun runs ONNX models in ONNX Runtime 1.30 (through the cgo
// bindings github.com/yalue/onnxruntime_go), as the reference that exported
// models are checked against and as a latency probe.
//
// Tensors cross the boundary as *ir.Tensor in both directions. Supported
// element types are float32, float64, int64, int32, int16, int8, uint8 and
// the other fixed-size integers, bool and (as raw data) float16/bfloat16;
// string tensors are passed through as well.
//
// The ONNX Runtime shared library is found at run time: the environment
// variable FERMI_ORT_LIB, else .deps/ort/node_modules/onnxruntime-node/bin/
// napi-v6/linux/x64/libonnxruntime.so.1 in the current directory or any parent
// (scripts/install-deps.sh puts it there), else the same path under
// /tmp/ortnpm. Built without cgo, every entry point returns an error wrapping
// ErrUnavailable, so the rest of the module builds with CGO_ENABLED=0.
//
// Tests call Require, which skips when ONNX Runtime is missing, except under
// CI=true, where a missing runtime is a failure.
//
// # Invariants
//
//   - Run and Session.Run return one tensor per model output, keyed by the
//     output's name; Session.OutputNames gives the model's output order.
//   - RandomInputs and RandomModelInputs are pure functions of (inputs, seed,
//     batch): the same arguments always yield the same bits.
//   - The ONNX Runtime environment is created once per process and never torn
//     down; Sessions must be closed.
package ortrun
