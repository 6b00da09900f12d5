package passes

import (
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/ferminets/fermi/ir"
)

// pass is one row of the pass table: a named graph transformation.
type pass struct {
	name string
	// fn rewrites c.g in place and sets c.changed when it changed anything.
	fn func(c *ctx) error
	// args parses the pass's options (the part in braces) into the typed
	// value fn reads from c.args; nil means the pass takes no options.
	args func(opts []option) (any, error)
	// preserves is set for passes that keep the graph's outputs the same
	// for every input (within floating-point rounding); CheckEquivalence
	// applies only to pipelines made of them.
	preserves bool
	// tol, for a pass that changes the outputs by a bounded relative
	// error (fp16), is the error CheckEquivalence allows by default after
	// it (Pipeline.Tolerance); 0 means unbounded (prune, quantize).
	tol float64
	doc string
}

// passes is the table of every pass, in the order a pipeline that names
// several of them should run them (checked against passOrder).
var passes = [...]pass{
	{name: "freeze-shapes", fn: freezeShapes, args: freezeArgs, preserves: true, doc: "bind dynamic input dims to static sizes: freeze-shapes{input=1,3,224,224}"},
	{name: "canonicalize", fn: canonicalize, preserves: true, doc: "remove Identity, inference Dropout, no-op Transpose/Reshape/Cast/Pad/Concat; merge Reshape chains"},
	{name: "const-fold", fn: constFold, preserves: true, doc: "evaluate nodes with constant inputs (and Shape/Gather chains on static dims) into parameters"},
	{name: "reshape-batch", fn: reshapeBatch, preserves: true, doc: "rewrite Reshape shapes computed from the input's own dims to constant 0/-1 forms"},
	{name: "fold-pad", fn: foldPad, preserves: true, doc: "fold constant zero Pad into the pads of Conv and AveragePool"},
	{name: "prune", fn: prune, args: pruneArgs, doc: "remove whole channels by importance: prune{macs=0.5,criterion=l1} (ratio=, macs= or params=; l1, l2 or bn)"},
	{name: "fold-bn", fn: foldBN, preserves: true, doc: "fold BatchNormalization after Conv/Gemm into the weights and bias"},
	{name: "matmul-add-to-gemm", fn: matmulAddToGemm, preserves: true, doc: "rewrite 2-D MatMul + Add as Gemm"},
	{name: "quantize", fn: quantize, args: quantizeArgs, doc: "static int8 QDQ: per-channel weights, per-tensor activations: quantize{calib=fashion-mnist,samples=256,method=minmax}"},
	{name: "cse", fn: cse, preserves: true, doc: "merge identical nodes and identical parameters"},
	{name: "dce", fn: dce, preserves: true, doc: "remove nodes, outputs and parameters nothing uses"},
	{name: "simplify", fn: simplify, preserves: true, doc: "canonicalize, const-fold, reshape-batch, cse and dce to a fixed point"},
	{name: "fp16", fn: fp16, args: fp16Args, tol: FP16Tol, doc: "float32 compute to float16, float32 inputs/outputs with Casts at the boundary: fp16{io=fp32|fp16,keep=Resize|Softmax}"},
	{name: "fuse-contrib", fn: fuseContrib, preserves: true, doc: "rewrite Conv fusion groups into ONNX Runtime's com.microsoft FusedConv (--onnx-contrib; runs only in ONNX Runtime)"},
	{name: "fuse", fn: fuse, preserves: true, doc: "group Conv/Gemm + residual Add + activation into kernels (analysis; ONNX stays standard)"},
}

