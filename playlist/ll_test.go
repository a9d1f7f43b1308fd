package playlist_test

import (
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hlsmark/hlsmark/pipeline/clock"
	"github.com/hlsmark/hlsmark/pipeline/media"
	"github.com/hlsmark/hlsmark/playlist"
)

// llPlaylist is a Low-Latency HLS media playlist as readLL reads it: its
// own strict reading of RFC 8216bis, sharing nothing with the writer.
type llPlaylist struct {
	version    int
	mediaSeq   media.Seq
	target     int // EXT-X-TARGETDURATION, seconds
	partTarget int // PART-TARGET, ms
	control    map[string]string
	hasMap     bool
	skipped    int
	segments   []llSegment
	pending    []llPart // parts after the last segment's URI
	hint       string
}

// llSegment is a listed segment with the parts listed before its URI.
type llSegment struct {
	seq      media.Seq
	uri      string
	duration int // ms
	parts    []llPart
}

// llPart is an EXT-X-PART tag.
type llPart struct {
	uri         string
	duration    int // ms
	independent bool
}

// millis reads a decimal number of seconds with at most three decimals.
func millis(t *testing.T, s string) int {
	t.Helper()
	whole, frac, _ := strings.Cut(s, ".")
	if len(frac) > 3 {
		t.Fatalf("%q: more than millisecond precision", s)
	}
	for len(frac) < 3 {
		frac += "0"
	}
	w, err1 := strconv.Atoi(whole)
	f, err2 := strconv.Atoi(frac)
	if err1 != nil || err2 != nil || w < 0 {
		t.Fatalf("%q: not a decimal number of seconds", s)
	}
	return w*1000 + f
}

// attributes reads an attribute list, requiring every name once and
// quoted strings closed.
func attributes(t *testing.T, line, list string) map[string]string {
	t.Helper()
	out := map[string]string{}
	for list != "" {
		name, rest, ok := strings.Cut(list, "=")
		if !ok || name == "" || strings.ToUpper(name) != name {
			t.Fatalf("%s: bad attribute list", line)
		}
		var value string
		if strings.HasPrefix(rest, `"`) {
			end := strings.Index(rest[1:], `"`)
			if end < 0 {
				t.Fatalf("%s: unclosed quoted string", line)
			}
			value, rest = rest[:end+2], rest[end+2:]
		} else {
			value, rest, _ = strings.Cut(rest, ",")
			rest = "," + rest
			if rest == "," {
				rest = ""
			}
		}
		if _, dup := out[name]; dup {
			t.Fatalf("%s: %s twice", line, name)
		}
		out[name] = value
		if rest != "" {
			if rest[0] != ',' || len(rest) == 1 {
				t.Fatalf("%s: bad attribute list", line)
			}
			rest = rest[1:]
		}
		list = rest
	}
	return out
}

// unquote requires a quoted string and returns its content.
func unquote(t *testing.T, line, v string) string {
	t.Helper()
	if len(v) < 2 || v[0] != '"' || v[len(v)-1] != '"' {
		t.Fatalf("%s: %s is not a quoted string", line, v)
	}
	return v[1 : len(v)-1]
}

