package onnxio

// The Go bindings in onnxpb/ are generated from the ONNX protobuf schema that
// Debian's libonnx-dev installs at /usr/include/onnx/onnx.proto (proto2, no
// go_package option, so the import path is given with M). To regenerate, run
// `go generate ./onnxio/` from the module root with
//
//	protoc (libprotoc 3.21.12, /usr/bin/protoc)
//	protoc-gen-go v1.36.12: go install google.golang.org/protobuf/cmd/protoc-gen-go@v1.36.12
//
// on PATH. The generated code is committed; nothing outside onnxio imports it.
//
// The schema's protobuf package is renamed from onnx to fermi.onnx first:
// the wire format does not depend on it, and other Go ONNX libraries (such as
// onnx-go) register the same messages as onnx.*, which protobuf's global
// registry refuses to hold twice in one program.

//go:generate sh gen.sh
