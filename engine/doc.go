// Package engine is the reference executor of the IR: it runs a graph's
// forward pass on concrete tensors, and trains its parameters. It defines what every core op computes,
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
// Convolutions take one of five paths (conv.go, grouped.go, winograd.go):
// ungrouped 2-D 3×3 unit-stride ones with at least 8 channels in and out,
// over at least two images, run as Winograd when the kernels are fast on
// small products and the CPU has AVX2 (F(4×4, 3×3) on output planes its
// 4×4 tiles cover exactly and at least 20 wide, and, over pairs of tiles,
// on planes 4 tiles wide or of 2×2 tiles: 36 matrix products of up to 4×
// fewer multiply-adds than im2col; F(2×2, 3×3) on the others: 16 of 2.25×
// fewer; between vectorized tile transforms in engine/simd; the filter
// gradient through the same bilinear form, the input gradient as the
// adjoint convolution); other unit-stride
// 1-D/2-D ones a GEMM over a zero-padded copy of the image, whose patch
// matrix is one contiguous copy per row (convWide; grouped ones with at
// least 4 channels a group too, one GEMM per group, when the kernels are
// OpenBLAS or Blocked, whose small products beat the phase planes; and
// ungrouped 2-D ones with strides 2 over the padded image's 2×2 phase
// planes, where every tap is again one contiguous run); other ungrouped ones
// im2col and a GEMM per image (convGemm, pointwise without im2col);
// 1-D/2-D grouped and depthwise ones with strides up to 4 one vectorized
// axpy (forward, input gradient) or dot (kernel gradient) per tap over the
// group's padded planes, split into stride×stride phase planes so that
// every tap reads one contiguous run (convGrouped); the remaining grouped
// ones (3-D, larger strides) direct loops (convDirect).
//
// Matrix products go through the Kernels interface (Sgemm). The default is
// Blocked: the cache-blocked AVX2/FMA Go assembly of engine/simd (no cgo),
// or gonum's pure Go blas32 where the CPU lacks AVX2/FMA; Gonum is blas32
// alone, and an OpenBLAS implementation is built with the openblas build tag
// and injected with WithKernels. Every implementation must pass
// enginetest.Conformance.
//
// # Numerics
//
// Tensors are float32 (ir.Tensor.F32); index and shape tensors are int64.
// Float16 values run in float32 buffers rounded to the nearest float16 at
// every node that produces one: a float32 kernel with its result rounded,
// as ONNX Runtime's CPU provider effectively runs the ops it has no float16
// kernel for (float16.go).
// Reductions whose error grows with their length (means, variances,
// softmax sums, average pools) accumulate in float64. Convolution and matrix
// products accumulate in float32, in an order that does not depend on the
// number of threads: with the Blocked (default) and Gonum kernels, results
// are bitwise identical for any WithThreads (OpenBLAS chooses its own
// blocking and passes the same tests, but does not promise it). Winograd
// convolutions sum 16 products of transformed values instead of 9 of the
// inputs, so they agree with the other paths to float32 rounding (checked
// at 2·10⁻⁴ relative), not in every bit; Blocked's results also differ
// between CPUs with and without AVX2/FMA.
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
// # Training
//
// Trainer (train.go) trains a graph's parameters with softmax
// cross-entropy (loss.go), separately from Executor. Its forward pass runs
// the forward kernels, except that BatchNormalization uses batch
// statistics (batchNormTrain, norm.go) and Dropout drops (dropoutTrain,
// shape.go); every tensor is kept on a tape. The backward pass walks the
// nodes in reverse and calls the gradient kernel of a second table,
// backward (backward.go), indexed by ir.Op like forward; each gradient
// lives in the file of its forward kernel (convBackward in conv.go, …).
// Only values that depend on a trainable parameter get gradients, so the
// first convolution never computes an input gradient. Optimizers (SGD with
// momentum, Nesterov and weight decay; AdamW) follow PyTorch's update rules
// (optim.go); schedules are PyTorch's OneCycleLR and linear warm-up plus
// cosine (schedule.go). Fit runs epochs over a dataset.Set with
// augmentation and reports to a Recorder; Checkpoint and Restore make a run
// resumable bit for bit.
//
// Training is deterministic: shuffling, augmentation and dropout masks
// come from PCG streams seeded by (seed, epoch) and (seed, step); weight
// gradients sum per fixed chunk of the batch (gradChunks, not the thread
// count) and then over chunks in order, and per-channel sums run in
// float64 in image order. With the Blocked and Gonum kernels a run's
// weights are the same bits for any thread count. The gradient kernels are checked
// against central differences, op by op (backward_test.go) and through a
// whole network (train_test.go).
//
// # Size
//
// Non-test code is about 7,000 lines (wc -l, comments included), plus
// 3,300 of engine/simd (Go and assembly, 1,000 of them Winograd's
// transforms); each op family's file holds its forward and backward
// kernels, and conv.go with grouped.go and winograd.go (2,000 lines) is
// the largest, for its fast paths. The
// trainer itself (train.go, backward.go, optim.go, loss.go, distill.go,
// schedule.go) is about 1,100.
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
