package ir

import (
	"container/heap"
	"fmt"
	"strconv"
	"strings"
)

// Problem is one violation of the IR's invariants found by Verify.
type Problem struct {
	Node  string // name of the offending node; "" for value- and graph-level problems
	Index int    // position of the offending node in Graph.Nodes (meaningful when Op != "")
	Op    string // the node's type name (Node.TypeName); "" when the problem is not about a node
	Value string // name of the offending value, for problems not about a node
	Msg   string
}

// String formats p as one line: `ir: node "conv1" (Conv): weight has 3 dims,
// want 4`, `ir: value "w": param has no Const`, or `ir: graph "g" has no outputs`.
func (p Problem) String() string {
	switch {
	case p.Op != "" && p.Node != "":
		return fmt.Sprintf("ir: node %q (%s): %s", p.Node, p.Op, p.Msg)
	case p.Op != "":
		return fmt.Sprintf("ir: node #%d (%s): %s", p.Index, p.Op, p.Msg)
	case p.Value != "":
		return fmt.Sprintf("ir: value %q: %s", p.Value, p.Msg)
	}
	return "ir: " + p.Msg
}

// VerifyError lists every problem Verify found in a graph.
type VerifyError struct {
	Problems []Problem
}

// maxErrorLines caps how many problems VerifyError.Error spells out.
const maxErrorLines = 30

// Error returns the problems one per line, at most maxErrorLines of them.
func (e *VerifyError) Error() string {
	var b strings.Builder
	for i, p := range e.Problems {
		if i == maxErrorLines {
			fmt.Fprintf(&b, "\nir: and %d more problems", len(e.Problems)-i)
			break
		}
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(p.String())
	}
	return b.String()
}

// Verify checks g against the IR's invariants and returns a *VerifyError
// listing every problem, or nil. It checks:
//   - the graph has outputs, all defined; every value has a unique non-empty
//     name, is defined exactly once and has a consistent Def; parameters hold
//     well-formed constant data matching their declared type; inputs do not;
//   - node names are unique and non-empty; nodes are in topological order,
//     distinguishing cycles from mere mis-ordering;
//   - input and output counts match the op table (trailing omitted inputs
//     do not count), with nil only at optional positions; opaque nodes name
//     their operator;
//   - attributes of core ops are declared in the op's schema with the right
//     kind, not repeated, required ones present, and cheap value checks pass;
//   - dtypes are valid and dims well-formed, and re-running the op table's
//     shape inference on a copy of each node agrees with the stored output
//     types. A stored dim may be more specific than the inferred one (stored 8
//     or N where inference gives unknown); only a differing rank, dtype, or
//     static size is a conflict. Outputs of opaque nodes may have dtype
//     Undefined (unknown).
//
// Verify does not modify g.
func Verify(g *Graph) error {
	v := &verifier{g: g}
	if g == nil {
		v.problems = append(v.problems, Problem{Msg: "graph is nil"})
	} else {
		v.run()
	}
	if len(v.problems) == 0 {
		return nil
	}
	return &VerifyError{Problems: v.problems}
}

// defSite records where a value is defined: node >= 0 is a node index, -1 a
// graph input and -2 a parameter.
type defSite struct{ node int }

const (
	siteInput = -1
	siteParam = -2
)

type verifier struct {
	g        *Graph
	problems []Problem
	defs     map[*Value]defSite // every defined value, by identity
	names    map[string]*Value  // every defined value, by name
	bad      []bool             // bad[i]: node i has a structural problem, so skip inference
	index    map[*Node]int      // node positions, built on first use
}

func (v *verifier) graphf(format string, args ...any) {
	v.problems = append(v.problems, Problem{Msg: fmt.Sprintf("graph %q ", v.g.Name) + fmt.Sprintf(format, args...)})
}

func (v *verifier) valuef(name, format string, args ...any) {
	v.problems = append(v.problems, Problem{Value: name, Msg: fmt.Sprintf(format, args...)})
}

func (v *verifier) nodef(i int, format string, args ...any) {
	n := v.g.Nodes[i]
	v.problems = append(v.problems, Problem{Node: n.Name, Index: i, Op: opName(n), Msg: fmt.Sprintf(format, args...)})
	if v.bad != nil {
		v.bad[i] = true
	}
}

