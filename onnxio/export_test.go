package onnxio

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/ferminets/fermi/ir"
)

// buildGraph builds a graph with the builder; add adds nodes to input x
// (f32[N,4,8,8]) and returns the outputs.
func buildGraph(t *testing.T, add func(b *ir.Builder, x *ir.Value) []*ir.Value) *ir.Graph {
	t.Helper()
	b := ir.NewBuilder("g")
	x := b.Input("x", ir.Float32, ir.Shape{ir.Sym("N"), ir.D(4), ir.D(8), ir.D(8)})
	b.Output(add(b, x)...)
	g, err := b.Build()
	if err != nil {
		t.Fatal(err)
	}
	return g
}

// TestExportOpsets checks the forms that differ between export opsets.
func TestExportOpsets(t *testing.T) {
	g := buildGraph(t, func(b *ir.Builder, x *ir.Value) []*ir.Value {
		r := b.Node(ir.OpReduceMean, "rm", []*ir.Value{x}, ir.IntsAttr("axes", 2, 3))
		s := b.NodeN(ir.OpSplit, "sp", 2, []*ir.Value{x}, ir.IntAttr("axis", 1))
		return append([]*ir.Value{r}, s...)
	})
	g.IRVersion = 0
	wantIR := map[int64]int64{13: 7, 14: 8, 17: 8, 18: 8, 19: 9, 21: 10}
	for _, opset := range []int64{13, 14, 17, 18, 19, 21} {
		g2, m := roundTrip(t, g, WriteOptions{Opset: opset})
		if v := m.GetOpsetImport()[0]; v.GetDomain() != "" || v.GetVersion() != opset {
			t.Errorf("opset %d: opset_import %v", opset, m.GetOpsetImport())
		}
		if m.GetIrVersion() != wantIR[opset] {
			t.Errorf("opset %d: ir_version %d, want %d", opset, m.GetIrVersion(), wantIR[opset])
		}
		rm, sp := protoNode(m, "rm"), protoNode(m, "sp")
		if opset >= 18 {
			axes := protoInit(m, rm.GetInput()[min(1, len(rm.GetInput())-1)])
			if len(rm.Input) != 2 || protoAttr(rm, "axes") != nil || axes == nil {
				t.Errorf("opset %d: ReduceMean %v, want axes as an initializer input", opset, rm)
			} else if tt, _, err := DecodeTensor(mustMarshal(t, axes)); err != nil || !slices.Equal(tt.I64, []int64{2, 3}) {
				t.Errorf("opset %d: axes initializer %v (%v), want [2 3]", opset, tt, err)
			}
			if a := protoAttr(sp, "num_outputs"); a == nil || a.GetI() != 2 {
				t.Errorf("opset %d: Split %v, want num_outputs 2", opset, sp)
			}
		} else {
			if a := protoAttr(rm, "axes"); len(rm.Input) != 1 || a == nil || !slices.Equal(a.Ints, []int64{2, 3}) {
				t.Errorf("opset %d: ReduceMean %v, want attribute axes [2 3]", opset, rm)
			}
			if protoAttr(sp, "num_outputs") != nil {
				t.Errorf("opset %d: Split has num_outputs", opset)
			}
		}
		if len(m.Graph.Initializer) != map[bool]int{true: 1, false: 0}[opset >= 18] {
			t.Errorf("opset %d: %d initializers", opset, len(m.Graph.Initializer))
		}
		g.IRVersion, g.Opsets = g2.IRVersion, g2.Opsets
		if err := ir.Equal(g, g2); err != nil {
			t.Errorf("opset %d: round trip: %v", opset, err)
		}
		g.IRVersion, g.Opsets = 0, []ir.OpsetImport{{Version: 17}}
	}
}

// TestExportDefaultOpset checks how WriteOptions.Opset 0 picks the opset.
func TestExportDefaultOpset(t *testing.T) {
	for _, tc := range []struct {
		imported, want int64
	}{{0, 17}, {9, 13}, {13, 13}, {18, 18}, {21, 21}} {
		g := buildGraph(t, func(b *ir.Builder, x *ir.Value) []*ir.Value {
			return []*ir.Value{b.Node(ir.OpRelu, "r", []*ir.Value{x})}
		})
		g.Opsets = nil
		if tc.imported != 0 {
			g.Opsets = []ir.OpsetImport{{Domain: "com.example", Version: 3}, {Domain: "", Version: tc.imported}}
		}
		_, m := roundTrip(t, g, WriteOptions{})
		var got int64
		for _, o := range m.OpsetImport {
			if o.GetDomain() == "" {
				got = o.GetVersion()
			}
		}
		if got != tc.want {
			t.Errorf("imported %d: exported at %d, want %d", tc.imported, got, tc.want)
		}
		if tc.imported != 0 && (m.OpsetImport[0].GetDomain() != "com.example" || m.OpsetImport[0].GetVersion() != 3) {
			t.Errorf("imported %d: other domain's import lost: %v", tc.imported, m.OpsetImport)
		}
	}
}

