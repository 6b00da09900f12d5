#!/usr/bin/env bash
# Fashion-MNIST synthesis benchmark (issue #7, protocol in ../shared/BENCHMARK.md, section A).
# Every stage is resumable: re-running it continues from its checkpoints.
#   synth     generative synthesis (search cycles on the training split, decisions on validation)
#   synth-medium  a second synthesis run with a stricter requirement set (not in the default stages)
#   synth-accurate  a third run, U = accuracy under the same cost limits (not in the default stages)
#   synth-mid  a fourth run on the resnet20 prototype for the 6.2 M-MAC target (not in the default stages)
#   synth-mid-repair  the same with over-budget samples repaired into the budget (not in the default stages)
#   synth-compact  a sixth run on an early-downsampling depthwise-separable prototype (bench/prototypes/,
#             made by bench/compactproto) for the 1.2 M-MAC target (not in the default stages)
#   synth-compact-fc  the same with the head's hidden fully connected layer as a decision (--hidden-layer)
#   generate  8 networks from the learned generator, without re-running the search
#   final     reference-recipe training (30 epochs, all 60,000 images) of the chosen FermiNets
#   final-medium, final-accurate, final-mid, final-mid-repair  the same for the other runs'
#             FermiNets (into medium/, accurate/, mid/, mid-repair/)
#   final-compact, final-compact-kd  synth-compact's FermiNets with the reference recipe (into compact/), and its
#             ferminet-1 also distilled from $TEACHER (into compact-kd/)
#   final-compact-fc  synth-compact-fc's FermiNets with the reference recipe (into compact-fc/)
#   final-compact-fc-kd  its FermiNets with a longer recipe (60 epochs) plus distillation from mid-kd's
#             trained ferminet-1 (a 5.7 M-MAC FermiNet, 93.69 %) into compact-fc-kd/
#   final-compact-fc-long  its FermiNets with the longer recipe alone (60 epochs, no teacher) into
#             compact-fc-long/, to tell the longer recipe's share from distillation's
#   final-compact-fc-kdr  its ferminet-1 with the reference recipe plus distillation from $TEACHER into
#             compact-fc-kdr/
#   final-mid-kd  synth-mid's ferminet-1 trained with the reference recipe plus distillation from the reference
#             ResNet-20 ($TEACHER) into mid-kd/
#   final-accurate-kd  synth-accurate's ferminet-1 likewise, distilled from synth-mid's trained ferminet-1 (a larger
#             FermiNet teaching a smaller one) into accurate-kd/
#   refs      reference networks trained by our engine with the same recipe
#   report    report.json, report.md and the plot in bench/results/fashion-mnist/
set -euo pipefail
cd "$(dirname "$0")/.."
GO=${GO:-go}
OUT=bench/results/fashion-mnist
RUN=$OUT/synth-small
mkdir -p bin "$OUT"
# TAGS=openblas builds the engine on OpenBLAS (Debian libopenblas-dev) into
# bin/openblas/: about three times faster on the wider resnet20-space
# networks; the pure-Go build (bin/) is the default.
BIN=bin${TAGS:+/$TAGS}
mkdir -p "$BIN"
$GO build ${TAGS:+-tags "$TAGS"} -o "$BIN/" ./cmd/fsynth ./cmd/fcompile

# synthesize DIR FLAGS...: a synthesis run into DIR, resumed from its
# checkpoint when DIR already holds one. Accuracy in every requirement set is
# validation accuracy after the run's short fine-tune (--steps of --batch).
synthesize() {
	local dir=$1
	shift
	if [ -f "$dir/state.json" ]; then
		"$BIN/fsynth" resume "$dir"
	else
		"$BIN/fsynth" run --dataset fashion-mnist --target cortex-a76 --workers 2 --threads 1 \
			--final-batch 128 --final-steps 1500 "$@" -o "$dir"
	fi
}

