// Package synth implements generative synthesis of efficient networks
// (Wong et al., "FermiNets: Learning generative machines to generate
// efficient neural networks via generative synthesis", 2018): a generator G
// is learned such that
//
//	G = argmax_G U(G(s))  subject to  1_r(G(s)) = 1  for every seed s,
//
// by cycles in which G generates networks, an inquisitor I probes them and
// turns its observations into an update of G's parameters θ_G.
//
// # Vocabulary
//
//   - Generator (generator.go, space.go, build.go): G(s; θ_G). θ_G is a set
//     of categorical distributions (softmax logits) over an architecture
//     space anchored on a prototype's Skeleton (lenet5, simplecnn, resnet20,
//     mobilenetv2, or the user's model: Config.Prototype "model.onnx" is
//     read by SkeletonFromGraph, onnxproto.go, which maps an inference CNN's
//     stem, downsampling points, blocks and head onto a Skeleton, e.g.
//     PyTorch's CIFAR-style ResNet-20 onto the resnet20 row; the skeleton is
//     stored in generator.json, so resume and generate do not read the
//     model again): the stem's width multiplier and, per stage, its depth,
//     width multiplier, block type (standard, depthwise-separable,
//     inverted-residual, grouped + channel shuffle), kernel size,
//     expansion and residual skip, and the head (global average pool or
//     flatten). Widths are per stage (all blocks of a stage write one
//     channel space, so residual adds line up). A stage of depth 0 is
//     absent: the classic prototypes get an optional extra downsampling
//     stage. The prototype's own choices start with a higher logit; with
//     Config.FitPrior, when the prototype itself exceeds a cost limit of
//     1_r, the width priors start on the largest multiplier at which it
//     fits instead (prior.go). With Config.Repair a sample that exceeds
//     a cost limit is shrunk, one option at a time (largest width first,
//     then depth, kernel, expansion), until it fits, before it is probed;
//     the update credits the options the repaired network took.
//     Every Conv is followed by BatchNormalization, which the targets'
//     pipelines fold away, so costs are those of the folded network.
//     Channel shuffles train through an exact MatMul-permutation form
//     (trainform.go) because the engine has no Transpose gradient.
//     θ_G also holds the weights of a parent, a trained network from an
//     earlier cycle: a generated network inherits, layer by layer where the
//     kernel and grouping agree, the parent's most important channels (by
//     the L1 norm of the filters writing each channel space), so that a
//     short fine-tune suffices. Generate(seed) is deterministic.
//   - Inquisitor (inquisitor.go): I(G; θ_I). Probe measures a network's
//     costs as deployed (a clone runs through the target's default pass
//     pipeline, then ir.Analyze gives MACs and params and targets.Estimate
//     latency, energy and peak memory), fine-tunes it with the engine's
//     Trainer on the training split, measures validation accuracy and the
//     reaction of every block-output channel to validation images (mean
//     |activation|). Networks whose costs alone violate 1_r are not trained.
//     θ_I is the probe budget and the update's learning rates.
//   - Requirements (requirements.go): 1_r, with Satisfied(metrics) (bool, why).
//   - Performance (performance.go): U; NetScore by default.
//   - Run (run.go): the cycles, checkpoints and resume; final.go trains and
//     exports the best networks; report.go writes the report and plot.
//
// # The update rule
//
// Each cycle the generator samples n architectures; the inquisitor probes
// them and Update changes θ_G in two steps.
//
// 1. Policy gradient with rank-based advantages. Candidates are ranked:
// those satisfying 1_r above the others, satisfying ones by U, the others by
// their violation (the sum of log ratios by which they exceed each limit;
// for accuracy, of the error rates). Centred ranks u_i ∈ [−½, ½] (ties
// share their mean rank) are the advantages, which makes the step invariant
// to the scale of U and gives a zero-mean baseline. For every decision d
// with probabilities p = softmax(z_d):
//
//	z_d ← clip(z_d + η · (1/n) Σ_i u_i (e_{c_i} − p), ±4)
//
// where c_i is the option candidate i took and e_c the one-hot vector.
// e_c − p is the gradient of log p_c with respect to the logits, so this is
// REINFORCE ascent on E[u], the expected rank utility: probability moves
// toward options that candidates satisfying 1_r with high U took and away
// from options of violators. The clip keeps every option's probability
// above ~e^−8 relative, so the generator keeps exploring.
//
// 2. Activation-driven width step. For every trained candidate and stage
// whose block outputs have a fraction r < 1 of reacting channels (mean
// |activation| at least 1 % of the strongest channel's), the width it
// needs is its width times r (at least a quarter); logit mass η_w·(1−r)/n
// moves from the width option it took to the smallest option at or above
// the needed width. Dead channels cost MACs and params without changing
// the output, so this is a direct estimate of the gradient of cost at
// constant accuracy.
//
// Then the best satisfying network so far (by U) becomes the parent that
// the next cycle's networks inherit weights from; until one satisfies, the
// most accurate trained network does.
//
// This is a learning step in the sense that matters: θ_G after the update
// generates networks that satisfy 1_r more often. The per-cycle log
// records the share of generated networks satisfying 1_r (measured on
// fresh samples each cycle), the best U, and a summary of θ_G; the tests
// check that the share rises on a synthetic probe and end to end.
//
// # Reproducibility
//
// All randomness is seeded: cycle c draws its networks' seeds from a PCG
// stream seeded by (Config.Seed, c); a network's weights, fine-tune
// batches and dropout come from its seed. The checkpoint (generator.json,
// state.json, the pool's .onnx files) is written after every cycle, with
// the parent reloaded from its file, so Resume continues with the same
// result as an uninterrupted run. Workers and Threads never change results.
//
// # Invariants
//
//   - Every generated graph passes ir.Verify, has input "input" N×C×H×W and
//     output "logits" N×classes.
//   - Accuracy that decides anything is validation accuracy; the test split
//     is measured only for the final report.
//   - Costs are those of the graph after the target's default pipeline.
package synth
