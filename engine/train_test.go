package engine

import (
	"bytes"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/ferminets/fermi/dataset"
	"github.com/ferminets/fermi/ir"
	"github.com/ferminets/fermi/zoo"
)

// The optimizer, schedule and loss cases below were computed by hand from
// the PyTorch update rules quoted in optim.go and schedule.go.

func TestSGDStep(t *testing.T) {
	for _, c := range []struct {
		name     string
		nesterov bool
		momentum float32
		want     []float32 // p after each of two steps with gradient 0.5
	}{
		// d = g + wd·p; buf = μ·buf + d; nesterov: d += μ·buf, else d = buf; p −= lr·d.
		{"nesterov", true, 0.9, []float32{0.9031, 0.76507411}},
		// step 1: buf = 0.51, p = 1 − 0.051; step 2: buf = 0.459 + 0.50949, p = 0.949 − 0.096849.
		{"classic", false, 0.9, []float32{0.949, 0.852151}},
		// no momentum: p −= 0.1·(0.5 + 0.01·p).
		{"plain", false, 0, []float32{0.949, 0.898051}},
	} {
		p, buf := []float32{1}, []float32{0}
		if c.momentum == 0 {
			buf = nil
		}
		for i, w := range c.want {
			sgdStep(p, []float32{0.5}, buf, 0.1, c.momentum, 0.01, c.nesterov)
			if math.Abs(float64(p[0]-w)) > 1e-6 {
				t.Errorf("%s: step %d: p = %.8g, want %.8g", c.name, i+1, p[0], w)
			}
		}
	}
}

func TestAdamWStep(t *testing.T) {
	// lr 0.1, wd 0.01, β 0.9/0.999, eps 1e-8; gradients 0.5 then −0.25.
	// Step 1: p = 0.999 − 0.1·0.5/0.5 = 0.899 (m̂ = 0.5, √v̂ = 0.5).
	// Step 2: p = 0.899·0.999 − 0.1·(0.02/0.19)/(√0.00031225/√0.001999) = 0.8714673.
	p, m, v := []float32{1}, []float32{0}, []float32{0}
	for i, c := range []struct{ g, want float32 }{{0.5, 0.899}, {-0.25, 0.8714673}} {
		adamWStep(p, []float32{c.g}, m, v, 0.1, 0.9, 0.999, 1e-8, 0.01, i+1)
		if math.Abs(float64(p[0]-c.want)) > 1e-6 {
			t.Errorf("step %d: p = %.8g, want %.8g", i+1, p[0], c.want)
		}
	}
}

func TestSchedules(t *testing.T) {
	// One-cycle over 200 steps, max 0.05, pct 0.15, div 25, final div 1e4:
	// initial 0.002, minimum 2e-7; phase 1 ends at step 0.15·200 − 1 = 29,
	// phase 2 spans steps 29..199, so step 114 is its midpoint.
	oc := []struct {
		step int
		want float64
	}{{0, 0.002}, {29, 0.05}, {114, (0.05 + 2e-7) / 2}, {199, 2e-7}}
	for _, c := range oc {
		if got := oneCycleLR(c.step, 200, 0.05, 0.15, 25, 1e4); math.Abs(got-c.want) > 1e-12 {
			t.Errorf("one-cycle step %d: %v, want %v", c.step, got, c.want)
		}
	}
	// Phase-1 midpoint: step 14.5 lies between 14 and 15, so lr(14) < 0.026 < lr(15).
	if a, b := oneCycleLR(14, 200, 0.05, 0.15, 25, 1e4), oneCycleLR(15, 200, 0.05, 0.15, 25, 1e4); !(a < 0.026 && 0.026 < b) {
		t.Errorf("one-cycle steps 14, 15: %v, %v around 0.026", a, b)
	}
	// Runs too short for a warm-up step stay finite (0.05·20 − 1 = 0).
	for s := 0; s < 20; s++ {
		if lr := oneCycleLR(s, 20, 0.05, 0.05, 25, 1e4); math.IsNaN(lr) || lr <= 0 || lr > 0.05 {
			t.Errorf("one-cycle over 20 steps with pct 0.05, step %d: %v", s, lr)
		}
	}
	// Cosine over 111 steps with 10 warm-up steps: 0.1, …, 1 at step 9, then
	// 1 at step 10, ½ at step 60, 0 at step 110.
	cs := []struct {
		step int
		want float64
	}{{0, 0.1}, {4, 0.5}, {9, 1}, {10, 1}, {60, 0.5}, {110, 0}}
	for _, c := range cs {
		if got := cosineLR(c.step, 111, 10, 1); math.Abs(got-c.want) > 1e-12 {
			t.Errorf("cosine step %d: %v, want %v", c.step, got, c.want)
		}
	}
}