# Requirement set "small": the run that produced generator.json.
synth() {
	synthesize "$RUN" --prototype lenet5 --min-accuracy 0.87 --max-macs 1.2M --max-params 120k \
		--cycles 16 --per-cycle 12 --steps 600 --batch 64 --seed 1 --final 3
	cp "$RUN/generator.json" "$OUT/generator.json"
	# generator.json names its parent's weights relative to itself: copy them too.
	parent=$(python3 -c 'import json,sys; print((json.load(open(sys.argv[1]))["generator"].get("parent") or {}).get("file", ""))' "$RUN/generator.json")
	if [ -n "$parent" ]; then
		mkdir -p "$OUT/$(dirname "$parent")"
		cp "$RUN/$parent" "$OUT/$parent"
	fi
}

# Requirement set "medium" (aimed at NetScore ≥ 95 with ≥ 91.4 %): a stricter
# accuracy after a longer fine-tune (1,000 steps of 64 images).
RUN2=$OUT/synth-medium
synth_medium() {
	synthesize "$RUN2" --prototype lenet5 --min-accuracy 0.89 --max-macs 1.2M --max-params 120k \
		--cycles 10 --per-cycle 12 --steps 1000 --batch 64 --seed 2 --final 2
}

# Requirement set "accurate" (aimed at ≥ 92.8 % with ≤ 1.2 M MACs and ≤ 120 k
# params): the same cost limits, U = accuracy, so the generator is pushed
# toward the most accurate networks that fit rather than the smallest.
RUN3=$OUT/synth-accurate
synth_accurate() {
	synthesize "$RUN3" --prototype lenet5 --performance accuracy --min-accuracy 0.885 --max-macs 1.2M --max-params 120k \
		--cycles 10 --per-cycle 10 --steps 1000 --batch 64 --seed 3 --final 2
}

# Requirement set "mid" (aimed at ≥ 93.5 % with ≤ 6.2 M MACs): the resnet20
# prototype (residual stages, global-average-pool head), U = accuracy.
RUN4=$OUT/synth-mid
synth_mid() {
	synthesize "$RUN4" --prototype resnet20 --performance accuracy --fit-prior --min-accuracy 0.87 --max-macs 6.2M \
		--cycles 6 --per-cycle 8 --steps 600 --batch 64 --seed 4 --final 2 --final-steps 300
}

# Requirement set "mid-repair": as "mid", with every over-budget sample
# repaired into the budget before it is probed (synth-mid left most samples
# untrained).
RUN5=$OUT/synth-mid-repair
synth_mid_repair() {
	synthesize "$RUN5" --prototype resnet20 --performance accuracy --fit-prior --repair --min-accuracy 0.87 --max-macs 6.2M \
		--cycles 8 --per-cycle 8 --steps 600 --batch 64 --seed 5 --final 2 --final-steps 300
}

# Requirement set "compact" (aimed at ≥ 92.8 % with ≤ 1.2 M MACs and ≤ 120 k
# params): U = accuracy on a user-ONNX prototype whose stages run at 14×14
# and 7×7 (the lenet5 space spent its budget at 28×28 and settled at 0.7 M
# MACs; resnet20's first stage at 28×28 left 4–6 k-param networks).
RUN6=$OUT/synth-compact
PROTO_COMPACT=bench/prototypes/compact-dwsep.onnx
synth_compact() {
	synthesize "$RUN6" --prototype "$PROTO_COMPACT" --performance accuracy --repair --min-accuracy 0.89 \
		--max-macs 1.2M --max-params 120k --cycles 8 --per-cycle 10 --steps 1000 --batch 64 --seed 6 --final 2
}

# Requirement set "compact-fc": as "compact", with the head's hidden fully
# connected layer as a decision (--hidden-layer): LeNet-5, whose two hidden
# layers the space otherwise drops, trains to 91.86 % at 0.42 M MACs, above
# every FermiNet of the lenet5 space below 0.7 M MACs.
RUN7=$OUT/synth-compact-fc
synth_compact_fc() {
	synthesize "$RUN7" --prototype "$PROTO_COMPACT" --hidden-layer --performance accuracy --repair --min-accuracy 0.89 \
		--max-macs 1.2M --max-params 120k --cycles 7 --per-cycle 10 --steps 1000 --batch 64 --seed 7 --final 2
}

