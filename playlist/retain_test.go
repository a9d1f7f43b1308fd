package playlist_test

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/grafov/m3u8"

	"github.com/hlsmark/hlsmark/pipeline/clock"
	"github.com/hlsmark/hlsmark/pipeline/media"
	"github.com/hlsmark/hlsmark/playlist"
)

// retainRun adds n one-second segments to p, the clock at each one's end,
// and requires after each Add that every listed segment's file is there.
func retainRun(t *testing.T, p *playlist.Playlist, m *segmentMaker, c *wallClock, n int) []media.Segment {
	t.Helper()
	var segs []media.Segment
	for range n {
		s := m.make(time.Second)
		c.now = timeline.Time(s.End())
		add(t, p, s)
		segs = append(segs, s)
		for _, l := range p.Segments() {
			if _, err := os.Stat(l.Path); err != nil {
				t.Fatalf("segment %d is listed but its file is gone: %v", l.Seq, err)
			}
		}
	}
	return segs
}

// onDisk returns the sequence numbers of the segment files in dir.
func onDisk(t *testing.T, dir string) []media.Seq {
	t.Helper()
	es, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []media.Seq
	for _, e := range es {
		if seq, ok := media.ParseSegmentName(e.Name()); ok {
			out = append(out, seq)
		}
	}
	return out
}

func seqRange(first, last media.Seq) []media.Seq {
	var out []media.Seq
	for s := first; s <= last; s++ {
		out = append(out, s)
	}
	return out
}

func sameSeqs(a, b []media.Seq) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestRetainByAge keeps segments that left a 3 s window for 10 s from
// their start: after segment 19 ends (t = 20 s), segments 11 to 19 started
// less than 10 s before and are on disk, found and served; 10 and older
// are gone. A restart keeps them (state.json records them); with no
// retention it does not.
func TestRetainByAge(t *testing.T) {
	dir := t.TempDir()
	c := &wallClock{now: timeline.Epoch}
	cfg := playlist.Config{Dir: dir, Window: 3 * time.Second, Target: time.Second, Grace: 4 * time.Second, Now: c.Now, Retain: 10 * time.Second}
	p, m := newPlaylist(t, cfg)
	segs := retainRun(t, p, m, c, 20)
	if got, want := onDisk(t, dir), seqRange(11, 19); !sameSeqs(got, want) {
		t.Fatalf("segments on disk %v, want %v", got, want)
	}
	if listed := p.Segments(); listed[0].Seq <= 11 {
		t.Fatalf("window starts at %d: it should have slid past the retained ones", listed[0].Seq)
	}
	if _, ok := p.Segment(11); !ok {
		t.Error("retained segment 11 is not found")
	}
	if pos, ok := p.Retained(segs[11].FirstPTS + 100); !ok || pos.Seq != 11 || pos.Offset != 100 {
		t.Errorf("Retained(pts in segment 11) = %+v, %v; want 11, offset 100", pos, ok)
	}
	if _, ok := p.Segment(10); ok {
		t.Error("segment 10, older than --retain, is still found")
	}
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}

	t.Run("restart keeps them", func(t *testing.T) {
		q, err := playlist.New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := q.Segment(11); !ok {
			t.Fatal("after a restart, retained segment 11 is not found")
		}
		// The next segment follows a restart: the VOD playlist marks it.
		m.pts += clock.FromDuration(5 * time.Second)
		s := m.make(time.Second)
		if err := q.Add(s); err != nil {
			t.Fatal(err)
		}
		flush(t, q)
		data, ok := q.VOD(segs[18].FirstPTS, s.FirstPTS, nil)
		if !ok {
			t.Fatal("no VOD playlist over the restart")
		}
		_, got := decodeStrict(t, data)
		if len(got) != 3 || got[0].Discontinuity || got[1].Discontinuity || !got[2].Discontinuity {
			t.Fatalf("want 18, 19, then a discontinuity before 20:\n%s", data)
		}
		if err := q.Close(); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("restart without retention drops them", func(t *testing.T) {
		cfg := cfg
		cfg.Retain = 0
		q, err := playlist.New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := q.Segment(11); ok {
			t.Fatal("with --retain 0, a restart still keeps retained segment 11")
		}
	})
}

// TestRetainBySize bounds the segments on disk (10 bytes each) to 100
// bytes with an hour's retention: the ten newest stay, the oldest go first,
// and no listed segment goes.
func TestRetainBySize(t *testing.T) {
	dir := t.TempDir()
	c := &wallClock{now: timeline.Epoch}
	p, m := newPlaylist(t, playlist.Config{Dir: dir, Window: 3 * time.Second, Target: time.Second, Grace: 4 * time.Second, Now: c.Now,
		Retain: time.Hour, RetainSize: 100})
	m.next = 10 // two-digit numbers: every file is "segment NN", 10 bytes
	retainRun(t, p, m, c, 30)
	if got, want := onDisk(t, dir), seqRange(30, 39); !sameSeqs(got, want) {
		t.Fatalf("segments on disk %v, want the ten newest %v", got, want)
	}
}

// TestVODPlaylist reads a VOD playlist over retained segments with
// grafov/m3u8 in strict mode: VOD, ended, exactly the segments that
// overlap the range with their program date times, and the date range
// given.
func TestVODPlaylist(t *testing.T) {
	c := &wallClock{now: timeline.Epoch}
	p, m := newPlaylist(t, playlist.Config{Window: 3 * time.Second, Target: time.Second, Grace: 4 * time.Second, Now: c.Now, Retain: time.Hour})
	segs := retainRun(t, p, m, c, 12)
	dr := playlist.DateRange{ID: "m1", Start: timeline.Time(segs[3].FirstPTS + 900), Label: "door"}
	// From inside segment 2 to the first PTS of segment 5: 2, 3, 4 and 5.
	data, ok := p.VOD(segs[2].FirstPTS+10, segs[5].FirstPTS, []playlist.DateRange{dr})
	if !ok {
		t.Fatal("no VOD playlist")
	}
	pl, got := decodeStrict(t, data)
	if pl.MediaType != m3u8.VOD || !pl.Closed {
		t.Errorf("type %v, ended %v; want VOD with EXT-X-ENDLIST:\n%s", pl.MediaType, pl.Closed, data)
	}
	if pl.SeqNo != 2 || len(got) != 4 {
		t.Fatalf("MEDIA-SEQUENCE %d, %d segments; want 2 and 4:\n%s", pl.SeqNo, len(got), data)
	}
	for i, g := range got {
		s := segs[2+i]
		if g.URI != filepath.Base(s.Path) {
			t.Errorf("entry %d is %s, want %s", i, g.URI, filepath.Base(s.Path))
		}
		checkPDT(t, g.URI, g.ProgramDateTime, s.Start)
	}
	if rs := dateRanges(t, data); len(rs) != 1 || rs[0].attrs["ID"] != "m1" {
		t.Errorf("date ranges %v, want m1 alone", rs)
	}
	if _, ok := p.VOD(segs[11].End()+1, segs[11].End()+1000, nil); ok {
		t.Error("a VOD playlist for a range past every segment")
	}
}
