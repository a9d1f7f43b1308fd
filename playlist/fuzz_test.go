package playlist_test

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/hlsmark/hlsmark/pipeline/clock"
	"github.com/hlsmark/hlsmark/pipeline/media"
	"github.com/hlsmark/hlsmark/playlist"
)

// fuzzMaxSegments bounds the segments one fuzz input adds, to keep an
// iteration cheap.
const fuzzMaxSegments = 40

// FuzzPlaylistRoundTrip builds a playlist from fuzzed segment durations
// (ticks, four bytes each), discontinuity flags (one bit per segment), a
// first sequence number and PTS, a window and target, and three date
// ranges with fuzzed IDs, labels, starts and durations; then reads it back
// with grafov/m3u8 in strict mode and with an RFC 8216 attribute-list
// parser of the test's own, and restores it from its state file.
func FuzzPlaylistRoundTrip(f *testing.F) {
	ticks := func(ds ...uint32) []byte {
		var b []byte
		for _, d := range ds {
			b = binary.LittleEndian.AppendUint32(b, d)
		}
		return b
	}
	second := uint32(clock.Hz)
	even := ticks(second, second, second, second, second, second, second, second)
	f.Add(even, uint64(0), uint64(0), uint64(0), uint32(3000), uint32(1000), "marker", "mint square", "", "", uint64(0), uint32(0))
	f.Add(ticks(90001, 90001, 90001, 90001, 90001, 90001), uint64(0b100100), uint64(7), uint64(12345), uint32(2500), uint32(1000),
		"marker", `say "hi"`, "a\nb\r\nc", "x\n#EXT-X-ENDLIST", uint64(0x1234_5678_9abc), uint32(1500))
	f.Add(ticks(2*second, 2*second+2970, 4*second+54000, 2*second, 225000, 2*second), uint64(0b1), uint64(math.MaxUint64-3), uint64(clock.Wrap-clock.Hz),
		uint32(4000), uint32(2000), `id",X="`, `x",DURATION=99,Y="`, "a,B=c", "café ✓ \u2028 \U0001F600", uint64(7*3), uint32(250))
	f.Add(ticks(1, 2, 3, 90000, 1, 1), uint64(math.MaxUint64), uint64(1), uint64(1<<39), uint32(0), uint32(0),
		"", "tab\there", "nul\x00here", "bad \xff\xfe utf-8", uint64(1)<<21|1, uint32(86_400_000))
	f.Add(ticks(1_500_000_000, second, second), uint64(0b10), uint64(99), uint64(0), uint32(60_000), uint32(6000),
		"long", "a segment of hours", "\u0085nel\u009f", "\x7fdel", uint64(0xffff_ffff_ffff_ffff), uint32(1))
	f.Add(ticks(2_949_164_910, second), uint64(0), uint64(0), uint64(0), uint32(3_599_999), uint32(999), // 32768.499 s
		"stall", "a source stalled for 9 hours", "", "", uint64(0), uint32(0))
	f.Add(ticks(second/2, second/2, second/2, second/2), uint64(0b1010), uint64(0), uint64(0), uint32(1000), uint32(500),
		"m", "", "   ", "\"\"\"", uint64(3)<<42|uint64(2)<<21|1, uint32(0))

	f.Fuzz(func(t *testing.T, durs []byte, disc, firstSeq, firstPTS uint64, windowMs, targetMs uint32,
		id, label0, label1, label2 string, rangeAt uint64, rangeMs uint32) {
		n := min(len(durs)/4, fuzzMaxSegments)
		if n == 0 {
			return
		}
		cfg := playlist.Config{
			Dir:    t.TempDir(),
			Window: time.Duration(windowMs%3_600_000+1) * time.Millisecond,
			Target: time.Duration(targetMs%600_000+1) * time.Millisecond,
		}
		p, err := playlist.New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		mk := newSegmentMaker(t, cfg.Dir, media.Seq(min(firstSeq, math.MaxUint64-fuzzMaxSegments)))
		mk.pts = clock.Ticks(firstPTS % (1 << 40))
		labels := []string{label0, label1, label2}
		var added []media.Segment
		var ranges []playlist.DateRange
		over := map[media.Seq]bool{} // segments Add said exceed the target
		var rangesBefore media.Seq   // the segment added after the ranges were set
		for i := range n {
			s := mk.makeTicks(clock.Ticks(max(binary.LittleEndian.Uint32(durs[4*i:]), 1)))
			s.Discontinuity = disc>>i&1 == 1
			if err := p.Add(s); err != nil {
				if !strings.Contains(err.Error(), "4.3.3.1") {
					t.Fatal(err)
				}
				over[s.Seq] = true
			}
			added = append(added, s)
			if i == n/2 { // half way: some ranges are then in the future, some leave later
				rangesBefore = s.Seq + 1
				for j, label := range labels {
					r := fuzzedRange(added, rangeAt>>(21*j), rangeMs, label)
					r.ID = id + "-" + strconv.Itoa(j)
					if err := p.SetDateRange(r); err != nil {
						t.Fatal(err)
					}
					ranges = append(ranges, r)
				}
			}
		}
		if err := p.Flush(); err != nil {
			t.Fatal(err)
		}
		checkRoundTrip(t, p, cfg, added, over, ranges, rangesBefore)

		// The state file brings back the same playlist, byte for byte.
		again, err := playlist.New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		if got, want := again.Segments(), p.Segments(); !equalSegments(got, want) {
			t.Fatalf("restored window %+v, want %+v", got, want)
		}
		if got, want := again.Encoded(), p.Encoded(); !bytes.Equal(got, want) {
			t.Fatalf("restored playlist differs:\n%s\n--- want ---\n%s", got, want)
		}
	})
}

