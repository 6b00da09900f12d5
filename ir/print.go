package ir

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
)

// DefaultInlineLimit is the largest element count Fprint prints inline when a
// sidecar is configured and PrintOptions.InlineLimit is zero.
const DefaultInlineLimit = 16

// PrintOptions controls Fprint.
type PrintOptions struct {
	// InlineLimit is the largest number of elements a tensor may have to be
	// printed inline when Sidecar is set (0 means DefaultInlineLimit).
	// Without a sidecar every tensor is printed inline in full.
	InlineLimit int
	// Sidecar, when non-nil, receives the little-endian data of larger
	// tensors back to back; the text refers to each as
	// sidecar("SidecarName", offset, length).
	Sidecar io.Writer
	// SidecarName is the file name written in sidecar references, relative
	// to the directory of the .fir file.
	SidecarName string
	// Elide, when Sidecar is nil, prints the data of tensors larger than
	// InlineLimit as "elided": for reading IR dumps of big models. The
	// output is lossy and Parse rejects it.
	Elide bool
}

// Print returns the .fir text of g with every tensor inline, so that
// Parse(Print(g)) reproduces g exactly (see Equal).
func Print(g *Graph) string {
	var sb strings.Builder
	_ = Fprint(&sb, g, PrintOptions{}) // a strings.Builder never fails
	return sb.String()
}

// Fprint writes the .fir text of g to w, sending large tensors to
// opts.Sidecar when it is set.
func Fprint(w io.Writer, g *Graph, opts PrintOptions) error {
	if g == nil {
		return errors.New("ir: print: nil graph")
	}
	p := &printer{opts: opts}
	if p.opts.InlineLimit <= 0 {
		p.opts.InlineLimit = DefaultInlineLimit
	}
	p.graph(g)
	if p.err != nil {
		return p.err
	}
	_, err := w.Write(p.buf.Bytes())
	return err
}

type printer struct {
	buf  bytes.Buffer
	opts PrintOptions
	off  int64 // bytes written to the sidecar so far
	err  error
}

func (p *printer) printf(format string, args ...any) { fmt.Fprintf(&p.buf, format, args...) }
func (p *printer) str(s string)                      { p.buf.WriteString(s) }

func (p *printer) graph(g *Graph) {
	p.printf("graph @%s(", quoteName(g.Name))
	for i, v := range g.Inputs {
		if i > 0 {
			p.str(", ")
		}
		p.ref(v)
		p.str(": ")
		p.valueType(v)
	}
	p.str(") {\n")
	p.meta(g)
	for _, v := range g.Params {
		p.param(v)
	}
	for _, n := range g.Nodes {
		p.node(n)
	}
	p.str("  return")
	for i, v := range g.Outputs {
		if i > 0 {
			p.str(",")
		}
		p.str(" ")
		p.ref(v)
	}
	p.str("\n}\n")
}

func (p *printer) meta(g *Graph) {
	for _, m := range []struct{ key, val string }{
		{"doc", g.Doc}, {"model_doc", g.ModelDoc}, {"producer", g.Producer},
		{"producer_version", g.ProducerVersion}, {"domain", g.ModelDomain},
	} {
		if m.val != "" {
			p.printf("  meta %s %s\n", m.key, strconv.Quote(m.val))
		}
	}
	if g.ModelVersion != 0 {
		p.printf("  meta model_version %d\n", g.ModelVersion)
	}
	if g.IRVersion != 0 {
		p.printf("  meta ir_version %d\n", g.IRVersion)
	}
	for _, m := range g.Metadata {
		p.printf("  meta prop %s %s\n", strconv.Quote(m.Key), strconv.Quote(m.Value))
	}
	if len(g.Extra) > 0 {
		p.printf("  meta extra %s\n", bytesLit(g.Extra))
	}
	if len(g.ModelExtra) > 0 {
		p.printf("  meta model_extra %s\n", bytesLit(g.ModelExtra))
	}
	for _, o := range g.Opsets {
		p.printf("  opset %s %d\n", strconv.Quote(o.Domain), o.Version)
	}
}

