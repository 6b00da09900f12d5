package machine

import (
	"os"
	"runtime"
	"strings"
)

// LoadAvg returns the contents of /proc/loadavg ("1.02 0.88 0.71 2/345 6789"), or "".
func LoadAvg() string {
	b, _ := os.ReadFile("/proc/loadavg")
	return strings.TrimSpace(string(b))
}

// CPUModel returns the first "model name" of /proc/cpuinfo, or GOARCH.
func CPUModel() string {
	b, err := os.ReadFile("/proc/cpuinfo")
	if err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				return strings.TrimSpace(v)
			}
		}
	}
	return runtime.GOARCH
}
