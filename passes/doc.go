// Package passes rewrites IR graphs: a table of named passes, textual
// pipelines, and a driver that verifies, measures and prints between passes.
//
// # Pipelines
//
// A pipeline is a comma-separated list of pass names, each optionally with
// typed options in braces:
//
//	simplify,fold-bn,freeze-shapes{input=1,3,224,224},simplify
//
// Parse reads one ("none" is the empty pipeline, a faithful round trip);
// FromNames builds one from a target profile's list of names; Default is
// the host target's pipeline (DefaultPipeline), which only preserves
// semantics. Run applies a pipeline in place with Options (VerifyEach,
// PrintIRAfter) and returns Stats (per pass: time, nodes, MACs and params
// before and after). CheckEquivalence compares a graph before and after a
// pipeline in the engine on seeded random inputs.
//
// # Passes
//
// Each pass lives in its own file, whose doc comment says what it rewrites,
// what it requires and what it leaves for dce. Semantics-preserving:
// canonicalize, const-fold, reshape-batch, cse, dce, simplify (the previous
// five to a fixed point), fold-pad, fold-bn, matmul-add-to-gemm, fuse (an
// analysis: fusion groups as remarks and Fusions, the graph stays standard
// ONNX), fuse-contrib (ONNX Runtime's com.microsoft FusedConv/FusedGemm)
// and freeze-shapes. Lossy: prune (structured channel pruning),
// quantize (static int8 QDQ) and fp16 (float16 compute; its error is
// bounded, so CheckEquivalence applies with FP16Tol, see
// Pipeline.Tolerance). A candidate a pass skips for a reason that is
// not obvious from the graph gets a remark (ir.Graph.Remark), which golden
// tests assert.
//
// # Tests
//
// testdata/passes/*.fir are golden tests in the FileCheck style of package
// passes/firtest; RUN lines are interpreted in-process by LitTool, which
// verifies after every pass and checks numeric equivalence within --tol.
//
// # Invariants
//
//   - Every pass leaves a graph that passes ir.Verify when given one.
//   - Passes never modify a Tensor in place: folded weights are new
//     tensors in new parameters, so a Clone shares tensors safely.
//   - The graph's inputs and outputs keep their names, order and meaning;
//     only freeze-shapes changes input shapes, and only fp16{io=fp16}
//     dtypes (float32 to float16).
//   - Passes flagged as preserving semantics keep every output within
//     floating-point rounding of the original for every input.
package passes
