// Command enginebench measures the engine's ResNet-20 training and
// inference throughput against PyTorch and ONNX Runtime (issue 4,
// BENCHMARK.md B).
//
// Usage:
//
//	enginebench [flags]
//
// Figures of the build it runs in (the matrix kernels are chosen by build
// tag: OpenBLAS with -tags openblas, Blocked (no cgo) otherwise):
//
//   - training: ResNet-20 (zoo, 1×28×28) images/s at batch 128 with the
//     engine Trainer (SGD, momentum 0.9 Nesterov, weight decay 5e-4) on a
//     seeded random batch: --warmup untimed steps, then --steps timed ones.
//     Training runs in a child process (the program re-executed with
//     --train-child) whose peak RSS (VmHWM) is the training's alone;
//   - inference: images/s at batch 256 with engine.Executor on the exported
//     ResNet-20 ONNX model after the default pass pipeline (ONNX Runtime
//     applies its own default optimizations to the same bytes), median of
//     --infer-runs runs after one warm-up.
//
// Baselines, measured in the same run by the top-level process: ONNX
// Runtime with default session options on the same model bytes and inputs
// (median of --infer-runs runs), and Debian's PyTorch (/usr/bin/python3,
// python3-torch) training the same architecture with the same batch and
// optimizer, torch.set_num_threads(2).
//
// Built with -tags openblas, the program also runs the pure-Go build
// (`go run ./bench/enginebench --figures`, so it must run from inside the
// module) and reports its figures under "pure_go"; built without it, the
// top-level figures are the pure-Go ones and "pure_go" repeats them. The
// gated ratios are those of the top-level (fast) build.
//
// Example:
//
//	go run -tags openblas ./bench/enginebench --out bench/results/engine.json
package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/ferminets/fermi/atomicfile"
	"github.com/ferminets/fermi/engine"
	"github.com/ferminets/fermi/internal/machine"
	"github.com/ferminets/fermi/ir"
	"github.com/ferminets/fermi/onnxio"
	"github.com/ferminets/fermi/ortrun"
	"github.com/ferminets/fermi/passes"
	"github.com/ferminets/fermi/zoo"
)

// Benchmark settings of BENCHMARK.md B.
const (
	arch       = "resnet20"
	trainBatch = 128
	inferBatch = 256
	python     = "/usr/bin/python3"
)

// Acceptance bars of issue 4 (fast build).
const (
	minTrainRatio = 1.5
	minInferRatio = 0.25
	maxPeakRSSMiB = 1024
)

func main() {
	if err := run(os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "enginebench:", err)
		os.Exit(1)
	}
}

type options struct {
	out        string
	warmup     int
	steps      int
	inferRuns  int
	rounds     int
	seed       uint64
	pureGo     bool
	torch      bool
	figures    bool
	trainChild bool
}

// figures are the engine's numbers in one build.
type figures struct {
	Build           string  `json:"build"`
	TrainImgS       float64 `json:"train_img_s"`
	InferImgS       float64 `json:"infer_img_s"`
	TrainPeakRSSMiB float64 `json:"train_peak_rss_mib"`
	// Filled in by the top-level process from its baselines.
	TrainRatioVsTorch float64 `json:"train_ratio_vs_torch"`
	InferRatioVsORT   float64 `json:"infer_ratio_vs_ort"`
}

// trainResult is what a --train-child prints.
type trainResult struct {
	ImgS       float64 `json:"img_s"`
	PeakRSSMiB float64 `json:"peak_rss_mib"`
}

// torchResult is what the PyTorch script prints.
type torchResult struct {
	ImgS    float64 `json:"img_s"`
	Params  int     `json:"params"`
	Version string  `json:"version"`
	Threads int     `json:"threads"`
}

// round is one round of measurements: each engine and baseline once.
type round struct {
	TrainImgS       float64 `json:"train_img_s"`
	InferImgS       float64 `json:"infer_img_s"`
	PureTrainImgS   float64 `json:"pure_go_train_img_s"`
	PureInferImgS   float64 `json:"pure_go_infer_img_s"`
	TorchTrainImgS  float64 `json:"torch_train_img_s"`
	ORTInferImgS    float64 `json:"ort_infer_img_s"`
	TrainPeakRSSMiB float64 `json:"train_peak_rss_mib"`
	PurePeakRSSMiB  float64 `json:"pure_go_train_peak_rss_mib"`
}

