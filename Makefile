# FermiNets toolchain. `make test` installs what the tests need, then vets and tests everything.
GO ?= go
export FERMI_ORT_LIB ?= $(CURDIR)/.deps/ort/node_modules/onnxruntime-node/bin/napi-v6/linux/x64/libonnxruntime.so.1

.PHONY: all build test deps vet demo purego bench-import bench-targets calibrate-host bench-engine bench-compiler bench-synth bench-final bench-refs

all: build

build:
	$(GO) build -o bin/ ./cmd/...

# deps installs Debian packages (protoc, python3-onnx, ONNX test data, Fashion-MNIST, OpenBLAS) and ONNX Runtime 1.30.
deps:
	bash scripts/install-deps.sh

# purego proves the toolchain builds without cgo (ORT and OpenBLAS sit behind build tags).
purego:
	CGO_ENABLED=0 $(GO) build ./cmd/...

vet:
	$(GO) vet ./...
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); echo "gofmt needed"; exit 1; }

test: deps purego vet
	$(GO) test -timeout 45m ./...

demo: build
	./bin/fsynth

# bench-import: ONNX import time and peak RSS of a ~100 MB ResNet-50 (issue: ONNX I/O).
bench-import:
	$(GO) run ./bench/importbench --out bench/results/onnx-import.json

# bench-targets: host cost model vs ONNX Runtime wall time on 43 networks (those >= 1 ms scored; run it on a quiet machine); pixel1/cortex-a76 vs published latencies.
bench-targets:
	$(GO) run ./bench/targetbench --clock wall -o bench/results/targets.json

# calibrate-host: refit the built-in host profile on this machine.
calibrate-host:
	$(GO) run ./cmd/fcompile calibrate --target host -o targets/profiles/host.json --report bench/results/targets-calibration.json

# bench-engine: ResNet-20 train/infer img/s vs PyTorch and ONNX Runtime, OpenBLAS build plus pure-Go (needs python3-torch).
bench-engine:
	$(GO) run -tags openblas ./bench/enginebench --out bench/results/engine.json

# bench-compiler: import + default pipeline + export vs ORT basic optimize-to-file, node counts, equivalence.
bench-compiler:
	$(GO) run ./bench/compilerbench --out bench/results/compiler.json

# bench-synth: Fashion-MNIST synthesis (requirement set "small", issue 7) and 8 networks from its generator; resumable.
bench-synth:
	bash scripts/bench-fashion.sh synth generate

# bench-final: reference-recipe training of the chosen FermiNets of every run (and the compact-fc ones for 60 epochs; resumable, checkpoint every epoch), then report.json/md and the plot.
bench-final:
	bash scripts/bench-fashion.sh final final-medium final-accurate final-mid final-mid-repair final-compact final-compact-fc final-compact-fc-long report

# bench-refs: the reference networks (LeNet-5) trained by our engine with the reference recipe; resumable.
bench-refs:
	bash scripts/bench-fashion.sh refs
