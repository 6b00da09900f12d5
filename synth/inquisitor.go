package synth

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/ferminets/fermi/dataset"
	"github.com/ferminets/fermi/engine"
	"github.com/ferminets/fermi/ir"
	"github.com/ferminets/fermi/passes"
	"github.com/ferminets/fermi/targets"
)

// Observation is what the inquisitor learns from probing one generated
// network: its costs as deployed on the target, its validation accuracy
// after a short fine-tune, and how its channels react to validation inputs.
type Observation struct {
	Name      string  `json:"name"`
	Seed      uint64  `json:"seed"`
	Arch      Arch    `json:"arch"`
	Metrics   Metrics `json:"metrics"`
	Trained   bool    `json:"trained"` // false: costs alone ruled it out, or training failed
	Satisfied bool    `json:"satisfied"`
	Why       string  `json:"why,omitempty"` // violated requirements or the training error
	U         float64 `json:"u"`             // performance (NaN when untrained)
	Violation float64 `json:"violation"`     // 0 when satisfied
	// Reactive is, per stage, the fraction of the block outputs' channels
	// whose mean |activation| on validation images is at least 1 % of the
	// layer's strongest channel.
	Reactive []float64 `json:"reactive,omitempty"`
	Seconds  float64   `json:"seconds"`

	graph *ir.Graph // the fine-tuned network
}

// Inquisitor is I(G; θ_I): it probes generated networks and turns what it
// observes into an update of θ_G. Its parameters θ_I are the probe's
// budget (fine-tune steps, images) and the update's learning rates.
type Inquisitor struct {
	Train, Val   *dataset.Set
	Norm         dataset.Normalization
	Augment      dataset.Augment
	Target       *targets.Target
	Pipeline     passes.Pipeline // the target's default pipeline: costs are taken after it
	Requirements Requirements
	Performance  Performance

	Steps   int     // fine-tune steps per candidate
	Batch   int     // images per step
	LR      float64 // peak AdamW learning rate of the fine-tune (one-cycle)
	Threads int     // engine threads per candidate

	// Eta is the learning rate of the policy-gradient step on the logits.
	Eta float64
	// EtaWidth is the learning rate of the activation-driven width step.
	EtaWidth float64

	// Progress, when non-nil, is called during FineTune with the steps done.
	Progress func(done, total int)
}

// Costs returns the costs of g as deployed on the target: g is cloned, the
// target's default pipeline runs on the clone, and ir.Analyze and
// targets.Estimate measure the result.
func (q *Inquisitor) Costs(g *ir.Graph) (Metrics, error) {
	d := passes.Clone(g)
	if _, err := passes.Run(d, q.Pipeline, passes.Options{}); err != nil {
		return Metrics{}, fmt.Errorf("synth: deploy %q: %w", g.Name, err)
	}
	a, err := ir.Analyze(d)
	if err != nil {
		return Metrics{}, fmt.Errorf("synth: %w", err)
	}
	r, err := targets.Estimate(d, q.Target)
	if err != nil {
		return Metrics{}, fmt.Errorf("synth: %w", err)
	}
	return Metrics{MACs: a.MACs, Params: a.Params, LatencyMs: r.LatencyMs, EnergyMJ: r.EnergyMJ, MemoryBytes: r.PeakMemoryBytes}, nil
}

// FineTune trains g in place for steps AdamW steps with a one-cycle
// schedule on batches drawn from the training split by a stream seeded
// with seed. Channel shuffles train in an equivalent form (see trainForm).
func (q *Inquisitor) FineTune(ctx context.Context, g *ir.Graph, steps int, seed uint64) error {
	tg, err := trainForm(g)
	if err != nil {
		return err
	}
	tr, err := engine.NewTrainer(tg, engine.TrainConfig{
		Optimizer: engine.AdamW, LR: q.LR, WeightDecay: 1e-4, NoDecayNormBias: true,
		Schedule: engine.ScheduleOneCycle, TotalSteps: steps, Seed: seed, Threads: q.Threads,
	})
	if err != nil {
		return err
	}
	rng := rand.New(rand.NewPCG(seed, 0x7a1e))
	set := q.Train
	size := set.ImageSize()
	x := make([]float32, q.Batch*size)
	idx := make([]int, q.Batch)
	labels := make([]uint8, q.Batch)
	for s := 0; s < steps; s++ {
		if err := ctx.Err(); err != nil {
			return err
		}
		for i := range idx {
			idx[i] = rng.IntN(set.N)
			labels[i] = set.Labels[idx[i]]
		}
		set.BatchAugmented(idx, q.Norm, q.Augment, rng, x)
		loss, err := tr.Step(ir.NewFloat32([]int64{int64(q.Batch), int64(set.C), int64(set.H), int64(set.W)}, x), labels)
		if err != nil {
			return err
		}
		if math.IsNaN(loss) || math.IsInf(loss, 0) {
			return fmt.Errorf("synth: %q: loss is %v at step %d", g.Name, loss, s+1)
		}
		if q.Progress != nil && ((s+1)%50 == 0 || s+1 == steps) {
			q.Progress(s+1, steps)
		}
	}
	return nil
}

