package playlist_test

import (
	"bytes"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hlsmark/hlsmark/pipeline/clock"
	"github.com/hlsmark/hlsmark/pipeline/media"
	"github.com/hlsmark/hlsmark/playlist"
)

// oddSecond is a segment duration of a second and one tick: its length in
// nanoseconds is not whole, so segment boundaries computed by adding
// rounded durations drift from the segments' own start times.
const oddSecond = 90001

// checkAppended requires the playlist after a change to be the one before
// with lines appended, and returns those lines. (With a window no segment
// leaves, RFC 8216 section 6.2.1 allows nothing else.)
func checkAppended(t *testing.T, before, after []byte) []string {
	t.Helper()
	if !bytes.HasPrefix(after, before) {
		t.Fatalf("the playlist changed other than by appending lines:\n%s\n--- before ---\n%s", after, before)
	}
	return strings.Split(strings.TrimSuffix(string(after[len(before):]), "\n"), "\n")
}

// checkStartDate requires a START-DATE as written to be the range's start
// rounded up to the millisecond: a whole millisecond, not before the
// start, and less than a millisecond after it.
func checkStartDate(t *testing.T, id, written string, start time.Time) {
	t.Helper()
	got, err := time.Parse(time.RFC3339Nano, written)
	if err != nil || got.Before(start) || got.Sub(start) >= time.Millisecond || got.Nanosecond()%int(time.Millisecond) != 0 {
		t.Errorf("%s: START-DATE %q for a start at %s (%v): want it rounded up to the millisecond", id, written, start.Format(time.RFC3339Nano), err)
	}
}

// TestDateRangeAppended sets date ranges one at a time, at the edges and
// inside of listed segments and past the last one, and then adds a
// segment. Each change appends to the playlist and changes nothing else:
// a range's tag is one line at the end, with ID, CLASS, START-DATE (rounded
// up to the millisecond), DURATION when it has one, and X-LABEL; the new
// segment's lines follow the tags.
func TestDateRangeAppended(t *testing.T) {
	dir := t.TempDir()
	p, mk := newPlaylist(t, playlist.Config{Dir: dir, Window: time.Hour, Grace: time.Hour, Target: time.Second})
	var segs []media.Segment
	for range 5 {
		segs = append(segs, mk.makeTicks(oddSecond))
	}
	add(t, p, segs...)
	next := mk.makeTicks(oddSecond)
	cases := []playlist.DateRange{
		{ID: "first-instant", Start: segs[0].Start, Label: "first"},
		{ID: "b-later", Start: segs[1].Start.Add(600 * time.Millisecond), Duration: 1500 * time.Millisecond, Label: "later"},
		{ID: "a-earlier", Start: segs[1].Start.Add(300 * time.Millisecond), Open: true, Label: "earlier"},
		{ID: "boundary", Start: segs[2].Start, Duration: 250 * time.Millisecond, Label: "on a cut"},
		{ID: "last-nanosecond", Start: segs[4].Start.Add(-time.Nanosecond), Label: "just before a cut"},
		{ID: "future", Start: next.Start.Add(time.Millisecond), Label: "not yet recorded"},
	}
	for _, r := range cases {
		before := p.Encoded()
		setRanges(t, p, r)
		lines := checkAppended(t, before, p.Encoded())
		if len(lines) != 1 {
			t.Fatalf("%s: %d lines appended, want one tag: %q", r.ID, len(lines), lines)
		}
		listed := dateRanges(t, []byte(lines[0]+"\n"))
		if len(listed) != 1 {
			t.Fatalf("%s: appended %q, not an EXT-X-DATERANGE", r.ID, lines[0])
		}
		attrs := listed[0].attrs
		if attrs["ID"] != r.ID || attrs["CLASS"] != playlist.DateRangeClass || attrs["X-LABEL"] != r.Label {
			t.Errorf("%s: ID %q, CLASS %q, X-LABEL %q", r.ID, attrs["ID"], attrs["CLASS"], attrs["X-LABEL"])
		}
		checkStartDate(t, r.ID, attrs["START-DATE"], r.Start)
		dur, hasDur := attrs["DURATION"]
		if want := strconv.FormatFloat(r.Duration.Seconds(), 'f', -1, 64); hasDur != (r.Duration > 0) || hasDur && dur != want {
			t.Errorf("%s: DURATION %q (present %v), want %s", r.ID, dur, hasDur, want)
		}
		decodeStrict(t, p.Encoded())
	}
	checkOnDisk(t, dir, p)

	before := p.Encoded()
	add(t, p, next)
	lines := checkAppended(t, before, p.Encoded())
	if len(lines) != 3 || lines[2] != next.Name() {
		t.Fatalf("adding %s appended %q", next.Name(), lines)
	}
	for _, l := range dateRanges(t, p.Encoded()) {
		if l.before != next.Name() {
			t.Errorf("%s is listed before %s, want before %s, the segment that came after it was set", l.attrs["ID"], l.before, next.Name())
		}
	}
}

