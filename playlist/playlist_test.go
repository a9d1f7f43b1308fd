package playlist_test

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hlsmark/hlsmark/pipeline/clock"
	"github.com/hlsmark/hlsmark/pipeline/media"
	"github.com/hlsmark/hlsmark/playlist"
)

// casesWindow are runs of segment durations against a DVR window.
var casesWindow = []struct {
	name   string
	window time.Duration
	durs   []time.Duration
}{
	{"even segments", 5 * time.Second, seconds(1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1)},
	{"uneven segments", 4 * time.Second, seconds(1.2, 0.8, 2.5, 1, 1, 0.4, 3, 1, 1, 1, 0.9)},
	{"segment longer than the window", 3 * time.Second, seconds(1, 1, 7, 1, 1, 1, 1)},
	{"window of one segment", 2 * time.Second, seconds(2, 2, 2, 2)},
}

// TestWindowSlides adds segments one by one and, after each, reads the
// playlist back with grafov/m3u8: it lists a run of the newest segments
// that spans the window once that much was recorded, and no more than that
// (without its oldest segment it would span less); MEDIA-SEQUENCE is the
// first listed segment's and rises by the number that left; every EXTINF,
// URI and PROGRAM-DATE-TIME is its segment's (the date rounded down to the
// millisecond, see playlist.FormatTime).
func TestWindowSlides(t *testing.T) {
	for _, c := range casesWindow {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			p, mk := newPlaylist(t, playlist.Config{Dir: dir, Window: c.window, Grace: time.Hour, Target: 7 * time.Second})
			window := clock.FromDuration(c.window)
			var added []media.Segment
			var recorded clock.Ticks
			prevSeq, prevLen := uint64(0), 0
			for i, d := range c.durs {
				s := mk.make(d)
				add(t, p, s)
				added = append(added, s)
				recorded += s.Duration

				listed := p.Segments()
				if len(listed) == 0 || len(listed) > len(added) {
					t.Fatalf("after %d segments, %d listed", len(added), len(listed))
				}
				var span clock.Ticks
				for j, l := range listed {
					if want := added[len(added)-len(listed)+j]; l != want {
						t.Fatalf("after segment %d, listed[%d] is %+v, want %+v: not the newest segments in order", i, j, l, want)
					}
					span += l.Duration
				}
				if recorded >= window && span < window {
					t.Errorf("after segment %d the playlist spans %v, less than the window %v", i, span.Duration(), c.window)
				}
				if len(listed) > 1 && span-listed[0].Duration >= window {
					t.Errorf("after segment %d the playlist spans %v and would still span the window %v without segment %d",
						i, span.Duration(), c.window, listed[0].Seq)
				}

				media, segs := decodeStrict(t, p.Encoded())
				if media.SeqNo != uint64(listed[0].Seq) {
					t.Errorf("EXT-X-MEDIA-SEQUENCE %d, first listed segment %d", media.SeqNo, listed[0].Seq)
				}
				if dropped := prevLen + 1 - len(listed); media.SeqNo != prevSeq+uint64(dropped) {
					t.Errorf("EXT-X-MEDIA-SEQUENCE went from %d to %d while %d segments left", prevSeq, media.SeqNo, dropped)
				}
				prevSeq, prevLen = media.SeqNo, len(listed)
				if media.Closed || len(segs) != len(listed) {
					t.Fatalf("grafov reads %d segments (closed %v), %d are listed:\n%s", len(segs), media.Closed, len(listed), p.Encoded())
				}
				for j, g := range segs {
					l := listed[j]
					if g.URI != l.Name() || math.Abs(g.Duration-l.Duration.Seconds()) > 0.0005 {
						t.Errorf("entry %d is %q for %.4f s, want %q for %.4f s", j, g.URI, g.Duration, l.Name(), l.Duration.Seconds())
					}
					checkPDT(t, l.Name(), g.ProgramDateTime, l.Start)
				}
				checkOnDisk(t, dir, p)
			}
			if last := p.Segments(); last[0].Seq == 0 {
				t.Fatalf("the window never slid: the case tests nothing")
			}
		})
	}
}

// casesTarget are runs of segment durations against a configured target:
// EXT-X-TARGETDURATION is the target rounded up to whole seconds and never
// changes (RFC 8216, section 6.2.1). A segment whose EXTINF, rounded to
// the nearest second, exceeds it breaks section 4.3.3.1: Add lists it and
// returns an error saying so (tooLong lists those segments by index).
var casesTarget = []struct {
	name    string
	target  time.Duration
	durs    []time.Duration
	want    float64
	tooLong []int
}{
	{"segments near the target", 2 * time.Second, seconds(2, 2.033, 1.967, 2.04), 2, nil},
	{"fractional target rounds up", 1500 * time.Millisecond, seconds(1.5, 1.533, 1.5), 2, nil},
	{"long segment does not raise it", 2 * time.Second, seconds(2, 2, 4.6, 2, 2, 2, 2), 2, []int{2}},
	{"rounded to nearest, not up", 2 * time.Second, seconds(2.4, 2.49), 2, nil},
	{"half rounds up", 2 * time.Second, seconds(2.5), 2, []int{0}},
	{"written as a half", 2 * time.Second, seconds(2.4999), 2, []int{0}},
}

