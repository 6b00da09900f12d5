package ir

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// ParseError is a syntax or reference error in .fir text, printed as
// "name:line:col: message" with 1-based line and byte column.
type ParseError struct {
	Name      string
	Line, Col int
	Msg       string
}

// Error formats e as "name:line:col: message".
func (e *ParseError) Error() string { return fmt.Sprintf("%s:%d:%d: %s", e.Name, e.Line, e.Col, e.Msg) }

// ParseOptions controls ParseWith.
type ParseOptions struct {
	// FirstLine is the line number of the first line of src in its file
	// (0 means 1), so that errors in a Case point into the whole file.
	FirstLine int
	// Dir is the directory sidecar references are resolved against. When
	// empty, a sidecar reference is an error.
	Dir string
}

// Parse parses one graph in the .fir format; name is used in error
// positions. Sidecar references are an error (use ParseFile).
func Parse(name string, src []byte) (*Graph, error) {
	return ParseWith(name, src, ParseOptions{})
}

// ParseFile parses the .fir file at path, resolving sidecar references
// relative to the file's directory.
func ParseFile(path string) (*Graph, error) {
	src, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("ir: %w", err)
	}
	return ParseWith(path, src, ParseOptions{Dir: filepath.Dir(path)})
}

// ParseWith parses one graph in the .fir format with the given options.
func ParseWith(name string, src []byte, opts ParseOptions) (g *Graph, err error) {
	p := &parser{name: name, src: src, line: 1, lineStart: 0, opts: opts,
		defs: make(map[string]token), vals: make(map[string]*Value)}
	if p.opts.FirstLine <= 0 {
		p.opts.FirstLine = 1
	}
	defer func() {
		if r := recover(); r != nil {
			pe, ok := r.(*ParseError)
			if !ok {
				panic(r)
			}
			g, err = nil, pe
		}
	}()
	p.advance()
	return p.file(), nil
}

// Case is one graph of a file holding several, separated by "// -----" lines.
type Case struct {
	Src  []byte // the case's text, without the separator lines
	Line int    // line number of Src's first line in the whole file
}

// SplitCases splits src at lines consisting of "// -----" (MLIR's
// -split-input-file convention). Parse a case with
// ParseWith(name, c.Src, ParseOptions{FirstLine: c.Line}) so that error
// positions refer to the whole file.
func SplitCases(src []byte) []Case {
	var cases []Case
	start, startLine, line := 0, 1, 1
	for i := 0; i <= len(src); {
		end := bytes.IndexByte(src[i:], '\n')
		next := len(src) + 1
		if end >= 0 {
			end += i
			next = end + 1
		} else {
			end = len(src)
		}
		if string(bytes.TrimSpace(src[i:end])) == "// -----" {
			cases = append(cases, Case{Src: src[start:i], Line: startLine})
			start, startLine = min(next, len(src)), line+1
		}
		i = next
		line++
	}
	return append(cases, Case{Src: src[start:], Line: startLine})
}

// Limits that keep hostile input from exhausting memory.
const (
	maxTensorElements = 1 << 40 // any tensor, to rule out overflow
	maxRecipeElements = 1 << 24 // tensors materialized from a recipe (16M elements, 64 MB)
	// All recipe tensors of one file together (256M elements, 1 GiB): a
	// line of text must not be able to demand gigabytes.
	maxTotalRecipeElements = 1 << 28
)

// checkedElements returns the element count of dims, or false when a dim
// is negative or the count exceeds maxTensorElements.
func checkedElements(dims []int64) (int64, bool) {
	n := int64(1)
	for _, d := range dims {
		if d < 0 {
			return 0, false
		}
		if d != 0 && n > maxTensorElements/d {
			return 0, false
		}
		n *= d
	}
	return n, true
}

type tokKind uint8

const (
	tEOF    tokKind = iota
	tNL             // end of line
	tIdent          // foo, com.microsoft.Foo
	tValue          // %name
	tGlobal         // @name
	tString         // "..." (text holds the unquoted value)
	tBytes          // x"0a1b"
	tInt            // 12, -3
	tFloat          // 1.5, 1e-05, -inf
	tPunct          // one of ( ) [ ] { } , = : * ? .
)

type token struct {
	kind      tokKind
	text      string
	raw       []byte // tBytes
	line, col int
}

func (t token) String() string {
	switch t.kind {
	case tEOF:
		return "end of input"
	case tNL:
		return "newline"
	case tString:
		return "string " + strconv.Quote(t.text)
	case tBytes:
		return "bytes literal"
	case tValue:
		return "%" + quoteName(t.text)
	case tGlobal:
		return "@" + quoteName(t.text)
	}
	return "'" + t.text + "'"
}

