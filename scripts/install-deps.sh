#!/usr/bin/env bash
# install-deps.sh installs what the tests need that Go modules do not provide:
# Debian packages (protoc, the ONNX headers and Python checker, the ONNX backend
# test data, Fashion-MNIST, OpenBLAS, a C compiler for cgo, npm) and the ONNX
# Runtime 1.30 shared library, fetched from npm into .deps/ort (gitignored).
#
# Idempotent: apt-get runs only when a package is missing, npm only when the
# library is not there yet. Needs root (or sudo) only for apt-get.
#
# Usage: scripts/install-deps.sh        (from anywhere inside the repository)
set -euo pipefail

ORT_VERSION=1.30.0
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
ort_prefix="$repo/.deps/ort"
ort_lib="$ort_prefix/node_modules/onnxruntime-node/bin/napi-v6/linux/x64/libonnxruntime.so.1"

# Debian packages the tests use. gcc/libc6-dev are needed to build the cgo
# ONNX Runtime bindings; npm fetches ONNX Runtime itself.
packages=(protobuf-compiler libonnx-dev python3-onnx libonnx-testdata
	dataset-fashion-mnist libopenblas-dev gcc libc6-dev npm ca-certificates)

missing=()
for p in "${packages[@]}"; do
	# A node/npm installed outside Debian (e.g. nodesource) is as good as Debian's.
	if [[ $p == npm ]] && command -v npm >/dev/null; then
		continue
	fi
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
		missing+=("$p")
	fi
done

if ((${#missing[@]})); then
	echo "install-deps: installing Debian packages: ${missing[*]}"
	sudo=()
	if ((EUID != 0)); then
		sudo=(sudo)
	fi
	export DEBIAN_FRONTEND=noninteractive
	"${sudo[@]}" apt-get update -q
	"${sudo[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"
else
	echo "install-deps: Debian packages present"
fi

if [[ -f "$ort_lib" ]] &&
	grep -q "\"version\": \"$ORT_VERSION\"" "$ort_prefix/node_modules/onnxruntime-node/package.json" 2>/dev/null; then
	echo "install-deps: ONNX Runtime $ORT_VERSION present at ${ort_lib#"$repo/"}"
else
	echo "install-deps: installing onnxruntime-node@$ORT_VERSION into ${ort_prefix#"$repo/"}"
	mkdir -p "$ort_prefix"
	# --ignore-scripts: the package ships the CPU library in its tarball; its
	# install script only downloads optional GPU providers.
	npm install --ignore-scripts --no-audit --no-fund --prefix "$ort_prefix" "onnxruntime-node@$ORT_VERSION"
	if [[ ! -f "$ort_lib" ]]; then
		echo "install-deps: $ort_lib missing after npm install" >&2
		exit 1
	fi
fi