// Accuracy returns the top-1 accuracy of g on set.
func (q *Inquisitor) Accuracy(g *ir.Graph, set *dataset.Set) (float64, error) {
	var opts []engine.Option
	if q.Threads > 0 {
		opts = append(opts, engine.WithThreads(q.Threads))
	}
	e, err := engine.New(g, opts...)
	if err != nil {
		return 0, err
	}
	r, err := e.Evaluate(set, q.Norm, 250, nil)
	return r.Accuracy, err
}

// probeImages is how many validation images the activation probe uses.
const probeImages = 64

// reactive measures, per stage, the share of block-output channels that
// react to validation images (see Observation.Reactive).
func (q *Inquisitor) reactive(g *ir.Graph, blockOuts [][]string) ([]float64, error) {
	e, err := engine.New(g, engine.WithThreads(max(q.Threads, 1)))
	if err != nil {
		return nil, err
	}
	n := min(probeImages, q.Val.N)
	idx := make([]int, n)
	for i := range idx {
		idx[i] = i
	}
	x := make([]float32, n*q.Val.ImageSize())
	q.Val.Batch(idx, q.Norm, x)
	vals, err := e.RunAll(map[string]*ir.Tensor{g.Inputs[0].Name: ir.NewFloat32([]int64{int64(n), int64(q.Val.C), int64(q.Val.H), int64(q.Val.W)}, x)})
	if err != nil {
		return nil, err
	}
	out := make([]float64, len(blockOuts))
	for s, names := range blockOuts {
		live, total := 0, 0
		for _, name := range names {
			t := vals[name]
			if t == nil || len(t.Dims) != 4 {
				continue
			}
			c, hw := int(t.Dims[1]), int(t.Dims[2]*t.Dims[3])
			energy := make([]float64, c)
			for b := 0; b < int(t.Dims[0]); b++ {
				for ch := 0; ch < c; ch++ {
					for _, v := range t.F32[(b*c+ch)*hw : (b*c+ch+1)*hw] {
						energy[ch] += math.Abs(float64(v))
					}
				}
			}
			top := slices.Max(energy)
			for _, en := range energy {
				if en >= 0.01*top && top > 0 {
					live++
				}
			}
			total += c
		}
		out[s] = 1
		if total > 0 {
			out[s] = float64(live) / float64(total)
		}
	}
	return out, nil
}

// Probe observes one generated network: its deployed costs first; if the
// costs alone violate the requirements it stops there (training cannot
// repair them), otherwise it fine-tunes the network (in place), measures
// validation accuracy and the channels' reactions.
func (q *Inquisitor) Probe(ctx context.Context, gen *Generator, name string, seed uint64, a Arch, g *ir.Graph) Observation {
	start := time.Now()
	ob := Observation{Name: name, Seed: seed, Arch: a, U: math.NaN(), graph: g}
	defer func() { ob.Seconds = time.Since(start).Seconds() }()
	m, err := q.Costs(g)
	if err != nil {
		ob.Why, ob.Violation = err.Error(), math.Inf(1)
		return ob
	}
	ob.Metrics = m
	if ok, why := q.Requirements.costOnly().Satisfied(m); !ok {
		ob.Why = why
		// The accuracy is unknown; count it as just meeting the requirement.
		m.Accuracy = q.Requirements.MinAccuracy
		ob.Violation = q.Requirements.violation(m)
		return ob
	}
	if err := q.FineTune(ctx, g, q.Steps, seed); err != nil {
		ob.Why, ob.Violation = err.Error(), math.Inf(1)
		return ob
	}
	acc, err := q.Accuracy(g, q.Val)
	if err != nil {
		ob.Why, ob.Violation = err.Error(), math.Inf(1)
		return ob
	}
	ob.Trained = true
	// Measure the costs again on the trained weights: the pipeline drops
	// biases that are still exactly zero at initialization, so the first
	// measurement can be a few parameters short of what ships.
	if m, err = q.Costs(g); err != nil {
		ob.Why, ob.Violation = err.Error(), math.Inf(1)
		return ob
	}
	ob.Metrics = m
	ob.Metrics.Accuracy = acc
	ob.U = q.Performance.U(ob.Metrics)
	ob.Satisfied, ob.Why = q.Requirements.Satisfied(ob.Metrics)
	ob.Violation = q.Requirements.violation(ob.Metrics)
	_, nb, err := buildNet("probe", gen.Skeleton, a, rand.New(rand.NewPCG(0, 0)), nil)
	if err == nil {
		ob.Reactive, err = q.reactive(g, nb.blockOuts)
	}
	if err != nil {
		ob.Why = err.Error()
	}
	return ob
}

