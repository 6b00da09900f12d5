package targets

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/ferminets/fermi/ir"
)

func near(a, b float64) bool { return math.Abs(a-b) <= 1e-9*math.Max(1, math.Abs(b)) }

// singleConv is x[1,8,16,16] → Conv 8→16, 3×3, pad 1, no bias.
func singleConv(t *testing.T) *ir.Graph {
	nb := newNet(t, "single_conv")
	x := nb.b.Input("x", ir.Float32, ir.Static(1, 8, 16, 16))
	return nb.build(nb.conv(x, "conv", 16, 3, 1, 1, false))
}

// TestSingleConvRoofline checks the roofline against numbers computed by
// hand for the made-up test profile (peak 1 GFLOP/s, conv efficiency 0.5,
// 1 GB/s, 10 µs overhead, 2 W).
func TestSingleConvRoofline(t *testing.T) {
	const (
		macs  = 16 * 16 * 16 * 8 * 9          // output elements × C_in × k²
		flops = 2 * macs                      // no bias
		bytes = 8*256*4 + 16*8*9*4 + 16*256*4 // input + weight + output, float32
	)
	tests := []struct {
		name      string
		bandwidth float64
		latencyMs float64
		bound     string
	}{
		{"compute-bound", 1, float64(flops)/(1e9*0.5)*1e3 + 0.010, "compute"},
		{"memory-bound", 0.01, float64(bytes)/(0.01e9)*1e3 + 0.010, "memory"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tg := testTarget(t, func(m map[string]any) { obj(m, "bandwidth_gbs")["value"] = tc.bandwidth })
			r, err := Estimate(singleConv(t), tg)
			if err != nil {
				t.Fatal(err)
			}
			if len(r.Kernels) != 1 {
				t.Fatalf("%d kernels, want 1", len(r.Kernels))
			}
			k := r.Kernels[0]
			if k.MACs != macs || k.FLOPs != flops || k.Bytes != bytes {
				t.Errorf("kernel MACs %d FLOPs %d bytes %d, want %d %d %d", k.MACs, k.FLOPs, k.Bytes, macs, flops, bytes)
			}
			if !near(r.LatencyMs, tc.latencyMs) || k.Bound != tc.bound {
				t.Errorf("latency %.9f ms (%s), want %.9f ms (%s)", r.LatencyMs, k.Bound, tc.latencyMs, tc.bound)
			}
			if want := 2 * tc.latencyMs; !near(r.EnergyMJ, want) {
				t.Errorf("energy %.9f mJ, want %.9f (2 W × latency)", r.EnergyMJ, want)
			}
			if r.PeakMemoryBytes != 8*256*4+16*256*4 || r.WeightBytes != 16*8*9*4 {
				t.Errorf("peak activations %d, weights %d", r.PeakMemoryBytes, r.WeightBytes)
			}
			if !r.Fits || len(r.Unsupported) != 0 {
				t.Errorf("fits %v, unsupported %v", r.Fits, r.Unsupported)
			}
		})
	}
}

// TestEnergyPerOp checks the compute + data-movement energy model.
func TestEnergyPerOp(t *testing.T) {
	tg := testTarget(t, func(m map[string]any) {
		m["energy_pj_per_op"] = map[string]any{"f32": map[string]any{"value": 1.5, "source": "made up"}}
		m["energy_pj_per_byte"] = map[string]any{"value": 10, "source": "made up"}
	})
	r, err := Estimate(singleConv(t), tg)
	if err != nil {
		t.Fatal(err)
	}
	const flops, bytes = 2 * 16 * 16 * 16 * 8 * 9, 8*256*4 + 16*8*9*4 + 16*256*4
	if want := (flops*1.5 + bytes*10) * 1e-9; !near(r.EnergyMJ, want) {
		t.Errorf("energy %.12f mJ, want %.12f", r.EnergyMJ, want)
	}
}

