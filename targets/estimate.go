package targets

import (
	"errors"
	"fmt"
	"math"
	"strings"

	"github.com/ferminets/fermi/ir"
)

// Kernel is one row of a Report: the nodes a target runs as one kernel and
// what the roofline model predicts for it.
type Kernel struct {
	Nodes     []string `json:"nodes"`
	Ops       string   `json:"ops"` // op types joined by "+", e.g. "Conv+BatchNormalization+Clip"
	Class     OpClass  `json:"class"`
	DType     string   `json:"dtype"` // compute dtype
	MACs      int64    `json:"macs"`
	FLOPs     int64    `json:"flops"` // arithmetic ops (FLOPs, or integer ops for integer kernels)
	Bytes     int64    `json:"bytes"` // memory traffic: inputs, weights and outputs
	Bound     string   `json:"bound"` // "compute" or "memory": which roofline term is larger
	LatencyMs float64  `json:"latency_ms"`
	EnergyMJ  float64  `json:"energy_mj"`
}

// MemoryFit is the fit check of one memory of the target.
type MemoryFit struct {
	Memory        string `json:"memory"`
	NeedBytes     int64  `json:"need_bytes"`
	CapacityBytes int64  `json:"capacity_bytes"`
	Fits          bool   `json:"fits"`
	Reason        string `json:"reason"`
}

// Report is the cost model's prediction for one graph on one target. Latency
// and energy are per inference at batch 1 (symbolic dims count as 1).
type Report struct {
	Target          string  `json:"target"`
	Runtime         string  `json:"runtime"`
	Graph           string  `json:"graph"`
	LatencyMs       float64 `json:"latency_ms"`
	EnergyMJ        float64 `json:"energy_mj"`
	PeakMemoryBytes int64   `json:"peak_memory_bytes"` // peak live activation buffers between kernels (fusion- and int8-aware); the fit checks use it
	// GraphPeakActivationBytes is ir.Analyze's node-by-node peak, which also
	// counts tensors that fused kernels never materialize (such as the float
	// outputs of dequantizes).
	GraphPeakActivationBytes int64       `json:"graph_peak_activation_bytes"`
	WeightBytes              int64       `json:"weight_bytes"` // as stored on the target (float32 as Target.FloatAs when set)
	MACs                     int64       `json:"macs"`
	FLOPs                    int64       `json:"flops"`
	Fits                     bool        `json:"fits"` // every memory holds what it must
	Memory                   []MemoryFit `json:"memory"`
	Unsupported              []string    `json:"unsupported"` // ops, dtypes and shapes the target cannot run, all of them
	Kernels                  []Kernel    `json:"kernels"`
	FreeNodes                []string    `json:"free_nodes"` // nodes that run without a kernel
}

// FitReason returns the reasons of the memories that do not fit, or of all
// memories when everything fits, joined by "; ".
func (r *Report) FitReason() string {
	var rs []string
	for _, m := range r.Memory {
		if !m.Fits || r.Fits {
			rs = append(rs, m.Reason)
		}
	}
	return strings.Join(rs, "; ")
}

// Estimate predicts latency, energy and memory of g on t. Nodes are grouped
// into kernels by t's fusion patterns (single-user chains only); each kernel
// costs max(ops / (peak(dtype) × efficiency(class)), bytes / bandwidth) plus
// the per-kernel overhead, and kernels add up (nn-Meter's additivity).
// Energy is power × time, or compute + data-movement energy when the profile
// gives per-op and per-byte energies. Peak activation memory is the liveness
// peak of the buffers between kernels; weight storage (and MACs, FLOPs and
// the node-level activation peak) come from ir.Analyze. Both are checked
// against t's memories. Ops,
// dtypes and dynamic shapes t cannot run are listed in Unsupported; they are
// not an error.
//
// A Target built in Go rather than loaded is validated (and prepared) on
// first use; see Target.Validate.
func Estimate(g *ir.Graph, t *Target) (*Report, error) {
	if g == nil {
		return nil, errors.New("targets: graph is nil")
	}
	if t == nil {
		return nil, errors.New("targets: target is nil")
	}
	if t.peak == nil {
		if err := t.Validate(); err != nil {
			return nil, err
		}
	}
	a, err := ir.Analyze(g)
	if err != nil {
		return nil, fmt.Errorf("targets: %w", err)
	}
	weights := a.WeightBytes
	if f32 := a.WeightBytesByDType[ir.Float32]; t.floatAs != ir.Undefined {
		weights += f32/int64(ir.Float32.Size())*int64(t.floatAs.Size()) - f32
	}
	r := &Report{
		Target: t.Name, Runtime: t.Runtime, Graph: g.Name,
		GraphPeakActivationBytes: a.PeakActivationBytes, WeightBytes: weights,
		MACs: a.MACs, FLOPs: a.FLOPs,
		Unsupported: []string{}, Kernels: []Kernel{}, FreeNodes: []string{},
	}
	pl := groupKernels(g, t)
	r.PeakMemoryBytes = pl.peakBytes
	for _, n := range pl.free {
		r.FreeNodes = append(r.FreeNodes, n.Name)
	}
	for _, k := range pl.kernels {
		row := t.cost(k)
		r.LatencyMs += row.LatencyMs
		r.EnergyMJ += row.EnergyMJ
		r.Kernels = append(r.Kernels, row)
	}
	r.Memory, r.Fits = t.fit(r.PeakMemoryBytes, r.WeightBytes)
	r.Unsupported = t.unsupported(g, pl)
	return r, nil
}

