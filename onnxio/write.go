package onnxio

import (
	"errors"
	"fmt"
	"io"
	"math"
	"path/filepath"
	"strconv"

	"github.com/ferminets/fermi/atomicfile"
	"github.com/ferminets/fermi/ir"
	"github.com/ferminets/fermi/onnxio/onnxpb"
	"google.golang.org/protobuf/proto"
)

// WriteOptions configures Encode and WriteFile.
type WriteOptions struct {
	// Opset is the default-domain opset to write, MinExportOpset..MaxOpset.
	// 0 keeps the graph's imported opset, raised to MinExportOpset, or uses
	// 17 for a graph built in Go (g.Opset() == 0).
	Opset int64
	// ExternalData forces WriteFile to store large tensors in an external
	// data file; WriteFile does so anyway when the model exceeds 2 GB.
	ExternalData bool
	// ExternalThreshold is the size in bytes from which a tensor goes to the
	// external data file; 0 means 1024.
	ExternalThreshold int64
}

// maxModelBytes is protobuf's limit on the size of one encoded message.
const maxModelBytes = math.MaxInt32

// defaultExternalThreshold is ONNX's default size threshold for external data.
const defaultExternalThreshold = 1024

// externalAlign aligns the offset of each tensor in an external data file.
const externalAlign = 64

// Encode exports g as an ONNX model (see the package documentation). It
// fails when the model needs external data: more than 2 GB, or
// opts.ExternalData set; use WriteFile for those.
func Encode(g *ir.Graph, opts WriteOptions) ([]byte, error) {
	if opts.ExternalData {
		return nil, errors.New("onnxio: external data can only be written by WriteFile")
	}
	m, err := buildModel(g, opts)
	if err != nil {
		return nil, err
	}
	if size := proto.Size(m); size > maxModelBytes {
		return nil, fmt.Errorf("onnxio: model needs %d bytes, more than protobuf's 2 GB limit: write it with WriteFile (external data)", size)
	}
	return marshalModel(m)
}

func marshalModel(m *onnxpb.ModelProto) ([]byte, error) {
	b, err := deterministic.Marshal(m)
	if err != nil {
		return nil, fmt.Errorf("onnxio: %v", err)
	}
	return b, nil
}

