package synth

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Requirements is the indicator 1_r of the paper: the operational
// requirements every generated network must meet. A zero field is no
// requirement. Accuracy is a fraction measured on the validation split.
type Requirements struct {
	MinAccuracy    float64 `json:"min_accuracy,omitempty"`     // fraction in (0, 1]
	MaxMACs        int64   `json:"max_macs,omitempty"`         // per sample, as deployed
	MaxParams      int64   `json:"max_params,omitempty"`       // deploy form
	MaxLatencyMs   float64 `json:"max_latency_ms,omitempty"`   // on the target, batch 1
	MaxEnergyMJ    float64 `json:"max_energy_mj,omitempty"`    // on the target, per inference
	MaxMemoryBytes int64   `json:"max_memory_bytes,omitempty"` // peak activation memory on the target
}

// Metrics are the measured figures of one network that requirements and
// performance functions look at.
type Metrics struct {
	Accuracy    float64 `json:"accuracy"` // fraction
	MACs        int64   `json:"macs"`
	Params      int64   `json:"params"`
	LatencyMs   float64 `json:"latency_ms"`
	EnergyMJ    float64 `json:"energy_mj"`
	MemoryBytes int64   `json:"memory_bytes"`
}

// Satisfied reports whether m meets every requirement of r, and if not,
// why (every violated requirement, joined by "; ").
func (r Requirements) Satisfied(m Metrics) (bool, string) {
	var why []string
	if r.MinAccuracy > 0 && m.Accuracy < r.MinAccuracy {
		why = append(why, fmt.Sprintf("accuracy %.2f%% < %.2f%%", 100*m.Accuracy, 100*r.MinAccuracy))
	}
	if r.MaxMACs > 0 && m.MACs > r.MaxMACs {
		why = append(why, fmt.Sprintf("MACs %s > %s", formatCount(m.MACs), formatCount(r.MaxMACs)))
	}
	if r.MaxParams > 0 && m.Params > r.MaxParams {
		why = append(why, fmt.Sprintf("params %s > %s", formatCount(m.Params), formatCount(r.MaxParams)))
	}
	if r.MaxLatencyMs > 0 && m.LatencyMs > r.MaxLatencyMs {
		why = append(why, fmt.Sprintf("latency %.3gms > %.3gms", m.LatencyMs, r.MaxLatencyMs))
	}
	if r.MaxEnergyMJ > 0 && m.EnergyMJ > r.MaxEnergyMJ {
		why = append(why, fmt.Sprintf("energy %.3gmJ > %.3gmJ", m.EnergyMJ, r.MaxEnergyMJ))
	}
	if r.MaxMemoryBytes > 0 && m.MemoryBytes > r.MaxMemoryBytes {
		why = append(why, fmt.Sprintf("memory %dB > %dB", m.MemoryBytes, r.MaxMemoryBytes))
	}
	return len(why) == 0, strings.Join(why, "; ")
}

// violation is a non-negative measure of how far m is from meeting r: the
// sum over violated requirements of the log ratio of measured to allowed
// (for accuracy, of the error rates), 0 when m satisfies r. It ranks
// unsatisfying candidates in the inquisitor's update.
func (r Requirements) violation(m Metrics) float64 {
	v := 0.0
	over := func(have, limit float64) {
		if limit > 0 && have > limit {
			v += math.Log(have / limit)
		}
	}
	if r.MinAccuracy > 0 && m.Accuracy < r.MinAccuracy {
		v += math.Log((1 - m.Accuracy + 1e-3) / (1 - r.MinAccuracy + 1e-3))
	}
	over(float64(m.MACs), float64(r.MaxMACs))
	over(float64(m.Params), float64(r.MaxParams))
	over(m.LatencyMs, r.MaxLatencyMs)
	over(m.EnergyMJ, r.MaxEnergyMJ)
	over(float64(m.MemoryBytes), float64(r.MaxMemoryBytes))
	return v
}

// costOnly returns r without its accuracy requirement: what can be checked
// before a network is trained.
func (r Requirements) costOnly() Requirements {
	r.MinAccuracy = 0
	return r
}

