package main

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/ferminets/fermi/atomicfile"
	"github.com/ferminets/fermi/dataset"
	"github.com/ferminets/fermi/engine"
	"github.com/ferminets/fermi/internal/cli"
	"github.com/ferminets/fermi/ir"
	"github.com/ferminets/fermi/modelfile"
	"github.com/ferminets/fermi/passes"
	"github.com/ferminets/fermi/progress"
	"github.com/ferminets/fermi/zoo"
)

//go:embed doc.go
var docSource string

// program is fsynth's command table; demo is the default command (no
// arguments, or flags alone).
var program = &cli.Program{
	Name:    "fsynth",
	Doc:     docSource,
	Default: "demo",
	Commands: []cli.Command{
		{Name: "demo", Short: "synthesize small MNIST networks for a Cortex-A76 (the default command)", Run: runDemo},
		{Name: "run", Short: "synthesize FermiNets for a data set, target and requirements", Run: runSynth},
		{Name: "resume", Short: "continue an interrupted synthesis run", Run: runResume},
		{Name: "generate", Short: "sample more networks from a run's learned generator", Run: runGenerate},
		{Name: "train", Short: "train a zoo architecture or an ONNX model on a data set", Run: runTrain},
	},
}

func main() {
	os.Exit(program.Main(os.Args[1:], os.Stdout, os.Stderr))
}

// mainErr runs the command line in-process (tests) and returns the exit status.
func mainErr(args []string, stdout, stderr io.Writer) int {
	return program.Main(args, stdout, stderr)
}

// flags returns the flag set of subcommand name.
func flags(name string, stdout io.Writer) *pflag.FlagSet {
	return cli.NewFlags("fsynth", name, docSource, stdout)
}

// trainFlags are the settings of one training run; they are stored in the
// checkpoint so that --resume refuses a different run.
type trainFlags struct {
	Arch, Model, Dataset, DataDir string
	Epochs, Batch                 int
	LR, Momentum, WD, Smoothing   float64
	Nesterov, NoDecayNormBias     bool
	Schedule, Optimizer, Augment  string
	Seed                          uint64
	TrainSplit                    string
	TrainLimit                    int
	Finetune                      bool
	// The distillation settings are omitted without a teacher, so the
	// settings a checkpoint records stay those of earlier builds.
	Teacher     string  `json:",omitempty"`
	Distill     float64 `json:",omitempty"`
	DistillTemp float64 `json:",omitempty"`
}

var schedules = map[string]engine.Schedule{"onecycle": engine.ScheduleOneCycle, "cosine": engine.ScheduleCosine, "constant": engine.ScheduleConstant}
var optimizers = map[string]engine.Optimizer{"sgd": engine.SGD, "adamw": engine.AdamW}

