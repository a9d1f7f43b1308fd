package playlist_test

import (
	"bufio"
	"bytes"
	"math"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/grafov/m3u8"

	"github.com/hlsmark/hlsmark/pipeline/clock"
	"github.com/hlsmark/hlsmark/pipeline/media"
	"github.com/hlsmark/hlsmark/playlist"
)

// version is one playlist as a client fetched it, taken apart by what it
// lists: the header, then the body as items (a segment's lines up to its
// URI, one EXT-X-DATERANGE line, EXT-X-ENDLIST), each with the key that
// identifies it while it is listed.
type version struct {
	data                []byte
	target              string // the EXT-X-TARGETDURATION line
	independent         bool
	mediaSeq, discSeq   uint64
	items               []item
	segs                []*m3u8.MediaSegment // as grafov/m3u8 reads them
	tags                map[string][]map[string]string
	firstPDT, windowEnd time.Time
}

type item struct {
	key   string // "seg <URI>", "tag <ID> <n>" for an ID's n-th tag, or "end"
	lines []string
}

// headerTags are the lines before the first segment that describe the
// whole playlist.
var headerTags = []string{"#EXTM3U", "#EXT-X-VERSION:", "#EXT-X-INDEPENDENT-SEGMENTS", "#EXT-X-MEDIA-SEQUENCE:",
	"#EXT-X-TARGETDURATION:", "#EXT-X-DISCONTINUITY-SEQUENCE:"}

func isHeader(line string) bool {
	for _, h := range headerTags {
		if strings.HasPrefix(line, h) {
			return true
		}
	}
	return false
}

// parseVersion reads a playlist with grafov/m3u8 in strict mode and with
// a line reader of the test's own.
func parseVersion(t *testing.T, data []byte) version {
	t.Helper()
	media, segs := decodeStrict(t, data)
	v := version{data: data, segs: segs, mediaSeq: media.SeqNo, discSeq: media.DiscontinuitySeq, tags: map[string][]map[string]string{}}
	var pending []string
	body := false
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		line := sc.Text()
		switch {
		case !body && isHeader(line):
			if strings.HasPrefix(line, "#EXT-X-TARGETDURATION:") {
				v.target = line
			}
			v.independent = v.independent || line == "#EXT-X-INDEPENDENT-SEGMENTS"
		case strings.HasPrefix(line, "#EXT-X-DATERANGE:"):
			body = true
			attrs, _, err := parseAttributeList(strings.TrimPrefix(line, "#EXT-X-DATERANGE:"))
			if err != nil {
				t.Fatalf("%q: %v", line, err)
			}
			id := attrs["ID"]
			v.items = append(v.items, item{key: "tag " + id + " " + strconv.Itoa(len(v.tags[id])), lines: []string{line}})
			v.tags[id] = append(v.tags[id], attrs)
		case line == "#EXT-X-ENDLIST":
			v.items = append(v.items, item{key: "end", lines: []string{line}})
		case strings.HasPrefix(line, "#"):
			body = true
			pending = append(pending, line)
		case line != "":
			body = true
			v.items = append(v.items, item{key: "seg " + line, lines: append(pending, line)})
			pending = nil
		}
	}
	if len(pending) > 0 {
		t.Fatalf("lines %q after the last segment", pending)
	}
	if len(segs) > 0 {
		last := segs[len(segs)-1]
		v.firstPDT = segs[0].ProgramDateTime
		v.windowEnd = last.ProgramDateTime.Add(seconds(last.Duration)[0])
	}
	return v
}

// dateRange is what a range's tags in one playlist say together.
type dateRange struct {
	start    time.Time
	duration time.Duration
	hasDur   bool
}

func (v version) dateRange(t *testing.T, id string) dateRange {
	t.Helper()
	var r dateRange
	for i, attrs := range v.tags[id] {
		start, err := time.Parse(time.RFC3339Nano, attrs["START-DATE"])
		if err != nil {
			t.Fatalf("%s: START-DATE %q: %v", id, attrs["START-DATE"], err)
		}
		if i == 0 {
			r.start = start
		}
		if d, ok := attrs["DURATION"]; ok {
			f, err := strconv.ParseFloat(d, 64)
			if err != nil {
				t.Fatalf("%s: DURATION %q: %v", id, d, err)
			}
			r.duration, r.hasDur = time.Duration(math.Round(f*float64(time.Second))), true
		}
	}
	return r
}