type fixup struct {
	slot *[]*Value
	i    int
	tok  token
}

type parser struct {
	name      string
	src       []byte
	opts      ParseOptions
	off       int // next byte to lex
	line      int
	lineStart int
	tok       token // current token

	defs     map[string]token // where each value was defined
	vals     map[string]*Value
	fixups   []fixup
	sidecars map[string][]byte

	// Recipe tensors are materialized once the whole file has parsed and
	// their total size is known to be within maxTotalRecipeElements.
	recipes     []*Tensor
	recipeElems int64
}

func (p *parser) failAt(line, col int, format string, args ...any) {
	panic(&ParseError{Name: p.name, Line: line + p.opts.FirstLine - 1, Col: col, Msg: fmt.Sprintf(format, args...)})
}

func (p *parser) errorf(t token, format string, args ...any) {
	p.failAt(t.line, t.col, format, args...)
}

// advance lexes the next token into p.tok.
func (p *parser) advance() {
	src := p.src
	for p.off < len(src) {
		c := src[p.off]
		if c == ' ' || c == '\t' || c == '\r' {
			p.off++
		} else if c == '/' && p.off+1 < len(src) && src[p.off+1] == '/' {
			for p.off < len(src) && src[p.off] != '\n' {
				p.off++
			}
		} else {
			break
		}
	}
	t := token{line: p.line, col: p.off - p.lineStart + 1}
	if p.off >= len(src) {
		t.kind = tEOF
		p.tok = t
		return
	}
	start := p.off
	c := src[p.off]
	switch {
	case c == '\n':
		t.kind, t.text = tNL, "\n"
		p.off++
		p.line++
		p.lineStart = p.off
	case c == '%' || c == '@':
		t.kind = tValue
		if c == '@' {
			t.kind = tGlobal
		}
		p.off++
		if p.off < len(src) && src[p.off] == '"' {
			t.text = p.lexString(t)
		} else {
			for p.off < len(src) && isNameChar(src[p.off]) && !bytes.HasPrefix(src[p.off:], []byte("//")) {
				p.off++
			}
			t.text = string(src[start+1 : p.off])
			if t.text == "" {
				p.errorf(t, "expected name after %c", c)
			}
		}
	case c == '"':
		t.kind, t.text = tString, p.lexString(t)
	case c == 'x' && p.off+1 < len(src) && src[p.off+1] == '"':
		p.off++
		s := p.lexString(t)
		b, err := hex.DecodeString(s)
		if err != nil {
			p.errorf(t, "invalid bytes literal: %v", err)
		}
		t.kind, t.raw = tBytes, b
	case isIdentChar(c) && !isDigit(c):
		for p.off < len(src) && (isIdentChar(src[p.off]) || src[p.off] == '.') {
			p.off++
		}
		t.kind, t.text = tIdent, string(src[start:p.off])
	case isDigit(c) || c == '-':
		t.kind, t.text = p.lexNumber(t)
	case strings.IndexByte("()[]{},=:*?.", c) >= 0:
		t.kind, t.text = tPunct, string(c)
		p.off++
	default:
		p.errorf(t, "unexpected character %q", rune(c))
	}
	p.tok = t
}

// lexString lexes a Go double-quoted string at p.off and returns its value.
func (p *parser) lexString(t token) string {
	src := p.src
	i := p.off + 1
	for i < len(src) && src[i] != '"' && src[i] != '\n' {
		if src[i] == '\\' {
			i++
		}
		i++
	}
	if i >= len(src) || src[i] != '"' {
		p.errorf(t, "unterminated string literal")
	}
	s, err := strconv.Unquote(string(src[p.off : i+1]))
	if err != nil {
		p.errorf(t, "invalid string literal: %v", err)
	}
	p.off = i + 1
	return s
}