// WriteFile exports g to path atomically (a temporary file in the same
// directory, synced and renamed). With opts.ExternalData, or when the model
// exceeds 2 GB, tensors of at least opts.ExternalThreshold bytes go to the
// external data file path+".data", written the same way first.
func WriteFile(g *ir.Graph, path string, opts WriteOptions) error {
	m, err := buildModel(g, opts)
	if err != nil {
		return err
	}
	if opts.ExternalData || proto.Size(m) > maxModelBytes {
		threshold := opts.ExternalThreshold
		if threshold <= 0 {
			threshold = defaultExternalThreshold
		}
		dataPath := path + ".data"
		chunks := externalize(m, filepath.Base(dataPath), threshold)
		if size := proto.Size(m); size > maxModelBytes {
			return fmt.Errorf("onnxio: model needs %d bytes even with external data, more than protobuf's 2 GB limit", size)
		}
		err := atomicfile.Write(dataPath, func(w io.Writer) error {
			for _, c := range chunks {
				if _, err := w.Write(c); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("onnxio: %w", err)
		}
	}
	b, err := marshalModel(m)
	if err != nil {
		return err
	}
	if err := atomicfile.WriteBytes(path, b); err != nil {
		return fmt.Errorf("onnxio: %w", err)
	}
	return nil
}

// externalize moves the raw data of m's initializers of at least threshold
// bytes to an external file called location and returns that file's
// contents in pieces (data and alignment padding).
func externalize(m *onnxpb.ModelProto, location string, threshold int64) [][]byte {
	var chunks [][]byte
	var offset int64
	for _, tp := range m.Graph.Initializer {
		if int64(len(tp.RawData)) < threshold || len(tp.RawData) == 0 {
			continue
		}
		if pad := (externalAlign - offset%externalAlign) % externalAlign; pad != 0 {
			chunks = append(chunks, make([]byte, pad))
			offset += pad
		}
		n := int64(len(tp.RawData))
		chunks = append(chunks, tp.RawData)
		tp.RawData = nil
		tp.DataLocation = onnxpb.TensorProto_EXTERNAL.Enum()
		tp.ExternalData = []*onnxpb.StringStringEntryProto{
			{Key: proto.String("location"), Value: proto.String(location)},
			{Key: proto.String("offset"), Value: proto.String(strconv.FormatInt(offset, 10))},
			{Key: proto.String("length"), Value: proto.String(strconv.FormatInt(n, 10))},
		}
		offset += n
	}
	return chunks
}

// irVersion returns the ONNX IR version a default-domain opset needs.
func irVersion(opset int64) int64 {
	switch {
	case opset >= 21:
		return 10
	case opset >= 19:
		return 9
	case opset >= 14:
		return 8
	}
	return 7
}

// exporter holds the state of one export.
type exporter struct {
	opset   int64
	names   map[string]bool       // value names in use
	inits   []*onnxpb.TensorProto // initializers added by conversions
	domains []string              // non-default domains of opaque nodes, in first-use order
	seen    map[string]bool       // domains already listed
	errs    []error
}

// initializer adds an initializer named after base holding t and returns a
// value standing for it (for naming only; it is not part of any graph).
func (e *exporter) initializer(base string, t *ir.Tensor) *ir.Value {
	name := freshName(base, e.names)
	e.names[name] = true
	tp, err := tensorToProto(name, t)
	if err != nil {
		e.errs = append(e.errs, fmt.Errorf("onnxio: %v", err))
		return &ir.Value{Name: name}
	}
	e.inits = append(e.inits, tp)
	return &ir.Value{Name: name, DType: t.DType, Const: t}
}

// merge decodes extra bytes (see extraBytes) into msg.
func merge(extra []byte, msg proto.Message) error {
	if len(extra) == 0 {
		return nil
	}
	return proto.UnmarshalOptions{Merge: true}.Unmarshal(extra, msg)
}

func exportOpset(g *ir.Graph, opts WriteOptions) (int64, error) {
	opset := opts.Opset
	if opset == 0 {
		switch opset = g.Opset(); {
		case opset == 0:
			opset = 17
		case opset < MinExportOpset:
			opset = MinExportOpset
		}
	}
	if opset < MinExportOpset || opset > MaxOpset {
		return 0, &OpsetError{Opset: opset, Min: MinExportOpset, Max: MaxOpset}
	}
	return opset, nil
}

func buildModel(g *ir.Graph, opts WriteOptions) (*onnxpb.ModelProto, error) {
	if g == nil {
		return nil, errors.New("onnxio: graph is nil")
	}
	opset, err := exportOpset(g, opts)
	if err != nil {
		return nil, err
	}
	e := &exporter{opset: opset, names: make(map[string]bool), seen: make(map[string]bool)}
	for _, v := range g.Values() {
		e.names[v.Name] = true
	}
	gp := &onnxpb.GraphProto{}
	if g.Name != "" {
		gp.Name = proto.String(g.Name)
	}
	if g.Doc != "" {
		gp.DocString = proto.String(g.Doc)
	}
	for _, p := range g.Params {
		tp, err := tensorToProto(p.Name, p.Const)
		if err != nil {
			e.errs = append(e.errs, fmt.Errorf("onnxio: param %v", err))
			continue
		}
		if p.Doc != "" {
			tp.DocString = proto.String(p.Doc)
		}
		if err := merge(p.Extra, tp); err != nil {
			e.errs = append(e.errs, fmt.Errorf("onnxio: value %q: bad Extra: %v", p.Name, err))
		}
		gp.Initializer = append(gp.Initializer, tp)
	}
	for _, v := range g.Inputs {
		gp.Input = append(gp.Input, e.valueInfo(v))
	}
	isOutput := make(map[*ir.Value]bool, len(g.Outputs))
	for _, v := range g.Outputs {
		gp.Output = append(gp.Output, e.valueInfo(v))
		isOutput[v] = true
	}
	for _, n := range g.Nodes {
		np, err := e.node(n)
		if err != nil {
			e.errs = append(e.errs, err)
			continue
		}
		gp.Node = append(gp.Node, np)
		for _, o := range n.Outputs {
			if o != nil && !isOutput[o] && (o.DType.Valid() || o.Shape != nil || o.Doc != "" || o.Extra != nil) {
				gp.ValueInfo = append(gp.ValueInfo, e.valueInfo(o))
			}
		}
	}
	gp.Initializer = append(gp.Initializer, e.inits...)
	if err := merge(g.Extra, gp); err != nil {
		e.errs = append(e.errs, fmt.Errorf("onnxio: graph: bad Extra: %v", err))
	}
	if len(e.errs) > 0 {
		if len(e.errs) > maxErrors {
			e.errs = append(e.errs[:maxErrors], fmt.Errorf("onnxio: and %d more problems", len(e.errs)-maxErrors))
		}
		return nil, errors.Join(e.errs...)
	}

	m := &onnxpb.ModelProto{IrVersion: proto.Int64(max(irVersion(opset), g.IRVersion)), Graph: gp}
	hasDefault := false
	imported := make(map[string]bool)
	for _, o := range g.Opsets {
		v := o.Version
		if isDefaultDomain(o.Domain) {
			if hasDefault {
				continue
			}
			v, hasDefault = opset, true
		}
		m.OpsetImport = append(m.OpsetImport, &onnxpb.OperatorSetIdProto{Domain: proto.String(o.Domain), Version: proto.Int64(v)})
		imported[o.Domain] = true
	}
	if !hasDefault {
		m.OpsetImport = append([]*onnxpb.OperatorSetIdProto{{Domain: proto.String(""), Version: proto.Int64(opset)}}, m.OpsetImport...)
	}
	for _, d := range e.domains {
		if !imported[d] {
			m.OpsetImport = append(m.OpsetImport, &onnxpb.OperatorSetIdProto{Domain: proto.String(d), Version: proto.Int64(1)})
		}
	}
	setStr := func(p **string, s string) {
		if s != "" {
			*p = proto.String(s)
		}
	}
	setStr(&m.ProducerName, g.Producer)
	setStr(&m.ProducerVersion, g.ProducerVersion)
	setStr(&m.Domain, g.ModelDomain)
	setStr(&m.DocString, g.ModelDoc)
	if g.ModelVersion != 0 {
		m.ModelVersion = proto.Int64(g.ModelVersion)
	}
	for _, p := range g.Metadata {
		m.MetadataProps = append(m.MetadataProps, &onnxpb.StringStringEntryProto{Key: proto.String(p.Key), Value: proto.String(p.Value)})
	}
	if err := merge(g.ModelExtra, m); err != nil {
		return nil, fmt.Errorf("onnxio: model: bad ModelExtra: %v", err)
	}
	return m, nil
}

// valueInfo describes v; problems go to e.errs.
func (e *exporter) valueInfo(v *ir.Value) *onnxpb.ValueInfoProto {
	vi := &onnxpb.ValueInfoProto{Name: proto.String(v.Name)}
	if v.DType != ir.Undefined || v.Shape != nil {
		tt := &onnxpb.TypeProto_Tensor{}
		if v.DType != ir.Undefined {
			tt.ElemType = proto.Int32(int32(v.DType))
		}
		if v.Shape != nil {
			tt.Shape = &onnxpb.TensorShapeProto{Dim: make([]*onnxpb.TensorShapeProto_Dimension, len(v.Shape))}
			for i, d := range v.Shape {
				dim := &onnxpb.TensorShapeProto_Dimension{}
				switch {
				case d.Sym != "":
					dim.Value = &onnxpb.TensorShapeProto_Dimension_DimParam{DimParam: d.Sym}
				case d.Size >= 0:
					dim.Value = &onnxpb.TensorShapeProto_Dimension_DimValue{DimValue: d.Size}
				}
				tt.Shape.Dim[i] = dim
			}
		}
		vi.Type = &onnxpb.TypeProto{Value: &onnxpb.TypeProto_TensorType{TensorType: tt}}
	}
	if v.Doc != "" {
		vi.DocString = proto.String(v.Doc)
	}
	if err := merge(v.Extra, vi); err != nil {
		e.errs = append(e.errs, fmt.Errorf("onnxio: value %q: bad Extra: %v", v.Name, err))
	}
	return vi
}

// node converts n, adapting core ops to the export opset.
func (e *exporter) node(n *ir.Node) (*onnxpb.NodeProto, error) {
	c := *n
	c.Inputs = append([]*ir.Value(nil), n.Inputs...)
	c.Attrs = append([]ir.Attr(nil), n.Attrs...)
	np := &onnxpb.NodeProto{}
	switch {
	case c.Op == ir.OpOpaque:
		if c.OpType == "" {
			return nil, fmt.Errorf("onnxio: node %q: opaque node has no op type", c.Name)
		}
		np.OpType = proto.String(c.OpType)
		if c.Domain != "" {
			np.Domain = proto.String(c.Domain)
			if !isDefaultDomain(c.Domain) && !e.seen[c.Domain] {
				e.seen[c.Domain] = true
				e.domains = append(e.domains, c.Domain)
			}
		}
	case c.Op > ir.OpOpaque && c.Op.String() != "Invalid":
		if r := opRules[c.Op]; r.down != nil {
			if err := r.down(e, &c); err != nil {
				return nil, fmt.Errorf("onnxio: %v", err)
			}
		}
		np.OpType = proto.String(c.Op.String())
	default:
		return nil, fmt.Errorf("onnxio: node %q: invalid op %d", c.Name, c.Op)
	}
	for _, x := range c.Inputs {
		if x == nil {
			np.Input = append(np.Input, "")
		} else {
			np.Input = append(np.Input, x.Name)
		}
	}
	for _, x := range c.Outputs {
		if x == nil {
			np.Output = append(np.Output, "")
		} else {
			np.Output = append(np.Output, x.Name)
		}
	}
	if c.Name != "" {
		np.Name = proto.String(c.Name)
	}
	for _, a := range c.Attrs {
		ap, err := attrToProto(a)
		if err != nil {
			return nil, fmt.Errorf("onnxio: node %q (%s): %v", c.Name, c.TypeName(), err)
		}
		np.Attribute = append(np.Attribute, ap)
	}
	if c.Doc != "" {
		np.DocString = proto.String(c.Doc)
	}
	if err := merge(c.Extra, np); err != nil {
		return nil, fmt.Errorf("onnxio: node %q (%s): bad Extra: %v", c.Name, c.TypeName(), err)
	}
	return np, nil
}