// fuzzedRange places a date range from 21 fuzzed bits: on a segment's
// first instant, one nanosecond before it, or anywhere from the first
// segment's start to an eighth past the last one's end.
func fuzzedRange(added []media.Segment, bits uint64, ms uint32, label string) playlist.DateRange {
	const scale = 1 << 21
	bits %= scale
	first, last := added[0], added[len(added)-1]
	r := playlist.DateRange{Label: label, Duration: time.Duration(ms%(48*3600*1000)) * time.Millisecond}
	switch s := added[int(bits/8)%len(added)]; bits % 8 {
	case 0:
		r.Start = s.Start
	case 1:
		r.Start = s.Start.Add(-time.Nanosecond)
	default:
		span := timeline.Time(last.End()).Sub(first.Start)
		span += span / 8
		r.Start = first.Start.Add(time.Duration(uint64(span) / scale * bits))
	}
	return r
}

// checkRoundTrip reads the playlist back and checks it against what was
// added: the window, MEDIA-SEQUENCE, each segment's URI, EXTINF (to the
// millisecond), PROGRAM-DATE-TIME (rounded down to the millisecond) and
// DISCONTINUITY, DISCONTINUITY-SEQUENCE, EXT-X-TARGETDURATION (the target
// rounded up, whatever the segments; an EXTINF that exceeds it exactly for
// the segments Add reported, over), every date range that covers a listed
// segment or starts after them (and none other) on one well-formed line
// where the playlist ended when it was set, and RFC 8216's rules for the
// file as a whole.
func checkRoundTrip(t *testing.T, p *playlist.Playlist, cfg playlist.Config, added []media.Segment, over map[media.Seq]bool,
	ranges []playlist.DateRange, rangesBefore media.Seq) {
	t.Helper()
	data := p.Encoded()
	checkOnDisk(t, cfg.Dir, p)
	checkCharacters(t, data)

	listed := p.Segments()
	gone := len(added) - len(listed)
	if len(listed) == 0 || gone < 0 || !equalSegments(listed, added[gone:]) {
		t.Fatalf("listed %+v: not the newest of the %d added", listed, len(added))
	}
	window := clock.FromDuration(cfg.Window)
	var span, recorded clock.Ticks
	for _, s := range listed {
		span += s.Duration
	}
	for _, s := range added {
		recorded += s.Duration
	}
	if recorded >= window && span < window || len(listed) > 1 && span-listed[0].Duration >= window {
		t.Fatalf("%d segments listed spanning %d ticks against a window of %d", len(listed), span, window)
	}
	var discGone uint64
	for _, s := range added[:gone] {
		if s.Discontinuity {
			discGone++
		}
	}

	media, segs := decodeStrict(t, data)
	target := targetDuration(t, data)
	if media.SeqNo != uint64(listed[0].Seq) || media.DiscontinuitySeq != discGone || len(segs) != len(listed) || media.Closed {
		t.Fatalf("MEDIA-SEQUENCE %d, DISCONTINUITY-SEQUENCE %d, %d segments, closed %v; want %d, %d, %d, open",
			media.SeqNo, media.DiscontinuitySeq, len(segs), media.Closed, listed[0].Seq, discGone, len(listed))
	}
	if target != math.Ceil(cfg.Target.Seconds()) {
		t.Errorf("EXT-X-TARGETDURATION %v for a configured target of %v", target, cfg.Target)
	}
	for i, g := range segs {
		s := listed[i]
		if g.URI != s.Name() || g.Discontinuity != s.Discontinuity {
			t.Errorf("entry %d: %q, discontinuity %v; want %q, %v", i, g.URI, g.Discontinuity, s.Name(), s.Discontinuity)
		}
		checkPDT(t, s.Name(), g.ProgramDateTime, s.Start)
		if math.Abs(g.Duration-s.Duration.Seconds()) > 0.0005+1e-9 {
			t.Errorf("%s: EXTINF %.6f for %d ticks (%.6f s): not to the millisecond", s.Name(), g.Duration, s.Duration, s.Duration.Seconds())
		}
		if exceeds := math.Round(g.Duration) > target; exceeds != over[s.Seq] {
			t.Errorf("%s: EXTINF %.3f rounds to more than EXT-X-TARGETDURATION %v: %v; Add said so: %v", s.Name(), g.Duration, target, exceeds, over[s.Seq])
		}
	}
	checkDateRanges(t, data, listed, ranges, rangesBefore)
}

