package passes

import (
	"os/exec"
	"strconv"
	"strings"
	"testing"

	"github.com/ferminets/fermi/crosscheck"
	"github.com/ferminets/fermi/ir"
)

// schemaScript prints, for every op named in argv, each input whose type
// constraint allows tensor(float) but not tensor(float16) at some opset
// from 7 to the newest the installed onnx package knows: "Op index
// since_version" per line.
const schemaScript = `import sys, onnx.defs as d
for op in sys.argv[1:]:
    for v in range(7, d.onnx_opset_version() + 1):
        try:
            s = d.get_schema(op, v, "")
        except Exception:
            continue
        for i, p in enumerate(s.inputs):
            tc = [c for c in s.type_constraints if c.type_param_str == p.typeStr]
            allowed = tc[0].allowed_type_strs if tc else [p.typeStr]
            if "tensor(float)" in allowed and "tensor(float16)" not in allowed:
                print(op, i, s.since_version)
`

// TestFP16SlotsMatchONNX checks fp16Slots against the ONNX operator
// schemas of the installed onnx package: every float input of a core op
// that cannot be float16 at some opset is a float32-only slot, except for
// the QDQ ops, which fp16 refuses.
func TestFP16SlotsMatchONNX(t *testing.T) {
	crosscheck.RequireChecker(t)
	var names []string
	for _, op := range ir.Ops() {
		names = append(names, op.String())
	}
	out, err := exec.Command(crosscheck.Python, append([]string{"-c", schemaScript}, names...)...).Output()
	if err != nil {
		t.Fatalf("onnx schemas: %v", err)
	}
	seen := map[string]bool{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f := strings.Fields(line)
		if len(f) != 3 {
			continue
		}
		op, _ := ir.LookupOp(f[0])
		i, _ := strconv.Atoi(f[1])
		key := f[0] + " input " + f[1]
		if seen[key] {
			continue
		}
		seen[key] = true
		switch {
		case op == ir.OpQuantizeLinear || op == ir.OpDequantizeLinear:
			t.Logf("%s (since opset %s): no float16; QDQ graphs are refused", key, f[2])
		case kindOf(&ir.Node{Op: op}, i) != slotF32:
			t.Errorf("%s (since opset %s) cannot be float16, but fp16Slots does not keep it float32", key, f[2])
		default:
			t.Logf("%s (since opset %s): float32-only, kept", key, f[2])
		}
	}
	if len(seen) == 0 {
		t.Fatal("the schemas list no float32-only input at all: the script found nothing")
	}
}