generate() {
	rm -rf "$OUT/generated.tmp"
	"$BIN/fsynth" generate --generator "$RUN/generator.json" --count 8 --seed 7 -o "$OUT/generated.tmp"
	rm -rf "$OUT/generated" && mv "$OUT/generated.tmp" "$OUT/generated"
}

# The teacher of the distilled stages: ResNet-20 trained on Fashion-MNIST by
# PyTorch (../shared/models, 94.44 % test accuracy).
TEACHER=${TEACHER:-../shared/models/fashion-resnet20.onnx}

# final_of RUN SUB MAX [FLAGS]: the final stage of another run into $OUT/SUB, skipped
# (with a message) when RUN has not been made.
final_of() {
	if [ ! -f "$1/state.json" ]; then
		echo "bench-fashion.sh: no run in $1 (its synth stage): final stage for $2 skipped" >&2
		return
	fi
	$GO run ./bench/fashionbench final --run "$1" --out "$OUT/$2" --max "$3" --fsynth "$BIN/fsynth" "${@:4}"
}

for stage in "${@:-synth generate final refs report}"; do
	for s in $stage; do
		case $s in
		synth | generate) $s ;;
		synth-medium) synth_medium ;;
		synth-accurate) synth_accurate ;;
		synth-mid) synth_mid ;;
		synth-mid-repair) synth_mid_repair ;;
		synth-compact) synth_compact ;;
		synth-compact-fc) synth_compact_fc ;;
		final | refs) $GO run ./bench/fashionbench "$s" --run "$RUN" --out "$OUT" --fsynth "$BIN/fsynth" ;;
		final-medium) final_of "$RUN2" medium 3 ;;
		final-accurate) final_of "$RUN3" accurate 2 ;;
		final-mid) final_of "$RUN4" mid 2 ;;
		final-mid-repair) final_of "$RUN5" mid-repair 2 ;;
		final-compact) final_of "$RUN6" compact 2 ;;
		final-compact-kd) final_of "$RUN6" compact-kd 1 --teacher "$TEACHER" ;;
		final-compact-fc) final_of "$RUN7" compact-fc 2 ;;
		final-compact-fc-kd) final_of "$RUN7" compact-fc-kd 2 --epochs 60 --teacher "$OUT/mid-kd/ferminet-1.onnx" ;;
		final-compact-fc-long) final_of "$RUN7" compact-fc-long 2 --epochs 60 ;;
		final-compact-fc-kdr) final_of "$RUN7" compact-fc-kdr 2 --only 1 --teacher "$TEACHER" ;;
		final-mid-kd) final_of "$RUN4" mid-kd 2 --only 1 --teacher "$TEACHER" ;;
		final-accurate-kd) final_of "$RUN3" accurate-kd 2 --only 1 --teacher "$OUT/mid/ferminet-1.onnx" ;;
		report)
			# The report covers every run whose final stage has started.
			also=()
			for sub in medium accurate mid mid-repair mid-kd accurate-kd compact compact-kd compact-fc compact-fc-kd compact-fc-long compact-fc-kdr; do
				if [ -f "$OUT/$sub/final-selection.json" ]; then also+=(--also "$sub"); fi
			done
			$GO run ./bench/fashionbench report --run "$RUN" --out "$OUT" "${also[@]}"
			;;
		*) echo "bench-fashion.sh: unknown stage $s (synth, synth-medium, synth-accurate, synth-mid, synth-mid-repair, synth-compact, synth-compact-fc, generate, final, final-medium, final-accurate, final-mid, final-mid-repair, final-compact, final-compact-kd, final-compact-fc, final-compact-fc-kd, final-compact-fc-long, final-compact-fc-kdr, final-mid-kd, final-accurate-kd, refs, report)" >&2; exit 2 ;;
		esac
	done
done
