package synth

import (
	"fmt"
	"math"
	"strings"
)

// BlockKind is the type of the blocks of a stage.
type BlockKind uint8

// Block kinds. Every block maps a C_in-channel feature map to a C_out-channel
// one at the same resolution; k is the stage's kernel size.
const (
	// Standard is Conv k×k → Relu.
	Standard BlockKind = iota
	// DepthwiseSeparable is depthwise Conv k×k → Relu → Conv 1×1 → Relu (MobileNetV1).
	DepthwiseSeparable
	// InvertedResidual is Conv 1×1 (expand by t) → Relu → depthwise Conv k×k
	// → Relu → Conv 1×1 (project, linear) (MobileNetV2).
	InvertedResidual
	// GroupedShuffle is grouped Conv k×k → Relu → channel shuffle (ShuffleNet).
	GroupedShuffle
	numBlockKinds
)

var blockNames = [numBlockKinds]string{"standard", "dwsep", "inverted-residual", "grouped-shuffle"}

// String returns the kind's name as in generator.json.
func (k BlockKind) String() string {
	if k < numBlockKinds {
		return blockNames[k]
	}
	return fmt.Sprintf("block(%d)", uint8(k))
}

// Head is how the classifier reads the last feature map.
type Head uint8

// Heads.
const (
	// HeadGAP is GlobalAveragePool → Flatten → Gemm.
	HeadGAP Head = iota
	// HeadFlatten is MaxPool 2 (while the map is larger than 7×7) → Flatten → Gemm.
	HeadFlatten
	numHeads
)

var headNames = [numHeads]string{"gap", "flatten"}

// String returns the head's name.
func (h Head) String() string {
	if h < numHeads {
		return headNames[h]
	}
	return fmt.Sprintf("head(%d)", uint8(h))
}

// Skeleton is the structure of a prototype network that the generator's
// space is anchored on: a stem convolution, stages of blocks (each stage
// optionally halving the resolution with a 2×2 max pool first) and a head.
type Skeleton struct {
	Prototype  string       `json:"prototype"`
	Input      [3]int       `json:"input"` // C, H, W
	Classes    int          `json:"classes"`
	StemWidth  int          `json:"stem_width"`
	StemKernel int          `json:"stem_kernel"`
	Stages     []StageShape `json:"stages"`
	Head       Head         `json:"head"`
	// Adapted says how a model prototype made for other images or classes
	// was fitted to the data set (empty when it was not).
	Adapted string `json:"adapted,omitempty"`
	// Hidden, when not empty, adds a decision "head.hidden" over these
	// widths of a fully connected layer (Gemm → Relu) between the head's
	// pooling and the classifier; 0 is no such layer. LeNet-5 has two; on a
	// small MAC budget they buy capacity with parameters rather than MACs.
	// Skeletons without it (every run before the option) keep their
	// decisions.
	Hidden []int `json:"hidden,omitempty"`
}

// HiddenWidths are the options of the head.hidden decision that
// Config.HiddenLayer adds.
var HiddenWidths = []int{0, 32, 64, 128}

// StageShape is one stage of a prototype (or of a generated network).
type StageShape struct {
	Width     int       `json:"width"`
	Depth     int       `json:"depth"` // 0: the stage is absent
	Pool      bool      `json:"pool"`  // 2×2 max pool before the first block
	Block     BlockKind `json:"block"`
	Kernel    int       `json:"kernel"`
	Expansion int       `json:"expansion"` // inverted-residual expansion t
	Skip      bool      `json:"skip"`      // residual add around blocks whose input and output widths agree
}

