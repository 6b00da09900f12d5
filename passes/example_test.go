package passes_test

import (
	"fmt"
	"os"

	"github.com/ferminets/fermi/ir"
	"github.com/ferminets/fermi/passes"
)

// Run a textual pipeline with verification after every pass.
func ExampleRun() {
	src := `graph @g(%x: f32[N,1,4,4]) {
  %w = param f32[2,1,1,1] [2, 3]
  %s = param f32[2] [1, 1]
  %b = param f32[2] [0, 1]
  %m = param f32[2] [0, 0]
  %v = param f32[2] [1, 1]
  %i = Identity(%x) : f32[N,1,4,4]
  %c = Conv(%i, %w) {kernel_shape=[1,1]} : f32[N,2,4,4]
  %y = BatchNormalization(%c, %s, %b, %m, %v) {epsilon=0.0} : f32[N,2,4,4]
  return %y
}`
	g, err := ir.Parse("g.fir", []byte(src))
	if err != nil {
		fmt.Println(err)
		return
	}
	p, err := passes.Parse("canonicalize,fold-bn,dce")
	if err != nil {
		fmt.Println(err)
		return
	}
	st, err := passes.Run(g, p, passes.Options{VerifyEach: true})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, ps := range st.Passes {
		fmt.Printf("%s: %d → %d nodes\n", ps.Name, ps.Before.Nodes, ps.After.Nodes)
	}
	passes.PrintIR(os.Stdout, g)
	// Output:
	// canonicalize: 3 → 2 nodes
	// fold-bn: 2 → 1 nodes
	// dce: 1 → 1 nodes
	// graph @g(%x: f32[N,1,4,4]) {
	//   %c_w = param f32[2,1,1,1] [2, 3]
	//   %c_b = param f32[2] [0, 1]
	//   %y = Conv "c"(%x, %c_w, %c_b) {kernel_shape=[1,1]} : f32[N,2,4,4]
	//   return %y
	// }
}

// Parse reads pipelines with typed options and names unknown passes.
func ExampleParse() {
	p, err := passes.Parse("simplify,prune{macs=0.5,criterion=bn},fold-bn,dce")
	fmt.Println(p, err)
	_, err = passes.Parse("simplify,fold-bnn")
	fmt.Println(err != nil)
	// Output:
	// simplify,prune{macs=0.5,criterion=bn},fold-bn,dce <nil>
	// true
}