func runTrain(args []string, stdout, stderr io.Writer) error {
	fs := flags("train", stdout)
	var f trainFlags
	fs.StringVar(&f.Arch, "arch", "", "zoo architecture to build: "+strings.Join(zoo.Names(), ", "))
	fs.StringVar(&f.Model, "model", "", "ONNX (or .fir) model to train instead of --arch")
	fs.StringVar(&f.Dataset, "dataset", "", "mnist, fashion-mnist, cifar10 or a directory")
	fs.StringVar(&f.DataDir, "data-dir", "", "where to find a named data set (default: its Debian location)")
	fs.IntVar(&f.Epochs, "epochs", 30, "training epochs")
	fs.IntVar(&f.Batch, "batch", 128, "images per step")
	fs.Float64Var(&f.LR, "lr", 0.05, "peak learning rate")
	fs.Float64Var(&f.Momentum, "momentum", 0.9, "SGD momentum")
	fs.BoolVar(&f.Nesterov, "nesterov", true, "Nesterov momentum (--nesterov=false for classic)")
	fs.Float64Var(&f.WD, "wd", 5e-4, "weight decay")
	fs.BoolVar(&f.NoDecayNormBias, "no-decay-norm-bias", false, "exempt BatchNorm parameters and biases from weight decay")
	fs.Float64Var(&f.Smoothing, "label-smoothing", 0, "label smoothing ε")
	fs.StringVar(&f.Schedule, "schedule", "onecycle", "learning-rate schedule: onecycle, cosine (5 % linear warm-up) or constant")
	fs.StringVar(&f.Optimizer, "optimizer", "sgd", "sgd or adamw")
	fs.Uint64Var(&f.Seed, "seed", 0, "seed of the weights, shuffling, augmentation and dropout")
	fs.StringVar(&f.Augment, "augment", "crop,flip", "training augmentation: crop (pad 2), flip, both, or none")
	fs.StringVar(&f.TrainSplit, "train-split", "all", "all (60,000 images) or train (without the last 5,000)")
	fs.IntVar(&f.TrainLimit, "train-limit", 0, "train on the first N images of the split only (0: all)")
	fs.BoolVar(&f.Finetune, "finetune", false, "with --model: start from the model's weights instead of re-initializing")
	fs.StringVar(&f.Teacher, "teacher", "", "distill from the trained ONNX (or .fir) model `T`: its logits on each augmented batch join the labels")
	fs.Float64Var(&f.Distill, "distill", 0.5, "with --teacher: weight α of the teacher term (the labels get 1 − α)")
	fs.Float64Var(&f.DistillTemp, "distill-temp", 4, "with --teacher: softening temperature")
	out := fs.StringP("output", "o", "", "write the trained model to `FILE` (.onnx or .fir)")
	resume := fs.Bool("resume", false, "continue from the checkpoint FILE.ckpt of an interrupted run with the same flags")
	reportJSON := fs.String("report-json", "", "write a JSON summary of the run to `FILE`")
	threads := fs.Int("threads", 0, "goroutines per kernel (default: all cores)")
	if err := cli.Parse(fs, args); err != nil {
		return err
	}
	switch {
	case fs.NArg() != 0:
		return cli.Usagef("unexpected arguments %q", fs.Args())
	case (f.Arch == "") == (f.Model == ""):
		return cli.Usagef("give exactly one of --arch and --model")
	case f.Dataset == "":
		return cli.Usagef("--dataset is required")
	case *out == "":
		return cli.Usagef("-o is required")
	case f.Epochs < 1 || f.Batch < 1:
		return cli.Usagef("--epochs and --batch must be positive")
	case f.TrainSplit != "all" && f.TrainSplit != "train":
		return cli.Usagef("--train-split %q: want all or train", f.TrainSplit)
	case f.Finetune && f.Model == "":
		return cli.Usagef("--finetune needs --model")
	case f.Teacher == "" && (fs.Changed("distill") || fs.Changed("distill-temp")):
		return cli.Usagef("--distill and --distill-temp need --teacher")
	case f.Teacher != "" && !(f.Distill > 0 && f.Distill <= 1 && f.DistillTemp > 0):
		return cli.Usagef("--distill %g, --distill-temp %g: want a weight in (0, 1] and a positive temperature", f.Distill, f.DistillTemp)
	}
	if _, err := modelfile.FormatOf(*out); err != nil {
		return cli.UsageError{Msg: err.Error()}
	}
	if f.Teacher == "" {
		f.Distill, f.DistillTemp = 0, 0
	}
	sched, ok := schedules[f.Schedule]
	if !ok {
		return cli.Usagef("--schedule %q: want onecycle, cosine or constant", f.Schedule)
	}
	opt, ok := optimizers[f.Optimizer]
	if !ok {
		return cli.Usagef("--optimizer %q: want sgd or adamw", f.Optimizer)
	}
	aug, err := parseAugment(f.Augment)
	if err != nil {
		return err
	}

	valSize := 0
	if f.TrainSplit == "all" {
		valSize = -1
	}
	train, err := dataset.Load(f.Dataset, "train", dataset.Options{DataDir: f.DataDir, ValSize: valSize})
	if err != nil {
		return err
	}
	train = train.Head(f.TrainLimit)
	val, err := dataset.Load(f.Dataset, "val", dataset.Options{DataDir: f.DataDir})
	if err != nil {
		return err
	}
	test, err := dataset.Load(f.Dataset, "test", dataset.Options{DataDir: f.DataDir})
	if err != nil {
		return err
	}
	norm := dataset.DefaultNormalization(f.Dataset)
	if len(norm.Mean) == 0 {
		norm = dataset.ComputeNormalization(train)
	}

	var g *ir.Graph
	if f.Arch != "" {
		g, err = zoo.Build(f.Arch, zoo.Options{Seed: f.Seed, Classes: train.Classes, InputShape: [3]int{train.C, train.H, train.W}})
	} else {
		g, err = modelfile.Load(f.Model)
		if err == nil && !f.Finetune {
			err = engine.InitParams(g, f.Seed)
		}
	}
	if err != nil {
		return err
	}
	var distill *engine.Distillation
	if f.Teacher != "" {
		if distill, err = loadTeacher(f, norm, *threads); err != nil {
			return err
		}
	}
	tr, err := engine.NewTrainer(g, engine.TrainConfig{
		Optimizer: opt, LR: f.LR, Momentum: f.Momentum, Nesterov: f.Nesterov, WeightDecay: f.WD,
		NoDecayNormBias: f.NoDecayNormBias, Schedule: sched, LabelSmoothing: f.Smoothing, Seed: f.Seed,
		Distill: distill, Threads: *threads, Kernels: kernels,
	})
	if err != nil {
		return err
	}
	ckptPath := *out + ".ckpt"
	settings, _ := json.Marshal(f)
	start := 0
	if *resume {
		if start, err = restore(tr, ckptPath, string(settings)); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "resuming after epoch %d (step %d)\n", start, tr.Steps())
	}
	fmt.Fprintf(stdout, "training %s on %s: %d images, %d epochs, batch %d, %s lr %g (%s), seed %d\n",
		g.Name, f.Dataset, train.N, f.Epochs, f.Batch, f.Optimizer, f.LR, f.Schedule, f.Seed)
	began := time.Now()
	var meter *progress.Meter
	var curves []engine.EpochStats
	rec := engine.RecorderFunc(func(s engine.EpochStats) error {
		curves = append(curves, s)
		fmt.Fprintf(stdout, "epoch %d/%d: loss %.4f  train %.2f %%  val %.2f %%  lr %.5f  %.0f img/s  %.1f s\n",
			s.Epoch, s.Epochs, s.Loss, 100*s.TrainAcc, 100*s.ValAcc, s.LR, s.ImgPerSec(), s.Elapsed.Seconds())
		return atomicfile.Write(ckptPath, func(w io.Writer) error {
			c := tr.Checkpoint(s.Epoch)
			c.Note = string(settings)
			return engine.WriteCheckpoint(w, c)
		})
	})
	err = tr.Fit(train, val, engine.FitOptions{
		Epochs: f.Epochs, StartEpoch: start, Batch: f.Batch, Norm: norm, Augment: aug, Recorder: rec,
		Progress: func(done, total int) {
			if done <= f.Batch {
				meter = progress.New(stderr, "epoch", total)
			}
			meter.Update(done)
		},
	})
	if err != nil {
		return err
	}
	trainTime := time.Since(began)
	res, err := tr.Executor().Evaluate(test, norm, 256, nil)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "test accuracy %.2f %% (%d/%d), training time %s\n", 100*res.Accuracy, res.Correct, res.Samples, trainTime.Round(time.Second))
	setMeta(g, norm, f.Dataset)
	if err := modelfile.Save(g, *out, modelfile.SaveOptions{}); err != nil {
		return err
	}
	if *reportJSON != "" {
		type epochJSON struct {
			Epoch     int     `json:"epoch"`
			Loss      float64 `json:"loss"`
			TrainAcc  float64 `json:"train_accuracy"`
			ValAcc    float64 `json:"val_accuracy"`
			LR        float64 `json:"lr"`
			ImgPerSec float64 `json:"img_per_s"`
			Seconds   float64 `json:"seconds"`
		}
		var eps []epochJSON
		for _, s := range curves {
			eps = append(eps, epochJSON{s.Epoch, s.Loss, s.TrainAcc, s.ValAcc, s.LR, s.ImgPerSec(), s.Elapsed.Seconds()})
		}
		rep := map[string]any{
			"model": *out, "arch": f.Arch, "source_model": f.Model, "dataset": f.Dataset,
			"test_accuracy": res.Accuracy, "test_samples": res.Samples, "train_images": train.N,
			"epochs": f.Epochs, "resumed_after_epoch": start, "seed": f.Seed, "train_seconds": trainTime.Seconds(),
			"command": "fsynth train " + strings.Join(args, " "), "settings": f, "curve": eps,
		}
		data, err := json.MarshalIndent(rep, "", "  ")
		if err != nil {
			return err
		}
		if err := atomicfile.WriteBytes(*reportJSON, append(data, '\n')); err != nil {
			return err
		}
	}
	return nil
}