func (p *parser) lexNumber(t token) (tokKind, string) {
	src := p.src
	start := p.off
	if src[p.off] == '-' {
		p.off++
		if bytes.HasPrefix(src[p.off:], []byte("inf")) {
			p.off += 3
			if p.off < len(src) && isIdentChar(src[p.off]) {
				p.errorf(t, "invalid number")
			}
			return tFloat, "-inf"
		}
	}
	digits := func() int {
		n := 0
		for p.off < len(src) && isDigit(src[p.off]) {
			p.off++
			n++
		}
		return n
	}
	kind := tInt
	if bytes.HasPrefix(src[p.off:], []byte("0x")) {
		p.off += 2
		n := 0
		for p.off < len(src) && strings.IndexByte("0123456789abcdefABCDEF", src[p.off]) >= 0 {
			p.off++
			n++
		}
		if n == 0 {
			p.errorf(t, "invalid number")
		}
	} else {
		n := digits()
		if p.off < len(src) && src[p.off] == '.' {
			kind = tFloat
			p.off++
			n += digits()
		}
		if n == 0 {
			p.errorf(t, "invalid number")
		}
		if p.off < len(src) && (src[p.off] == 'e' || src[p.off] == 'E') {
			kind = tFloat
			p.off++
			if p.off < len(src) && (src[p.off] == '+' || src[p.off] == '-') {
				p.off++
			}
			if digits() == 0 {
				p.errorf(t, "invalid number")
			}
		}
	}
	if p.off < len(src) && (isIdentChar(src[p.off]) || src[p.off] == '.') {
		p.errorf(t, "invalid number")
	}
	return kind, string(src[start:p.off])
}

func (p *parser) next() token {
	t := p.tok
	p.advance()
	return t
}

func (p *parser) isPunct(c string) bool { return p.tok.kind == tPunct && p.tok.text == c }
func (p *parser) isWord(w string) bool  { return p.tok.kind == tIdent && p.tok.text == w }

func (p *parser) accept(c string) bool {
	if p.isPunct(c) {
		p.advance()
		return true
	}
	return false
}

func (p *parser) expect(c string) token {
	if !p.isPunct(c) {
		p.errorf(p.tok, "expected '%s', found %s", c, p.tok)
	}
	return p.next()
}

func (p *parser) expectKind(k tokKind, what string) token {
	if p.tok.kind != k {
		p.errorf(p.tok, "expected %s, found %s", what, p.tok)
	}
	return p.next()
}

func (p *parser) expectWord(w string) {
	if !p.isWord(w) {
		p.errorf(p.tok, "expected %s, found %s", w, p.tok)
	}
	p.advance()
}

func (p *parser) endLine() {
	if p.tok.kind != tNL {
		p.errorf(p.tok, "expected end of line, found %s", p.tok)
	}
	p.skipNL()
}

func (p *parser) skipNL() {
	for p.tok.kind == tNL {
		p.advance()
	}
}

func (p *parser) file() *Graph {
	p.skipNL()
	p.expectWord("graph")
	g := &Graph{Name: p.expectKind(tGlobal, "graph name @name").text}
	p.expect("(")
	if !p.accept(")") {
		for {
			v := p.define(p.expectKind(tValue, "input %name"))
			p.expect(":")
			p.valueType(v)
			g.Inputs = append(g.Inputs, v)
			if p.accept(")") {
				break
			}
			p.expect(",")
		}
	}
	p.expect("{")
	p.endLine()
	p.body(g)
	p.expect("}")
	p.skipNL()
	if p.tok.kind != tEOF {
		p.errorf(p.tok, "expected end of input after graph, found %s (separate graphs with // -----)", p.tok)
	}
	for _, f := range p.fixups {
		v, ok := p.vals[f.tok.text]
		if !ok {
			p.errorf(f.tok, "undefined value %s", f.tok)
		}
		(*f.slot)[f.i] = v
	}
	for _, t := range p.recipes {
		m := t.Init.Materialize(t.Dims)
		t.F32, t.Init = m.F32, m.Init
	}
	return g
}

func (p *parser) body(g *Graph) {
	seen := make(map[string]bool)
	for {
		t := p.tok
		switch {
		case p.isPunct("}"):
			p.errorf(t, "graph has no return statement")
		case p.isWord("meta"):
			p.advance()
			p.meta(g, seen)
		case p.isWord("opset"):
			p.advance()
			dom := p.expectKind(tString, "opset domain string").text
			g.Opsets = append(g.Opsets, OpsetImport{Domain: dom, Version: p.int64()})
		case p.isWord("return"):
			p.advance()
			var refs []token
			if p.tok.kind != tNL {
				for {
					if p.isWord("_") {
						refs = append(refs, p.next())
					} else {
						refs = append(refs, p.expectKind(tValue, "output %name or _"))
					}
					if !p.accept(",") {
						break
					}
				}
			}
			g.Outputs = make([]*Value, len(refs))
			p.uses(&g.Outputs, refs)
			p.endLine()
			if !p.isPunct("}") {
				p.errorf(p.tok, "expected '}' after return, found %s", p.tok)
			}
			return
		case t.kind == tValue || p.isWord("_"):
			outs := p.outputs()
			if p.isWord("param") {
				if len(outs) != 1 || outs[0] == nil {
					p.errorf(t, "param defines exactly one value")
				}
				p.advance()
				g.Params = append(g.Params, p.param(outs[0]))
			} else {
				g.Nodes = append(g.Nodes, p.node(outs))
			}
		case t.kind == tIdent || t.kind == tString:
			g.Nodes = append(g.Nodes, p.node(nil))
		default:
			p.errorf(t, "expected statement, found %s", t)
		}
		p.endLine()
	}
}

