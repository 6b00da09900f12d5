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
