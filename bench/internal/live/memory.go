package live

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
)

// RSSMB reads a process's resident set size, in MiB, from /proc.
func RSSMB(pid int) (float64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, err := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 64)
			return kb / 1024, err
		}
	}
	return 0, errors.New("live: no VmRSS in /proc/" + strconv.Itoa(pid) + "/status")
}

// Sample is one reading of a quantity over time: seconds since the
// measurement began, and the value.
type Sample struct {
	Seconds float64 `json:"seconds"`
	Value   float64 `json:"value"`
}

// Slope is the least-squares slope of the samples' values over their
// seconds, or 0 for fewer than two samples.
func Slope(s []Sample) float64 {
	if len(s) < 2 {
		return 0
	}
	var sx, sy, sxx, sxy float64
	for _, p := range s {
		sx, sy, sxx, sxy = sx+p.Seconds, sy+p.Value, sxx+p.Seconds*p.Seconds, sxy+p.Seconds*p.Value
	}
	n := float64(len(s))
	return (n*sxy - sx*sy) / (n*sxx - sx*sx)
}
