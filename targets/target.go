package targets

import (
	"bytes"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path"
	"regexp"
	"sort"
	"strings"

	"github.com/ferminets/fermi/ir"
)

// Figure is one number in a profile together with where it comes from: a
// datasheet, paper or benchmark page, or "fitted: …" / "estimate: …" with the
// reasoning. A figure without a source does not validate.
type Figure struct {
	Value  float64 `json:"value"`
	Source string  `json:"source"`
}

// OpClass groups ops whose kernels have similar efficiency on a target. Each
// profile gives one efficiency per class.
type OpClass string

// The op classes. Every profile lists an efficiency for each of them.
const (
	ClassConv        OpClass = "conv"        // dense and grouped convolutions, ConvTranspose
	ClassDepthwise   OpClass = "depthwise"   // convolutions with one group per input channel
	ClassGemm        OpClass = "gemm"        // Gemm, MatMul
	ClassElementwise OpClass = "elementwise" // activations, arithmetic, BatchNorm, Softmax, Q/DQ, Cast
	ClassPool        OpClass = "pool"        // max/average/global pools, ReduceMean
	ClassData        OpClass = "data"        // data movement: Concat, Split, Slice, Transpose, Gather, Pad, Resize
)

// Classes lists every op class in report order.
var Classes = []OpClass{ClassConv, ClassDepthwise, ClassGemm, ClassElementwise, ClassPool, ClassData}

// Memory is one memory of a target and what the cost model places in it.
// Holds names "activations" and/or "weights"; a memory holding neither is
// informational (a cache).
type Memory struct {
	Name  string   `json:"name"`
	Bytes Figure   `json:"bytes"`
	Holds []string `json:"holds"`
}

// Fusion is one pattern of ops that the target's runtime executes as a single
// kernel. Pattern is a chain of steps, each step one or more ONNX op types
// separated by "|", optionally ending in "?" when the step may be absent:
// ["Conv", "BatchNormalization?", "Relu|Clip?"]. The first step is required.
type Fusion struct {
	Pattern []string `json:"pattern"`
	Source  string   `json:"source"`

	steps []fusionStep
}

type fusionStep struct {
	ops      map[ir.Op]bool
	optional bool
}

// WeightLevel is one level of the memory hierarchy that weights stream
// from. When a graph's weights and peak activations together exceed
// AboveBytes, repeated inferences cannot keep the weights in the faster
// levels: every kernel reads its weights at BandwidthGBs (the target's
// BandwidthGBs then covers activations only). Of several levels, the one
// with the largest AboveBytes below the graph's footprint applies.
type WeightLevel struct {
	AboveBytes   Figure `json:"above_bytes"`
	BandwidthGBs Figure `json:"bandwidth_gbs"`
}

// ConvShape describes how a runtime's float convolution speed depends on the
// kernel's geometry, for runtimes with a channel-blocked convolution layout
// (ONNX Runtime's NCHWc on x86). A convolution's efficiency is its class
// figure times depth/(depth + HalfDepth), depth being the reduction length
// C_in/group × kernel area, times UnblockedConv or UnblockedDepthwise when
// the blocked kernels cannot take it; a blocked dense convolution computes
// its output channels rounded up to BlockChannels.
//
// Blocked, as ONNX Runtime's NCHWc transformer decides: a dense convolution
// whose C_in is below BlockChannels or a multiple of it; a depthwise one
// whose channels are a multiple; a grouped one whose per-group input and
// output channels are multiples.
type ConvShape struct {
	BlockChannels      Figure `json:"block_channels"`
	UnblockedConv      Figure `json:"unblocked_conv"`
	UnblockedDepthwise Figure `json:"unblocked_depthwise"`
	HalfDepth          Figure `json:"half_depth"`
	// HalfWidth, when set, is the output width at which efficiency halves:
	// the factor ow/(ow + HalfWidth) covers the per-row setup of kernels
	// that vectorize along the output row.
	HalfWidth *Figure `json:"half_width,omitempty"`
}

// Precision names a dtype a runtime substitutes, with the reason.
type Precision struct {
	DType  string `json:"dtype"`
	Source string `json:"source"`
}