// report is the JSON written to --out.
type report struct {
	Build             string   `json:"build"`
	TrainImgS         float64  `json:"train_img_s"`
	TorchTrainImgS    float64  `json:"torch_train_img_s"`
	TrainRatioVsTorch float64  `json:"train_ratio_vs_torch"`
	InferImgS         float64  `json:"infer_img_s"`
	ORTInferImgS      float64  `json:"ort_infer_img_s"`
	InferRatioVsORT   float64  `json:"infer_ratio_vs_ort"`
	TrainPeakRSSMiB   float64  `json:"train_peak_rss_mib"`
	PureGo            *figures `json:"pure_go"`
	Rounds            []round  `json:"rounds"` // every measurement; the figures above are their medians
	MeetsTrainBar     bool     `json:"meets_train_bar"`
	MeetsInferBar     bool     `json:"meets_infer_bar"`
	MeetsMemoryBar    bool     `json:"meets_memory_bar"`
	Bars              string   `json:"bars"`
	Model             string   `json:"model"`
	TrainBatch        int      `json:"train_batch"`
	InferBatch        int      `json:"infer_batch"`
	WarmupSteps       int      `json:"warmup_steps"`
	TrainSteps        int      `json:"train_steps"`
	InferRuns         int      `json:"infer_runs"`
	TorchVersion      string   `json:"torch_version"`
	TorchParams       int      `json:"torch_params"`
	TorchThreads      int      `json:"torch_threads"`
	ORTVersion        string   `json:"ort_version"`
	CPU               string   `json:"cpu"`
	NumCPU            int      `json:"num_cpu"`
	GOMAXPROCS        int      `json:"gomaxprocs"`
	LoadAvg           string   `json:"loadavg"` // /proc/loadavg at the start
	LoadAvgEnd        string   `json:"loadavg_end"`
	GoVersion         string   `json:"go_version"`
	Date              string   `json:"date"`
	Command           string   `json:"command"`
	Note              string   `json:"note"`
}

func run(args []string, stdout io.Writer) error {
	fs := pflag.NewFlagSet("enginebench", pflag.ContinueOnError)
	var o options
	fs.StringVarP(&o.out, "out", "o", "bench/results/engine.json", "JSON result file ('' for none)")
	fs.IntVar(&o.warmup, "warmup", 2, "untimed training steps (both engines)")
	fs.IntVar(&o.steps, "steps", 48, "timed training steps (both engines; 48, about 6 s of ours, so that a run outlasts the shared host's bursts of interference)")
	fs.IntVar(&o.inferRuns, "infer-runs", 9, "timed inference runs (both engines; median reported)")
	fs.IntVar(&o.rounds, "rounds", 5, "rounds of every measurement, interleaved (median reported)")
	fs.Uint64Var(&o.seed, "seed", 1, "seed of weights and data")
	fs.BoolVar(&o.pureGo, "pure-go", true, "in an openblas build, also run the pure-Go build with go run")
	fs.BoolVar(&o.torch, "torch", true, "measure the PyTorch baseline")
	fs.BoolVar(&o.figures, "figures", false, "print this build's engine figures as JSON and exit (internal)")
	fs.BoolVar(&o.trainChild, "train-child", false, "train only and print img/s and peak RSS as JSON (internal)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if o.warmup < 0 || o.steps < 1 || o.inferRuns < 1 || o.rounds < 1 {
		return fmt.Errorf("--warmup %d, --steps %d, --infer-runs %d, --rounds %d: want ≥ 0, ≥ 1, ≥ 1, ≥ 1",
			o.warmup, o.steps, o.inferRuns, o.rounds)
	}
	switch {
	case o.trainChild:
		r, err := train(o)
		if err != nil {
			return err
		}
		return json.NewEncoder(stdout).Encode(r)
	case o.figures:
		f, err := ownFigures(o, os.Stderr)
		if err != nil {
			return err
		}
		return json.NewEncoder(stdout).Encode(f)
	}
	return parent(o, args, stdout)
}

