package targets

import (
	"fmt"
	"math"
	"os"
	"sort"
	"strings"
)

// Measurement is one model timed in ONNX Runtime under the host protocol.
type Measurement struct {
	Runs int `json:"runs"`
	// WallMs is the median wall time of one run, ms.
	WallMs float64 `json:"wall_ms"`
	// CPUMs is the CPU time of one run on the (only) thread that executes it,
	// ms: the wall time the run would take on an otherwise idle core. On a
	// loaded machine the scheduler stretches WallMs but not CPUMs.
	CPUMs float64 `json:"cpu_ms"`
}

// Clock selects which time of a Measurement calibration fits.
type Clock string

// The clocks. ClockWall is the protocol's wall time; ClockCPU the run's
// thread CPU time, the better estimate on a machine shared with other work.
const (
	ClockWall Clock = "wall"
	ClockCPU  Clock = "cpu"
)

// Ms returns the time of m on clock c.
func (m Measurement) Ms(c Clock) float64 {
	if c == ClockCPU {
		return m.CPUMs
	}
	return m.WallMs
}

// CalibrateOptions configure Calibrate.
type CalibrateOptions struct {
	// Runs is the number of timed runs per micro-benchmark (the median is
	// used); at least 20.
	Runs int
	// Warmup is the number of untimed runs before timing; 0 means 3.
	Warmup int
	// Clock is the time fitted; "" means ClockCPU.
	Clock Clock
	// Rounds is how many times the whole set is measured; each
	// micro-benchmark keeps its fastest round's median. 0 means 3.
	Rounds int
	// Progress, when set, is called after each micro-benchmark.
	Progress func(done, total int, name string)
}

// BenchmarkResult is one micro-benchmark of a calibration.
type BenchmarkResult struct {
	Name    string      `json:"name"`
	Class   OpClass     `json:"class"`
	Kernels int         `json:"kernels"` // kernels the fitted profile predicts
	FLOPs   int64       `json:"flops"`
	Bytes   int64       `json:"bytes"`
	Raw     Measurement `json:"raw"`
	// MeasuredMs is the fitted clock's time minus the base session-run
	// overhead.
	MeasuredMs  float64 `json:"measured_ms"`
	PredictedMs float64 `json:"predicted_ms"` // by the fitted profile
	Ratio       float64 `json:"ratio"`        // predicted / measured
	Fitted      bool    `json:"fitted"`       // false: shorter than 3 µs, left out of the fit
}

// CalibrationReport describes one calibration: where and how it measured,
// the base overhead it subtracted, the fit, and every micro-benchmark.
type CalibrationReport struct {
	Machine    string            `json:"machine"`
	ORTVersion string            `json:"ort_version"`
	Date       string            `json:"date"`
	Runs       int               `json:"runs"`
	Warmup     int               `json:"warmup"`
	Rounds     int               `json:"rounds"`
	Clock      Clock             `json:"clock"`
	LoadAvg    [2]string         `json:"load_avg"` // /proc/loadavg 1-minute figure before and after
	Base       Measurement       `json:"base"`     // the Identity-only model
	Method     string            `json:"method"`
	RMSLogErr  float64           `json:"rms_log_error"` // root-mean-square of ln(predicted/measured)
	Benchmarks []BenchmarkResult `json:"benchmarks"`
}

// sample is one micro-benchmark prepared for fitting: its kernels under the
// base profile's fusions (which the fit does not change) and its time.
type sample struct {
	kernels []*kernel
	ms      float64
	skip    bool // too short to measure reliably; not fitted
	// footprint is the graph's weights plus peak activations, which decide
	// whether weights spill out of the caches (Target.WeightLevels).
	footprint int64
}

// minFitMs is the shortest micro-benchmark time (after the base overhead is
// subtracted) the fit uses: below a few microseconds, timer and scheduling
// noise on a shared machine is as large as the time itself.
const minFitMs = 0.003

// fitParam is one profile figure the fit adjusts, in log space.
type fitParam struct {
	name   string
	get    func(t *Target) float64
	set    func(t *Target, v float64)
	lo, hi float64 // bounds of the value
}

