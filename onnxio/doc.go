// Package onnxio converts between ONNX model files and the IR.
//
// Decode and ReadFile import a ModelProto into an *ir.Graph whose core ops
// have ONNX opset 13 semantics, whatever opset (MinOpset..MaxOpset) the model
// was written in; Encode and WriteFile export a graph at an opset between
// MinExportOpset and MaxOpset. ReadTensorFile and WriteTensorFile handle
// single TensorProto files as found in ONNX test data. The protobuf bindings
// (subpackage onnxpb, generated, see gen.go) never appear in the API.
//
// # Import
//
// Every node of the default domain whose op type is in ir's op table becomes
// that ir.Op, with its inputs and attributes normalized to opset 13 (ops.go
// lists each rule): Clip bounds, Squeeze/Unsqueeze axes, Split sizes, Slice
// ranges, Pad pads and value, and Dropout ratio become inputs (new params);
// ReduceMean axes becomes an attribute; opset-10 Resize gets the opset-11
// input layout; Constant's value_* attributes become a value tensor; Softmax
// before opset 13 (which coerces its input to 2-D at axis) becomes Softmax
// on the last axis when that is the same thing, and Shape, Flatten, Softmax,
// Reshape otherwise (valid for any rank). A node that does not fit the IR
// after normalization (an unknown attribute, a non-constant ReduceMean axes
// input, Pad with an axes input, BatchNormalization with training outputs
// before opset 14, ...) is kept as an opaque node with its original form.
// Ops the IR does not know, of any domain, and core ops of other domains are
// opaque nodes (ir.OpOpaque) whose attributes are kept exactly: basic kinds as
// ir.Attr values, anything else (graphs, sparse tensors, type protos,
// reference attributes, tensor lists, doc strings) as ir.AttrRaw holding the
// encoded AttributeProto. Re-encoding an opaque node reproduces its
// NodeProto. Opaque nodes of the default domain are written back unchanged
// even when the export opset differs from the import opset, so their meaning
// is only guaranteed at the opset they were read at.
//
// Model, graph, node and value metadata (ir_version, opset imports, producer,
// domain, model_version, doc strings, metadata_props) is kept in the graph's
// fields. Protobuf fields the IR does not model travel in the Extra and
// ModelExtra bytes as encoded protobuf fields: unknown fields (from newer
// ONNX versions), model functions and training info, graph quantization
// annotations, and an explicitly empty node domain. Value.Extra holds the
// unknown fields of a value's ValueInfoProto, or of its TensorProto for
// params.
//
// Initializers become params in file order; graph inputs that are also
// initializers (old exporters) become params only. Nodes are sorted
// topologically when the file's order is not, nodes without a name are named
// after their op type, and duplicate node names get a numeric suffix. Output
// types come from ir shape inference; a dim or dtype inference leaves unknown
// keeps what the file declared (value_info, graph outputs), and opaque nodes
// keep their declared types. The result passes ir.Verify.
//
// # Export
//
// Params are written as raw_data initializers in g.Params order, nodes in
// graph order, and value_info for every node output that is not a graph
// output and has a known dtype or rank (so re-import keeps every shape the
// graph knew, including those of opaque nodes' outputs). The encoding is deterministic: the same graph
// gives the same bytes. The default export opset is the imported one, raised
// to 13, or 17 for graphs built in Go. Attributes a target opset lacks are
// dropped when they carry their default meaning and are an error naming the
// node otherwise.
//
// # Invariants
//
//   - Decode returns a graph that passes ir.Verify, or an error.
//   - Decode(Encode(g)) equals g (ir.Equal) for a graph Decode returned or
//     ir.Verify accepts, except for IRVersion and Opsets, which export may
//     raise, and attributes at their default that the export opset lacks
//     (dropped). Encode(Decode(Encode(g))) equals Encode(g) byte for byte.
//   - No onnxpb type appears in an exported identifier.
//
// # Limitations
//
//   - Subgraph attributes are opaque: values a subgraph reads from the
//     enclosing graph by name are not edges of the IR, so topological sorting
//     and passes do not see those uses.
//   - BatchNormalization's is_test (opset 6) is dropped, as ONNX's version
//     converter does: models are read for inference. Split's num_outputs
//     (opset 18) becomes explicit sizes when the axis is static and does not
//     divide evenly; on a symbolic axis it is dropped, meaning equal parts.
//   - A core op reading the output of an opaque node whose type the file
//     does not declare (no value_info) cannot be typed; Decode reports it.
//   - Sequence, map, optional and sparse tensor values, sparse initializers,
//     segmented tensors and element types newer than bfloat16 (float8, int4)
//     are errors. Tensor attributes with external data are loaded for core
//     ops (Constant) but stay encoded (raw, still referring to the external
//     file) on opaque nodes.
//   - Nodes without a name get one, so their NodeProto does not re-encode
//     identically; ValueInfoProto denotations are not kept.
//   - Hostile files are bounded before allocation: a model file over 2 GiB
//     (protobuf's limit) or over ReadOptions.MaxBytes, tensors whose dims
//     overflow or exceed the data present, ranks above ir.MaxRank, nodes with
//     more than 1024 attributes, subgraphs nested deeper than protobuf's
//     recursion limit, and external data outside the model's directory are
//     errors; reported problems are capped at 20.
//   - The bindings register the protobuf names "onnx.*" globally, as other
//     ONNX packages (e.g. onnx-go) do: a binary linking both panics at init
//     unless protobuf's registration conflict policy is relaxed.
package onnxio