func (p *parser) meta(g *Graph, seen map[string]bool) {
	key := p.expectKind(tIdent, "meta key")
	if key.text != "prop" {
		if seen[key.text] {
			p.errorf(key, "duplicate meta %s", key.text)
		}
		seen[key.text] = true
	}
	str := func() string { return p.expectKind(tString, "string").text }
	raw := func() []byte { return p.expectKind(tBytes, `bytes literal x"..."`).raw }
	switch key.text {
	case "doc":
		g.Doc = str()
	case "model_doc":
		g.ModelDoc = str()
	case "producer":
		g.Producer = str()
	case "producer_version":
		g.ProducerVersion = str()
	case "domain":
		g.ModelDomain = str()
	case "model_version":
		g.ModelVersion = p.int64()
	case "ir_version":
		g.IRVersion = p.int64()
	case "prop":
		k := str()
		g.Metadata = append(g.Metadata, MetaProp{Key: k, Value: str()})
	case "extra":
		g.Extra = raw()
	case "model_extra":
		g.ModelExtra = raw()
	default:
		p.errorf(key, "unknown meta key %s", key.text)
	}
}

// define creates the value named by t, which must not exist yet.
func (p *parser) define(t token) *Value {
	if prev, ok := p.defs[t.text]; ok {
		p.errorf(t, "value %s redefined (first defined at %d:%d)", t, prev.line+p.opts.FirstLine-1, prev.col)
	}
	v := &Value{Name: t.text}
	p.defs[t.text] = t
	p.vals[t.text] = v
	return v
}

// uses records that (*slot)[i] refers to the value named by refs[i]; nil
// tokens (from _) stay nil. References resolve after the whole graph is read.
func (p *parser) uses(slot *[]*Value, refs []token) {
	for i, r := range refs {
		if r.kind == tValue {
			p.fixups = append(p.fixups, fixup{slot: slot, i: i, tok: r})
		}
	}
}

func (p *parser) outputs() []*Value {
	var outs []*Value
	for {
		if p.isWord("_") {
			p.advance()
			outs = append(outs, nil)
		} else {
			outs = append(outs, p.define(p.expectKind(tValue, "output %name or _")))
		}
		if !p.accept(",") {
			break
		}
	}
	p.expect("=")
	return outs
}

func (p *parser) param(v *Value) *Value {
	if p.isWord("none") {
		p.advance()
		p.expect(":")
		v.DType, v.Shape = p.typ()
	} else {
		v.Const = p.tensor()
		v.DType, v.Shape = v.Const.DType, Static(v.Const.Dims...)
		if p.accept(":") {
			v.DType, v.Shape = p.typ()
		}
	}
	v.Doc, v.Extra = p.annots()
	return v
}

func (p *parser) annots() (doc string, extra []byte) {
	var seenDoc, seenExtra bool
	for {
		switch {
		case p.isWord("doc"):
			if seenDoc {
				p.errorf(p.tok, "duplicate doc")
			}
			seenDoc = true
			p.advance()
			doc = p.expectKind(tString, "doc string").text
		case p.isWord("extra"):
			if seenExtra {
				p.errorf(p.tok, "duplicate extra")
			}
			seenExtra = true
			p.advance()
			extra = p.expectKind(tBytes, `bytes literal x"..."`).raw
		default:
			return doc, extra
		}
	}
}

func (p *parser) valueType(v *Value) {
	v.DType, v.Shape = p.typ()
	v.Doc, v.Extra = p.annots()
}

func (p *parser) node(outs []*Value) *Node {
	n := &Node{Outputs: outs}
	p.opType(n)
	if p.tok.kind == tString {
		n.Name = p.next().text
	} else if len(outs) > 0 && outs[0] != nil {
		n.Name = outs[0].Name
	}
	p.expect("(")
	var refs []token
	if !p.accept(")") {
		for {
			if p.isWord("_") {
				refs = append(refs, p.next())
			} else {
				refs = append(refs, p.expectKind(tValue, "input %name or _"))
			}
			if p.accept(")") {
				break
			}
			p.expect(",")
		}
	}
	n.Inputs = make([]*Value, len(refs))
	p.uses(&n.Inputs, refs)
	if p.accept("{") {
		n.Attrs = p.attrs()
	}
	n.Doc, n.Extra = p.annots()
	first := true
	for _, o := range outs {
		if o == nil {
			continue
		}
		if first {
			if !p.isPunct(":") {
				p.errorf(p.tok, "expected ':' and output types, found %s", p.tok)
			}
		} else if !p.isPunct(",") {
			p.errorf(p.tok, "expected ',' and the type of %s, found %s", o, p.tok)
		}
		p.advance()
		first = false
		p.valueType(o)
		o.Def = n
	}
	return n
}

