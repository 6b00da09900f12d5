package targets

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
)

// FormatTable writes r for people: one line per kernel, then the totals, the
// memory checks and anything the target cannot run.
func FormatTable(w io.Writer, r *Report) error {
	fmt.Fprintf(w, "target %s (%s), graph %s\n", r.Target, r.Runtime, r.Graph)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "#\tkernel\tops\tclass\tdtype\tMFLOP\tKiB\tbound\tms\tmJ\t")
	for i, k := range r.Kernels {
		name := k.Nodes[0]
		if len(k.Nodes) > 1 {
			name += fmt.Sprintf(" (+%d)", len(k.Nodes)-1)
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%.2f\t%.1f\t%s\t%.3f\t%.3f\t\n",
			i+1, name, k.Ops, k.Class, k.DType, float64(k.FLOPs)/1e6, float64(k.Bytes)/1024, k.Bound, k.LatencyMs, k.EnergyMJ)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(w, "total: %.3f ms, %.3f mJ, %d kernels, %d free nodes, %.2f M MACs\n",
		r.LatencyMs, r.EnergyMJ, len(r.Kernels), len(r.FreeNodes), float64(r.MACs)/1e6)
	fmt.Fprintf(w, "memory: peak activations %s, weights %s\n", fmtBytes(r.PeakMemoryBytes), fmtBytes(r.WeightBytes))
	for _, m := range r.Memory {
		verdict := "fits"
		if !m.Fits {
			verdict = "DOES NOT FIT"
		}
		fmt.Fprintf(w, "  %s: %s: %s\n", m.Memory, verdict, m.Reason)
	}
	if len(r.Unsupported) == 0 {
		_, err := fmt.Fprintln(w, "unsupported: none")
		return err
	}
	_, err := fmt.Fprintf(w, "unsupported:\n  %s\n", strings.Join(r.Unsupported, "\n  "))
	return err
}

// FormatTargets writes one line per target with its key figures: peak
// throughput per dtype, bandwidth, the memories that hold activations and
// weights, power, and the runtime the figures model.
func FormatTargets(w io.Writer, ts []*Target) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "name\tpeak GOP/s\tGB/s\tmemories\tW\truntime")
	for _, t := range ts {
		var peaks, mems []string
		for _, dt := range sortedKeys(t.PeakGOPS) {
			peaks = append(peaks, fmt.Sprintf("%s %g", dt, t.PeakGOPS[dt].Value))
		}
		for _, m := range t.Memories {
			if len(m.Holds) > 0 {
				mems = append(mems, fmt.Sprintf("%s %s (%s)", m.Name, shortBytes(int64(m.Bytes.Value)), strings.Join(m.Holds, "+")))
			}
		}
		fmt.Fprintf(tw, "%s\t%s\t%g\t%s\t%g\t%s\n", t.Name, strings.Join(peaks, ", "), t.BandwidthGBs.Value,
			strings.Join(mems, ", "), t.PowerW.Value, t.Runtime)
	}
	return tw.Flush()
}

// shortBytes formats n in binary units only: "512 KiB", "4 GiB".
func shortBytes(n int64) string {
	const k = 1024
	switch {
	case n >= k*k*k && n%(k*k*k) == 0:
		return fmt.Sprintf("%d GiB", n/(k*k*k))
	case n >= k*k*k:
		return fmt.Sprintf("%.1f GiB", float64(n)/(k*k*k))
	case n >= k*k:
		return fmt.Sprintf("%g MiB", float64(n)/(k*k))
	case n >= k:
		return fmt.Sprintf("%g KiB", float64(n)/k)
	}
	return fmt.Sprintf("%d B", n)
}
