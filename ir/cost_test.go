package ir

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

func zeros(dims ...int64) *Tensor { return NewFloat32(dims, make([]float32, NumElements(dims))) }

// costOf infers a node of op on inputs and returns its cost.
func costOf(t *testing.T, op Op, ins []*Value, attrs ...Attr) Cost {
	t.Helper()
	n := &Node{Name: "n", Op: op, Inputs: ins, Attrs: attrs}
	n.Outputs = []*Value{{Name: "y", Def: n}}
	if err := InferNode(n); err != nil {
		t.Fatal(err)
	}
	return op.Info().Cost(n)
}

func TestNodeCost(t *testing.T) {
	for _, c := range []struct {
		name  string
		op    Op
		in    []*Value
		attrs []Attr
		want  Cost
	}{
		// 6 out channels × 28×28 outputs × (1 in channel × 5×5) = 117,600 MACs;
		// FLOPs 2 × MACs + 4,704 bias adds; reads 784 + 150 + 6 floats, writes 4,704.
		{"Conv lenet1", OpConv, []*Value{f32("N,1,28,28"), weights(6, 1, 5, 5), weights(6)}, []Attr{IntsAttr("pads", 2, 2, 2, 2)},
			Cost{MACs: 117600, FLOPs: 239904, BytesRead: 3760, BytesWrite: 18816}},
		// depthwise: 32 × 56×56 outputs × 9 = 903,168
		{"Conv depthwise", OpConv, []*Value{f32("N,32,56,56"), weights(32, 1, 3, 3)}, []Attr{IntAttr("group", 32), IntsAttr("pads", 1, 1, 1, 1)},
			Cost{MACs: 903168, FLOPs: 1806336, BytesRead: 4 * (100352 + 288), BytesWrite: 4 * 100352}},
		// each of 4×25 inputs meets 3 (out channels per group) × 9 weights = 2,700; output 6×7×7 = 294
		{"ConvTranspose", OpConvTranspose, []*Value{f32("1,4,5,5"), weights(4, 3, 3, 3), weights(6)}, []Attr{IntAttr("group", 2)},
			Cost{MACs: 2700, FLOPs: 5400 + 294, BytesRead: 4 * (100 + 108 + 6), BytesWrite: 4 * 294}},
		{"Gemm", OpGemm, []*Value{f32("N,400"), weights(120, 400), weights(120)}, []Attr{IntAttr("transB", 1)},
			Cost{MACs: 48000, FLOPs: 96120, BytesRead: 4 * (400 + 48000 + 120), BytesWrite: 480}},
		{"Gemm transA", OpGemm, []*Value{f32("3,2"), weights(3, 5)}, []Attr{IntAttr("transA", 1)},
			Cost{MACs: 30, FLOPs: 60, BytesRead: 4 * (6 + 15), BytesWrite: 40}},
		// [N,5,2,3]·[3,7] → [N,5,2,7]: 70 outputs × K 3
		{"MatMul", OpMatMul, []*Value{f32("N,5,2,3"), weights(3, 7)}, nil,
			Cost{MACs: 210, FLOPs: 420, BytesRead: 4 * (30 + 21), BytesWrite: 280}},
		{"Relu", OpRelu, []*Value{f32("N,6,28,28")}, nil, Cost{FLOPs: 4704, BytesRead: 18816, BytesWrite: 18816}},
		{"Sigmoid", OpSigmoid, []*Value{f32("N,10")}, nil, Cost{FLOPs: 30, BytesRead: 40, BytesWrite: 40}},
		{"Add broadcast", OpAdd, []*Value{f32("N,4,3"), f32("3")}, nil, Cost{FLOPs: 12, BytesRead: 60, BytesWrite: 48}},
		{"BatchNorm", OpBatchNorm, []*Value{f32("N,2,3,3"), weights(2), weights(2), weights(2), weights(2)}, nil,
			Cost{FLOPs: 36, BytesRead: 4 * (18 + 8), BytesWrite: 72}},
		// 6×14×14 outputs × 2×2 window
		{"MaxPool", OpMaxPool, []*Value{f32("N,6,28,28")}, []Attr{IntsAttr("kernel_shape", 2, 2), IntsAttr("strides", 2, 2)},
			Cost{FLOPs: 4704, BytesRead: 18816, BytesWrite: 4704}},
		{"GlobalAveragePool", OpGlobalAveragePool, []*Value{f32("N,64,7,7")}, nil, Cost{FLOPs: 3136 + 64, BytesRead: 4 * 3136, BytesWrite: 256}},
		// bilinear on 2 axes: 4 taps × 2 FLOPs per output, 1×16×16 outputs
		{"Resize linear", OpResize, []*Value{f32("N,1,8,8"), nil, f32s(1, 1, 2, 2)}, []Attr{StrAttr("mode", "linear")},
			Cost{FLOPs: 8 * 256, BytesRead: 256 + 16, BytesWrite: 1024}},
		{"Resize nearest", OpResize, []*Value{f32("N,1,8,8"), nil, f32s(1, 1, 2, 2)}, nil, Cost{BytesRead: 256 + 16, BytesWrite: 1024}},
		{"Reshape", OpReshape, []*Value{f32("N,16,5,5"), i64s(0, -1)}, nil, Cost{BytesRead: 1600 + 16, BytesWrite: 1600}},
		{"Shape", OpShape, []*Value{f32("N,16,5,5")}, nil, Cost{BytesWrite: 32}},
		{"unknown rank", OpRelu, []*Value{f32("*")}, nil, Cost{}},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := costOf(t, c.op, c.in, c.attrs...); got != c.want {
				t.Errorf("got %+v, want %+v", got, c.want)
			}
		})
	}
}

