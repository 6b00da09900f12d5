// Fsynth synthesizes compact neural networks (FermiNets) for a data set,
// a hardware target and requirements, and trains networks on the reference
// engine, exporting them as ONNX.
//
// Usage:
//
//	fsynth [demo] [-o DIR]                  a small MNIST synthesis (the default command)
//	fsynth run --dataset D --prototype P --target T [requirements] -o DIR
//	fsynth resume DIR
//	fsynth generate --generator DIR/generator.json [--count N] -o DIR
//	fsynth train (--arch NAME | --model M.onnx) --dataset D [flags] -o trained.onnx
//	fsynth help
//
// Run, resume, generate and demo drive package synth: see each command's
// --help for its flags.
//
// The prototype the search space is anchored on (--prototype) is a built-in
// network (lenet5, simplecnn, resnet20, mobilenetv2) or the path to the
// user's own inference CNN as .onnx: its stem, stride-2 downsampling points,
// blocks (standard, residual, depthwise-separable, inverted residual,
// grouped) and head (global average pool or flatten) become the space's
// skeleton. A model made for other images or classes is adapted as one
// adapts an ImageNet network to CIFAR: the stem reads the data set's
// channels, the head outputs its classes, and a model made for larger
// images loses its first round(log2(model side / image side))
// downsamplings (torchvision's MobileNetV2 on 28×28 images keeps the last
// two of its five); generator.json and report.md record the adaptation.
// Layers the space cannot express (Concat of parallel
// branches, transposed or dilated convolutions, ...) are reported by node.
// The skeleton is saved in generator.json, so resume and generate do not
// need the file again.
//
// Train builds a zoo architecture (--arch lenet5, simplecnn, resnet20,
// mobilenetv2, ... sized for the data set's images and classes) or reads an
// ONNX model (--model; its weights are re-initialized unless --finetune
// keeps them) and trains it with softmax cross-entropy on the training
// images of --dataset (mnist, embedded; fashion-mnist; cifar10; or a
// directory of IDX files, CIFAR batches or image folders). The defaults
// are the reference recipe of BENCHMARK.md: 30 epochs, batch 128, SGD with
// Nesterov momentum 0.9 and weight decay 5e-4, a one-cycle schedule
// (PyTorch OneCycleLR, cosine, 15 % warm-up, max lr 0.05, div 25, final
// div 1e4; momentum is not cycled), random crops with 2-pixel zero padding
// and horizontal flips, on all 60,000 training images (--train-split all).
// --train-split train holds out the last 5,000 images; either way the
// per-epoch validation accuracy is measured on those 5,000 (which are
// training images under --train-split all).
//
// Inputs are normalized as (pixel·scale − mean)/std with the data set's
// constants (fashion-mnist: 1/255, 0.2860, 0.3530; mnist: 1/255, 0.1307,
// 0.3081; a directory: statistics of its training images). After every
// epoch a line reports loss, training and validation accuracy, learning
// rate and images per second, and a checkpoint is written to the output
// path plus ".ckpt"; --resume continues from it bit for bit. At the end the
// test accuracy is printed and the model written atomically to -o, with
// the preprocessing recorded in its metadata_props (preprocess.mean,
// preprocess.std, preprocess.scale, dataset). --report-json FILE writes a
// summary (accuracy, time, epochs, seed, command).
//
// --teacher T distills from a trained model T (knowledge distillation):
// T runs on every augmented batch, and the loss becomes (1 − α)·CE(labels)
// + α·T²·KL(teacher ‖ student) on logits softened by the temperature
// (--distill α, default 0.5; --distill-temp, default 4). T must take the
// same input as the student; if it records its preprocessing, it must be
// the student's.
//
// Training is deterministic: the same flags and seed give the same weights,
// bit for bit, whatever the thread count (with the default kernels, on a
// given CPU).
// Built with -tags openblas, training runs its matrix products on OpenBLAS
// (about as fast as the default build's AVX2 kernels on ResNet-20, see
// bench/results/engine.json); runs are then repeatable on one machine but
// not promised bit-identical across thread counts.
//
// Example:
//
//	fsynth run --dataset fashion-mnist --prototype my-resnet20.onnx --max-macs 6M -o run1
//	fsynth train --arch lenet5 --dataset fashion-mnist -o lenet5.onnx
//	fsynth train --arch lenet5 --dataset mnist --epochs 1 --train-limit 2000 -o /tmp/l.onnx
//	fsynth train --model small.onnx --teacher resnet20.onnx --dataset fashion-mnist -o small-kd.onnx
package main
