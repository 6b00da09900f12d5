package synth

import (
	"fmt"
	"math"
	"strings"
)

// Performance selects the performance function U that the generator
// maximizes over the networks that satisfy the requirements.
type Performance uint8

// Performance functions; see performances for their formulas.
const (
	NetScore Performance = iota
	LatencyScore
	EnergyScore
	// AccuracyScore is the accuracy alone: with cost limits in 1_r it asks
	// for the most accurate network that fits them.
	AccuracyScore
	numPerformances
)

// performances is the table of performance functions: name, formula and
// definition. All are larger-is-better and defined for every Metrics
// (costs below the floors count as the floors).
var performances = [numPerformances]struct {
	name, formula string
	u             func(m Metrics) float64
}{
	NetScore: {"netscore", "20·log10(a²/(√p·√m)), a in %, p in M params, m in M MACs", func(m Metrics) float64 {
		return NetScoreOf(m.Accuracy, m.Params, m.MACs)
	}},
	LatencyScore: {"latency", "20·log10(a²/(√p·√t)), a in %, p in M params, t in ms on the target", func(m Metrics) float64 {
		return 20 * math.Log10(sq(100*m.Accuracy)/(math.Sqrt(max(float64(m.Params)/1e6, 1e-6))*math.Sqrt(max(m.LatencyMs, 1e-6))))
	}},
	EnergyScore: {"energy", "20·log10(a²/(√p·√e)), a in %, p in M params, e in mJ on the target", func(m Metrics) float64 {
		return 20 * math.Log10(sq(100*m.Accuracy)/(math.Sqrt(max(float64(m.Params)/1e6, 1e-6))*math.Sqrt(max(m.EnergyMJ, 1e-6))))
	}},

	AccuracyScore: {"accuracy", "a in % (costs enter only through 1_r)", func(m Metrics) float64 {
		return 100 * m.Accuracy
	}},
}

func sq(x float64) float64 { return x * x }

// NetScoreOf returns NetScore Ω = 20·log10(a² / (√p · √m)) with a the top-1
// accuracy in percent (accuracy is given as a fraction), p the parameters in
// millions and m the MACs in millions (Wong, 2018). Zero accuracy gives −Inf.
func NetScoreOf(accuracy float64, params, macs int64) float64 {
	a := 100 * accuracy
	p := max(float64(params)/1e6, 1e-6)
	m := max(float64(macs)/1e6, 1e-6)
	return 20 * math.Log10(a*a/(math.Sqrt(p)*math.Sqrt(m)))
}

// U evaluates the performance function on m.
func (p Performance) U(m Metrics) float64 {
	if p >= numPerformances {
		return math.NaN()
	}
	return performances[p].u(m)
}

// String returns the performance function's name.
func (p Performance) String() string {
	if p >= numPerformances {
		return fmt.Sprintf("performance(%d)", uint8(p))
	}
	return performances[p].name
}

// Formula returns the definition of p in words.
func (p Performance) Formula() string {
	if p >= numPerformances {
		return ""
	}
	return performances[p].formula
}

// ParsePerformance returns the performance function called name.
func ParsePerformance(name string) (Performance, error) {
	var names []string
	for i, row := range performances {
		if row.name == name {
			return Performance(i), nil
		}
		names = append(names, row.name)
	}
	return 0, fmt.Errorf("synth: unknown performance function %q (known: %s)", name, strings.Join(names, ", "))
}

// MarshalText encodes p by name.
func (p Performance) MarshalText() ([]byte, error) { return []byte(p.String()), nil }

// UnmarshalText decodes a name written by MarshalText.
func (p *Performance) UnmarshalText(b []byte) error {
	q, err := ParsePerformance(string(b))
	if err != nil {
		return err
	}
	*p = q
	return nil
}