// lenet5 builds LeNet-5 as BENCHMARK.md section E describes it.
func lenet5(t *testing.T) *Graph {
	t.Helper()
	b := NewBuilder("lenet5")
	x := b.Input("input", Float32, Shape{Sym("N"), D(1), D(28), D(28)})
	conv := func(name string, x *Value, cout, cin int64, attrs ...Attr) *Value {
		return b.Node(OpConv, name, []*Value{x, b.Param(name+".w", zeros(cout, cin, 5, 5)), b.Param(name+".b", zeros(cout))}, attrs...)
	}
	pool := func(x *Value) *Value {
		return b.Node(OpMaxPool, "pool", []*Value{x}, IntsAttr("kernel_shape", 2, 2), IntsAttr("strides", 2, 2))
	}
	fc := func(name string, x *Value, out, in int64) *Value {
		return b.Node(OpGemm, name, []*Value{x, b.Param(name+".w", zeros(out, in)), b.Param(name+".b", zeros(out))}, IntAttr("transB", 1))
	}
	relu := func(x *Value) *Value { return b.Node(OpRelu, "relu", []*Value{x}) }
	h := pool(relu(conv("conv1", x, 6, 1, IntsAttr("pads", 2, 2, 2, 2))))
	h = pool(relu(conv("conv2", h, 16, 6)))
	h = b.Node(OpFlatten, "flatten", []*Value{h})
	h = relu(fc("fc1", h, 120, 400))
	h = relu(fc("fc2", h, 84, 120))
	b.Output(fc("fc3", h, 10, 84))
	g, err := b.Build()
	if err != nil {
		t.Fatal(err)
	}
	return g
}

func TestAnalyzeLeNet5(t *testing.T) {
	r, err := Analyze(lenet5(t))
	if err != nil {
		t.Fatal(err)
	}
	// MACs: conv1 6·28·28·25 = 117,600; conv2 16·10·10·150 = 240,000;
	// fc 400·120 + 120·84 + 84·10 = 48,000 + 10,080 + 840.
	// Params: 156 + 2,416 + 48,120 + 10,164 + 850.
	// Live activations (bytes): input 3,136, conv1 and relu1 outputs 18,816
	// each, pool1 4,704, conv2 and relu2 6,400, pool2 and flatten 1,600,
	// fc1 480, fc2 336, fc3 40. The peak is relu1 reading conv1's output:
	// 18,816 + 18,816 (the input died after conv1).
	want := struct{ macs, params, weightBytes, peak int64 }{416520, 61706, 61706 * 4, 37632}
	if r.MACs != want.macs || r.Params != want.params || r.WeightBytes != want.weightBytes || r.PeakActivationBytes != want.peak {
		t.Errorf("MACs %d, params %d, weight bytes %d, peak activations %d; want %d, %d, %d, %d",
			r.MACs, r.Params, r.WeightBytes, r.PeakActivationBytes, want.macs, want.params, want.weightBytes, want.peak)
	}
	if r.PeakMemoryBytes != want.peak+want.weightBytes {
		t.Errorf("peak memory %d, want %d", r.PeakMemoryBytes, want.peak+want.weightBytes)
	}
	if got := r.WeightBytesByDType; !reflect.DeepEqual(got, map[DType]int64{Float32: want.weightBytes}) {
		t.Errorf("weight bytes by dtype %v", got)
	}
	live := []int64{21952, 37632, 23520, 11104, 12800, 8000, 3200, 2080, 960, 816, 672, 376}
	if len(r.Nodes) != len(live) {
		t.Fatalf("%d node rows, want %d", len(r.Nodes), len(live))
	}
	for i, nc := range r.Nodes {
		if nc.LiveBytes != live[i] {
			t.Errorf("node %s: live bytes %d, want %d", nc.Name, nc.LiveBytes, live[i])
		}
	}
	if r.Nodes[0].OutputShape != "[N,6,28,28]" || r.Nodes[0].MACs != 117600 || r.Nodes[0].Params != 156 {
		t.Errorf("conv1 row %+v", r.Nodes[0])
	}
	if len(r.Incomplete) != 0 {
		t.Errorf("incomplete %v", r.Incomplete)
	}
}

