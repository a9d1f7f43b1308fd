package playlist_test

import (
	"bytes"
	"strconv"
	"testing"
	"time"

	"github.com/hlsmark/hlsmark/pipeline/media"
	"github.com/hlsmark/hlsmark/playlist"
)

// oddSecond is a segment duration of a second and one tick: its length in
// nanoseconds is not whole, so segment boundaries computed by adding
// rounded durations drift from the segments' own start times.
const oddSecond = 90001

// TestDateRangePlacement sets date ranges at the edges and inside of
// segments and checks each EXT-X-DATERANGE: it sits right before the
// segment its start falls in, carries ID, CLASS, START-DATE and (when
// known) DURATION as set, and ranges sharing a segment come in start order.
// A range past the last segment waits for the segment that holds it.
func TestDateRangePlacement(t *testing.T) {
	dir := t.TempDir()
	p, mk := newPlaylist(t, playlist.Config{Dir: dir, Window: time.Hour, Grace: time.Hour, Target: time.Second})
	var segs []media.Segment
	for range 5 {
		segs = append(segs, mk.makeTicks(oddSecond))
		if err := p.Add(segs[len(segs)-1]); err != nil {
			t.Fatal(err)
		}
	}
	next := mk.makeTicks(oddSecond)
	cases := []struct {
		r   playlist.DateRange
		seg media.Seq
	}{
		{playlist.DateRange{ID: "first-instant", Start: segs[0].Start, Label: "first"}, 0},
		{playlist.DateRange{ID: "b-later", Start: segs[1].Start.Add(600 * time.Millisecond), Duration: 1500 * time.Millisecond, Label: "later"}, 1},
		{playlist.DateRange{ID: "a-earlier", Start: segs[1].Start.Add(300 * time.Millisecond), Label: "earlier"}, 1},
		{playlist.DateRange{ID: "boundary", Start: segs[2].Start, Duration: 250 * time.Millisecond, Label: "on a cut"}, 2},
		{playlist.DateRange{ID: "last-nanosecond", Start: segs[4].Start.Add(-time.Nanosecond), Label: "just before a cut"}, 3},
		{playlist.DateRange{ID: "future", Start: next.Start.Add(time.Millisecond), Label: "not yet recorded"}, next.Seq},
	}
	for _, c := range cases {
		if err := p.SetDateRange(c.r); err != nil {
			t.Fatal(err)
		}
	}
	checkOnDisk(t, dir, p)
	check := func(listed []listedRange, recorded media.Seq) {
		t.Helper()
		byID := map[string]listedRange{}
		for _, l := range listed {
			byID[l.attrs["ID"]] = l
		}
		for _, c := range cases {
			l, ok := byID[c.r.ID]
			if c.seg >= recorded {
				if ok {
					t.Errorf("%s is listed before %s, but no segment holding its start is recorded", c.r.ID, l.before)
				}
				continue
			}
			if !ok {
				t.Errorf("%s is not listed", c.r.ID)
				continue
			}
			if l.before != media.SegmentName(c.seg) {
				t.Errorf("%s is listed before %s, want before %s", c.r.ID, l.before, media.SegmentName(c.seg))
			}
			if l.attrs["CLASS"] != playlist.DateRangeClass || l.attrs["X-LABEL"] != c.r.Label {
				t.Errorf("%s: CLASS %q, X-LABEL %q", c.r.ID, l.attrs["CLASS"], l.attrs["X-LABEL"])
			}
			start, err := time.Parse(time.RFC3339Nano, l.attrs["START-DATE"])
			if err != nil || start.After(c.r.Start) || !start.After(c.r.Start.Add(-time.Millisecond)) {
				t.Errorf("%s: START-DATE %q for a start at %s (%v)", c.r.ID, l.attrs["START-DATE"], c.r.Start.Format(time.RFC3339Nano), err)
			}
			dur, hasDur := l.attrs["DURATION"]
			if want := strconv.FormatFloat(c.r.Duration.Seconds(), 'f', -1, 64); hasDur != (c.r.Duration > 0) || hasDur && dur != want {
				t.Errorf("%s: DURATION %q (present %v), want %s", c.r.ID, dur, hasDur, want)
			}
		}
		if a, b := indexOf(listed, "a-earlier"), indexOf(listed, "b-later"); a > b {
			t.Errorf("ranges sharing segment 1 are out of start order")
		}
	}
	check(dateRanges(t, p.Encoded()), next.Seq)
	decodeStrict(t, p.Encoded())

	if err := p.Add(next); err != nil {
		t.Fatal(err)
	}
	check(dateRanges(t, p.Encoded()), next.Seq+1)
	decodeStrict(t, p.Encoded())
}

