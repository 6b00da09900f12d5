//go:build openblas && cgo

package main

import "github.com/ferminets/fermi/engine"

// kernels are the matrix kernels training runs on: OpenBLAS in builds
// with the openblas tag.
var kernels engine.Kernels = engine.OpenBLAS{}
