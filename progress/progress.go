package progress

import (
	"fmt"
	"io"
	"os"
	"strings"
	"time"
)

// Meter reports progress of one task to a writer.
type Meter struct {
	w        io.Writer
	label    string
	total    int
	tty      bool
	start    time.Time
	lastTick int // last tenth reported in plain mode
}

// New returns a meter for total units of work labelled label. It draws a bar
// when w is a terminal and prints plain lines otherwise.
func New(w io.Writer, label string, total int) *Meter {
	return &Meter{w: w, label: label, total: total, tty: isTerminal(w), start: time.Now(), lastTick: -1}
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// Update reports that done units are complete.
func (m *Meter) Update(done int) {
	if m == nil || m.total <= 0 {
		return
	}
	frac := float64(done) / float64(m.total)
	elapsed := time.Since(m.start).Round(100 * time.Millisecond)
	if m.tty {
		const width = 30
		n := int(frac * width)
		fmt.Fprintf(m.w, "\r%s [%s%s] %d/%d %v", m.label, strings.Repeat("=", n), strings.Repeat(" ", width-n), done, m.total, elapsed)
		if done >= m.total {
			fmt.Fprintln(m.w)
		}
		return
	}
	if tick := int(frac * 10); tick > m.lastTick {
		m.lastTick = tick
		fmt.Fprintf(m.w, "%s: %d/%d (%.0f%%) %v\n", m.label, done, m.total, 100*frac, elapsed)
	}
}
