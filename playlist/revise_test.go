package playlist_test

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/hlsmark/hlsmark/pipeline/media"
	"github.com/hlsmark/hlsmark/playlist"
)

// revise revises a range and waits until the playlist is written.
func revise(t *testing.T, p *playlist.Playlist, r playlist.DateRange) {
	t.Helper()
	if err := p.ReviseDateRange(r); err != nil {
		t.Fatal(err)
	}
	flush(t, p)
}

// TestReviseDateRangeKeepsServedTag revises a listed range as an edited
// marker does: a new label, a duration, another duration. The served tag
// never changes: the playlist only gains, once, a second tag adding the
// DURATION the first lacked, with the first's label and START-DATE. An
// unlisted range is listed as given.
func TestReviseDateRangeKeepsServedTag(t *testing.T) {
	p, mk := newPlaylist(t, playlist.Config{Window: time.Hour, Grace: time.Hour, Target: time.Second})
	s := mk.makeTicks(oddSecond)
	add(t, p, s)
	served := playlist.DateRange{ID: "marker-3", Start: s.Start.Add(123456789), Label: "as served"}
	setRanges(t, p, served)
	first := p.Encoded()

	relabelled := served
	relabelled.Label = "edited"
	revise(t, p, relabelled)
	if !bytes.Equal(p.Encoded(), first) {
		t.Fatalf("a new label changed the playlist:\n%s", p.Encoded())
	}

	timed := relabelled
	timed.Duration = 2 * time.Second
	revise(t, p, timed)
	lines := checkAppended(t, first, p.Encoded())
	tags := dateRanges(t, p.Encoded())
	if len(lines) != 1 || len(tags) != 2 {
		t.Fatalf("a duration appended %q; want one more tag", lines)
	}
	a, b := tags[0].attrs, tags[1].attrs
	if b["DURATION"] != "2" || b["X-LABEL"] != "as served" || b["START-DATE"] != a["START-DATE"] || b["ID"] != a["ID"] || len(b) != len(a)+1 {
		t.Fatalf("second tag %v after %v: want the first's attributes and DURATION=2", b, a)
	}

	done := p.Encoded()
	for _, d := range []time.Duration{3 * time.Second, 0} {
		again := timed
		again.Duration = d
		revise(t, p, again)
		if !bytes.Equal(p.Encoded(), done) {
			t.Fatalf("duration %v after DURATION=2 changed the playlist:\n%s", d, p.Encoded())
		}
	}

	fresh := playlist.DateRange{ID: "marker-4", Start: s.Start.Add(time.Millisecond), Duration: time.Second, Label: "new"}
	revise(t, p, fresh)
	lines = checkAppended(t, done, p.Encoded())
	if len(lines) != 1 || !strings.Contains(lines[0], `ID="marker-4"`) || !strings.Contains(lines[0], `X-LABEL="new"`) {
		t.Fatalf("an unlisted range appended %q; want its tag", lines)
	}
}

// TestEndDateRangeLetsOpenRangeLeave ends an open range (its marker was
// deleted while its event showed): its tag stays as served while its
// segment is listed and leaves with it, while an open range not ended
// stays listed.
func TestEndDateRangeLetsOpenRangeLeave(t *testing.T) {
	p, mk := newPlaylist(t, playlist.Config{Window: 2 * time.Second, Grace: time.Hour, Target: time.Second})
	var segs []media.Segment
	for range 2 {
		segs = append(segs, mk.makeTicks(oddSecond))
	}
	add(t, p, segs...)
	ended := playlist.DateRange{ID: "ended", Start: segs[0].Start.Add(100 * time.Millisecond), Open: true, Label: "deleted"}
	kept := playlist.DateRange{ID: "kept", Start: segs[0].Start.Add(200 * time.Millisecond), Open: true, Label: "showing"}
	setRanges(t, p, ended, kept)
	before := p.Encoded()
	p.EndDateRange(ended.ID)
	flush(t, p)
	if !bytes.Equal(p.Encoded(), before) {
		t.Fatalf("ending a range changed the playlist:\n%s", p.Encoded())
	}
	for p.Segments()[0].Seq <= segs[0].Seq {
		add(t, p, mk.makeTicks(oddSecond))
	}
	ids := map[string]bool{}
	for _, l := range dateRanges(t, p.Encoded()) {
		ids[l.attrs["ID"]] = true
	}
	if ids["ended"] || !ids["kept"] {
		t.Fatalf("after segment %d left: listed %v; want kept only", segs[0].Seq, ids)
	}
}
