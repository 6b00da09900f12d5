// Package ir is Fermi's intermediate representation of a neural network: a
// Graph of Nodes (operations from the core op table in op.go, or opaque
// operators kept verbatim) connected by Values (typed edges), with the
// parameters as constant Tensors. Front ends (onnxio, synth) build graphs,
// passes rewrite them, the engine runs them and targets cost them; all of
// them speak this package's types and nothing else.
//
// # Overview
//
//   - Op and the opTable say everything about an operator: arity,
//     attributes with defaults, property flags, shape inference and cost.
//   - Builder constructs graphs in Go and infers output types as it goes.
//   - Verify checks the invariants below and lists every violation.
//   - Print and Parse convert to and from the .fir text format, the
//     language of golden tests; Equal compares two graphs exactly.
//
// # Invariants
//
// A graph that passes Verify satisfies:
//
//   - Values are defined once: every Value is a graph input, a parameter
//     (Const != nil), or the output of exactly one node (Def points back to
//     it); names are unique and non-empty.
//   - The graph is a DAG, and Graph.Nodes is in topological order: a node
//     only reads values defined by inputs, parameters or earlier nodes.
//   - A nil Shape means the rank is unknown; an empty non-nil Shape is a
//     scalar. A Dim is static (Size ≥ 0), symbolic (Sym != "", Size -1) or
//     unknown (Sym == "", Size -1).
//   - Node inputs may be nil only at optional positions (an omitted input);
//     node outputs may be nil (an omitted optional output).
//   - Output types agree with the op table's shape inference.
//   - Ranks are at most MaxRank (64) and static shapes hold at most 2^48
//     elements, so element counts never overflow.
//
// # Text format
//
// A .fir file holds one graph (several when split into cases by lines
// consisting of "// -----", see SplitCases). Print output is deterministic:
// the same graph always prints the same bytes, and Parse(Print(g)) is equal
// to g in every field that Equal compares, which is all of them except
// Graph.Remarks. Example:
//
//	// tiny-cnn: a conv-bn-relu network
//	graph @tiny_cnn(%input: f32[N,1,28,28]) {
//	  meta ir_version 8
//	  opset "" 17
//	  %w1 = param f32[8,1,3,3] normal(seed=1, mean=0, std=0.33)
//	  %b1 = param f32[8] [0.1, -0.25, 0, 1e-05, 3, 4, 5, 6]
//	  %var = param f32[8] normal(seed=5, mean=1, std=0.2, abs)
//	  %c1 = Conv(%input, %w1, %b1) {kernel_shape=[3,3], pads=[1,1,1,1]} : f32[N,8,28,28]
//	  %y, %mask = Dropout "drop"(%c1) : f32[N,8,28,28], bool[N,8,28,28]
//	  %z = com.microsoft.FusedConv(%y, _, %b1) {activation="Relu"} : f32[*]
//	  return %z
//	}
//
// Grammar (EBNF; one statement per line; "//" starts a comment that runs
// to the end of the line and is not part of the IR):
//
//	file      = graph .
//	graph     = "graph" global "(" [ input { "," input } ] ")" "{" NL { stmt NL } "return" [ ref { "," ref } ] NL "}" .
//	input     = value ":" type { annot } .
//	stmt      = meta | opset | param | node .
//	meta      = "meta" ( ("doc" | "model_doc" | "producer" | "producer_version" | "domain") string
//	          | ("model_version" | "ir_version") int | "prop" string string | ("extra" | "model_extra") bytes ) .
//	opset     = "opset" string int .
//	param     = value "=" "param" ( tensor [ ":" type ] | "none" ":" type ) { annot } .
//	node      = [ outs "=" ] optype [ string ] "(" [ ref { "," ref } ] ")" [ "{" [ attr { "," attr } ] "}" ]
//	            { annot } [ ":" type { annot } { "," type { annot } } ] .
//	outs      = ( value | "_" ) { "," ( value | "_" ) } .
//	ref       = value | "_" .
//	optype    = ident { "." ident } | string "." ( ident | string ) .
//	annot     = "doc" string | "extra" bytes .
//	type      = dtype "[" ( "*" | [ dim { "," dim } ] ) "]" .
//	dim       = int | ident | string | "?" .
//	dtype     = "f32" | "i64" | "u8" | "i8" | "u16" | "i16" | "i32" | "u32" | "u64" | "bool" | "str"
//	          | "f16" | "bf16" | "f64" | "c64" | "c128" | "undef" | "dtype" "(" int ")" .
//	attr      = ( ident | string ) "=" attrvalue .
//	attrvalue = int | float | string | bytes | list | "ints[]" | "floats[]" | "strings[]" | tensor | "none" .
//	list      = "[" ( number { "," number } | string { "," string } ) "]" .
//	tensor    = dtype "[" [ int { "," int } ] "]" data [ "init" recipe ] .
//	data      = "[" [ elem { "," elem } ] "]" | bytes | recipe | "sidecar" "(" string "," int "," int ")" | "elided" .
//	recipe    = ( ident | string ) "(" "seed" "=" int "," ident "=" number "," ident "=" number [ "," "abs" ] ")" .
//	value     = "%" name .   global = "@" name .
//	name      = letters, digits, "_", ".", "/" and "-" (no "//") | string .
//	float     = decimal with "." or exponent | "inf" | "-inf" | "nan" | "nan" "(" hexint ")" .
//	bytes     = "x" `"` hex digits `"` .
//
// Spelling rules:
//
//   - Value and graph names print bare when they consist of letters,
//     digits, "_", ".", "/" and "-" without "//" (%input.1,
//     %/layer1/Conv_output_0, @torch-jit-export), otherwise as Go-quoted
//     strings: %"onnx::Conv_12". Attribute names and symbolic dims print
//     bare when they are identifiers.
//   - A node prints its name only when it differs from its first output's
//     name: %y = Conv "conv_3"(%x, %w). A zero-output node prints its name
//     unless it is empty.
//   - Core ops print their ONNX op type. Opaque nodes print domain.OpType,
//     or "domain".OpType when the bare form would be ambiguous (an ONNX op
//     kept opaque is "".Conv; reserved words and odd characters are quoted).
//   - "_" stands for an omitted (nil) input or output. Output types follow
//     ":" for the non-omitted outputs, in order; the parser takes them as
//     given and runs no shape inference.
//   - Dims: 8 static, N symbolic (quoted when not an identifier), ? unknown;
//     [*] is an unknown rank and [] a scalar.
//   - Attributes print in their stored order. Ints print as integers and
//     floats always with a "." or exponent (1.0, 1e-05, -0.0) or as inf,
//     -inf, nan; NaNs other than the canonical quiet NaN print their bits,
//     nan(0x7fc00001). Empty lists say their kind: ints[], floats[],
//     strings[]. Strings are Go-quoted; raw attributes are bytes literals
//     x"0a1b"; tensor attributes use the tensor syntax.
//   - Float elements print with the fewest digits that parse back to the
//     same bits (strconv 'g', -1, at the element's precision); f16 and bf16
//     print their exact value, and the parser rejects values they cannot
//     hold exactly. Integers print in decimal, bool as true/false (other
//     bytes as integers), str as Go-quoted strings, c64 and c128 (and
//     unknown dtypes) as bytes literals of their little-endian data.
//   - A tensor whose Init recipe reproduces its data bit for bit prints as
//     the recipe: normal(seed=S, mean=A, std=B[, abs]), uniform(seed=S,
//     low=A, high=B[, abs]), or kind(seed=S, a=A, b=B) for other kinds; the
//     parser sets the data to Init.Materialize(dims). A tensor whose Init
//     no longer matches prints its data followed by "init recipe".
//   - With PrintOptions.Sidecar set, tensors of more than InlineLimit
//     elements (default 16) print as sidecar("file", offset, length): length
//     bytes of little-endian data at offset in file, a path relative to the
//     .fir file (ParseFile resolves it; Parse rejects it). Without a sidecar
//     all data is inline, so Print alone loses nothing. PrintOptions.Elide
//     instead prints large data as "elided", for reading only.
//   - Graph metadata prints as meta lines in a fixed order (doc, model_doc,
//     producer, producer_version, domain, model_version, ir_version, prop,
//     extra, model_extra), each only when non-zero, then opset lines, then
//     parameters, nodes and return. Value and node docs and extra bytes are
//     annotations after the value's type or the node's attributes.
//
// Parse errors are *ParseError values printed as "name:line:col: message".
// The parser resolves value references after reading the whole graph, so
// printing a graph whose nodes are out of order still round-trips (Verify
// reports the order).
//
// Representable exactly: every field of Graph, Value, Node, Attr, Tensor and
// Init, given unique value names, edges only to values the graph defines,
// Def set exactly on node outputs, unique attribute names per node, dims in
// the canonical forms above, tensor data in the field its dtype selects
// (F32, I64, Strs or Raw) with as many elements as its dims say, and
// core-op nodes with empty Domain and OpType.
package ir
