#!/bin/sh
# Regenerates onnxpb/onnx.pb.go (run through `go generate ./onnxio/`; see gen.go).
set -eu
d=$(mktemp -d)
trap 'rm -r "$d"' EXIT
sed 's/^package onnx;/package fermi.onnx;/' /usr/include/onnx/onnx.proto >"$d/onnx.proto"
protoc -I"$d" --go_out=. --go_opt=module=github.com/ferminets/fermi/onnxio \
	--go_opt=Monnx.proto=github.com/ferminets/fermi/onnxio/onnxpb onnx.proto