func TestSoftmaxCrossEntropy(t *testing.T) {
	// Logits (ln 3, 0), label 1: p = (¾, ¼). Without smoothing the loss is
	// ln 4 and the gradient p − onehot = (¾, −¾); with ε = 0.2 the target is
	// (0.1, 0.9): loss −(0.1·ln ¾ + 0.9·ln ¼), gradient (0.65, −0.65).
	for _, c := range []struct {
		eps      float64
		loss     float64
		gradient []float32
	}{
		{0, math.Log(4), []float32{0.75, -0.75}},
		{0.2, -(0.1*math.Log(0.75) + 0.9*math.Log(0.25)), []float32{0.65, -0.65}},
	} {
		dl := make([]float32, 2)
		loss, correct, err := softmaxCrossEntropy([]float32{float32(math.Log(3)), 0}, 1, 2, []uint8{1}, c.eps, dl)
		if err != nil || correct != 0 || math.Abs(loss-c.loss) > 1e-6 {
			t.Errorf("ε %v: loss %v, correct %d, err %v; want %v", c.eps, loss, correct, err, c.loss)
		}
		for i := range dl {
			if math.Abs(float64(dl[i]-c.gradient[i])) > 1e-6 {
				t.Errorf("ε %v: gradient %v, want %v", c.eps, dl, c.gradient)
			}
		}
	}
	if _, _, err := softmaxCrossEntropy([]float32{0, 0}, 1, 2, []uint8{2}, 0, make([]float32, 2)); err == nil {
		t.Error("label 2 of 2 classes accepted")
	}
}

