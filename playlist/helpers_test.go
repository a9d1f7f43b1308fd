package playlist_test

import (
	"bufio"
	"bytes"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/grafov/m3u8"

	"github.com/hlsmark/hlsmark/pipeline/clock"
	"github.com/hlsmark/hlsmark/pipeline/media"
	"github.com/hlsmark/hlsmark/playlist"
)

// timeline maps the PTS of the hand-made segments to wall-clock time.
var timeline = clock.Timeline{Epoch: time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)}

// wallClock is a settable Config.Now.
type wallClock struct{ now time.Time }

func (c *wallClock) Now() time.Time { return c.now }

// segmentMaker hands out back-to-back segments with files in dir, as the
// muxer would publish them.
type segmentMaker struct {
	t    *testing.T
	dir  string
	next media.Seq
	pts  clock.Ticks
	// format is the segments' container (MPEG-TS unless set).
	format media.Format
}

// newSegmentMaker starts at sequence number first and at an odd PTS, so
// that no start time falls on a whole millisecond by luck.
func newSegmentMaker(t *testing.T, dir string, first media.Seq) *segmentMaker {
	return &segmentMaker{t: t, dir: dir, next: first, pts: 12345}
}

// make returns the next segment, d long, and writes its file.
func (m *segmentMaker) make(d time.Duration) media.Segment {
	m.t.Helper()
	return m.makeTicks(clock.FromDuration(d))
}

// makeTicks returns the next segment, d long, and writes its file.
func (m *segmentMaker) makeTicks(d clock.Ticks) media.Segment {
	m.t.Helper()
	s := media.Segment{
		Seq:      m.next,
		Path:     filepath.Join(m.dir, m.format.SegmentName(m.next)),
		FirstPTS: m.pts,
		Duration: d,
		Start:    timeline.Time(m.pts),
		Frames:   1,
		Format:   m.format,
	}
	data := []byte(fmt.Sprintf("segment %d", s.Seq))
	if err := os.WriteFile(s.Path, data, 0o644); err != nil {
		m.t.Fatal(err)
	}
	s.Size = int64(len(data))
	m.next++
	m.pts = s.End()
	return s
}

// newPlaylist returns a playlist over a new folder and the maker of its
// segments. The playlist's last writes end before the folder is removed.
func newPlaylist(t *testing.T, cfg playlist.Config) (*playlist.Playlist, *segmentMaker) {
	t.Helper()
	if cfg.Dir == "" {
		cfg.Dir = t.TempDir()
	}
	p, err := playlist.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = p.Flush() })
	mk := newSegmentMaker(t, cfg.Dir, 0)
	mk.format = cfg.Format
	return p, mk
}

// add adds segments and waits until the playlist is written and published.
func add(t *testing.T, p *playlist.Playlist, segs ...media.Segment) {
	t.Helper()
	for _, s := range segs {
		if err := p.Add(s); err != nil {
			t.Fatal(err)
		}
	}
	flush(t, p)
}

// setRanges sets date ranges and waits until the playlist is written and
// published.
func setRanges(t *testing.T, p *playlist.Playlist, rs ...playlist.DateRange) {
	t.Helper()
	if err := p.SetDateRange(rs...); err != nil {
		t.Fatal(err)
	}
	flush(t, p)
}

func flush(t *testing.T, p *playlist.Playlist) {
	t.Helper()
	if err := p.Flush(); err != nil {
		t.Fatal(err)
	}
}

// checkPDT requires a PROGRAM-DATE-TIME as read back to be the segment's
// start rounded down to the millisecond: not after it, and less than a
// millisecond before it.
func checkPDT(t *testing.T, uri string, pdt, start time.Time) {
	t.Helper()
	if pdt.After(start) || start.Sub(pdt) >= time.Millisecond || pdt.Nanosecond()%int(time.Millisecond) != 0 {
		t.Errorf("%s: PROGRAM-DATE-TIME %s for a start at %s: want it rounded down to the millisecond",
			uri, pdt.Format(time.RFC3339Nano), start.Format(time.RFC3339Nano))
	}
}

// decodeStrict parses a media playlist with grafov/m3u8 in strict mode and
// returns it with its segments (grafov's slice has nil padding).
func decodeStrict(t *testing.T, data []byte) (*m3u8.MediaPlaylist, []*m3u8.MediaSegment) {
	t.Helper()
	pl, typ, err := m3u8.DecodeFrom(bytes.NewReader(data), true)
	if err != nil {
		t.Fatalf("grafov/m3u8 rejects the playlist: %v\n%s", err, data)
	}
	media, ok := pl.(*m3u8.MediaPlaylist)
	if typ != m3u8.MEDIA || !ok {
		t.Fatalf("grafov/m3u8 reads a playlist of type %v, want a media playlist:\n%s", typ, data)
	}
	var segs []*m3u8.MediaSegment
	for _, s := range media.Segments {
		if s != nil {
			segs = append(segs, s)
		}
	}
	return media, segs
}

// targetDuration reads EXT-X-TARGETDURATION as written. (grafov's decoder
// raises the value it reports to every EXTINF rounded up, so its field
// cannot tell what the playlist says.)
func targetDuration(t *testing.T, data []byte) float64 {
	t.Helper()
	const tag = "#EXT-X-TARGETDURATION:"
	for _, line := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, tag); ok {
			n, err := strconv.Atoi(v)
			if err != nil {
				t.Fatalf("%s%s is not a decimal integer", tag, v)
			}
			return float64(n)
		}
	}
	t.Fatalf("no %s in\n%s", tag, data)
	return 0
}

// listedRange is an EXT-X-DATERANGE line as written.
type listedRange struct {
	attrs map[string]string
	// before is the URI of the first segment after the tag, or "" if none.
	before string
}

// dateRanges finds every EXT-X-DATERANGE tag in a playlist, its attributes
// parsed with grafov's attribute-list parser.
func dateRanges(t *testing.T, data []byte) []listedRange {
	t.Helper()
	const tag = "#EXT-X-DATERANGE:"
	var out []listedRange
	var open []int // ranges still waiting for their segment
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, tag):
			open = append(open, len(out))
			out = append(out, listedRange{attrs: m3u8.DecodeAttributeList(strings.TrimPrefix(line, tag))})
		case line != "" && !strings.HasPrefix(line, "#"):
			for _, i := range open {
				out[i].before = line
			}
			open = nil
		}
	}
	return out
}

// checkOnDisk requires index.m3u8 in dir to hold exactly what Encoded says,
// once the playlist has written everything.
func checkOnDisk(t *testing.T, dir string, p *playlist.Playlist) {
	t.Helper()
	flush(t, p)
	disk, err := os.ReadFile(filepath.Join(dir, playlist.FileName))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(disk, p.Encoded()) {
		t.Fatalf("%s on disk differs from Encoded():\n%s\n---\n%s", playlist.FileName, disk, p.Encoded())
	}
}

// ffprobe returns the path of ffprobe, the independent reader of what the
// playlist lists. Its absence fails the test: it is a test prerequisite.
func ffprobe(t *testing.T) string {
	t.Helper()
	path, err := exec.LookPath("ffprobe")
	if err != nil {
		t.Fatalf("ffprobe is required (make setup-test installs it): %v", err)
	}
	return path
}

func seconds(s ...float64) []time.Duration {
	out := make([]time.Duration, len(s))
	for i, v := range s {
		out[i] = time.Duration(math.Round(v * float64(time.Second)))
	}
	return out
}
