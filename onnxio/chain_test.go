package onnxio

import (
	"fmt"
	"runtime"
	"syscall"
	"testing"
	"time"

	"github.com/ferminets/fermi/ir"
	"github.com/ferminets/fermi/onnxio/onnxpb"
	"google.golang.org/protobuf/proto"
)

// reluChain encodes a valid model of n Relu nodes in a chain, x f32[1,8] →
// Relu → … → y.
func reluChain(tb testing.TB, n int) []byte {
	nodes := make([]*onnxpb.NodeProto, n)
	prev := "x"
	for i := range nodes {
		out := fmt.Sprintf("v%d", i)
		if i == n-1 {
			out = "y"
		}
		nodes[i] = pnode("Relu", fmt.Sprintf("relu%d", i), []string{prev}, []string{out})
		prev = out
	}
	m := mp{opset: 13, nodes: nodes, inputs: []*onnxpb.ValueInfoProto{vinfo("x", f32, 1, 8)},
		outputs: []*onnxpb.ValueInfoProto{vinfo("y", f32, 1, 8)}}
	b, err := proto.Marshal(m.proto())
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// importVerifyExport is the pipeline the chain measures.
func importVerifyExport(tb testing.TB, data []byte) {
	g, err := Decode(data, ReadOptions{}) // Decode verifies
	if err != nil {
		tb.Fatal(err)
	}
	if err := ir.Verify(g); err != nil {
		tb.Fatal(err)
	}
	if _, err := Encode(g, WriteOptions{}); err != nil {
		tb.Fatal(err)
	}
}

// BenchmarkChain imports, verifies and exports Relu chains of 10^4, 10^5 and
// 10^6 nodes; linear time and memory show as constant ns/node and
// bytes/node across the sizes.
func BenchmarkChain(b *testing.B) {
	for _, n := range []int{1e4, 1e5, 1e6} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			data := reluChain(b, n)
			b.ResetTimer()
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			cpu := cpuTime()
			for i := 0; i < b.N; i++ {
				importVerifyExport(b, data)
			}
			cpu = cpuTime() - cpu
			runtime.ReadMemStats(&after)
			per := float64(b.N) * float64(n)
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/per, "ns/node")
			// CPU time of the process: on a shared machine, wall time
			// also counts waiting for a core.
			b.ReportMetric(float64(cpu.Nanoseconds())/per, "cpu-ns/node")
			b.ReportMetric(float64(after.TotalAlloc-before.TotalAlloc)/per, "bytes/node")
		})
	}
}

// cpuTime returns the user and system CPU time of the process so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// TestChainLinearMemory checks that the bytes allocated per node stay flat
// from 10^3 to 3·10^4 nodes: no step of the pipeline is quadratic in memory.
func TestChainLinearMemory(t *testing.T) {
	perNode := func(n int) float64 {
		data := reluChain(t, n)
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		importVerifyExport(t, data)
		runtime.ReadMemStats(&after)
		return float64(after.TotalAlloc-before.TotalAlloc) / float64(n)
	}
	small, large := perNode(1e3), perNode(3e4)
	if large > 2*small {
		t.Errorf("%.0f bytes/node at 3·10^4 nodes, %.0f at 10^3: not linear", large, small)
	}
}
