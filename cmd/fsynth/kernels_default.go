//go:build !(openblas && cgo)

package main

import "github.com/ferminets/fermi/engine"

// kernels are the matrix kernels training runs on: the engine's default
// (Blocked: no cgo, Go assembly on amd64) in this build.
var kernels engine.Kernels
