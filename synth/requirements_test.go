package synth

import (
	"math"
	"strings"
	"testing"
)

func TestParseUnits(t *testing.T) {
	tests := []struct {
		parse   func(string) (float64, error)
		in      string
		want    float64
		wantErr string
	}{
		{countF, "1.2M", 1_200_000, ""},
		{countF, "120k", 120_000, ""},
		{countF, "120K", 120_000, ""},
		{countF, "3G", 3e9, ""},
		{countF, "950", 950, ""},
		{countF, "1.2X", 0, "unknown suffix"},
		{countF, "M", 0, "no number"},
		{countF, "-5", 0, "non-negative"},
		{bytesF, "256KiB", 262_144, ""},
		{bytesF, "256 KB", 256_000, ""},
		{bytesF, "1.5MiB", 1_572_864, ""},
		{bytesF, "2MB", 2_000_000, ""},
		{bytesF, "4096", 4096, ""},
		{bytesF, "1GiB", 1 << 30, ""},
		{bytesF, "3 parsecs", 0, "unknown unit"},
		{ParseMillis, "5ms", 5, ""},
		{ParseMillis, "0.5ms", 0.5, ""},
		{ParseMillis, "250us", 0.25, ""},
		{ParseMillis, "1s", 1000, ""},
		{ParseMillis, "7", 7, ""},
		{ParseMillis, "5min", 0, "unknown unit"},
		{ParseMillijoules, "2mJ", 2, ""},
		{ParseMillijoules, "500uJ", 0.5, ""},
		{ParseMillijoules, "0.1J", 100, ""},
		{ParseAccuracy, "0.9", 0.9, ""},
		{ParseAccuracy, "90%", 0.9, ""},
		{ParseAccuracy, "98.5 %", 0.985, ""},
		{ParseAccuracy, "1", 1, ""},
		{ParseAccuracy, "90", 0, "not in"},
		{ParseAccuracy, "0", 0, "not in"},
		{ParseAccuracy, "0.9x", 0, "unknown unit"},
	}
	for _, tt := range tests {
		got, err := tt.parse(tt.in)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !strings.HasPrefix(err.Error(), "synth: ") {
				t.Errorf("%q: error %v, want one containing %q", tt.in, err, tt.wantErr)
			}
			continue
		}
		if err != nil || math.Abs(got-tt.want) > 1e-9*math.Max(1, tt.want) {
			t.Errorf("%q = %v, %v; want %v", tt.in, got, err, tt.want)
		}
	}
}

func countF(s string) (float64, error) { n, err := ParseCount(s); return float64(n), err }
func bytesF(s string) (float64, error) { n, err := ParseBytes(s); return float64(n), err }

func TestSatisfied(t *testing.T) {
	r := Requirements{MinAccuracy: 0.98, MaxMACs: 1_000_000, MaxParams: 50_000, MaxLatencyMs: 1, MaxEnergyMJ: 2, MaxMemoryBytes: 1 << 20}
	ok := Metrics{Accuracy: 0.985, MACs: 900_000, Params: 40_000, LatencyMs: 0.5, EnergyMJ: 1, MemoryBytes: 1000}
	tests := []struct {
		name string
		edit func(*Metrics)
		why  string
	}{
		{"all met", func(*Metrics) {}, ""},
		{"exactly at the limits", func(m *Metrics) { m.Accuracy, m.MACs, m.Params = 0.98, 1_000_000, 50_000 }, ""},
		{"accuracy", func(m *Metrics) { m.Accuracy = 0.97 }, "accuracy 97.00% < 98.00%"},
		{"macs", func(m *Metrics) { m.MACs = 1_200_000 }, "MACs 1.2M > 1M"},
		{"params", func(m *Metrics) { m.Params = 61_706 }, "params 61.71k > 50k"},
		{"latency", func(m *Metrics) { m.LatencyMs = 2 }, "latency 2ms > 1ms"},
		{"energy", func(m *Metrics) { m.EnergyMJ = 3 }, "energy 3mJ > 2mJ"},
		{"memory", func(m *Metrics) { m.MemoryBytes = 2 << 20 }, "memory 2097152B > 1048576B"},
		{"two", func(m *Metrics) { m.Accuracy, m.MACs = 0.5, 2_000_000 }, "accuracy 50.00% < 98.00%; MACs 2M > 1M"},
	}
	for _, tt := range tests {
		m := ok
		tt.edit(&m)
		got, why := r.Satisfied(m)
		if got != (tt.why == "") || why != tt.why {
			t.Errorf("%s: Satisfied = %v, %q; want %q", tt.name, got, why, tt.why)
		}
		if v := r.violation(m); (v == 0) != got {
			t.Errorf("%s: violation %v with satisfied %v", tt.name, v, got)
		}
	}
	if ok, _ := (Requirements{}).Satisfied(Metrics{}); !ok {
		t.Error("empty requirements are not met by everything")
	}
	worse := ok
	worse.MACs = 4_000_000
	bad := ok
	bad.MACs = 2_000_000
	if r.violation(worse) <= r.violation(bad) {
		t.Error("violation does not grow with the excess")
	}
}

func TestNetScore(t *testing.T) {
	// The reference networks' NetScores from BENCHMARK.md (computed there
	// independently, rounded to 0.1).
	tests := []struct {
		name   string
		acc    float64
		params int64
		macs   int64
		want   float64
	}{
		{"LeNet-5", 0.9140, 61_706, 417_000, 94.3},
		{"SimpleCNN", 0.9277, 1_199_882, 11_990_000, 67.1},
		{"ResNet-20 (PyTorch param count)", 0.9444, 272_186, 31_020_000, 69.7},
	}
	for _, tt := range tests {
		if got := NetScoreOf(tt.acc, tt.params, tt.macs); math.Abs(got-tt.want) > 0.051 {
			t.Errorf("%s: NetScore %.3f, want %.1f", tt.name, got, tt.want)
		}
		m := Metrics{Accuracy: tt.acc, Params: tt.params, MACs: tt.macs}
		if got := NetScore.U(m); got != NetScoreOf(tt.acc, tt.params, tt.macs) {
			t.Errorf("%s: NetScore.U %v", tt.name, got)
		}
	}
	// Halving MACs at equal accuracy and params raises NetScore by 10·log10(2).
	d := NetScoreOf(0.9, 1e5, 1e6) - NetScoreOf(0.9, 1e5, 2e6)
	if math.Abs(d-10*math.Log10(2)) > 1e-9 {
		t.Errorf("halving MACs changed NetScore by %v", d)
	}
	for _, name := range []string{"netscore", "latency", "energy", "accuracy"} {
		p, err := ParsePerformance(name)
		if err != nil || p.String() != name {
			t.Errorf("ParsePerformance(%q) = %v, %v", name, p, err)
		}
	}
	if _, err := ParsePerformance("top5"); err == nil {
		t.Error("unknown performance accepted")
	}
	fast := Metrics{Accuracy: 0.9, Params: 1e5, LatencyMs: 1}
	slow := fast
	slow.LatencyMs = 2
	if LatencyScore.U(fast) <= LatencyScore.U(slow) {
		t.Error("latency score does not prefer the faster network")
	}
	small, big := Metrics{Accuracy: 0.91, Params: 1e4, MACs: 1e5}, Metrics{Accuracy: 0.92, Params: 1e5, MACs: 1e6}
	if AccuracyScore.U(big) <= AccuracyScore.U(small) || NetScore.U(big) >= NetScore.U(small) {
		t.Error("accuracy score does not prefer the more accurate, costlier network where NetScore does not")
	}
}