// coversListed reports whether a range, as a playlist stated it, covers a
// segment another playlist lists, as that one states them: an instant (no
// DURATION) the segment its START-DATE falls in, a range with a DURATION
// every segment it overlaps.
func (r dateRange) coversListed(v version) bool {
	if len(v.segs) == 0 || !r.start.Before(v.windowEnd) {
		return false
	}
	if !r.hasDur {
		return !r.start.Before(v.firstPDT)
	}
	return r.start.Add(r.duration).After(v.firstPDT)
}

// checkLiveUpdate holds a playlist update to RFC 8216's live rules
// (section 6.2.1), from what the two versions list:
//   - EXT-X-TARGETDURATION never changes, EXT-X-INDEPENDENT-SEGMENTS stays,
//     MEDIA-SEQUENCE and DISCONTINUITY-SEQUENCE never go back;
//   - what stays listed (segments by URI, date range tags by ID) comes
//     first, in the same order, each line byte for byte as served; all that
//     is new comes after it: no line once served changes while its ID is
//     listed, and lines are only appended;
//   - segments leave from the head only;
//   - a date range leaves (all its tags at once) only when it covers no
//     segment the new version lists;
//   - the tags sharing an ID agree on every attribute they share.
func checkLiveUpdate(t *testing.T, a, b version) {
	t.Helper()
	if b.target != a.target || !b.independent {
		t.Fatalf("%q became %q (EXT-X-INDEPENDENT-SEGMENTS %v)", a.target, b.target, b.independent)
	}
	if b.mediaSeq < a.mediaSeq || b.discSeq < a.discSeq {
		t.Fatalf("MEDIA-SEQUENCE %d → %d, DISCONTINUITY-SEQUENCE %d → %d", a.mediaSeq, b.mediaSeq, a.discSeq, b.discSeq)
	}
	inB := map[string]bool{}
	for _, it := range b.items {
		inB[it.key] = true
	}
	var kept []item
	keptSeg := false
	for _, it := range a.items {
		if inB[it.key] {
			kept = append(kept, it)
			keptSeg = keptSeg || strings.HasPrefix(it.key, "seg ")
			continue
		}
		switch {
		case strings.HasPrefix(it.key, "seg "):
			if keptSeg {
				t.Fatalf("%s left the playlist after a segment that stays", it.key)
			}
		case strings.HasPrefix(it.key, "tag "):
			id := strings.Fields(it.key)[1]
			if len(b.tags[id]) > 0 {
				t.Fatalf("%s left while other tags of %s stay:\n%s\n--- before ---\n%s", it.key, id, b.data, a.data)
			}
			if r := a.dateRange(t, id); r.coversListed(b) {
				t.Fatalf("date range %s (%s, %v) left while it covers listed segments from %s to %s:\n%s\n--- before ---\n%s", id,
					r.start.Format(time.RFC3339Nano), r.duration, b.firstPDT.Format(time.RFC3339Nano), b.windowEnd.Format(time.RFC3339Nano), b.data, a.data)
			}
		default:
			t.Fatalf("%s left the playlist", it.key)
		}
	}
	if len(kept) > len(b.items) {
		t.Fatalf("kept %d items, the new version has %d", len(kept), len(b.items))
	}
	for i, it := range kept {
		if got := b.items[i]; got.key != it.key || strings.Join(got.lines, "\n") != strings.Join(it.lines, "\n") {
			t.Fatalf("item %d: %q was served as %q, now %s is there as %q:\n%s\n--- before ---\n%s",
				i, it.key, it.lines, got.key, got.lines, b.data, a.data)
		}
	}
	for id, tags := range b.tags {
		for _, attrs := range tags[1:] {
			for name, v := range tags[0] {
				if w, ok := attrs[name]; ok && w != v {
					t.Fatalf("tags of %s disagree on %s: %q and %q", id, name, v, w)
				}
			}
		}
	}
}

// segmentLife follows one segment across the versions a client saw.
type segmentLife struct {
	seg         media.Segment
	extinf      time.Duration // as listed
	longest     time.Duration // the longest playlist that listed it
	left        time.Time     // when the first version without it came
	hasLeft     bool
	deletedSeen bool
}

