package engine

import (
	"encoding/gob"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"time"

	"github.com/ferminets/fermi/dataset"
	"github.com/ferminets/fermi/ir"
)

// TrainConfig configures a Trainer. Zero fields take the defaults named in
// their comments.
type TrainConfig struct {
	Optimizer   Optimizer
	LR          float64 // peak learning rate (default 0.05)
	Momentum    float64 // SGD momentum (0: plain SGD)
	Nesterov    bool    // SGD Nesterov momentum
	WeightDecay float64 // L2 (SGD) or decoupled (AdamW) weight decay, applied to every trainable parameter
	// NoDecayNormBias exempts BatchNormalization scales and shifts and
	// every 1-D parameter (biases) from weight decay.
	NoDecayNormBias bool
	Beta1, Beta2    float64 // AdamW moment decays (default 0.9, 0.999)
	Eps             float64 // AdamW denominator term (default 1e-8)

	Schedule       Schedule
	TotalSteps     int     // schedule length in steps; Fit sets it when 0
	PctStart       float64 // one-cycle warm-up fraction (default 0.15)
	DivFactor      float64 // one-cycle initial LR = LR/DivFactor (default 25)
	FinalDivFactor float64 // one-cycle final LR = initial/FinalDivFactor (default 1e4)
	WarmupFrac     float64 // cosine warm-up fraction of the steps (default 0.05)

	LabelSmoothing float64 // ε of the cross-entropy targets
	Seed           uint64  // seeds dropout masks (and, in Fit, shuffling and augmentation)
	// Distill, when set, adds a teacher's softened predictions to the loss.
	Distill *Distillation

	Threads int     // goroutines per kernel (default GOMAXPROCS); results do not depend on it
	Kernels Kernels // matrix kernels (default Blocked)
}

func (c *TrainConfig) defaults() {
	def := func(p *float64, v float64) {
		if *p == 0 {
			*p = v
		}
	}
	def(&c.LR, 0.05)
	def(&c.Beta1, 0.9)
	def(&c.Beta2, 0.999)
	def(&c.Eps, 1e-8)
	def(&c.PctStart, 0.15)
	def(&c.DivFactor, 25)
	def(&c.FinalDivFactor, 1e4)
	def(&c.WarmupFrac, 0.05)
}

// Trainer trains the parameters of a graph whose first input takes a batch
// of images and whose first output is N×classes logits, with softmax
// cross-entropy. It updates the graph's parameter tensors in place,
// BatchNormalization running statistics included, so the graph can be
// exported at any time. While training, BatchNormalization normalizes
// with batch statistics and every Dropout drops (inverted dropout with its
// ratio input, 0.5 when absent). A Trainer is not safe for concurrent use.
type Trainer struct {
	g        *ir.Graph
	cfg      TrainConfig
	exec     *Executor
	input    *ir.Value
	logits   *ir.Value
	params   []*ir.Value // trainable parameters in g.Params order
	decay    []bool      // whether params[i] takes weight decay
	requires map[*ir.Value]bool
	m, v     [][]float32 // optimizer state per parameter (SGD momentum buffer; AdamW moments)
	step     int
	fuse     fusion // Relus folded into their producers (fuse.go)
}