func (p *parser) opType(n *Node) {
	t := p.next()
	switch t.kind {
	case tIdent:
		dom, typ := "", t.text
		if i := strings.LastIndexByte(t.text, '.'); i >= 0 {
			dom, typ = t.text[:i], t.text[i+1:]
		}
		if !isIdent(typ) || dom != "" && !isDotted(dom) {
			p.errorf(t, "invalid op type %s", t.text)
		}
		if dom == "" {
			if op, ok := LookupOp(typ); ok {
				n.Op = op
				return
			}
		}
		n.Op, n.Domain, n.OpType = OpOpaque, dom, typ
	case tString:
		p.expect(".")
		typ := p.next()
		if typ.kind != tIdent && typ.kind != tString {
			p.errorf(typ, "expected op type after domain, found %s", typ)
		}
		n.Op, n.Domain, n.OpType = OpOpaque, t.text, typ.text
	default:
		p.errorf(t, "expected op type, found %s", t)
	}
}

func (p *parser) attrs() []Attr {
	var attrs []Attr
	if p.accept("}") {
		return attrs
	}
	seen := make(map[string]bool)
	for {
		nt := p.next()
		if nt.kind != tIdent && nt.kind != tString {
			p.errorf(nt, "expected attribute name, found %s", nt)
		}
		if seen[nt.text] {
			p.errorf(nt, "duplicate attribute %s", nt.text)
		}
		seen[nt.text] = true
		p.expect("=")
		a := p.attrValue()
		a.Name = nt.text
		attrs = append(attrs, a)
		if p.accept("}") {
			return attrs
		}
		p.expect(",")
	}
}

func (p *parser) attrValue() Attr {
	t := p.tok
	switch {
	case t.kind == tInt:
		return Attr{Kind: AttrInt, Int: p.int64()}
	case t.kind == tFloat || p.isWord("inf") || p.isWord("nan"):
		return Attr{Kind: AttrFloat, Float: p.f32()}
	case t.kind == tString:
		p.advance()
		return Attr{Kind: AttrString, Str: t.text}
	case t.kind == tBytes:
		p.advance()
		return Attr{Kind: AttrRaw, Raw: t.raw}
	case p.isWord("ints") || p.isWord("floats") || p.isWord("strings"):
		p.advance()
		p.expect("[")
		p.expect("]")
		return Attr{Kind: map[string]AttrKind{"ints": AttrInts, "floats": AttrFloats, "strings": AttrStrings}[t.text]}
	case p.isWord("none"):
		p.advance()
		return Attr{Kind: AttrTensor}
	case t.kind == tIdent:
		return Attr{Kind: AttrTensor, Tensor: p.tensor()}
	case p.isPunct("["):
		p.advance()
		return p.attrList()
	}
	p.errorf(t, "expected attribute value, found %s", t)
	return Attr{}
}

// attrList parses the elements of a non-empty list attribute after '['.
func (p *parser) attrList() Attr {
	if p.tok.kind == tString {
		a := Attr{Kind: AttrStrings}
		for {
			a.Strs = append(a.Strs, p.expectKind(tString, "string").text)
			if p.accept("]") {
				return a
			}
			p.expect(",")
		}
	}
	var elems []token
	isFloat := false
	for {
		t := p.floatToken()
		isFloat = isFloat || t.kind != tInt
		elems = append(elems, t)
		if p.accept("]") {
			break
		}
		p.expect(",")
	}
	if !isFloat {
		a := Attr{Kind: AttrInts}
		for _, t := range elems {
			v, err := strconv.ParseInt(t.text, 10, 64)
			if err != nil {
				p.errorf(t, "invalid integer %s", t.text)
			}
			a.Ints = append(a.Ints, v)
		}
		return a
	}
	a := Attr{Kind: AttrFloats}
	for _, t := range elems {
		a.Floats = append(a.Floats, math.Float32frombits(uint32(p.floatText(t, Float32))))
	}
	return a
}

func (p *parser) int64() int64 {
	t := p.expectKind(tInt, "integer")
	v, err := strconv.ParseInt(t.text, 10, 64)
	if err != nil {
		p.errorf(t, "invalid integer %s", t.text)
	}
	return v
}

