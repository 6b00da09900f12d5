package irtest

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/ferminets/fermi/ir"
)

// TestBuildersCoverOps requires a generator for every core op, so a new op
// in the table cannot be silently left out of the property tests.
func TestBuildersCoverOps(t *testing.T) {
	for _, op := range ir.Ops() {
		if builders[op] == nil {
			t.Errorf("no generator for %v", op)
		}
	}
}

// TestRandomDeterministic checks that the same seed gives the same graph
// and that RandomGraph's graphs verify.
func TestRandomDeterministic(t *testing.T) {
	for seed := uint64(0); seed < 50; seed++ {
		for _, exotic := range []bool{false, true} {
			a, err := Random(rand.New(rand.NewPCG(seed, 1)), Config{Exotic: exotic})
			if err != nil {
				t.Fatalf("seed %d: %v", seed, err)
			}
			b, _ := Random(rand.New(rand.NewPCG(seed, 1)), Config{Exotic: exotic})
			if err := ir.Equal(a, b); err != nil {
				t.Fatalf("seed %d: %v", seed, err)
			}
		}
		if err := ir.Verify(RandomGraph(rand.New(rand.NewPCG(seed, 2)))); err != nil {
			t.Fatalf("seed %d: %v", seed, err)
		}
	}
}

// TestEquiv checks that Equiv ignores names but nothing else.
func TestEquiv(t *testing.T) {
	rng := rand.New(rand.NewPCG(4, 4))
	a, err := Random(rng, Config{Exotic: true, Nodes: 8})
	if err != nil {
		t.Fatal(err)
	}
	copyOf := func() *ir.Graph {
		g, err := ir.Parse("copy", []byte(ir.Print(a)))
		if err != nil {
			t.Fatal(err)
		}
		return g
	}
	b := copyOf()
	b.Name = "renamed"
	for i, v := range b.Values() {
		v.Name = fmt.Sprintf("other%d", i)
	}
	for i, n := range b.Nodes {
		n.Name = fmt.Sprintf("node%d", i)
	}
	if ir.Equal(a, b) == nil {
		t.Fatal("renaming went unnoticed by ir.Equal")
	}
	if err := Equiv(a, b); err != nil {
		t.Fatalf("renamed copy not equivalent: %v", err)
	}
	c := copyOf()
	last := c.Nodes[len(c.Nodes)-1]
	last.Inputs[0] = c.Inputs[0]
	if Equiv(a, c) == nil && a.Nodes[len(a.Nodes)-1].Inputs[0] != a.Inputs[0] {
		t.Error("rewired edge went unnoticed")
	}
	d := copyOf()
	d.Params[0].Const.Dims = append(d.Params[0].Const.Dims, 1)
	if Equiv(a, d) == nil {
		t.Error("changed param dims went unnoticed")
	}
}