// cost applies the roofline model to one kernel.
func (t *Target) cost(k *kernel) Kernel {
	row := Kernel{Class: k.class, DType: k.dtype.String(), MACs: k.macs, FLOPs: k.flops, Bytes: k.bytes}
	ops := make([]string, len(k.nodes))
	for i, n := range k.nodes {
		row.Nodes = append(row.Nodes, n.Name)
		ops[i] = n.TypeName()
	}
	row.Ops = strings.Join(ops, "+")

	seconds, memBound := t.kernelSeconds(k)
	row.Bound = "compute"
	if memBound {
		row.Bound = "memory"
	}
	row.LatencyMs = seconds * 1e3

	if pj, ok := t.energyOp[k.dtype]; ok && t.EnergyPJPerByte != nil {
		row.EnergyMJ = (float64(k.flops)*pj + float64(k.bytes)*t.EnergyPJPerByte.Value) * 1e-9
	} else {
		row.EnergyMJ = t.PowerW.Value * row.LatencyMs // W × ms = mJ
	}
	return row
}

// kernelSeconds is the roofline latency of k in seconds, and whether the
// memory term is the larger one.
func (t *Target) kernelSeconds(k *kernel) (float64, bool) {
	peak, ok := t.Peak(k.dtype)
	if !ok {
		peak = t.slowestPeak() // an unsupported dtype is reported; cost it conservatively
	}
	flopScale, effScale := t.convShape(k)
	computeS := float64(k.flops) * flopScale / (peak * t.Efficiency[k.class].Value * effScale * 1e9)
	memoryS := float64(k.bytes) / (t.BandwidthGBs.Value * 1e9)
	serial := 0.0
	if k.weightGBs > 0 {
		memoryS = float64(k.bytes-k.weightBytes)/(t.BandwidthGBs.Value*1e9) + float64(k.weightBytes)/(k.weightGBs*1e9)
		if t.StreamSerial != nil {
			serial = t.StreamSerial.Value * math.Min(computeS, memoryS)
		}
	}
	return math.Max(computeS, memoryS) + serial + t.KernelOverheadUs.Value*1e-6, memoryS > computeS
}

// weightBandwidth returns the bandwidth weights stream at in a graph whose
// weights and peak activations take footprint bytes, or 0 when they stay
// cached (see WeightLevel).
func (t *Target) weightBandwidth(footprint int64) float64 {
	bw, above := 0.0, -1.0
	for _, l := range t.WeightLevels {
		if float64(footprint) > l.AboveBytes.Value && l.AboveBytes.Value > above {
			bw, above = l.BandwidthGBs.Value, l.AboveBytes.Value
		}
	}
	return bw
}

// convShape returns the factors ConvShape applies to a float convolution
// kernel: on its arithmetic (output channels padded to the block) and on its
// efficiency. Other kernels get 1, 1.
func (t *Target) convShape(k *kernel) (flopScale, effScale float64) {
	cs := t.ConvShape
	n := k.anchor
	if cs == nil || n.Op != ir.OpConv || k.dtype != ir.Float32 {
		return 1, 1
	}
	x, w := n.Input(0), n.Input(1)
	if x == nil || w == nil || len(x.Shape) < 2 || len(w.Shape) < 3 || !x.Shape[1].Static() || !w.Shape[0].Static() {
		return 1, 1
	}
	cin, cout := x.Shape[1].Size, w.Shape[0].Size
	groups := max(n.Int("group"), 1)
	depth := int64(1)
	for _, d := range w.Shape[1:] {
		if d.Static() {
			depth *= d.Size
		}
	}
	block := int64(cs.BlockChannels.Value)
	flopScale, effScale = 1, float64(depth)/(float64(depth)+cs.HalfDepth.Value)
	if y := n.Outputs[0]; cs.HalfWidth != nil && y != nil && len(y.Shape) == 4 && y.Shape[3].Static() {
		ow := float64(y.Shape[3].Size)
		effScale *= ow / (ow + cs.HalfWidth.Value)
	}
	switch {
	case k.class == ClassDepthwise:
		if block > 0 && cin%block != 0 {
			effScale *= cs.UnblockedDepthwise.Value
		}
	case groups == 1:
		if block > 0 && cin >= block && cin%block != 0 {
			effScale *= cs.UnblockedConv.Value
		} else if block > 0 && cout > 0 {
			flopScale = float64((cout+block-1)/block*block) / float64(cout)
		}
	default:
		if block > 0 && ((cin/groups)%block != 0 || (cout/groups)%block != 0) {
			effScale *= cs.UnblockedConv.Value
		}
	}
	return flopScale, effScale
}