// floatToken consumes a float spelling: a number, inf, -inf, nan or
// nan(0xBITS), and returns it as one token for floatText.
func (p *parser) floatToken() token {
	t := p.tok
	switch {
	case t.kind == tInt || t.kind == tFloat || p.isWord("inf"):
		p.advance()
	case p.isWord("nan"):
		p.advance()
		if p.accept("(") {
			t.text = "nan(" + p.expectKind(tInt, "NaN bits").text + ")"
			p.expect(")")
		}
	default:
		p.errorf(t, "expected number, found %s", t)
	}
	return t
}

// floatText returns the bits, in dtype dt (f16, bf16, f32 or f64), of
// a float spelling from floatToken. Finite values must be exactly
// representable in f16 and bf16; nan(0xBITS) must spell a NaN of dt.
func (p *parser) floatText(t token, dt DType) uint64 {
	switch {
	case t.text == "nan":
		return map[DType]uint64{Float16: 0x7e00, BFloat16: 0x7fc0, Float32: canonNaN32, Float64: canonNaN64}[dt]
	case strings.HasPrefix(t.text, "nan("):
		b, err := strconv.ParseUint(strings.TrimSuffix(t.text[4:], ")"), 0, 8*dt.Size())
		if err != nil || !isNaNBits(b, dt) {
			p.errorf(t, "%s is not a %v NaN", t.text, dt)
		}
		return b
	}
	var v float64
	switch {
	case t.text == "inf":
		v = math.Inf(1)
	case t.text == "-inf":
		v = math.Inf(-1)
	case strings.Contains(t.text, "0x"):
		p.errorf(t, "invalid float %s", t.text)
	default:
		size := 32
		if dt == Float64 {
			size = 64
		}
		f, err := strconv.ParseFloat(t.text, size)
		if err != nil {
			p.errorf(t, "invalid %v %s: out of range", dt, t.text)
		}
		v = f
	}
	switch dt {
	case Float64:
		return math.Float64bits(v)
	case Float32:
		return uint64(math.Float32bits(float32(v)))
	case BFloat16:
		b := math.Float32bits(float32(v))
		if b&0xffff != 0 {
			p.errorf(t, "%s is not exactly representable as bf16", t.text)
		}
		return uint64(b >> 16)
	}
	h, ok := halfExact(float32(v))
	if !ok {
		p.errorf(t, "%s is not exactly representable as f16", t.text)
	}
	return uint64(h)
}

func isNaNBits(b uint64, dt DType) bool {
	switch dt {
	case Float16:
		return b&0x7c00 == 0x7c00 && b&0x3ff != 0
	case BFloat16:
		return b&0x7f80 == 0x7f80 && b&0x7f != 0
	case Float32:
		return b&0x7f800000 == 0x7f800000 && b&0x7fffff != 0
	}
	return b&0x7ff0000000000000 == 0x7ff0000000000000 && b&0xfffffffffffff != 0
}

func (p *parser) f32() float32 {
	return math.Float32frombits(uint32(p.floatText(p.floatToken(), Float32)))
}

func (p *parser) dtype() DType {
	t := p.expectKind(tIdent, "dtype")
	switch t.text {
	case "undef":
		return Undefined
	case "dtype":
		p.expect("(")
		n := p.expectKind(tInt, "dtype number")
		p.expect(")")
		v, err := strconv.ParseUint(n.text, 10, 8)
		if err != nil {
			p.errorf(n, "invalid dtype number %s", n.text)
		}
		return DType(v)
	}
	dt, ok := ParseDType(t.text)
	if !ok {
		p.errorf(t, "unknown dtype %s", t.text)
	}
	return dt
}

func (p *parser) typ() (DType, Shape) {
	dtTok := p.tok
	dt := p.dtype()
	p.expect("[")
	if p.accept("*") {
		p.expect("]")
		return dt, nil
	}
	s := Shape{}
	if p.accept("]") {
		return dt, s
	}
	for {
		t := p.next()
		switch {
		case t.kind == tInt:
			n, err := strconv.ParseInt(t.text, 10, 64)
			if err != nil || n < 0 {
				p.errorf(t, "invalid dim %s (use ? for an unknown dim)", t.text)
			}
			s = append(s, D(n))
		case t.kind == tIdent || t.kind == tString && t.text != "":
			s = append(s, Sym(t.text))
		case t.kind == tPunct && t.text == "?":
			s = append(s, Unknown)
		default:
			p.errorf(t, "expected dim, found %s", t)
		}
		if p.accept("]") {
			if len(s) > MaxRank {
				p.errorf(dtTok, "rank %d exceeds %d", len(s), MaxRank)
			}
			return dt, s
		}
		p.expect(",")
	}
}