// prototypes are the built-in anchors, by zoo name. Each states how the
// zoo network maps onto a Skeleton; the mapping keeps its widths, depths,
// kernel sizes, block types and downsampling points, and drops what the
// space cannot express (LeNet-5's hidden fully connected layers; strided
// convolutions become pools; every Conv gets a BatchNormalization, which
// folds away when deployed). A stage of depth 0 is absent from the
// prototype but the generator may grow it (the classic networks get one
// more downsampling stage this way).
var prototypes = []Skeleton{
	{Prototype: "lenet5", StemWidth: 6, StemKernel: 5, Head: HeadFlatten, Stages: []StageShape{
		{Width: 16, Depth: 1, Pool: true, Block: Standard, Kernel: 5, Expansion: 1},
		{Width: 32, Depth: 0, Pool: true, Block: Standard, Kernel: 3, Expansion: 1},
	}},
	{Prototype: "simplecnn", StemWidth: 32, StemKernel: 3, Head: HeadFlatten, Stages: []StageShape{
		{Width: 64, Depth: 1, Block: Standard, Kernel: 3, Expansion: 1},
		{Width: 128, Depth: 0, Pool: true, Block: Standard, Kernel: 3, Expansion: 1},
	}},
	{Prototype: "resnet20", StemWidth: 16, StemKernel: 3, Head: HeadGAP, Stages: []StageShape{
		{Width: 16, Depth: 3, Block: Standard, Kernel: 3, Expansion: 1, Skip: true},
		{Width: 32, Depth: 3, Pool: true, Block: Standard, Kernel: 3, Expansion: 1, Skip: true},
		{Width: 64, Depth: 3, Pool: true, Block: Standard, Kernel: 3, Expansion: 1, Skip: true},
	}},
	{Prototype: "mobilenetv2", StemWidth: 32, StemKernel: 3, Head: HeadGAP, Stages: []StageShape{
		{Width: 16, Depth: 1, Block: InvertedResidual, Kernel: 3, Expansion: 1},
		{Width: 24, Depth: 2, Block: InvertedResidual, Kernel: 3, Expansion: 6, Skip: true},
		{Width: 32, Depth: 3, Pool: true, Block: InvertedResidual, Kernel: 3, Expansion: 6, Skip: true},
		{Width: 64, Depth: 4, Pool: true, Block: InvertedResidual, Kernel: 3, Expansion: 6, Skip: true},
		{Width: 96, Depth: 3, Block: InvertedResidual, Kernel: 3, Expansion: 6, Skip: true},
		{Width: 160, Depth: 3, Pool: true, Block: InvertedResidual, Kernel: 3, Expansion: 6, Skip: true},
	}},
}

// Prototypes returns the names of the built-in prototypes.
func Prototypes() []string {
	var names []string
	for _, p := range prototypes {
		names = append(names, p.Prototype)
	}
	return names
}

// PrototypeSkeleton returns the skeleton of the built-in prototype called
// name for inputs of the given C, H, W and class count, or, when name is a
// path to a model (.onnx, .fir, or an existing file), the skeleton
// SkeletonFromGraph reads from that model, called by the file's base name.
// A model made for other images or another class count is adapted to
// these (see adaptSkeleton: an ImageNet model loses its first
// downsamplings on 28×28 images), and Skeleton.Adapted says how.
func PrototypeSkeleton(name string, input [3]int, classes int) (Skeleton, error) {
	for _, p := range prototypes {
		if p.Prototype == name {
			p.Stages = append([]StageShape(nil), p.Stages...)
			p.Input, p.Classes = input, classes
			return p, p.validate()
		}
	}
	if isModelPath(name) {
		return modelSkeleton(name, input, classes)
	}
	return Skeleton{}, fmt.Errorf("synth: unknown prototype %q (known: %s, or a path to an .onnx model)", name, strings.Join(Prototypes(), ", "))
}