// TestDateRangeAugmented gives an open range its duration: a second tag
// with the same ID is appended, repeating every attribute of the first as
// written and adding DURATION, and the first stays byte for byte. Setting
// a range again as it is listed changes nothing; changing what a tag
// already says is refused and changes nothing.
func TestDateRangeAugmented(t *testing.T) {
	p, mk := newPlaylist(t, playlist.Config{Window: time.Hour, Grace: time.Hour, Target: time.Second})
	s := mk.makeTicks(oddSecond)
	add(t, p, s)
	open := playlist.DateRange{ID: "marker-7", Start: s.Start.Add(123456789), Open: true, Label: `say "hi"`}
	setRanges(t, p, open)
	first := p.Encoded()
	setRanges(t, p, open)
	if !bytes.Equal(p.Encoded(), first) {
		t.Fatalf("setting an open range again changed the playlist:\n%s", p.Encoded())
	}

	closed := open
	closed.Open, closed.Duration = false, 1250*time.Millisecond
	setRanges(t, p, closed)
	lines := checkAppended(t, first, p.Encoded())
	tags := dateRanges(t, p.Encoded())
	if len(lines) != 1 || len(tags) != 2 {
		t.Fatalf("closing the range appended %q; want one more tag", lines)
	}
	a, b := tags[0].attrs, tags[1].attrs
	if _, ok := a["DURATION"]; ok || b["DURATION"] != "1.25" || len(b) != len(a)+1 {
		t.Fatalf("first tag %v, second %v: want the second to add DURATION=1.25 and nothing else", a, b)
	}
	for name, v := range a {
		if b[name] != v {
			t.Errorf("%s is %q in the first tag, %q in the second", name, v, b[name])
		}
	}
	if !strings.Contains(lines[0], `START-DATE="`+strings.Split(strings.Split(string(first), `START-DATE="`)[1], `"`)[0]+`"`) {
		t.Errorf("the second tag's START-DATE is not written as the first's: %q", lines[0])
	}

	done := p.Encoded()
	for _, c := range []struct {
		name string
		r    playlist.DateRange
		err  bool
	}{
		{"same again", closed, false},
		{"open again", open, true},
		{"other duration", playlist.DateRange{ID: open.ID, Start: open.Start, Duration: time.Second, Label: open.Label}, true},
		{"other label", playlist.DateRange{ID: open.ID, Start: open.Start, Duration: closed.Duration, Label: "other"}, true},
		{"other start", playlist.DateRange{ID: open.ID, Start: open.Start.Add(time.Millisecond), Duration: closed.Duration, Label: open.Label}, true},
	} {
		err := p.SetDateRange(c.r)
		flush(t, p)
		if (err != nil) != c.err || err != nil && !strings.Contains(err.Error(), open.ID) {
			t.Errorf("%s: SetDateRange: %v; want an error naming the range: %v", c.name, err, c.err)
		}
		if !bytes.Equal(p.Encoded(), done) {
			t.Errorf("%s changed the playlist:\n%s", c.name, p.Encoded())
		}
	}
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
			add(t, p, s)
			lines := bytes.Count(p.Encoded(), []byte("\n"))
			setRanges(t, p, playlist.DateRange{ID: c.in, Start: s.Start, Label: c.in})
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

// TestDateRangeStaysWhileCovering slides the window over date ranges of
// every kind and, after each segment, reads the playlist back: a range is
// listed exactly while it covers a listed segment as the playlist states
// them (PROGRAM-DATE-TIME to PROGRAM-DATE-TIME plus EXTINF): an instant
// while the segment it falls in is listed, a range with a duration while
// any segment it overlaps is, an open range until its duration is known
// and it covers none. A range set after every segment it covers left is
// never listed.
func TestDateRangeStaysWhileCovering(t *testing.T) {
	p, mk := newPlaylist(t, playlist.Config{Window: 3 * time.Second, Grace: time.Hour, Target: time.Second})
	var segs []media.Segment
	for range 3 {
		segs = append(segs, mk.makeTicks(oddSecond))
	}
	add(t, p, segs...)
	ms := time.Millisecond
	ranges := []playlist.DateRange{
		{ID: "instant", Start: segs[0].Start.Add(100 * ms), Label: "an instant in segment 0"},
		{ID: "long", Start: segs[0].Start.Add(100 * ms), Duration: 2500 * ms, Label: "segments 0 to 2"},
		{ID: "open", Start: segs[1].Start.Add(200 * ms), Open: true, Label: "showing"},
	}
	setRanges(t, p, ranges...)
	closeOpen := 6 // segments added before the open range gets its duration
	for i := range 9 {
		add(t, p, mk.makeTicks(oddSecond))
		if i == closeOpen {
			ranges[2].Open, ranges[2].Duration = false, 1500*ms // ends in segment 2, long gone
			setRanges(t, p, ranges[2])
		}
		_, listed := decodeStrict(t, p.Encoded())
		stale := playlist.DateRange{ID: "stale", Start: segs[0].Start.Add(100 * ms), Label: "set after its segment left"}
		if err := p.SetDateRange(stale); err != nil {
			t.Fatal(err)
		}
		flush(t, p)
		ids := map[string]bool{}
		for _, l := range dateRanges(t, p.Encoded()) {
			ids[l.attrs["ID"]] = true
		}
		first := listed[0].ProgramDateTime
		last := listed[len(listed)-1]
		end := last.ProgramDateTime.Add(time.Duration(last.Duration * float64(time.Second)))
		for _, r := range append(ranges, stale) {
			var want bool
			switch {
			case r.Open:
				want = true
			case r.Duration == 0:
				want = !r.Start.Before(first) && r.Start.Before(end)
			default:
				want = r.Start.Add(r.Duration).After(first)
			}
			if ids[r.ID] != want {
				t.Errorf("window %s to %s: range %s (%s, %v) listed %v, want %v", first.Format("05.000"), end.Format("05.000"),
					r.ID, r.Start.Format("05.000"), r.Duration, ids[r.ID], want)
			}
		}
	}
	if got := p.Segments()[0].Seq; got <= segs[2].Seq {
		t.Fatalf("the window only slid to segment %d: the test did not see the long range leave", got)
	}
}

// TestStartDateLandsOnMarkerFrame lists a date range for every frame of
// two segments at 240 frames per second (frames 4.17 ms apart, at times
// with every sub-millisecond part), and maps each START-DATE back to a
// frame as a client does: through the PROGRAM-DATE-TIME of the segment
// it falls in, both read from the playlist as written. Each lands on its
// own frame, never on the one before (START-DATE rounded down, or the PDT
// rounded up, would put some on the frame before).
func TestStartDateLandsOnMarkerFrame(t *testing.T) {
	const interval = clock.Hz / 240
	p, mk := newPlaylist(t, playlist.Config{Window: time.Hour, Target: time.Second})
	segs := []media.Segment{mk.makeTicks(clock.Hz), mk.makeTicks(clock.Hz)}
	add(t, p, segs...)
	var ranges []playlist.DateRange
	frameOf := map[string]clock.Ticks{}
	for _, s := range segs {
		for pts := s.FirstPTS; pts < s.End(); pts += interval {
			id := "frame-" + strconv.FormatInt(int64(pts), 10)
			ranges = append(ranges, playlist.DateRange{ID: id, Start: timeline.Time(pts), Label: "frame"})
			frameOf[id] = pts
		}
	}
	setRanges(t, p, ranges...)
	_, listed := decodeStrict(t, p.Encoded())
	tags := dateRanges(t, p.Encoded())
	if len(tags) != len(ranges) {
		t.Fatalf("%d tags for %d ranges", len(tags), len(ranges))
	}
	for _, l := range tags {
		start, err := time.Parse(time.RFC3339Nano, l.attrs["START-DATE"])
		if err != nil {
			t.Fatal(err)
		}
		// The segment the START-DATE falls in, by the listed dates alone.
		i := len(listed) - 1
		for i > 0 && start.Before(listed[i].ProgramDateTime) {
			i--
		}
		seg := segs[i]
		// The frame shown at that offset from the segment's first frame:
		// the last whose offset (in ticks, exactly) is not after it.
		offset := start.Sub(listed[i].ProgramDateTime)
		n := int64(offset) * clock.Hz / int64(time.Second) / interval
		got := seg.FirstPTS + clock.Ticks(n)*interval
		if want := frameOf[l.attrs["ID"]]; got != want {
			t.Errorf("%s: START-DATE %s through %s's PDT %s lands on the frame at %d, want %d (%+d frames)",
				l.attrs["ID"], l.attrs["START-DATE"], listed[i].URI, listed[i].ProgramDateTime.Format(time.RFC3339Nano), got, want, (got-want)/interval)
		}
	}
}