// resnet20 builds the CIFAR-style ResNet-20 of BENCHMARK.md section E for
// 1×28×28 inputs.
func resnet20(t *testing.T) *Graph {
	t.Helper()
	b := NewBuilder("resnet20")
	convBN := func(x *Value, cin, cout, k, stride int64) *Value {
		p := (k - 1) / 2
		c := b.Node(OpConv, "conv", []*Value{x, b.Param("w", zeros(cout, cin, k, k))},
			IntsAttr("strides", stride, stride), IntsAttr("pads", p, p, p, p))
		return b.Node(OpBatchNorm, "bn", []*Value{c, b.Param("s", zeros(cout)), b.Param("b", zeros(cout)), b.Param("m", zeros(cout)), b.Param("v", zeros(cout))})
	}
	relu := func(x *Value) *Value { return b.Node(OpRelu, "relu", []*Value{x}) }
	h := relu(convBN(b.Input("input", Float32, Shape{Sym("N"), D(1), D(28), D(28)}), 1, 16, 3, 1))
	cin := int64(16)
	for _, w := range []int64{16, 32, 64} {
		for blk := 0; blk < 3; blk++ {
			stride := int64(1)
			if blk == 0 && w != 16 {
				stride = 2
			}
			y := convBN(relu(convBN(h, cin, w, 3, stride)), w, w, 3, 1)
			short := h
			if stride != 1 || cin != w {
				short = convBN(h, cin, w, 1, stride)
			}
			h = relu(b.Node(OpAdd, "add", []*Value{y, short}))
			cin = w
		}
	}
	h = b.Node(OpFlatten, "flatten", []*Value{b.Node(OpGlobalAveragePool, "gap", []*Value{h})})
	b.Output(b.Node(OpGemm, "fc", []*Value{h, b.Param("fc.w", zeros(10, 64)), b.Param("fc.b", zeros(10))}, IntAttr("transB", 1)))
	g, err := b.Build()
	if err != nil {
		t.Fatal(err)
	}
	return g
}

func TestAnalyzeResNet20(t *testing.T) {
	r, err := Analyze(resnet20(t))
	if err != nil {
		t.Fatal(err)
	}
	// Every conv is bias-free and followed by BN: weights plus a folded bias.
	// stem 144+16; stage 1: 6·(2,304+16); stage 2: 4,608+32, 5·(9,216+32),
	// shortcut 512+32; stage 3: 18,432+64, 5·(36,864+64), shortcut 2,048+64;
	// fc 650. MACs: stem 784·16·9; stage 1 6·784·16·144; stage 2 196·32·144,
	// 5·196·32·288, 196·32·16; stage 3 49·64·288, 5·49·64·576, 49·64·32; fc 640.
	// These match models/README.md (271,402 and 31,021,952).
	if r.Params != 271402 || r.MACs != 31021952 {
		t.Errorf("params %d, MACs %d; want 271402, 31021952", r.Params, r.MACs)
	}
	folded := 0
	for _, nc := range r.Nodes {
		if nc.Op == "BatchNormalization" {
			if !strings.HasPrefix(nc.FoldedInto, "conv") {
				t.Errorf("BN %s not folded", nc.Name)
			}
			folded++
		}
	}
	if folded != 21 {
		t.Errorf("%d folded BNs, want 21", folded)
	}
}