// fitParams are the continuous figures calibration fits: the per-kernel
// overhead, the bandwidth, the efficiency of every class whose kernels do
// arithmetic, and the optional stream_serial, weight-level bandwidths and
// conv_shape factors when t has them. The data class (copies) has no
// arithmetic, so its efficiency cannot be observed and is left as it is;
// the peaks are what efficiencies are relative to (see raisePeak), and the
// weight levels' thresholds are chosen by fit.
func fitParams(t *Target) []fitParam {
	// The closures read and write whichever target they are given.
	ps := []fitParam{
		{"kernel_overhead_us", func(t *Target) float64 { return t.KernelOverheadUs.Value },
			func(t *Target, v float64) { t.KernelOverheadUs.Value = v }, 0.05, 1000},
		{"bandwidth_gbs", func(t *Target) float64 { return t.BandwidthGBs.Value },
			func(t *Target, v float64) { t.BandwidthGBs.Value = v }, 0.5, 1000},
	}
	if t.StreamSerial != nil {
		ps = append(ps, fitParam{"stream_serial", func(t *Target) float64 { return t.StreamSerial.Value },
			func(t *Target, v float64) { t.StreamSerial.Value = v }, 1e-3, 1})
	}
	for i := range t.WeightLevels {
		ps = append(ps, fitParam{fmt.Sprintf("weight_levels[%d].bandwidth_gbs", i), func(t *Target) float64 { return t.WeightLevels[i].BandwidthGBs.Value },
			// A level behind the caches is no faster than they are.
			func(t *Target, v float64) { t.WeightLevels[i].BandwidthGBs.Value = math.Min(v, t.BandwidthGBs.Value) }, 0.1, 1000})
	}
	if t.ConvShape != nil {
		ps = append(ps,
			fitParam{"conv_shape.unblocked_conv", func(t *Target) float64 { return t.ConvShape.UnblockedConv.Value },
				func(t *Target, v float64) { t.ConvShape.UnblockedConv.Value = v }, 1e-3, 1},
			fitParam{"conv_shape.unblocked_depthwise", func(t *Target) float64 { return t.ConvShape.UnblockedDepthwise.Value },
				func(t *Target, v float64) { t.ConvShape.UnblockedDepthwise.Value = v }, 1e-3, 1},
			fitParam{"conv_shape.half_depth", func(t *Target) float64 { return t.ConvShape.HalfDepth.Value },
				func(t *Target, v float64) { t.ConvShape.HalfDepth.Value = v }, 1e-2, 1e4})
		if t.ConvShape.HalfWidth != nil {
			ps = append(ps, fitParam{"conv_shape.half_width", func(t *Target) float64 { return t.ConvShape.HalfWidth.Value },
				func(t *Target, v float64) { t.ConvShape.HalfWidth.Value = v }, 1e-3, 1e3})
		}
	}
	for _, c := range []OpClass{ClassConv, ClassDepthwise, ClassGemm, ClassElementwise, ClassPool} {
		c := c
		ps = append(ps, fitParam{"efficiency." + string(c),
			func(t *Target) float64 { return t.Efficiency[c].Value },
			func(t *Target, v float64) { f := t.Efficiency[c]; f.Value = v; t.Efficiency[c] = f }, 1e-4, 1})
	}
	return ps
}

// predictMs is the cost model's latency of a sample on t.
func predictMs(t *Target, s sample) float64 {
	bw := t.weightBandwidth(s.footprint)
	var ms float64
	for _, k := range s.kernels {
		k.weightGBs = bw
		sec, _ := t.kernelSeconds(k)
		ms += sec * 1e3
	}
	return ms
}

// logLoss is the sum of squared log ratios of predicted to measured time.
func logLoss(t *Target, ss []sample) float64 {
	var sum float64
	for _, s := range ss {
		if s.skip {
			continue
		}
		d := math.Log(predictMs(t, s) / s.ms)
		sum += d * d
	}
	return sum
}