// readLL reads a Low-Latency playlist, failing on anything it does not
// know or that breaks the rules of its syntax: tags where they may not
// be, a preload hint not last, parts after a segment with no URI.
func readLL(t *testing.T, data []byte) llPlaylist {
	t.Helper()
	var pl llPlaylist
	lines := strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
	if lines[0] != "#EXTM3U" {
		t.Fatalf("first line %q", lines[0])
	}
	var parts []llPart
	extinf := -1
	for _, line := range lines[1:] {
		tag, value, _ := strings.Cut(line, ":")
		if pl.hint != "" && tag != "#EXT-X-DATERANGE" && tag != "#EXT-X-ENDLIST" {
			t.Fatalf("%q after EXT-X-PRELOAD-HINT", line)
		}
		switch tag {
		case "#EXT-X-VERSION":
			pl.version, _ = strconv.Atoi(value)
		case "#EXT-X-MEDIA-SEQUENCE":
			n, _ := strconv.ParseUint(value, 10, 64)
			pl.mediaSeq = media.Seq(n)
		case "#EXT-X-TARGETDURATION":
			pl.target, _ = strconv.Atoi(value)
		case "#EXT-X-PART-INF":
			a := attributes(t, line, value)
			pl.partTarget = millis(t, a["PART-TARGET"])
		case "#EXT-X-SERVER-CONTROL":
			pl.control = attributes(t, line, value)
		case "#EXT-X-MAP":
			if len(pl.segments) > 0 || len(parts) > 0 {
				t.Fatalf("EXT-X-MAP after the first segment")
			}
			pl.hasMap = true
		case "#EXT-X-SKIP":
			a := attributes(t, line, value)
			pl.skipped, _ = strconv.Atoi(a["SKIPPED-SEGMENTS"])
		case "#EXT-X-PART":
			a := attributes(t, line, value)
			for k := range a {
				if k != "DURATION" && k != "URI" && k != "INDEPENDENT" {
					t.Fatalf("%s: unknown attribute %s", line, k)
				}
			}
			parts = append(parts, llPart{uri: unquote(t, line, a["URI"]), duration: millis(t, a["DURATION"]), independent: a["INDEPENDENT"] == "YES"})
		case "#EXT-X-PRELOAD-HINT":
			a := attributes(t, line, value)
			if a["TYPE"] != "PART" {
				t.Fatalf("%s: TYPE", line)
			}
			pl.hint = unquote(t, line, a["URI"])
		case "#EXTINF":
			d, _, _ := strings.Cut(value, ",")
			extinf = millis(t, d)
		case "#EXTM3U", "":
			t.Fatalf("line %q", line)
		case "#EXT-X-INDEPENDENT-SEGMENTS", "#EXT-X-DISCONTINUITY-SEQUENCE", "#EXT-X-DISCONTINUITY",
			"#EXT-X-PROGRAM-DATE-TIME", "#EXT-X-DATERANGE", "#EXT-X-ENDLIST":
		default:
			if strings.HasPrefix(line, "#") {
				t.Fatalf("unknown tag %q", line)
			}
			if extinf < 0 {
				t.Fatalf("URI %q without EXTINF", line)
			}
			seq := pl.mediaSeq + media.Seq(pl.skipped+len(pl.segments))
			pl.segments = append(pl.segments, llSegment{seq: seq, uri: line, duration: extinf, parts: parts})
			parts, extinf = nil, -1
		}
	}
	pl.pending = parts
	return pl
}

// partsPlaylist makes a fMP4 playlist with 200 ms parts, a 1 s target and
// a window of win.
func partsPlaylist(t *testing.T, win time.Duration) (*playlist.Playlist, *segmentMaker) {
	return newPlaylist(t, playlist.Config{Window: win, Target: time.Second, Format: media.FMP4, Part: 200 * time.Millisecond})
}

// casesLLSegments are the segments (in parts of at most 200 ms) the
// conformance test writes: whole seconds, and shorter ones whose last
// part is short.
var casesLLSegments = [][]time.Duration{
	{200, 200, 200, 200, 200}, {200, 200, 200, 200, 100}, {200, 200, 200, 200, 200}, {150, 200, 200},
	{200, 200, 200, 200, 200}, {200, 200, 200, 200, 200}, {200, 200, 200, 200, 133}, {200, 200, 200, 200, 200},
	{200, 200, 200, 200, 200}, {200, 200, 200, 200, 200}, {200, 200, 200, 200, 200}, {200, 200, 200, 200, 200},
}

// feed adds segment seq's parts of durations ms one by one, calling check
// after each with the part that comes next, then the segment.
func feed(t *testing.T, p *playlist.Playlist, mk *segmentMaker, ms []time.Duration, check func(next string)) {
	t.Helper()
	var total time.Duration
	for i, d := range ms {
		part := media.Part{Seq: mk.next, Index: i, Duration: clock.FromDuration(d * time.Millisecond), Independent: i == 0, Data: []byte{byte(i)}}
		if err := p.AddPart(part); err != nil {
			t.Fatal(err)
		}
		total += d * time.Millisecond
		if i+1 < len(ms) {
			check(media.PartName(mk.next, i+1))
		}
	}
	add(t, p, mk.make(total))
	check(media.PartName(mk.next, 0))
}