func TestFormatTable(t *testing.T) {
	r, err := Estimate(singleConv(t), testTarget(t, nil))
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := FormatTable(&buf, r); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	// 589824 FLOPs at 0.5 GFLOP/s = 1.179648 ms, + 10 µs; 29184 bytes = 28.5 KiB; 2 W.
	var row []string
	for _, line := range strings.Split(out, "\n") {
		if f := strings.Fields(line); len(f) > 0 && f[0] == "1" {
			row = f
		}
	}
	if want := "[1 conv Conv conv f32 0.59 28.5 compute 1.190 2.379]"; fmt.Sprint(row) != want {
		t.Errorf("kernel row %v, want %s", row, want)
	}
	for _, want := range []string{
		"target test (none), graph single_conv",
		"total: 1.190 ms, 2.379 mJ, 1 kernels, 0 free nodes, 0.29 M MACs",
		"sram: fits: activations 24576 B (24.0 KiB) fit in sram 65536 B (64.0 KiB) (38% used)",
		"unsupported: none",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
}

func TestReportJSON(t *testing.T) {
	r, err := Estimate(singleConv(t), testTarget(t, nil))
	if err != nil {
		t.Fatal(err)
	}
	data, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{"latency_ms", "energy_mj", "peak_memory_bytes", "fits", "unsupported", "kernels"} {
		if _, ok := m[key]; !ok {
			t.Errorf("JSON report lacks %q: %s", key, data)
		}
	}
	k := m["kernels"].([]any)[0].(map[string]any)
	for _, key := range []string{"nodes", "class", "latency_ms", "energy_mj", "flops", "bytes"} {
		if _, ok := k[key]; !ok {
			t.Errorf("JSON kernel row lacks %q", key)
		}
	}
}

// kernelOps returns each kernel's node names joined by "+".
func kernelNodes(r *Report) []string {
	var s []string
	for _, k := range r.Kernels {
		s = append(s, strings.Join(k.Nodes, "+"))
	}
	return s
}

func TestFusionGrouping(t *testing.T) {
	tests := []struct {
		name  string
		build func(nb *netBuilder) *ir.Value
		want  []string
	}{
		{"conv-bn-relu fuses", func(nb *netBuilder) *ir.Value {
			x := nb.b.Input("x", ir.Float32, ir.Static(1, 4, 8, 8))
			return nb.act(nb.bn(nb.conv(x, "c", 4, 3, 1, 1, false), "bn"), "r", "relu")
		}, []string{"c+bn+r"}},
		{"optional steps skipped", func(nb *netBuilder) *ir.Value {
			x := nb.b.Input("x", ir.Float32, ir.Static(1, 4, 8, 8))
			return nb.act(nb.conv(x, "c", 4, 3, 1, 1, false), "r", "relu6")
		}, []string{"c+r"}},
		{"two users stop the chain", func(nb *netBuilder) *ir.Value {
			x := nb.b.Input("x", ir.Float32, ir.Static(1, 4, 8, 8))
			c := nb.conv(x, "c", 4, 3, 1, 1, false)
			r := nb.act(c, "r", "relu")
			return nb.b.Node(ir.OpAdd, "add", []*ir.Value{c, r})
		}, []string{"c", "r", "add"}},
		{"graph output stops the chain", func(nb *netBuilder) *ir.Value {
			x := nb.b.Input("x", ir.Float32, ir.Static(1, 4, 8, 8))
			b := nb.bn(nb.conv(x, "c", 4, 3, 1, 1, false), "bn")
			nb.b.Output(b)
			return nb.act(b, "r", "relu")
		}, []string{"c+bn", "r"}},
		{"conv-add-relu residual", func(nb *netBuilder) *ir.Value {
			x := nb.b.Input("x", ir.Float32, ir.Static(1, 4, 8, 8))
			y := nb.act(nb.conv(x, "c1", 4, 3, 1, 1, false), "r1", "relu")
			z := nb.conv(y, "c2", 4, 3, 1, 1, false)
			return nb.act(nb.b.Node(ir.OpAdd, "add", []*ir.Value{z, y}), "r2", "relu")
		}, []string{"c1+r1", "c2+add+r2"}},
		{"required step missing: no match", func(nb *netBuilder) *ir.Value {
			x := nb.b.Input("x", ir.Float32, ir.Static(1, 4, 8, 8))
			z := nb.conv(x, "c", 4, 3, 1, 1, false)
			return nb.b.Node(ir.OpAdd, "add", []*ir.Value{z, x})
		}, []string{"c", "add"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			nb := newNet(t, "g")
			g := nb.build(tc.build(nb))
			r, err := Estimate(g, testTarget(t, nil))
			if err != nil {
				t.Fatal(err)
			}
			if got := kernelNodes(r); fmt.Sprint(got) != fmt.Sprint(tc.want) {
				t.Errorf("kernels %v, want %v", got, tc.want)
			}
		})
	}
}

// TestQuantizedKernel checks that a QDQ conv is one int8 kernel that reads
// int8 tensors: DQ(x) → Conv(DQ(w)) → Relu → Q.
func TestQuantizedKernel(t *testing.T) {
	nb := newNet(t, "qconv")
	nb.quant = true
	xq := nb.b.Input("xq", ir.Int8, ir.Static(1, 8, 16, 16))
	x := nb.b.Node(ir.OpDequantizeLinear, "x_dq", []*ir.Value{xq, nb.scalar("x_s", 0.05), nb.int8Scalar("x_zp")})
	y := nb.act(nb.conv(x, "c", 16, 3, 1, 1, false), "r", "relu")
	q := nb.b.Node(ir.OpQuantizeLinear, "out_q", []*ir.Value{y, nb.scalar("out_s", 0.05), nb.int8Scalar("out_zp")})
	r, err := Estimate(nb.build(q), testTarget(t, nil))
	if err != nil {
		t.Fatal(err)
	}
	if got := kernelNodes(r); fmt.Sprint(got) != "[c+r+out_q]" {
		t.Fatalf("kernels %v, want [c+r+out_q]", got)
	}
	k := r.Kernels[0]
	// int8 input, int8 weight, the output quantizer's f32 scale and int8
	// zero point, int8 output.
	const bytes = 8*256 + 16*8*9 + 4 + 1 + 16*256
	if k.DType != "i8" || k.Bytes != bytes {
		t.Errorf("dtype %s bytes %d, want i8 %d", k.DType, k.Bytes, bytes)
	}
	// Live at once: the int8 input and the int8 output. ir.Analyze also
	// counts the float tensors between the dequantize and the quantize.
	if r.PeakMemoryBytes != 8*256+16*256 || r.GraphPeakActivationBytes <= r.PeakMemoryBytes {
		t.Errorf("peak activations %d (graph-level %d), want %d", r.PeakMemoryBytes, r.GraphPeakActivationBytes, 8*256+16*256)
	}
	if fmt.Sprint(r.FreeNodes) != "[x_dq c_w_dq]" {
		t.Errorf("free nodes %v, want the two dequantizes", r.FreeNodes)
	}
	// compute at the i8 peak (4 GOP/s × 0.5) + overhead.
	if want := float64(k.FLOPs)/(4e9*0.5)*1e3 + 0.010; !near(k.LatencyMs, want) {
		t.Errorf("latency %.9f ms, want %.9f", k.LatencyMs, want)
	}
}

// TestEveryNodeOnce checks the invariant that each node is in exactly one
// kernel or free, on every zoo network and target.
func TestEveryNodeOnce(t *testing.T) {
	graphs := []*ir.Graph{mobileNetV2(t, 96), mobileNetV3Small(t)}
	nb := newNet(t, "qstack")
	nb.quant = true
	graphs = append(graphs, randomStack(t, nb, []int64{8, 16, 16}, 32))
	for _, g := range graphs {
		for _, tg := range Builtin() {
			r, err := Estimate(g, tg)
			if err != nil {
				t.Fatal(err)
			}
			seen := map[string]int{}
			for _, k := range r.Kernels {
				for _, n := range k.Nodes {
					seen[n]++
				}
			}
			for _, n := range r.FreeNodes {
				seen[n]++
			}
			for _, n := range g.Nodes {
				if seen[n.Name] != 1 {
					t.Errorf("%s on %s: node %q appears %d times", g.Name, tg.Name, n.Name, seen[n.Name])
				}
			}
			if len(seen) != len(g.Nodes) {
				t.Errorf("%s on %s: %d names reported, graph has %d nodes", g.Name, tg.Name, len(seen), len(g.Nodes))
			}
		}
	}
}

func TestUnsupportedAllAtOnce(t *testing.T) {
	nb := newNet(t, "dyn")
	x := nb.b.Input("x", ir.Float32, ir.Shape{ir.Sym("N"), ir.D(3), ir.D(16), ir.D(16)})
	y := nb.convBNAct(x, "c1", 8, 3, 1, 1, "relu")
	y = nb.b.Node(ir.OpErf, "erf1", []*ir.Value{y})
	y = nb.b.Node(ir.OpErf, "erf2", []*ir.Value{y})
	y = nb.convBNAct(y, "c2", 8, 3, 1, 1, "relu")
	g := nb.build(y)
	tg, err := Lookup("hexagon-dsp")
	if err != nil {
		t.Fatal(err)
	}
	r, err := Estimate(g, tg)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		`op Erf: 2 nodes ("erf1", "erf2")`,
		`dtype f32: 4 kernels ("c1", "erf1", "erf2", …)`,
		`dynamic shape: input "x" is [N,3,16,16]; hexagon-dsp needs static shapes`,
	}
	if fmt.Sprint(r.Unsupported) != fmt.Sprint(want) {
		t.Errorf("unsupported:\n%s\nwant:\n%s", strings.Join(r.Unsupported, "\n"), strings.Join(want, "\n"))
	}
	// Symbolic batch counts as 1: same latency as the static-batch graph.
	nb2 := newNet(t, "static")
	x2 := nb2.b.Input("x", ir.Float32, ir.Static(1, 3, 16, 16))
	y2 := nb2.convBNAct(x2, "c1", 8, 3, 1, 1, "relu")
	y2 = nb2.b.Node(ir.OpErf, "erf1", []*ir.Value{y2})
	y2 = nb2.b.Node(ir.OpErf, "erf2", []*ir.Value{y2})
	r2, err := Estimate(nb2.build(nb2.convBNAct(y2, "c2", 8, 3, 1, 1, "relu")), tg)
	if err != nil {
		t.Fatal(err)
	}
	if !near(r.LatencyMs, r2.LatencyMs) {
		t.Errorf("symbolic batch: %.6f ms, static batch 1: %.6f ms", r.LatencyMs, r2.LatencyMs)
	}
}