// NewTrainer checks that every node on the way from a trainable parameter
// to the logits has a gradient and returns a trainer of g. Trainable
// parameters are the float32 constants at the op table's TrainableWeights
// positions (Conv and Gemm weights and biases, MatMul's second operand,
// BatchNormalization scale and shift). Parameters stored only as an
// initializer recipe are materialized and every float32 parameter's recipe
// is dropped, since training changes the data.
func NewTrainer(g *ir.Graph, cfg TrainConfig) (*Trainer, error) {
	cfg.defaults()
	if len(g.Inputs) == 0 || len(g.Outputs) == 0 {
		return nil, fmt.Errorf("engine: train: graph %q needs an input and an output", g.Name)
	}
	if cfg.LR < 0 || cfg.Momentum < 0 || cfg.WeightDecay < 0 || cfg.LabelSmoothing < 0 || cfg.LabelSmoothing >= 1 {
		return nil, fmt.Errorf("engine: train: lr %g, momentum %g, weight decay %g, label smoothing %g: want non-negative values and smoothing below 1",
			cfg.LR, cfg.Momentum, cfg.WeightDecay, cfg.LabelSmoothing)
	}
	if cfg.Distill != nil {
		d := *cfg.Distill
		if err := d.check(); err != nil {
			return nil, err
		}
		cfg.Distill = &d
	}
	if d := g.Outputs[0].Def; d != nil && d.Op == ir.OpSoftmax {
		return nil, fmt.Errorf("engine: train: output %q is a Softmax; training needs the logits before it", g.Outputs[0].Name)
	}
	for _, p := range g.Params {
		if p.Const == nil || p.Const.DType != ir.Float32 {
			continue
		}
		t, err := materialize(p.Const)
		if err != nil {
			return nil, fmt.Errorf("engine: parameter %q: %v", p.Name, err)
		}
		p.Const = t
		p.Const.Init = nil
	}
	var opts []Option
	if cfg.Threads > 0 {
		opts = append(opts, WithThreads(cfg.Threads))
	}
	if cfg.Kernels != nil {
		opts = append(opts, WithKernels(cfg.Kernels))
	}
	exec, err := New(g, opts...)
	if err != nil {
		return nil, err
	}
	t := &Trainer{g: g, cfg: cfg, exec: exec, input: g.Inputs[0], logits: g.Outputs[0], requires: map[*ir.Value]bool{},
		fuse: planFusion(g, trainFusion)}
	t.fuse.momentsInto, t.fuse.sumGrads = planMoments(g), true
	trainable := map[*ir.Value]bool{}
	bnParam := map[*ir.Value]bool{}
	for _, n := range g.Nodes {
		for _, pos := range n.Op.Info().TrainableWeights {
			if v := n.Input(pos); v != nil && v.Const != nil && v.Const.DType == ir.Float32 {
				trainable[v] = true
				if n.Op == ir.OpBatchNorm {
					bnParam[v] = true
				}
			}
		}
	}
	for _, p := range g.Params {
		if trainable[p] {
			t.params = append(t.params, p)
			t.decay = append(t.decay, !cfg.NoDecayNormBias || !(bnParam[p] || len(p.Const.Dims) == 1))
			t.requires[p] = true
		}
	}
	if len(t.params) == 0 {
		return nil, fmt.Errorf("engine: train: graph %q has no trainable parameters", g.Name)
	}
	var missing []string
	for _, n := range g.Nodes {
		req := false
		for _, v := range n.Inputs {
			req = req || (v != nil && t.requires[v])
		}
		if !req {
			continue
		}
		if backwardOf(n.Op) == nil {
			missing = append(missing, fmt.Sprintf("%q (%s)", n.Name, n.TypeName()))
			continue
		}
		for _, o := range n.Outputs {
			if o != nil && (o.DType == ir.Float32 || o.DType == ir.Undefined) {
				t.requires[o] = true
			}
		}
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("engine: train: no gradient for nodes %s", strings.Join(missing, ", "))
	}
	if !t.requires[t.logits] {
		return nil, fmt.Errorf("engine: train: output %q does not depend on any trainable parameter", t.logits.Name)
	}
	t.m = make([][]float32, len(t.params))
	if cfg.Optimizer == AdamW {
		t.v = make([][]float32, len(t.params))
	}
	for i, p := range t.params {
		if cfg.Optimizer == AdamW || cfg.Momentum != 0 {
			t.m[i] = make([]float32, len(p.Const.F32))
		}
		if t.v != nil {
			t.v[i] = make([]float32, len(p.Const.F32))
		}
	}
	return t, nil
}

// Executor returns an inference executor sharing the trainer's parameters.
func (t *Trainer) Executor() *Executor { return t.exec }

// Steps returns the number of optimizer steps taken so far.
func (t *Trainer) Steps() int { return t.step }

// LearningRate returns the learning rate of step s under the schedule.
func (t *Trainer) LearningRate(s int) float64 {
	c := &t.cfg
	total := max(c.TotalSteps, 1)
	switch c.Schedule {
	case ScheduleOneCycle:
		return oneCycleLR(min(s, total-1), total, c.LR, c.PctStart, c.DivFactor, c.FinalDivFactor)
	case ScheduleCosine:
		return cosineLR(min(s, total-1), total, int(math.Ceil(c.WarmupFrac*float64(total))), c.LR)
	}
	return c.LR
}

// stepResult is the outcome of one training step.
type stepResult struct {
	Loss    float64 // mean cross-entropy of the batch, before the update
	Correct int     // images whose largest logit was the label, before the update
	LR      float64 // learning rate applied
}