// restore loads the checkpoint at path into tr after checking that it was
// written with the same settings, and returns the epochs it completed.
func restore(tr *engine.Trainer, path, settings string) (int, error) {
	fh, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer fh.Close()
	c, err := engine.ReadCheckpoint(fh)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", path, err)
	}
	if c.Note != settings {
		return 0, fmt.Errorf("%s: written by a run with other settings (%s)", path, c.Note)
	}
	if err := tr.Restore(c); err != nil {
		return 0, fmt.Errorf("%s: %w", path, err)
	}
	return c.Epoch, nil
}

// parseAugment reads the --augment list.
func parseAugment(s string) (dataset.Augment, error) {
	var a dataset.Augment
	if s == "none" || s == "" {
		return a, nil
	}
	for _, p := range strings.Split(s, ",") {
		switch strings.TrimSpace(p) {
		case "crop":
			a.Pad = 2
		case "flip":
			a.FlipH = true
		default:
			return a, cli.Usagef("--augment %q: want a list of crop and flip, or none", s)
		}
	}
	return a, nil
}

// loadTeacher reads the teacher of --teacher into an inference executor.
// A teacher that records its preprocessing (setMeta's keys) must have been
// trained on inputs normalized like the student's: it sees the same batch.
func loadTeacher(f trainFlags, norm dataset.Normalization, threads int) (*engine.Distillation, error) {
	tg, err := modelfile.Load(f.Teacher)
	if err != nil {
		return nil, err
	}
	want := preprocessMeta(norm, f.Dataset)
	for _, t := range tg.Metadata {
		if v, ok := want[t.Key]; ok && t.Key != "dataset" && t.Value != v {
			return nil, fmt.Errorf("%s: metadata %s is %q, but the student's inputs use %q: the teacher must see inputs normalized as it was trained", f.Teacher, t.Key, t.Value, v)
		}
	}
	// The teacher only infers: compile it as deployed (BatchNormalization
	// folded into its Conv, Relus fused). With the reference ResNet-20 as
	// teacher an epoch of a small student takes ~15 % less time; the
	// teacher's logits move by float rounding only.
	if _, err := passes.Run(tg, passes.Default(), passes.Options{}); err != nil {
		return nil, fmt.Errorf("%s: %w", f.Teacher, err)
	}
	opts := []engine.Option{engine.WithKernels(kernels)}
	if threads > 0 {
		opts = append(opts, engine.WithThreads(threads))
	}
	exec, err := engine.New(tg, opts...)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", f.Teacher, err)
	}
	return &engine.Distillation{Teacher: exec, Alpha: f.Distill, Temperature: f.DistillTemp}, nil
}