// fitMethod describes fit for the report and the profile's sources.
const fitMethod = "least squares on log(predicted/measured) over the micro-benchmarks measuring at least 3 µs, minimised by cyclic coordinate descent " +
	"(golden-section search per parameter in log space, until a sweep improves the loss by less than 1e-6 or 40 sweeps) over the per-kernel overhead, the bandwidth, the " +
	"efficiency of each arithmetic op class, the conv_shape factors, the weight levels' bandwidths and stream_serial; each weight level's threshold is " +
	"chosen among the micro-benchmarks' footprints by refitting for every candidate; the f32 peak is raised to 1.05x the fastest convolution when that exceeds it; " +
	"the predictions are the cost model's own (fusion-aware kernels, roofline, summed), so the fitted figures are the ones Estimate uses"

// fit adjusts t's fitted parameters to the samples in place and returns the
// final root-mean-square log error. The weight levels' thresholds are steps
// without a gradient: each is chosen among the samples' footprints, level
// by level from the outermost, by running the continuous fit for every
// candidate and keeping the best.
func fit(t *Target, ss []sample) float64 {
	var cands []float64
	seen := map[int64]bool{}
	for _, s := range ss {
		if !s.skip && s.footprint > 4<<20 && !seen[s.footprint] {
			seen[s.footprint] = true
			cands = append(cands, float64(s.footprint)-1)
		}
	}
	sort.Float64s(cands)
	best := cloneTarget(t)
	bestErr := fitContinuous(best, ss)
	// Outermost level first (largest threshold), then inner ones below it.
	for i := len(t.WeightLevels) - 1; i >= 0; i-- {
		limit := math.Inf(1)
		if i+1 < len(best.WeightLevels) {
			limit = best.WeightLevels[i+1].AboveBytes.Value
		}
		start := best
		for _, c := range cands {
			if c >= limit {
				continue
			}
			try := cloneTarget(start)
			try.WeightLevels[i].AboveBytes.Value = c
			if e := fitContinuous(try, ss); e < bestErr {
				best, bestErr = try, e
			}
		}
	}
	*t = *best
	return bestErr
}

// fitContinuous fits the continuous parameters by coordinate descent.
func fitContinuous(t *Target, ss []sample) float64 {
	ps := fitParams(t)
	prev := math.Inf(1)
	for sweep := 0; sweep < 40; sweep++ {
		for _, p := range ps {
			cur := math.Log(p.get(t))
			lo := math.Max(cur-2, math.Log(p.lo))
			hi := math.Min(cur+2, math.Log(p.hi))
			f := func(x float64) float64 { p.set(t, math.Exp(x)); return logLoss(t, ss) }
			best := goldenMin(f, lo, hi, 40)
			if f(best) > f(cur) {
				best = cur
			}
			p.set(t, math.Exp(best))
		}
		loss := logLoss(t, ss)
		if prev-loss < 1e-6*loss {
			break // converged
		}
		prev = loss
	}
	n := 0
	for _, s := range ss {
		if !s.skip {
			n++
		}
	}
	return math.Sqrt(logLoss(t, ss) / float64(max(n, 1)))
}

// goldenMin returns the x in [a, b] minimising f by golden-section search.
func goldenMin(f func(float64) float64, a, b float64, iters int) float64 {
	r := (math.Sqrt(5) - 1) / 2
	c, d := b-r*(b-a), a+r*(b-a)
	fc, fd := f(c), f(d)
	for range iters {
		if fc < fd {
			b, d, fd = d, c, fc
			c = b - r*(b-a)
			fc = f(c)
		} else {
			a, c, fc = c, d, fd
			d = a + r*(b-a)
			fd = f(d)
		}
	}
	return (a + b) / 2
}

// cloneTarget deep-copies the parts of t calibration changes.
func cloneTarget(t *Target) *Target {
	c := *t
	c.Efficiency = make(map[OpClass]Figure, len(t.Efficiency))
	for k, v := range t.Efficiency {
		c.Efficiency[k] = v
	}
	c.PeakGOPS = make(map[string]Figure, len(t.PeakGOPS))
	for k, v := range t.PeakGOPS {
		c.PeakGOPS[k] = v
	}
	c.Memories = append([]Memory(nil), t.Memories...)
	c.Fusions = append([]Fusion(nil), t.Fusions...)
	if t.ConvShape != nil {
		cs := *t.ConvShape
		if cs.HalfWidth != nil {
			hw := *cs.HalfWidth
			cs.HalfWidth = &hw
		}
		c.ConvShape = &cs
	}
	c.WeightLevels = append([]WeightLevel(nil), t.WeightLevels...)
	if t.StreamSerial != nil {
		f := *t.StreamSerial
		c.StreamSerial = &f
	}
	return &c
}

