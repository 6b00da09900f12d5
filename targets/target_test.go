package targets

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/ferminets/fermi/ir"
)

// testProfile is a made-up target with round numbers, for hand-computed
// expectations.
const testProfile = `{
  "name": "test",
  "description": "made-up target with round numbers",
  "runtime": "none",
  "peak_gops": {"f32": {"value": 1, "source": "made up"}, "i8": {"value": 4, "source": "made up"}},
  "bandwidth_gbs": {"value": 1, "source": "made up"},
  "memories": [
    {"name": "sram", "bytes": {"value": 65536, "source": "made up"}, "holds": ["activations"]},
    {"name": "flash", "bytes": {"value": 1048576, "source": "made up"}, "holds": ["weights"]}
  ],
  "efficiency": {
    "conv": {"value": 0.5, "source": "made up"},
    "depthwise": {"value": 0.25, "source": "made up"},
    "gemm": {"value": 0.25, "source": "made up"},
    "elementwise": {"value": 0.25, "source": "made up"},
    "pool": {"value": 0.25, "source": "made up"},
    "data": {"value": 0.25, "source": "made up"}
  },
  "kernel_overhead_us": {"value": 10, "source": "made up"},
  "fusions": [
    {"pattern": ["Conv", "BatchNormalization?", "Relu|Clip?"], "source": "made up"},
    {"pattern": ["Conv", "Add", "Relu"], "source": "made up"}
  ],
  "support": {
    "dtypes": ["f32", "i8"],
    "ops": ["Conv", "BatchNormalization", "Relu", "Clip", "Add", "QuantizeLinear", "DequantizeLinear", "GlobalAveragePool", "Flatten", "Gemm"],
    "static_shapes": false,
    "source": "made up"
  },
  "power_w": {"value": 2, "source": "made up"},
  "passes": ["fold-bn", "dce"]
}`

func testTarget(t *testing.T, edit func(m map[string]any)) *Target {
	t.Helper()
	data := []byte(testProfile)
	if edit != nil {
		data = editProfile(t, edit)
	}
	tg, err := Parse(data, "test.json")
	if err != nil {
		t.Fatal(err)
	}
	return tg
}

func editProfile(t *testing.T, edit func(m map[string]any)) []byte {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(testProfile), &m); err != nil {
		t.Fatal(err)
	}
	edit(m)
	data, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// obj walks m along keys (map keys or list indices as ints).
func obj(m any, keys ...any) map[string]any {
	for _, k := range keys {
		switch k := k.(type) {
		case string:
			m = m.(map[string]any)[k]
		case int:
			m = m.([]any)[k]
		}
	}
	return m.(map[string]any)
}

// The required targets.
var required = []string{"pixel1", "cortex-a76", "cortex-a53", "cortex-m7", "hexagon-dsp", "jetson-nano", "tegra-x2", "host"}

func TestBuiltinProfiles(t *testing.T) {
	entries, err := os.ReadDir("profiles")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if _, err := loadEmbedded(e.Name()); err != nil {
			t.Error(err)
		}
	}
	if t.Failed() {
		return
	}
	ts := Builtin()
	byName := map[string]*Target{}
	for _, tg := range ts {
		byName[tg.Name] = tg
		if !strings.HasPrefix(tg.File, "profiles/") {
			t.Errorf("%s: File = %q", tg.Name, tg.File)
		}
	}
	for _, name := range required {
		if byName[name] == nil {
			t.Errorf("no built-in profile %q", name)
		}
	}
	if len(entries) != len(ts) {
		t.Errorf("profiles/ has %d files, Builtin returned %d targets", len(entries), len(ts))
	}
}

// TestEveryFigureSourced walks every built-in profile with reflection and
// checks each Figure has a positive value and a source, independently of
// validate.
func TestEveryFigureSourced(t *testing.T) {
	for _, tg := range Builtin() {
		n := 0
		walkFigures(reflect.ValueOf(tg).Elem(), tg.Name, func(path string, f Figure) {
			n++
			if f.Value <= 0 || strings.TrimSpace(f.Source) == "" {
				t.Errorf("%s: value %v, source %q", path, f.Value, f.Source)
			}
		})
		if n < 13 { // 1+ peak, bandwidth, 2+ memories, 6 efficiencies, overhead, power
			t.Errorf("%s: only %d figures found", tg.Name, n)
		}
		for i, f := range tg.Fusions {
			if f.Source == "" {
				t.Errorf("%s: fusions[%d] has no source", tg.Name, i)
			}
		}
		if tg.Support.Source == "" {
			t.Errorf("%s: support has no source", tg.Name)
		}
		if tg.Name == "host" { // shipped calibrated (fcompile calibrate); copies have no arithmetic to fit
			for _, c := range Classes {
				if src := tg.Efficiency[c].Source; c != ClassData && !strings.HasPrefix(src, "fitted: fcompile calibrate") {
					t.Errorf("host: efficiency %s source %q is not a calibration", c, src)
				}
			}
		}
	}
}