// Support says what a target can run: compute dtypes (.fir spellings such as
// "f32", "i8"), ONNX op types (or the single entry "*" for every op), and
// whether every dim must be static.
type Support struct {
	DTypes       []string `json:"dtypes"`
	Ops          []string `json:"ops"`
	StaticShapes bool     `json:"static_shapes"`
	// RuntimeShapeOps is set when the runtime executes shape arithmetic on
	// dynamic shapes (Shape, Gather, Concat, ... of int64 shape tensors) as
	// kernels at every run instead of resolving it ahead of time; each such
	// node then costs a kernel overhead.
	RuntimeShapeOps bool   `json:"runtime_shape_ops,omitempty"`
	Source          string `json:"source"`
}

// Target is a hardware profile: the figures the cost model needs, each with
// its source. Profiles are data (targets/profiles/*.json); see Builtin,
// Lookup and LoadFile.
type Target struct {
	Name        string `json:"name"`
	Description string `json:"description"`
	// Runtime names the software stack the figures model ("TFLite 2018, 1 thread").
	Runtime string `json:"runtime"`
	// PeakGOPS is peak arithmetic throughput per compute dtype, keyed by the
	// dtype's .fir spelling: GFLOP/s for floats, GOP/s for integers (a MAC is 2).
	PeakGOPS map[string]Figure `json:"peak_gops"`
	// BandwidthGBs is the sustained memory bandwidth a kernel sees, GB/s.
	BandwidthGBs Figure `json:"bandwidth_gbs"`
	// Memories are the on-chip and off-chip memories; the fit checks use
	// those that hold activations or weights.
	Memories []Memory `json:"memories"`
	// Efficiency is the fraction of peak a kernel of each class achieves (0, 1].
	Efficiency map[OpClass]Figure `json:"efficiency"`
	// KernelOverheadUs is the fixed cost of launching one kernel, µs.
	KernelOverheadUs Figure `json:"kernel_overhead_us"`
	// WeightLevels, when set, are the slower memory levels that the weights
	// of graphs too large for the caches stream from (see WeightLevel).
	WeightLevels []WeightLevel `json:"weight_levels,omitempty"`
	// StreamSerial, when set, is the fraction of the shorter of a kernel's
	// compute and memory times that does not overlap the longer one when
	// its weights stream from a WeightLevel: latency = max(c, m) + f·min(c, m)
	// (0 is the roofline, 1 the sum).
	StreamSerial *Figure `json:"stream_serial,omitempty"`
	// ConvShape, when set, refines the float conv and depthwise efficiencies
	// by kernel geometry (see ConvShape).
	ConvShape *ConvShape `json:"conv_shape,omitempty"`
	// Fusions are the op chains that run as one kernel.
	Fusions []Fusion `json:"fusions"`
	// Support lists the dtypes and ops the target runs.
	Support Support `json:"support"`
	// PowerW is the average power drawn while running inference, W; energy is
	// power × time unless per-op and per-byte energies are given.
	PowerW Figure `json:"power_w"`
	// EnergyPJPerOp is the energy of one arithmetic op per compute dtype, pJ
	// (optional; used with EnergyPJPerByte instead of PowerW).
	EnergyPJPerOp map[string]Figure `json:"energy_pj_per_op,omitempty"`
	// EnergyPJPerByte is the energy of moving one byte to or from memory, pJ (optional).
	EnergyPJPerByte *Figure `json:"energy_pj_per_byte,omitempty"`
	// FloatAs, when set, is the precision the runtime computes and stores
	// float32 tensors in (TensorRT's fp16 mode): float32 kernels run at its
	// peak and move its bytes, and float32 weights are stored in it.
	FloatAs *Precision `json:"float_as,omitempty"`
	// Passes is the default pass pipeline for this target, by pass name.
	Passes []string `json:"passes"`

	// File is where the profile was loaded from ("profiles/pixel1.json" for
	// built-in ones).
	File string `json:"-"`

	floatAs  ir.DType // Undefined: float32 stays float32
	peak     map[ir.DType]float64
	energyOp map[ir.DType]float64
	dtypes   map[ir.DType]bool
	ops      map[string]bool // ONNX op types (TypeName); nil means every op
}