// TestLowLatencyRules writes parts and segments and reads every version of
// the playlist with grafov/m3u8 and with readLL, checking RFC 8216bis:
// version (6 for EXT-X-MAP, 9 where CAN-SKIP-UNTIL offers EXT-X-SKIP),
// EXT-X-MAP, PART-TARGET, every part at most PART-TARGET, PART-HOLD-BACK
// at least three part targets, CAN-BLOCK-RELOAD, CAN-SKIP-UNTIL at least
// six target durations, the preload hint naming the part written next, a
// segment's parts adding up to its EXTINF, and parts kept for every
// segment less than three target durations from the end. Checked to fail
// with parts listed for 2 target durations only, and with the hint one
// part ahead.
func TestLowLatencyRules(t *testing.T) {
	p, mk := partsPlaylist(t, 8*time.Second)
	checks := 0
	check := func(next string) {
		t.Helper()
		data := p.Live(false)
		decodeStrict(t, data)
		pl := readLL(t, data)
		checks++
		skip, canSkip := pl.control["CAN-SKIP-UNTIL"]
		switch {
		case canSkip && pl.version != 9:
			t.Fatalf("version %d with CAN-SKIP-UNTIL, want 9", pl.version)
		case pl.version < 6:
			t.Fatalf("version %d with EXT-X-MAP, want 6 or more", pl.version)
		case !pl.hasMap:
			t.Fatal("no EXT-X-MAP")
		case pl.partTarget != 200:
			t.Fatalf("PART-TARGET %d ms", pl.partTarget)
		case pl.control["CAN-BLOCK-RELOAD"] != "YES":
			t.Fatalf("server control %v", pl.control)
		case millis(t, pl.control["PART-HOLD-BACK"]) < 3*pl.partTarget:
			t.Fatalf("PART-HOLD-BACK %s, want at least 3 part targets", pl.control["PART-HOLD-BACK"])
		case canSkip && millis(t, skip) < 6*1000*pl.target:
			t.Fatalf("CAN-SKIP-UNTIL %s, want at least 6 target durations", skip)
		case pl.hint != next:
			t.Fatalf("preload hint %q, the next part written is %q\n%s", pl.hint, next, data)
		}
		fromEnd := 0
		for _, part := range pl.pending {
			fromEnd += part.duration
		}
		for i := len(pl.segments) - 1; i >= 0; i-- {
			s := pl.segments[i]
			sum := 0
			for j, part := range s.parts {
				sum += part.duration
				if part.uri != media.PartName(s.seq, j) || part.duration > pl.partTarget {
					t.Fatalf("segment %s: part %d is %+v", s.uri, j, part)
				}
			}
			if len(s.parts) > 0 && sum != s.duration {
				t.Errorf("segment %s lasts %d ms, its parts %d", s.uri, s.duration, sum)
			}
			if fromEnd < 3*1000*pl.target && len(s.parts) == 0 {
				t.Fatalf("segment %s ends %d ms from the end, its parts are gone\n%s", s.uri, fromEnd, data)
			}
			fromEnd += s.duration
		}
		for _, part := range pl.pending {
			if part.duration > pl.partTarget {
				t.Fatalf("part %+v longer than PART-TARGET", part)
			}
		}
	}
	for _, ms := range casesLLSegments {
		feed(t, p, mk, ms, check)
	}
	if checks < 50 {
		t.Fatalf("%d playlists checked", checks)
	}
}

