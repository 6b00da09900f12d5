package synth

import (
	"math/rand/v2"
	"strings"
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
			if d.Name != "stem.width" && !strings.HasSuffix(d.Name, ".width") {
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
