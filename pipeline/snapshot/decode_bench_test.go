package snapshot_test

import (
	"context"
	"testing"

	"github.com/hlsmark/hlsmark/pipeline/clock"
	"github.com/hlsmark/hlsmark/pipeline/media"
	"github.com/hlsmark/hlsmark/pipeline/pipelinetest"
	"github.com/hlsmark/hlsmark/pipeline/snapshot"
)

// BenchmarkDecodedThumbnail is what a posted marker's thumbnail costs at
// 1280x720 when its frame is the last of a one-second segment: decoding
// the whole segment, then RGBA and the JPEG.
func BenchmarkDecodedThumbnail(b *testing.B) {
	r := pipelinetest.Start(b, pipelinetest.Config{Size: media.Size{Width: 1280, Height: 720}, Frames: 60, Preset: "veryfast"})
	seg := r.Segments[0]
	var last clock.Ticks
	for _, p := range r.PTS {
		if seg.Contains(p) {
			last = p
		}
	}
	fr := snapshot.NewFrames(snapshot.Config{Dir: b.TempDir(), Size: media.Size{Width: 1280, Height: 720}, Segment: r.Playlist.SegmentAt})
	for b.Loop() {
		if _, err := fr.JPEG(context.Background(), last, false, 0); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(seg.Frames), "frames/segment")
}
