package pipeline_test

import (
	"context"
	"image"
	"testing"
	"time"

	"github.com/hlsmark/hlsmark/pipeline"
	"github.com/hlsmark/hlsmark/pipeline/clock"
	"github.com/hlsmark/hlsmark/pipeline/media"
)

// TestDetectorMatchesGroundTruth runs the detector over 20 s of the
// checkerboard and requires one Opened and one Closed detection per
// generator event, at the event's first and end PTS, with the event's
// square, exactly, as the box (squares are 53 px, off the sampling grid).
func TestDetectorMatchesGroundTruth(t *testing.T) {
	size := media.Size{Width: 640, Height: 480}
	tl := clock.Timeline{Epoch: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	src, err := pipeline.NewCheckerboard(pipeline.CheckerboardConfig{
		Size: size, FPS: 30, Block: 53, EventEvery: 3 * time.Second, EventDuration: time.Second, Seed: 5,
	}, clock.NewFake(tl.Epoch, nil), tl)
	if err != nil {
		t.Fatal(err)
	}
	f := pipeline.NewFrame(size)
	var det pipeline.MintDetector
	var got []media.Detection
	for range 20 * 30 {
		if err := src.Next(context.Background(), f); err != nil {
			t.Fatal(err)
		}
		if d, ok := det.Inspect(f); ok {
			got = append(got, d)
		}
	}
	events := src.Events()
	if len(events) < 3 {
		t.Fatalf("%d events in 20 s, want at least 3", len(events))
	}
	for i, e := range events {
		if e.EndPTS == 0 {
			continue // still showing when the run stopped
		}
		if 2*i+1 >= len(got) {
			t.Fatalf("event %d: no detections", e.ID)
		}
		open, closed := got[2*i], got[2*i+1]
		if open.Kind != media.Opened || open.Start != e.FirstPTS || closed.Kind != media.Closed || closed.End != e.EndPTS {
			t.Fatalf("event %d (%d..%d): detections %+v, %+v", e.ID, e.FirstPTS, e.EndPTS, open, closed)
		}
		cell := image.Rect(e.Col*53, e.Row*53, (e.Col+1)*53, (e.Row+1)*53)
		if open.Box != cell.Intersect(image.Rect(0, 0, size.Width, size.Height)) {
			t.Fatalf("event %d: box %v, square %v", e.ID, open.Box, cell)
		}
	}
}
