package playlist_test

import (
	"testing"
	"time"

	"github.com/hlsmark/hlsmark/pipeline/clock"
	"github.com/hlsmark/hlsmark/pipeline/media"
	"github.com/hlsmark/hlsmark/playlist"
)

// TestLocateParts locates PTS by their part: in a listed segment, and in
// the listed parts of the segment being written, where the segment's first
// PTS is its first part's start. Segment 0 (1 s) is listed, segment 1 has
// parts 0 (200 ms) and 1 (150 ms) listed. Expectations are written out in
// ticks from the segments' known starts (12345, and 12345 + 90000).
// Checked to fail with the pending parts not looked at (Locate of segment
// 1's PTS false) and with the part index off by one.
func TestLocateParts(t *testing.T) {
	p, mk := partsPlaylist(t, 8*time.Second)
	var start clock.Ticks = 12345
	for i := range 5 {
		if err := p.AddPart(media.Part{Seq: 0, Index: i, Start: start + clock.Ticks(i)*18000, Duration: 18000, Independent: i == 0}); err != nil {
			t.Fatal(err)
		}
	}
	add(t, p, mk.make(time.Second))
	flush(t, p)
	next := start + 90000
	for i, d := range []clock.Ticks{18000, 13500} {
		if err := p.AddPart(media.Part{Seq: 1, Index: i, Start: next + clock.Ticks(i)*18000, Duration: d, Independent: i == 0}); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range []struct {
		name string
		pts  clock.Ticks
		want playlist.Position
		ok   bool
	}{
		{"first frame of segment 0", 12345, playlist.Position{Seq: 0, Offset: 0, Part: 0, PartKnown: true}, true},
		{"last tick of part 0.2", 12345 + 53999, playlist.Position{Seq: 0, Offset: 53999, Part: 2, PartKnown: true}, true},
		{"start of part 0.3", 12345 + 54000, playlist.Position{Seq: 0, Offset: 54000, Part: 3, PartKnown: true}, true},
		{"start of part 1.1, segment 1 not listed", 102345 + 18000, playlist.Position{Seq: 1, Offset: 18000, Part: 1, PartKnown: true}, true},
		{"last tick of part 1.1", 102345 + 31499, playlist.Position{Seq: 1, Offset: 31499, Part: 1, PartKnown: true}, true},
		{"after the last listed part", 102345 + 31500, playlist.Position{}, false},
		{"before the window", 12344, playlist.Position{}, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, ok := p.Locate(c.pts)
			if ok != c.ok || got != c.want {
				t.Errorf("Locate(%d) = %+v, %v; want %+v, %v", c.pts, got, ok, c.want, c.ok)
			}
		})
	}
}

// TestLocateWithoutParts gives no part for a playlist without parts.
func TestLocateWithoutParts(t *testing.T) {
	p, mk := newPlaylist(t, playlist.Config{Window: 8 * time.Second, Target: time.Second})
	add(t, p, mk.make(time.Second))
	flush(t, p)
	got, ok := p.Locate(12345 + 100)
	if !ok || got != (playlist.Position{Seq: 0, Offset: 100}) {
		t.Errorf("Locate = %+v, %v; want segment 0, offset 100, no part", got, ok)
	}
}