// Step runs forward and backward on the batch x (N×C×H×W, normalized) with
// labels and applies one optimizer update. It returns the batch's mean loss
// (with distillation, the weighted sum of both terms).
func (t *Trainer) Step(x *ir.Tensor, labels []uint8) (float64, error) {
	r, err := t.step1(x, labels)
	return r.Loss, err
}

// inRun returns the executor of one training step, folding the Relus of
// t.fuse into their producers.
func (t *Trainer) inRun() *Executor {
	e := t.exec.inRun()
	e.fuse = t.fuse
	if e.rs != nil {
		e.rs.fuse = true
	}
	return e
}

func (t *Trainer) step1(x *ir.Tensor, labels []uint8) (stepResult, error) {
	e := t.inRun()
	defer e.rs.finish(nil) // nothing of the step outlives it: every buffer goes back
	tp, err := t.forward(e, x)
	if err != nil {
		return stepResult{}, err
	}
	logits := tp.vals[t.logits]
	if logits == nil || logits.DType != ir.Float32 || len(logits.Dims) != 2 || int(logits.Dims[0]) != len(labels) {
		var dims []int64
		if logits != nil {
			dims = logits.Dims
		}
		return stepResult{}, fmt.Errorf("engine: train: output %q has shape %v; want %d×classes logits, one row per label", t.logits.Name, dims, len(labels))
	}
	n, k := int(logits.Dims[0]), int(logits.Dims[1])
	dl := e.allocRaw([]int{n, k})
	loss, correct, err := t.lossGrad(x, logits.F32, n, k, labels, dl.F32)
	if err != nil {
		return stepResult{Loss: loss}, err
	}
	if err := t.runBackward(e, tp, dl); err != nil {
		return stepResult{}, err
	}
	lr := t.LearningRate(t.step)
	t.update(tp, lr)
	t.step++
	return stepResult{Loss: loss, Correct: correct, LR: lr}, nil
}

// lossGrad returns the training loss of the batch x with n×k logits and
// labels (cross-entropy, with the teacher's term under distillation) and
// how many rows were right, and writes its gradient with respect to the
// logits into dlogits.
func (t *Trainer) lossGrad(x *ir.Tensor, logits []float32, n, k int, labels []uint8, dlogits []float32) (float64, int, error) {
	loss, correct, err := softmaxCrossEntropy(logits, n, k, labels, t.cfg.LabelSmoothing, dlogits)
	if err != nil {
		return loss, correct, err
	}
	if d := t.cfg.Distill; d != nil {
		teacher, err := d.teacherLogits(x, n, k)
		if err != nil {
			return loss, correct, err
		}
		loss = (1-d.Alpha)*loss + d.Alpha*distill(logits, teacher, n, k, d.Temperature, d.Alpha, dlogits)
	}
	return loss, correct, nil
}

// forward runs the graph in training mode on x: BatchNormalization uses
// batch statistics and writes its running statistics into its parameters,
// Dropout drops with a mask drawn from a stream seeded by (Seed, step).
// e is the step's copy of the trainer's executor (see inRun); the tape
// holds the arena buffers of the values it keeps.
func (t *Trainer) forward(e *Executor, x *ir.Tensor) (*tape, error) {
	tp := &tape{e: e, vals: make(map[*ir.Value]*ir.Tensor, len(e.params)+len(t.g.Nodes)+1), outs: make([][]*ir.Tensor, len(t.g.Nodes))}
	for p, v := range e.params {
		tp.vals[p] = v
	}
	if err := e.bindInputs(map[string]*ir.Tensor{t.input.Name: x}, tp.vals); err != nil {
		return nil, err
	}
	rng := rand.New(rand.NewPCG(t.cfg.Seed, uint64(t.step)))
	for i, n := range t.g.Nodes {
		in := make([]*ir.Tensor, len(n.Inputs))
		for j, v := range n.Inputs {
			if v == nil || v.Name == "" {
				continue
			}
			in[j] = tp.vals[v]
			if in[j] == nil {
				return nil, fmt.Errorf("engine: node %q (%s): input %q has no value", n.Name, n.TypeName(), v.Name)
			}
		}
		var outs []*ir.Tensor
		var err error
		switch {
		case e.reluViewed(n): // its producer rectified the input (fuse.go)
			outs = in[:1]
		case n.Op == ir.OpBatchNorm:
			outs, err = batchNormTrainRelu(e, n, in, e.reluFused(n))
			if err == nil {
				for j := 3; j <= 4; j++ {
					if p := n.Inputs[j]; p.Const != nil && e.params[p] != nil {
						copy(e.params[p].F32, outs[j-2].F32)
					}
				}
			}
		case n.Op == ir.OpDropout:
			ratio := 0.5
			if len(in) > 1 && in[1] != nil && in[1].Len() == 1 {
				ratio = in[1].Float64s()[0]
			}
			var y, mask *ir.Tensor
			y, mask, err = dropoutTrain(in[0], ratio, rng)
			outs = []*ir.Tensor{y, mask}
		default:
			outs, err = callKernel(e, n, in)
		}
		if err != nil {
			return nil, fmt.Errorf("engine: node %q (%s): %w", n.Name, n.TypeName(), err)
		}
		tp.outs[i] = outs
		for _, o := range outs {
			e.hold(o)
		}
		for j, v := range n.Outputs {
			if v == nil || v.Name == "" || j >= len(outs) {
				continue
			}
			if n.Op == ir.OpDropout && j == 1 {
				continue // the float mask is not the ONNX bool mask
			}
			tp.vals[v] = outs[j]
			e.hold(outs[j])
		}
	}
	return tp, nil
}

