//go:build cgo

package marker_test

import (
	"context"
	"testing"
	"time"

	"github.com/hlsmark/hlsmark/muxer/segread"
	"github.com/hlsmark/hlsmark/pipeline/clock"
	"github.com/hlsmark/hlsmark/pipeline/pipelinetest"
)

// TestAcrossTheTSWrap runs the stream across the point where MPEG-TS
// timestamps wrap (2^33 ticks, 26.5 hours in): the TS carries every frame's
// PTS modulo 2^33, while markers, their offsets and program date times stay
// exact on the unwrapped timeline.
func TestAcrossTheTSWrap(t *testing.T) {
	start := clock.Wrap - 2*clock.Hz
	r := pipelinetest.Start(t, pipelinetest.Config{
		Start: start, Frames: 150, Jitter: 5 * time.Millisecond, Seed: 4,
		EventEvery: 1500 * time.Millisecond, EventDuration: 400 * time.Millisecond,
	})
	if r.PTS[0] >= clock.Wrap || r.PTS[len(r.PTS)-1] < clock.Wrap+clock.Hz {
		t.Fatalf("frames from %d to %d do not cross the wrap at %d", r.PTS[0], r.PTS[len(r.PTS)-1], clock.Wrap)
	}
	var decoded []clock.Ticks
	for _, seg := range r.Segments {
		if _, err := segread.Decode(seg.Path, func(f segread.Frame) error {
			decoded = append(decoded, f.PTS)
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	}
	if len(decoded) != len(r.PTS) {
		t.Fatalf("decoded %d frames of %d", len(decoded), len(r.PTS))
	}
	for i := range decoded {
		if decoded[i].TS() != r.PTS[i].TS() {
			t.Fatalf("frame %d: TS carries %d, generator PTS %d is %d modulo 2^33", i, decoded[i].TS(), r.PTS[i], r.PTS[i].TS())
		}
	}

	listed := listedSegments(t, r.Dir)
	events := r.Source.Events()
	ms, err := r.Store.List(context.Background(), pipelinetest.Stream, 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	if len(ms) != len(events) || len(ms) < 2 {
		t.Fatalf("%d markers for %d events", len(ms), len(events))
	}
	for i, m := range ms {
		if m.PTS != events[i].FirstPTS {
			t.Errorf("marker %d at %d, event at %d", m.ID, m.PTS, events[i].FirstPTS)
		}
		pos, ok := r.Markers.Position(m.PTS)
		if !ok {
			t.Fatalf("marker %d has no position", m.ID)
		}
		// The file listed for the marker's sequence holds a frame whose TS
		// PTS is the marker's modulo 2^33, at the marker's offset from the
		// file's first frame (counted modulo 2^33, as a player must; libav
		// reads PTS just before the wrap as negative).
		var found, started bool
		var start clock.Ticks
		if _, err := segread.Decode(listed[pos.Seq].Path, func(f segread.Frame) error {
			if !started {
				start, started = f.PTS, true
			}
			if wrapped(f.PTS) == m.PTS.TS() && wrapped(f.PTS-start) == pos.Offset {
				found = true
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		if !found {
			t.Errorf("marker %d: no frame with TS PTS %d at offset %d in %s", m.ID, m.PTS.TS(), pos.Offset, listed[pos.Seq].Path)
		}
		// Its program date time is the segment's EXT-X-PROGRAM-DATE-TIME
		// (written to the millisecond) plus the offset.
		want := listed[pos.Seq].PDT.Add(pos.Offset.Duration())
		if d := r.Timeline.Time(m.PTS).Sub(want); d < -time.Millisecond || d > time.Millisecond {
			t.Errorf("marker %d program date time %v, playlist's PDT plus offset %v", m.ID, r.Timeline.Time(m.PTS), want)
		}
	}
}

// wrapped returns t modulo 2^33, in [0, 2^33).
func wrapped(t clock.Ticks) clock.Ticks { return (t%clock.Wrap + clock.Wrap) % clock.Wrap }