// opName is n's type name, never empty.
func opName(n *Node) string {
	if s := n.TypeName(); s != "" {
		return s
	}
	if n.Op == OpOpaque {
		return "Opaque"
	}
	return "op(" + strconv.Itoa(int(n.Op)) + ")"
}

func (s defSite) describe(g *Graph) string {
	switch s.node {
	case siteInput:
		return "graph input"
	case siteParam:
		return "param"
	}
	return "output of " + nodeRef(g.Nodes[s.node], s.node)
}

// nodeRef names node n (at index i) in messages: `node "conv1"`, or `node #3`.
func nodeRef(n *Node, i int) string {
	if n.Name == "" && i < 0 {
		return "a node outside the graph"
	}
	if n.Name == "" {
		return "node #" + strconv.Itoa(i)
	}
	return "node " + strconv.Quote(n.Name)
}

func (v *verifier) run() {
	g := v.g
	v.defs = make(map[*Value]defSite, len(g.Inputs)+len(g.Params)+len(g.Nodes))
	v.names = make(map[string]*Value, len(g.Inputs)+len(g.Params)+len(g.Nodes))
	v.bad = make([]bool, len(g.Nodes))
	if len(g.Outputs) == 0 {
		v.graphf("has no outputs")
	}
	v.defineValues()
	v.checkNodeNames()
	for i, o := range g.Outputs {
		switch {
		case o == nil:
			v.graphf("output #%d is nil", i)
		case !v.isDefined(o):
			v.valuef(o.Name, "graph output is not defined%s", v.sameName(o))
		}
	}
	for i, n := range g.Nodes {
		if n == nil {
			v.problems = append(v.problems, Problem{Msg: fmt.Sprintf("graph %q node #%d is nil", g.Name, i)})
			v.bad[i] = true
			continue
		}
		v.checkArity(i)
		v.checkAttrs(i)
	}
	v.checkOrder()
	for i, n := range g.Nodes {
		if n != nil && !v.bad[i] {
			v.checkInference(i)
		}
	}
}

func (v *verifier) isDefined(x *Value) bool { _, ok := v.defs[x]; return ok }

// sameName explains an undefined value that shares its name with a defined one.
func (v *verifier) sameName(x *Value) string {
	if _, ok := v.names[x.Name]; ok && x.Name != "" {
		return fmt.Sprintf(" (a different value named %q is)", x.Name)
	}
	return ""
}

// define records x, the k-th graph input, param or node output (by site),
// as defined at site, reporting duplicates and empty names through report.
func (v *verifier) define(x *Value, k int, site defSite, report func(format string, args ...any)) {
	if prev, ok := v.defs[x]; ok {
		report("%s is defined twice: as %s and as %s", x, prev.describe(v.g), site.describe(v.g))
		return
	}
	v.defs[x] = site
	if x.Name == "" {
		what := "output " + strconv.Itoa(k)
		switch site.node {
		case siteInput:
			what = "graph input #" + strconv.Itoa(k)
		case siteParam:
			what = "param #" + strconv.Itoa(k)
		}
		report("%s has an empty name", what)
		return
	}
	if prev, ok := v.names[x.Name]; ok {
		report("name %q is already used by another value (%s)", x.Name, v.defs[prev].describe(v.g))
		return
	}
	v.names[x.Name] = x
}

// defineValues records every value definition and checks each value's own
// invariants (Def, Const, dtype, dims).
func (v *verifier) defineValues() {
	g := v.g
	for i, x := range g.Inputs {
		if x == nil {
			v.graphf("input #%d is nil", i)
			continue
		}
		report := func(format string, args ...any) { v.valuef(x.Name, format, args...) }
		v.define(x, i, defSite{siteInput}, report)
		if x.Def != nil {
			report("graph input has Def set (%s)", nodeRef(x.Def, v.nodeIndex(x.Def)))
		}
		if x.Const != nil {
			report("graph input has Const set")
		}
		checkType(x, false, report)
	}
	for i, x := range g.Params {
		if x == nil {
			v.graphf("param #%d is nil", i)
			continue
		}
		report := func(format string, args ...any) { v.valuef(x.Name, format, args...) }
		v.define(x, i, defSite{siteParam}, report)
		if x.Def != nil {
			report("param has Def set (%s)", nodeRef(x.Def, v.nodeIndex(x.Def)))
		}
		checkType(x, false, report)
		if x.Const == nil {
			report("param has no Const")
			continue
		}
		c := x.Const
		if c.DType != x.DType {
			report("param dtype %v does not match its data's %v", x.DType, c.DType)
		}
		if !x.Shape.Equal(Static(c.Dims...)) {
			report("param shape %v does not match its data's dims %v", x.Shape, Static(c.Dims...))
		}
		if msg := checkTensor(c); msg != "" {
			report("param data: %s", msg)
		}
	}
	for i, n := range g.Nodes {
		if n == nil {
			continue
		}
		for j, o := range n.Outputs {
			if o == nil {
				continue
			}
			report := func(format string, args ...any) { v.nodef(i, format, args...) }
			v.define(o, j, defSite{i}, report)
			if o.Def != n {
				if o.Def == nil {
					report("output %d %v has nil Def", j, o)
				} else {
					report("output %d %v has Def pointing to %s", j, o, nodeRef(o.Def, v.nodeIndex(o.Def)))
				}
			}
			if o.Const != nil {
				report("output %d %v has Const set", j, o)
			}
			checkType(o, n.Op == OpOpaque, func(format string, args ...any) {
				report("output %d %v: %s", j, o, fmt.Sprintf(format, args...))
			})
		}
	}
}