// update applies the optimizer to every trainable parameter with the
// gradients left on the tape. A parameter the logits do not depend on
// keeps its value.
func (t *Trainer) update(tp *tape, lr float64) {
	c := &t.cfg
	t.exec.parallel(len(t.params), func(lo, hi int) {
		for i := lo; i < hi; i++ {
			p := t.params[i]
			g := tp.grads[p]
			if g == nil {
				continue
			}
			wd := c.WeightDecay
			if !t.decay[i] {
				wd = 0
			}
			w := t.exec.params[p].F32
			if c.Optimizer == AdamW {
				adamWStep(w, g.F32, t.m[i], t.v[i], lr, c.Beta1, c.Beta2, c.Eps, wd, t.step+1)
				continue
			}
			sgdStep(w, g.F32, t.m[i], float32(lr), float32(c.Momentum), float32(wd), c.Nesterov)
		}
	})
}

// Gradients runs forward and backward on one batch without updating the
// parameters and returns the mean loss and the gradient of every trainable
// parameter, keyed by name.
func (t *Trainer) Gradients(x *ir.Tensor, labels []uint8) (float64, map[string][]float32, error) {
	e := t.inRun()
	defer e.rs.abandon() // the returned gradients are arena buffers: none goes back
	tp, err := t.forward(e, x)
	if err != nil {
		return 0, nil, err
	}
	logits := tp.vals[t.logits]
	n, k := int(logits.Dims[0]), int(logits.Dims[1])
	dl := e.allocRaw([]int{n, k})
	loss, _, err := t.lossGrad(x, logits.F32, n, k, labels, dl.F32)
	if err != nil {
		return loss, nil, err
	}
	if err := t.runBackward(e, tp, dl); err != nil {
		return 0, nil, err
	}
	out := map[string][]float32{}
	for _, p := range t.params {
		if g := tp.grads[p]; g != nil {
			out[p.Name] = g.F32
		}
	}
	return loss, out, nil
}

// EpochStats describes one finished epoch of Fit.
type EpochStats struct {
	Epoch, Epochs int           // 1-based epoch number and the run's total
	Steps         int           // optimizer steps taken so far
	Loss          float64       // mean training loss over the epoch's batches (weighted by images)
	TrainAcc      float64       // training accuracy seen during the epoch (augmented, before each update)
	ValAcc        float64       // validation accuracy after the epoch (NaN without a validation set)
	LR            float64       // learning rate of the epoch's last step
	Images        int           // training images processed in the epoch
	Elapsed       time.Duration // time of the epoch's training steps (validation excluded)
}

// ImgPerSec returns the epoch's training throughput.
func (s EpochStats) ImgPerSec() float64 { return float64(s.Images) / s.Elapsed.Seconds() }

// Recorder observes training, in the manner of gonum's optimize.Recorder.
// Fit calls Record after every epoch; an error stops training.
type Recorder interface {
	Record(EpochStats) error
}

// RecorderFunc adapts a function to Recorder.
type RecorderFunc func(EpochStats) error

// Record implements Recorder.
func (f RecorderFunc) Record(s EpochStats) error { return f(s) }

