package synth

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"

	"github.com/ferminets/fermi/ir"
)

// Generator is G(s; θ_G): it maps a seed to a network. θ_G is the logits of
// its categorical decisions (per stage: depth, width multiplier, block type,
// kernel size, expansion, skip connection; stem width; head) and the
// weights of its parent, a trained network that generated networks inherit
// from. The generator never trains; the inquisitor changes θ_G (Update).
type Generator struct {
	Skeleton  Skeleton   `json:"skeleton"`
	Decisions []Decision `json:"decisions"`
	// Parent is the network whose weights generated networks inherit, if any.
	Parent *ParentRef `json:"parent,omitempty"`

	parent *parentNet
}

// ParentRef names the inheritance parent in generator.json: its
// architecture and the .fir file (relative to generator.json) holding its
// trained weights.
type ParentRef struct {
	Arch Arch   `json:"arch"`
	File string `json:"file"`
}

// NewGenerator returns the generator anchored on skeleton s, with every
// decision favouring the prototype's own choice.
func NewGenerator(s Skeleton) (*Generator, error) {
	if err := s.validate(); err != nil {
		return nil, err
	}
	return &Generator{Skeleton: s, Decisions: s.decisions()}, nil
}

// Sample draws an architecture from the generator's distribution.
func (g *Generator) Sample(rng *rand.Rand) Arch {
	picks := make([]int, len(g.Decisions))
	for i := range g.Decisions {
		picks[i] = g.Decisions[i].sample(rng.Float64())
	}
	return g.Skeleton.decode(g.Decisions, picks)
}

// Mode returns the most probable architecture.
func (g *Generator) Mode() Arch {
	picks := make([]int, len(g.Decisions))
	for i := range g.Decisions {
		picks[i] = g.Decisions[i].mode()
	}
	return g.Skeleton.decode(g.Decisions, picks)
}

// Build returns the graph of architecture a called name with weights drawn
// from rng and inherited from the parent where shapes allow.
func (g *Generator) Build(name string, a Arch, rng *rand.Rand) (*ir.Graph, error) {
	gr, _, err := buildNet(name, g.Skeleton, a, rng, g.parent)
	return gr, err
}

// Generate is G(s): the network generated from seed s, named
// "ferminet-<seed>". The same θ_G and seed always give the same graph.
func (g *Generator) Generate(seed uint64) (*ir.Graph, Arch, error) {
	rng := rand.New(rand.NewPCG(seed, 0x5eed))
	a := g.Sample(rng)
	gr, err := g.Build(fmt.Sprintf("ferminet-%d", seed), a, rng)
	return gr, a, err
}

// SetParent makes the trained network gr, of architecture a, the parent
// that generated networks inherit weights from; file is where the caller
// stores it (recorded in generator.json).
func (g *Generator) SetParent(a Arch, gr *ir.Graph, file string) error {
	p, err := newParent(g.Skeleton, a, gr)
	if err != nil {
		return err
	}
	g.parent = p
	g.Parent = &ParentRef{Arch: a, File: file}
	return nil
}

// MarshalJSON writes the generator with the decisions' probabilities filled in.
func (g *Generator) MarshalJSON() ([]byte, error) {
	type plain Generator
	cp := *g
	cp.Decisions = make([]Decision, len(g.Decisions))
	for i, d := range g.Decisions {
		d.Probs = d.probs()
		cp.Decisions[i] = d
	}
	return json.Marshal((*plain)(&cp))
}

// validate checks a decoded generator against its skeleton.
func (g *Generator) validate() error {
	if err := g.Skeleton.validate(); err != nil {
		return err
	}
	want := g.Skeleton.decisions()
	if len(g.Decisions) != len(want) {
		return fmt.Errorf("synth: generator has %d decisions, its skeleton %d", len(g.Decisions), len(want))
	}
	for i, d := range g.Decisions {
		if d.Name != want[i].Name || len(d.Logits) != len(want[i].Options) || len(d.Options) != len(want[i].Options) {
			return fmt.Errorf("synth: generator decision %d %q does not match its skeleton's %q", i, d.Name, want[i].Name)
		}
	}
	return nil
}

// summary returns θ_G in brief: each decision's most probable option and
// its probability.
func (g *Generator) summary() map[string]string {
	m := make(map[string]string, len(g.Decisions))
	for i := range g.Decisions {
		d := &g.Decisions[i]
		k := d.mode()
		m[d.Name] = fmt.Sprintf("%s (%.2f)", d.label(k), d.probs()[k])
	}
	return m
}
