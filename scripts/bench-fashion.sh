#!/usr/bin/env bash
# Fashion-MNIST synthesis benchmark (issue #7, protocol in ../shared/BENCHMARK.md, section A).
# Every stage is resumable: re-running it continues from its checkpoints.
#   synth     generative synthesis (search cycles on the training split, decisions on validation)
#   synth-medium  a second synthesis run with a stricter requirement set (not in the default stages)
#   generate  8 networks from the learned generator, without re-running the search
#   final     reference-recipe training (30 epochs, all 60,000 images) of the chosen FermiNets
#   refs      reference networks trained by our engine with the same recipe
#   report    report.json, report.md and the plot in bench/results/fashion-mnist/
set -euo pipefail
cd "$(dirname "$0")/.."
GO=${GO:-go}
OUT=bench/results/fashion-mnist
RUN=$OUT/synth-small
mkdir -p bin "$OUT"
$GO build -o bin/ ./cmd/fsynth ./cmd/fcompile

# Requirement set "small": the run that produced generator.json. Accuracy is
# validation accuracy after the run's short fine-tune (600 steps of 64 images).
synth() {
	if [ -f "$RUN/state.json" ]; then
		./bin/fsynth resume "$RUN"
	else
		./bin/fsynth run --dataset fashion-mnist --prototype lenet5 --target cortex-a76 \
			--min-accuracy 0.87 --max-macs 1.2M --max-params 120k \
			--cycles 16 --per-cycle 12 --steps 600 --batch 64 --seed 1 \
			--final 3 --final-steps 1500 --final-batch 128 --workers 2 --threads 1 -o "$RUN"
	fi
	cp "$RUN/generator.json" "$OUT/generator.json"
	# generator.json names its parent's weights relative to itself: copy them too.
	parent=$(python3 -c 'import json,sys; print((json.load(open(sys.argv[1]))["generator"].get("parent") or {}).get("file", ""))' "$RUN/generator.json")
	if [ -n "$parent" ]; then
		mkdir -p "$OUT/$(dirname "$parent")"
		cp "$RUN/$parent" "$OUT/$parent"
	fi
}

# Requirement set "medium" (aimed at the ≥ 92.8 % / ≤ 1.2 M MACs / ≤ 120 k params
# target): a stricter accuracy after a longer fine-tune (1,000 steps of 64 images).
RUN2=$OUT/synth-medium
synth_medium() {
	if [ -f "$RUN2/state.json" ]; then
		./bin/fsynth resume "$RUN2"
	else
		./bin/fsynth run --dataset fashion-mnist --prototype lenet5 --target cortex-a76 \
			--min-accuracy 0.89 --max-macs 1.2M --max-params 120k \
			--cycles 10 --per-cycle 12 --steps 1000 --batch 64 --seed 2 \
			--final 2 --final-steps 1500 --final-batch 128 --workers 2 --threads 1 -o "$RUN2"
	fi
}

generate() {
	rm -rf "$OUT/generated.tmp"
	./bin/fsynth generate --generator "$RUN/generator.json" --count 8 --seed 7 -o "$OUT/generated.tmp"
	rm -rf "$OUT/generated" && mv "$OUT/generated.tmp" "$OUT/generated"
}

for stage in "${@:-synth generate final refs report}"; do
	for s in $stage; do
		case $s in
		synth | generate) $s ;;
		synth-medium) synth_medium ;;
		final | refs | report) $GO run ./bench/fashionbench "$s" --run "$RUN" --out "$OUT" ;;
		*) echo "bench-fashion.sh: unknown stage $s (synth, generate, final, refs, report)" >&2; exit 2 ;;
		esac
	done
done