// validate checks that s describes a buildable network.
func (s Skeleton) validate() error {
	if s.Input[0] < 1 || s.Input[1] < 1 || s.Input[2] < 1 || s.Classes < 1 {
		return fmt.Errorf("synth: skeleton %q: input %v with %d classes", s.Prototype, s.Input, s.Classes)
	}
	if s.StemWidth < 1 || s.StemKernel < 1 || len(s.Stages) == 0 {
		return fmt.Errorf("synth: skeleton %q: stem %d×k%d with %d stages", s.Prototype, s.StemWidth, s.StemKernel, len(s.Stages))
	}
	h := min(s.Input[1], s.Input[2])
	for i, st := range s.Stages {
		if st.Width < 1 || st.Depth < 0 || st.Kernel < 1 || st.Block >= numBlockKinds {
			return fmt.Errorf("synth: skeleton %q: stage %d is %+v", s.Prototype, i+1, st)
		}
		if st.Pool {
			h /= 2
		}
	}
	if h < 1 {
		return fmt.Errorf("synth: skeleton %q: input %v is too small for its pools", s.Prototype, s.Input)
	}
	for _, w := range s.Hidden {
		if w < 0 {
			return fmt.Errorf("synth: skeleton %q: hidden layer width %d", s.Prototype, w)
		}
	}
	return nil
}

// Decision is one categorical choice of the generator: its options and
// the logits of the softmax distribution over them, which are part of θ_G.
type Decision struct {
	Name    string    `json:"name"`             // "stem.width", "s2.block", ...
	Options []float64 `json:"options"`          // numeric values (block kinds and heads by index)
	Labels  []string  `json:"labels,omitempty"` // names of the options where they are not numbers
	Logits  []float64 `json:"logits"`
	Probs   []float64 `json:"probs"` // softmax of Logits, written for readers; ignored when read
}

// probs returns the softmax of the logits.
func (d *Decision) probs() []float64 {
	p := make([]float64, len(d.Logits))
	m := math.Inf(-1)
	for _, z := range d.Logits {
		m = max(m, z)
	}
	sum := 0.0
	for i, z := range d.Logits {
		p[i] = math.Exp(z - m)
		sum += p[i]
	}
	for i := range p {
		p[i] /= sum
	}
	return p
}

// sample draws an option index from u ∈ [0, 1).
func (d *Decision) sample(u float64) int {
	p := d.probs()
	for i, pi := range p {
		if u < pi {
			return i
		}
		u -= pi
	}
	return len(p) - 1
}

// mode returns the most probable option's index.
func (d *Decision) mode() int {
	best := 0
	for i, z := range d.Logits {
		if z > d.Logits[best] {
			best = i
		}
	}
	return best
}

// label returns the name of option i.
func (d *Decision) label(i int) string {
	if i < len(d.Labels) {
		return d.Labels[i]
	}
	return fmt.Sprint(d.Options[i])
}

// Space constants: the options every skeleton's decisions offer.
var (
	widthMults = []float64{0.5, 0.75, 1, 1.5, 2, 3}
	kernelOpts = []float64{3, 5}
	expandOpts = []float64{2, 4, 6}
)

// priorLogit is the logit the prototype's own choice starts with (the
// others start at 0), anchoring the space on the prototype.
const priorLogit = 1.0

// newDecision returns a decision over opts with the prototype's option
// (the one equal to proto) favoured.
func newDecision(name string, opts []float64, labels []string, proto float64) Decision {
	d := Decision{Name: name, Options: opts, Labels: labels, Logits: make([]float64, len(opts))}
	for i, o := range opts {
		if o == proto {
			d.Logits[i] = priorLogit
		}
	}
	return d
}

func indexOpts(n int) []float64 {
	o := make([]float64, n)
	for i := range o {
		o[i] = float64(i)
	}
	return o
}