// tensor parses "dtype[dims] data [init recipe]".
func (p *parser) tensor() *Tensor {
	dtTok := p.tok
	t := &Tensor{DType: p.dtype()}
	p.expect("[")
	t.Dims = []int64{}
	if !p.accept("]") {
		for {
			t.Dims = append(t.Dims, p.int64())
			if p.accept("]") {
				break
			}
			p.expect(",")
		}
	}
	n, ok := checkedElements(t.Dims)
	if !ok {
		p.errorf(dtTok, "tensor dims %s are negative or too large", dimsText(t.Dims))
	}
	data := p.tok
	switch {
	case p.isPunct("["):
		p.advance()
		p.elements(t)
	case data.kind == tBytes:
		p.advance()
		if t.DType == Float32 || t.DType == Int64 || t.DType == String {
			p.errorf(data, "%v tensor data must be an element list", t.DType)
		}
		t.Raw = data.raw
	case p.isWord("elided"):
		p.errorf(data, "tensor data was elided by the printer (print without PrintOptions.Elide)")
	case p.isWord("sidecar"):
		p.advance()
		p.sidecar(t, n, data)
	case data.kind == tIdent || data.kind == tString:
		in := p.recipe()
		if t.DType != Float32 {
			p.errorf(data, "recipe %s makes f32 data, not %v", in.Kind, t.DType)
		}
		if n > maxRecipeElements {
			p.errorf(data, "recipe tensor has %d elements, more than %d", n, maxRecipeElements)
		}
		if p.recipeElems += n; p.recipeElems > maxTotalRecipeElements {
			p.errorf(data, "recipe tensors hold more than %d elements in total", int64(maxTotalRecipeElements))
		}
		t.Init = &in
		p.recipes = append(p.recipes, t)
		return t
	default:
		p.errorf(data, "expected tensor data, found %s", data)
	}
	have := n // dtypes of unknown size cannot be checked
	switch sz := t.DType.Size(); {
	case t.DType == Float32:
		have = int64(len(t.F32))
	case t.DType == Int64:
		have = int64(len(t.I64))
	case t.DType == String:
		have = int64(len(t.Strs))
	case sz > 0 && len(t.Raw)%sz != 0:
		p.errorf(data, "%v tensor data has %d bytes, not a multiple of %d", t.DType, len(t.Raw), sz)
	case sz > 0:
		have = int64(len(t.Raw) / sz)
	}
	if have != n {
		p.errorf(data, "%v%s tensor has %d elements, want %d", t.DType, dimsText(t.Dims), have, n)
	}
	if p.isWord("init") {
		p.advance()
		in := p.recipe()
		t.Init = &in
	}
	return t
}

func (p *parser) recipe() Init {
	kt := p.next()
	if kt.kind != tIdent && kt.kind != tString {
		p.errorf(kt, "expected recipe, found %s", kt)
	}
	in := Init{Kind: kt.text}
	p.expect("(")
	p.expectWord("seed")
	p.expect("=")
	st := p.expectKind(tInt, "seed")
	seed, err := strconv.ParseUint(st.text, 10, 64)
	if err != nil {
		p.errorf(st, "invalid seed %s", st.text)
	}
	in.Seed = seed
	names := recipeNames(in.Kind)
	for i, dst := range []*float64{&in.A, &in.B} {
		p.expect(",")
		p.expectWord(names[i])
		p.expect("=")
		*dst = math.Float64frombits(p.floatText(p.floatToken(), Float64))
	}
	if p.accept(",") {
		p.expectWord("abs")
		in.Abs = true
	}
	p.expect(")")
	return in
}

// elements parses an element list (after '[') into t's data field.
func (p *parser) elements(t *Tensor) {
	if p.accept("]") {
		return
	}
	sz := t.DType.Size()
	if t.DType != Float32 && t.DType != Int64 && t.DType != String && !rawListable(t.DType) {
		p.errorf(p.tok, "%v tensor data must be a bytes literal x\"...\"", t.DType)
	}
	var buf [8]byte
	for {
		e := p.tok
		switch t.DType {
		case Float32:
			t.F32 = append(t.F32, p.f32())
		case Int64:
			t.I64 = append(t.I64, p.int64())
		case String:
			t.Strs = append(t.Strs, p.expectKind(tString, "string").text)
		case Bool:
			if p.isWord("true") || p.isWord("false") {
				p.advance()
				buf[0] = 0
				if e.text == "true" {
					buf[0] = 1
				}
			} else {
				buf[0] = byte(p.intElem(8, false))
			}
			t.Raw = append(t.Raw, buf[0])
		case Float16, BFloat16, Float64:
			binary.LittleEndian.PutUint64(buf[:], p.floatText(p.floatToken(), t.DType))
			t.Raw = append(t.Raw, buf[:sz]...)
		default:
			signed := t.DType == Int8 || t.DType == Int16 || t.DType == Int32
			binary.LittleEndian.PutUint64(buf[:], p.intElem(8*sz, signed))
			t.Raw = append(t.Raw, buf[:sz]...)
		}
		if p.accept("]") {
			return
		}
		p.expect(",")
	}
}