// nodeIndex returns the position of n in the graph, or -1.
func (v *verifier) nodeIndex(n *Node) int {
	if v.index == nil {
		v.index = make(map[*Node]int, len(v.g.Nodes))
		for i, m := range v.g.Nodes {
			if _, dup := v.index[m]; !dup {
				v.index[m] = i
			}
		}
	}
	if i, ok := v.index[n]; ok {
		return i
	}
	return -1
}

// checkType checks x's dtype and dims; unknownOK allows dtype Undefined.
func checkType(x *Value, unknownOK bool, report func(format string, args ...any)) {
	if !x.DType.Valid() && !(unknownOK && x.DType == Undefined) {
		report("invalid dtype %v", x.DType)
	}
	if len(x.Shape) > MaxRank {
		report("rank %d exceeds %d", len(x.Shape), MaxRank)
		return
	}
	n := int64(1)
	for i, d := range x.Shape {
		if d.Sym == "" && d.Size < -1 {
			report("dim %d has invalid size %d", i, d.Size)
		}
		if d.Static() && n > 0 {
			if d.Size != 0 && n > maxElements/d.Size {
				report("shape %v holds more than 2^48 elements", x.Shape)
				n = 0 // report once
				continue
			}
			n *= d.Size
		}
	}
}

// MaxRank is the largest rank the verifier accepts for a value. ONNX sets no
// limit, but no real model comes near it, and a hostile file's rank of
// millions would make every shape computation huge.
const MaxRank = 64

// maxElements bounds the element count of a tensor the verifier accepts, so
// that hostile dims cannot overflow the count.
const maxElements = 1 << 48

// checkTensor reports what is wrong with constant tensor t, or "".
func checkTensor(t *Tensor) string {
	if !t.DType.Valid() {
		return fmt.Sprintf("invalid dtype %v", t.DType)
	}
	n := int64(1)
	for i, d := range t.Dims {
		if d < 0 {
			return fmt.Sprintf("dim %d is negative (%d)", i, d)
		}
		if d != 0 && n > maxElements/d {
			return fmt.Sprintf("dims %v hold too many elements", t.Dims)
		}
		n *= d
	}
	if err := t.CheckData(); err != nil {
		return err.Error()
	}
	return ""
}

func (v *verifier) checkNodeNames() {
	seen := make(map[string]int, len(v.g.Nodes))
	for i, n := range v.g.Nodes {
		if n == nil {
			continue
		}
		if n.Name == "" {
			v.nodef(i, "node has an empty name")
			continue
		}
		if j, ok := seen[n.Name]; ok {
			v.nodef(i, "node name is also used by node #%d", j)
			continue
		}
		seen[n.Name] = i
	}
}

// arityRange formats an allowed count range.
func arityRange(lo, hi int) string {
	switch {
	case hi < 0:
		return fmt.Sprintf("at least %d", lo)
	case lo == hi:
		return strconv.Itoa(lo)
	}
	return fmt.Sprintf("%d to %d", lo, hi)
}