// ref prints a use of v: %name, or _ for an omitted optional value.
func (p *printer) ref(v *Value) {
	if v == nil {
		p.str("_")
		return
	}
	p.str("%" + quoteName(v.Name))
}

func (p *printer) valueType(v *Value) {
	if v == nil {
		p.str("<nil value>") // deliberately unparsable
		return
	}
	p.typ(v.DType, v.Shape)
	p.annots(v.Doc, v.Extra)
}

func (p *printer) annots(doc string, extra []byte) {
	if doc != "" {
		p.str(" doc " + strconv.Quote(doc))
	}
	if len(extra) > 0 {
		p.str(" extra " + bytesLit(extra))
	}
}

func (p *printer) typ(dt DType, s Shape) {
	p.str(dt.String())
	if s == nil {
		p.str("[*]")
		return
	}
	p.str("[")
	for i, d := range s {
		if i > 0 {
			p.str(",")
		}
		switch {
		case d.Sym != "":
			p.str(quotePlain(d.Sym))
		case d.Size < 0:
			p.str("?")
		default:
			p.str(strconv.FormatInt(d.Size, 10))
		}
	}
	p.str("]")
}

func (p *printer) param(v *Value) {
	p.str("  ")
	p.ref(v)
	p.str(" = param ")
	if v == nil {
		p.str("<nil value>\n") // deliberately unparsable
		return
	}
	if v.Const == nil {
		p.str("none : ")
		p.typ(v.DType, v.Shape)
	} else {
		p.tensor(v.Const)
		if v.DType != v.Const.DType || !v.Shape.Equal(Static(v.Const.Dims...)) {
			p.str(" : ")
			p.typ(v.DType, v.Shape)
		}
	}
	p.annots(v.Doc, v.Extra)
	p.str("\n")
}

func (p *printer) node(n *Node) {
	p.str("  ")
	if n == nil {
		p.str("<nil node>\n") // deliberately unparsable
		return
	}
	if len(n.Outputs) > 0 {
		for i, o := range n.Outputs {
			if i > 0 {
				p.str(", ")
			}
			p.ref(o)
		}
		p.str(" = ")
	}
	p.str(opTypeText(n))
	var first string
	if len(n.Outputs) > 0 && n.Outputs[0] != nil {
		first = n.Outputs[0].Name
	}
	if n.Name != first {
		p.str(" " + strconv.Quote(n.Name))
	}
	p.str("(")
	for i, in := range n.Inputs {
		if i > 0 {
			p.str(", ")
		}
		p.ref(in)
	}
	p.str(")")
	if len(n.Attrs) > 0 {
		p.str(" {")
		for i := range n.Attrs {
			if i > 0 {
				p.str(", ")
			}
			p.attr(&n.Attrs[i])
		}
		p.str("}")
	}
	p.annots(n.Doc, n.Extra)
	sep := " : "
	for _, o := range n.Outputs {
		if o != nil {
			p.str(sep)
			p.valueType(o)
			sep = ", "
		}
	}
	p.str("\n")
}

// opTypeText spells n's operator: the core op name, domain.OpType for opaque
// operators, or "domain".OpType when a bare spelling would be ambiguous.
func opTypeText(n *Node) string {
	if n.Op != OpOpaque {
		return n.Op.String()
	}
	if isIdent(n.OpType) {
		if n.Domain == "" {
			if _, core := LookupOp(n.OpType); !core {
				return n.OpType
			}
		} else if isDotted(n.Domain) {
			return n.Domain + "." + n.OpType
		}
	}
	return strconv.Quote(n.Domain) + "." + quoteIdent(n.OpType)
}

