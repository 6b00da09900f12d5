package synth

import (
	"context"
	"encoding/json"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/ferminets/fermi/internal/sharedmodels"
	"github.com/ferminets/fermi/ir"
	"github.com/ferminets/fermi/modelfile"
	"github.com/ferminets/fermi/zoo"
)

var mnistInput = [3]int{1, 28, 28}

// builtin returns the built-in prototype name as the skeleton a model file
// called file should map to.
func builtin(t *testing.T, name, file string) Skeleton {
	t.Helper()
	s, err := PrototypeSkeleton(name, mnistInput, 10)
	if err != nil {
		t.Fatal(err)
	}
	s.Prototype = file
	return s
}

// saveZoo builds the zoo network name (1×28×28, 10 classes) and writes it
// to dir/name.onnx.
func saveZoo(t *testing.T, dir, name string) string {
	t.Helper()
	g, err := zoo.Build(name, zoo.Options{})
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, name+".onnx")
	if err := modelfile.Save(g, path, modelfile.SaveOptions{}); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestPrototypeSkeletonFromZooONNX exports each zoo network a built-in
// prototype comes from to ONNX, loads it back as --prototype FILE does and
// compares with the built-in row. The zoo's mobilenetv2 has a 320-channel
// stage (table row t 6, c 320, n 1, s 1) that the built-in row leaves out.
func TestPrototypeSkeletonFromZooONNX(t *testing.T) {
	dir := t.TempDir()
	for _, tt := range []struct {
		name string
		diff func(*Skeleton) // the documented difference from the built-in row
	}{
		{"lenet5", nil},
		{"simplecnn", nil},
		{"resnet20", nil},
		{"mobilenetv2", func(s *Skeleton) {
			s.Stages = append(s.Stages, StageShape{Width: 320, Depth: 1, Block: InvertedResidual, Kernel: 3, Expansion: 6})
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			path := saveZoo(t, dir, tt.name)
			got, err := PrototypeSkeleton(path, mnistInput, 10)
			if err != nil {
				t.Fatal(err)
			}
			want := builtin(t, tt.name, tt.name+".onnx")
			if tt.diff != nil {
				tt.diff(&want)
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("skeleton of %s.onnx:\n got %+v\nwant %+v", tt.name, got, want)
			}
		})
	}
}