func (v *verifier) checkArity(i int) {
	n := v.g.Nodes[i]
	if n.Op == OpInvalid || n.Op >= numOps {
		v.nodef(i, "invalid op %d", n.Op)
		return
	}
	if n.Op == OpOpaque {
		if n.OpType == "" {
			v.nodef(i, "opaque node has no op type")
		}
		return
	}
	info := n.Op.Info()
	nin := len(n.Inputs) // trailing omitted inputs do not count, as in ONNX
	for nin > 0 && n.Inputs[nin-1] == nil {
		nin--
	}
	if nin < info.MinIn || (info.MaxIn >= 0 && nin > info.MaxIn) {
		v.nodef(i, "has %d inputs, want %s", nin, arityRange(info.MinIn, info.MaxIn))
	}
	for j := 0; j < info.MinIn && j < len(n.Inputs); j++ {
		if n.Inputs[j] == nil {
			v.nodef(i, "required input %d is missing", j)
		}
	}
	if len(n.Outputs) < info.MinOut || (info.MaxOut >= 0 && len(n.Outputs) > info.MaxOut) {
		v.nodef(i, "has %d outputs, want %s", len(n.Outputs), arityRange(info.MinOut, info.MaxOut))
	}
	for j := 0; j < info.MinOut && j < len(n.Outputs); j++ {
		if n.Outputs[j] == nil {
			v.nodef(i, "required output %d is missing", j)
		}
	}
}

func (v *verifier) checkAttrs(i int) {
	n := v.g.Nodes[i]
	first := make(map[string]int, len(n.Attrs)) // index of each name's first use
	for j := range n.Attrs {
		a := &n.Attrs[j]
		if a.Name == "" {
			v.nodef(i, "attribute %d has an empty name", j)
			continue
		}
		if _, dup := first[a.Name]; dup {
			v.nodef(i, "attribute %q appears more than once", a.Name)
			continue
		}
		first[a.Name] = j
		if a.Kind < AttrInt || a.Kind > AttrRaw {
			v.nodef(i, "attribute %q has invalid kind %v", a.Name, a.Kind)
		}
	}
	if n.Op == OpOpaque || n.Op == OpInvalid || n.Op >= numOps {
		return
	}
	info := n.Op.Info()
	for j := range n.Attrs {
		a := &n.Attrs[j]
		if a.Name == "" || first[a.Name] != j {
			continue // reported above
		}
		spec := info.attrSpec(a.Name)
		switch {
		case spec == nil:
			v.nodef(i, "unknown attribute %q", a.Name)
		case spec.Kind != a.Kind:
			v.nodef(i, "attribute %q is %v, want %v", a.Name, a.Kind, spec.Kind)
		default:
			for _, r := range attrRules {
				if r.name == a.Name && (r.op == OpInvalid || r.op == n.Op) {
					if msg := r.check(a); msg != "" {
						v.nodef(i, "attribute %q %s", a.Name, msg)
					}
				}
			}
		}
	}
	for _, s := range info.Attrs {
		if _, ok := first[s.Name]; s.Required && !ok {
			v.nodef(i, "missing required attribute %q", s.Name)
		}
	}
}

// attrRule is a cheap check of an attribute's value. It applies to attribute
// name of op, or of every core op declaring it when op is OpInvalid, once the
// attribute's kind matched the schema. check returns "" or what is wrong.
type attrRule struct {
	op    Op
	name  string
	check func(a *Attr) string
}

var (
	autoPads   = []string{"NOTSET", "SAME_UPPER", "SAME_LOWER", "VALID"}
	resizeCTMs = []string{"half_pixel", "half_pixel_symmetric", "pytorch_half_pixel", "align_corners", "asymmetric", "tf_crop_and_resize"}
)