func walkFigures(v reflect.Value, path string, visit func(string, Figure)) {
	if v.Type() == reflect.TypeOf(Figure{}) {
		visit(path, v.Interface().(Figure))
		return
	}
	switch v.Kind() {
	case reflect.Pointer:
		if !v.IsNil() {
			walkFigures(v.Elem(), path, visit)
		}
	case reflect.Struct:
		for i := 0; i < v.NumField(); i++ {
			if v.Type().Field(i).IsExported() {
				walkFigures(v.Field(i), path+"."+v.Type().Field(i).Name, visit)
			}
		}
	case reflect.Slice:
		for i := 0; i < v.Len(); i++ {
			walkFigures(v.Index(i), path, visit)
		}
	case reflect.Map:
		for _, k := range v.MapKeys() {
			walkFigures(v.MapIndex(k), path+"."+k.String(), visit)
		}
	}
}

func TestLookup(t *testing.T) {
	tg, err := Lookup("cortex-m7")
	if err != nil {
		t.Fatal(err)
	}
	if tg.Name != "cortex-m7" || tg.Memories[1].Bytes.Value != 512*1024 {
		t.Errorf("cortex-m7: got %s with memories %+v", tg.Name, tg.Memories)
	}
	for _, name := range []string{"nope", "", "../target", "profiles/pixel1"} {
		_, err := Lookup(name)
		if err == nil || !strings.Contains(err.Error(), "unknown target") || !strings.Contains(err.Error(), "pixel1") {
			t.Errorf("Lookup(%q): error %v, want unknown target listing the known ones", name, err)
		}
	}
}

