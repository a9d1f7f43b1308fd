package main

import (
	"bytes"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hlsmark/hlsmark/muxer/segread"
	"github.com/hlsmark/hlsmark/pipeline/media"
	"github.com/hlsmark/hlsmark/pipeline/pipelinetest"
)

// TestRestartAfterKillBeforeSave leaves the stream folder as a kill between
// a segment's rename and the playlist's save leaves it: one complete
// segment file past the last one listed. The next run removes it (it was
// never listed, so never served), says so in its log, takes its number
// for its own first segment, and publishes; every listed segment decodes.
func TestRestartAfterKillBeforeSave(t *testing.T) {
	t.Parallel()
	data, addr := t.TempDir(), freeAddr(t)
	dir := filepath.Join(data, "demo")
	s := startServer(t, data, addr)
	pollUntil(t, "3 segments", 60*time.Second, func() bool { return len(listedOnDisk(t, dir)) >= 3 })
	s.stop(t, syscall.SIGKILL)

	listed := listedOnDisk(t, dir)
	last := listed[len(listed)-1]
	orphan := media.SegmentName(last + 1)
	b, err := os.ReadFile(filepath.Join(dir, media.SegmentName(last)))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, orphan), b, 0o644); err != nil {
		t.Fatal(err)
	}

	s = startServer(t, data, addr)
	pollUntil(t, "two segments past the orphan's number", 30*time.Second, func() bool {
		now := listedOnDisk(t, dir)
		return len(now) > 0 && now[len(now)-1] >= last+2
	})
	for _, seq := range listedOnDisk(t, dir) {
		if seq <= last {
			continue
		}
		if seq == last+1 {
			if got, _ := os.ReadFile(filepath.Join(dir, orphan)); bytes.Equal(got, b) {
				t.Errorf("segment %d is still the orphan file, listed", seq)
			}
		}
		if _, err := segread.Decode(filepath.Join(dir, media.SegmentName(seq)), func(segread.Frame) error { return nil }); err != nil {
			t.Errorf("listed segment %d: %v", seq, err)
		}
	}
	s.stop(t, syscall.SIGTERM)
	if log := s.log.String(); !strings.Contains(log, "reconciled") || !strings.Contains(log, orphan) {
		t.Errorf("the restart's log does not tell of removing %s:\n%s", orphan, log)
	}
}

// listedOnDisk reads the playlist file in dir and returns the sequence
// numbers it lists, or nil while there is none.
func listedOnDisk(t *testing.T, dir string) []media.Seq {
	t.Helper()
	segs, _ := pipelinetest.ReadPlaylist(t, dir)
	var out []media.Seq
	for _, s := range segs {
		out = append(out, s.Seq)
	}
	return out
}

// TestRestartWithMoreMarkersThanTheCap posts more markers than the
// playlist lists (--max-dateranges 3), kills the server and starts it
// again: it starts, publishes, and the API still has every marker.
func TestRestartWithMoreMarkersThanTheCap(t *testing.T) {
	t.Parallel()
	data, addr := t.TempDir(), freeAddr(t)
	args := []string{"--max-dateranges", "3", "--event-every", "1h"}
	s := startServer(t, data, addr, args...)
	pollUntil(t, "a segment", 60*time.Second, func() bool { pl, err := s.playlist(); return err == nil && pl != nil && len(segments(pl)) > 0 })
	posted := 0
	for i := range 8 {
		at := time.Now().Add(-300 * time.Millisecond).UTC().Format(time.RFC3339Nano)
		if code, _ := s.post(`{"label":"m` + strconv.Itoa(i) + `","time":"` + at + `"}`); code == http.StatusCreated {
			posted++
		}
	}
	if posted != 8 {
		t.Fatalf("%d of 8 posts answered 201", posted)
	}
	s.stop(t, syscall.SIGKILL)
	s = startServer(t, data, addr, args...)
	before := len(listedOnDisk(t, filepath.Join(data, "demo")))
	pollUntil(t, "the restart to publish", 30*time.Second, func() bool { return len(listedOnDisk(t, filepath.Join(data, "demo"))) > before })
	if n := len(s.markers(t)); n < posted {
		t.Errorf("the API lists %d markers after the restart, want the %d posted", n, posted)
	}
	s.stop(t, syscall.SIGTERM)
}
