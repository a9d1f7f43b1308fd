package pipelinetest

import (
	"os/exec"
	"strings"
	"testing"
)

// FrameMD5s returns the MD5 of every picture of the video in path, as the
// ffmpeg CLI decodes it to yuv420p (its framemd5 format), in presentation
// order. A missing ffmpeg fails the test.
func FrameMD5s(t testing.TB, path string) []string {
	t.Helper()
	out, err := exec.Command("ffmpeg", "-nostdin", "-v", "error", "-i", path, "-map", "0:v", "-fps_mode", "passthrough", "-f", "framemd5", "-").Output()
	if err != nil {
		t.Fatalf("ffmpeg framemd5 %s (Debian package ffmpeg): %v", path, err)
	}
	var sums []string
	for _, line := range strings.Split(string(out), "\n") {
		if line != "" && !strings.HasPrefix(line, "#") {
			f := strings.Split(line, ",")
			sums = append(sums, strings.TrimSpace(f[len(f)-1]))
		}
	}
	return sums
}
