package synth

import (
	"bytes"
	"fmt"
	"image/color"
	"math"
	"path/filepath"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"github.com/ferminets/fermi/atomicfile"
)

// PlotPoint is one network on an accuracy-vs-MACs plot.
type PlotPoint struct {
	MACs     int64
	Accuracy float64 // fraction
	Label    string
}

// PlotSeries is one kind of network on the plot, drawn with one glyph.
type PlotSeries struct {
	Name    string
	Points  []PlotPoint
	Color   color.Color
	Shape   draw.GlyphDrawer
	LabelDY vg.Length // vertical label offset, to keep labels of series that share MACs apart
}

// Plot colours and glyphs of the kinds of networks, shared by every report.
var (
	FermiNetStyle  = PlotSeries{Color: color.RGBA{R: 200, A: 255}, Shape: draw.CircleGlyph{}, LabelDY: vg.Points(2)}
	GeneratedStyle = PlotSeries{Color: color.RGBA{G: 150, A: 255}, Shape: draw.TriangleGlyph{}, LabelDY: vg.Points(2)}
	OursStyle      = PlotSeries{Color: color.RGBA{B: 200, A: 255}, Shape: draw.SquareGlyph{}, LabelDY: vg.Points(-9)}
	ReferenceStyle = PlotSeries{Color: color.RGBA{R: 90, G: 90, B: 90, A: 255}, Shape: draw.BoxGlyph{}, LabelDY: vg.Points(3)}
)

// Styled returns s with name and points set.
func (s PlotSeries) Styled(name string, pts []PlotPoint) PlotSeries {
	s.Name, s.Points = name, pts
	return s
}

// SaveAccuracyPlot draws accuracy (%) against MACs (log axis) for the
// series and writes the plot atomically to each path, in the format its
// extension names (.svg, .png, .pdf, ...). Empty series are left out.
func SaveAccuracyPlot(title string, series []PlotSeries, paths ...string) error {
	p := plot.New()
	p.Title.Text = title
	p.X.Label.Text = "MACs per image (log scale)"
	p.Y.Label.Text = "test accuracy (%)"
	p.X.Scale = plot.LogScale{}
	p.X.Tick.Marker = plot.LogTicks{Prec: -1}
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, s := range series {
		if len(s.Points) == 0 {
			continue
		}
		xys := make(plotter.XYs, len(s.Points))
		labels := make([]string, len(s.Points))
		for i, q := range s.Points {
			xys[i] = plotter.XY{X: float64(max(q.MACs, 1)), Y: 100 * q.Accuracy}
			labels[i] = q.Label
			lo, hi = math.Min(lo, xys[i].X), math.Max(hi, xys[i].X)
		}
		sc, err := plotter.NewScatter(xys)
		if err != nil {
			return fmt.Errorf("synth: plot: %w", err)
		}
		sc.GlyphStyle.Color, sc.GlyphStyle.Shape, sc.GlyphStyle.Radius = s.Color, s.Shape, vg.Points(4)
		p.Add(sc)
		p.Legend.Add(s.Name, sc)
		l, err := plotter.NewLabels(plotter.XYLabels{XYs: xys, Labels: labels})
		if err != nil {
			return fmt.Errorf("synth: plot: %w", err)
		}
		for i := range l.TextStyle {
			l.TextStyle[i].Font.Size = vg.Points(7)
		}
		l.Offset = vg.Point{X: vg.Points(5), Y: s.LabelDY}
		p.Add(l)
	}
	if !math.IsInf(lo, 1) {
		p.X.Min, p.X.Max = lo/2, hi*8 // room for the labels and the legend
	}
	p.Y.Min -= 1
	p.Y.Max += 1
	// Bottom right: high MACs and low accuracy, where no network worth
	// plotting is.
	p.Legend.Top, p.Legend.Left = false, false
	for _, path := range paths {
		w, err := p.WriterTo(8*vg.Inch, 5.5*vg.Inch, strings.TrimPrefix(filepath.Ext(path), "."))
		if err != nil {
			return fmt.Errorf("synth: plot %s: %w", path, err)
		}
		var buf bytes.Buffer
		if _, err := w.WriteTo(&buf); err != nil {
			return fmt.Errorf("synth: plot %s: %w", path, err)
		}
		if err := atomicfile.WriteBytes(path, buf.Bytes()); err != nil {
			return err
		}
	}
	return nil
}