func (p *printer) attr(a *Attr) {
	p.str(quotePlain(a.Name) + "=")
	switch a.Kind {
	case AttrInt:
		p.str(strconv.FormatInt(a.Int, 10))
	case AttrFloat:
		p.str(floatAttr(a.Float))
	case AttrString:
		p.str(strconv.Quote(a.Str))
	case AttrInts:
		if len(a.Ints) == 0 {
			p.str("ints[]")
			break
		}
		p.str("[")
		for i, v := range a.Ints {
			if i > 0 {
				p.str(",")
			}
			p.str(strconv.FormatInt(v, 10))
		}
		p.str("]")
	case AttrFloats:
		if len(a.Floats) == 0 {
			p.str("floats[]")
			break
		}
		p.str("[")
		for i, v := range a.Floats {
			if i > 0 {
				p.str(", ")
			}
			p.str(floatAttr(v))
		}
		p.str("]")
	case AttrStrings:
		if len(a.Strs) == 0 {
			p.str("strings[]")
			break
		}
		p.str("[")
		for i, v := range a.Strs {
			if i > 0 {
				p.str(", ")
			}
			p.str(strconv.Quote(v))
		}
		p.str("]")
	case AttrTensor:
		if a.Tensor == nil {
			p.str("none")
			break
		}
		p.tensor(a.Tensor)
	case AttrRaw:
		p.str(bytesLit(a.Raw))
	default:
		// Deliberately unparsable: the IR has no spelling for this kind.
		p.str(a.Kind.String())
	}
}

// tensor prints "dtype[dims] data", where data is the Init recipe when it
// reproduces the data, a sidecar reference for large tensors, or the elements.
func (p *printer) tensor(t *Tensor) {
	p.str(t.DType.String() + dimsText(t.Dims) + " ")
	if t.Init != nil && recipeMatches(t) {
		p.str(recipeText(t.Init))
		return
	}
	large := t.Len() > int64(p.opts.InlineLimit)
	switch {
	case p.opts.Sidecar != nil && large:
		if data, ok := tensorBytes(t); ok {
			p.sidecar(data)
		} else {
			p.elements(t) // strings and ragged data stay inline
		}
	case p.opts.Elide && large:
		p.str("elided")
	default:
		p.elements(t)
	}
	if t.Init != nil {
		p.str(" init " + recipeText(t.Init))
	}
}

func (p *printer) sidecar(data []byte) {
	if _, err := p.opts.Sidecar.Write(data); err != nil && p.err == nil {
		p.err = fmt.Errorf("ir: print: sidecar: %w", err)
	}
	p.printf("sidecar(%s, %d, %d)", strconv.Quote(p.opts.SidecarName), p.off, len(data))
	p.off += int64(len(data))
}

// elements prints the data of t as an element list, or as a bytes literal
// when its dtype has no element spelling or the raw data is ragged.
func (p *printer) elements(t *Tensor) {
	var elems []string
	switch t.DType {
	case Float32:
		elems = make([]string, len(t.F32))
		for i, v := range t.F32 {
			elems[i] = formatF32(v)
		}
	case Int64:
		elems = make([]string, len(t.I64))
		for i, v := range t.I64 {
			elems[i] = strconv.FormatInt(v, 10)
		}
	case String:
		elems = make([]string, len(t.Strs))
		for i, v := range t.Strs {
			elems[i] = strconv.Quote(v)
		}
	default:
		sz := t.DType.Size()
		if !rawListable(t.DType) || len(t.Raw)%sz != 0 {
			p.str(bytesLit(t.Raw))
			return
		}
		elems = make([]string, len(t.Raw)/sz)
		for i := range elems {
			elems[i] = formatRawElem(t.DType, t.Raw[i*sz:(i+1)*sz])
		}
	}
	p.str("[" + strings.Join(elems, ", ") + "]")
}