func TestLoadFile(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "mine.json")
	if err := os.WriteFile(good, []byte(testProfile), 0o644); err != nil {
		t.Fatal(err)
	}
	tg, err := LoadFile(good)
	if err != nil {
		t.Fatal(err)
	}
	if tg.Name != "test" || tg.File != good {
		t.Errorf("got name %q file %q", tg.Name, tg.File)
	}
	bad := filepath.Join(dir, "bad.json")
	if err := os.WriteFile(bad, []byte(`{"name": "x", "colour": "red"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = LoadFile(bad)
	if err == nil || !strings.Contains(err.Error(), bad) || !strings.Contains(err.Error(), `"colour"`) {
		t.Errorf("unknown field: error %v, want it to name the file and the field", err)
	}
	if _, err := LoadFile(filepath.Join(dir, "missing.json")); err == nil || !strings.HasPrefix(err.Error(), "targets: ") {
		t.Errorf("missing file: error %v", err)
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name string
		edit func(m map[string]any)
		raw  string // used instead of edit when set
		want []string
	}{
		{name: "unknown field", raw: strings.Replace(testProfile, `"runtime"`, `"runtim": "x", "runtime"`, 1), want: []string{`unknown field "runtim"`}},
		{name: "trailing data", raw: testProfile + `{}`, want: []string{"trailing data"}},
		{name: "no source", edit: func(m map[string]any) { obj(m, "bandwidth_gbs")["source"] = " " }, want: []string{"bandwidth_gbs: no source"}},
		{name: "negative", edit: func(m map[string]any) { obj(m, "kernel_overhead_us")["value"] = -1 }, want: []string{"kernel_overhead_us: value -1 is not a positive number"}},
		{name: "efficiency above 1", edit: func(m map[string]any) { obj(m, "efficiency", "conv")["value"] = 1.5 }, want: []string{"efficiency.conv: value 1.5 is above 1"}},
		{name: "missing class", edit: func(m map[string]any) { delete(obj(m, "efficiency"), "pool") }, want: []string{`efficiency: no figure for class "pool"`}},
		{name: "unknown class", edit: func(m map[string]any) { obj(m, "efficiency")["fft"] = map[string]any{"value": 0.5, "source": "x"} }, want: []string{`unknown class "fft"`}},
		{name: "unknown dtype", edit: func(m map[string]any) { obj(m, "peak_gops")["f33"] = map[string]any{"value": 1, "source": "x"} }, want: []string{`peak_gops: unknown dtype "f33"`}},
		{name: "memory source", edit: func(m map[string]any) { obj(m, "memories", 0, "bytes")["source"] = "" }, want: []string{"memories[0] (sram).bytes: no source"}},
		{name: "no weights memory", edit: func(m map[string]any) { obj(m, "memories", 1)["holds"] = []any{} }, want: []string{"no memory holds weights"}},
		{name: "bad role", edit: func(m map[string]any) { obj(m, "memories", 1)["holds"] = []any{"weights", "code"} }, want: []string{`holds "code"`}},
		{name: "fusion op", edit: func(m map[string]any) { obj(m, "fusions", 0)["pattern"] = []any{"Conv", "Rleu"} }, want: []string{`unknown op "Rleu"`}},
		{name: "fusion optional first", edit: func(m map[string]any) { obj(m, "fusions", 0)["pattern"] = []any{"Conv?", "Relu"} }, want: []string{"first step cannot be optional"}},
		{name: "fusion source", edit: func(m map[string]any) { obj(m, "fusions", 1)["source"] = "" }, want: []string{"fusions[1] [Conv Add Relu]: no source"}},
		{name: "support op", edit: func(m map[string]any) { obj(m, "support")["ops"] = []any{"Conv", "Convolution"} }, want: []string{`support.ops: unknown op "Convolution"`}},
		{name: "support dtype without peak", edit: func(m map[string]any) { obj(m, "support")["dtypes"] = []any{"f16"} }, want: []string{"support.dtypes: f16 has no peak_gops figure"}},
		{name: "energy pair", edit: func(m map[string]any) { m["energy_pj_per_byte"] = map[string]any{"value": 5, "source": "x"} }, want: []string{"must be given together"}},
		{name: "pass name", edit: func(m map[string]any) { m["passes"] = []any{"fold_bn"} }, want: []string{`"fold_bn" is not a kebab-case pass name`}},
		{name: "all at once", edit: func(m map[string]any) {
			obj(m, "power_w")["source"] = ""
			obj(m, "efficiency", "gemm")["value"] = 0
		}, want: []string{"power_w: no source", "efficiency.gemm: value 0 is not a positive number"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			data := []byte(tc.raw)
			if tc.raw == "" {
				data = editProfile(t, tc.edit)
			}
			_, err := Parse(data, "my.json")
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
			for _, line := range strings.Split(err.Error(), "\n") {
				if !strings.HasPrefix(line, "targets: my.json: ") {
					t.Errorf("error line %q does not name the file", line)
				}
			}
		})
	}
}

// TestProfileRoundTrip: a profile marshalled to JSON (as a calibration
// writes one) parses back to the same target.
func TestProfileRoundTrip(t *testing.T) {
	for _, tg := range Builtin() {
		data, err := json.MarshalIndent(tg, "", "  ")
		if err != nil {
			t.Fatal(err)
		}
		back, err := Parse(data, tg.Name+".json")
		if err != nil {
			t.Fatalf("%s: %v", tg.Name, err)
		}
		back.File = tg.File
		if !reflect.DeepEqual(back, tg) {
			t.Errorf("%s: round trip changed the profile", tg.Name)
		}
	}
}

func TestFormatTargets(t *testing.T) {
	var buf strings.Builder
	if err := FormatTargets(&buf, Builtin()); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, want := range []string{
		"cortex-m7 ", "f32 0.96, i8 1.92", "AXI SRAM 512 KiB (activations), flash 2 MiB (weights)",
		"pixel1 ", "f32 17.2, i8 26.1", "LPDDR4 4 GiB (activations+weights)",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("targets table lacks %q:\n%s", want, out)
		}
	}
	if n := strings.Count(out, "\n"); n != len(Builtin())+1 {
		t.Errorf("%d lines, want a header and one per target:\n%s", n, out)
	}
}

// TestValidateAfterEdit: a calibration edits figures of a loaded target and
// revalidates; a bad edit is reported.
func TestValidateAfterEdit(t *testing.T) {
	tg := testTarget(t, nil)
	tg.PeakGOPS["f32"] = Figure{Value: 2, Source: "fitted: test"}
	if err := tg.Validate(); err != nil {
		t.Fatal(err)
	}
	if p, _ := tg.Peak(ir.Float32); p != 2 {
		t.Errorf("peak after Validate = %v, want 2", p)
	}
	tg.KernelOverheadUs = Figure{Value: 3}
	err := tg.Validate()
	if _, ok := err.(*ValidationError); !ok || !strings.Contains(err.Error(), "targets: test.json: kernel_overhead_us: no source") {
		t.Errorf("error %v", err)
	}
}
