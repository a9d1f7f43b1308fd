package clip

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/hlsmark/hlsmark/pipeline/clock"
	"github.com/hlsmark/hlsmark/pipeline/media"
	"github.com/hlsmark/hlsmark/pipeline/pipelinetest"
)

// TestWaitsForASlot fills every slot: a clip asked for then waits, and
// gives up with its context without touching a segment; once a slot is
// free it is cut.
func TestWaitsForASlot(t *testing.T) {
	run := pipelinetest.Start(t, pipelinetest.Config{Frames: 60})
	looked := 0
	c := New(func(pts clock.Ticks) (media.Segment, bool) {
		looked++
		return run.Playlist.SegmentAt(pts)
	})
	path := filepath.Join(t.TempDir(), "clip.mp4")
	for range maxClips {
		slots <- struct{}{}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err := c.MP4(ctx, path, run.PTS[0], run.PTS[30])
	for range maxClips {
		<-slots
	}
	if !errors.Is(err, context.Canceled) || looked != 0 {
		t.Fatalf("with every slot taken: %v after looking for %d segments, want context.Canceled before looking", err, looked)
	}
	if err := c.MP4(context.Background(), path, run.PTS[0], run.PTS[30]); err != nil {
		t.Fatalf("with a slot free: %v", err)
	}
	if fi, err := os.Stat(path); err != nil || fi.Size() == 0 {
		t.Fatalf("the clip: %v", err)
	}
}

// TestHonoursContext cancels the request once the clip has begun: the cut
// stops with the context's error.
func TestHonoursContext(t *testing.T) {
	run := pipelinetest.Start(t, pipelinetest.Config{Frames: 90, Segment: time.Second})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	c := New(func(pts clock.Ticks) (media.Segment, bool) {
		cancel() // the client leaves as the segments are looked for
		return run.Playlist.SegmentAt(pts)
	})
	err := c.MP4(ctx, filepath.Join(t.TempDir(), "clip.mp4"), run.PTS[10], run.PTS[80])
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v, want context.Canceled", err)
	}
	if len(slots) != 0 {
		t.Fatalf("%d slots still taken", len(slots))
	}
}