// decisions returns the decisions of the space anchored on s, in the order
// Arch.Picks refers to them.
func (s Skeleton) decisions() []Decision {
	ds := []Decision{newDecision("stem.width", widthMults, nil, 1)}
	for i, st := range s.Stages {
		p := fmt.Sprintf("s%d.", i+1)
		var depths []float64
		lo := max(1, st.Depth-1)
		if st.Depth == 0 {
			lo = 0 // an optional stage
		}
		for d := lo; d <= max(st.Depth+2, 2); d++ {
			depths = append(depths, float64(d))
		}
		exp := float64(st.Expansion)
		if st.Block != InvertedResidual {
			exp = 4
		}
		skip := 0.0
		if st.Skip {
			skip = 1
		}
		ds = append(ds,
			newDecision(p+"depth", depths, nil, float64(st.Depth)),
			newDecision(p+"width", widthMults, nil, 1),
			newDecision(p+"block", indexOpts(int(numBlockKinds)), blockNames[:], float64(st.Block)),
			newDecision(p+"kernel", kernelOpts, nil, float64(st.Kernel)),
			newDecision(p+"expansion", expandOpts, nil, exp),
			newDecision(p+"skip", []float64{0, 1}, []string{"no", "yes"}, skip),
		)
	}
	ds = append(ds, newDecision("head", indexOpts(int(numHeads)), headNames[:], float64(s.Head)))
	if len(s.Hidden) > 0 {
		opts := make([]float64, len(s.Hidden))
		for i, w := range s.Hidden {
			opts[i] = float64(w)
		}
		ds = append(ds, newDecision("head.hidden", opts, nil, -1)) // no prior preference
	}
	return ds
}

// decisionsPerStage is how many decisions each stage has (see decisions).
const decisionsPerStage = 6

// Arch is one point of the space: a network's architecture, the genotype
// the generator samples before building the graph.
type Arch struct {
	Picks      []int        `json:"picks"` // option index per decision of the generator
	StemWidth  int          `json:"stem_width"`
	StemKernel int          `json:"stem_kernel"`
	Stages     []StageShape `json:"stages"`
	Head       Head         `json:"head"`
	Hidden     int          `json:"hidden,omitempty"` // width of the head's hidden fully connected layer (0: none)
}

// scaleWidth applies a width multiplier: the nearest even count, at least 4.
func scaleWidth(base int, mult float64) int {
	return max(4, 2*int(math.Round(float64(base)*mult/2)))
}

// decode turns option picks into an architecture on skeleton s.
func (s Skeleton) decode(ds []Decision, picks []int) Arch {
	opt := func(i int) float64 { return ds[i].Options[picks[i]] }
	a := Arch{Picks: append([]int(nil), picks...), StemKernel: s.StemKernel}
	a.StemWidth = scaleWidth(s.StemWidth, opt(0))
	for i, st := range s.Stages {
		j := 1 + i*decisionsPerStage
		a.Stages = append(a.Stages, StageShape{
			Depth:     int(opt(j)),
			Width:     scaleWidth(st.Width, opt(j+1)),
			Pool:      st.Pool,
			Block:     BlockKind(opt(j + 2)),
			Kernel:    int(opt(j + 3)),
			Expansion: int(opt(j + 4)),
			Skip:      opt(j+5) == 1,
		})
	}
	head := 1 + len(s.Stages)*decisionsPerStage
	a.Head = Head(opt(head))
	if len(s.Hidden) > 0 {
		a.Hidden = int(opt(head + 1))
	}
	return a
}

// String is a compact description of a: "stem8k5 / s1 pool 2×dwsep16 k3 skip / gap".
func (a Arch) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "stem%dk%d", a.StemWidth, a.StemKernel)
	for i, st := range a.Stages {
		if st.Depth == 0 {
			continue
		}
		fmt.Fprintf(&b, " / s%d ", i+1)
		if st.Pool {
			b.WriteString("pool ")
		}
		fmt.Fprintf(&b, "%d×%s%d k%d", st.Depth, st.Block, st.Width, st.Kernel)
		if st.Block == InvertedResidual {
			fmt.Fprintf(&b, " t%d", st.Expansion)
		}
		if st.Skip {
			b.WriteString(" skip")
		}
	}
	fmt.Fprintf(&b, " / %s", a.Head)
	if a.Hidden > 0 {
		fmt.Fprintf(&b, " fc%d", a.Hidden)
	}
	return b.String()
}