//go:embed profiles/*.json
var profileFS embed.FS

// Builtin returns the built-in profiles, one per file in the embedded
// profiles directory, sorted by name. Each call returns fresh copies. The
// embedded files are validated by the package tests; an invalid one is a
// build defect and panics.
func Builtin() []*Target {
	entries, err := profileFS.ReadDir("profiles")
	if err != nil {
		panic("targets: embedded profiles: " + err.Error())
	}
	var ts []*Target
	for _, e := range entries {
		if e.IsDir() || path.Ext(e.Name()) != ".json" {
			continue
		}
		t, err := loadEmbedded(e.Name())
		if err != nil {
			panic(err.Error())
		}
		ts = append(ts, t)
	}
	sort.Slice(ts, func(i, j int) bool { return ts[i].Name < ts[j].Name })
	return ts
}

func loadEmbedded(file string) (*Target, error) {
	name := "profiles/" + file
	data, err := profileFS.ReadFile(name)
	if err != nil {
		return nil, fmt.Errorf("targets: %s: %w", name, err)
	}
	t, err := Parse(data, name)
	if err != nil {
		return nil, err
	}
	if want := strings.TrimSuffix(file, ".json"); t.Name != want {
		return nil, fmt.Errorf("targets: %s: name %q does not match the file name %q", name, t.Name, want)
	}
	return t, nil
}

// Names returns the names of the built-in profiles, sorted.
func Names() []string {
	var names []string
	for _, t := range Builtin() {
		names = append(names, t.Name)
	}
	return names
}

// Lookup returns the built-in profile called name.
func Lookup(name string) (*Target, error) {
	file := name + ".json"
	if name == "" || strings.ContainsAny(name, "/\\") {
		return nil, fmt.Errorf("targets: unknown target %q (known: %s)", name, strings.Join(Names(), ", "))
	}
	if _, err := profileFS.Open("profiles/" + file); err != nil {
		return nil, fmt.Errorf("targets: unknown target %q (known: %s)", name, strings.Join(Names(), ", "))
	}
	return loadEmbedded(file)
}

// LoadFile reads, decodes and validates the profile in the JSON file at path.
func LoadFile(path string) (*Target, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("targets: %w", err)
	}
	return Parse(data, path)
}

