// Package engine is the reference executor of the IR: it runs a graph's
// forward pass on concrete tensors. It defines what every core op computes,
// so passes are checked against it numerically; it is also fast enough to
// train and evaluate small CNNs.
//
// # Overview
//
// New checks a graph once (every node's op has a kernel, every input has a
// known rank, every parameter holds data); Run and RunAll then execute it
// node by node in graph order. Each op's forward kernel is a plain function
// found in one table, forward, indexed by ir.Op (engine.go). Kernels are
// grouped by family: elementwise.go (one table of unary and binary scalar
// functions), conv.go, pool.go, matmul.go, norm.go (BatchNormalization,
// Softmax, ReduceMean), shape.go, quant.go and resize.go.
//
// Matrix products go through the Kernels interface (Sgemm). The default is
// gonum's pure Go blas32; an OpenBLAS implementation is built with the
// openblas build tag and injected with WithKernels. Every implementation must
// pass enginetest.Conformance.
//
// # Numerics
//
// Tensors are float32 (ir.Tensor.F32); index and shape tensors are int64.
// Reductions whose error grows with their length (means, variances,
// softmax sums, average pools) accumulate in float64. Convolution and matrix
// products accumulate in float32, in an order that does not depend on the
// number of threads: with the Gonum kernels, results are bitwise identical
// for any WithThreads (OpenBLAS chooses its own blocking and passes the same
// tests, but does not promise it).
//
// # Testing
//
// Each op has hand-computed cases (ops_test.go); Conv and ConvTranspose are
// compared with naive loops on random shapes, with every Kernels
// implementation and several thread counts (conv_test.go). The ONNX backend
// node tests in /usr/share/libonnx-testdata run through onnxio (onnx_test.go),
// and single ops, real models and LeNet's Fashion-MNIST accuracy are compared
// with ONNX Runtime when it is installed (ort_test.go, models_test.go).
//
// # Extending
//
// A backward pass adds a second table beside forward, indexed by ir.Op,
// whose entries take a node, its forward inputs and outputs (RunAll keeps
// them all) and the output gradients, and return input gradients; each
// gradient lives in the same file as its forward kernel. Non-test code stays
// under 3,000 lines.
//
// # Invariants
//
//   - Kernels never write to their input tensors. Shape-only ops (Reshape,
//     Flatten, Squeeze, Unsqueeze, Identity, Dropout at inference) return
//     tensors that share their input's data.
//   - Data problems (a wrong input shape, mismatched channels, an integer
//     division by zero) are returned as errors naming the node or input;
//     the engine does not panic on bad data.
//   - RunAll keeps every intermediate value, which is what a backward pass
//     needs; Run drops values after their last use.
package engine
