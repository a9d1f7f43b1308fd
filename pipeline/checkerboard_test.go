package pipeline_test

import (
	"context"
	"testing"
	"time"

	"github.com/hlsmark/hlsmark/pipeline"
	"github.com/hlsmark/hlsmark/pipeline/clock"
	"github.com/hlsmark/hlsmark/pipeline/media"
	"github.com/hlsmark/hlsmark/pipeline/pipelinetest"
)

// TestCheckerboardCatchesUpShortDelays delays one wake-up by less than the
// catch-up bound (every frame is still made, none counted late) and one by
// far more (the missed frames are dropped and counted, not burst out).
func TestCheckerboardCatchesUpShortDelays(t *testing.T) {
	for _, c := range []struct {
		name  string
		delay time.Duration
		late  uint64
	}{
		{"a 60 ms hiccup is caught up", 60 * time.Millisecond, 0},
		{"a 1 s stall drops the 30 frames it missed", time.Second, 30},
	} {
		t.Run(c.name, func(t *testing.T) {
			wakes := 0
			clk := clock.NewFake(pipelinetest.Epoch, func() time.Duration {
				wakes++
				if wakes == 10 {
					return c.delay
				}
				return 0
			})
			src, err := pipeline.NewCheckerboard(pipeline.CheckerboardConfig{
				Size: media.Size{Width: 64, Height: 48}, FPS: 30, Block: 16,
				EventEvery: 5 * time.Second, EventDuration: time.Second,
			}, clk, clock.Timeline{Epoch: pipelinetest.Epoch})
			if err != nil {
				t.Fatal(err)
			}
			f := pipeline.NewFrame(src.Size())
			var last clock.Ticks
			for i := range 60 {
				if err := src.Next(context.Background(), f); err != nil {
					t.Fatal(err)
				}
				if i > 0 && f.PTS <= last {
					t.Fatalf("frame %d at %d after %d", i, f.PTS, last)
				}
				last = f.PTS
			}
			if got := src.Late(); got != c.late {
				t.Fatalf("Late() = %d, want %d", got, c.late)
			}
		})
	}
}