// testNet builds a small network with every structural feature the
// trainer must handle: Conv+BN+Relu, a residual Add (a value with two
// users), Concat, a squeeze-and-excitation Mul with broadcasting, a
// depthwise conv, Dropout, average pooling, Flatten and Gemm.
func testNet(t *testing.T, seed uint64) *ir.Graph {
	b := ir.NewBuilder("testnet")
	n := uint64(0)
	param := func(name string, std float64, dims ...int64) *ir.Value {
		n++
		return b.Param(name, ir.Init{Kind: "normal", Seed: seed*100 + n, B: std}.Materialize(dims))
	}
	ones := func(name string, c int64) *ir.Value {
		return b.Param(name, ir.Init{Kind: "uniform", Seed: 1, A: 0.8, B: 1.2}.Materialize([]int64{c}))
	}
	bn := func(name string, x *ir.Value, c int64) *ir.Value {
		return b.Node(ir.OpBatchNorm, name, []*ir.Value{x, ones(name+".s", c), param(name+".b", 0.1, c),
			param(name+".m", 0.1, c), ones(name+".v", c)})
	}
	pads := ir.IntsAttr("pads", 1, 1, 1, 1)
	x := b.Input("input", ir.Float32, ir.Shape{ir.Sym("N"), ir.D(2), ir.D(6), ir.D(6)})
	h := b.Node(ir.OpConv, "c1", []*ir.Value{x, param("c1.w", 0.4, 4, 2, 3, 3), param("c1.b", 0.1, 4)}, pads)
	h = b.Node(ir.OpRelu, "r1", []*ir.Value{bn("bn1", h, 4)})
	br := b.Node(ir.OpConv, "c2", []*ir.Value{h, param("c2.w", 0.3, 4, 4, 3, 3)}, pads)
	br = bn("bn2", br, 4)
	h2 := b.Node(ir.OpRelu, "r2", []*ir.Value{b.Node(ir.OpAdd, "add", []*ir.Value{br, h})})
	dw := b.Node(ir.OpConv, "dw", []*ir.Value{h2, param("dw.w", 0.4, 4, 1, 3, 3)}, pads, ir.IntAttr("group", 4),
		ir.IntsAttr("strides", 2, 2))
	dw = b.Node(ir.OpClip, "relu6", []*ir.Value{dw, b.Param("lo", ir.NewFloat32(nil, []float32{0})), b.Param("hi", ir.NewFloat32(nil, []float32{6}))})
	dw = b.Node(ir.OpAveragePool, "up", []*ir.Value{dw}, ir.IntsAttr("kernel_shape", 1, 1))
	cat := b.Node(ir.OpMaxPool, "mp", []*ir.Value{h}, ir.IntsAttr("kernel_shape", 2, 2), ir.IntsAttr("strides", 2, 2))
	cat = b.Node(ir.OpConcat, "cat", []*ir.Value{cat, dw}, ir.IntAttr("axis", 1))
	se := b.Node(ir.OpGlobalAveragePool, "se.pool", []*ir.Value{cat})
	se = b.Node(ir.OpConv, "se.fc", []*ir.Value{se, param("se.w", 0.5, 8, 8, 1, 1), param("se.b", 0.1, 8)})
	se = b.Node(ir.OpSigmoid, "se.gate", []*ir.Value{se})
	h3 := b.Node(ir.OpMul, "se.scale", []*ir.Value{cat, se})
	h3 = b.Node(ir.OpDropout, "drop", []*ir.Value{h3, b.Param("ratio", ir.NewFloat32(nil, []float32{0.2}))})
	h3 = b.Node(ir.OpAveragePool, "ap", []*ir.Value{h3}, ir.IntsAttr("kernel_shape", 2, 2), ir.IntsAttr("strides", 1, 1))
	h3 = b.Node(ir.OpFlatten, "flat", []*ir.Value{h3})
	logits := b.Node(ir.OpGemm, "fc", []*ir.Value{h3, param("fc.w", 0.3, 3, 32), param("fc.b", 0.1, 3)}, ir.IntAttr("transB", 1))
	b.Output(logits)
	g, err := b.Build()
	if err != nil {
		t.Fatal(err)
	}
	return g
}

// TestTrainerGradients checks the whole backward pass (tape, fan-out
// accumulation, parameter gradients) of testNet by central differences of
// the cross-entropy with h = 1e-3 on a sample of every parameter's
// elements, within 3 % relative error (floor 1e-2 on the magnitude).
func TestTrainerGradients(t *testing.T) {
	g := testNet(t, 1)
	tr, err := NewTrainer(g, TrainConfig{Threads: 2, Seed: 3, LabelSmoothing: 0.1})
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(5, 6))
	x := randT(rng, d(3, 2, 6, 6), -2, 2, 0)
	labels := []uint8{0, 2, 1}
	_, grads, err := tr.Gradients(x, labels)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"c1.w", "c1.b", "bn1.s", "bn1.b", "c2.w", "bn2.s", "bn2.b", "dw.w", "se.w", "se.b", "fc.w", "fc.b"}
	for _, name := range want {
		p := g.Param(name)
		gr := grads[name]
		if len(gr) != len(p.Const.F32) {
			t.Fatalf("%s: gradient has %d values, want %d", name, len(gr), len(p.Const.F32))
		}
		for _, j := range rng.Perm(len(gr))[:min(len(gr), 6)] {
			old := p.Const.F32[j]
			const h = 1e-3
			p.Const.F32[j] = old + h
			lp, _, err := tr.Gradients(x, labels)
			if err != nil {
				t.Fatal(err)
			}
			p.Const.F32[j] = old - h
			lm, _, _ := tr.Gradients(x, labels)
			p.Const.F32[j] = old
			num, ana := (lp-lm)/(2*h), float64(gr[j])
			if math.Abs(num-ana) > 3e-2*max(math.Abs(num), math.Abs(ana), 1e-2) {
				t.Errorf("%s[%d]: analytic %.6g, numeric %.6g", name, j, ana, num)
			}
		}
	}
	for name := range grads {
		if !slices.Contains(want, name) {
			t.Errorf("unexpected trainable parameter %q", name)
		}
	}
}