func (t *Target) slowestPeak() float64 {
	lo := math.Inf(1)
	for _, p := range t.peak {
		lo = math.Min(lo, p)
	}
	return lo
}

// fit checks activations and weights against the memories holding them.
func (t *Target) fit(act, weights int64) ([]MemoryFit, bool) {
	var fits []MemoryFit
	all := true
	for _, m := range t.Memories {
		if len(m.Holds) == 0 {
			continue
		}
		var need int64
		var parts []string
		for _, h := range m.Holds {
			switch h {
			case holdsActivations:
				need += act
				parts = append(parts, "activations "+fmtBytes(act))
			case holdsWeights:
				need += weights
				parts = append(parts, "weights "+fmtBytes(weights))
			}
		}
		capacity := int64(m.Bytes.Value)
		f := MemoryFit{Memory: m.Name, NeedBytes: need, CapacityBytes: capacity, Fits: need <= capacity}
		what := strings.Join(parts, " + ")
		if len(parts) > 1 {
			what += " = " + fmtBytes(need)
		}
		if f.Fits {
			f.Reason = fmt.Sprintf("%s fit in %s %s (%.0f%% used)", what, m.Name, fmtBytes(capacity), 100*float64(need)/float64(capacity))
		} else {
			f.Reason = fmt.Sprintf("%s exceed %s %s by %s", what, m.Name, fmtBytes(capacity), fmtBytes(need-capacity))
			all = false
		}
		fits = append(fits, f)
	}
	return fits, all
}

// fmtBytes formats n exactly and in binary units: "602112 B (588.0 KiB)".
func fmtBytes(n int64) string {
	const k = 1024
	switch {
	case n >= k*k*k:
		return fmt.Sprintf("%d B (%.2f GiB)", n, float64(n)/(k*k*k))
	case n >= k*k:
		return fmt.Sprintf("%d B (%.2f MiB)", n, float64(n)/(k*k))
	case n >= k:
		return fmt.Sprintf("%d B (%.1f KiB)", n, float64(n)/k)
	}
	return fmt.Sprintf("%d B", n)
}

// unsupported lists, all at once, the ops, compute dtypes and dynamic shapes
// of g that t cannot run, grouped with up to three example node names each.
// Nodes a converter folds ahead of time (constant inputs, shape arithmetic)
// never reach the target and are not checked.
func (t *Target) unsupported(g *ir.Graph, pl *plan) []string {
	type group struct {
		key   string
		names []string
	}
	var groups []*group
	index := map[string]*group{}
	add := func(key, name string) {
		gr, ok := index[key]
		if !ok {
			gr = &group{key: key}
			index[key] = gr
			groups = append(groups, gr)
		}
		gr.names = append(gr.names, name)
	}
	for _, n := range g.Nodes {
		if !pl.folded[n] && n.Op != ir.OpConstant && !t.SupportsOp(n) {
			add("op "+n.TypeName(), n.Name)
		}
	}
	for _, k := range pl.kernels {
		if k.dtype != ir.Undefined && !t.SupportsDType(k.dtype) { // undefined: an opaque node's untyped output
			add("dtype "+k.dtype.String(), k.anchor.Name)
		}
	}
	out := []string{}
	for _, gr := range groups {
		unit := "node"
		if strings.HasPrefix(gr.key, "dtype ") {
			unit = "kernel"
		}
		if len(gr.names) != 1 {
			unit += "s"
		}
		ex := make([]string, 0, 3)
		for i, nm := range gr.names {
			if i == 3 {
				ex = append(ex, "…")
				break
			}
			ex = append(ex, fmt.Sprintf("%q", nm))
		}
		out = append(out, fmt.Sprintf("%s: %d %s (%s)", gr.key, len(gr.names), unit, strings.Join(ex, ", ")))
	}
	if t.Support.StaticShapes {
		for _, v := range g.Inputs {
			if !v.Shape.IsStatic() {
				out = append(out, fmt.Sprintf("dynamic shape: input %q is %s; %s needs static shapes", v.Name, v.Shape, t.Name))
			}
		}
	}
	return out
}

// UnsupportedError is the error CheckSupported returns: everything a target
// cannot run in a graph.
type UnsupportedError struct {
	Target string
	Graph  string
	Items  []string
}

// Error lists the items, one per line after the first.
func (e *UnsupportedError) Error() string {
	return fmt.Sprintf("targets: %s cannot run graph %q:\n  %s", e.Target, e.Graph, strings.Join(e.Items, "\n  "))
}

// CheckSupported returns an *UnsupportedError when the report lists anything
// the target cannot run (for a strict mode), or nil.
func (r *Report) CheckSupported() error {
	if len(r.Unsupported) == 0 {
		return nil
	}
	return &UnsupportedError{Target: r.Target, Graph: r.Graph, Items: r.Unsupported}
}