// Parse decodes and validates a profile. Unknown fields, trailing data and
// every invalid or unsourced figure are errors; file names the source in
// error messages.
func Parse(data []byte, file string) (*Target, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	t := new(Target)
	if err := dec.Decode(t); err != nil {
		return nil, fmt.Errorf("targets: %s: %w", file, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("targets: %s: trailing data after the profile object", file)
	}
	t.File = file
	if err := t.Validate(); err != nil {
		return nil, err
	}
	return t, nil
}

// ValidationError lists every problem found in one profile.
type ValidationError struct {
	File     string
	Problems []string
}

// Error returns one line per problem, each prefixed with the file.
func (e *ValidationError) Error() string {
	var b strings.Builder
	for i, p := range e.Problems {
		if i > 0 {
			b.WriteByte('\n')
		}
		fmt.Fprintf(&b, "targets: %s: %s", e.File, p)
	}
	return b.String()
}

var passName = regexp.MustCompile(`^[a-z][a-z0-9]*(-[a-z0-9]+)*$`)

// Memory roles.
const (
	holdsActivations = "activations"
	holdsWeights     = "weights"
)

// Validate checks every figure of t (positive, sourced, efficiencies at most
// 1, every class and memory role covered, known dtypes, ops and pass names)
// and prepares the lookup tables Estimate uses. Loading validates; call it
// again after changing a Target's peaks, support, fusions or precision (a
// calibration that edits efficiencies, overhead, bandwidth or power need not).
// It returns a *ValidationError listing every problem.
func (t *Target) Validate() error {
	var probs []string
	bad := func(format string, args ...any) { probs = append(probs, fmt.Sprintf(format, args...)) }
	fig := func(what string, f Figure, max float64) {
		switch {
		case math.IsNaN(f.Value) || math.IsInf(f.Value, 0) || f.Value <= 0:
			bad("%s: value %v is not a positive number", what, f.Value)
		case max > 0 && f.Value > max:
			bad("%s: value %v is above %v", what, f.Value, max)
		}
		if strings.TrimSpace(f.Source) == "" {
			bad("%s: no source", what)
		}
	}
	dtypeMap := func(what string, m map[string]Figure) map[ir.DType]float64 {
		out := make(map[ir.DType]float64)
		for _, k := range sortedKeys(m) {
			dt, ok := ir.ParseDType(k)
			if !ok {
				bad("%s: unknown dtype %q", what, k)
				continue
			}
			fig(what+"."+k, m[k], 0)
			out[dt] = m[k].Value
		}
		return out
	}

	if t.Name == "" {
		bad("name is empty")
	}
	if strings.TrimSpace(t.Runtime) == "" {
		bad("runtime is empty")
	}
	if len(t.PeakGOPS) == 0 {
		bad("peak_gops lists no dtype")
	}
	t.peak = dtypeMap("peak_gops", t.PeakGOPS)
	fig("bandwidth_gbs", t.BandwidthGBs, 0)
	fig("kernel_overhead_us", t.KernelOverheadUs, 0)
	fig("power_w", t.PowerW, 0)

	for _, c := range Classes {
		f, ok := t.Efficiency[c]
		if !ok {
			bad("efficiency: no figure for class %q", c)
			continue
		}
		fig("efficiency."+string(c), f, 1)
	}
	if t.StreamSerial != nil {
		fig("stream_serial", *t.StreamSerial, 1)
	}
	for i, l := range t.WeightLevels {
		fig(fmt.Sprintf("weight_levels[%d].above_bytes", i), l.AboveBytes, 0)
		fig(fmt.Sprintf("weight_levels[%d].bandwidth_gbs", i), l.BandwidthGBs, 0)
	}
	if cs := t.ConvShape; cs != nil {
		fig("conv_shape.block_channels", cs.BlockChannels, 0)
		fig("conv_shape.unblocked_conv", cs.UnblockedConv, 1)
		fig("conv_shape.unblocked_depthwise", cs.UnblockedDepthwise, 1)
		fig("conv_shape.half_depth", cs.HalfDepth, 0)
		if cs.HalfWidth != nil {
			fig("conv_shape.half_width", *cs.HalfWidth, 0)
		}
	}
	for c := range t.Efficiency {
		if !isClass(c) {
			bad("efficiency: unknown class %q (known: %s)", c, classList())
		}
	}

	held := map[string]bool{}
	if len(t.Memories) == 0 {
		bad("memories: none listed")
	}
	for i, m := range t.Memories {
		what := fmt.Sprintf("memories[%d]", i)
		if m.Name == "" {
			bad("%s: name is empty", what)
		} else {
			what = fmt.Sprintf("memories[%d] (%s)", i, m.Name)
		}
		fig(what+".bytes", m.Bytes, 0)
		for _, h := range m.Holds {
			if h != holdsActivations && h != holdsWeights {
				bad("%s: holds %q, want %q or %q", what, h, holdsActivations, holdsWeights)
			}
			held[h] = true
		}
	}
	for _, h := range []string{holdsActivations, holdsWeights} {
		if len(t.Memories) > 0 && !held[h] {
			bad("memories: no memory holds %s", h)
		}
	}

	for i := range t.Fusions {
		f := &t.Fusions[i]
		what := fmt.Sprintf("fusions[%d] %v", i, f.Pattern)
		if strings.TrimSpace(f.Source) == "" {
			bad("%s: no source", what)
		}
		steps, err := parsePattern(f.Pattern)
		if err != nil {
			bad("%s: %v", what, err)
		}
		f.steps = steps
	}

	s := &t.Support
	if strings.TrimSpace(s.Source) == "" {
		bad("support: no source")
	}
	t.dtypes = make(map[ir.DType]bool)
	if len(s.DTypes) == 0 {
		bad("support.dtypes is empty")
	}
	for _, d := range s.DTypes {
		dt, ok := ir.ParseDType(d)
		if !ok {
			bad("support.dtypes: unknown dtype %q", d)
			continue
		}
		t.dtypes[dt] = true
		if _, ok := t.Peak(dt); !ok && len(t.peak) > 0 {
			bad("support.dtypes: %s has no peak_gops figure", d)
		}
	}
	switch {
	case len(s.Ops) == 1 && s.Ops[0] == "*":
		t.ops = nil
	case len(s.Ops) == 0:
		bad(`support.ops is empty (use ["*"] for every op)`)
	default:
		t.ops = make(map[string]bool)
		for _, o := range s.Ops {
			if _, ok := ir.LookupOp(o); !ok && !strings.Contains(o, ".") {
				bad("support.ops: unknown op %q (core ONNX op types, or domain.Type for others)", o)
			}
			t.ops[o] = true
		}
	}

	t.energyOp = dtypeMap("energy_pj_per_op", t.EnergyPJPerOp)
	if t.EnergyPJPerByte != nil {
		fig("energy_pj_per_byte", *t.EnergyPJPerByte, 0)
	}
	if (len(t.EnergyPJPerOp) > 0) != (t.EnergyPJPerByte != nil) {
		bad("energy_pj_per_op and energy_pj_per_byte must be given together")
	}

	t.floatAs = ir.Undefined
	if f := t.FloatAs; f != nil {
		dt, ok := ir.ParseDType(f.DType)
		switch {
		case !ok || !dt.IsFloat():
			bad("float_as: %q is not a float dtype", f.DType)
		case !t.dtypes[dt]:
			bad("float_as: %s is not in support.dtypes", f.DType)
		default:
			t.floatAs = dt
		}
		if strings.TrimSpace(f.Source) == "" {
			bad("float_as: no source")
		}
	}

	if len(t.Passes) == 0 {
		bad("passes: empty pipeline")
	}
	for _, p := range t.Passes {
		if !passName.MatchString(p) {
			bad("passes: %q is not a kebab-case pass name", p)
		}
	}
	if len(probs) > 0 {
		return &ValidationError{File: t.File, Problems: probs}
	}
	return nil
}

// parsePattern turns ["Conv", "BatchNormalization?", "Relu|Clip?"] into steps.
func parsePattern(pat []string) ([]fusionStep, error) {
	if len(pat) < 2 {
		return nil, errors.New("a pattern needs at least two steps")
	}
	var steps []fusionStep
	for i, s := range pat {
		st := fusionStep{ops: make(map[ir.Op]bool)}
		if strings.HasSuffix(s, "?") {
			st.optional = true
			s = strings.TrimSuffix(s, "?")
		}
		if i == 0 && st.optional {
			return nil, errors.New("the first step cannot be optional")
		}
		for _, name := range strings.Split(s, "|") {
			op, ok := ir.LookupOp(name)
			if !ok {
				return nil, fmt.Errorf("unknown op %q", name)
			}
			st.ops[op] = true
		}
		steps = append(steps, st)
	}
	return steps, nil
}

func isClass(c OpClass) bool {
	for _, k := range Classes {
		if k == c {
			return true
		}
	}
	return false
}

func classList() string {
	s := make([]string, len(Classes))
	for i, c := range Classes {
		s[i] = string(c)
	}
	return strings.Join(s, ", ")
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// Peak returns the peak throughput for compute dtype dt in GOP/s, and
// whether the profile lists dt. Unsigned 8-bit falls back to the int8 figure.
func (t *Target) Peak(dt ir.DType) (float64, bool) {
	if p, ok := t.peak[dt]; ok {
		return p, true
	}
	if dt == ir.Uint8 {
		p, ok := t.peak[ir.Int8]
		return p, ok
	}
	return 0, false
}

// storedAs is the dtype the target keeps a dt tensor in.
func (t *Target) storedAs(dt ir.DType) ir.DType {
	if dt == ir.Float32 && t.floatAs != ir.Undefined {
		return t.floatAs
	}
	return dt
}

// SupportsDType reports whether the target computes in dt.
func (t *Target) SupportsDType(dt ir.DType) bool {
	return t.dtypes[dt]
}

// SupportsOp reports whether the target runs n's operator.
func (t *Target) SupportsOp(n *ir.Node) bool {
	return t.ops == nil || t.ops[n.TypeName()]
}
