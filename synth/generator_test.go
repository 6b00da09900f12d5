package synth

import (
	"math/rand/v2"
	"testing"

	"github.com/ferminets/fermi/engine"
	"github.com/ferminets/fermi/ir"
	"github.com/ferminets/fermi/passes"
)

// uniformGenerator returns a generator on prototype name whose decisions
// are all uniform, so sampling reaches every option.
func uniformGenerator(t *testing.T, name string) *Generator {
	t.Helper()
	s, err := PrototypeSkeleton(name, [3]int{1, 28, 28}, 10)
	if err != nil {
		t.Fatal(err)
	}
	g, err := NewGenerator(s)
	if err != nil {
		t.Fatal(err)
	}
	for i := range g.Decisions {
		clear(g.Decisions[i].Logits)
	}
	return g
}

func TestGenerateValidAndDeterministic(t *testing.T) {
	for _, proto := range Prototypes() {
		t.Run(proto, func(t *testing.T) {
			gen := uniformGenerator(t, proto)
			seen := map[string]bool{}
			blocks := map[BlockKind]bool{}
			seeds := 60
			if proto == "mobilenetv2" {
				seeds = 15
			}
			for seed := uint64(0); seed < uint64(seeds); seed++ {
				g, a, err := gen.Generate(seed)
				if err != nil {
					t.Fatalf("seed %d: %v", seed, err)
				}
				if err := ir.Verify(g); err != nil {
					t.Fatalf("seed %d (%s): %v", seed, a, err)
				}
				if in := g.Inputs[0]; in.Name != "input" || in.Shape.String() != "[N,1,28,28]" {
					t.Errorf("seed %d: input %s %v", seed, in.Name, in.Shape)
				}
				if out := g.Outputs[0]; out.Name != "logits" || out.Shape.String() != "[N,10]" {
					t.Errorf("seed %d: output %s %v", seed, out.Name, out.Shape)
				}
				g2, a2, err := gen.Generate(seed)
				if err != nil {
					t.Fatal(err)
				}
				if err := ir.Equal(g, g2); err != nil || a.String() != a2.String() {
					t.Fatalf("seed %d: two generations differ: %v", seed, err)
				}
				seen[a.String()] = true
				for _, st := range a.Stages {
					blocks[st.Block] = true
				}
			}
			if len(seen) < seeds*3/4 {
				t.Errorf("%d seeds gave only %d distinct architectures", seeds, len(seen))
			}
			if len(blocks) != int(numBlockKinds) {
				t.Errorf("block kinds sampled: %v, want all %d", blocks, numBlockKinds)
			}
		})
	}
}

func TestPrototypeMode(t *testing.T) {
	// The untrained generator's most probable network is the prototype's
	// skeleton itself.
	for _, proto := range Prototypes() {
		s, err := PrototypeSkeleton(proto, [3]int{1, 28, 28}, 10)
		if err != nil {
			t.Fatal(err)
		}
		gen, err := NewGenerator(s)
		if err != nil {
			t.Fatal(err)
		}
		a := gen.Mode()
		if a.StemWidth != scaleWidth(s.StemWidth, 1) || a.Head != s.Head || len(a.Stages) != len(s.Stages) {
			t.Fatalf("%s: mode %s", proto, a)
		}
		for i, st := range a.Stages {
			want := s.Stages[i]
			if st.Depth != want.Depth || st.Block != want.Block || st.Kernel != want.Kernel || st.Skip != want.Skip || st.Width != scaleWidth(want.Width, 1) {
				t.Errorf("%s: stage %d is %+v, prototype %+v", proto, i+1, st, want)
			}
		}
	}
}

func TestInheritSlicesImportantChannels(t *testing.T) {
	gen := uniformGenerator(t, "lenet5")
	// Parent: the prototype at width multiplier 1 everywhere (stage width 16).
	parentArch := gen.Mode()
	pg, err := gen.Build("parent", parentArch, rand.New(rand.NewPCG(1, 2)))
	if err != nil {
		t.Fatal(err)
	}
	// Make stage-1 channel 5 by far the most important one.
	w := pg.Param("s1.b0.conv.weight").Const
	per := len(w.F32) / int(w.Dims[0])
	for i := range per {
		w.F32[5*per+i] = 100
	}
	if err := gen.SetParent(parentArch, pg, "parent.onnx"); err != nil {
		t.Fatal(err)
	}
	child := parentArch
	child.Stages = append([]StageShape(nil), parentArch.Stages...)
	child.Stages[0].Width = 4
	cg, err := gen.Build("child", child, rand.New(rand.NewPCG(3, 4)))
	if err != nil {
		t.Fatal(err)
	}
	cw := cg.Param("s1.b0.conv.weight").Const
	if cw.Dims[0] != 4 {
		t.Fatalf("child stage width %d", cw.Dims[0])
	}
	found := false
	for o := range 4 {
		if cw.F32[o*per] == 100 {
			found = true
		}
	}
	if !found {
		t.Errorf("the parent's most important channel was not inherited")
	}
	// The stem is unchanged in shape and must be copied exactly.
	if err := ir.Equal(&ir.Graph{Params: []*ir.Value{pg.Param("stem.weight")}}, &ir.Graph{Params: []*ir.Value{cg.Param("stem.weight")}}); err != nil {
		t.Errorf("stem weights not inherited: %v", err)
	}
}

func TestTrainFormEquivalent(t *testing.T) {
	gen := uniformGenerator(t, "lenet5")
	a := gen.Mode()
	a.Stages[0].Block, a.Stages[0].Width, a.Stages[0].Depth = GroupedShuffle, 16, 2
	g, err := gen.Build("shuffle", a, rand.New(rand.NewPCG(5, 6)))
	if err != nil {
		t.Fatal(err)
	}
	tg, err := trainForm(g)
	if err != nil {
		t.Fatal(err)
	}
	if tg == g {
		t.Fatal("no training form made for a network with shuffles")
	}
	for _, n := range tg.Nodes {
		if n.Op == ir.OpTranspose {
			t.Errorf("training form keeps Transpose %q", n.Name)
		}
	}
	inputs, err := passes.RandomInputs(g, 1, 3)
	if err != nil {
		t.Fatal(err)
	}
	run := func(g *ir.Graph) []float32 {
		e, err := engine.New(g)
		if err != nil {
			t.Fatal(err)
		}
		out, err := e.Run(inputs)
		if err != nil {
			t.Fatal(err)
		}
		return out[0].F32
	}
	want, got := run(g), run(tg)
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("logit %d: training form %v, deployed form %v", i, got[i], want[i])
		}
	}
	// Training the training form trains the deployed graph's tensors.
	if _, err := engine.NewTrainer(tg, engine.TrainConfig{}); err != nil {
		t.Errorf("training form not trainable: %v", err)
	}
	if tg.Param("stem.weight").Const != g.Param("stem.weight").Const {
		t.Error("training form does not share the parameter tensors")
	}
}

func TestTemperatureSharpens(t *testing.T) {
	gen := uniformGenerator(t, "resnet20")
	gen.Decisions[0].Logits[2] = 1
	cold := gen.withTemperature(0.25)
	if p, q := gen.Decisions[0].probs()[2], cold.Decisions[0].probs()[2]; q <= p {
		t.Errorf("temperature 0.25: P(mode) %.3f, at 1: %.3f", q, p)
	}
	if gen.Decisions[0].Logits[2] != 1 {
		t.Error("withTemperature changed the original generator")
	}
}