func TestAnalyzeParams(t *testing.T) {
	b := NewBuilder("params")
	x := b.Input("x", Float32, Shape{Sym("N"), D(3), D(8), D(8)})
	w := b.Param("w", zeros(4, 3, 3, 3))
	bn := func(x *Value, c int64) *Value {
		return b.Node(OpBatchNorm, "bn", []*Value{x, b.Param("s", zeros(c)), b.Param("b", zeros(c)), b.Param("m", zeros(c)), b.Param("v", zeros(c))})
	}
	// conv with bias + BN: 108 + 4, the BN folds for free.
	c1 := bn(b.Node(OpConv, "conv1", []*Value{x, w, b.Param("bias", zeros(4))}, IntsAttr("pads", 1, 1, 1, 1)), 4)
	// BN after Relu: 2 × 4.
	r := bn(b.Node(OpRelu, "relu", []*Value{c1}), 4)
	// the same weight again: counted once; no bias, BN adds 4.
	c2 := bn(b.Node(OpConv, "conv2", []*Value{x, w}, IntsAttr("pads", 1, 1, 1, 1)), 4)
	s := b.Node(OpAdd, "sum", []*Value{r, c2})
	// int8 weight through DequantizeLinear: 4·4 = 16; scale and zero point do not count.
	qw := b.Param("qw", &Tensor{DType: Int8, Dims: []int64{4, 4, 1, 1}, Raw: make([]byte, 16)})
	dq := b.Node(OpDequantizeLinear, "dq", []*Value{qw, b.Param("scale", NewFloat32([]int64{}, []float32{0.1})), b.Param("zp", &Tensor{DType: Int8, Dims: []int64{}, Raw: []byte{0}})})
	q := b.Node(OpConv, "qconv", []*Value{s, dq})
	// MatMul weight 64·2 plus its bias through Add, 2; the Reshape shape does not count.
	flat := b.Node(OpReshape, "flatten", []*Value{q, b.Param("shape", NewInt64([]int64{2}, []int64{0, -1}))})
	mm := b.Node(OpMatMul, "mm", []*Value{b.Node(OpSlice, "slice", []*Value{flat, b.Param("st", NewInt64([]int64{1}, []int64{0})), b.Param("en", NewInt64([]int64{1}, []int64{64})), b.Param("ax", NewInt64([]int64{1}, []int64{1}))}), b.Param("mw", zeros(64, 2))})
	out := b.Node(OpAdd, "bias", []*Value{mm, b.Param("mb", zeros(2))})
	clip := b.Node(OpClip, "clip", []*Value{out, b.Param("lo", NewFloat32([]int64{}, []float32{0})), b.Param("hi", NewFloat32([]int64{}, []float32{6}))})
	b.Output(clip)
	g, err := b.Build()
	if err != nil {
		t.Fatal(err)
	}
	rep, err := Analyze(g)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]int64{"conv1": 112, "relu": 0, "conv2": 0, "dq": 0, "qconv": 16, "mm": 128, "bias": 2, "clip": 0, "flatten": 0, "slice": 0}
	// BN rows in order: folded into conv1 (0), after relu (8), folded into conv2 adding its bias (4).
	bnWant := []int64{0, 8, 4}
	var bns []int64
	for _, nc := range rep.Nodes {
		if nc.Op == "BatchNormalization" {
			bns = append(bns, nc.Params)
			continue
		}
		if w, ok := want[nc.Name]; ok && nc.Params != w {
			t.Errorf("%s: params %d, want %d", nc.Name, nc.Params, w)
		}
	}
	if !reflect.DeepEqual(bns, bnWant) {
		t.Errorf("BN params %v, want %v", bns, bnWant)
	}
	if total := int64(112 + 8 + 4 + 16 + 128 + 2); rep.Params != total {
		t.Errorf("total params %d, want %d", rep.Params, total)
	}
	// int8: qw 16 + zp 1; i64: shape 2 + st, en, ax 1 each = 5 elements.
	if got := rep.WeightBytesByDType; got[Int8] != 17 || got[Int64] != 40 {
		t.Errorf("weight bytes by dtype %v, want i8 17 and i64 40", got)
	}
}

