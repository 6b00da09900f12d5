//go:build !(openblas && cgo)

package main

import "github.com/ferminets/fermi/engine"

// buildName names the matrix kernels this binary was built with.
const buildName = "pure-go"

// kernels are the matrix kernels of this build.
var kernels engine.Kernels = engine.Blocked{}