func indexOf(listed []listedRange, id string) int {
	for i, l := range listed {
		if l.attrs["ID"] == id {
			return i
		}
	}
	return -1
}

// casesQuoted are IDs and labels that cannot go into an attribute's quoted
// string as they are (RFC 8216, 4.2), and what must be written instead.
var casesQuoted = []struct {
	name, in, want string
}{
	{"double quotes", `say "hi"`, `say 'hi'`},
	{"newline", "a\nb", "a b"},
	{"CRLF", "a\r\nb", "a  b"},
	{"tag injection", "x\n#EXT-X-ENDLIST", "x #EXT-X-ENDLIST"},
	{"attribute injection", `x",DURATION=99,Y="`, `x',DURATION=99,Y='`},
	{"commas and equals stay", "a,B=c", "a,B=c"},
	{"unicode stays", "café ✓", "café ✓"},
}

func TestDateRangeQuoting(t *testing.T) {
	for _, c := range casesQuoted {
		t.Run(c.name, func(t *testing.T) {
			p, mk := newPlaylist(t, playlist.Config{Window: time.Hour, Target: time.Second})
			s := mk.make(time.Second)
			if err := p.Add(s); err != nil {
				t.Fatal(err)
			}
			lines := bytes.Count(p.Encoded(), []byte("\n"))
			if err := p.SetDateRange(playlist.DateRange{ID: c.in, Start: s.Start, Label: c.in}); err != nil {
				t.Fatal(err)
			}
			media, _ := decodeStrict(t, p.Encoded())
			listed := dateRanges(t, p.Encoded())
			if n := bytes.Count(p.Encoded(), []byte("\n")); len(listed) != 1 || media.Closed || n != lines+1 {
				t.Fatalf("one date range made %d tags and %d more lines (closed %v):\n%s", len(listed), n-lines, media.Closed, p.Encoded())
			}
			if l := listed[0]; l.attrs["ID"] != c.want || l.attrs["X-LABEL"] != c.want || l.attrs["DURATION"] != "" {
				t.Fatalf("ID %q, X-LABEL %q, DURATION %q; want ID and X-LABEL %q, no DURATION",
					l.attrs["ID"], l.attrs["X-LABEL"], l.attrs["DURATION"], c.want)
			}
		})
	}
}

// TestDateRangeLeavesWithItsSegment replaces a range by ID, then slides the
// window: a range is listed while the segment holding its start is, and is
// gone for good once that segment leaves. A range set for a time already
// out of the window is never listed.
func TestDateRangeLeavesWithItsSegment(t *testing.T) {
	p, mk := newPlaylist(t, playlist.Config{Window: 3 * time.Second, Grace: time.Hour, Target: time.Second})
	var segs []media.Segment
	add := func() {
		t.Helper()
		segs = append(segs, mk.makeTicks(oddSecond))
		if err := p.Add(segs[len(segs)-1]); err != nil {
			t.Fatal(err)
		}
	}
	add()
	add()
	add()
	set := func(r playlist.DateRange) {
		t.Helper()
		if err := p.SetDateRange(r); err != nil {
			t.Fatal(err)
		}
	}
	set(playlist.DateRange{ID: "m", Start: segs[0].Start.Add(100 * time.Millisecond), Label: "open"})
	set(playlist.DateRange{ID: "m", Start: segs[0].Start.Add(100 * time.Millisecond), Duration: 2 * time.Second, Label: "closed"})
	set(playlist.DateRange{ID: "n", Start: segs[2].Start.Add(100 * time.Millisecond), Label: "later"})
	listed := dateRanges(t, p.Encoded())
	if len(listed) != 2 || listed[0].attrs["ID"] != "m" || listed[0].attrs["X-LABEL"] != "closed" || listed[0].attrs["DURATION"] != "2" {
		t.Fatalf("after replacing m, the playlist lists %+v", listed)
	}

	for range 6 {
		add()
		set(playlist.DateRange{ID: "stale", Start: segs[0].Start, Label: "set after its segment left"})
		first := p.Segments()[0].Seq
		ids := map[string]bool{}
		for _, l := range dateRanges(t, p.Encoded()) {
			ids[l.attrs["ID"]] = true
		}
		for id, seg := range map[string]media.Seq{"m": 0, "n": 2} {
			if listedNow := seg >= first; ids[id] != listedNow {
				t.Errorf("window from segment %d: range %s (in segment %d) listed %v, want %v", first, id, seg, ids[id], listedNow)
			}
		}
		if ids["stale"] {
			t.Errorf("window from segment %d: a range in segment 0 is listed", first)
		}
	}
	if first := p.Segments()[0].Seq; first <= 2 {
		t.Fatalf("the window only slid to segment %d: the test did not see n leave", first)
	}
}