// rankUtilities returns the centred rank utilities of the observations:
// satisfying networks rank above the others, by U; the others by their
// violation. The best gets +½, the worst −½, ties share (equal
// observations get equal utility), and utilities sum to zero.
func rankUtilities(obs []Observation) []float64 {
	n := len(obs)
	u := make([]float64, n)
	if n < 2 {
		return u
	}
	better := func(a, b *Observation) int { // -1 if a ranks above b
		switch {
		case a.Satisfied != b.Satisfied:
			if a.Satisfied {
				return -1
			}
			return 1
		case a.Satisfied:
			return cmp3(b.U, a.U)
		}
		return cmp3(a.Violation, b.Violation)
	}
	idx := make([]int, n)
	for i := range idx {
		idx[i] = i
	}
	slices.SortStableFunc(idx, func(i, j int) int { return better(&obs[i], &obs[j]) })
	for lo := 0; lo < n; {
		hi := lo + 1
		for hi < n && better(&obs[idx[lo]], &obs[idx[hi]]) == 0 {
			hi++
		}
		mid := float64(lo+hi-1) / 2 // mean rank of the tie group
		for _, i := range idx[lo:hi] {
			u[i] = 0.5 - mid/float64(n-1)
		}
		lo = hi
	}
	return u
}

func cmp3(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// maxLogit bounds |logit|, so no option's probability reaches 0 and the
// generator keeps exploring.
const maxLogit = 4

// Update applies Δθ_G from the observations of one cycle (see the package
// documentation for the rule):
//
//  1. a policy-gradient (REINFORCE) step with rank-based utilities as
//     advantages: z_d += Eta · Σ_i u_i (e_{c_i,d} − p_d) / n for every
//     decision d, where c_i,d is the option candidate i took;
//  2. an activation-driven width step: for every trained candidate and
//     stage whose channels do not all react, probability moves from the
//     width it took to the width its reacting channels would need.
//
// It returns the L1 size of the change of the logits.
func (q *Inquisitor) Update(gen *Generator, obs []Observation) float64 {
	if len(obs) == 0 {
		return 0
	}
	u := rankUtilities(obs)
	delta := make([][]float64, len(gen.Decisions))
	for d := range gen.Decisions {
		delta[d] = make([]float64, len(gen.Decisions[d].Logits))
		p := gen.Decisions[d].probs()
		for i, ob := range obs {
			if len(ob.Arch.Picks) != len(gen.Decisions) {
				continue
			}
			c := ob.Arch.Picks[d]
			for k := range p {
				e := 0.0
				if k == c {
					e = 1
				}
				delta[d][k] += q.Eta * u[i] * (e - p[k]) / float64(len(obs))
			}
		}
	}
	for _, ob := range obs {
		if !ob.Trained || len(ob.Arch.Picks) != len(gen.Decisions) {
			continue
		}
		for s, r := range ob.Reactive {
			if r >= 1 || s >= len(gen.Skeleton.Stages) {
				continue
			}
			d := 1 + s*decisionsPerStage + 1 // the stage's width decision
			opts := gen.Decisions[d].Options
			c := ob.Arch.Picks[d]
			want := opts[c] * max(r, 0.25)
			t := c
			for t > 0 && opts[t-1] >= want*0.999 {
				t--
			}
			if t == c {
				continue
			}
			step := q.EtaWidth * (1 - r) / float64(len(obs))
			delta[d][t] += step
			delta[d][c] -= step
		}
	}
	change := 0.0
	for d := range gen.Decisions {
		z := gen.Decisions[d].Logits
		for k := range z {
			nz := math.Max(-maxLogit, math.Min(maxLogit, z[k]+delta[d][k]))
			change += math.Abs(nz - z[k])
			z[k] = nz
		}
	}
	return change
}
