package machine

import (
	"os"
	"testing"
)

func TestCPUModel(t *testing.T) {
	if _, err := os.Stat("/proc/cpuinfo"); err != nil {
		t.Skip("no /proc/cpuinfo")
	}
	if m := CPUModel(); m == "" {
		t.Error("empty CPU model")
	}
	if LoadAvg() == "" {
		t.Error("empty load average")
	}
}