// LoadAvg returns the 1-minute load average from /proc/loadavg, or "".
func LoadAvg() string {
	data, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return ""
	}
	f := strings.Fields(string(data))
	if len(f) == 0 {
		return ""
	}
	return f[0]
}

// fittedSources sets the source of every fitted figure of t.
func fittedSources(t *Target, rep *CalibrationReport) {
	origin := fmt.Sprintf("fitted: fcompile calibrate on %s, %s, ORT %s, median of %d runs after %d warm-up (%s time, fastest of %d rounds), %d micro-benchmarks, rms log error %.3f",
		rep.Machine, rep.Date, rep.ORTVersion, rep.Runs, rep.Warmup, rep.Clock, rep.Rounds, len(rep.Benchmarks), rep.RMSLogErr)
	t.KernelOverheadUs.Source = origin + "; session-run base overhead of an Identity-only model subtracted"
	t.BandwidthGBs.Source = origin
	if f := t.StreamSerial; f != nil {
		f.Source = origin + " (the convolution micro-benchmarks whose weights stream from a weight level)"
	}
	for i := range t.WeightLevels {
		l := &t.WeightLevels[i]
		l.BandwidthGBs.Source = origin + " (the micro-benchmarks whose footprint exceeds above_bytes)"
		l.AboveBytes.Source = origin + ": the footprint (weights + peak activations) above which weights stream at this level's bandwidth, " +
			"chosen among the micro-benchmarks' footprints (lscpu: L2 2 MiB per core, L3 32 MiB shared with other processes)"
	}
	if cs := t.ConvShape; cs != nil {
		cs.UnblockedConv.Source = origin
		cs.UnblockedDepthwise.Source = origin
		cs.HalfDepth.Source = origin
		if cs.HalfWidth != nil {
			cs.HalfWidth.Source = origin
		}
	}
	for _, c := range []OpClass{ClassConv, ClassDepthwise, ClassGemm, ClassElementwise, ClassPool} {
		f := t.Efficiency[c]
		f.Source = origin + ", relative to the peak_gops figure"
		t.Efficiency[c] = f
	}
	const notFitted = "not fitted (copies do no arithmetic, so calibration cannot observe this figure; their cost is bytes / bandwidth + overhead): "
	if f := t.Efficiency[ClassData]; !strings.HasPrefix(f.Source, notFitted) {
		f.Source = notFitted + f.Source
		t.Efficiency[ClassData] = f
	}
}

// peakHeadroom is how far above the fastest measured convolution the fitted
// f32 peak is put, so that efficiencies (at most 1) can express it.
const peakHeadroom = 1.05

// raisePeak lifts t's f32 peak to peakHeadroom × the fastest arithmetic rate
// any float convolution micro-benchmark reached, when the nominal figure is
// below that (efficiencies are fractions of the peak and cannot exceed 1).
func raisePeak(t *Target, rep *CalibrationReport) {
	best, name := 0.0, ""
	for _, r := range rep.Benchmarks {
		if r.Class != ClassConv || r.MeasuredMs <= 0 {
			continue
		}
		if g := float64(r.FLOPs) / (r.MeasuredMs * 1e6); g > best {
			best, name = g, r.Name
		}
	}
	f, ok := t.PeakGOPS["f32"]
	if !ok || best*peakHeadroom <= f.Value {
		return
	}
	t.PeakGOPS["f32"] = Figure{Value: math.Round(best * peakHeadroom),
		Source: fmt.Sprintf("measured: %.2f x the fastest calibration micro-benchmark (%s, %.1f GFLOP/s; fcompile calibrate on %s, %s, ORT %s); nominal figure %g (%s)",
			peakHeadroom, name, best, rep.Machine, rep.Date, rep.ORTVersion, f.Value, f.Source)}
	t.peak = nil // re-prepared below
	if err := t.Validate(); err != nil {
		panic("targets: raisePeak: " + err.Error()) // only the peak changed, to a positive value
	}
}
