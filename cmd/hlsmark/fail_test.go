package main

import (
	"net/http"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hlsmark/hlsmark/pipeline/clock"
)

// TestServeFailingFile streams an MP4 cut off in the middle of its media
// data (its index, at the front, names frames the file no longer holds)
// through the real binary: libav fails to read on mid-file. The stream
// ends there as at the end of its input: the playlist gets EXT-X-ENDLIST,
// its segments decode, 3600 ticks apart; /api/streams says failed with
// the error, /readyz answers 503, the error is logged at error level; the
// process serves on, and exits 0 on SIGTERM.
func TestServeFailingFile(t *testing.T) {
	whole := makeFile(t, "-f", "lavfi", "-i", "testsrc2=size=320x240:rate=25", "-t", "6",
		"-c:v", "libx264", "-g", "25", "-pix_fmt", "yuv420p", "-movflags", "+faststart", "whole.mp4")
	b, err := os.ReadFile(whole)
	if err != nil {
		t.Fatal(err)
	}
	cut := whole + ".cut.mp4"
	if err := os.WriteFile(cut, b[:len(b)/2], 0o644); err != nil {
		t.Fatal(err)
	}
	data := t.TempDir()
	s := startServer(t, data, freeAddr(t), "--input", cut, "--fps", "25")
	pollUntil(t, "the stream to fail", time.Minute, func() bool { st, _ := s.streamState(); return st == "failed" })
	_, reason := s.streamState()
	if !strings.Contains(reason, "file") {
		t.Errorf("reason %q, want libav's error on the file", reason)
	}

	pl := endedPlaylist(t, s, data)
	var pts []clock.Ticks
	got := decodedPTS(t, pl, data)
	for _, seg := range segments(pl) {
		pts = append(pts, got[seg.SeqId]...)
	}
	// The file's first half holds 3 s of its 6: at least 2 s of it is
	// written before libav meets the cut.
	if len(pts) < 50 {
		t.Fatalf("the segments decode to %d frames, want the 2 s or more read before the cut", len(pts))
	}
	for i := 1; i < len(pts); i++ {
		if pts[i]-pts[i-1] != 3600 {
			t.Fatalf("frame %d: PTS %d after %d, want a step of 3600", i, pts[i], pts[i-1])
		}
	}

	if code, body := s.get("/readyz"); code != http.StatusServiceUnavailable || !strings.Contains(string(body), "failed") {
		t.Errorf("/readyz of a failed stream: %d %s, want 503 saying it failed", code, body)
	}
	if s.cmd.ProcessState != nil {
		t.Fatalf("the server exited when its input failed:\n%s", s.log)
	}
	if code, _ := s.get("/streams/demo/" + segments(pl)[0].URI); code != http.StatusOK {
		t.Errorf("after the input failed the first segment answers HTTP %d", code)
	}
	s.stop(t, syscall.SIGTERM) // fails the test unless the exit is 0
	if log := s.log.String(); !strings.Contains(log, "level=ERROR") || !strings.Contains(log, reason) {
		t.Errorf("the failure was not logged at error level:\n%s", log)
	}
}
