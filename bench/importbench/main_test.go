package main

import (
	"strings"
	"testing"
)

func TestParseStatus(t *testing.T) {
	for _, tc := range []struct {
		name, in     string
		rss, hwm     int64
		wantErrMatch string
	}{
		{"linux", "Name:\timportbench\nVmPeak:\t  10 kB\nVmHWM:\t    2048 kB\nVmRSS:\t    1024 kB\nThreads:\t5\n", 1 << 20, 2 << 20, ""},
		{"missing", "Name:\tx\nVmPeak:\t10 kB\n", 0, 0, "no VmHWM"},
		{"garbled", "VmHWM:\t12x kB\nVmRSS:\t1 kB\n", 0, 0, "VmHWM"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m, err := parseStatus([]byte(tc.in))
			if tc.wantErrMatch != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErrMatch) {
					t.Fatalf("error %v, want one mentioning %q", err, tc.wantErrMatch)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if m["VmRSS"] != tc.rss || m["VmHWM"] != tc.hwm {
				t.Errorf("VmRSS %d, VmHWM %d; want %d, %d", m["VmRSS"], m["VmHWM"], tc.rss, tc.hwm)
			}
		})
	}
}

func TestSummarize(t *testing.T) {
	r := result{FileBytes: 100, Measurements: []measurement{
		{ImportNs: 3e6, PeakRSS: 250, BaselineRSS: 10},
		{ImportNs: 1e6, PeakRSS: 290, BaselineRSS: 12},
		{ImportNs: 2e6, PeakRSS: 260, BaselineRSS: 11},
	}}
	summarize(&r)
	if r.ImportMsMedian != 2 || r.ImportMsMin != 1 || r.ImportMsMax != 3 {
		t.Errorf("import ms median %v min %v max %v, want 2, 1, 3", r.ImportMsMedian, r.ImportMsMin, r.ImportMsMax)
	}
	if r.PeakRSSBytes != 260 || r.PeakRSSMaxBytes != 290 || r.BaselineRSSBytes != 11 || r.PeakDeltaBytes != 249 {
		t.Errorf("peak %d max %d baseline %d delta %d; want 260, 290, 11, 249", r.PeakRSSBytes, r.PeakRSSMaxBytes, r.BaselineRSSBytes, r.PeakDeltaBytes)
	}
	if !r.MeetsTimeBar || !r.MeetsMemoryBar {
		t.Errorf("bars: time %v memory %v, want both met", r.MeetsTimeBar, r.MeetsMemoryBar)
	}
	r.Measurements[1].PeakRSS = 300 // the worst run decides the memory bar
	summarize(&r)
	if r.MeetsMemoryBar {
		t.Errorf("peak of 3× the file meets the memory bar")
	}
}

func TestUsage(t *testing.T) {
	for _, args := range [][]string{{"--runs", "0"}, {"--bogus"}, {"extra"}} {
		err := run(args, nil)
		if _, ok := err.(usageError); !ok {
			t.Errorf("run(%q) = %v, want a usage error", args, err)
		}
	}
}