// TestCortexM7Fit checks that a large model is reported as not fitting the
// STM32H7's memories, with the numbers, and a small one as fitting.
func TestCortexM7Fit(t *testing.T) {
	tg, err := Lookup("cortex-m7")
	if err != nil {
		t.Fatal(err)
	}
	r, err := Estimate(mobileNetV2(t, 224), tg)
	if err != nil {
		t.Fatal(err)
	}
	if r.Fits {
		t.Fatalf("MobileNetV2 fp32 fits cortex-m7: %s", r.FitReason())
	}
	for _, m := range r.Memory {
		if m.Fits || m.NeedBytes <= m.CapacityBytes {
			t.Errorf("%s: fits %v, need %d, capacity %d", m.Memory, m.Fits, m.NeedBytes, m.CapacityBytes)
		}
		for _, num := range []string{fmt.Sprint(m.NeedBytes), fmt.Sprint(m.CapacityBytes), fmt.Sprint(m.NeedBytes - m.CapacityBytes)} {
			if !strings.Contains(m.Reason, num) {
				t.Errorf("%s: reason %q lacks the number %s", m.Memory, m.Reason, num)
			}
		}
	}
	if reason := r.FitReason(); !strings.Contains(reason, "exceed AXI SRAM 524288 B (512.0 KiB)") || !strings.Contains(reason, "exceed flash 2097152 B (2.00 MiB)") {
		t.Errorf("reason %q", reason)
	}
	t.Logf("MobileNetV2 on cortex-m7: %s", r.FitReason())

	nb := newNet(t, "tiny")
	nb.quant = true
	small, err := Estimate(randomStack(t, nb, []int64{8, 16}, 32), tg)
	if err != nil {
		t.Fatal(err)
	}
	if !small.Fits {
		t.Errorf("tiny int8 model does not fit: %s", small.FitReason())
	}
}

