package muxer_test

import (
	"bytes"
	"testing"
	"time"

	"github.com/grafov/m3u8"

	"github.com/hlsmark/hlsmark/pipeline/media"
	"github.com/hlsmark/hlsmark/playlist"
)

// TestSourceBreakStartsDiscontinuousSegment has the source mark two
// frames as breaks in its timeline (as a reconnected camera's first frame
// is), both well inside a 1 s segment. Each must start a segment of its
// own, with an IDR, marked EXT-X-DISCONTINUITY in the playlist; no other
// segment may be marked; every frame is kept.
func TestSourceBreakStartsDiscontinuousSegment(t *testing.T) {
	dir := t.TempDir()
	pl, err := playlist.New(playlist.Config{Dir: dir, Window: time.Hour, Grace: 2 * time.Hour, Target: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	breaks := map[int]bool{20: true, 71: true}
	r := runMuxer(t, runConfig{dir: dir, frames: 150, breaks: breaks,
		publish: func(s media.Segment) error { return pl.Add(s) }})
	if err := pl.Flush(); err != nil {
		t.Fatal(err)
	}
	breakAt := map[int64]int{} // a break frame's PTS → its number
	for i := range breaks {
		breakAt[int64(r.pts[i])] = i
	}
	started := map[int]bool{}
	var frames int
	for _, s := range r.segments {
		d := decode(t, s.Path)
		frames += len(d.frames)
		if len(d.frames) == 0 || !d.frames[0].Key || d.frames[0].PTS != s.FirstPTS {
			t.Fatalf("segment %d does not open with an IDR at its first PTS %d", s.Seq, s.FirstPTS)
		}
		i, isBreak := breakAt[int64(s.FirstPTS)]
		if isBreak {
			started[i] = true
		}
		if s.Discontinuity != isBreak {
			t.Errorf("segment %d (first PTS %d): discontinuity %v, starts at a break: %v", s.Seq, s.FirstPTS, s.Discontinuity, isBreak)
		}
	}
	for i := range breaks {
		if !started[i] {
			t.Errorf("frame %d broke the source's timeline; no segment starts at it", i)
		}
	}
	if frames != len(r.pts) {
		t.Errorf("%d frames in the segments, %d made", frames, len(r.pts))
	}
	p, _, err := m3u8.DecodeFrom(bytes.NewReader(pl.Encoded()), true)
	if err != nil {
		t.Fatal(err)
	}
	var marked int
	for _, s := range p.(*m3u8.MediaPlaylist).Segments {
		if s != nil && s.Discontinuity {
			marked++
		}
	}
	if marked != len(breaks) {
		t.Errorf("the playlist marks %d EXT-X-DISCONTINUITY, the source broke %d times", marked, len(breaks))
	}
}
