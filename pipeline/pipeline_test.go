package pipeline_test

import (
	"testing"
	"time"

	"github.com/hlsmark/hlsmark/muxer/segread"
	"github.com/hlsmark/hlsmark/pipeline/clock"
	"github.com/hlsmark/hlsmark/pipeline/pipelinetest"
)

// TestExactPTSAcrossSegments drives the real pipeline with a jittered
// generator clock, decodes every segment back with libav, and requires each
// decoded frame's PTS to be the generator's, tick for tick.
func TestExactPTSAcrossSegments(t *testing.T) {
	r := pipelinetest.Start(t, pipelinetest.Config{Frames: 200, Jitter: 5300 * time.Microsecond, Seed: 7})

	minGap, maxGap := clock.Ticks(1<<62), clock.Ticks(0)
	for i := 1; i < len(r.PTS); i++ {
		gap := r.PTS[i] - r.PTS[i-1]
		minGap, maxGap = min(minGap, gap), max(maxGap, gap)
	}
	if minGap.Duration() > 29*time.Millisecond || maxGap.Duration() < 38*time.Millisecond {
		t.Fatalf("frame gaps %v..%v: the fake clock's jitter did not spread frames 28-40 ms apart", minGap.Duration(), maxGap.Duration())
	}
	if len(r.Segments) < 5 {
		t.Fatalf("%d segments, want at least 5 cuts to cross", len(r.Segments))
	}

	var decoded []clock.Ticks
	for _, seg := range r.Segments {
		_, err := segread.Decode(seg.Path, func(f segread.Frame) error {
			decoded = append(decoded, f.PTS)
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if len(decoded) != len(r.PTS) {
		t.Fatalf("decoded %d frames, generated %d", len(decoded), len(r.PTS))
	}
	for i := range decoded {
		if decoded[i] != r.PTS[i] {
			t.Fatalf("frame %d: decoded PTS %d, generator PTS %d", i, decoded[i], r.PTS[i])
		}
	}
}