func TestAnalyzeLiveness(t *testing.T) {
	b := NewBuilder("live")
	x := b.Input("x", Float32, Shape{Sym("N"), D(4)}) // 16 bytes per sample
	a := b.Node(OpRelu, "a", []*Value{x})
	m := b.Node(OpMul, "m", []*Value{x, b.Param("w", zeros(4))})
	c := b.Node(OpAdd, "c", []*Value{a, m})
	d := b.Node(OpConcat, "d", []*Value{c, x}, IntAttr("axis", 1)) // 32 bytes
	b.Node(OpShape, "e", []*Value{d})                              // unused i64[2], 16 bytes
	b.Output(d)
	g, err := b.Build()
	if err != nil {
		t.Fatal(err)
	}
	r, err := Analyze(g)
	if err != nil {
		t.Fatal(err)
	}
	// a: x+a; m: x+a+m; c: x+a+m+c; d: x (read) + c + d; e: d + e. The
	// parameter w is not an activation.
	live := []int64{32, 48, 64, 16 + 16 + 32, 32 + 16}
	for i, nc := range r.Nodes {
		if nc.LiveBytes != live[i] {
			t.Errorf("node %s: live %d, want %d", nc.Name, nc.LiveBytes, live[i])
		}
	}
	if r.PeakActivationBytes != 64 || r.WeightBytes != 16 || r.PeakMemoryBytes != 80 || r.Params != 4 {
		t.Errorf("peak %d, weights %d, peak memory %d, params %d; want 64, 16, 80, 4",
			r.PeakActivationBytes, r.WeightBytes, r.PeakMemoryBytes, r.Params)
	}
}

func TestAnalyzeStartPeak(t *testing.T) {
	// An input no node reads is live only at the start, and is the peak.
	b := NewBuilder("start")
	b.Input("unused", Float32, Shape{D(100)})
	small := b.Input("small", Float32, Shape{D(1)})
	b.Output(b.Node(OpRelu, "relu", []*Value{small}))
	g, err := b.Build()
	if err != nil {
		t.Fatal(err)
	}
	r, err := Analyze(g)
	if err != nil {
		t.Fatal(err)
	}
	if r.PeakActivationBytes != 404 || r.Nodes[0].LiveBytes != 8 {
		t.Errorf("peak %d, relu live %d; want 400 + 4 at the start and 4 + 4 in relu", r.PeakActivationBytes, r.Nodes[0].LiveBytes)
	}
}

func TestReportJSON(t *testing.T) {
	r, err := Analyze(lenet5(t))
	if err != nil {
		t.Fatal(err)
	}
	data, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	var raw map[string]any
	if err := json.Unmarshal(data, &raw); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"macs", "flops", "params", "weight_bytes", "peak_activation_bytes", "peak_memory_bytes", "nodes"} {
		if _, ok := raw[k]; !ok {
			t.Errorf("JSON lacks %q: %s", k, data)
		}
	}
	if raw["macs"] != float64(416520) {
		t.Errorf("macs = %v", raw["macs"])
	}
	if byDT, _ := raw["weight_bytes_by_dtype"].(map[string]any); byDT["f32"] != float64(61706*4) {
		t.Errorf("weight_bytes_by_dtype = %v", raw["weight_bytes_by_dtype"])
	}
	node0, _ := raw["nodes"].([]any)[0].(map[string]any)
	for _, k := range []string{"name", "op", "macs", "flops", "bytes_read", "bytes_write", "params", "output_shape", "live_bytes"} {
		if _, ok := node0[k]; !ok {
			t.Errorf("node JSON lacks %q: %v", k, node0)
		}
	}
	var back Report
	if err := json.Unmarshal(data, &back); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(&back, r) {
		t.Errorf("round trip changed the report:\n%+v\n%+v", back, *r)
	}
	if err := json.Unmarshal([]byte(`{"weight_bytes_by_dtype": {"f99": 1}}`), &back); err == nil {
		t.Error("unknown dtype name accepted")
	}
}

func TestAnalyzeIncomplete(t *testing.T) {
	b := NewBuilder("inc")
	x := b.Input("x", Float32, Shape{Sym("N"), D(3), Sym("H"), Sym("W")})
	y := b.Node(OpConv, "conv", []*Value{x, b.Param("w", zeros(4, 3, 3, 3))})
	b.Output(b.Node(OpRelu, "relu", []*Value{y}))
	g, err := b.Build()
	if err != nil {
		t.Fatal(err)
	}
	r, err := Analyze(g)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(r.Incomplete, []string{"conv", "relu"}) {
		t.Errorf("incomplete %v, want [conv relu]", r.Incomplete)
	}
	if _, err := Analyze(nil); err == nil {
		t.Error("Analyze(nil) succeeded")
	}
}