func TestTargetDuration(t *testing.T) {
	for _, c := range casesTarget {
		t.Run(c.name, func(t *testing.T) {
			p, mk := newPlaylist(t, playlist.Config{Window: 4 * time.Second, Grace: time.Hour, Target: c.target})
			for i, d := range c.durs {
				s := mk.make(d)
				err := p.Add(s)
				if wantErr := slices.Contains(c.tooLong, i); wantErr != (err != nil) ||
					err != nil && (!strings.Contains(err.Error(), "4.3.3.1") || !strings.Contains(err.Error(), fmt.Sprint("segment ", s.Seq))) {
					t.Errorf("Add of a %v segment: %v; want an error naming it and RFC 8216 4.3.3.1: %v", d, err, wantErr)
				}
				flush(t, p)
				if target := targetDuration(t, p.Encoded()); target != c.want {
					t.Errorf("after a %v segment: EXT-X-TARGETDURATION %v, want %v", d, target, c.want)
				}
				if got := p.TargetDuration(); got != time.Duration(c.want)*time.Second {
					t.Errorf("after a %v segment: TargetDuration() %v, want %vs", d, got, c.want)
				}
				if _, segs := decodeStrict(t, p.Encoded()); segs[len(segs)-1].URI != s.Name() {
					t.Errorf("the %v segment is not listed", d)
				}
			}
		})
	}
}

// TestGraceDeletion moves a fake wall clock one second per segment and
// checks every segment that left the window: while its grace period runs,
// its file stays and Playlist.Segment still hands it out (the server serves
// it); from the deadline on, its file is gone and Segment refuses it. The
// two cases put the deadline on an Add and one nanosecond after one.
func TestGraceDeletion(t *testing.T) {
	for _, grace := range []time.Duration{10 * time.Second, 10*time.Second + 1} {
		t.Run(grace.String(), func(t *testing.T) {
			clk := &wallClock{now: timeline.Epoch}
			p, mk := newPlaylist(t, playlist.Config{Window: 2 * time.Second, Grace: grace, Target: time.Second, Now: clk.Now})
			var all []media.Segment
			left := map[media.Seq]time.Time{} // when each segment left the window
			var inGrace, deleted int
			for i := range 20 {
				clk.now = timeline.Epoch.Add(time.Duration(i) * time.Second)
				s := mk.make(time.Second)
				all = append(all, s)
				add(t, p, s)
				first := p.Segments()[0].Seq
				for _, s := range all {
					_, statErr := os.Stat(s.Path)
					got, ok := p.Segment(s.Seq)
					if s.Seq >= first {
						if statErr != nil || !ok || got != s {
							t.Fatalf("%s is listed but its file (%v) or Segment (%v) is gone", s.Name(), statErr, ok)
						}
						continue
					}
					if _, seen := left[s.Seq]; !seen {
						left[s.Seq] = clk.now
					}
					if deadline := left[s.Seq].Add(grace); clk.now.Before(deadline) {
						inGrace++
						if statErr != nil || !ok || got != s {
							t.Errorf("at %v, %s is in its grace period until %v, but its file (%v) or Segment (%v) is gone",
								clk.now.Sub(timeline.Epoch), s.Name(), deadline.Sub(timeline.Epoch), statErr, ok)
						}
					} else {
						deleted++
						if !errors.Is(statErr, os.ErrNotExist) || ok {
							t.Errorf("at %v, %s is past its deadline %v but its file is there (%v) or Segment has it (%v)",
								clk.now.Sub(timeline.Epoch), s.Name(), deadline.Sub(timeline.Epoch), statErr, ok)
						}
					}
				}
			}
			if inGrace == 0 || deleted == 0 {
				t.Fatalf("%d checks in grace, %d after deletion: the run is too short", inGrace, deleted)
			}
		})
	}
}