// passOrder lists pairs of passes that must run in this order when a
// pipeline contains both, with the reason. TestPassOrder checks it against
// the table and DefaultPipeline.
var passOrder = [...]struct{ a, b, why string }{
	{"freeze-shapes", "const-fold", "freezing makes Shape results static, which const-fold then evaluates"},
	{"freeze-shapes", "simplify", "simplification must see the frozen static shapes"},
	{"canonicalize", "const-fold", "removing Identity/Cast exposes Shape→Gather chains to folding"},
	{"const-fold", "reshape-batch", "reshape-batch reads folded static dims; only the batch dim may stay symbolic"},
	{"reshape-batch", "dce", "the Shape/Gather/Concat chains reshape-batch orphans are left for dce"},
	{"const-fold", "fold-bn", "BatchNormalization parameters held in Constant nodes must be folded into parameters first"},
	{"fold-pad", "fuse", "a Conv reading its producer directly, not through a Pad, is the form fusion groups are costed in"},
	{"fold-bn", "fuse", "a Conv followed by BatchNormalization only forms a Conv+activation kernel once the BatchNormalization is gone"},
	{"matmul-add-to-gemm", "fuse", "Gemm, not MatMul+Add, anchors fusion groups"},
	{"fold-bn", "fuse-contrib", "a Conv followed by BatchNormalization only fuses with its activation once the BatchNormalization is gone"},
	{"quantize", "fuse-contrib", "FusedConv has no QDQ form; quantize must see standard Conv nodes"},
	{"fold-bn", "dce", "fold-bn leaves the old weights unused for dce"},
	{"const-fold", "prune", "prune reads static channel counts and constant weights"},
	{"prune", "fold-bn", "criterion=bn reads the BatchNormalization scales that fold-bn removes"},
	{"prune", "dce", "prune leaves the unpruned weights unused for dce"},
	{"fold-bn", "quantize", "BatchNormalization must be folded into the weights before they are quantized"},
	{"prune", "quantize", "pruning slices float weights; quantized ones are int8 behind DequantizeLinear"},
	{"quantize", "dce", "quantize leaves the float weights unused for dce"},
	{"const-fold", "fp16", "constant subgraphs fold in float32 before their results round to float16"},
	{"fold-bn", "fp16", "BatchNormalization folds into the weights in float32, which then round to float16 once"},
	{"fp16", "fuse-contrib", "fp16 converts standard Conv/Gemm nodes; com.microsoft FusedConv/FusedGemm are opaque to it and would stay float32 behind Casts (ONNX Runtime 1.30 runs them in float16)"},
}

// DefaultPipeline is the pipeline of the host target: semantics-preserving
// passes only.
var DefaultPipeline = []string{"simplify", "fold-pad", "fold-bn", "matmul-add-to-gemm", "simplify", "fuse"}

func lookup(name string) *pass {
	for i := range passes {
		if passes[i].name == name {
			return &passes[i]
		}
	}
	return nil
}

// Names returns the names of every pass, in table order.
func Names() []string {
	out := make([]string, len(passes))
	for i := range passes {
		out[i] = passes[i].name
	}
	return out
}

// Doc returns the one-line description of the pass called name, or "".
func Doc(name string) string {
	if p := lookup(name); p != nil {
		return p.doc
	}
	return ""
}

// Step is one pass of a pipeline with its parsed options.
type Step struct {
	Name string
	Args any // the pass's typed options (e.g. FreezeArgs), nil when it has none
	p    *pass
}

// Pipeline is a list of passes to run in order. The empty pipeline ("none")
// runs nothing.
type Pipeline []Step

// String returns the pipeline in the syntax Parse reads.
func (p Pipeline) String() string {
	if len(p) == 0 {
		return "none"
	}
	parts := make([]string, len(p))
	for i, s := range p {
		parts[i] = s.Name
		if a, ok := s.Args.(fmt.Stringer); ok {
			if t := a.String(); t != "" {
				parts[i] += "{" + t + "}"
			}
		}
	}
	return strings.Join(parts, ",")
}

// PreservesSemantics reports whether every pass of p keeps the outputs the
// same (so that CheckEquivalence applies).
func (p Pipeline) PreservesSemantics() bool {
	for _, s := range p {
		if s.p == nil || !s.p.preserves {
			return false
		}
	}
	return true
}

// Tolerance returns the relative error CheckEquivalence should allow after
// p: DefaultTol for semantics-preserving pipelines, the largest tolerance
// of its lossy-but-bounded passes (fp16) otherwise, and ok false when p
// contains a pass whose error has no bound (prune, quantize).
func (p Pipeline) Tolerance() (tol float64, ok bool) {
	tol = DefaultTol
	for _, s := range p {
		switch {
		case s.p == nil:
			return 0, false
		case s.p.tol > 0:
			tol = max(tol, s.p.tol)
		case !s.p.preserves:
			return 0, false
		}
	}
	return tol, true
}

// option is one key=value of a pass's options.
type option struct{ key, value string }

// Parse reads a pipeline: pass names separated by commas, each optionally
// followed by options in braces, for example
//
//	canonicalize,freeze-shapes{input=1,3,224,224},fold-bn,dce
//
// Inside braces, options are key=value separated by commas; a comma
// followed by text without "=" continues the previous value (so list
// values need no quoting). "none" (or the empty string) is the empty
// pipeline. Unknown passes and options are errors naming them.
func Parse(pipeline string) (Pipeline, error) {
	s := strings.TrimSpace(pipeline)
	if s == "" || s == "none" {
		return Pipeline{}, nil
	}
	var p Pipeline
	for len(s) > 0 {
		i := strings.IndexAny(s, ",{")
		name := s
		var body string
		hasBody := false
		if i < 0 {
			s = ""
		} else {
			name = s[:i]
			if s[i] == '{' {
				j := strings.IndexByte(s[i:], '}')
				if j < 0 {
					return nil, fmt.Errorf("passes: pipeline %q: unclosed '{' after %q", pipeline, name)
				}
				body, hasBody = s[i+1:i+j], true
				s = s[i+j+1:]
				if s != "" && s[0] != ',' {
					return nil, fmt.Errorf("passes: pipeline %q: want ',' after options of %q", pipeline, name)
				}
			} else {
				s = s[i:]
			}
			s = strings.TrimPrefix(s, ",")
		}
		name = strings.TrimSpace(name)
		if name == "" {
			return nil, fmt.Errorf("passes: pipeline %q: empty pass name", pipeline)
		}
		if name == "none" {
			return nil, fmt.Errorf("passes: pipeline %q: \"none\" must stand alone", pipeline)
		}
		opts, err := splitOptions(body)
		if err != nil {
			return nil, fmt.Errorf("passes: pipeline %q: pass %q: %v", pipeline, name, err)
		}
		st, err := newStep(name, opts, hasBody)
		if err != nil {
			return nil, err
		}
		p = append(p, st)
	}
	return p, nil
}

