// Package targets describes hardware targets as data and predicts what a
// graph costs on them.
//
// A target profile (profiles/*.json, embedded; users add their own with
// LoadFile) gives peak throughput per dtype, memory bandwidth, memories and
// their capacities, per-op-class efficiencies, a per-kernel overhead, the op
// chains the target's runtime fuses into one kernel, the dtypes and ops it
// supports, its power, and its default pass pipeline. Every figure carries a
// source: a datasheet, paper or benchmark, or "fitted: …" / "estimate: …"
// with the reasoning.
//
// Estimate is the cost model. It groups nodes into kernels along the
// target's fusion patterns (single-user chains only; QuantizeLinear →
// DequantizeLinear pairs inside a chain and a trailing QuantizeLinear belong
// to the kernel, dequantizes of integer tensors are read as integers), costs
// each kernel with a roofline
//
//	latency = max(ops / (peak(dtype) × efficiency(class)), bytes / bandwidth) + overhead
//
// and sums the kernels, following nn-Meter's observation that kernel
// latencies add up. Two optional profile sections refine it where a
// runtime needs them: conv_shape (ONNX Runtime's channel-blocked NCHWc
// convolutions: efficiency by reduction depth and block alignment, output
// channels padded to the block) and weight_levels (a graph whose weights
// and activations exceed a cache level reads its weights at the slower
// level's bandwidth).
//
// Calibrate (cgo builds; `fcompile calibrate`) fits a profile to this
// machine: it times generated single-kernel micro-benchmarks
// (MicroBenchmarks) in ONNX Runtime under BENCHMARK.md section D's protocol
// (MeasureModel), subtracts the time of an Identity-only model, and fits
// overhead, bandwidths, efficiencies and the conv_shape and weight_levels figures by
// least squares on log(predicted/measured), the predictions being
// Estimate's own. The built-in host profile is its output. Energy is power × latency unless the profile gives
// per-op and per-byte energies. Peak activation memory is the liveness peak
// of the buffers kernels exchange (fused intermediates never exist, int8
// tensors stay int8); weight storage comes from ir.Analyze. Both are checked
// against the memories that hold them.
//
// # Invariants
//
//   - The built-in targets are exactly the files in profiles/; there is no
//     registration.
//   - Every loaded Target has been validated: all figures positive and
//     sourced, efficiencies in (0, 1], every op class covered, a memory for
//     activations and one for weights.
//   - Estimate does not modify the graph; each node is in exactly one kernel
//     or in Report.FreeNodes.
//   - Symbolic dims (the batch "N") count as 1.
package targets