var attrRules = []attrRule{
	{OpInvalid, "group", intAtLeast(1)},
	{OpInvalid, "strides", eachAtLeast(1)},
	{OpInvalid, "kernel_shape", eachAtLeast(1)},
	{OpInvalid, "dilations", eachAtLeast(1)},
	{OpInvalid, "pads", checkPads},
	{OpInvalid, "output_padding", eachAtLeast(0)},
	{OpInvalid, "output_shape", eachAtLeast(0)},
	{OpInvalid, "auto_pad", strOneOf(autoPads...)},
	{OpInvalid, "ceil_mode", intOneOf(0, 1)},
	{OpInvalid, "count_include_pad", intOneOf(0, 1)},
	{OpInvalid, "storage_order", intOneOf(0, 1)},
	{OpInvalid, "keepdims", intOneOf(0, 1)},
	{OpInvalid, "training_mode", intOneOf(0, 1)},
	{OpInvalid, "transA", intOneOf(0, 1)},
	{OpInvalid, "transB", intOneOf(0, 1)},
	{OpInvalid, "allowzero", intOneOf(0, 1)},
	{OpInvalid, "saturate", intOneOf(0, 1)},
	{OpResize, "antialias", intOneOf(0, 1)},
	{OpResize, "exclude_outside", intOneOf(0, 1)},
	{OpResize, "mode", strOneOf("nearest", "linear", "cubic")},
	{OpResize, "coordinate_transformation_mode", strOneOf(resizeCTMs...)},
	{OpResize, "nearest_mode", strOneOf("round_prefer_floor", "round_prefer_ceil", "floor", "ceil")},
	{OpResize, "keep_aspect_ratio_policy", strOneOf("stretch", "not_larger", "not_smaller")},
	{OpPad, "mode", strOneOf("constant", "reflect", "edge", "wrap")},
	{OpCast, "to", checkDTypeAttr},
	{OpConstant, "value", checkTensorAttr},
}

func intAtLeast(lo int64) func(a *Attr) string {
	return func(a *Attr) string {
		if a.Int < lo {
			return fmt.Sprintf("is %d, want >= %d", a.Int, lo)
		}
		return ""
	}
}

func eachAtLeast(lo int64) func(a *Attr) string {
	return func(a *Attr) string {
		for i, x := range a.Ints {
			if x < lo {
				return fmt.Sprintf("has %d at index %d, want >= %d", x, i, lo)
			}
		}
		return ""
	}
}

func checkPads(a *Attr) string {
	if len(a.Ints)%2 != 0 {
		return fmt.Sprintf("has %d values, want an even number (begins then ends)", len(a.Ints))
	}
	return eachAtLeast(0)(a)
}

func intOneOf(vals ...int64) func(a *Attr) string {
	return func(a *Attr) string {
		for _, x := range vals {
			if a.Int == x {
				return ""
			}
		}
		return fmt.Sprintf("is %d, want one of %v", a.Int, vals)
	}
}

func strOneOf(vals ...string) func(a *Attr) string {
	return func(a *Attr) string {
		for _, x := range vals {
			if a.Str == x {
				return ""
			}
		}
		return fmt.Sprintf("is %q, want one of %s", a.Str, strings.Join(vals, ", "))
	}
}

func checkDTypeAttr(a *Attr) string {
	if a.Int <= 0 || a.Int >= int64(len(dtypeTable)) || !DType(a.Int).Valid() {
		return fmt.Sprintf("is %d, not a valid dtype", a.Int)
	}
	return ""
}

func checkTensorAttr(a *Attr) string {
	if a.Tensor == nil {
		return "has no tensor"
	}
	if msg := checkTensor(a.Tensor); msg != "" {
		return "holds a bad tensor: " + msg
	}
	return ""
}

// checkOrder checks that every node input is defined, and defined before use.
// When some input is used before its definition, it tells cycles (reported
// once per cycle) from mis-ordering of an acyclic graph.
func (v *verifier) checkOrder() {
	g := v.g
	type late struct{ user, input, def int }
	var lates []late
	for i, n := range g.Nodes {
		if n == nil {
			continue
		}
		for j, x := range n.Inputs {
			if x == nil {
				continue
			}
			site, ok := v.defs[x]
			switch {
			case !ok:
				v.nodef(i, "input %d %v is not defined%s", j, x, v.sameName(x))
			case site.node >= i:
				lates = append(lates, late{i, j, site.node})
				v.bad[i] = true
			}
		}
	}
	if len(lates) == 0 {
		return
	}
	d := buildDeps(g, func(x *Value) int {
		if s, ok := v.defs[x]; ok {
			return s.node
		}
		return -1
	})
	order := d.sort()
	if len(order) < len(g.Nodes) {
		stuck := make([]bool, len(g.Nodes))
		for i := range stuck {
			stuck[i] = true
		}
		for _, i := range order {
			stuck[i] = false
		}
		for _, c := range d.cycles(stuck) {
			v.nodef(c[0], "cycle through nodes %s", cycleString(g, c))
		}
		// Late uses by nodes downstream of a cycle are explained by it.
		kept := lates[:0]
		for _, l := range lates {
			if !stuck[l.user] {
				kept = append(kept, l)
			}
		}
		lates = kept
	}
	for _, l := range lates {
		v.nodef(l.user, "uses %v before its definition by %s", g.Nodes[l.user].Inputs[l.input], nodeRef(g.Nodes[l.def], l.def))
	}
}

