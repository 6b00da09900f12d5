package synth

import (
	"context"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/ferminets/fermi/dataset"
	"github.com/ferminets/fermi/ir"
	"github.com/ferminets/fermi/modelfile"
)

// finish trains the best Config.Final pool networks further, measures
// them on the validation and test splits and exports them. Each finished
// FermiNet is checkpointed, so an interrupted finish resumes at the next.
func (r *runner) finish(ctx context.Context) error {
	cfg := &r.st.Config
	n := min(cfg.Final, len(r.st.Pool))
	// FermiNets train one at a time: give each all the workers' threads
	// (results do not depend on the thread count).
	r.q.Threads = max(cfg.Workers, 1) * max(cfg.Threads, 1)
	if cfg.FinalBatch > 0 {
		r.q.Batch = cfg.FinalBatch
	}
	for k := len(r.st.FermiNets); k < n; k++ {
		start := time.Now()
		e := r.st.Pool[k]
		g, err := modelfile.Load(filepath.Join(r.dir, e.File))
		if err != nil {
			return err
		}
		g.Name = fmt.Sprintf("ferminet-%d", k+1)
		if cfg.FinalSteps > 0 {
			r.q.Progress = func(done, total int) {
				if r.rec != nil {
					r.rec.Progress(g.Name, done, total)
				}
			}
			err = r.q.FineTune(ctx, g, cfg.FinalSteps, cfg.Seed^uint64(0xf1a1+k))
			r.q.Progress = nil
			if err != nil {
				return err
			}
		}
		f, err := r.q.Finish(g, e.Obs.Arch, r.test)
		if err != nil {
			return err
		}
		f.File = g.Name + ".onnx"
		if err := Export(g, filepath.Join(r.dir, f.File), r.q.Norm, cfg.Dataset, e.Obs.Arch); err != nil {
			return err
		}
		f.TrainSeconds = time.Since(start).Seconds()
		r.st.FermiNets = append(r.st.FermiNets, f)
		r.st.FinalSeconds += f.TrainSeconds
		if err := r.checkpoint(); err != nil {
			return err
		}
		if r.rec != nil {
			r.rec.Final(f)
		}
	}
	return nil
}

// Finish measures a trained network for the report: validation and
// (when test is non-nil) test accuracy, deployed costs, NetScore, U and
// whether it meets the requirements.
func (q *Inquisitor) Finish(g *ir.Graph, a Arch, test *dataset.Set) (FermiNet, error) {
	m, err := q.Costs(g)
	if err != nil {
		return FermiNet{}, err
	}
	if m.Accuracy, err = q.Accuracy(g, q.Val); err != nil {
		return FermiNet{}, err
	}
	f := FermiNet{Name: g.Name, Arch: a.String(), ValAccuracy: m.Accuracy, MACs: m.MACs, Params: m.Params,
		LatencyMs: m.LatencyMs, EnergyMJ: m.EnergyMJ, MemoryBytes: m.MemoryBytes, U: q.Performance.U(m)}
	f.Satisfied, _ = q.Requirements.Satisfied(m)
	if test != nil {
		if f.TestAccuracy, err = q.Accuracy(g, test); err != nil {
			return FermiNet{}, err
		}
	}
	f.NetScore = NetScoreOf(f.TestAccuracy, f.Params, f.MACs)
	if test == nil {
		f.NetScore = NetScoreOf(f.ValAccuracy, f.Params, f.MACs)
	}
	return f, nil
}

// Export writes g as ONNX to path (input "input" N×C×H×W, output
// "logits") and as .fir beside it, with the preprocessing in the model's
// metadata (preprocess.mean, preprocess.std, preprocess.scale, dataset)
// and the architecture (ferminets.arch).
func Export(g *ir.Graph, path string, norm dataset.Normalization, ds string, a Arch) error {
	num := func(v []float32) string {
		var s []string
		for _, x := range v {
			s = append(s, strconv.FormatFloat(float64(x), 'g', -1, 32))
		}
		return strings.Join(s, ",")
	}
	scale := norm.Scale
	if scale == 0 {
		scale = 1.0 / 255
	}
	g.Metadata = []ir.MetaProp{
		{Key: "preprocess.mean", Value: num(norm.Mean)},
		{Key: "preprocess.std", Value: num(norm.Std)},
		{Key: "preprocess.scale", Value: strconv.FormatFloat(float64(scale), 'g', -1, 32)},
		{Key: "dataset", Value: ds},
		{Key: "ferminets.arch", Value: a.String()},
	}
	g.Producer = "fsynth"
	if err := modelfile.Save(g, path, modelfile.SaveOptions{}); err != nil {
		return err
	}
	return modelfile.Save(g, strings.TrimSuffix(path, filepath.Ext(path))+".fir", modelfile.SaveOptions{})
}