// checkDateRanges requires one EXT-X-DATERANGE line, well formed, for each
// range that covers a listed segment or starts after them (an instant: its
// start is not before the first listed segment's; a range with a duration:
// its end is after that), with its ID, CLASS, START-DATE, DURATION and
// X-LABEL; and no other. The ranges were set, in order, when the segment
// numbered before was the next to come: their tags must sit together
// where the playlist then ended, before that segment, or before the first
// listed one if it has left, or at the end if it has not come.
func checkDateRanges(t *testing.T, data []byte, listed []media.Segment, ranges []playlist.DateRange, before media.Seq) {
	t.Helper()
	var want []playlist.DateRange
	for _, r := range ranges {
		first := listed[0].Start
		if r.Duration == 0 && !r.Start.Before(first) || r.Duration > 0 && r.Start.Add(r.Duration).After(first) {
			want = append(want, r)
		}
	}
	wantBefore := ""
	switch last := listed[len(listed)-1].Seq; {
	case before <= listed[0].Seq:
		wantBefore = listed[0].Name()
	case before <= last:
		wantBefore = media.SegmentName(before)
	}
	const tag = "#EXT-X-DATERANGE:"
	var got []string // IDs in the order listed
	var uris []string
	lines := strings.Split(string(data), "\n")
	for i, line := range lines {
		if line != "" && !strings.HasPrefix(line, "#") {
			uris = append(uris, line)
			continue
		}
		rest, ok := strings.CutPrefix(line, tag)
		if !ok {
			if strings.Contains(line, tag) {
				t.Errorf("%s inside another line: %q", tag, line)
			}
			continue
		}
		attrs, quotedAttrs, err := parseAttributeList(rest)
		if err != nil {
			t.Fatalf("malformed date range %q: %v", line, err)
		}
		if len(got) > 0 && !strings.HasPrefix(lines[i-1], tag) {
			t.Errorf("date range %q is not next to the others set with it", line)
		}
		next := ""
		for _, l := range lines[i+1:] {
			if l != "" && !strings.HasPrefix(l, "#") {
				next = l
				break
			}
		}
		if next != wantBefore {
			t.Errorf("date range %q is listed before %q, want before %q", line, next, wantBefore)
		}
		got = append(got, attrs["ID"])
		if len(got) > len(want) || attrs["ID"] != sanitized(want[len(got)-1].ID) {
			t.Fatalf("date range %q listed; want %d ranges: %+v", line, len(want), want)
		}
		r := want[len(got)-1]
		checkStartDate(t, attrs["ID"], attrs["START-DATE"], r.Start)
		if attrs["CLASS"] != playlist.DateRangeClass || attrs["X-LABEL"] != sanitized(r.Label) {
			t.Errorf("%q: CLASS %q, X-LABEL %q; want %q, %q", line, attrs["CLASS"], attrs["X-LABEL"], playlist.DateRangeClass, sanitized(r.Label))
		}
		for _, name := range []string{"ID", "CLASS", "START-DATE", "X-LABEL"} {
			if !quotedAttrs[name] {
				t.Errorf("%q: %s missing or not a quoted-string", line, name)
			}
		}
		dur, hasDur := attrs["DURATION"]
		if hasDur != (r.Duration > 0) || hasDur && (quotedAttrs["DURATION"] || !decimalFloat.MatchString(dur) || dur != strconv.FormatFloat(r.Duration.Seconds(), 'f', -1, 64)) {
			t.Errorf("%q: DURATION %q (present %v) for %v", line, dur, hasDur, r.Duration)
		}
		if wantN := map[bool]int{false: 4, true: 5}[hasDur]; len(attrs) != wantN {
			t.Errorf("%q: attributes %v", line, attrs)
		}
	}
	if len(got) != len(want) {
		t.Errorf("%d date ranges listed (%q), %d cover the window or come after it", len(got), got, len(want))
	}
	if len(uris) != len(listed) {
		t.Errorf("%d URI lines, %d segments listed: %q", len(uris), len(listed), uris)
	}
}

