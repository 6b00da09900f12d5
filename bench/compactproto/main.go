// Command compactproto writes the prototype of the Fashion-MNIST synthesis
// run "compact" (scripts/bench-fashion.sh synth-compact): a small
// depthwise-separable CNN whose downsampling comes early, so that networks
// around it spend a 1.2 M-MAC budget on width at 14×14 and 7×7 rather than
// at 28×28. The built-in prototypes cannot anchor that budget: lenet5 and
// simplecnn have no depthwise stages, and resnet20 runs its first stage
// at 28×28. fsynth reads it as a user's ONNX prototype (--prototype
// FILE.onnx); its weights are random, only its structure is used.
//
// Usage:
//
//	go run ./bench/compactproto -o bench/prototypes/compact-dwsep.onnx
package main

import (
	"fmt"
	"math/rand/v2"
	"os"

	"github.com/ferminets/fermi/ir"
	"github.com/ferminets/fermi/onnxio"
	"github.com/ferminets/fermi/synth"
	"github.com/spf13/pflag"
)

// skeleton: stem Conv 16 k3 at 28×28; pool, two depthwise-separable blocks
// of 32 at 14×14; pool, two of 64 at 7×7 with a residual add; global
// average pool → Gemm. About 0.85 M MACs and 10 k params, so the width
// multipliers of the space (0.5–3) reach both sides of 1.2 M.
var skeleton = synth.Skeleton{
	Prototype: "compact-dwsep", Input: [3]int{1, 28, 28}, Classes: 10,
	StemWidth: 16, StemKernel: 3, Head: synth.HeadGAP,
	Stages: []synth.StageShape{
		{Width: 32, Depth: 2, Pool: true, Block: synth.DepthwiseSeparable, Kernel: 3, Expansion: 4},
		{Width: 64, Depth: 2, Pool: true, Block: synth.DepthwiseSeparable, Kernel: 3, Expansion: 4, Skip: true},
	},
}

func main() {
	out := pflag.StringP("output", "o", "", "ONNX file to write (required)")
	pflag.Parse()
	if *out == "" || pflag.NArg() != 0 {
		fmt.Fprintln(os.Stderr, "usage: compactproto -o FILE.onnx")
		os.Exit(2)
	}
	gen, err := synth.NewGenerator(skeleton)
	if err == nil {
		var g *ir.Graph
		g, err = gen.Build(skeleton.Prototype, gen.Mode(), rand.New(rand.NewPCG(1, 2)))
		if err == nil {
			err = onnxio.WriteFile(g, *out, onnxio.WriteOptions{})
		}
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "compactproto:", err)
		os.Exit(1)
	}
}
