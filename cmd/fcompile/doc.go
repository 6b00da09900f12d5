// Fcompile compiles neural-network models for edge targets: it reads ONNX or
// the IR text format (.fir), reports their cost, and writes ONNX or .fir.
//
// Usage:
//
//	fcompile [flags] MODEL.onnx|MODEL.fir          compile (the default command)
//	fcompile run MODEL --input NAME=FILE.pb ... --output-dir DIR
//	fcompile eval MODEL --dataset fashion-mnist|mnist|cifar10|DIR [--split test|train|val] [--json]
//	fcompile targets [--json]
//	fcompile calibrate --target host -o host.json
//	fcompile help
//
// Compile reads MODEL, runs a pass pipeline, and writes the result with -o in
// the format its extension names (.onnx or .fir; a .fir keeps large tensors in a
// sidecar file next to it). The pipeline is --passes (a comma list of pass
// names with options in braces, e.g. 'canonicalize,fold-bn,prune{macs=0.5,
// criterion=l1},dce'; none carries the model through unchanged), or else the
// default pipeline of the target (host unless --target says otherwise: it only
// preserves semantics). --input-shape NAME:1,3,224,224 freezes dynamic dims
// first; --onnx-contrib writes ONNX Runtime's fused com.microsoft kernels;
// --verify-each, --print-ir-after, --stats and --check-equivalence (engine on
// seeded random inputs before and after, failing above --tol, whose default
// is 1e-4, or 1e-2 for pipelines with fp16) show what the passes did. Targets whose pipeline quantizes need --calib DATASET.
// -o never overwrites the input unless --force is given; --max-memory SIZE
// refuses models larger than SIZE before reading their data (for run and
// eval: activations larger than SIZE, by default half the machine's memory).
// --emit ir prints the IR text to stdout. --report
// prints a per-node cost table (MACs, FLOPs, params, output shapes) with
// totals; --report-json FILE writes the same as JSON ("-" for stdout) with
// top-level macs, flops, params, weight_bytes, peak_activation_bytes,
// peak_memory_bytes and a nodes array. MACs count one sample (symbolic batch
// dims count as 1); params are in deploy form (a BatchNormalization after a
// Conv folds into it).
//
// With --target T (or --target-file FILE, a profile of your own), compile
// also predicts latency, energy and peak memory on that hardware with the
// fusion-aware roofline model of package targets, adds them to the reports
// (--report-json gains latency_ms, energy_mj, fits, unsupported and the
// target's peak_memory_bytes) and warns about ops, dtypes and dynamic shapes
// the target cannot run; --strict makes that an error.
//
// Run executes MODEL on the reference engine with inputs read from ONNX
// TensorProto files (as in the ONNX backend test data) and writes
// output_0.pb, output_1.pb, ... in graph-output order into --output-dir.
//
// Eval reports the top-1 accuracy of a classifier (first input N×C×H×W,
// first output N×classes) on a data set's split (default test; val is the
// last 5,000 training images). Pixels are normalized as x = (p·scale −
// mean)/std with the data set's defaults: fashion-mnist mean 0.2860 std
// 0.3530, mnist 0.1307/0.3081, scale 1/255; --mean, --std, --scale override.
//
// Targets lists the built-in hardware profiles with their key figures.
//
// Calibrate measures ONNX Runtime on this machine (graph optimization level
// all, batch 1, one intra-op thread, median of --runs runs after warm-up) on
// generated micro-benchmarks and fits the profile's efficiencies, overheads
// and bandwidths; the result is a profile file for --target-file.
//
// Exit status: 0 on success, 1 on failure, 2 on a usage error.
//
// Examples:
//
//	fcompile testdata/ir/tiny-cnn.fir --emit ir
//	fcompile testdata/ir/tiny-cnn.fir --report
//	fcompile model.onnx --passes none -o copy.onnx --opset 17
//	fcompile model.onnx -o optimized.onnx --stats --check-equivalence
//	fcompile model.onnx --passes 'canonicalize,prune{macs=0.5,criterion=l1},dce' -o pruned.onnx
//	fcompile model.onnx --input-shape input:1,3,224,224 --target cortex-a76 --report
//	fcompile model.onnx --report-json - -o model.fir
//	fcompile testdata/ir/tiny-cnn.fir --target cortex-m7 --report
//	fcompile run model.onnx --input input=input_0.pb --output-dir out/
//	fcompile eval model.onnx --dataset fashion-mnist --json
//	fcompile targets
//	fcompile calibrate --target host -o host.json
package main
