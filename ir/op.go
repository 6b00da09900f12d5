package ir

// Op identifies an operation kind. Semantics follow ONNX opset 13 for every
// op, whatever opset a model was written in: front ends normalize (Clip bounds,
// Squeeze/Unsqueeze/Split axes and Pad pads are inputs; ReduceMean axes is an
// attribute).
type Op uint16

// The core op set. OpOpaque is any other operator, kept verbatim.
const (
	OpInvalid Op = iota
	OpOpaque
	OpConv
	OpConvTranspose
	OpBatchNorm
	OpRelu
	OpClip
	OpLeakyRelu
	OpSigmoid
	OpHardSigmoid
	OpHardSwish
	OpTanh
	OpErf
	OpSqrt
	OpAdd
	OpSub
	OpMul
	OpDiv
	OpPow
	OpConcat
	OpSplit
	OpSlice
	OpMaxPool
	OpAveragePool
	OpGlobalAveragePool
	OpReduceMean
	OpResize
	OpGemm
	OpMatMul
	OpFlatten
	OpReshape
	OpTranspose
	OpSqueeze
	OpUnsqueeze
	OpSoftmax
	OpDropout
	OpIdentity
	OpPad
	OpShape
	OpGather
	OpCast
	OpConstant
	OpQuantizeLinear
	OpDequantizeLinear
	numOps
)

// Flags are properties passes query instead of listing ops.
type Flags uint16

// Op properties.
const (
	// Elementwise ops map each element independently (unary) or with
	// numpy-style broadcasting (binary).
	Elementwise Flags = 1 << iota
	// Commutative binary ops.
	Commutative
	// ZeroPreserving ops map 0 to 0 (so zero channels stay zero).
	ZeroPreserving
	// Activation ops are unary elementwise functions a Conv/Gemm can fuse.
	Activation
	// ShapeOp ops compute only on shapes or move data without arithmetic.
	ShapeOp
)

// AttrSpec declares one attribute of an op: its name, kind and default.
// Required attributes have no default.
type AttrSpec struct {
	Name     string
	Kind     AttrKind
	Required bool
	Default  Attr // Default.Int/Float/Str for scalar kinds; list defaults are rank-dependent and left empty
}

// OpInfo is one row of the op table.
type OpInfo struct {
	Name             string // ONNX op type
	MinIn, MaxIn     int    // input arity (MaxIn -1: variadic)
	MinOut, MaxOut   int    // output arity (MaxOut -1: variadic)
	Flags            Flags
	Attrs            []AttrSpec
	Infer            func(n *Node) error // sets dtype and shape of n's outputs from its inputs and attributes
	Cost             func(n *Node) Cost  // per-sample arithmetic of n; shapes already inferred
	TrainableWeights []int               // input positions holding learnable weights (Conv: 1, 2)
}

// Cost is the arithmetic and traffic of one node for one sample (symbolic
// dims count as 1).
type Cost struct {
	MACs       int64 `json:"macs"`        // multiply-accumulates of Conv/ConvTranspose/Gemm/MatMul
	FLOPs      int64 `json:"flops"`       // all floating-point operations (a MAC is 2)
	BytesRead  int64 `json:"bytes_read"`  // input activations and weights
	BytesWrite int64 `json:"bytes_write"` // outputs
}

func ai(name string, def int64) AttrSpec {
	return AttrSpec{Name: name, Kind: AttrInt, Default: Attr{Name: name, Kind: AttrInt, Int: def}}
}
func af(name string, def float32) AttrSpec {
	return AttrSpec{Name: name, Kind: AttrFloat, Default: Attr{Name: name, Kind: AttrFloat, Float: def}}
}
func as(name, def string) AttrSpec {
	return AttrSpec{Name: name, Kind: AttrString, Default: Attr{Name: name, Kind: AttrString, Str: def}}
}
func ail(name string) AttrSpec  { return AttrSpec{Name: name, Kind: AttrInts} }
func aiR(name string) AttrSpec  { return AttrSpec{Name: name, Kind: AttrInt, Required: true} }
func ailR(name string) AttrSpec { return AttrSpec{Name: name, Kind: AttrInts, Required: true} }
func atR(name string) AttrSpec  { return AttrSpec{Name: name, Kind: AttrTensor, Required: true} }