// TestClose checks EXT-X-ENDLIST: absent while live, present after Close,
// with the same segments listed and their files kept; no Add after it; a
// date range set after it follows it.
func TestClose(t *testing.T) {
	dir := t.TempDir()
	p, mk := newPlaylist(t, playlist.Config{Dir: dir, Window: 10 * time.Second, Grace: 0, Target: time.Second})
	for range 3 {
		add(t, p, mk.make(time.Second))
	}
	if media, _ := decodeStrict(t, p.Encoded()); media.Closed || p.Closed() || bytes.Contains(p.Encoded(), []byte("ENDLIST")) {
		t.Fatalf("a live playlist is closed:\n%s", p.Encoded())
	}
	live := p.Segments()
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	media, segs := decodeStrict(t, p.Encoded())
	if !media.Closed || !p.Closed() || !bytes.HasSuffix(p.Encoded(), []byte("\n#EXT-X-ENDLIST\n")) {
		t.Fatalf("after Close the playlist does not end with EXT-X-ENDLIST:\n%s", p.Encoded())
	}
	if len(segs) != len(live) {
		t.Fatalf("Close changed the listing from %d to %d segments", len(live), len(segs))
	}
	for _, s := range live {
		if _, err := os.Stat(s.Path); err != nil {
			t.Errorf("Close removed %s: %v", s.Name(), err)
		}
	}
	checkOnDisk(t, dir, p)
	before := p.Encoded()
	if err := p.Add(mk.make(time.Second)); err == nil || !bytes.Equal(p.Encoded(), before) {
		t.Fatalf("Add after Close: %v, playlist changed %v", err, !bytes.Equal(p.Encoded(), before))
	}
	// A marker closed as the stream stopped gets its tag after ENDLIST:
	// the ended playlist stays as served, with one line appended.
	setRanges(t, p, playlist.DateRange{ID: "cut", Start: live[2].Start, Duration: time.Second, Label: "cut"})
	if lines := checkAppended(t, before, p.Encoded()); len(lines) != 1 || !strings.HasPrefix(lines[0], "#EXT-X-DATERANGE:") {
		t.Fatalf("setting a range after Close appended %q", lines)
	}
	if media, _ := decodeStrict(t, p.Encoded()); !media.Closed {
		t.Fatalf("the playlist is no longer closed:\n%s", p.Encoded())
	}
	checkOnDisk(t, dir, p)
}

// TestAddRejectsGap refuses a segment that does not follow the last one.
func TestAddRejectsGap(t *testing.T) {
	p, mk := newPlaylist(t, playlist.Config{Window: 10 * time.Second, Target: time.Second})
	add(t, p, mk.make(time.Second))
	mk.next++ // skip one
	if err := p.Add(mk.make(time.Second)); err == nil {
		t.Fatal("Add accepted segment 2 after segment 0")
	}
	flush(t, p)
	if segs := p.Segments(); len(segs) != 1 || segs[0].Seq != 0 {
		t.Fatalf("after a refused Add the window is %+v", segs)
	}
}

// TestLocate finds the segment and offset of PTS values at the edges of
// hand-made segments; PTS outside the window are not found.
func TestLocate(t *testing.T) {
	p, mk := newPlaylist(t, playlist.Config{Window: 4 * time.Second, Grace: time.Hour, Target: 2 * time.Second})
	var segs []media.Segment
	for _, d := range seconds(1, 1.5, 0.5, 2, 1) {
		segs = append(segs, mk.make(d))
		add(t, p, segs[len(segs)-1])
	}
	if p.Segments()[0].Seq != 1 {
		t.Fatalf("window starts at %d, the test wants segment 0 out of it", p.Segments()[0].Seq)
	}
	cases := []struct {
		name string
		pts  clock.Ticks
		seq  media.Seq
		ok   bool
	}{
		{"left the window", segs[0].FirstPTS, 0, false},
		{"last tick before the window", segs[1].FirstPTS - 1, 0, false},
		{"window start", segs[1].FirstPTS, 1, true},
		{"inside", segs[1].FirstPTS + 1000, 1, true},
		{"last tick of a segment", segs[2].FirstPTS - 1, 1, true},
		{"next segment", segs[2].FirstPTS, 2, true},
		{"middle", segs[3].FirstPTS + segs[3].Duration/2, 3, true},
		{"last tick", segs[4].End() - 1, 4, true},
		{"end of the window", segs[4].End(), 0, false},
		{"far future", segs[4].End() + clock.Hz*3600, 0, false},
		{"negative", -1, 0, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			pos, ok := p.Locate(c.pts)
			if ok != c.ok {
				t.Fatalf("Locate(%d) found %v, want %v", c.pts, ok, c.ok)
			}
			if ok && (pos.Seq != c.seq || pos.Offset != c.pts-segs[c.seq].FirstPTS) {
				t.Fatalf("Locate(%d) = %+v, want segment %d at offset %d", c.pts, pos, c.seq, c.pts-segs[c.seq].FirstPTS)
			}
		})
	}
}