// FitOptions configure Fit.
type FitOptions struct {
	Epochs     int                   // epochs to train in total
	StartEpoch int                   // epochs already done (after Restore), 0 for a fresh run
	Batch      int                   // images per step (default 128); the last batch of an epoch may be smaller
	Norm       dataset.Normalization // input normalization
	Augment    dataset.Augment       // training augmentation
	Recorder   Recorder              // called after every epoch (may be nil)
	// Progress, when non-nil, is called after every step with the images
	// done in the current epoch and the epoch's size.
	Progress func(done, total int)
}

// Fit trains for the epochs [StartEpoch, Epochs). Epoch e visits the
// training images in the order of a permutation drawn from a PCG stream
// seeded by (Seed, e) and draws augmentations from a stream seeded by
// (Seed, e + 2³²), so an epoch's batches depend only on the seed and the
// epoch number, and a run restored from a checkpoint continues exactly as
// the uninterrupted run would. val may be nil.
func (t *Trainer) Fit(train, val *dataset.Set, o FitOptions) error {
	if o.Batch <= 0 {
		o.Batch = 128
	}
	if train == nil || train.N == 0 {
		return fmt.Errorf("engine: fit: empty training set")
	}
	stepsPerEpoch := (train.N + o.Batch - 1) / o.Batch
	if t.cfg.TotalSteps == 0 {
		t.cfg.TotalSteps = o.Epochs * stepsPerEpoch
	}
	size := train.ImageSize()
	xbuf := make([]float32, o.Batch*size)
	idx := make([]int, 0, o.Batch)
	labels := make([]uint8, 0, o.Batch)
	for ep := o.StartEpoch; ep < o.Epochs; ep++ {
		perm := rand.New(rand.NewPCG(t.cfg.Seed, uint64(ep))).Perm(train.N)
		aug := rand.New(rand.NewPCG(t.cfg.Seed, uint64(ep)+1<<32))
		st := EpochStats{Epoch: ep + 1, Epochs: o.Epochs, ValAcc: math.NaN()}
		var lossSum float64
		var correct int
		start := time.Now()
		for lo := 0; lo < train.N; lo += o.Batch {
			hi := min(lo+o.Batch, train.N)
			idx = append(idx[:0], perm[lo:hi]...)
			labels = labels[:0]
			for _, i := range idx {
				labels = append(labels, train.Labels[i])
			}
			x := xbuf[:len(idx)*size]
			train.BatchAugmented(idx, o.Norm, o.Augment, aug, x)
			xt := ir.NewFloat32([]int64{int64(len(idx)), int64(train.C), int64(train.H), int64(train.W)}, x)
			r, err := t.step1(xt, labels)
			if err != nil {
				return fmt.Errorf("epoch %d, step %d: %w", ep+1, t.step+1, err)
			}
			lossSum += r.Loss * float64(len(idx))
			correct += r.Correct
			st.LR = r.LR
			if o.Progress != nil {
				o.Progress(hi, train.N)
			}
		}
		st.Elapsed = time.Since(start)
		st.Images, st.Steps = train.N, t.step
		st.Loss, st.TrainAcc = lossSum/float64(train.N), float64(correct)/float64(train.N)
		if val != nil && val.N > 0 {
			r, err := t.exec.Evaluate(val, o.Norm, 256, nil)
			if err != nil {
				return err
			}
			st.ValAcc = r.Accuracy
		}
		if o.Recorder != nil {
			if err := o.Recorder.Record(st); err != nil {
				return err
			}
		}
	}
	return nil
}

// Checkpoint is a trainer's complete state after some epochs: every
// float32 parameter of the graph (trainable ones and BatchNormalization
// running statistics), the optimizer's buffers and the step count.
type Checkpoint struct {
	Graph  string // graph name, checked on restore
	Note   string // the caller's description of the run (e.g. its settings)
	Epoch  int    // epochs completed
	Step   int
	Params map[string][]float32
	M, V   map[string][]float32
}

// Checkpoint returns a copy of the trainer's state after epoch epochs.
func (t *Trainer) Checkpoint(epoch int) *Checkpoint {
	c := &Checkpoint{Graph: t.g.Name, Epoch: epoch, Step: t.step, Params: map[string][]float32{}, M: map[string][]float32{}, V: map[string][]float32{}}
	for _, p := range t.g.Params {
		if p.Const != nil && p.Const.DType == ir.Float32 {
			c.Params[p.Name] = slices.Clone(p.Const.F32)
		}
	}
	for i, p := range t.params {
		if t.m[i] != nil {
			c.M[p.Name] = slices.Clone(t.m[i])
		}
		if t.v != nil {
			c.V[p.Name] = slices.Clone(t.v[i])
		}
	}
	return c
}