// decimalFloat is RFC 8216's decimal-floating-point, not negative.
var decimalFloat = regexp.MustCompile(`^[0-9]+(\.[0-9]+)?$`)

// attributeName is RFC 8216's AttributeName.
var attributeName = regexp.MustCompile(`^[A-Z0-9-]+$`)

// parseAttributeList parses an attribute list by RFC 8216, section 4.2,
// strictly: names of [A-Z0-9-], each once; a value either a quoted-string
// (no double quote, CR or LF inside) or an unquoted value with neither
// quotes, commas nor whitespace; one comma between attributes and nothing
// after the last. It returns the values (quoted-strings without their
// quotes) and which were quoted-strings.
func parseAttributeList(s string) (map[string]string, map[string]bool, error) {
	attrs, quoted := map[string]string{}, map[string]bool{}
	for {
		name, rest, ok := strings.Cut(s, "=")
		if !ok || !attributeName.MatchString(name) {
			return nil, nil, fmt.Errorf("bad attribute name in %q", s)
		}
		if _, dup := attrs[name]; dup {
			return nil, nil, fmt.Errorf("attribute %s twice", name)
		}
		var value string
		if strings.HasPrefix(rest, `"`) {
			end := strings.IndexByte(rest[1:], '"')
			if end < 0 {
				return nil, nil, fmt.Errorf("%s: unterminated quoted-string", name)
			}
			value, rest = rest[1:1+end], rest[2+end:]
			if strings.ContainsAny(value, "\r\n") {
				return nil, nil, fmt.Errorf("%s: line break in a quoted-string", name)
			}
			quoted[name] = true
		} else {
			end := strings.IndexByte(rest, ',')
			if end < 0 {
				end = len(rest)
			}
			value, rest = rest[:end], rest[end:]
			if value == "" || strings.ContainsAny(value, "\" \t\r\n") {
				return nil, nil, fmt.Errorf("%s: bad unquoted value %q", name, value)
			}
		}
		attrs[name] = value
		if rest == "" {
			return attrs, quoted, nil
		}
		if s, ok = strings.CutPrefix(rest, ","); !ok || s == "" {
			return nil, nil, fmt.Errorf("after %s: %q", name, rest)
		}
	}
}

// sanitized is what an ID or label must become in a quoted-string: a
// double quote becomes a single one, every control character (CR and LF
// among them) a space, and an invalid UTF-8 byte U+FFFD.
func sanitized(s string) string {
	var b strings.Builder
	for _, r := range s { // an invalid byte reads as utf8.RuneError
		switch {
		case r == '"':
			b.WriteRune('\'')
		case unicode.IsControl(r):
			b.WriteRune(' ')
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// checkCharacters holds the playlist to RFC 8216, section 4.1: UTF-8,
// without a byte order mark, with no control characters but line ends.
func checkCharacters(t *testing.T, data []byte) {
	t.Helper()
	if !utf8.Valid(data) || bytes.HasPrefix(data, []byte("\uFEFF")) {
		t.Fatalf("the playlist is not UTF-8 without a BOM:\n%q", data)
	}
	for i, r := range string(data) {
		if unicode.IsControl(r) && r != '\n' && r != '\r' {
			line := bytes.Count(data[:i], []byte("\n")) + 1
			t.Fatalf("control character %U on line %d: %q", r, line, strings.Split(string(data), "\n")[line-1])
		}
	}
}

// equalSegments compares segments field by field, times by Equal.
func equalSegments(a, b []media.Segment) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		x, y := a[i], b[i]
		if x.Seq != y.Seq || x.Path != y.Path || x.FirstPTS != y.FirstPTS || x.Duration != y.Duration ||
			!x.Start.Equal(y.Start) || x.Size != y.Size || x.Frames != y.Frames || x.Discontinuity != y.Discontinuity {
			return false
		}
	}
	return true
}
