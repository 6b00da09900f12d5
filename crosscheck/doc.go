// Package crosscheck checks ONNX files with decoders that are not ours: the
// reference checker of the ONNX project (Debian's python3-onnx 1.12, run as
// /usr/bin/python3), the Go ONNX decoder github.com/owulveryck/onnx-go v0.5.0,
// and a minimal protobuf reader (Scan) built on protowire, which lists the
// nodes of a model with their encoded NodeProto bytes.
//
// What each check covers:
//
//   - Check runs onnx.checker.check_model(path, full_check=True): schema,
//     attribute and type checks plus strict shape inference. onnx 1.12 knows
//     opsets up to 17; newer models get an error wrapping ErrOpsetTooNew.
//   - DecodeGo decodes a model with onnx-go's public API (onnx.NewModel and
//     Model.UnmarshalBinary) into a counting backend of our own: onnx-go's
//     protobuf types are internal to it, so what it exposes is the graph it
//     builds (one ApplyOperation per node, one SetTensor per typed value and
//     per initializer). It runs in a helper process (go run of
//     internal/onnxgodump): onnx-go registers its messages as "onnx.*" in
//     protobuf's global registry, as onnxio's bindings do, and a binary
//     linking both panics at init. CompareGo compares that with an *ir.Graph: node count,
//     op-type histogram, input/output counts, and every parameter's shape and
//     values. onnx-go decodes initializer data only for float32, float64,
//     int32, int64 and bool and rejects empty tensors and subgraph attributes.
//   - Scan reads the model's top-level structure (opset imports, nodes,
//     initializer, input and output names) straight from the wire format.
//
// Tests call RequireChecker, which skips when the Python checker is missing,
// except under CI=true, where that is a failure.
//
// # Invariants
//
//   - No function modifies the model bytes it is given.
//   - Errors from the checkers carry the checker's own message.
package crosscheck