// TestExportAttrsByOpset checks attributes that a target opset lacks: dropped
// when at their default, an error naming the node otherwise.
func TestExportAttrsByOpset(t *testing.T) {
	scales := func(b *ir.Builder) *ir.Value {
		return b.Param("scales", ir.NewFloat32([]int64{4}, []float32{1, 1, 2, 2}))
	}
	tests := []struct {
		name    string
		add     func(b *ir.Builder, x *ir.Value) *ir.Value
		opset   int64
		wantErr string // "" for success
		node    string
		attr    string // attribute to look for on success
		present bool
	}{
		{"resize-antialias-17", func(b *ir.Builder, x *ir.Value) *ir.Value {
			return b.Node(ir.OpResize, "rs", []*ir.Value{x, nil, scales(b)}, ir.IntAttr("antialias", 1), ir.StrAttr("mode", "linear"))
		}, 17, `node "rs" (Resize): attribute "antialias" needs opset 18`, "", "", false},
		{"resize-antialias-18", func(b *ir.Builder, x *ir.Value) *ir.Value {
			return b.Node(ir.OpResize, "rs", []*ir.Value{x, nil, scales(b)}, ir.IntAttr("antialias", 1), ir.StrAttr("mode", "linear"))
		}, 18, "", "rs", "antialias", true},
		{"resize-default-policy-13", func(b *ir.Builder, x *ir.Value) *ir.Value {
			return b.Node(ir.OpResize, "rs", []*ir.Value{x, nil, scales(b)}, ir.StrAttr("keep_aspect_ratio_policy", "stretch"))
		}, 13, "", "rs", "keep_aspect_ratio_policy", false},
		{"resize-symmetric-18", func(b *ir.Builder, x *ir.Value) *ir.Value {
			return b.Node(ir.OpResize, "rs", []*ir.Value{x, nil, scales(b)}, ir.StrAttr("coordinate_transformation_mode", "half_pixel_symmetric"))
		}, 18, `node "rs" (Resize): coordinate_transformation_mode half_pixel_symmetric needs opset 19`, "", "", false},
		{"avgpool-dilations-18", func(b *ir.Builder, x *ir.Value) *ir.Value {
			return b.Node(ir.OpAveragePool, "ap", []*ir.Value{x}, ir.IntsAttr("kernel_shape", 2, 2), ir.IntsAttr("dilations", 2, 2))
		}, 18, `node "ap" (AveragePool): attribute "dilations" needs opset 19`, "", "", false},
		{"avgpool-dilations-19", func(b *ir.Builder, x *ir.Value) *ir.Value {
			return b.Node(ir.OpAveragePool, "ap", []*ir.Value{x}, ir.IntsAttr("kernel_shape", 2, 2), ir.IntsAttr("dilations", 2, 2))
		}, 19, "", "ap", "dilations", true},
		{"avgpool-unit-dilations-13", func(b *ir.Builder, x *ir.Value) *ir.Value {
			return b.Node(ir.OpAveragePool, "ap", []*ir.Value{x}, ir.IntsAttr("kernel_shape", 2, 2), ir.IntsAttr("dilations", 1, 1))
		}, 13, "", "ap", "dilations", false},
		{"shape-start-14", func(b *ir.Builder, x *ir.Value) *ir.Value {
			return b.Node(ir.OpShape, "sh", []*ir.Value{x}, ir.IntAttr("start", 1))
		}, 14, `node "sh" (Shape): attribute "start" needs opset 15`, "", "", false},
		{"shape-start-15", func(b *ir.Builder, x *ir.Value) *ir.Value {
			return b.Node(ir.OpShape, "sh", []*ir.Value{x}, ir.IntAttr("start", 1))
		}, 15, "", "sh", "start", true},
		{"shape-whole-end-13", func(b *ir.Builder, x *ir.Value) *ir.Value {
			return b.Node(ir.OpShape, "sh", []*ir.Value{x}, ir.IntAttr("start", 0), ir.IntAttr("end", 4))
		}, 13, "", "sh", "end", false},
		{"batchnorm-training-13", func(b *ir.Builder, x *ir.Value) *ir.Value {
			p := func(n string) *ir.Value { return b.Param(n, ir.NewFloat32([]int64{4}, []float32{1, 1, 1, 1})) }
			return b.Node(ir.OpBatchNorm, "bn", []*ir.Value{x, p("s"), p("b"), p("m"), p("v")}, ir.IntAttr("training_mode", 1))
		}, 13, `node "bn" (BatchNormalization): attribute "training_mode" needs opset 14`, "", "", false},
		{"batchnorm-inference-13", func(b *ir.Builder, x *ir.Value) *ir.Value {
			p := func(n string) *ir.Value { return b.Param(n, ir.NewFloat32([]int64{4}, []float32{1, 1, 1, 1})) }
			return b.Node(ir.OpBatchNorm, "bn", []*ir.Value{x, p("s"), p("b"), p("m"), p("v")}, ir.IntAttr("training_mode", 0))
		}, 13, "", "bn", "training_mode", false},
		{"hardswish-13", func(b *ir.Builder, x *ir.Value) *ir.Value {
			return b.Node(ir.OpHardSwish, "hs", []*ir.Value{x})
		}, 13, `node "hs" (HardSwish): the op needs opset 14`, "", "", false},
		{"hardswish-14", func(b *ir.Builder, x *ir.Value) *ir.Value {
			return b.Node(ir.OpHardSwish, "hs", []*ir.Value{x})
		}, 14, "", "hs", "none", false},
		{"cast-saturate-13", func(b *ir.Builder, x *ir.Value) *ir.Value {
			return b.Node(ir.OpCast, "ct", []*ir.Value{x}, ir.IntAttr("to", int64(ir.Float16)), ir.IntAttr("saturate", 0))
		}, 13, "", "ct", "saturate", false},
		{"cast-saturate-19", func(b *ir.Builder, x *ir.Value) *ir.Value {
			return b.Node(ir.OpCast, "ct", []*ir.Value{x}, ir.IntAttr("to", int64(ir.Float16)), ir.IntAttr("saturate", 0))
		}, 19, "", "ct", "saturate", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			g := buildGraph(t, func(b *ir.Builder, x *ir.Value) []*ir.Value { return []*ir.Value{tc.add(b, x)} })
			b, err := Encode(g, WriteOptions{Opset: tc.opset})
			if tc.wantErr != "" {
				if err == nil || !strings.HasPrefix(err.Error(), "onnxio: ") || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("Encode error %v, want one containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			_, m := roundTrip(t, g, WriteOptions{Opset: tc.opset})
			if got := protoAttr(protoNode(m, tc.node), tc.attr) != nil; got != tc.present {
				t.Errorf("attribute %q present = %v, want %v", tc.attr, got, tc.present)
			}
			if len(b) == 0 {
				t.Error("empty encoding")
			}
		})
	}
}

func TestExportOpsetErrors(t *testing.T) {
	g := buildGraph(t, func(b *ir.Builder, x *ir.Value) []*ir.Value {
		return []*ir.Value{b.Node(ir.OpRelu, "r", []*ir.Value{x})}
	})
	for _, opset := range []int64{7, 12, 22} {
		_, err := Encode(g, WriteOptions{Opset: opset})
		var oe *OpsetError
		if !errors.As(err, &oe) || oe.Opset != opset {
			t.Errorf("opset %d: error %v, want *OpsetError", opset, err)
		}
	}
	if _, err := Encode(g, WriteOptions{ExternalData: true}); err == nil {
		t.Error("Encode with ExternalData succeeded")
	}
}

// TestExportAddsOpaqueDomains checks that a domain used only by opaque nodes
// gets an opset import.
func TestExportAddsOpaqueDomains(t *testing.T) {
	g := buildGraph(t, func(b *ir.Builder, x *ir.Value) []*ir.Value { return []*ir.Value{x} })
	n := &ir.Node{Name: "c", Op: ir.OpOpaque, Domain: "com.x", OpType: "Thing", Inputs: []*ir.Value{g.Inputs[0]}}
	out := &ir.Value{Name: "y", DType: ir.Float32, Def: n}
	n.Outputs = []*ir.Value{out}
	g.Nodes = append(g.Nodes, n)
	g.Outputs = []*ir.Value{out}
	_, m := roundTrip(t, g, WriteOptions{})
	var found bool
	for _, o := range m.OpsetImport {
		found = found || o.GetDomain() == "com.x" && o.GetVersion() == 1
	}
	if !found {
		t.Errorf("opset imports %v, want com.x version 1", m.OpsetImport)
	}
}