// TestSkeletonFromGraphZoo maps zoo networks that have no built-in row;
// the expected skeletons are read off the zoo's tables by hand.
func TestSkeletonFromGraphZoo(t *testing.T) {
	std := func(w, d int, pool bool) StageShape {
		return StageShape{Width: w, Depth: d, Pool: pool, Block: Standard, Kernel: 3, Expansion: 1}
	}
	inv := func(w, d int, pool bool, k, t int, skip bool) StageShape {
		return StageShape{Width: w, Depth: d, Pool: pool, Block: InvertedResidual, Kernel: k, Expansion: t, Skip: skip}
	}
	dw := func(w, d int) StageShape {
		return StageShape{Width: w, Depth: d, Pool: true, Block: DepthwiseSeparable, Kernel: 3, Expansion: 1}
	}
	res := func(s StageShape) StageShape { s.Skip = true; return s }
	for _, tt := range []struct {
		name string
		want Skeleton
	}{
		// Basic blocks of two 3×3 convs: nine per stage.
		{"resnet56", Skeleton{Input: mnistInput, Classes: 10, StemWidth: 16, StemKernel: 3, Head: HeadGAP,
			Stages: []StageShape{res(std(16, 9, false)), res(std(32, 9, true)), res(std(64, 9, true))}}},
		// 28 → 14 → 7 → 3 → 1: four of VGG's five pools, one stage per pool.
		{"vgg11bn", Skeleton{Input: mnistInput, Classes: 10, StemWidth: 64, StemKernel: 3, Head: HeadGAP,
			Stages: []StageShape{std(128, 1, true), std(256, 2, true), std(512, 2, true), std(512, 2, true)}}},
		// Stride-2 stem: the first stage pools; pointwise convs with ReLU.
		{"mobilenetv1", Skeleton{Input: [3]int{3, 224, 224}, Classes: 1000, StemWidth: 32, StemKernel: 3, Head: HeadGAP,
			Stages: []StageShape{dw(64, 1), dw(128, 2), dw(256, 2), dw(512, 6), dw(1024, 2)}}},
		// Stride-2 stem, then a stride-2 first block: a stage of depth 0.
		// SE blocks and the 576-channel head conv are dropped; expansions
		// 72/16 = 4.5 → 4, 88/24 → 4, 96/24 = 4, 240/40 = 6, 120/40 = 3,
		// 144/48 = 3, 288/48 = 6, 576/96 = 6 (the most common per stage).
		{"mobilenetv3-small", Skeleton{Input: [3]int{3, 224, 224}, Classes: 1000, StemWidth: 16, StemKernel: 3, Head: HeadGAP,
			Stages: []StageShape{std(16, 0, true), inv(16, 1, true, 3, 1, false), inv(24, 2, true, 3, 4, true),
				inv(40, 3, true, 5, 6, true), inv(48, 2, false, 5, 3, true), inv(96, 3, true, 5, 6, true)}}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			g, err := zoo.Build(tt.name, zoo.Options{})
			if err != nil {
				t.Fatal(err)
			}
			got, err := SkeletonFromGraph(g, tt.name, 0)
			if err != nil {
				t.Fatal(err)
			}
			tt.want.Prototype = tt.name
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("skeleton:\n got %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

// requireSharedModels returns the real models' directory; it skips when it
// is absent, except under CI=true.
func requireSharedModels(t *testing.T) string {
	t.Helper()
	dir, ok := sharedmodels.Dir()
	if !ok {
		if os.Getenv("CI") == "true" {
			t.Fatalf("CI=true and the shared models are missing (set %s)", sharedmodels.EnvVar)
		}
		t.Skipf("shared models not found (set %s)", sharedmodels.EnvVar)
	}
	return dir
}

// TestPrototypeSkeletonRealModels maps the PyTorch exports in shared/models:
// the Fashion-MNIST LeNet-5 and ResNet-20 give the built-in rows;
// torchvision's mobilenet_v2 gives its table (stride-2 stem, so the first
// stage pools) with the 320 stage; the fire modules of SqueezeNet and the
// split branches of ShuffleNetV2 are reported at their Concat.
func TestPrototypeSkeletonRealModels(t *testing.T) {
	dir := requireSharedModels(t)
	irs := func(w, d int, pool bool, t int, skip bool) StageShape {
		return StageShape{Width: w, Depth: d, Pool: pool, Block: InvertedResidual, Kernel: 3, Expansion: t, Skip: skip}
	}
	for _, tt := range []struct {
		file    string
		classes int
		want    func(t *testing.T) Skeleton
		err     string
	}{
		{file: "fashion-lenet5.onnx", classes: 10, want: func(t *testing.T) Skeleton { return builtin(t, "lenet5", "fashion-lenet5.onnx") }},
		{file: "fashion-resnet20.onnx", classes: 10, want: func(t *testing.T) Skeleton { return builtin(t, "resnet20", "fashion-resnet20.onnx") }},
		{file: "mobilenet_v2-op13.onnx", classes: 1000, want: func(*testing.T) Skeleton {
			return Skeleton{Prototype: "mobilenet_v2-op13.onnx", Input: [3]int{3, 224, 224}, Classes: 1000,
				StemWidth: 32, StemKernel: 3, Head: HeadGAP, Stages: []StageShape{
					irs(16, 1, true, 1, false), irs(24, 2, true, 6, true), irs(32, 3, true, 6, true), irs(64, 4, true, 6, true),
					irs(96, 3, false, 6, true), irs(160, 3, true, 6, true), irs(320, 1, false, 6, false)}}
		}},
		{file: "squeezenet1_1-op13.onnx", classes: 1000,
			err: `synth: squeezenet1_1-op13.onnx: node "/features/features.3/Concat" (Concat): not expressible in the synthesis space (parallel branches joined by Concat)`},
		{file: "shufflenet_v2_x0_5-op13.onnx", classes: 1000,
			err: `synth: shufflenet_v2_x0_5-op13.onnx: node "/stage2/stage2.0/Concat" (Concat): not expressible in the synthesis space (parallel branches joined by Concat)`},
	} {
		t.Run(tt.file, func(t *testing.T) {
			path := filepath.Join(dir, tt.file)
			if _, err := os.Stat(path); err != nil {
				if os.Getenv("CI") == "true" {
					t.Fatal(err)
				}
				t.Skip(err)
			}
			var in [3]int
			if tt.classes == 1000 {
				in = [3]int{3, 224, 224}
			} else {
				in = mnistInput
			}
			got, err := PrototypeSkeleton(path, in, tt.classes)
			if tt.err != "" {
				if err == nil || err.Error() != tt.err {
					t.Fatalf("error %v, want %s", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if want := tt.want(t); !reflect.DeepEqual(got, want) {
				t.Errorf("skeleton:\n got %+v\nwant %+v", got, want)
			}
		})
	}
}

// protoGraph builds small test graphs: every Conv has "same" padding and
// zero weights.
type protoGraph struct {
	b *ir.Builder
	x *ir.Value
}

func newProtoGraph(c, h, w int) *protoGraph {
	b := ir.NewBuilder("proto")
	x := b.Input("input", ir.Float32, ir.Shape{ir.Sym("N"), ir.D(int64(c)), ir.D(int64(h)), ir.D(int64(w))})
	return &protoGraph{b: b, x: x}
}

func (p *protoGraph) param(name string, dims ...int64) *ir.Value {
	return p.b.Param(name, ir.NewFloat32(dims, make([]float32, ir.NumElements(dims))))
}

func (p *protoGraph) convAttrs(name string, x *ir.Value, out, kh, kw, stride, groups int, extra ...ir.Attr) *ir.Value {
	cin := int64(x.Shape[1].Size)
	w := p.param(name+".w", int64(out), cin/int64(groups), int64(kh), int64(kw))
	attrs := append([]ir.Attr{
		ir.IntsAttr("kernel_shape", int64(kh), int64(kw)),
		ir.IntsAttr("strides", int64(stride), int64(stride)),
		ir.IntsAttr("pads", int64(kh/2), int64(kw/2), int64(kh/2), int64(kw/2)),
		ir.IntAttr("group", int64(groups)),
	}, extra...)
	return p.b.Node(ir.OpConv, name, []*ir.Value{x, w}, attrs...)
}

func (p *protoGraph) conv(name string, x *ir.Value, out, k, stride, groups int) *ir.Value {
	return p.convAttrs(name, x, out, k, k, stride, groups)
}

func (p *protoGraph) bn(name string, x *ir.Value) *ir.Value {
	c := int64(x.Shape[1].Size)
	return p.b.Node(ir.OpBatchNorm, name, []*ir.Value{x, p.param(name+".s", c), p.param(name+".b", c), p.param(name+".m", c), p.param(name+".v", c)})
}

func (p *protoGraph) op(op ir.Op, name string, xs ...*ir.Value) *ir.Value {
	return p.b.Node(op, name, xs)
}

func (p *protoGraph) pool(name string, x *ir.Value, stride int) *ir.Value {
	return p.b.Node(ir.OpMaxPool, name, []*ir.Value{x}, ir.IntsAttr("kernel_shape", 2, 2), ir.IntsAttr("strides", int64(stride), int64(stride)))
}

// gapHead adds GlobalAveragePool → Flatten → Gemm to classes.
func (p *protoGraph) gapHead(x *ir.Value, classes int) *ir.Value {
	return p.fc("fc", p.flatten(p.op(ir.OpGlobalAveragePool, "gap", x)), classes)
}

func (p *protoGraph) flatten(x *ir.Value) *ir.Value {
	return p.b.Node(ir.OpFlatten, "flatten", []*ir.Value{x}, ir.IntAttr("axis", 1))
}

func (p *protoGraph) fc(name string, x *ir.Value, out int) *ir.Value {
	in := x.Shape[1].Size
	return p.b.Node(ir.OpGemm, name, []*ir.Value{x, p.param(name+".w", int64(out), in), p.param(name+".b", int64(out))}, ir.IntAttr("transB", 1))
}

func (p *protoGraph) build(t *testing.T, out *ir.Value) *ir.Graph {
	t.Helper()
	p.b.Output(out)
	g, err := p.b.Build()
	if err != nil {
		t.Fatal(err)
	}
	return g
}

// TestSkeletonFromGraphBlocks checks the block patterns on small graphs.
func TestSkeletonFromGraphBlocks(t *testing.T) {
	for _, tt := range []struct {
		name   string
		build  func(p *protoGraph) *ir.Value
		stages []StageShape
		head   Head
	}{
		{"dwsep with activation, inverted residual t1 without", func(p *protoGraph) *ir.Value {
			x := p.op(ir.OpRelu, "r0", p.conv("stem", p.x, 8, 3, 1, 1))
			x = p.op(ir.OpRelu, "r1", p.conv("dw1", x, 8, 3, 1, 8))
			x = p.op(ir.OpRelu, "r2", p.bn("bn2", p.conv("pw1", x, 16, 1, 1, 1)))
			x = p.op(ir.OpRelu, "r3", p.conv("dw2", x, 16, 5, 2, 16))
			x = p.conv("pw2", x, 24, 1, 1, 1)
			return p.gapHead(x, 10)
		}, []StageShape{
			{Width: 16, Depth: 1, Block: DepthwiseSeparable, Kernel: 3, Expansion: 1},
			{Width: 24, Depth: 1, Pool: true, Block: InvertedResidual, Kernel: 5, Expansion: 1},
		}, HeadGAP},
		{"fractional expansion rounds to the nearest option, residual", func(p *protoGraph) *ir.Value {
			x := p.op(ir.OpRelu, "r0", p.conv("stem", p.x, 8, 3, 1, 1))
			y := p.op(ir.OpRelu, "r1", p.conv("expand", x, 44, 1, 1, 1)) // 44/8 = 5.5 → 6
			y = p.op(ir.OpRelu, "r2", p.conv("dw", y, 44, 3, 1, 44))
			y = p.conv("project", y, 8, 1, 1, 1)
			return p.gapHead(p.op(ir.OpAdd, "add", x, y), 10)
		}, []StageShape{{Width: 8, Depth: 1, Block: InvertedResidual, Kernel: 3, Expansion: 6, Skip: true}}, HeadGAP},
		{"grouped conv, shuffle, squeeze-and-excitation, gated activation", func(p *protoGraph) *ir.Value {
			x := p.op(ir.OpRelu, "r0", p.conv("stem", p.x, 8, 3, 1, 1))
			x = p.conv("gconv", x, 16, 3, 1, 4)
			x = p.op(ir.OpMul, "swish", x, p.op(ir.OpSigmoid, "gate", x))
			s1 := p.b.Param("shape1", ir.NewInt64([]int64{5}, []int64{0, 4, 4, 32, 32}))
			s2 := p.b.Param("shape2", ir.NewInt64([]int64{4}, []int64{0, 16, 32, 32}))
			y := p.b.Node(ir.OpReshape, "split", []*ir.Value{x, s1})
			y = p.b.Node(ir.OpTranspose, "swap", []*ir.Value{y}, ir.IntsAttr("perm", 0, 2, 1, 3, 4))
			x = p.b.Node(ir.OpReshape, "shuffle", []*ir.Value{y, s2})
			se := p.op(ir.OpGlobalAveragePool, "se.pool", x)
			se = p.op(ir.OpSigmoid, "se.gate", p.b.Node(ir.OpConv, "se.fc", []*ir.Value{se, p.param("se.w", 16, 16, 1, 1)}))
			x = p.op(ir.OpMul, "se.scale", x, se)
			x = p.conv("conv", x, 16, 5, 1, 1)
			return p.fc("logits", p.flatten(x), 10)
		}, []StageShape{
			{Width: 16, Depth: 1, Block: GroupedShuffle, Kernel: 3, Expansion: 1},
			{Width: 16, Depth: 1, Block: Standard, Kernel: 5, Expansion: 1},
		}, HeadFlatten},
		{"bottleneck with projection shortcut, two pools give a stage of depth 0", func(p *protoGraph) *ir.Value {
			x := p.op(ir.OpRelu, "r0", p.conv("stem", p.x, 8, 3, 2, 1))
			x = p.pool("pool", x, 2)
			y := p.op(ir.OpRelu, "r1", p.conv("reduce", x, 4, 1, 1, 1))
			y = p.op(ir.OpRelu, "r2", p.conv("spatial", y, 4, 3, 1, 1))
			y = p.bn("bn3", p.conv("restore", y, 16, 1, 1, 1))
			x = p.op(ir.OpRelu, "r3", p.op(ir.OpAdd, "add", y, p.bn("sc.bn", p.conv("shortcut", x, 16, 1, 1, 1))))
			return p.gapHead(x, 10)
		}, []StageShape{
			{Width: 8, Depth: 0, Pool: true, Block: Standard, Kernel: 3, Expansion: 1},
			{Width: 16, Depth: 1, Pool: true, Block: Standard, Kernel: 3, Expansion: 1, Skip: true},
		}, HeadGAP},
	} {
		t.Run(tt.name, func(t *testing.T) {
			p := newProtoGraph(1, 32, 32)
			g := p.build(t, tt.build(p))
			s, err := SkeletonFromGraph(g, "proto.onnx", 10)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(s.Stages, tt.stages) || s.Head != tt.head || s.StemWidth != 8 || s.StemKernel != 3 {
				t.Errorf("skeleton %+v\nwant stem 8×k3, head %v, stages %+v", s, tt.head, tt.stages)
			}
		})
	}
}

// TestSkeletonFromGraphErrors checks that what the space cannot express is
// reported with the file and the node.
func TestSkeletonFromGraphErrors(t *testing.T) {
	const prefix = `synth: proto.onnx: `
	stem := func(p *protoGraph) *ir.Value { return p.op(ir.OpRelu, "r0", p.conv("stem", p.x, 8, 3, 1, 1)) }
	for _, tt := range []struct {
		name    string
		input   [3]int
		classes int
		build   func(p *protoGraph) *ir.Value
		want    string
	}{
		{"no conv", mnistInput, 10, func(p *protoGraph) *ir.Value {
			return p.fc("fc2", p.op(ir.OpRelu, "r", p.fc("fc1", p.flatten(p.x), 32)), 10)
		}, prefix + `no Conv before the classifier head (node "flatten" (Flatten)): the synthesis space needs a convolutional network`},
		{"ConvTranspose", mnistInput, 10, func(p *protoGraph) *ir.Value {
			x := p.b.Node(ir.OpConvTranspose, "conv3", []*ir.Value{stem(p), p.param("ct.w", 8, 8, 2, 2)},
				ir.IntsAttr("kernel_shape", 2, 2), ir.IntsAttr("strides", 2, 2))
			return p.gapHead(x, 10)
		}, prefix + `node "conv3" (ConvTranspose): not expressible in the synthesis space (transposed convolution)`},
		{"wrong class count", mnistInput, 5, func(p *protoGraph) *ir.Value {
			return p.gapHead(p.conv("c1", stem(p), 16, 3, 1, 1), 10)
		}, prefix + `the model has 10 classes, the data set 5`},
		{"Concat of branches", mnistInput, 10, func(p *protoGraph) *ir.Value {
			x := stem(p)
			a, b := p.conv("a", x, 8, 1, 1, 1), p.conv("b", x, 8, 3, 1, 1)
			return p.gapHead(p.b.Node(ir.OpConcat, "cat", []*ir.Value{a, b}, ir.IntAttr("axis", 1)), 10)
		}, prefix + `node "cat" (Concat): not expressible in the synthesis space (parallel branches joined by Concat)`},
		{"stride 3", mnistInput, 10, func(p *protoGraph) *ir.Value {
			return p.gapHead(p.conv("c1", stem(p), 16, 3, 3, 1), 10)
		}, prefix + `node "c1" (Conv): not expressible in the synthesis space (strides [3 3]; the space downsamples by 2 only)`},
		{"non-square kernel", mnistInput, 10, func(p *protoGraph) *ir.Value {
			return p.gapHead(p.convAttrs("c1", stem(p), 16, 1, 7, 1, 1), 10)
		}, prefix + `node "c1" (Conv): not expressible in the synthesis space (non-square kernel 1×7)`},
		{"dilation", mnistInput, 10, func(p *protoGraph) *ir.Value {
			return p.gapHead(p.convAttrs("c1", stem(p), 16, 3, 3, 1, 1, ir.IntsAttr("dilations", 2, 2)), 10)
		}, prefix + `node "c1" (Conv): not expressible in the synthesis space (dilated convolution)`},
		{"depthwise alone", mnistInput, 10, func(p *protoGraph) *ir.Value {
			return p.gapHead(p.conv("dw", stem(p), 8, 3, 1, 8), 10)
		}, prefix + `node "dw" (Conv): not expressible in the synthesis space (a depthwise convolution not followed by a 1×1 convolution)`},
		{"pool of stride 1", mnistInput, 10, func(p *protoGraph) *ir.Value {
			return p.gapHead(p.conv("c1", p.pool("p1", stem(p), 1), 16, 3, 1, 1), 10)
		}, prefix + `node "p1" (MaxPool): not expressible in the synthesis space (pooling with strides [1 1]; the space pools by 2 only)`},
		{"no head", mnistInput, 10, func(p *protoGraph) *ir.Value {
			return p.conv("c1", stem(p), 16, 3, 1, 1)
		}, prefix + `no classifier head (GlobalAveragePool or Flatten, then Gemm) before output "c1"`},
		{"no Gemm", mnistInput, 10, func(p *protoGraph) *ir.Value {
			return p.flatten(p.op(ir.OpGlobalAveragePool, "gap", p.conv("c1", stem(p), 10, 1, 1, 1)))
		}, prefix + `the classifier head has no Gemm or MatMul`},
		{"stem only", mnistInput, 10, func(p *protoGraph) *ir.Value {
			return p.gapHead(stem(p), 10)
		}, prefix + `no convolution after the stem "stem": the synthesis space needs at least one block`},
		{"flat input", [3]int{}, 10, nil, prefix + `input "input" is [N,784], want N×C×H×W with C, H and W known`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var g *ir.Graph
			if tt.build == nil {
				b := ir.NewBuilder("mlp")
				x := b.Input("input", ir.Float32, ir.Shape{ir.Sym("N"), ir.D(784)})
				p := &protoGraph{b: b, x: x}
				g = p.build(t, p.fc("fc", x, 10))
			} else {
				p := newProtoGraph(tt.input[0], tt.input[1], tt.input[2])
				g = p.build(t, tt.build(p))
			}
			_, err := SkeletonFromGraph(g, "proto.onnx", tt.classes)
			if err == nil || err.Error() != tt.want {
				t.Errorf("error %v\nwant %s", err, tt.want)
			}
		})
	}
}

// TestPrototypeSkeletonAdaptedMobileNetV2 adapts torchvision's ImageNet
// MobileNetV2 (224×224×3, 1000 classes, five downsamplings) to Fashion-MNIST:
// its first three downsamplings go, so its last map stays 7×7, and the
// result builds a 10-class network for 1×28×28 images.
func TestPrototypeSkeletonAdaptedMobileNetV2(t *testing.T) {
	path := filepath.Join(requireSharedModels(t), "mobilenet_v2-op13.onnx")
	s, err := PrototypeSkeleton(path, mnistInput, 10)
	if err != nil {
		t.Fatal(err)
	}
	var pools []bool
	for _, st := range s.Stages {
		pools = append(pools, st.Pool)
	}
	if want := []bool{false, false, false, true, false, true, false}; !slices.Equal(pools, want) {
		t.Errorf("pools %v, want %v", pools, want)
	}
	if want := "made for 3×224×224 images, 1000 classes; adapted to 1×28×28 images, 10 classes, without its first 3 downsampling(s)"; s.Adapted != want {
		t.Errorf("adapted %q\nwant %q", s.Adapted, want)
	}
	g, err := NewGenerator(s)
	if err != nil {
		t.Fatal(err)
	}
	gr, err := g.Build("mbv2", g.Mode(), rand.New(rand.NewPCG(1, 1)))
	if err != nil {
		t.Fatal(err)
	}
	if out := gr.Outputs[0].Shape; len(out) != 2 || out[1].Size != 10 {
		t.Errorf("output shape %v, want N×10", out)
	}
}

// TestPrototypeSkeletonFileErrors checks the errors of --prototype FILE.
func TestPrototypeSkeletonFileErrors(t *testing.T) {
	dir := t.TempDir()
	missing := filepath.Join(dir, "missing.onnx")
	garbage := filepath.Join(dir, "garbage.onnx")
	if err := os.WriteFile(garbage, []byte("not a model"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name, proto string
		input       [3]int
		classes     int
		want        string
	}{
		{"unknown name", "lenet7", mnistInput, 10, `synth: unknown prototype "lenet7" (known: lenet5, simplecnn, resnet20, mobilenetv2, or a path to an .onnx model)`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := PrototypeSkeleton(tt.proto, tt.input, tt.classes)
			if err == nil || err.Error() != tt.want {
				t.Errorf("error %v\nwant %s", err, tt.want)
			}
		})
	}
	for _, path := range []string{missing, garbage} {
		_, err := PrototypeSkeleton(path, mnistInput, 10)
		if want := "synth: prototype: " + path + ": "; err == nil || !strings.HasPrefix(err.Error(), want) {
			t.Errorf("%s: error %v, want one starting with %q", filepath.Base(path), err, want)
		}
	}
}

// TestPrototypeSkeletonAdapted fits model prototypes made for other images
// or classes to the data set: a stem that reads the data set's channels, a
// head of its classes, and for larger model images the first
// round(log2(model side / image side)) downsamplings removed.
func TestPrototypeSkeletonAdapted(t *testing.T) {
	dir := t.TempDir()
	lenet := saveZoo(t, dir, "lenet5")
	want := builtin(t, "lenet5", "lenet5.onnx")
	pools := func(s Skeleton) []bool {
		var p []bool
		for _, st := range s.Stages {
			p = append(p, st.Pool)
		}
		return p
	}
	for _, tt := range []struct {
		name    string
		input   [3]int
		classes int
		pools   []bool
		adapted string
	}{
		{"same", mnistInput, 10, []bool{true, true}, ""},
		{"colour, more classes", [3]int{3, 32, 32}, 100, []bool{true, true},
			"made for 1×28×28 images, 10 classes; adapted to 3×32×32 images, 100 classes"},
		{"smaller images", [3]int{1, 14, 14}, 10, []bool{false, true},
			"made for 1×28×28 images, 10 classes; adapted to 1×14×14 images, 10 classes, without its first 1 downsampling(s)"},
		{"much smaller images", [3]int{1, 5, 5}, 2, []bool{false, false},
			"made for 1×28×28 images, 10 classes; adapted to 1×5×5 images, 2 classes, without its first 2 downsampling(s)"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, err := PrototypeSkeleton(lenet, tt.input, tt.classes)
			if err != nil {
				t.Fatal(err)
			}
			if got.Input != tt.input || got.Classes != tt.classes || got.Adapted != tt.adapted || !slices.Equal(pools(got), tt.pools) {
				t.Errorf("input %v, %d classes, pools %v, adapted %q\nwant %v, %d, %v, %q", got.Input, got.Classes, pools(got), got.Adapted,
					tt.input, tt.classes, tt.pools, tt.adapted)
			}
			// The adapted skeleton builds a network for the data set.
			g, err := NewGenerator(got)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := g.Build("adapted", g.Mode(), rand.New(rand.NewPCG(1, 1))); err != nil {
				t.Errorf("build: %v", err)
			}
			// Everything else is the model's.
			got.Input, got.Classes, got.Adapted = want.Input, want.Classes, ""
			for i := range got.Stages {
				got.Stages[i].Pool = want.Stages[i].Pool
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("got %+v\nwant %+v", got, want)
			}
		})
	}
}

// TestSkeletonFromGraphHostile damages zoo graphs at random (dropped
// inputs, unknown shapes, odd attributes, cut edges) and checks that
// SkeletonFromGraph returns, with an error or a valid skeleton, and never
// panics.
func TestSkeletonFromGraphHostile(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 7))
	for _, name := range []string{"lenet5", "resnet20", "mobilenetv2"} {
		for trial := range 25 {
			g, err := zoo.Build(name, zoo.Options{})
			if err != nil {
				t.Fatal(err)
			}
			for range 1 + rng.IntN(3) {
				n := g.Nodes[rng.IntN(len(g.Nodes))]
				switch rng.IntN(6) {
				case 0:
					if len(n.Inputs) > 0 {
						n.Inputs[rng.IntN(len(n.Inputs))] = nil
					}
				case 1:
					if len(n.Outputs) > 0 {
						n.Outputs[0].Shape = nil
					}
				case 2:
					n.SetAttr(ir.IntsAttr("strides", int64(rng.IntN(4))))
				case 3:
					n.SetAttr(ir.IntAttr("group", int64(rng.IntN(40)-4)))
				case 4:
					if w := n.Input(1); w != nil && w.Const != nil {
						w.Const = &ir.Tensor{DType: ir.Float32, Dims: []int64{int64(rng.IntN(3))}}
					}
				case 5:
					n.Outputs = nil
				}
			}
			func() {
				defer func() {
					if r := recover(); r != nil {
						t.Fatalf("%s trial %d: panic: %v", name, trial, r)
					}
				}()
				s, err := SkeletonFromGraph(g, name, 0)
				if err == nil {
					if verr := s.validate(); verr != nil {
						t.Errorf("%s trial %d: no error but an invalid skeleton: %v", name, trial, verr)
					}
				}
			}()
		}
	}
	if _, err := SkeletonFromGraph(nil, "nil.onnx", 0); err == nil {
		t.Error("nil graph: no error")
	}
	in := &ir.Value{Name: "input", DType: ir.Float32, Shape: ir.Static(1, 1, 8, 8)}
	if _, err := SkeletonFromGraph(&ir.Graph{Inputs: []*ir.Value{in}, Outputs: []*ir.Value{in}, Nodes: []*ir.Node{nil}}, "nil-node.onnx", 0); err == nil {
		t.Error("graph with a nil node: no error")
	}
}

// TestRunONNXPrototype is a tiny run anchored on an ONNX prototype: the
// skeleton in generator.json is the file's, and resume and generate work
// after the file is gone.
func TestRunONNXPrototype(t *testing.T) {
	if testing.Short() {
		t.Skip("trains networks")
	}
	protoDir, dir := t.TempDir(), t.TempDir()
	path := saveZoo(t, protoDir, "lenet5")
	cfg := tinyConfig()
	cfg.Prototype = path
	cfg.Requirements = Requirements{}
	cfg.Cycles, cfg.PerCycle, cfg.Final = 1, 2, 0
	cfg.Steps = 8
	if _, err := Run(context.Background(), dir, cfg, nopRecorder{}); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(dir, GeneratorFile))
	if err != nil {
		t.Fatal(err)
	}
	var f GeneratorFileData
	if err := json.Unmarshal(data, &f); err != nil {
		t.Fatal(err)
	}
	if want := builtin(t, "lenet5", "lenet5.onnx"); !reflect.DeepEqual(f.Generator.Skeleton, want) {
		t.Errorf("generator.json skeleton:\n got %+v\nwant %+v", f.Generator.Skeleton, want)
	}
	if f.Config.Prototype != path {
		t.Errorf("generator.json prototype %q, want %q", f.Config.Prototype, path)
	}
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	if _, err := Resume(context.Background(), dir, 1, 1, nopRecorder{}); err != nil {
		t.Errorf("resume without the prototype file: %v", err)
	}
	out, err := GenerateNets(context.Background(), filepath.Join(dir, GeneratorFile), t.TempDir(),
		GenerateOptions{Count: 1, MaxAttempts: 2, Seed: 1}, nil)
	if err != nil || len(out) != 1 {
		t.Errorf("generate without the prototype file: %d networks, %v", len(out), err)
	}
}

// TestSkeletonFromGraphLayouts reads an NHWC input turned NCHW by a
// Transpose, and the head of older exporters: AveragePool to 1×1, then a
// 1×1 Conv as the classifier.
func TestSkeletonFromGraphLayouts(t *testing.T) {
	b := ir.NewBuilder("nhwc")
	x := b.Input("input", ir.Float32, ir.Shape{ir.Sym("N"), ir.D(32), ir.D(32), ir.D(3)})
	p := &protoGraph{b: b}
	p.x = b.Node(ir.OpTranspose, "to_nchw", []*ir.Value{x}, ir.IntsAttr("perm", 0, 3, 1, 2))
	y := p.op(ir.OpRelu, "r0", p.conv("stem", p.x, 8, 3, 1, 1))
	y = p.op(ir.OpRelu, "r1", p.conv("c1", y, 16, 3, 2, 1))
	y = b.Node(ir.OpAveragePool, "avgpool", []*ir.Value{y}, ir.IntsAttr("kernel_shape", 16, 16), ir.IntsAttr("strides", 16, 16))
	y = p.flatten(p.conv("classifier", y, 10, 1, 1, 1))
	got, err := SkeletonFromGraph(p.build(t, y), "nhwc.onnx", 10)
	if err != nil {
		t.Fatal(err)
	}
	want := Skeleton{Prototype: "nhwc.onnx", Input: [3]int{3, 32, 32}, Classes: 10, StemWidth: 8, StemKernel: 3, Head: HeadGAP,
		Stages: []StageShape{{Width: 16, Depth: 1, Pool: true, Block: Standard, Kernel: 3, Expansion: 1}}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("skeleton:\n got %+v\nwant %+v", got, want)
	}
}

// TestSkeletonFromGeneratedNets maps networks the generator builds back
// onto skeletons: every stage the network has, with its width, depth,
// pool, block, kernel, expansion and skip as the architecture says, so a
// FermiNet can anchor a later run. Architectures where the mapping
// legitimately differs are left out: adjacent stages that a reader cannot
// tell apart (same width and block, no pool between), a pool the builder
// left out at 1×1, and grouped convolutions whose groups equal their input
// channels (depthwise).
func TestSkeletonFromGeneratedNets(t *testing.T) {
	checked := 0
	total := 0
	for _, proto := range []string{"lenet5", "resnet20", "mobilenetv2"} {
		gen := uniformGenerator(t, proto)
		sk := gen.Skeleton
		seeds := uint64(40)
		if proto == "mobilenetv2" {
			seeds = 15
		}
		for seed := uint64(0); seed < seeds; seed++ {
			total++
			a := gen.Sample(rand.New(rand.NewPCG(seed, 1)))
			want, ok := expectedSkeleton(sk, a)
			if !ok {
				continue
			}
			g, err := gen.Build("net", a, rand.New(rand.NewPCG(seed, 2)))
			if err != nil {
				t.Fatal(err)
			}
			got, err := SkeletonFromGraph(g, "net", sk.Classes)
			if err != nil {
				t.Errorf("%s seed %d (%s): %v", proto, seed, a, err)
				continue
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("%s seed %d (%s):\n got %+v\nwant %+v", proto, seed, a, got, want)
			}
			checked++
		}
	}
	t.Logf("%d of %d architectures checked", checked, total)
	if checked < total/2 {
		t.Errorf("only %d architectures checked", checked)
	}
}

// expectedSkeleton is what SkeletonFromGraph should read from the network
// of architecture a on skeleton s, or false when a is one of the cases
// TestSkeletonFromGeneratedNets leaves out.
func expectedSkeleton(s Skeleton, a Arch) (Skeleton, bool) {
	want := Skeleton{Prototype: "net", Input: s.Input, Classes: s.Classes, StemWidth: a.StemWidth, StemKernel: a.StemKernel, Head: a.Head}
	h, cin := s.Input[1], a.StemWidth
	var prev *StageShape
	for _, st := range a.Stages {
		if st.Depth == 0 {
			continue
		}
		if st.Pool && h < 2 {
			return Skeleton{}, false
		}
		if st.Pool {
			h /= 2
		}
		if prev != nil && !st.Pool && prev.Width == st.Width && prev.Block == st.Block {
			return Skeleton{}, false
		}
		if st.Block == GroupedShuffle && groupsFor(cin, st.Width) == cin {
			return Skeleton{}, false
		}
		e := StageShape{Width: st.Width, Depth: st.Depth, Pool: st.Pool, Block: st.Block, Kernel: st.Kernel, Expansion: 1,
			Skip: st.Skip && (st.Depth > 1 || cin == st.Width)}
		if st.Block == InvertedResidual {
			e.Expansion = st.Expansion
		}
		want.Stages = append(want.Stages, e)
		prev = &want.Stages[len(want.Stages)-1]
		cin = st.Width
	}
	if a.Head == HeadFlatten {
		for ; h > 7; h /= 2 {
			want.Stages = append(want.Stages, StageShape{Width: 2 * want.Stages[len(want.Stages)-1].Width, Pool: true, Block: Standard, Kernel: 3, Expansion: 1})
		}
	}
	return want, len(want.Stages) > 0
}