func TestEstimateErrors(t *testing.T) {
	g := singleConv(t)
	if _, err := Estimate(nil, testTarget(t, nil)); err == nil || !strings.HasPrefix(err.Error(), "targets: ") {
		t.Errorf("nil graph: %v", err)
	}
	if _, err := Estimate(g, nil); err == nil {
		t.Error("nil target: no error")
	}
	bad := &Target{Name: "handmade"}
	if _, err := Estimate(g, bad); err == nil || !strings.Contains(err.Error(), "bandwidth_gbs: value 0") {
		t.Errorf("unvalidated target: %v", err)
	}
}

// TestFoldedNodesNotUnsupported: shape arithmetic a converter folds ahead of
// time (Shape → Gather → Concat feeding a Reshape) is free and never listed as
// unsupported, although hexagon-dsp has no Shape or Gather.
func TestFoldedNodesNotUnsupported(t *testing.T) {
	nb := newNet(t, "shapes")
	x := nb.b.Input("x", ir.Float32, ir.Static(1, 8, 4, 4))
	y := nb.conv(x, "c", 8, 3, 1, 1, false)
	s := nb.b.Node(ir.OpShape, "shape", []*ir.Value{y})
	n := nb.b.Node(ir.OpGather, "gather", []*ir.Value{s, nb.b.Param("idx", ir.NewInt64([]int64{1}, []int64{0}))}, ir.IntAttr("axis", 0))
	shape := nb.b.Node(ir.OpConcat, "concat", []*ir.Value{n, nb.b.Param("rest", ir.NewInt64([]int64{1}, []int64{-1}))}, ir.IntAttr("axis", 0))
	out := nb.b.Node(ir.OpReshape, "reshape", []*ir.Value{y, shape})
	tg, err := Lookup("hexagon-dsp")
	if err != nil {
		t.Fatal(err)
	}
	r, err := Estimate(nb.build(out), tg)
	if err != nil {
		t.Fatal(err)
	}
	if want := `[dtype f32: 1 kernel ("c")]`; fmt.Sprint(r.Unsupported) != want {
		t.Errorf("unsupported %v, want %s", r.Unsupported, want)
	}
	if fmt.Sprint(r.FreeNodes) != "[shape gather concat reshape]" {
		t.Errorf("free nodes %v", r.FreeNodes)
	}
}

