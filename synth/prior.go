package synth

import (
	"math/rand/v2"
	"strings"

	"github.com/ferminets/fermi/ir"
)

// fitPrior (Config.FitPrior) scales a new generator's prior to the cost limits of 1_r, as a
// width multiplier scales MobileNet to a budget: when the prototype itself
// (the mode of the prior) violates a cost requirement, the width decisions
// (stem and every stage) move their prior logit to the largest multiplier
// below 1 at which the mode satisfies every cost requirement (accuracy
// aside), or to the smallest multiplier if none does. Depths, block types
// and the rest keep the prototype's prior. Without this, a prototype far
// above the budget spends the first cycles on networks too costly to train
// at all. It is not the default: a prototype only a little above the
// budget (the demo's LeNet-5 at twice its 300 k MACs) fares better from
// the prototype's widths, since halving every width at once costs more
// accuracy than the search then wins back. It returns the multiplier chosen (1 when the prototype fits).
func fitPrior(g *Generator, q *Inquisitor) (float64, error) {
	fits := func() (bool, error) {
		gr, err := g.Build("prior", g.Mode(), rand.New(rand.NewPCG(0, 0)))
		if err != nil {
			return false, err
		}
		m, err := q.Costs(gr)
		if err != nil {
			return false, err
		}
		m.Accuracy = 1
		ok, _ := q.Requirements.Satisfied(m)
		return ok, nil
	}
	if ok, err := fits(); ok || err != nil {
		return 1, err
	}
	mult := widthMults[0]
	for i := len(widthMults) - 1; i >= 0; i-- {
		if widthMults[i] >= 1 {
			continue
		}
		mult = widthMults[i]
		for j := range g.Decisions {
			d := &g.Decisions[j]
			if !strings.HasSuffix(d.Name, ".width") { // stem and every stage
				continue
			}
			for k, o := range d.Options {
				d.Logits[k] = 0
				if o == mult {
					d.Logits[k] = priorLogit
				}
			}
		}
		if ok, err := fits(); ok || err != nil {
			return mult, err
		}
	}
	return mult, nil
}

// maxRepairSteps bounds repair: every step lowers one option index, so
// this is more than any space here needs to reach its smallest network.
const maxRepairSteps = 64

// repair (Config.Repair) shrinks a sampled architecture until its costs as
// deployed meet the cost limits of 1_r, one option at a time: the largest
// width multiplier first, then the largest depth, kernel and expansion; it
// stops when nothing can shrink further. Costs are cheap to measure and
// need no training, so a sample far above the budget becomes the nearest
// trainable network instead of an untrained violator that teaches the
// policy gradient only "smaller". The returned picks are what the network
// took, and the update credits those. Sampling stays deterministic: the
// repaired network's weights come from a stream seeded by seed.
func repair(g *Generator, q *Inquisitor, name string, seed uint64, a Arch, gr *ir.Graph) (Arch, *ir.Graph, error) {
	for range maxRepairSteps {
		m, err := q.Costs(gr)
		if err != nil {
			return a, gr, nil // Probe reports it
		}
		if ok, _ := q.Requirements.costOnly().Satisfied(m); ok {
			return a, gr, nil
		}
		picks, ok := g.shrink(a.Picks)
		if !ok {
			return a, gr, nil
		}
		a = g.Skeleton.decode(g.Decisions, picks)
		if gr, err = g.Build(name, a, rand.New(rand.NewPCG(seed, 0x4e9a1))); err != nil {
			return a, nil, err
		}
	}
	return a, gr, nil
}

// shrink returns picks with one option lowered: the width decision with the
// largest option index (the later one on ties), else likewise the head's
// hidden layer, a depth, kernel or expansion decision; false when every
// one is at its smallest.
func (g *Generator) shrink(picks []int) ([]int, bool) {
	for _, kind := range []string{".width", ".hidden", ".depth", ".kernel", ".expansion"} {
		best := -1
		for i, d := range g.Decisions {
			if strings.HasSuffix(d.Name, kind) && picks[i] > 0 && (best < 0 || picks[i] >= picks[best]) {
				best = i
			}
		}
		if best >= 0 {
			p := append([]int(nil), picks...)
			p[best]--
			return p, true
		}
	}
	return picks, false
}