var convAttrs = []AttrSpec{as("auto_pad", "NOTSET"), ail("dilations"), ai("group", 1), ail("kernel_shape"), ail("pads"), ail("strides")}

// opTable holds every fact about every op. Infer and Cost are filled in by
// init in shapes.go and cost.go to break the initialization cycle through Node.
var opTable = [numOps]OpInfo{
	OpInvalid: {Name: "Invalid"},
	OpOpaque:  {Name: "Opaque", MaxIn: -1, MaxOut: -1},                                                                   // any operator outside the core set; domain, type and attributes kept verbatim
	OpConv:    {Name: "Conv", MinIn: 2, MaxIn: 3, MinOut: 1, MaxOut: 1, Attrs: convAttrs, TrainableWeights: []int{1, 2}}, // Y = X ⋆ W + B, NCHW, grouped
	OpConvTranspose: {Name: "ConvTranspose", MinIn: 2, MaxIn: 3, MinOut: 1, MaxOut: 1, TrainableWeights: []int{1, 2},
		Attrs: append(append([]AttrSpec{}, convAttrs...), ail("output_padding"), ail("output_shape"))}, // gradient of Conv w.r.t. its input
	OpBatchNorm: {Name: "BatchNormalization", MinIn: 5, MaxIn: 5, MinOut: 1, MaxOut: 3, TrainableWeights: []int{1, 2},
		Attrs: []AttrSpec{af("epsilon", 1e-5), af("momentum", 0.9), ai("training_mode", 0)}}, // Y = scale·(X−mean)/√(var+eps) + B per channel
	OpRelu:        {Name: "Relu", MinIn: 1, MaxIn: 1, MinOut: 1, MaxOut: 1, Flags: Elementwise | ZeroPreserving | Activation},                                             // max(x, 0)
	OpClip:        {Name: "Clip", MinIn: 1, MaxIn: 3, MinOut: 1, MaxOut: 1, Flags: Elementwise | Activation},                                                              // min(max(x, lo), hi); bounds are optional inputs
	OpLeakyRelu:   {Name: "LeakyRelu", MinIn: 1, MaxIn: 1, MinOut: 1, MaxOut: 1, Flags: Elementwise | ZeroPreserving | Activation, Attrs: []AttrSpec{af("alpha", 0.01)}},  // x ≥ 0 ? x : αx
	OpSigmoid:     {Name: "Sigmoid", MinIn: 1, MaxIn: 1, MinOut: 1, MaxOut: 1, Flags: Elementwise | Activation},                                                           // 1/(1+e^−x)
	OpHardSigmoid: {Name: "HardSigmoid", MinIn: 1, MaxIn: 1, MinOut: 1, MaxOut: 1, Flags: Elementwise | Activation, Attrs: []AttrSpec{af("alpha", 0.2), af("beta", 0.5)}}, // max(0, min(1, αx+β))
	OpHardSwish:   {Name: "HardSwish", MinIn: 1, MaxIn: 1, MinOut: 1, MaxOut: 1, Flags: Elementwise | ZeroPreserving | Activation},                                        // x·max(0, min(1, x/6+½))
	OpTanh:        {Name: "Tanh", MinIn: 1, MaxIn: 1, MinOut: 1, MaxOut: 1, Flags: Elementwise | ZeroPreserving | Activation},                                             // tanh x
	OpErf:         {Name: "Erf", MinIn: 1, MaxIn: 1, MinOut: 1, MaxOut: 1, Flags: Elementwise | ZeroPreserving},                                                           // error function
	OpSqrt:        {Name: "Sqrt", MinIn: 1, MaxIn: 1, MinOut: 1, MaxOut: 1, Flags: Elementwise | ZeroPreserving},                                                          // √x
	OpAdd:         {Name: "Add", MinIn: 2, MaxIn: 2, MinOut: 1, MaxOut: 1, Flags: Elementwise | Commutative},                                                              // a + b, broadcast
	OpSub:         {Name: "Sub", MinIn: 2, MaxIn: 2, MinOut: 1, MaxOut: 1, Flags: Elementwise},                                                                            // a − b, broadcast
	OpMul:         {Name: "Mul", MinIn: 2, MaxIn: 2, MinOut: 1, MaxOut: 1, Flags: Elementwise | Commutative},                                                              // a · b, broadcast
	OpDiv:         {Name: "Div", MinIn: 2, MaxIn: 2, MinOut: 1, MaxOut: 1, Flags: Elementwise},                                                                            // a / b, broadcast (integer division truncates)
	OpPow:         {Name: "Pow", MinIn: 2, MaxIn: 2, MinOut: 1, MaxOut: 1, Flags: Elementwise},                                                                            // a ^ b, broadcast; result has a's dtype
	OpConcat:      {Name: "Concat", MinIn: 1, MaxIn: -1, MinOut: 1, MaxOut: 1, Flags: ShapeOp, Attrs: []AttrSpec{aiR("axis")}},                                            // join along axis
	OpSplit:       {Name: "Split", MinIn: 1, MaxIn: 2, MinOut: 1, MaxOut: -1, Flags: ShapeOp, Attrs: []AttrSpec{ai("axis", 0)}},                                           // cut along axis; sizes from input 1 or equal parts
	OpSlice:       {Name: "Slice", MinIn: 3, MaxIn: 5, MinOut: 1, MaxOut: 1, Flags: ShapeOp},                                                                              // data[starts:ends:steps] on axes
	OpMaxPool: {Name: "MaxPool", MinIn: 1, MaxIn: 1, MinOut: 1, MaxOut: 2,
		Attrs: []AttrSpec{as("auto_pad", "NOTSET"), ai("ceil_mode", 0), ail("dilations"), ailR("kernel_shape"), ail("pads"), ai("storage_order", 0), ail("strides")}}, // window max; optional argmax indices
	OpAveragePool: {Name: "AveragePool", MinIn: 1, MaxIn: 1, MinOut: 1, MaxOut: 1,
		Attrs: []AttrSpec{as("auto_pad", "NOTSET"), ai("ceil_mode", 0), ai("count_include_pad", 0), ail("dilations"), ailR("kernel_shape"), ail("pads"), ail("strides")}}, // window mean
	OpGlobalAveragePool: {Name: "GlobalAveragePool", MinIn: 1, MaxIn: 1, MinOut: 1, MaxOut: 1},                                             // mean over all spatial dims, kept as size 1
	OpReduceMean:        {Name: "ReduceMean", MinIn: 1, MaxIn: 1, MinOut: 1, MaxOut: 1, Attrs: []AttrSpec{ail("axes"), ai("keepdims", 1)}}, // mean over axes (all when empty)
	OpResize: {Name: "Resize", MinIn: 1, MaxIn: 4, MinOut: 1, MaxOut: 1,
		Attrs: []AttrSpec{ai("antialias", 0), ail("axes"), as("coordinate_transformation_mode", "half_pixel"), af("cubic_coeff_a", -0.75),
			ai("exclude_outside", 0), af("extrapolation_value", 0), as("keep_aspect_ratio_policy", "stretch"), as("mode", "nearest"), as("nearest_mode", "round_prefer_floor")}}, // interpolate to scales (input 2) or sizes (input 3)
	OpGemm: {Name: "Gemm", MinIn: 2, MaxIn: 3, MinOut: 1, MaxOut: 1, TrainableWeights: []int{1, 2},
		Attrs: []AttrSpec{af("alpha", 1), af("beta", 1), ai("transA", 0), ai("transB", 0)}}, // α·A'·B' + β·C
	OpMatMul:    {Name: "MatMul", MinIn: 2, MaxIn: 2, MinOut: 1, MaxOut: 1, TrainableWeights: []int{1}},                                                             // numpy matmul
	OpFlatten:   {Name: "Flatten", MinIn: 1, MaxIn: 1, MinOut: 1, MaxOut: 1, Flags: ShapeOp, Attrs: []AttrSpec{ai("axis", 1)}},                                      // 2-D view [prod(d[:axis]), prod(d[axis:])]
	OpReshape:   {Name: "Reshape", MinIn: 2, MaxIn: 2, MinOut: 1, MaxOut: 1, Flags: ShapeOp, Attrs: []AttrSpec{ai("allowzero", 0)}},                                 // view with shape from input 1 (0 copies, −1 infers)
	OpTranspose: {Name: "Transpose", MinIn: 1, MaxIn: 1, MinOut: 1, MaxOut: 1, Flags: ShapeOp, Attrs: []AttrSpec{ail("perm")}},                                      // permute axes (reverse when perm absent)
	OpSqueeze:   {Name: "Squeeze", MinIn: 1, MaxIn: 2, MinOut: 1, MaxOut: 1, Flags: ShapeOp},                                                                        // drop size-1 axes (input 1, or all)
	OpUnsqueeze: {Name: "Unsqueeze", MinIn: 2, MaxIn: 2, MinOut: 1, MaxOut: 1, Flags: ShapeOp},                                                                      // insert size-1 axes at input 1
	OpSoftmax:   {Name: "Softmax", MinIn: 1, MaxIn: 1, MinOut: 1, MaxOut: 1, Attrs: []AttrSpec{ai("axis", -1)}},                                                     // exp(x)/Σexp(x) along axis
	OpDropout:   {Name: "Dropout", MinIn: 1, MaxIn: 3, MinOut: 1, MaxOut: 2, Attrs: []AttrSpec{AttrSpec{Name: "seed", Kind: AttrInt}}},                              // identity at inference; ratio and training_mode inputs
	OpIdentity:  {Name: "Identity", MinIn: 1, MaxIn: 1, MinOut: 1, MaxOut: 1, Flags: ShapeOp | Elementwise | ZeroPreserving},                                        // y = x
	OpPad:       {Name: "Pad", MinIn: 2, MaxIn: 3, MinOut: 1, MaxOut: 1, Attrs: []AttrSpec{as("mode", "constant")}},                                                 // pad by input 1 ([begins..., ends...]) with input 2
	OpShape:     {Name: "Shape", MinIn: 1, MaxIn: 1, MinOut: 1, MaxOut: 1, Flags: ShapeOp, Attrs: []AttrSpec{ai("start", 0), AttrSpec{Name: "end", Kind: AttrInt}}}, // the input's shape as i64[rank]
	OpGather:    {Name: "Gather", MinIn: 2, MaxIn: 2, MinOut: 1, MaxOut: 1, Flags: ShapeOp, Attrs: []AttrSpec{ai("axis", 0)}},                                       // take indices along axis
	OpCast:      {Name: "Cast", MinIn: 1, MaxIn: 1, MinOut: 1, MaxOut: 1, Flags: Elementwise, Attrs: []AttrSpec{aiR("to"), ai("saturate", 1)}},                      // convert dtype
	OpConstant:  {Name: "Constant", MinIn: 0, MaxIn: 0, MinOut: 1, MaxOut: 1, Attrs: []AttrSpec{atR("value")}},                                                      // the tensor in attribute value
	OpQuantizeLinear: {Name: "QuantizeLinear", MinIn: 2, MaxIn: 3, MinOut: 1, MaxOut: 1,
		Attrs: []AttrSpec{ai("axis", 1), ai("saturate", 1)}}, // saturate(round(x/scale) + zero_point), per tensor or per axis
	OpDequantizeLinear: {Name: "DequantizeLinear", MinIn: 2, MaxIn: 3, MinOut: 1, MaxOut: 1,
		Attrs: []AttrSpec{ai("axis", 1)}}, // (x − zero_point)·scale
}

// Info returns the table row of op.
func (op Op) Info() *OpInfo {
	if op < numOps {
		return &opTable[op]
	}
	return &opTable[OpInvalid]
}

// String returns the ONNX op type of op.
func (op Op) String() string { return op.Info().Name }

// Ops returns every op of the core set (excluding OpInvalid and OpOpaque), in table order.
func Ops() []Op {
	var ops []Op
	for op := OpConv; op < numOps; op++ {
		ops = append(ops, op)
	}
	return ops
}

// LookupOp returns the core op whose ONNX op type is name.
func LookupOp(name string) (Op, bool) {
	for op := OpConv; op < numOps; op++ {
		if opTable[op].Name == name {
			return op, true
		}
	}
	return OpInvalid, false
}

func (info *OpInfo) attrSpec(name string) *AttrSpec {
	for i := range info.Attrs {
		if info.Attrs[i].Name == name {
			return &info.Attrs[i]
		}
	}
	return nil
}

// AttrSpec returns the declaration of attribute name, or nil if op has none.
func (info *OpInfo) AttrSpec(name string) *AttrSpec { return info.attrSpec(name) }