// splitUnit splits s into its number and its (lowercased, trimmed) suffix.
func splitUnit(s string) (float64, string, error) {
	s = strings.TrimSpace(s)
	i := len(s)
	for i > 0 && !strings.ContainsRune("0123456789.", rune(s[i-1])) {
		i--
	}
	if i == 0 {
		return 0, "", fmt.Errorf("synth: %q has no number", s)
	}
	v, err := strconv.ParseFloat(s[:i], 64)
	if err != nil || math.IsNaN(v) || math.IsInf(v, 0) || v < 0 {
		return 0, "", fmt.Errorf("synth: %q is not a non-negative number", s)
	}
	return v, strings.ToLower(strings.TrimSpace(s[i:])), nil
}

// ParseCount parses a count such as "1200", "1.2M", "120k", "3G" (SI
// multipliers k, M, G, case-insensitive).
func ParseCount(s string) (int64, error) {
	v, u, err := splitUnit(s)
	if err != nil {
		return 0, err
	}
	mult, ok := map[string]float64{"": 1, "k": 1e3, "m": 1e6, "g": 1e9}[u]
	if !ok {
		return 0, fmt.Errorf("synth: count %q: unknown suffix %q (want k, M or G)", s, u)
	}
	return int64(math.Round(v * mult)), nil
}

// ParseBytes parses a size such as "256KiB", "1.5MB", "4096", "2 MiB"
// (B, kB/KB = 1000, KiB = 1024, MB, MiB, GB, GiB; case-insensitive).
func ParseBytes(s string) (int64, error) {
	v, u, err := splitUnit(s)
	if err != nil {
		return 0, err
	}
	mult, ok := map[string]float64{"": 1, "b": 1, "k": 1e3, "kb": 1e3, "kib": 1 << 10, "m": 1e6, "mb": 1e6,
		"mib": 1 << 20, "g": 1e9, "gb": 1e9, "gib": 1 << 30}[u]
	if !ok {
		return 0, fmt.Errorf("synth: size %q: unknown unit %q (want B, KB, KiB, MB, MiB, GB or GiB)", s, u)
	}
	return int64(math.Round(v * mult)), nil
}

// ParseMillis parses a duration in milliseconds such as "5ms", "0.5ms",
// "250us", "1s" or a bare "5" (milliseconds).
func ParseMillis(s string) (float64, error) {
	v, u, err := splitUnit(s)
	if err != nil {
		return 0, err
	}
	mult, ok := map[string]float64{"": 1, "ms": 1, "us": 1e-3, "µs": 1e-3, "s": 1e3}[u]
	if !ok {
		return 0, fmt.Errorf("synth: duration %q: unknown unit %q (want s, ms or us)", s, u)
	}
	return v * mult, nil
}

// ParseMillijoules parses an energy in millijoules such as "2mJ", "500uJ",
// "0.1J" or a bare "2" (millijoules).
func ParseMillijoules(s string) (float64, error) {
	v, u, err := splitUnit(s)
	if err != nil {
		return 0, err
	}
	mult, ok := map[string]float64{"": 1, "mj": 1, "uj": 1e-3, "µj": 1e-3, "j": 1e3}[u]
	if !ok {
		return 0, fmt.Errorf("synth: energy %q: unknown unit %q (want J, mJ or uJ)", s, u)
	}
	return v * mult, nil
}

// ParseAccuracy parses an accuracy given as a fraction ("0.9") or a
// percentage ("90%") and returns the fraction.
func ParseAccuracy(s string) (float64, error) {
	v, u, err := splitUnit(s)
	if err != nil {
		return 0, err
	}
	switch u {
	case "%":
		v /= 100
	case "":
	default:
		return 0, fmt.Errorf("synth: accuracy %q: unknown unit %q (want a fraction or %%)", s, u)
	}
	if v <= 0 || v > 1 {
		return 0, fmt.Errorf("synth: accuracy %q is not in (0, 1] or (0%%, 100%%]", s)
	}
	return v, nil
}

// formatCount prints n with an SI suffix: 1.2M, 61.7k, 950.
func formatCount(n int64) string {
	f := float64(n)
	switch {
	case f >= 1e9:
		return strconv.FormatFloat(f/1e9, 'g', 4, 64) + "G"
	case f >= 1e6:
		return strconv.FormatFloat(f/1e6, 'g', 4, 64) + "M"
	case f >= 1e3:
		return strconv.FormatFloat(f/1e3, 'g', 4, 64) + "k"
	}
	return strconv.FormatInt(n, 10)
}