// parent measures everything and writes the report.
func parent(o options, args []string, stdout io.Writer) error {
	if err := ortrun.Available(); err != nil {
		return fmt.Errorf("the ONNX Runtime baseline needs cgo (CGO_ENABLED=1) and libonnxruntime.so.1: %w", err)
	}
	ver, _ := ortrun.Version()
	r := report{
		Build: buildName, Model: arch + " (zoo, 1x28x28, 10 classes)", TrainBatch: trainBatch, InferBatch: inferBatch,
		WarmupSteps: o.warmup, TrainSteps: o.steps, InferRuns: o.inferRuns, ORTVersion: ver,
		CPU: machine.CPUModel(), NumCPU: runtime.NumCPU(), GOMAXPROCS: runtime.GOMAXPROCS(0), LoadAvg: machine.LoadAvg(),
		GoVersion: runtime.Version(), Date: time.Now().UTC().Format(time.RFC3339),
		Command: commandLine(args),
		Bars: fmt.Sprintf("fast build: train_ratio_vs_torch >= %g, infer_ratio_vs_ort >= %g, train_peak_rss_mib <= %d",
			minTrainRatio, minInferRatio, maxPeakRSSMiB),
		Note: "random seeded data; training img/s = steps*batch / time of the timed steps; inference = median of runs after a warm-up; " +
			"every img/s figure is the median of its rounds (peak RSS the highest) and every ratio the median of the rounds' ratios, measured in turn round after round; " +
			"our inference runs the model after the default pass pipeline, ORT the same bytes with its default optimizations. " +
			"The 2-core machine was shared with other jobs during the run (see loadavg), so figures are noisy.",
	}
	// Rounds interleave every measurement, so that a stretch of
	// interference on the shared machine hits all of them alike.
	for i := range o.rounds {
		fmt.Fprintf(os.Stderr, "round %d of %d\n", i+1, o.rounds)
		var rd round
		fast, err := ownFigures(o, os.Stderr)
		if err != nil {
			return err
		}
		rd.TrainImgS, rd.InferImgS, rd.TrainPeakRSSMiB = fast.TrainImgS, fast.InferImgS, fast.TrainPeakRSSMiB
		if rd.ORTInferImgS, err = ortInference(o); err != nil {
			return err
		}
		if o.torch {
			t, err := torchTrain(o)
			if err != nil {
				return err
			}
			rd.TorchTrainImgS = round1(t.ImgS)
			r.TorchParams, r.TorchVersion, r.TorchThreads = t.Params, t.Version, t.Threads
		}
		pure := fast
		if buildName != "pure-go" && o.pureGo {
			if pure, err = pureGoFigures(o); err != nil {
				return err
			}
		}
		rd.PureTrainImgS, rd.PureInferImgS, rd.PurePeakRSSMiB = pure.TrainImgS, pure.InferImgS, pure.TrainPeakRSSMiB
		r.Rounds = append(r.Rounds, rd)
	}
	pick := func(f func(round) float64) float64 {
		v := make([]float64, len(r.Rounds))
		for i, rd := range r.Rounds {
			v[i] = f(rd)
		}
		return round1(medianFloat(v))
	}
	highest := func(f func(round) float64) float64 {
		v := 0.0
		for _, rd := range r.Rounds {
			v = max(v, f(rd))
		}
		return v
	}
	fast := figures{Build: buildName, TrainImgS: pick(func(rd round) float64 { return rd.TrainImgS }),
		InferImgS:       pick(func(rd round) float64 { return rd.InferImgS }),
		TrainPeakRSSMiB: highest(func(rd round) float64 { return rd.TrainPeakRSSMiB })}
	pure := figures{Build: "pure-go", TrainImgS: pick(func(rd round) float64 { return rd.PureTrainImgS }),
		InferImgS:       pick(func(rd round) float64 { return rd.PureInferImgS }),
		TrainPeakRSSMiB: highest(func(rd round) float64 { return rd.PurePeakRSSMiB })}
	r.ORTInferImgS = pick(func(rd round) float64 { return rd.ORTInferImgS })
	r.TorchTrainImgS = pick(func(rd round) float64 { return rd.TorchTrainImgS })
	// A ratio is the median of the rounds' ratios: each round measures us
	// and the baseline close together in time.
	ratioOf := func(ours, base func(round) float64) float64 {
		v := make([]float64, len(r.Rounds))
		for i, rd := range r.Rounds {
			v[i] = ratio(ours(rd), base(rd))
		}
		return math.Round(medianFloat(v)*1000) / 1000
	}
	torchOf := func(rd round) float64 { return rd.TorchTrainImgS }
	ortOf := func(rd round) float64 { return rd.ORTInferImgS }
	fast.TrainRatioVsTorch = ratioOf(func(rd round) float64 { return rd.TrainImgS }, torchOf)
	fast.InferRatioVsORT = ratioOf(func(rd round) float64 { return rd.InferImgS }, ortOf)
	pure.TrainRatioVsTorch = ratioOf(func(rd round) float64 { return rd.PureTrainImgS }, torchOf)
	pure.InferRatioVsORT = ratioOf(func(rd round) float64 { return rd.PureInferImgS }, ortOf)
	r.TrainImgS, r.InferImgS, r.TrainPeakRSSMiB = fast.TrainImgS, fast.InferImgS, fast.TrainPeakRSSMiB
	r.TrainRatioVsTorch, r.InferRatioVsORT = fast.TrainRatioVsTorch, fast.InferRatioVsORT
	r.PureGo = &pure
	r.MeetsTrainBar = r.TrainRatioVsTorch >= minTrainRatio
	r.MeetsInferBar = r.InferRatioVsORT >= minInferRatio
	r.MeetsMemoryBar = r.TrainPeakRSSMiB <= maxPeakRSSMiB
	r.LoadAvgEnd = machine.LoadAvg()
	printSummary(stdout, &r)
	if o.out == "" {
		return nil
	}
	js, err := json.MarshalIndent(&r, "", "  ")
	if err != nil {
		return err
	}
	return atomicfile.WriteBytes(o.out, append(js, '\n'))
}