// maxCycleNames caps how many node names a cycle message spells out.
const maxCycleNames = 16

// cycleString formats cycle c (node indices, in data-flow order) as
// "a -> b -> a".
func cycleString(g *Graph, c []int) string {
	name := func(i int) string {
		if g.Nodes[i].Name == "" {
			return "#" + strconv.Itoa(i)
		}
		return g.Nodes[i].Name
	}
	var b strings.Builder
	for k, i := range c {
		if k == maxCycleNames {
			fmt.Fprintf(&b, "... (%d more) -> ", len(c)-k)
			break
		}
		b.WriteString(name(i))
		b.WriteString(" -> ")
	}
	b.WriteString(name(c[0]))
	return b.String()
}

// deps is the data-dependency graph between a graph's nodes in compressed
// form: node i reads outputs of nodes pred[predAt[i]:predAt[i+1]] and feeds
// nodes succ[succAt[i]:succAt[i+1]] (with multiplicity).
type deps struct {
	predAt, pred []int
	succAt, succ []int
}

// buildDeps builds the dependency graph of g; producer maps a value to the
// index of the node defining it, or -1.
func buildDeps(g *Graph, producer func(*Value) int) *deps {
	n := len(g.Nodes)
	d := &deps{predAt: make([]int, n+1), succAt: make([]int, n+2)}
	for i, node := range g.Nodes {
		d.predAt[i+1] = d.predAt[i]
		if node == nil {
			continue
		}
		for _, x := range node.Inputs {
			if x == nil {
				continue
			}
			if p := producer(x); p >= 0 {
				d.pred = append(d.pred, p)
				d.predAt[i+1]++
				d.succAt[p+2]++
			}
		}
	}
	for i := 2; i < len(d.succAt); i++ {
		d.succAt[i] += d.succAt[i-1]
	}
	d.succ = make([]int, len(d.pred))
	for i := 0; i < n; i++ {
		for _, p := range d.pred[d.predAt[i]:d.predAt[i+1]] {
			d.succ[d.succAt[p+1]] = i
			d.succAt[p+1]++
		}
	}
	d.succAt = d.succAt[:n+1]
	return d
}

// sort returns the nodes in a topological order that keeps the original
// order wherever the dependencies allow (Kahn's algorithm, always taking the
// lowest ready index). Nodes on or after a cycle are left out.
func (d *deps) sort() []int {
	n := len(d.predAt) - 1
	indeg := make([]int, n)
	ready := &intHeap{}
	for i := 0; i < n; i++ {
		indeg[i] = d.predAt[i+1] - d.predAt[i]
		if indeg[i] == 0 {
			*ready = append(*ready, i) // ascending, so already a heap
		}
	}
	order := make([]int, 0, n)
	for ready.Len() > 0 {
		i := heap.Pop(ready).(int)
		order = append(order, i)
		for _, s := range d.succ[d.succAt[i]:d.succAt[i+1]] {
			if indeg[s]--; indeg[s] == 0 {
				heap.Push(ready, s)
			}
		}
	}
	return order
}

// cycles returns one cycle (in data-flow order, starting at its lowest node
// index) for each distinct cycle reachable backwards from the stuck nodes,
// those Kahn's algorithm could not order. Every stuck node has a stuck
// predecessor, so walking predecessors from it must close a cycle.
func (d *deps) cycles(stuck []bool) [][]int {
	walk := make([]int, len(stuck)) // walk id that visited the node; 0: none
	pos := make([]int, len(stuck))  // position in the current path
	var out [][]int
	id := 0
	for start := range stuck {
		if !stuck[start] || walk[start] != 0 {
			continue
		}
		id++
		var path []int
		for i := start; ; {
			walk[i], pos[i] = id, len(path)
			path = append(path, i)
			p := -1
			for _, q := range d.pred[d.predAt[i]:d.predAt[i+1]] {
				if stuck[q] {
					p = q
					break
				}
			}
			if p < 0 || (walk[p] != 0 && walk[p] != id) {
				break // cannot happen, or joins a cycle found already
			}
			if walk[p] == id {
				c := path[pos[p]:]
				// path follows predecessors; reverse into data-flow order.
				for a, b := 0, len(c)-1; a < b; a, b = a+1, b-1 {
					c[a], c[b] = c[b], c[a]
				}
				low := 0
				for k := range c {
					if c[k] < c[low] {
						low = k
					}
				}
				out = append(out, append(append([]int(nil), c[low:]...), c[:low]...))
				break
			}
			i = p
		}
	}
	return out
}

