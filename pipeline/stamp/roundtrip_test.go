package stamp_test

import (
	"slices"
	"testing"
	"time"

	"github.com/hlsmark/hlsmark/muxer/segread"
	"github.com/hlsmark/hlsmark/pipeline/clock"
	"github.com/hlsmark/hlsmark/pipeline/media"
	"github.com/hlsmark/hlsmark/pipeline/pipelinetest"
	"github.com/hlsmark/hlsmark/pipeline/stamp"
)

// TestRoundTrip streams the stamped checkerboard through libx264 at
// veryfast and the MPEG-TS muxer, as serve does, across the 33-bit wrap,
// decodes every segment back with libav, and reads every frame's strip:
// each holds its frame's PTS as the TS carries it, and the frames read are
// the frames the source made.
func TestRoundTrip(t *testing.T) {
	for _, size := range []media.Size{{Width: 640, Height: 360}, {Width: 1280, Height: 720}} {
		t.Run(size.String(), func(t *testing.T) {
			run := pipelinetest.Start(t, pipelinetest.Config{
				Size: size, Frames: 75, Preset: "veryfast", Stamp: true,
				Start: clock.Wrap - clock.FromDuration(time.Second),
			})
			var read []clock.Ticks
			for _, seg := range run.Segments {
				_, err := segread.Decode(seg.Path, func(f segread.Frame) error {
					pts, err := stamp.Read(f.Image)
					if err != nil {
						t.Errorf("segment %d, frame at TS PTS %d: %v", seg.Seq, f.PTS, err)
						return nil
					}
					// libav may unwrap the TS timestamps it reads: compare
					// them modulo 2^33.
					if pts != f.PTS.TS() {
						t.Errorf("segment %d: the frame at TS PTS %d shows %d", seg.Seq, f.PTS.TS(), pts)
					}
					read = append(read, pts)
					return nil
				})
				if err != nil {
					t.Fatal(err)
				}
			}
			var made []clock.Ticks
			for _, p := range run.PTS {
				made = append(made, p.TS())
			}
			if !slices.Equal(read, made) {
				t.Errorf("read %d stamps %v\nthe source made %d frames %v", len(read), read, len(made), made)
			}
			if made[0] < made[len(made)-1] {
				t.Errorf("the run did not cross the wrap: %d to %d", made[0], made[len(made)-1])
			}
		})
	}
}