// ownFigures measures training (in a child process) and inference in this
// build, logging progress to log.
func ownFigures(o options, log io.Writer) (figures, error) {
	f := figures{Build: buildName}
	exe, err := os.Executable()
	if err != nil {
		return f, err
	}
	var tr trainResult
	if err := runJSON(exec.Command(exe, "--train-child", "--warmup", strconv.Itoa(o.warmup),
		"--steps", strconv.Itoa(o.steps), "--seed", strconv.FormatUint(o.seed, 10)), &tr); err != nil {
		return f, fmt.Errorf("training child: %w", err)
	}
	f.TrainImgS, f.TrainPeakRSSMiB = round1(tr.ImgS), round1(tr.PeakRSSMiB)
	fmt.Fprintf(log, "%s: training %.1f img/s, peak RSS %.0f MiB\n", buildName, f.TrainImgS, f.TrainPeakRSSMiB)
	f.InferImgS, err = engineInference(o)
	if err != nil {
		return f, err
	}
	fmt.Fprintf(log, "%s: inference %.1f img/s\n", buildName, f.InferImgS)
	return f, nil
}

// train runs in the --train-child process.
func train(o options) (trainResult, error) {
	g, err := zoo.Build(arch, zoo.Options{Seed: o.seed})
	if err != nil {
		return trainResult{}, err
	}
	tr, err := engine.NewTrainer(g, engine.TrainConfig{LR: 0.01, Momentum: 0.9, Nesterov: true, WeightDecay: 5e-4, Kernels: kernels})
	if err != nil {
		return trainResult{}, err
	}
	rng := rand.New(rand.NewPCG(o.seed, 2))
	x := &ir.Tensor{DType: ir.Float32, Dims: []int64{trainBatch, 1, 28, 28}, F32: make([]float32, trainBatch*28*28)}
	for i := range x.F32 {
		x.F32[i] = float32(rng.NormFloat64())
	}
	labels := make([]uint8, trainBatch)
	for i := range labels {
		labels[i] = uint8(rng.IntN(10))
	}
	for range o.warmup {
		if _, err := tr.Step(x, labels); err != nil {
			return trainResult{}, err
		}
	}
	start := time.Now()
	for range o.steps {
		if _, err := tr.Step(x, labels); err != nil {
			return trainResult{}, err
		}
	}
	el := time.Since(start)
	hwm, err := vmHWM()
	if err != nil {
		return trainResult{}, err
	}
	return trainResult{ImgS: float64(o.steps*trainBatch) / el.Seconds(), PeakRSSMiB: float64(hwm) / (1 << 20)}, nil
}

// exported returns the ONNX bytes of the benchmark model.
func exported(seed uint64) ([]byte, error) {
	g, err := zoo.Build(arch, zoo.Options{Seed: seed})
	if err != nil {
		return nil, err
	}
	return onnxio.Encode(g, onnxio.WriteOptions{})
}

