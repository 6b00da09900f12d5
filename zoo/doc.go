// Package zoo builds reference convolutional networks with ir.Builder:
// the Fashion-MNIST baselines of BENCHMARK.md section E (lenet5, simplecnn,
// resnet20, resnet56, vgg11bn, CIFAR-style mobilenetv2) and ImageNet-scale
// networks (resnet50, mobilenetv1, mobilenetv2-imagenet, mobilenetv3-small,
// mobilenetv3-large, mnasnet-a1). They serve as test inputs, benchmark
// models and the baselines synthesized networks are compared against.
//
// # Overview
//
// Build(name, opts) returns a verified graph; Names lists the networks. Each
// network is one row of the table in zoo.go: its default input shape and
// class count, the published figures it reproduces, and a build function.
// Options change the seed, the class count, the input shape and the width
// multiplier, and can randomize BatchNorm statistics.
//
// Layer semantics are PyTorch's (torchvision's for the ImageNet networks),
// written with ONNX opset-13 operators: Conv with symmetric pads k/2,
// BatchNormalization, Relu, Clip(0, 6) for ReLU6, HardSwish, HardSigmoid
// (alpha 1/6, beta 0.5, PyTorch's), MaxPool, GlobalAveragePool, Flatten and
// Gemm (transB = 1, weights [out, in]). Squeeze-and-excitation is
// GlobalAveragePool → Conv 1×1 → Relu → Conv 1×1 → gate → Mul, with
// HardSigmoid as the gate in MobileNetV3 and Sigmoid in MnasNet-A1 (as
// in the MnasNet paper's TensorFlow code).
//
// # Invariants
//
//   - Every graph passes ir.Verify, has one input "input" of type
//     f32[N,C,H,W] with the symbolic batch dim "N", and one output
//     "logits" of type f32[N,classes].
//   - Weights are deterministic: each parameter carries an ir.Init recipe
//     seeded from Options.Seed and the parameter's position, so the same
//     name and Options always give bit-identical graphs. Conv and Gemm
//     weights are Kaiming-normal (std √(2/fan_in)), except that the last
//     conv of each residual branch has its std divided by √blocks (as in
//     Fixup: with BatchNorm at identity statistics, every residual add
//     would otherwise double the activations' variance, and a ResNet-56's
//     logits would reach 10⁴); biases are uniform in ±1/√fan_in
//     (PyTorch's default); BatchNorm has scale 1, shift 0, mean 0 and
//     variance 1 unless Options.RandomBNStats is set.
//   - Every value produced by a node is named after the node.
package zoo