// Restore sets the trainer's state from c, which must come from a trainer
// of the same graph and optimizer.
func (t *Trainer) Restore(c *Checkpoint) error {
	if c.Graph != t.g.Name {
		return fmt.Errorf("engine: checkpoint of graph %q, trainer has %q", c.Graph, t.g.Name)
	}
	set := func(dst []float32, src []float32, name, what string) error {
		if len(src) != len(dst) {
			return fmt.Errorf("engine: checkpoint: %s of %q has %d values, want %d", what, name, len(src), len(dst))
		}
		copy(dst, src)
		return nil
	}
	for _, p := range t.g.Params {
		if p.Const == nil || p.Const.DType != ir.Float32 {
			continue
		}
		src, ok := c.Params[p.Name]
		if !ok {
			return fmt.Errorf("engine: checkpoint has no parameter %q", p.Name)
		}
		if err := set(t.exec.params[p].F32, src, p.Name, "parameter"); err != nil {
			return err
		}
	}
	for i, p := range t.params {
		if t.m[i] != nil {
			if err := set(t.m[i], c.M[p.Name], p.Name, "optimizer state"); err != nil {
				return err
			}
		}
		if t.v != nil {
			if err := set(t.v[i], c.V[p.Name], p.Name, "optimizer state"); err != nil {
				return err
			}
		}
	}
	t.step = c.Step
	return nil
}

// WriteCheckpoint encodes c (gob, exact float32 bits) to w.
func WriteCheckpoint(w io.Writer, c *Checkpoint) error { return gob.NewEncoder(w).Encode(c) }

// ReadCheckpoint decodes a checkpoint written by WriteCheckpoint.
func ReadCheckpoint(r io.Reader) (*Checkpoint, error) {
	var c Checkpoint
	if err := gob.NewDecoder(r).Decode(&c); err != nil {
		return nil, fmt.Errorf("engine: reading checkpoint: %v", err)
	}
	return &c, nil
}

// InitParams re-initializes every trainable parameter of g as PyTorch's
// layers would for training from scratch, drawing from a PCG stream seeded
// by seed in g.Params order: Conv, Gemm and MatMul weights from
// Kaiming-normal N(0, 2/fan_in), their biases uniform in ±1/√fan_in,
// BatchNormalization scale 1, shift 0, running mean 0 and variance 1.
func InitParams(g *ir.Graph, seed uint64) error {
	type role struct {
		fanIn int64
		kind  int // 1 weight, 2 bias, 3 BN scale/var (1), 4 BN shift/mean (0)
	}
	roles := map[*ir.Value]role{}
	for _, n := range g.Nodes {
		w := n.Input(1)
		if w == nil || w.Const == nil || len(w.Const.Dims) < 1 {
			continue
		}
		switch n.Op {
		case ir.OpConv, ir.OpGemm, ir.OpMatMul:
			d := w.Const.Dims
			fan := ir.NumElements(d[1:])
			switch {
			case n.Op == ir.OpGemm && n.Int("transB") == 0, n.Op == ir.OpMatMul:
				fan = d[0]
			}
			roles[w] = role{fan, 1}
			if b := n.Input(2); b != nil && b.Const != nil && n.Op != ir.OpMatMul {
				roles[b] = role{fan, 2}
			}
		case ir.OpBatchNorm:
			for i, k := range []int{3, 4, 4, 3} {
				if v := n.Input(i + 1); v != nil && v.Const != nil {
					roles[v] = role{0, k}
				}
			}
		}
	}
	rng := rand.New(rand.NewPCG(seed, 0x5eed))
	for _, p := range g.Params {
		r, ok := roles[p]
		if !ok || p.Const.DType != ir.Float32 {
			continue
		}
		data := make([]float32, p.Const.Len())
		for i := range data {
			switch r.kind {
			case 1:
				data[i] = float32(rng.NormFloat64() * math.Sqrt(2/float64(max(r.fanIn, 1))))
			case 2:
				b := 1 / math.Sqrt(float64(max(r.fanIn, 1)))
				data[i] = float32((2*rng.Float64() - 1) * b)
			case 3:
				data[i] = 1
			}
		}
		p.Const = &ir.Tensor{DType: ir.Float32, Dims: p.Const.Dims, F32: data}
	}
	return nil
}