// trainBytes trains zoo's lenet5 for the given epochs on a small MNIST
// subset (with augmentation, SGD Nesterov, one-cycle) and returns the
// graph's parameters serialized. With resumeAt > 0 it stops after that
// many epochs, checkpoints, and continues in a fresh trainer.
func trainBytes(t *testing.T, threads, epochs, resumeAt int, set *dataset.Set) []byte {
	cfg := TrainConfig{LR: 0.05, Momentum: 0.9, Nesterov: true, WeightDecay: 5e-4, Schedule: ScheduleOneCycle, Seed: 9, Threads: threads}
	opts := FitOptions{Epochs: epochs, Batch: 64, Norm: dataset.DefaultNormalization("mnist"), Augment: dataset.Augment{Pad: 2, FlipH: true}}
	cfg.TotalSteps = epochs * ((set.N + opts.Batch - 1) / opts.Batch)
	g, err := zoo.Build("simplecnn", zoo.Options{Seed: 4, Width: 0.25})
	if err != nil {
		t.Fatal(err)
	}
	tr, err := NewTrainer(g, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if resumeAt > 0 {
		o := opts
		o.Epochs = resumeAt
		if err := tr.Fit(set, nil, o); err != nil {
			t.Fatal(err)
		}
		var buf bytes.Buffer
		if err := WriteCheckpoint(&buf, tr.Checkpoint(resumeAt)); err != nil {
			t.Fatal(err)
		}
		g, _ = zoo.Build("simplecnn", zoo.Options{Seed: 4, Width: 0.25})
		if tr, err = NewTrainer(g, cfg); err != nil {
			t.Fatal(err)
		}
		c, err := ReadCheckpoint(&buf)
		if err != nil {
			t.Fatal(err)
		}
		if err := tr.Restore(c); err != nil {
			t.Fatal(err)
		}
		opts.StartEpoch = c.Epoch
	}
	if err := tr.Fit(set, nil, opts); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	for _, p := range g.Params {
		for _, v := range p.Const.F32 {
			b := math.Float32bits(v)
			out.Write([]byte{byte(b), byte(b >> 8), byte(b >> 16), byte(b >> 24)})
		}
	}
	return out.Bytes()
}

// TestTrainingDeterministic trains a narrow SimpleCNN (Dropout included)
// twice with the same seed, with 1 and 2 threads, and once interrupted by a
// checkpoint, and expects the same bytes every time.
func TestTrainingDeterministic(t *testing.T) {
	set, err := dataset.Load("mnist", "train", dataset.Options{})
	if err != nil {
		t.Fatal(err)
	}
	set = firstImages(set, 200)
	ref := trainBytes(t, 2, 2, 0, set)
	for _, c := range []struct {
		name              string
		threads, resumeAt int
	}{{"same run", 2, 0}, {"one thread", 1, 0}, {"resumed", 2, 1}} {
		if got := trainBytes(t, c.threads, 2, c.resumeAt, set); !bytes.Equal(got, ref) {
			t.Errorf("%s: parameters differ from the reference run", c.name)
		}
	}
}

// TestTrainLeNetMNIST trains LeNet-5 for one epoch on the first 2,000 MNIST
// training images (batch 32, AdamW at a constant lr 0.002) and expects at
// least 80 % on the first 2,000 test images (chance: 10 %; the run gives
// about 88 %).
func TestTrainLeNetMNIST(t *testing.T) {
	if testing.Short() {
		t.Skip("training in -short mode")
	}
	train, err := dataset.Load("mnist", "train", dataset.Options{})
	if err != nil {
		t.Fatal(err)
	}
	test, err := dataset.Load("mnist", "test", dataset.Options{})
	if err != nil {
		t.Fatal(err)
	}
	g, err := zoo.Build("lenet5", zoo.Options{})
	if err != nil {
		t.Fatal(err)
	}
	tr, err := NewTrainer(g, TrainConfig{Optimizer: AdamW, LR: 0.002})
	if err != nil {
		t.Fatal(err)
	}
	norm := dataset.DefaultNormalization("mnist")
	if err := tr.Fit(firstImages(train, 2000), nil, FitOptions{Epochs: 1, Batch: 32, Norm: norm}); err != nil {
		t.Fatal(err)
	}
	res, err := tr.Executor().Evaluate(firstImages(test, 2000), norm, 256, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("test accuracy after one epoch on 2,000 images: %.2f %%", 100*res.Accuracy)
	if res.Accuracy < 0.80 {
		t.Errorf("accuracy %.2f %%, want ≥ 80 %%", 100*res.Accuracy)
	}
}

// firstImages returns the first n images of s.
func firstImages(s *dataset.Set, n int) *dataset.Set {
	c := *s
	c.N = n
	c.Pixels = s.Pixels[:n*s.ImageSize()]
	c.Labels = s.Labels[:n]
	return &c
}

// TestTrainZoo takes one step on every reference network of BENCHMARK.md
// E (batch 4) and checks that the loss is finite and every trainable
// parameter received a gradient.
func TestTrainZoo(t *testing.T) {
	for _, arch := range []string{"lenet5", "simplecnn", "resnet20", "mobilenetv2"} {
		t.Run(arch, func(t *testing.T) {
			g, err := zoo.Build(arch, zoo.Options{})
			if err != nil {
				t.Fatal(err)
			}
			tr, err := NewTrainer(g, TrainConfig{Momentum: 0.9})
			if err != nil {
				t.Fatal(err)
			}
			x := randT(rand.New(rand.NewPCG(1, 1)), d(4, 1, 28, 28), -1, 1, 0)
			loss, grads, err := tr.Gradients(x, []uint8{1, 2, 3, 4})
			if err != nil || math.IsNaN(loss) {
				t.Fatalf("loss %v, err %v", loss, err)
			}
			if len(grads) != len(tr.params) {
				t.Errorf("%d of %d trainable parameters got a gradient", len(grads), len(tr.params))
			}
			if _, err := tr.Step(x, []uint8{1, 2, 3, 4}); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestNewTrainerErrors(t *testing.T) {
	build := func(last ir.Op, trainable bool) *ir.Graph {
		b := ir.NewBuilder("g")
		x := b.Input("input", ir.Float32, ir.Shape{ir.Sym("N"), ir.D(4)})
		w := b.Param("w", ir.NewFloat32([]int64{3, 4}, make([]float32, 12)))
		var y *ir.Value
		if trainable {
			y = b.Node(ir.OpGemm, "fc", []*ir.Value{x, w}, ir.IntAttr("transB", 1))
		} else {
			y = b.Node(ir.OpRelu, "fc", []*ir.Value{x})
		}
		switch last {
		case ir.OpSoftmax:
			y = b.Node(ir.OpSoftmax, "sm", []*ir.Value{y})
		case ir.OpReduceMean:
			y = b.Node(ir.OpReduceMean, "tr", []*ir.Value{y}, ir.IntsAttr("axes", 1))
		}
		b.Output(y)
		g, err := b.Build()
		if err != nil {
			t.Fatal(err)
		}
		return g
	}
	for _, c := range []struct {
		name string
		g    *ir.Graph
		cfg  TrainConfig
		want string
	}{
		{"softmax output", build(ir.OpSoftmax, true), TrainConfig{}, `output "sm" is a Softmax`},
		{"no parameters", build(ir.OpInvalid, false), TrainConfig{}, "no trainable parameters"},
		{"no gradient", build(ir.OpReduceMean, true), TrainConfig{}, `no gradient for nodes "tr" (ReduceMean)`},
		{"bad smoothing", build(ir.OpInvalid, true), TrainConfig{LabelSmoothing: 1}, "label smoothing 1"},
		{"negative lr", build(ir.OpInvalid, true), TrainConfig{LR: -1}, "lr -1"},
	} {
		_, err := NewTrainer(c.g, c.cfg)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want %q", c.name, err, c.want)
		}
	}
	// Data errors: wrong labels and a wrong input shape.
	tr, err := NewTrainer(build(ir.OpInvalid, true), TrainConfig{})
	if err != nil {
		t.Fatal(err)
	}
	x := ir.NewFloat32([]int64{2, 4}, make([]float32, 8))
	if _, err := tr.Step(x, []uint8{1}); err == nil || !strings.Contains(err.Error(), "want 1×classes logits") {
		t.Errorf("one label for two images: %v", err)
	}
	if _, err := tr.Step(x, []uint8{1, 7}); err == nil || !strings.Contains(err.Error(), "label 7") {
		t.Errorf("label 7 of 3 classes: %v", err)
	}
	if _, err := tr.Step(ir.NewFloat32([]int64{2, 5}, make([]float32, 10)), []uint8{1, 2}); err == nil || !strings.Contains(err.Error(), `input "input"`) {
		t.Errorf("wrong input shape: %v", err)
	}
}

// TestTrainFusionMatchesUnfused checks that training with Relus folded
// into their Conv, Add and BatchNormalization producers (fuse.go) computes
// the bits of training without: the same loss, the same gradient of every
// parameter and, after a step, the same parameters and running statistics.
func TestTrainFusionMatchesUnfused(t *testing.T) {
	for _, c := range []struct {
		name  string
		build func() (*ir.Graph, error)
		fused []ir.Op // producers the plan must fold a Relu into (and resnet20 the moments and gradient sums, fuse.go)
	}{
		{"testnet", func() (*ir.Graph, error) { return testNet(t, 2), nil }, []ir.Op{ir.OpAdd, ir.OpBatchNorm}},
		{"lenet5", func() (*ir.Graph, error) { return zoo.Build("lenet5", zoo.Options{Seed: 3}) }, []ir.Op{ir.OpConv}},
		{"resnet20", func() (*ir.Graph, error) { return zoo.Build("resnet20", zoo.Options{Seed: 3}) }, []ir.Op{ir.OpAdd, ir.OpBatchNorm}},
	} {
		t.Run(c.name, func(t *testing.T) {
			var runs [2]struct {
				loss   float64
				grads  map[string][]float32
				params [][]float32
			}
			for i, fuse := range []bool{true, false} {
				g, err := c.build()
				if err != nil {
					t.Fatal(err)
				}
				tr, err := NewTrainer(g, TrainConfig{Threads: 2, Seed: 3, Momentum: 0.9, LR: 0.05})
				if err != nil {
					t.Fatal(err)
				}
				if fuse {
					for _, op := range c.fused {
						if !slices.ContainsFunc(g.Nodes, func(n *ir.Node) bool { return n.Op == op && tr.fuse.reluInto[n] }) {
							t.Fatalf("no Relu folded into a %v", op)
						}
					}
					if c.name == "resnet20" && (len(tr.fuse.momentsInto) == 0 || !tr.fuse.sumGrads) {
						t.Fatal("no moments fusion or gradient sums planned")
					}
				} else {
					tr.fuse = fusion{}
				}
				in := g.Inputs[0].Shape
				x := randT(rand.New(rand.NewPCG(4, 5)), d(5, in[1].Size, in[2].Size, in[3].Size), -2, 2, 0)
				labels := []uint8{0, 1, 2, 1, 0}
				r := &runs[i]
				if r.loss, r.grads, err = tr.Gradients(x, labels); err != nil {
					t.Fatal(err)
				}
				for name, gr := range r.grads {
					r.grads[name] = slices.Clone(gr) // arena buffers of the abandoned run
				}
				if _, err := tr.Step(x, labels); err != nil {
					t.Fatal(err)
				}
				for _, p := range g.Params {
					if p.Const != nil && p.Const.DType == ir.Float32 {
						r.params = append(r.params, slices.Clone(p.Const.F32))
					}
				}
			}
			if runs[0].loss != runs[1].loss {
				t.Errorf("loss %v fused, %v unfused", runs[0].loss, runs[1].loss)
			}
			for name, gr := range runs[1].grads {
				if !slices.Equal(runs[0].grads[name], gr) {
					t.Errorf("gradient of %s differs", name)
				}
			}
			for i := range runs[1].params {
				if !slices.Equal(runs[0].params[i], runs[1].params[i]) {
					t.Errorf("parameter %d differs after a step", i)
				}
			}
		})
	}
}