func TestCheckSupported(t *testing.T) {
	g := singleConv(t)
	r, err := Estimate(g, testTarget(t, nil))
	if err != nil {
		t.Fatal(err)
	}
	if err := r.CheckSupported(); err != nil {
		t.Errorf("supported graph: %v", err)
	}
	hex, err := Lookup("hexagon-dsp")
	if err != nil {
		t.Fatal(err)
	}
	r, err = Estimate(g, hex)
	if err != nil {
		t.Fatal(err)
	}
	err = r.CheckSupported()
	ue, ok := err.(*UnsupportedError)
	if !ok || len(ue.Items) != 1 || !strings.Contains(err.Error(), `targets: hexagon-dsp cannot run graph "single_conv":`) ||
		!strings.Contains(err.Error(), `dtype f32: 1 kernel ("conv")`) {
		t.Errorf("error %v", err)
	}
}

// TestFloatAs: a target that runs float32 graphs in fp16 costs the single
// conv at the f16 peak with half the bytes, and stores weights in fp16.
func TestFloatAs(t *testing.T) {
	tg := testTarget(t, func(m map[string]any) {
		obj(m, "peak_gops")["f16"] = map[string]any{"value": 2, "source": "made up"}
		obj(m, "support")["dtypes"] = []any{"f32", "f16", "i8"}
		obj(m, "bandwidth_gbs")["value"] = 0.01
		m["float_as"] = map[string]any{"dtype": "f16", "source": "made up"}
	})
	r, err := Estimate(singleConv(t), tg)
	if err != nil {
		t.Fatal(err)
	}
	k := r.Kernels[0]
	const bytes = (8*256 + 16*8*9 + 16*256) * 2
	if k.DType != "f16" || k.Bytes != bytes || r.WeightBytes != 16*8*9*2 || r.PeakMemoryBytes != (8*256+16*256)*2 {
		t.Errorf("dtype %s, bytes %d, weights %d, peak %d", k.DType, k.Bytes, r.WeightBytes, r.PeakMemoryBytes)
	}
	if want := float64(bytes)/0.01e9*1e3 + 0.010; !near(k.LatencyMs, want) {
		t.Errorf("latency %.9f ms, want %.9f (memory-bound)", k.LatencyMs, want)
	}
	for _, tc := range []struct{ dtype, want string }{{"i8", `"i8" is not a float dtype`}, {"bf16", "bf16 is not in support.dtypes"}} {
		_, err := Parse(editProfile(t, func(m map[string]any) {
			m["float_as"] = map[string]any{"dtype": tc.dtype, "source": "made up"}
		}), "fa.json")
		if err == nil || !strings.Contains(err.Error(), "float_as: "+tc.want) {
			t.Errorf("float_as %s: error %v", tc.dtype, err)
		}
	}
}