// intElem parses an integer of the given width and returns its bits.
func (p *parser) intElem(bits int, signed bool) uint64 {
	t := p.expectKind(tInt, "integer")
	if signed {
		v, err := strconv.ParseInt(t.text, 10, bits)
		if err != nil {
			p.errorf(t, "invalid int%d %s", bits, t.text)
		}
		return uint64(v)
	}
	v, err := strconv.ParseUint(t.text, 10, bits)
	if err != nil {
		p.errorf(t, "invalid uint%d %s", bits, t.text)
	}
	return v
}

// halfExact converts f to IEEE binary16 when f is exactly representable.
func halfExact(f float32) (uint16, bool) {
	b := math.Float32bits(f)
	sign := uint16(b>>16) & 0x8000
	exp := int(b>>23) & 0xff
	frac := b & 0x7fffff
	switch {
	case exp == 0xff:
		return sign | 0x7c00, frac == 0
	case exp == 0 && frac == 0:
		return sign, true
	case exp == 0: // float32 subnormals are far below binary16's range
		return 0, false
	}
	e := exp - 127
	switch {
	case e > 15 || e < -24:
		return 0, false
	case e >= -14:
		return sign | uint16(e+15)<<10 | uint16(frac>>13), frac&0x1fff == 0
	}
	full := frac | 0x800000
	shift := uint(-(e + 1))
	return sign | uint16(full>>shift), full&(1<<shift-1) == 0
}

func (p *parser) sidecar(t *Tensor, n int64, at token) {
	p.expect("(")
	file := p.expectKind(tString, "sidecar file name").text
	p.expect(",")
	offTok := p.tok
	off := p.int64()
	p.expect(",")
	length := p.int64()
	p.expect(")")
	if p.opts.Dir == "" {
		p.errorf(at, "sidecar reference needs a directory (use ParseFile)")
	}
	if p.sidecars == nil {
		p.sidecars = make(map[string][]byte)
	}
	data, ok := p.sidecars[file]
	if !ok {
		// Like ONNX external data, a sidecar lives beside its .fir file: a
		// hostile file must not read /dev/zero or another user's secrets.
		if !filepath.IsLocal(filepath.FromSlash(file)) {
			p.errorf(at, "sidecar %q is not a file in the .fir file's directory", file)
		}
		path := filepath.Join(p.opts.Dir, filepath.FromSlash(file))
		if st, err := os.Stat(path); err == nil && !st.Mode().IsRegular() {
			p.errorf(at, "sidecar %q is not a regular file", file)
		}
		if real, err := filepath.EvalSymlinks(path); err == nil {
			dir, err := filepath.EvalSymlinks(p.opts.Dir)
			if rel, rerr := filepath.Rel(dir, real); err != nil || rerr != nil || !filepath.IsLocal(rel) {
				p.errorf(at, "sidecar %q links outside the .fir file's directory", file)
			}
		}
		b, err := os.ReadFile(path)
		if err != nil {
			p.errorf(at, "sidecar: %v", err)
		}
		data = b
		p.sidecars[file] = data
	}
	if off < 0 || length < 0 || off > int64(len(data)) || length > int64(len(data))-off {
		p.errorf(offTok, "sidecar range [%d, +%d) outside %q (%d bytes)", off, length, file, len(data))
	}
	if sz := int64(t.DType.Size()); sz > 0 && length != n*sz {
		p.errorf(offTok, "sidecar range has %d bytes, want %d for %v%s", length, n*sz, t.DType, dimsText(t.Dims))
	}
	b := data[off : off+length]
	switch t.DType {
	case Float32:
		t.F32 = make([]float32, len(b)/4)
		for i := range t.F32 {
			t.F32[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
		}
	case Int64:
		t.I64 = make([]int64, len(b)/8)
		for i := range t.I64 {
			t.I64[i] = int64(binary.LittleEndian.Uint64(b[8*i:]))
		}
	case String:
		p.errorf(at, "str tensors cannot live in a sidecar")
	default:
		t.Raw = append([]byte(nil), b...)
	}
}