// engineInference decodes the exported model, runs the default pipeline and
// times engine.Executor at batch 256.
func engineInference(o options) (float64, error) {
	data, err := exported(o.seed)
	if err != nil {
		return 0, err
	}
	g, err := onnxio.Decode(data, onnxio.ReadOptions{})
	if err != nil {
		return 0, err
	}
	if _, err := passes.Run(g, passes.Default(), passes.Options{}); err != nil {
		return 0, err
	}
	in, err := ortrun.RandomInputs(g, o.seed, inferBatch)
	if err != nil {
		return 0, err
	}
	ex, err := engine.New(g, engine.WithKernels(kernels))
	if err != nil {
		return 0, err
	}
	times := make([]time.Duration, 0, o.inferRuns)
	for i := 0; i <= o.inferRuns; i++ { // run 0 is the warm-up
		start := time.Now()
		if _, err := ex.Run(in); err != nil {
			return 0, err
		}
		if i > 0 {
			times = append(times, time.Since(start))
		}
	}
	return round1(inferBatch / median(times).Seconds()), nil
}

// ortInference times ONNX Runtime with default session options on the
// exported model at batch 256.
func ortInference(o options) (float64, error) {
	data, err := exported(o.seed)
	if err != nil {
		return 0, err
	}
	in, err := ortrun.RandomModelInputs(data, o.seed, inferBatch)
	if err != nil {
		return 0, err
	}
	s, err := ortrun.NewSession(data, ortrun.Options{})
	if err != nil {
		return 0, err
	}
	defer s.Close()
	times, err := s.Time(in, o.inferRuns)
	if err != nil {
		return 0, err
	}
	imgS := round1(inferBatch / median(times).Seconds())
	fmt.Fprintf(os.Stderr, "ONNX Runtime: inference %.1f img/s\n", imgS)
	return imgS, nil
}

// pureGoFigures runs this program's pure-Go build with --figures.
func pureGoFigures(o options) (figures, error) {
	var f figures
	cmd := exec.Command(goTool(), "run", "./bench/enginebench", "--figures", "--warmup", strconv.Itoa(o.warmup),
		"--steps", strconv.Itoa(o.steps), "--infer-runs", strconv.Itoa(o.inferRuns), "--seed", strconv.FormatUint(o.seed, 10))
	if err := runJSON(cmd, &f); err != nil {
		return f, fmt.Errorf("pure-Go build: %w", err)
	}
	if f.Build != "pure-go" {
		return f, fmt.Errorf("pure-Go build reports build %q", f.Build)
	}
	return f, nil
}

// goTool returns the go command: go on PATH, else GOROOT's.
func goTool() string {
	if p, err := exec.LookPath("go"); err == nil {
		return p
	}
	return runtime.GOROOT() + "/bin/go"
}

// torchScript trains the zoo's ResNet-20 (CIFAR-style, 1×28×28 input,
// 1×1 Conv + BN shortcuts where the shape changes) in PyTorch with the same
// batch and optimizer and prints its img/s as JSON. Arguments: batch,
// warm-up steps, timed steps, seed.
const torchScript = `
import json, sys, time
import torch, torch.nn as nn, torch.nn.functional as F
torch.set_num_threads(2)
batch, warm, steps, seed = (int(a) for a in sys.argv[1:5])
torch.manual_seed(seed)
class Block(nn.Module):
    def __init__(s, cin, cout, stride):
        super().__init__()
        s.c1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False); s.b1 = nn.BatchNorm2d(cout)
        s.c2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False); s.b2 = nn.BatchNorm2d(cout)
        s.sc = None
        if stride != 1 or cin != cout:
            s.sc = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))
    def forward(s, x):
        y = s.b2(s.c2(F.relu(s.b1(s.c1(x)))))
        return F.relu(y + (x if s.sc is None else s.sc(x)))
class Net(nn.Module):
    def __init__(s):
        super().__init__()
        s.c = nn.Conv2d(1, 16, 3, 1, 1, bias=False); s.b = nn.BatchNorm2d(16)
        layers, cin = [], 16
        for stage, w in enumerate([16, 32, 64]):
            for blk in range(3):
                layers.append(Block(cin, w, 2 if stage > 0 and blk == 0 else 1)); cin = w
        s.layers = nn.Sequential(*layers); s.fc = nn.Linear(64, 10)
    def forward(s, x):
        x = s.layers(F.relu(s.b(s.c(x))))
        return s.fc(torch.flatten(F.adaptive_avg_pool2d(x, 1), 1))
net = Net().train()
opt = torch.optim.SGD(net.parameters(), lr=0.01, momentum=0.9, nesterov=True, weight_decay=5e-4)
x = torch.randn(batch, 1, 28, 28)
y = torch.randint(0, 10, (batch,))
def step():
    opt.zero_grad()
    loss = F.cross_entropy(net(x), y)
    loss.backward()
    opt.step()
for _ in range(warm):
    step()
t = time.perf_counter()
for _ in range(steps):
    step()
el = time.perf_counter() - t
print(json.dumps({"img_s": steps * batch / el, "params": sum(p.numel() for p in net.parameters()),
                  "version": torch.__version__, "threads": torch.get_num_threads()}))
`