type intHeap []int

func (h intHeap) Len() int           { return len(h) }
func (h intHeap) Less(i, j int) bool { return h[i] < h[j] }
func (h intHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *intHeap) Push(x any)        { *h = append(*h, x.(int)) }
func (h *intHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

// SortTopological reorders g.Nodes into a topological order, keeping the
// original relative order wherever the data dependencies allow (so a sorted
// graph is unchanged). If the nodes form a cycle it returns an error naming
// one and leaves g unchanged. Inputs that no node defines are ignored here;
// Verify reports them.
func SortTopological(g *Graph) error {
	producer := make(map[*Value]int)
	for i, n := range g.Nodes {
		if n == nil {
			continue
		}
		for _, o := range n.Outputs {
			if _, dup := producer[o]; o != nil && !dup {
				producer[o] = i
			}
		}
	}
	d := buildDeps(g, func(x *Value) int {
		if i, ok := producer[x]; ok {
			return i
		}
		return -1
	})
	order := d.sort()
	if len(order) < len(g.Nodes) {
		stuck := make([]bool, len(g.Nodes))
		for i := range stuck {
			stuck[i] = true
		}
		for _, i := range order {
			stuck[i] = false
		}
		cs := d.cycles(stuck)
		if len(cs) == 0 { // unreachable: a stuck node always leads to a cycle
			return fmt.Errorf("ir: graph %q: nodes cannot be ordered", g.Name)
		}
		return fmt.Errorf("ir: graph %q: cycle through nodes %s", g.Name, cycleString(g, cs[0]))
	}
	sorted := make([]*Node, len(order))
	for k, i := range order {
		sorted[k] = g.Nodes[i]
	}
	copy(g.Nodes, sorted)
	return nil
}

// checkInference re-runs shape inference for node i on a copy whose outputs
// start untyped, and compares the result with the stored output types.
func (v *verifier) checkInference(i int) {
	n := v.g.Nodes[i]
	if n.Op == OpOpaque {
		return
	}
	info := n.Op.Info()
	if info.Infer == nil {
		return // not written yet for this op
	}
	for _, x := range n.Inputs {
		if x != nil && !x.DType.Valid() {
			return // an input of unknown type: nothing to check against
		}
	}
	s := *n
	s.Inputs = append([]*Value(nil), n.Inputs...)
	s.Attrs = append([]Attr(nil), n.Attrs...)
	s.Outputs = make([]*Value, len(n.Outputs))
	for j, o := range n.Outputs {
		if o != nil {
			s.Outputs[j] = &Value{Name: o.Name, Def: &s}
		}
	}
	if err := safeInfer(info.Infer, &s); err != nil {
		msg := strings.TrimPrefix(err.Error(), fmt.Sprintf("ir: node %q (%s): ", n.Name, n.TypeName()))
		v.nodef(i, "%s", msg)
		return
	}
	for j, o := range n.Outputs {
		inf := s.Outputs[j]
		if o == nil || inf == nil {
			continue
		}
		if inf.DType != Undefined && inf.DType != o.DType {
			v.nodef(i, "output %d %v has dtype %v, inferred %v", j, o, o.DType, inf.DType)
		}
		if !shapeAgrees(o.Shape, inf.Shape) {
			v.nodef(i, "output %d %v has shape %v, inferred %v", j, o, o.Shape, inf.Shape)
		}
	}
}

// safeInfer runs infer on n, turning a panic on malformed input into an error.
func safeInfer(infer func(*Node) error, n *Node) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("shape inference panicked: %v", r)
		}
	}()
	return infer(n)
}

// shapeAgrees reports whether a stored shape is consistent with an inferred
// one: unknown rank or dims on either side agree with anything, symbolic dims
// agree with anything, and only differing ranks or static sizes conflict.
func shapeAgrees(stored, inferred Shape) bool {
	if stored == nil || inferred == nil {
		return true
	}
	if len(stored) != len(inferred) {
		return false
	}
	for k := range stored {
		if stored[k].Static() && inferred[k].Static() && stored[k].Size != inferred[k].Size {
			return false
		}
	}
	return true
}