// rawListable reports whether dtype d (stored in Tensor.Raw) is printed as
// an element list rather than a bytes literal.
func rawListable(d DType) bool {
	switch d {
	case Uint8, Int8, Uint16, Int16, Int32, Uint32, Uint64, Bool, Float16, BFloat16, Float64:
		return true
	}
	return false
}

func formatRawElem(d DType, b []byte) string {
	switch d {
	case Uint8:
		return strconv.FormatUint(uint64(b[0]), 10)
	case Int8:
		return strconv.FormatInt(int64(int8(b[0])), 10)
	case Bool:
		switch b[0] {
		case 0:
			return "false"
		case 1:
			return "true"
		}
		return strconv.FormatUint(uint64(b[0]), 10)
	case Uint16:
		return strconv.FormatUint(uint64(binary.LittleEndian.Uint16(b)), 10)
	case Int16:
		return strconv.FormatInt(int64(int16(binary.LittleEndian.Uint16(b))), 10)
	case Int32:
		return strconv.FormatInt(int64(int32(binary.LittleEndian.Uint32(b))), 10)
	case Uint32:
		return strconv.FormatUint(uint64(binary.LittleEndian.Uint32(b)), 10)
	case Uint64:
		return strconv.FormatUint(binary.LittleEndian.Uint64(b), 10)
	case Float64:
		return formatF64(math.Float64frombits(binary.LittleEndian.Uint64(b)))
	case Float16:
		h := binary.LittleEndian.Uint16(b)
		if h&0x7c00 == 0x7c00 && h&0x3ff != 0 {
			return fmt.Sprintf("nan(0x%04x)", h)
		}
		return formatF32(HalfToFloat32(h))
	case BFloat16:
		h := binary.LittleEndian.Uint16(b)
		if h&0x7f80 == 0x7f80 && h&0x7f != 0 {
			return fmt.Sprintf("nan(0x%04x)", h)
		}
		return formatF32(math.Float32frombits(uint32(h) << 16))
	}
	return "?"
}

// tensorBytes returns t's data in the sidecar layout (little-endian
// elements), or false when t's data does not fill its dims.
func tensorBytes(t *Tensor) ([]byte, bool) {
	if t.CheckData() != nil {
		return nil, false
	}
	switch t.DType {
	case Float32:
		b := make([]byte, 4*len(t.F32))
		for i, v := range t.F32 {
			binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(v))
		}
		return b, true
	case Int64:
		b := make([]byte, 8*len(t.I64))
		for i, v := range t.I64 {
			binary.LittleEndian.PutUint64(b[8*i:], uint64(v))
		}
		return b, true
	case String:
		return nil, false
	}
	return t.Raw, true
}

// recipeMatches reports whether t's data is exactly what its Init recipe
// produces, so that printing the recipe loses nothing.
func recipeMatches(t *Tensor) bool {
	if t.DType != Float32 || len(t.I64) > 0 || len(t.Raw) > 0 || len(t.Strs) > 0 {
		return false
	}
	n, ok := checkedElements(t.Dims)
	if !ok || n != int64(len(t.F32)) || n > maxRecipeElements {
		return false
	}
	want := t.Init.Materialize(t.Dims).F32
	for i, v := range t.F32 {
		if math.Float32bits(v) != math.Float32bits(want[i]) {
			return false
		}
	}
	return true
}

// recipeParams names the two parameters of each recipe kind.
var recipeParams = map[string][2]string{"normal": {"mean", "std"}, "uniform": {"low", "high"}}

func recipeNames(kind string) [2]string {
	if names, ok := recipeParams[kind]; ok {
		return names
	}
	return [2]string{"a", "b"}
}

func recipeText(in *Init) string {
	names := recipeNames(in.Kind)
	s := fmt.Sprintf("%s(seed=%d, %s=%s, %s=%s", quoteIdent(in.Kind), in.Seed,
		names[0], formatF64(in.A), names[1], formatF64(in.B))
	if in.Abs {
		s += ", abs"
	}
	return s + ")"
}