// torchTrain runs the PyTorch baseline.
func torchTrain(o options) (torchResult, error) {
	var t torchResult
	cmd := exec.Command(python, "-c", torchScript, strconv.Itoa(trainBatch), strconv.Itoa(o.warmup),
		strconv.Itoa(o.steps), strconv.FormatUint(o.seed, 10))
	if err := runJSON(cmd, &t); err != nil {
		return t, fmt.Errorf("PyTorch baseline (%s with Debian python3-torch): %w", python, err)
	}
	fmt.Fprintf(os.Stderr, "PyTorch %s: training %.1f img/s (%d threads)\n", t.Version, t.ImgS, t.Threads)
	return t, nil
}

// runJSON runs cmd and decodes the last line of its standard output into v.
func runJSON(cmd *exec.Cmd, v any) error {
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("%s: %v: %s", cmd.Path, err, strings.TrimSpace(errb.String()))
	}
	os.Stderr.Write(errb.Bytes())
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), v); err != nil {
		return fmt.Errorf("%s: output %q: %v", cmd.Path, out.String(), err)
	}
	return nil
}

// vmHWM returns the process's peak resident set in bytes.
func vmHWM() (int64, error) {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			if err != nil {
				return 0, fmt.Errorf("/proc/self/status: VmHWM %q: %v", rest, err)
			}
			return kb << 10, nil
		}
	}
	if err := sc.Err(); err != nil {
		return 0, err
	}
	return 0, fmt.Errorf("/proc/self/status has no VmHWM")
}

func printSummary(w io.Writer, r *report) {
	fmt.Fprintf(w, "build %s: train %.1f img/s (PyTorch %.1f, ratio %.2f), infer %.1f img/s (ORT %.1f, ratio %.3f), train peak RSS %.0f MiB\n",
		r.Build, r.TrainImgS, r.TorchTrainImgS, r.TrainRatioVsTorch, r.InferImgS, r.ORTInferImgS, r.InferRatioVsORT, r.TrainPeakRSSMiB)
	p := r.PureGo
	fmt.Fprintf(w, "pure-go: train %.1f img/s (ratio %.2f), infer %.1f img/s (ratio %.3f), train peak RSS %.0f MiB\n",
		p.TrainImgS, p.TrainRatioVsTorch, p.InferImgS, p.InferRatioVsORT, p.TrainPeakRSSMiB)
	fmt.Fprintf(w, "bars met: train %v, infer %v, memory %v (load average %s → %s)\n",
		r.MeetsTrainBar, r.MeetsInferBar, r.MeetsMemoryBar, r.LoadAvg, r.LoadAvgEnd)
}

// medianFloat is the median of v (the mean of the middle two for an even
// count).
func medianFloat(v []float64) float64 {
	s := slices.Clone(v)
	slices.Sort(s)
	n := len(s)
	if n == 0 {
		return 0
	}
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func ratio(a, b float64) float64 {
	if b == 0 {
		return 0
	}
	return math.Round(a/b*1000) / 1000
}

func round1(x float64) float64 { return math.Round(x*10) / 10 }

func commandLine(args []string) string {
	s := "go run ./bench/enginebench"
	if buildName == "openblas" {
		s = "go run -tags openblas ./bench/enginebench"
	}
	if len(args) > 0 {
		s += " " + strings.Join(args, " ")
	}
	return s
}
