package muxer_test

import (
	"bytes"
	"testing"
	"time"

	"github.com/grafov/m3u8"

	"github.com/hlsmark/hlsmark/muxer"
	"github.com/hlsmark/hlsmark/pipeline/media"
	"github.com/hlsmark/hlsmark/playlist"
)

// TestLateFramesKeepTargetDuration makes the generator clock wake 1.2 s
// late three times, inside segments, as a stalled source would. No
// segment may then outgrow the 1 s target: the playlist keeps
// EXT-X-TARGETDURATION 1 and every EXTINF rounds to at most 1 (RFC 8216,
// section 4.3.3.1), each segment after a stall is a discontinuity, and no
// frame is lost.
func TestLateFramesKeepTargetDuration(t *testing.T) {
	dir := t.TempDir()
	pl, err := playlist.New(playlist.Config{Dir: dir, Window: time.Hour, Grace: 2 * time.Hour, Target: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	stalls := map[int]bool{20: true, 75: true, 130: true}
	r := runMuxer(t, runConfig{dir: dir, frames: 180,
		late: func(wait int) time.Duration {
			return map[bool]time.Duration{true: 1200 * time.Millisecond}[stalls[wait]]
		},
		publish: func(s media.Segment) error { return pl.Add(s) },
	})
	if err := pl.Flush(); err != nil { // the last segment published
		t.Fatal(err)
	}
	p, _, err := m3u8.DecodeFrom(bytes.NewReader(pl.Encoded()), true)
	if err != nil {
		t.Fatal(err)
	}
	mp := p.(*m3u8.MediaPlaylist)
	if mp.TargetDuration != 1 {
		t.Errorf("EXT-X-TARGETDURATION %v, want 1 throughout", mp.TargetDuration)
	}
	discontinuities := 0
	for _, s := range mp.Segments {
		if s == nil {
			continue
		}
		if s.Duration >= 1.5 {
			t.Errorf("segment %s lasts %.3f s: rounded, more than the target", s.URI, s.Duration)
		}
		if s.Discontinuity {
			discontinuities++
		}
	}
	if discontinuities != len(stalls) {
		t.Errorf("%d discontinuities for %d stalls", discontinuities, len(stalls))
	}
	// Every frame made is in the files, at its PTS.
	var got int
	for _, s := range r.segments {
		got += len(decode(t, s.Path).frames)
	}
	if got != len(r.pts) {
		t.Errorf("%d frames in the segments, %d made", got, len(r.pts))
	}
	if want := muxer.Longest(time.Second).Duration(); want != 1499*time.Millisecond {
		t.Errorf("Longest(1s) = %s, want 1.499s", want)
	}
}