// TestDeltaUpdate asks for _HLS_skip=YES: EXT-X-SKIP replaces exactly the
// segments that end at least CAN-SKIP-UNTIL before the end, the rest is
// the full playlist's, grafov reads it, and a window too short to skip
// anything offers no skip (version 6). Checked to fail with segments
// skipped up to the boundary's start.
func TestDeltaUpdate(t *testing.T) {
	p, mk := partsPlaylist(t, 12*time.Second)
	for _, ms := range casesLLSegments {
		feed(t, p, mk, ms, func(string) {})
	}
	full := readLL(t, p.Live(false))
	data := p.Live(true)
	decodeStrict(t, data)
	delta := readLL(t, data)
	until := millis(t, full.control["CAN-SKIP-UNTIL"])
	if delta.version != 9 || delta.skipped == 0 || delta.mediaSeq != full.mediaSeq {
		t.Fatalf("delta: version %d, %d skipped, media sequence %d (full %d)\n%s", delta.version, delta.skipped, delta.mediaSeq, full.mediaSeq, data)
	}
	total := 0
	for _, s := range full.segments {
		total += s.duration
	}
	end := 0
	for i, s := range full.segments {
		end += s.duration
		if skippable := total-end >= until; skippable != (i < delta.skipped) {
			t.Errorf("segment %s ends %d ms before the end (skip until %d): skipped %v", s.uri, total-end, until, i < delta.skipped)
		}
	}
	if len(delta.segments) != len(full.segments)-delta.skipped || delta.segments[0].uri != full.segments[delta.skipped].uri {
		t.Fatalf("delta lists %d segments from %s, full %d", len(delta.segments), delta.segments[0].uri, len(full.segments))
	}
	short, mk2 := partsPlaylist(t, 6*time.Second)
	for _, ms := range casesLLSegments[:8] {
		feed(t, short, mk2, ms, func(string) {})
	}
	if pl := readLL(t, short.Live(true)); pl.version != 6 || pl.skipped != 0 || pl.control["CAN-SKIP-UNTIL"] != "" {
		t.Fatalf("a 6 s window: version %d, %d skipped, control %v", pl.version, pl.skipped, pl.control)
	}
}

// TestReady answers blocking reloads' questions (RFC 8216bis 6.2.5.2):
// a part is ready once added and not before; a segment once listed; a
// part index past a finished segment's last is the next segment's part 0;
// too far ahead is ErrTooFar. Checked to fail with msn up to 3 past the
// last segment accepted.
func TestReady(t *testing.T) {
	p, mk := partsPlaylist(t, 8*time.Second)
	feed(t, p, mk, casesLLSegments[0], func(string) {}) // segment 0: 5 parts
	if err := p.AddPart(media.Part{Seq: 1, Index: 0, Duration: 18000, Independent: true}); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		msn   media.Seq
		part  int
		ready bool
		far   bool
	}{
		{0, -1, true, false}, {0, 4, true, false}, {0, 5, true, false}, {1, 0, true, false},
		{1, 1, false, false}, {1, -1, false, false}, {0, 6, true, false}, {2, 0, false, false}, {2, -1, false, false},
		{3, -1, false, true}, {3, 0, false, true}, {1, 16, false, true}, {2, 14, false, false}, {2, 15, false, true},
	} {
		ready, err := p.Ready(c.msn, c.part)
		if ready != c.ready || errors.Is(err, playlist.ErrTooFar) != c.far {
			t.Errorf("Ready(%d, %d) = %v, %v; want %v, too far %v", c.msn, c.part, ready, err, c.ready, c.far)
		}
	}
	changed := p.Changed()
	select {
	case <-changed:
		t.Fatal("changed with no change")
	default:
	}
	if err := p.AddPart(media.Part{Seq: 1, Index: 1, Duration: 18000}); err != nil {
		t.Fatal(err)
	}
	<-changed // closed by AddPart: a test that hangs here fails by its timeout
	if ready, _ := p.Ready(1, 1); !ready {
		t.Fatal("part 1.1 added, not ready")
	}
	if _, st := p.Part(1, 1); st != playlist.PartHere {
		t.Fatalf("part 1.1: status %v", st)
	}
	if _, st := p.Part(1, 2); st != playlist.PartComing {
		t.Fatalf("part 1.2, the hint: status %v", st)
	}
	if _, st := p.Part(0, 7); st != playlist.PartGone {
		t.Fatalf("part 0.7 of a finished segment of 5: status %v", st)
	}
	if err := p.AddPart(media.Part{Seq: 1, Index: 1, Duration: 18001 + clock.FromDuration(200*time.Millisecond)}); !errors.Is(err, playlist.ErrPartTooLong) {
		t.Fatalf("a part over the target: %v", err)
	}
}