// newStep returns the step running pass name with options opts.
func newStep(name string, opts []option, hasBody bool) (Step, error) {
	ps := lookup(name)
	if ps == nil {
		return Step{}, fmt.Errorf("passes: unknown pass %q (passes: %s)", name, strings.Join(Names(), ", "))
	}
	st := Step{Name: name, p: ps}
	if ps.args == nil {
		if hasBody && len(opts) > 0 {
			return Step{}, fmt.Errorf("passes: pass %q: unknown option %q (the pass takes no options)", name, opts[0].key)
		}
		return st, nil
	}
	a, err := ps.args(opts)
	if err != nil {
		return Step{}, fmt.Errorf("passes: pass %q: %v", name, err)
	}
	st.Args = a
	return st, nil
}

func splitOptions(body string) ([]option, error) {
	body = strings.TrimSpace(body)
	if body == "" {
		return nil, nil
	}
	var opts []option
	for _, part := range strings.Split(body, ",") {
		k, v, ok := strings.Cut(part, "=")
		if !ok {
			if len(opts) == 0 {
				return nil, fmt.Errorf("option %q: want key=value", part)
			}
			opts[len(opts)-1].value += "," + part
			continue
		}
		k = strings.TrimSpace(k)
		if k == "" {
			return nil, fmt.Errorf("option %q: empty key", part)
		}
		for _, o := range opts {
			if o.key == k {
				return nil, fmt.Errorf("option %q given twice", k)
			}
		}
		opts = append(opts, option{k, strings.TrimSpace(v)})
	}
	return opts, nil
}

// FromNames builds a pipeline from a list of pass names, each optionally
// with options in braces (the form target profiles store).
func FromNames(names []string) (Pipeline, error) {
	var p Pipeline
	for _, n := range names {
		if strings.TrimSpace(n) == "none" {
			continue
		}
		q, err := Parse(n)
		if err != nil {
			return nil, err
		}
		if len(q) != 1 {
			return nil, fmt.Errorf("passes: %q is not a single pass", n)
		}
		p = append(p, q[0])
	}
	return p, nil
}

// Default returns DefaultPipeline parsed.
func Default() Pipeline {
	p, err := FromNames(DefaultPipeline)
	if err != nil {
		panic("passes: DefaultPipeline: " + err.Error()) // a table error, caught by TestDefaultPipeline
	}
	return p
}

// Options configure Run.
type Options struct {
	// VerifyEach runs ir.Verify after every pass (always on in tests).
	VerifyEach bool
	// PrintIRAfter names the passes after which the IR is printed to
	// PrintTo; "all" prints after every pass. Names that are not passes
	// are an error.
	PrintIRAfter []string
	// PrintTo receives the IR printed after passes (large tensors elided).
	PrintTo io.Writer
}

// PassStats are the measurements of one pass run.
type PassStats struct {
	Name     string        `json:"name"`
	Duration time.Duration `json:"duration_ns"`
	Changed  bool          `json:"changed"`
	Before   GraphStats    `json:"before"`
	After    GraphStats    `json:"after"`
}

// GraphStats are the size figures of a graph at one point of a pipeline.
type GraphStats struct {
	Nodes  int   `json:"nodes"`
	MACs   int64 `json:"macs"`   // per sample; -1 when ir.Analyze fails
	Params int64 `json:"params"` // deploy form; -1 when ir.Analyze fails
}

// Stats are the measurements of one Run.
type Stats struct {
	Passes  []PassStats   `json:"passes"`
	Total   time.Duration `json:"total_ns"`
	Remarks []string      `json:"remarks,omitempty"` // remarks passes left during this run
}

