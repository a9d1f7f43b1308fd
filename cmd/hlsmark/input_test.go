package main

import (
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hlsmark/hlsmark/muxer/segread"
	"github.com/hlsmark/hlsmark/pipeline/clock"
)

// makeFile runs the ffmpeg CLI with args, the last of which names the file
// it makes in a temporary folder, and returns the file's path.
func makeFile(t *testing.T, args ...string) string {
	t.Helper()
	bin, err := exec.LookPath("ffmpeg")
	if err != nil {
		t.Fatalf("ffmpeg is required (Debian package ffmpeg): %v", err)
	}
	out := filepath.Join(t.TempDir(), args[len(args)-1])
	args[len(args)-1] = out
	if b, err := exec.Command(bin, append([]string{"-nostdin", "-v", "error", "-y"}, args...)...).CombinedOutput(); err != nil {
		t.Fatalf("ffmpeg: %v\n%s", err, b)
	}
	return out
}

// TestServeFile streams a 3 s, 25 fps file with B-frames through the real
// binary: the playlist it serves ends (EXT-X-ENDLIST), its segments decode
// to the file's 75 frames, 3600 ticks apart, and the server goes on
// serving the ended stream until it is stopped.
func TestServeFile(t *testing.T) {
	in := makeFile(t, "-f", "lavfi", "-i", "testsrc2=size=320x240:rate=25", "-t", "3",
		"-c:v", "libx264", "-bf", "2", "-g", "25", "-pix_fmt", "yuv420p", "in.mp4")
	s := startServer(t, t.TempDir(), freeAddr(t), "--input", in, "--fps", "25")
	pollUntil(t, "a playlist with EXT-X-ENDLIST", time.Minute, func() bool {
		pl, err := s.playlist()
		if err != nil {
			t.Fatal(err)
		}
		return pl != nil && pl.Closed
	})
	var pts []clock.Ticks
	dir := t.TempDir()
	for i, seg := range segments(s.mustPlaylist(t)) {
		code, b := s.get("/streams/demo/" + seg.URI)
		if code != http.StatusOK {
			t.Fatalf("segment %s: HTTP %d", seg.URI, code)
		}
		path := filepath.Join(dir, seg.URI)
		if err := os.WriteFile(path, b, 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := segread.Decode(path, func(f segread.Frame) error {
			pts = append(pts, f.PTS)
			return nil
		}); err != nil {
			t.Fatalf("segment %d (%s): %v", i, seg.URI, err)
		}
	}
	if len(pts) != 75 {
		t.Fatalf("the segments decode to %d frames, want the file's 75", len(pts))
	}
	for i := 1; i < len(pts); i++ {
		if pts[i]-pts[i-1] != 3600 {
			t.Fatalf("frame %d: PTS %d after %d, want a step of 3600", i, pts[i], pts[i-1])
		}
	}
	if s.cmd.ProcessState != nil {
		t.Fatalf("the server exited when its input ended:\n%s", s.log)
	}
	if code, _ := s.get("/streams/demo/index.m3u8"); code != http.StatusOK {
		t.Fatalf("after the input ended the playlist answers HTTP %d", code)
	}
	s.stop(t, syscall.SIGTERM)
}

// TestServeBadInput refuses, with exit 2 and one line naming the flag, a
// missing file, a file without video and --loop without a file.
func TestServeBadInput(t *testing.T) {
	audio := makeFile(t, "-f", "lavfi", "-i", "sine=duration=1", "tone.wav")
	for _, c := range []struct {
		name  string
		args  []string
		names string
	}{
		{"missing file", []string{"--input", filepath.Join(t.TempDir(), "nope.mp4")}, "--input"},
		{"no video stream", []string{"--input", audio}, "--input"},
		{"loop without a file", []string{"--loop"}, "--loop"},
	} {
		t.Run(c.name, func(t *testing.T) {
			args := append([]string{"serve", "--addr", freeAddr(t), "--data", t.TempDir()}, c.args...)
			r := runCLI(t, t.TempDir(), args...)
			checkUsageError(t, r, c.names)
			if c.names == "--input" && !strings.Contains(r.stderr, c.args[1]) {
				t.Errorf("stderr %q does not name the file", r.stderr)
			}
		})
	}
}

// TestDescribeHidesPasswords: /api/streams names a camera's URL without
// its password, and every other input as given.
func TestDescribeHidesPasswords(t *testing.T) {
	for in, want := range map[string]string{
		"rtsp://admin:hunter2@10.0.0.5:554/stream1": "rtsp://admin:xxxxx@10.0.0.5:554/stream1",
		"rtsp://10.0.0.5/live":                      "rtsp://10.0.0.5/live",
		"/videos/a b.mp4":                           "/videos/a b.mp4",
		"":                                          "checkerboard",
		"-":                                         "-",
	} {
		if got := (inputConfig{Input: in}).describe(); got != want {
			t.Errorf("describe(%q) = %q, want %q", in, got, want)
		}
	}
}