// setMeta records the input preprocessing in the model's metadata
// (BENCHMARK.md A2), replacing earlier values of the same keys.
func setMeta(g *ir.Graph, norm dataset.Normalization, name string) {
	kv := preprocessMeta(norm, name)
	g.Metadata = slices.DeleteFunc(g.Metadata, func(m ir.MetaProp) bool { _, ok := kv[m.Key]; return ok })
	for _, k := range []string{"dataset", "preprocess.mean", "preprocess.scale", "preprocess.std"} {
		g.Metadata = append(g.Metadata, ir.MetaProp{Key: k, Value: kv[k]})
	}
}

// preprocessMeta returns the metadata keys and values setMeta records.
func preprocessMeta(norm dataset.Normalization, name string) map[string]string {
	join := func(v []float32) string {
		parts := make([]string, len(v))
		for i, x := range v {
			parts[i] = strconv.FormatFloat(float64(x), 'g', -1, 32)
		}
		return strings.Join(parts, ",")
	}
	scale := strconv.FormatFloat(float64(norm.Scale), 'g', -1, 32)
	if norm.Scale == 0 || norm.Scale == float32(1.0/255) {
		scale = strconv.FormatFloat(1.0/255, 'g', -1, 64)
	}
	return map[string]string{
		"preprocess.mean":  join(norm.Mean),
		"preprocess.std":   join(norm.Std),
		"preprocess.scale": scale,
		"dataset":          name,
	}
}