// Fprint writes s as a table to w.
func (s *Stats) Fprint(w io.Writer) {
	fmt.Fprintf(w, "%-20s %10s %7s %7s %14s %14s %10s %10s\n", "pass", "time", "nodes", "after", "MACs", "after", "params", "after")
	for _, p := range s.Passes {
		fmt.Fprintf(w, "%-20s %10s %7d %7d %14d %14d %10d %10d\n", p.Name, p.Duration.Round(time.Microsecond),
			p.Before.Nodes, p.After.Nodes, p.Before.MACs, p.After.MACs, p.Before.Params, p.After.Params)
	}
	fmt.Fprintf(w, "%-20s %10s\n", "total", s.Total.Round(time.Microsecond))
	for _, r := range s.Remarks {
		fmt.Fprintf(w, "remark: %s\n", r)
	}
}

func measure(g *ir.Graph) GraphStats {
	s := GraphStats{Nodes: len(g.Nodes), MACs: -1, Params: -1}
	if r, err := ir.Analyze(g); err == nil {
		s.MACs, s.Params = r.MACs, r.Params
	}
	return s
}

// Run applies the passes of p to g in order, in place. A pass's error is
// returned as "pass NAME: ..."; with opts.VerifyEach a graph the pass left
// invalid is too. Stats are returned even on error, for the passes that ran.
func Run(g *ir.Graph, p Pipeline, opts Options) (*Stats, error) {
	st := &Stats{}
	for _, name := range opts.PrintIRAfter {
		if name != "all" && lookup(name) == nil {
			return st, fmt.Errorf("passes: print IR after %q: no such pass (passes: %s)", name, strings.Join(Names(), ", "))
		}
	}
	start := time.Now()
	nremarks := len(g.Remarks)
	defer func() {
		st.Total = time.Since(start)
		st.Remarks = append([]string(nil), g.Remarks[nremarks:]...)
	}()
	for _, s := range p {
		ps := s.p
		if ps == nil {
			ps = lookup(s.Name)
			if ps == nil {
				return st, fmt.Errorf("passes: unknown pass %q", s.Name)
			}
		}
		ps1 := PassStats{Name: s.Name, Before: measure(g)}
		t0 := time.Now()
		c := newCtx(g, s.Args)
		err := runPass(ps, c)
		ps1.Duration = time.Since(t0)
		ps1.Changed = c.changed
		ps1.After = measure(g)
		st.Passes = append(st.Passes, ps1)
		if err != nil {
			return st, fmt.Errorf("pass %s: %w", s.Name, err)
		}
		if opts.VerifyEach {
			if err := ir.Verify(g); err != nil {
				return st, fmt.Errorf("pass %s: %w", s.Name, err)
			}
		}
		if opts.PrintTo != nil && (slices.Contains(opts.PrintIRAfter, s.Name) || slices.Contains(opts.PrintIRAfter, "all")) {
			fmt.Fprintf(opts.PrintTo, "// IR after %s\n", s.Name)
			if err := PrintIR(opts.PrintTo, g); err != nil {
				return st, err
			}
		}
	}
	return st, nil
}

// PrintIR writes g in the .fir syntax with tensors of more than
// ir.DefaultInlineLimit elements elided (printed as sidecar references to
// "elided", whose data is not written anywhere).
func PrintIR(w io.Writer, g *ir.Graph) error {
	return ir.Fprint(w, g, ir.PrintOptions{Sidecar: io.Discard, SidecarName: "elided"})
}

// runPass calls the pass and removes the nodes it deleted, turning a panic
// (a bug in a pass) into an error.
func runPass(ps *pass, c *ctx) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("internal error: %v", r)
		}
	}()
	if err := ps.fn(c); err != nil {
		return err
	}
	c.sweep()
	return nil
}

// maxSimplifyRounds bounds the fixed-point iteration of simplify.
const maxSimplifyRounds = 16

// simplifyGroup is what simplify iterates.
var simplifyGroup = []struct {
	name string
	fn   func(*ctx) error
}{{"canonicalize", canonicalize}, {"const-fold", constFold}, {"reshape-batch", reshapeBatch}, {"cse", cse}, {"dce", dce}}

// simplify runs the simplification group until nothing changes.
func simplify(c *ctx) error {
	for round := 0; round < maxSimplifyRounds; round++ {
		changed := false
		for _, p := range simplifyGroup {
			sub := newCtx(c.g, nil)
			if err := p.fn(sub); err != nil {
				return fmt.Errorf("%s: %w", p.name, err)
			}
			sub.sweep()
			changed = changed || sub.changed
		}
		if !changed {
			return nil
		}
		c.changed = true
	}
	return nil
}

// parseInts reads "1,3,224,224".
func parseInts(s string) ([]int64, error) {
	var out []int64
	for _, f := range strings.Split(s, ",") {
		v, err := strconv.ParseInt(strings.TrimSpace(f), 10, 64)
		if err != nil {
			return nil, fmt.Errorf("%q is not an integer", f)
		}
		out = append(out, v)
	}
	return out, nil
}