// formatF32 formats v with the fewest digits that parse back to the same
// bits; NaNs other than the canonical quiet NaN carry their bit pattern.
func formatF32(v float32) string {
	bits := math.Float32bits(v)
	switch {
	case v != v && bits == canonNaN32:
		return "nan"
	case v != v:
		return fmt.Sprintf("nan(0x%08x)", bits)
	case math.IsInf(float64(v), 1):
		return "inf"
	case math.IsInf(float64(v), -1):
		return "-inf"
	}
	return strconv.FormatFloat(float64(v), 'g', -1, 32)
}

// formatF64 is formatF32 for float64.
func formatF64(v float64) string {
	bits := math.Float64bits(v)
	switch {
	case v != v && bits == canonNaN64:
		return "nan"
	case v != v:
		return fmt.Sprintf("nan(0x%016x)", bits)
	case math.IsInf(v, 1):
		return "inf"
	case math.IsInf(v, -1):
		return "-inf"
	}
	return strconv.FormatFloat(v, 'g', -1, 64)
}

const (
	canonNaN32 = 0x7fc00000
	canonNaN64 = 0x7ff8000000000000
)

// floatAttr formats a float attribute so that it never reads as an integer.
func floatAttr(v float32) string {
	s := formatF32(v)
	if strings.IndexAny(s, ".eEn") < 0 { // not nan, inf, exponent or fraction
		s += ".0"
	}
	return s
}

// dimsText formats tensor dims as "[8,1,3,3]".
func dimsText(dims []int64) string {
	parts := make([]string, len(dims))
	for i, d := range dims {
		parts[i] = strconv.FormatInt(d, 10)
	}
	return "[" + strings.Join(parts, ",") + "]"
}

func bytesLit(b []byte) string { return `x"` + hex.EncodeToString(b) + `"` }

// reserved words are quoted wherever a bare identifier could be read as them.
var reserved = map[string]bool{
	"graph": true, "param": true, "opset": true, "meta": true, "return": true, "doc": true, "extra": true,
	"init": true, "sidecar": true, "elided": true, "none": true, "_": true, "inf": true, "nan": true, "true": true, "false": true,
	"ints": true, "floats": true, "strings": true, "x": true,
}

// isPlain reports whether s is an identifier [A-Za-z_][A-Za-z0-9_]*.
func isPlain(s string) bool {
	if s == "" || isDigit(s[0]) {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isIdentChar(s[i]) {
			return false
		}
	}
	return true
}

// isIdent reports whether s is an identifier and not a reserved word.
func isIdent(s string) bool { return isPlain(s) && !reserved[s] }

// isDotted reports whether s is identifiers joined by dots (an op domain).
func isDotted(s string) bool {
	for _, part := range strings.Split(s, ".") {
		if !isIdent(part) {
			return false
		}
	}
	return true
}

// isName reports whether s can follow % or @ unquoted: letters, digits and
// _ . / - (PyTorch's "/layer1/conv/Conv_output_0"), without "//".
func isName(s string) bool {
	if s == "" || strings.Contains(s, "//") {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isNameChar(s[i]) {
			return false
		}
	}
	return true
}

func isNameChar(c byte) bool { return isIdentChar(c) || c == '.' || c == '/' || c == '-' }

func isDigit(c byte) bool { return '0' <= c && c <= '9' }
func isIdentChar(c byte) bool {
	return c == '_' || isDigit(c) || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
}

func quoteIdent(s string) string {
	if isIdent(s) {
		return s
	}
	return strconv.Quote(s)
}

// quotePlain quotes s unless it is an identifier; reserved words stay bare
// (for attribute names and dims, where no keyword can appear).
func quotePlain(s string) string {
	if isPlain(s) {
		return s
	}
	return strconv.Quote(s)
}

func quoteName(s string) string {
	if isName(s) {
		return s
	}
	return strconv.Quote(s)
}
