package onnxio

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"

	"github.com/ferminets/fermi/ir"
	"github.com/ferminets/fermi/onnxio/onnxpb"
	"google.golang.org/protobuf/proto"
)

// ReadOptions configures Decode.
type ReadOptions struct {
	// BaseDir is the directory external data locations are relative to
	// (ReadFile sets it to the model's directory). Empty forbids external data.
	BaseDir string
	// MaxBytes limits the encoded model plus its external data; 0: no limit.
	MaxBytes int64
}

// maxErrors caps how many problems one Decode or Encode error lists.
const maxErrors = 20

// maxAttrs bounds the attributes of one node; ONNX operators have at most a
// dozen or so.
const maxAttrs = 1024

// ReadFile reads and imports the ONNX model at path (see Decode); external
// data is read relative to the model's directory.
func ReadFile(path string) (*ir.Graph, error) { return ReadFileWith(path, ReadOptions{}) }

// ReadFileWith is ReadFile with options; an empty BaseDir means the model's
// directory. A file larger than MaxBytes is rejected before it is read.
func ReadFileWith(path string, opts ReadOptions) (*ir.Graph, error) {
	if opts.BaseDir == "" {
		opts.BaseDir = filepath.Dir(path)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("onnxio: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("onnxio: %w", err)
	}
	tooBig := func(n int64) error {
		return fmt.Errorf("onnxio: model has %d bytes, more than the limit of %d", n, opts.MaxBytes)
	}
	protoLimit := func(n int64) error {
		return fmt.Errorf("onnxio: model has %d bytes, more than protobuf's limit of %d (store large tensors as external data)", n, maxModelBytes)
	}
	switch {
	case opts.MaxBytes > 0 && st.Size() > opts.MaxBytes:
		return nil, tooBig(st.Size())
	case st.Size() > maxModelBytes:
		return nil, protoLimit(st.Size())
	}
	var data []byte
	if st.Mode().IsRegular() {
		data = make([]byte, st.Size())
		_, err = io.ReadFull(f, data)
	} else { // a pipe or device: its size is known only at the end
		limit := int64(maxModelBytes)
		if opts.MaxBytes > 0 {
			limit = min(limit, opts.MaxBytes)
		}
		data, err = io.ReadAll(io.LimitReader(f, limit+1))
	}
	if err != nil {
		return nil, fmt.Errorf("onnxio: %w", err)
	}
	switch n := int64(len(data)); {
	case opts.MaxBytes > 0 && n > opts.MaxBytes:
		return nil, tooBig(n)
	case n > maxModelBytes:
		return nil, protoLimit(n)
	}
	return Decode(data, opts)
}

// Decode imports an encoded ONNX ModelProto. The graph it returns has opset
// 13 semantics for every core op and passes ir.Verify. Problems are reported
// together (errors.Join), each naming the node or value concerned; an opset
// out of range is an *OpsetError.
func Decode(data []byte, opts ReadOptions) (*ir.Graph, error) {
	if len(data) == 0 {
		return nil, errors.New("onnxio: empty file")
	}
	if opts.MaxBytes > 0 && int64(len(data)) > opts.MaxBytes {
		return nil, fmt.Errorf("onnxio: model has %d bytes, more than the limit of %d", len(data), opts.MaxBytes)
	}
	m := new(onnxpb.ModelProto)
	if err := proto.Unmarshal(data, m); err != nil {
		return nil, fmt.Errorf("onnxio: not an ONNX model: %v", err)
	}
	budget := int64(-1)
	if opts.MaxBytes > 0 {
		budget = opts.MaxBytes - int64(len(data))
	}
	im := &importer{ext: &externalReader{baseDir: opts.BaseDir, budget: budget}}
	return im.model(m)
}

// importer holds the state of one Decode.
type importer struct {
	g        *ir.Graph
	opset    int64 // version of the default domain; 0 if not imported
	ext      *externalReader
	values   map[string]*ir.Value
	nodes    map[string]bool // node names in use or reserved
	suffix   map[string]int  // freshNodeName: last suffix given out per base
	seen     map[string]bool // node names given out
	declared map[string]*onnxpb.ValueInfoProto
	consumed []*ir.Value // params conversions turned into attributes
	errs     []error
}

func (im *importer) errorf(format string, args ...any) {
	im.errs = append(im.errs, fmt.Errorf("onnxio: "+format, args...))
}

func (im *importer) err() error {
	if len(im.errs) > maxErrors {
		im.errs = append(im.errs[:maxErrors], fmt.Errorf("onnxio: and %d more problems", len(im.errs)-maxErrors))
	}
	return errors.Join(im.errs...)
}

// extraBytes encodes residual (the fields of a message the IR does not model)
// followed by the unknown fields of msg.
func extraBytes(residual, msg proto.Message) ([]byte, error) {
	b, err := deterministic.Marshal(residual)
	if err != nil {
		return nil, err
	}
	b = append(b, msg.ProtoReflect().GetUnknown()...)
	if len(b) == 0 {
		return nil, nil
	}
	return b, nil
}

// isDefaultDomain reports whether d names the default ONNX operator domain.
func isDefaultDomain(d string) bool { return d == "" || d == "ai.onnx" }

func (im *importer) model(m *onnxpb.ModelProto) (*ir.Graph, error) {
	if m.Graph == nil {
		return nil, errors.New("onnxio: model has no graph")
	}
	g := &ir.Graph{
		ModelDoc:        m.GetDocString(),
		Producer:        m.GetProducerName(),
		ProducerVersion: m.GetProducerVersion(),
		ModelDomain:     m.GetDomain(),
		ModelVersion:    m.GetModelVersion(),
		IRVersion:       m.GetIrVersion(),
	}
	im.g = g
	for _, o := range m.OpsetImport {
		g.Opsets = append(g.Opsets, ir.OpsetImport{Domain: o.GetDomain(), Version: o.GetVersion()})
		if isDefaultDomain(o.GetDomain()) {
			im.opset = o.GetVersion()
			if im.opset < MinOpset || im.opset > MaxOpset {
				return nil, &OpsetError{Domain: o.GetDomain(), Opset: im.opset, Min: MinOpset, Max: MaxOpset}
			}
		}
	}
	for _, p := range m.MetadataProps {
		g.Metadata = append(g.Metadata, ir.MetaProp{Key: p.GetKey(), Value: p.GetValue()})
	}
	var err error
	g.ModelExtra, err = extraBytes(&onnxpb.ModelProto{TrainingInfo: m.TrainingInfo, Functions: m.Functions}, m)
	if err != nil {
		return nil, fmt.Errorf("onnxio: model: %v", err)
	}
	gp := m.Graph
	m.Graph = nil
	if err := im.graph(gp); err != nil {
		return nil, err
	}
	if err := ir.Verify(g); err != nil {
		return nil, err
	}
	return g, nil
}

// graph imports gp into im.g.
func (im *importer) graph(gp *onnxpb.GraphProto) error {
	g := im.g
	g.Name, g.Doc = gp.GetName(), gp.GetDocString()
	var err error
	if g.Extra, err = extraBytes(&onnxpb.GraphProto{QuantizationAnnotation: gp.QuantizationAnnotation}, gp); err != nil {
		return fmt.Errorf("onnxio: graph: %v", err)
	}
	if len(gp.SparseInitializer) > 0 {
		return fmt.Errorf("onnxio: sparse initializer %q not supported", gp.SparseInitializer[0].GetValues().GetName())
	}
	im.values = make(map[string]*ir.Value, len(gp.Initializer)+len(gp.Input)+2*len(gp.Node))
	im.nodes = make(map[string]bool, len(gp.Node))
	im.suffix = make(map[string]int)
	for _, np := range gp.Node {
		if np.GetName() != "" {
			im.nodes[np.GetName()] = true // reserved, so generated names avoid them
		}
	}
	im.seen = make(map[string]bool, len(gp.Node))
	im.declared = make(map[string]*onnxpb.ValueInfoProto, len(gp.ValueInfo)+len(gp.Output))
	for _, vi := range gp.ValueInfo {
		im.declared[vi.GetName()] = vi
	}
	for _, vi := range gp.Output {
		im.declared[vi.GetName()] = vi
	}

	// Params, releasing each TensorProto as soon as it is converted.
	for i, tp := range gp.Initializer {
		name := tp.GetName()
		if name == "" {
			im.errorf("initializer #%d has no name", i)
			continue
		}
		if im.values[name] != nil {
			im.errorf("value %q: initializer defined twice", name)
			continue
		}
		t, err := tensorFromProto(tp, im.ext)
		if err != nil {
			im.errorf("%v", err)
			continue
		}
		v := &ir.Value{Name: name, DType: t.DType, Shape: ir.Static(t.Dims...), Const: t, Doc: tp.GetDocString()}
		if v.Extra, err = extraBytes(&onnxpb.TensorProto{}, tp); err != nil {
			im.errorf("value %q: %v", name, err)
		}
		im.values[name] = v
		g.Params = append(g.Params, v)
		gp.Initializer[i] = nil
	}
	for _, vi := range gp.Input {
		name := vi.GetName()
		if p := im.values[name]; p != nil && p.Const != nil {
			if p.Doc == "" {
				p.Doc = vi.GetDocString()
			}
			continue // an old exporter's input with a default: a param
		}
		v := &ir.Value{Name: name}
		if name == "" {
			im.errorf("graph input has no name")
			continue
		}
		if im.values[name] != nil {
			im.errorf("value %q: graph input defined twice", name)
			continue
		}
		im.typeFrom(v, vi)
		im.values[name] = v
		g.Inputs = append(g.Inputs, v)
	}

	// Nodes: create them with their outputs first, so inputs can refer to
	// values defined later in the file, then resolve inputs.
	protos := gp.Node
	gp.Node = nil
	nodes := make([]*ir.Node, len(protos))
	for i, np := range protos {
		nodes[i] = im.node(np)
	}
	for i, np := range protos {
		n := nodes[i]
		n.Inputs = make([]*ir.Value, len(np.Input))
		for j, name := range np.Input {
			if name == "" {
				continue
			}
			if n.Inputs[j] = im.values[name]; n.Inputs[j] == nil {
				im.errorf("node %q (%s): input %q is not defined", n.Name, np.GetOpType(), name)
			}
		}
	}
	for _, vi := range gp.Output {
		v := im.values[vi.GetName()]
		if v == nil {
			im.errorf("graph output %q is not defined", vi.GetName())
			continue
		}
		if v.Def == nil && v.Const == nil && !v.DType.Valid() {
			im.typeFrom(v, vi)
		}
		g.Outputs = append(g.Outputs, v)
	}
	if len(im.errs) > 0 {
		return im.err()
	}
	g.Nodes = nodes
	order, err := sortedOrder(g)
	if err != nil {
		return err
	}

	// Normalize each node to the IR's opset and infer types, in topological
	// order so conversions see their inputs' types.
	out := make([]*ir.Node, 0, len(nodes))
	for _, i := range order {
		for _, n := range im.convert(nodes[i], protos[i]) {
			im.infer(n)
			out = append(out, n)
		}
		protos[i] = nil
	}
	g.Nodes = out
	im.dropConsumed()
	return im.err()
}

// sortedOrder returns the node indices in topological order: the file's order
// when it is one (the usual case), else ir.SortTopological's.
func sortedOrder(g *ir.Graph) ([]int, error) {
	order := make([]int, len(g.Nodes))
	pos := make(map[*ir.Node]int, len(g.Nodes))
	for i, n := range g.Nodes {
		order[i] = i
		pos[n] = i
	}
	sorted := true
	for i, n := range g.Nodes {
		for _, x := range n.Inputs {
			if x != nil && x.Def != nil && pos[x.Def] >= i {
				sorted = false
			}
		}
	}
	if sorted {
		return order, nil
	}
	nodes := append([]*ir.Node(nil), g.Nodes...)
	if err := ir.SortTopological(g); err != nil {
		return nil, fmt.Errorf("onnxio: %v", err)
	}
	for k, n := range g.Nodes {
		order[k] = pos[n]
	}
	copy(g.Nodes, nodes) // SortTopological reorders in place; the caller indexes the file order
	return order, nil
}

// node creates the IR node of np with its outputs; inputs are resolved later.
// Nodes without a name, or repeating an earlier one, get a fresh name.
func (im *importer) node(np *onnxpb.NodeProto) *ir.Node {
	n := &ir.Node{Name: np.GetName(), Doc: np.GetDocString()}
	domain := np.GetDomain()
	op, known := ir.LookupOp(np.GetOpType())
	if !known || !isDefaultDomain(domain) {
		op = ir.OpOpaque
		n.Domain, n.OpType = domain, np.GetOpType()
	}
	n.Op = op
	if n.Name == "" || im.seen[n.Name] {
		base := n.Name
		if base == "" {
			base = np.GetOpType()
		}
		n.Name = im.freshNodeName(base)
	}
	im.nodes[n.Name], im.seen[n.Name] = true, true
	if isDefaultDomain(domain) && im.opset == 0 {
		im.errorf("node %q (%s): the model does not import the default ONNX domain", n.Name, np.GetOpType())
	}
	var err error
	switch {
	case len(np.Attribute) > maxAttrs:
		err = fmt.Errorf("%d attributes, more than %d", len(np.Attribute), maxAttrs)
	case op == ir.OpOpaque:
		n.Attrs, err = attrsFromProto(np, true, nil)
	default:
		n.Attrs, err = attrsFromProto(np, false, im.ext)
	}
	if err != nil {
		im.errorf("node %q (%s): %v", n.Name, np.GetOpType(), err)
	}
	// Keep what NodeProto says but the IR cannot: an explicitly empty domain
	// or doc string, or "ai.onnx" spelled out for a core op.
	residual := &onnxpb.NodeProto{}
	if np.Domain != nil && (domain == "" || op != ir.OpOpaque) {
		residual.Domain = np.Domain
	}
	if np.DocString != nil && *np.DocString == "" {
		residual.DocString = np.DocString
	}
	if n.Extra, err = extraBytes(residual, np); err != nil {
		im.errorf("node %q (%s): %v", n.Name, np.GetOpType(), err)
	}
	for _, name := range np.Output {
		if name == "" {
			n.Outputs = append(n.Outputs, nil)
			continue
		}
		if im.values[name] != nil {
			im.errorf("node %q (%s): output %q is already defined", n.Name, np.GetOpType(), name)
			n.Outputs = append(n.Outputs, nil)
			continue
		}
		v := &ir.Value{Name: name, Def: n}
		if vi := im.declared[name]; vi != nil {
			im.typeFrom(v, vi)
		}
		im.values[name] = v
		n.Outputs = append(n.Outputs, v)
	}
	return n
}

// attrsFromProto converts np's attributes (see attrFromProto).
func attrsFromProto(np *onnxpb.NodeProto, exact bool, ext *externalReader) ([]ir.Attr, error) {
	var attrs []ir.Attr
	for _, ap := range np.Attribute {
		a, err := attrFromProto(ap, exact, ext)
		if err != nil {
			return nil, err
		}
		attrs = append(attrs, a)
	}
	return attrs, nil
}

// freshNodeName is freshName for the node names of the file. It resumes the
// search for each base where the last one stopped (names are never given
// back), so that naming n unnamed nodes of one op type costs O(n), not O(n²).
func (im *importer) freshNodeName(base string) string {
	if !im.nodes[base] {
		return base
	}
	for i := im.suffix[base] + 1; ; i++ {
		s := fmt.Sprintf("%s_%d", base, i)
		if !im.nodes[s] {
			im.suffix[base] = i
			return s
		}
	}
}

// freshName returns base, or base_1, base_2, ... whichever is not in used.
func freshName(base string, used map[string]bool) string {
	if !used[base] {
		return base
	}
	for i := 1; ; i++ {
		s := fmt.Sprintf("%s_%d", base, i)
		if !used[s] {
			return s
		}
	}
}

// typeFrom sets v's dtype, shape, doc and extra bytes from vi.
func (im *importer) typeFrom(v *ir.Value, vi *onnxpb.ValueInfoProto) {
	if d := vi.GetDocString(); d != "" {
		v.Doc = d
	}
	if extra, err := extraBytes(&onnxpb.ValueInfoProto{}, vi); err != nil {
		im.errorf("value %q: %v", v.Name, err)
	} else if extra != nil {
		v.Extra = extra
	}
	tp := vi.GetType()
	if tp == nil {
		return
	}
	var kind string
	switch tp.Value.(type) {
	case *onnxpb.TypeProto_TensorType:
	case *onnxpb.TypeProto_SequenceType:
		kind = "sequence"
	case *onnxpb.TypeProto_MapType:
		kind = "map"
	case *onnxpb.TypeProto_OptionalType:
		kind = "optional"
	case *onnxpb.TypeProto_SparseTensorType:
		kind = "sparse tensor"
	default:
		kind = "unknown"
	}
	if kind != "" {
		im.errorf("value %q has unsupported type %s", v.Name, kind)
		return
	}
	tt := tp.GetTensorType()
	if et := tt.GetElemType(); et != 0 {
		if et < 0 || et > 255 || !ir.DType(et).Valid() {
			im.errorf("value %q has unsupported element type %d", v.Name, et)
			return
		}
		v.DType = ir.DType(et)
	}
	if tt.Shape == nil {
		return
	}
	v.Shape = make(ir.Shape, len(tt.Shape.Dim))
	for i, d := range tt.Shape.Dim {
		switch x := d.Value.(type) {
		case *onnxpb.TensorShapeProto_Dimension_DimValue:
			if x.DimValue >= 0 {
				v.Shape[i] = ir.D(x.DimValue)
			} else {
				v.Shape[i] = ir.Unknown
			}
		case *onnxpb.TensorShapeProto_Dimension_DimParam:
			if x.DimParam != "" {
				v.Shape[i] = ir.Sym(x.DimParam)
			} else {
				v.Shape[i] = ir.Unknown
			}
		default:
			v.Shape[i] = ir.Unknown
		}
	}
}

// decl is a value's declared type.
type decl struct {
	dt ir.DType
	sh ir.Shape
}

// infer runs shape inference on n and merges the result with the types the
// file declared: inference wins where it knows a dtype or dim, the
// declaration fills in what it leaves unknown.
func (im *importer) infer(n *ir.Node) {
	if n.Op == ir.OpOpaque || n.Op.Info().Infer == nil {
		return
	}
	saved := make([]decl, len(n.Outputs))
	for i, o := range n.Outputs {
		if o != nil {
			saved[i] = decl{o.DType, o.Shape}
		}
	}
	if err := safeInfer(n); err != nil {
		var untyped *ir.Value
		for _, x := range n.Inputs {
			if x != nil && !x.DType.Valid() && untyped == nil {
				untyped = x // downstream of an opaque node of unknown type
			}
		}
		for i, o := range n.Outputs {
			if o != nil {
				o.DType, o.Shape = saved[i].dt, saved[i].sh
			}
		}
		if untyped == nil {
			im.errs = append(im.errs, err)
			return
		}
	} else {
		im.mergeDeclared(n, saved)
	}
	if !allTyped(n.Outputs) {
		for _, x := range n.Inputs {
			if x != nil && !x.DType.Valid() {
				im.errorf("node %q (%s): input %q has unknown type (no value_info), so its outputs' types are unknown", n.Name, n.TypeName(), x.Name)
				return
			}
		}
		im.errorf("node %q (%s): shape inference left an output's type unknown", n.Name, n.TypeName())
	}
}

// mergeDeclared completes the inferred output types of n with the declared
// ones (saved) where inference left a dtype or dim unknown.
func (im *importer) mergeDeclared(n *ir.Node, saved []decl) {
	for i, o := range n.Outputs {
		if o == nil {
			continue
		}
		d := saved[i]
		if !o.DType.Valid() {
			o.DType = d.dt
		}
		switch {
		case o.Shape == nil:
			o.Shape = d.sh
		case len(o.Shape) == len(d.sh):
			o.Shape = slices.Clone(o.Shape) // inference may share an input's shape; a scalar stays a scalar
			for k := range o.Shape {
				if !o.Shape[k].Static() && o.Shape[k].Sym == "" {
					o.Shape[k] = d.sh[k]
				}
			}
		}
	}
}

// dropConsumed removes params that conversions turned into attributes, unless
// something else still reads them.
func (im *importer) dropConsumed() {
	if len(im.consumed) == 0 {
		return
	}
	used := make(map[*ir.Value]bool)
	for _, n := range im.g.Nodes {
		for _, x := range n.Inputs {
			used[x] = true
		}
	}
	for _, x := range im.g.Outputs {
		used[x] = true
	}
	drop := make(map[*ir.Value]bool)
	for _, p := range im.consumed {
		if !used[p] {
			drop[p] = true
		}
	}
	kept := im.g.Params[:0]
	for _, p := range im.g.Params {
		if !drop[p] {
			kept = append(kept, p)
		}
	}
	im.g.Params = kept
}

// allTyped reports whether every non-nil value in vs has a known dtype.
func allTyped(vs []*ir.Value) bool {
	for _, v := range vs {
		if v != nil && !v.DType.Valid() {
			return false
		}
	}
	return true
}

// safeInfer runs ir.InferNode, turning a panic on malformed input into an
// error.
func safeInfer(n *ir.Node) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("ir: node %q (%s): shape inference panicked: %v", n.Name, n.TypeName(), r)
		}
	}()
	return ir.InferNode(n)
}