// TestLiveRulesOnMadeSegments runs a live playlist on a fake wall clock:
// segments of uneven length near the target, date ranges of every kind set
// as a marker service sets them (instants, ranges with a duration, open
// ranges closed later, some set for times already recorded), a window of
// four seconds and the grace RFC 8216 asks for (playlist.MinGrace). After
// every change, the version published is held to the live rules against
// the one before (checkLiveUpdate), and every segment that has left is
// checked: for as long as its own duration plus that of the longest
// playlist that listed it (RFC 8216, section 6.2.2, both as listed), its
// file is on disk and Segment hands it out.
func TestLiveRulesOnMadeSegments(t *testing.T) {
	const window, target = 4 * time.Second, time.Second
	clk := &wallClock{now: timeline.Epoch}
	dir := t.TempDir()
	p, mk := newPlaylist(t, playlist.Config{Dir: dir, Window: window, Grace: playlist.MinGrace(window, target), Target: target, Now: clk.Now})
	rng := rand.New(rand.NewPCG(12, 34))
	lives := map[string]*segmentLife{}
	var open []playlist.DateRange
	var made []media.Segment
	prev := parseVersion(t, p.Encoded())
	nextID := 0
	var versions, deleted, served int
	observe := func() {
		t.Helper()
		flush(t, p)
		v := parseVersion(t, p.Encoded())
		checkLiveUpdate(t, prev, v)
		var total time.Duration
		listed := map[string]bool{}
		for _, s := range v.segs {
			total += seconds(s.Duration)[0]
			listed[s.URI] = true
		}
		for _, s := range v.segs {
			l := lives[s.URI]
			l.extinf = seconds(s.Duration)[0]
			l.longest = max(l.longest, total)
		}
		for uri, l := range lives {
			if listed[uri] {
				continue
			}
			if !l.hasLeft {
				l.left, l.hasLeft = clk.now, true
			}
			_, statErr := os.Stat(l.seg.Path)
			got, ok := p.Segment(l.seg.Seq)
			if due := l.left.Add(l.extinf + l.longest); clk.now.Before(due) {
				served++
				if statErr != nil || !ok || got.Seq != l.seg.Seq {
					t.Fatalf("at %v, %s left at %v and must stay until %v, but its file (%v) or Segment (%v) is gone",
						clk.now.Sub(timeline.Epoch), uri, l.left.Sub(timeline.Epoch), due.Sub(timeline.Epoch), statErr, ok)
				}
			} else if statErr != nil && !l.deletedSeen {
				l.deletedSeen = true
				deleted++
			}
		}
		prev = v
		versions++
	}
	for range 60 {
		s := mk.makeTicks(clock.Ticks(60000 + rng.IntN(60000))) // 0.67 to 1.33 s
		lives[s.Name()] = &segmentLife{seg: s}
		made = append(made, s)
		clk.now = timeline.Time(s.End())
		if err := p.Add(s); err != nil {
			t.Fatal(err)
		}
		observe()
		for range rng.IntN(3) {
			// A marker somewhere in the last five segments made, or just
			// past the last one.
			from := made[max(0, len(made)-5)].Start
			at := from.Add(time.Duration(rng.Int64N(int64(clk.now.Sub(from) + 500*time.Millisecond))))
			r := playlist.DateRange{ID: "m" + strconv.Itoa(nextID), Start: at, Label: "label " + strconv.Itoa(nextID)}
			nextID++
			switch rng.IntN(3) {
			case 0: // an instant
			case 1:
				r.Duration = time.Duration(rng.Int64N(int64(3 * time.Second)))
			case 2:
				r.Open = true
				open = append(open, r)
			}
			setRanges(t, p, r)
			observe()
		}
		if len(open) > 0 && rng.IntN(2) == 0 {
			r := open[0]
			open = open[1:]
			r.Open, r.Duration = false, time.Duration(1+rng.Int64N(int64(4*time.Second)))
			setRanges(t, p, r)
			observe()
		}
	}
	if deleted == 0 || served == 0 || nextID < 40 {
		t.Fatalf("%d checks of segments within their grace, %d deletions seen, %d ranges over %d versions: the run proves little",
			served, deleted, nextID, versions)
	}
}
