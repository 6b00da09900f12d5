package synth

import (
	"math/rand/v2"
	"slices"
	"strings"
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

// TestHiddenLayer checks the head.hidden decision: skeletons without it
// keep their decisions, a picked width builds a Gemm → Relu of that many
// units before the classifier, and inheritance copies a hidden layer into
// a narrower one but never hands a classifier weights of other units.
func TestHiddenLayer(t *testing.T) {
	plain := uniformGenerator(t, "lenet5")
	s := plain.Skeleton
	s.Hidden = HiddenWidths
	gen, err := NewGenerator(s)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(gen.Decisions); n != len(plain.Decisions)+1 || gen.Decisions[n-1].Name != "head.hidden" {
		t.Fatalf("%d decisions, the last %q; want %d, head.hidden", n, gen.Decisions[n-1].Name, len(plain.Decisions)+1)
	}
	archHead := func(hiddenPick int, head Head) Arch {
		picks := make([]int, len(gen.Decisions))
		for i := range gen.Decisions {
			picks[i] = gen.Decisions[i].mode()
		}
		picks[len(picks)-2], picks[len(picks)-1] = int(head), hiddenPick
		return gen.Skeleton.decode(gen.Decisions, picks)
	}
	arch := func(hiddenPick int) Arch { return archHead(hiddenPick, HeadFlatten) }
	param := func(g *ir.Graph, name string) *ir.Tensor {
		t.Helper()
		v := g.Param(name)
		if v == nil || v.Const == nil {
			t.Fatalf("no parameter %s", name)
		}
		return v.Const
	}
	for pick, units := range HiddenWidths {
		a := arch(pick)
		g, err := gen.Build("h", a, rand.New(rand.NewPCG(1, 2)))
		if err != nil {
			t.Fatal(err)
		}
		if err := ir.Verify(g); err != nil {
			t.Fatal(err)
		}
		if a.Hidden != units {
			t.Errorf("pick %d: hidden %d, want %d", pick, a.Hidden, units)
		}
		hasHidden := g.Param("hidden.weight") != nil
		if hasHidden != (units > 0) {
			t.Errorf("%s: hidden layer present %v", a, hasHidden)
		}
		if units > 0 && param(g, "logits.weight").Dims[1] != int64(units) {
			t.Errorf("%s: classifier reads %d units", a, param(g, "logits.weight").Dims[1])
		}
	}
	// A skeleton without Hidden has no such decision and builds no such layer.
	for _, d := range plain.Decisions {
		if d.Name == "head.hidden" {
			t.Errorf("plain skeleton has decision %s", d.Name)
		}
	}
	if a := plain.Mode(); a.Hidden != 0 || strings.Contains(a.String(), " fc") {
		t.Errorf("plain skeleton: %s", a)
	}

	// Inheritance from a parent with 64 hidden units.
	pa := arch(2)
	pg, err := gen.Build("parent", pa, rand.New(rand.NewPCG(3, 4)))
	if err != nil {
		t.Fatal(err)
	}
	if err := gen.SetParent(pa, pg, "parent.fir"); err != nil {
		t.Fatal(err)
	}
	child, err := gen.Build("child", arch(1), rand.New(rand.NewPCG(5, 6)))
	if err != nil {
		t.Fatal(err)
	}
	pw, cw := param(pg, "hidden.weight"), param(child, "hidden.weight")
	in := int(pw.Dims[1])
	for o := range 32 {
		for i := range in {
			if cw.F32[o*in+i] != pw.F32[o*in+i] {
				t.Fatalf("hidden.weight[%d,%d] = %v, parent's %v", o, i, cw.F32[o*in+i], pw.F32[o*in+i])
			}
		}
	}
	pl, cl := param(pg, "logits.weight"), param(child, "logits.weight")
	for c := range 10 {
		for i := range 32 {
			if cl.F32[c*32+i] != pl.F32[c*64+i] {
				t.Fatalf("logits.weight[%d,%d] = %v, parent's %v", c, i, cl.F32[c*32+i], pl.F32[c*64+i])
			}
		}
	}
	// A classifier on globally pooled features (as many inputs per channel
	// as a hidden unit has) does not take the parent's classifier on hidden
	// units.
	noHidden := archHead(0, HeadGAP)
	fresh, _, err := buildNet("child0", gen.Skeleton, noHidden, rand.New(rand.NewPCG(7, 8)), nil)
	if err != nil {
		t.Fatal(err)
	}
	inherited, err := gen.Build("child0", noHidden, rand.New(rand.NewPCG(7, 8)))
	if err != nil {
		t.Fatal(err)
	}
	if a, b := param(fresh, "logits.weight").F32, param(inherited, "logits.weight").F32; !slices.Equal(a, b) {
		t.Errorf("the classifier of %s inherited from the parent's hidden-unit classifier", noHidden)
	}
}
