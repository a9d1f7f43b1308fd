//go:build cgo

package server_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hlsmark/hlsmark/marker"
	"github.com/hlsmark/hlsmark/muxer/clip"
	"github.com/hlsmark/hlsmark/pipeline/clock"
	"github.com/hlsmark/hlsmark/pipeline/media"
	"github.com/hlsmark/hlsmark/pipeline/pipelinetest"
	"github.com/hlsmark/hlsmark/server"
)

// newClipFixture is a 15 s run with a 3 s window and the least grace: its
// first 5 s are gone, its last 8 s on disk. Events come every 2.5 s, so
// that most are not at a segment's first frame, nor 2 s after one.
func newClipFixture(t *testing.T) *pictureFixture {
	t.Helper()
	return startFixture(t, pipelinetest.Config{
		Frames: 450, Seed: 5, Size: media.Size{Width: 640, Height: 360}, Window: 3 * time.Second, Grace: time.Millisecond,
		EventEvery: 2500 * time.Millisecond, EventDuration: 500 * time.Millisecond,
	})
}

// onDisk reports whether the segments holding from to to are all on disk.
func (f *pictureFixture) onDisk(t *testing.T, from, to clock.Ticks) bool {
	t.Helper()
	for _, seg := range f.run.Segments {
		if seg.End() > from && seg.FirstPTS <= to {
			if _, err := os.Stat(seg.Path); err != nil {
				return false
			}
		}
	}
	return true
}

// framesBetween lists the PTS of the frames from from to to (excluded) as
// ffprobe reads them from the copies of the run's segments.
func (f *pictureFixture) framesBetween(t *testing.T, from, to clock.Ticks) []clock.Ticks {
	t.Helper()
	var out []clock.Ticks
	for _, seg := range f.run.Segments {
		if seg.End() <= from || seg.FirstPTS >= to {
			continue
		}
		for _, p := range probePTS(t, f.copies[seg.Seq], "packet") {
			if p >= from && p < to {
				out = append(out, p)
			}
		}
	}
	slices.Sort(out)
	return out
}

// probePTS lists with ffprobe the PTS of the video packets or frames
// (what) of the file at path, as the file's time base counts them.
func probePTS(t *testing.T, path, what string) []clock.Ticks {
	t.Helper()
	ffprobe, err := exec.LookPath("ffprobe")
	if err != nil {
		t.Fatalf("ffprobe is required (make setup-test installs it): %v", err)
	}
	out, err := exec.Command(ffprobe, "-v", "error", "-select_streams", "v:0",
		"-show_entries", what+"=pts", "-of", "csv=p=0", path).Output()
	if err != nil {
		t.Fatalf("ffprobe %s: %v", path, err)
	}
	var pts []clock.Ticks
	for _, line := range strings.Fields(string(out)) {
		n, err := strconv.ParseInt(strings.Split(line, ",")[0], 10, 64)
		if err != nil {
			t.Fatalf("ffprobe %s: %q: %v", path, line, err)
		}
		pts = append(pts, clock.Ticks(n))
	}
	return pts
}

// timeBase returns the video stream's time base as ffprobe reads it.
func timeBase(t *testing.T, path string) string {
	t.Helper()
	out, err := exec.Command("ffprobe", "-v", "error", "-select_streams", "v:0",
		"-show_entries", "stream=time_base", "-of", "csv=p=0", path).Output()
	if err != nil {
		t.Fatalf("ffprobe %s: %v", path, err)
	}
	return strings.TrimSpace(string(out))
}

// checkHead requires the MP4 at path to begin with a keyframe and its
// packets before the start (negative PTS) to be marked discarded, as the
// edit list makes them, and no other packet.
func checkHead(t *testing.T, path string) {
	t.Helper()
	out, err := exec.Command("ffprobe", "-v", "error", "-select_streams", "v:0",
		"-show_entries", "packet=pts,flags", "-of", "csv=p=0", path).Output()
	if err != nil {
		t.Fatalf("ffprobe %s: %v", path, err)
	}
	for i, line := range strings.Fields(string(out)) {
		pts, flags, _ := strings.Cut(line, ",")
		n, err := strconv.ParseInt(pts, 10, 64)
		switch {
		case err != nil:
			t.Fatalf("ffprobe %s: %q", path, line)
		case i == 0 && !strings.Contains(flags, "K"):
			t.Errorf("the first packet (pts %d) is no keyframe: %s", n, flags)
		case (n < 0) != strings.Contains(flags, "D"):
			t.Errorf("packet at pts %d has flags %s: want D (discarded) exactly before pts 0", n, flags)
		}
	}
}

// firstPicture decodes with the ffmpeg CLI the first frame the MP4 at
// path presents, RGB24.
func firstPicture(t *testing.T, path string, size media.Size) *rgbPicture {
	t.Helper()
	var stderr bytes.Buffer
	cmd := exec.Command("ffmpeg", "-v", "error", "-i", path, "-frames:v", "1", "-f", "rawvideo", "-pix_fmt", "rgb24", "pipe:1")
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil || len(out) != size.Width*size.Height*3 {
		t.Fatalf("ffmpeg: first frame of %s: %d bytes, %v: %s", path, len(out), err, stderr.String())
	}
	return &rgbPicture{size: size, rgb: out}
}

// topBoxes lists the types of an MP4's top-level boxes, in file order.
func topBoxes(t *testing.T, data []byte) []string {
	t.Helper()
	var types []string
	for off := uint64(0); off < uint64(len(data)); {
		if uint64(len(data))-off < 8 {
			t.Fatalf("a box header cut short at byte %d", off)
		}
		size := uint64(binary.BigEndian.Uint32(data[off:]))
		typ := string(data[off+4 : off+8])
		switch size {
		case 0: // to the end of the file
			size = uint64(len(data)) - off
		case 1: // a 64-bit size follows the type
			size = binary.BigEndian.Uint64(data[off+8:])
		}
		if size < 8 {
			t.Fatalf("box %q at byte %d has size %d", typ, off, size)
		}
		types = append(types, typ)
		off += size
	}
	return types
}

// getClip fetches path, requires an MP4 attachment named name and returns
// the file it was saved to.
func (f *pictureFixture) getClip(t *testing.T, path, name string) string {
	t.Helper()
	resp, body := f.get(t, path)
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "video/mp4" {
		t.Fatalf("GET %s: %d %s: %.200s", path, resp.StatusCode, resp.Header.Get("Content-Type"), body)
	}
	if cd, want := resp.Header.Get("Content-Disposition"), `attachment; filename="`+name+`"`; cd != want {
		t.Errorf("Content-Disposition %q, want %q", cd, want)
	}
	if boxes := topBoxes(t, body); slices.Index(boxes, "moov") < 0 || slices.Index(boxes, "moov") > slices.Index(boxes, "mdat") {
		t.Errorf("top-level boxes %v: want moov before mdat (faststart)", boxes)
	}
	out := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(out, body, 0o644); err != nil {
		t.Fatal(err)
	}
	return out
}

// checkClip requires the clip at path to present exactly the frames want
// (PTS from the segments), stamped relative to the first, in 1/90000, and
// its first picture to be the frame want[0].
func (f *pictureFixture) checkClip(t *testing.T, path string, want []clock.Ticks) *rgbPicture {
	t.Helper()
	if tb := timeBase(t, path); tb != "1/90000" {
		t.Fatalf("time base %s, want 1/90000", tb)
	}
	got := probePTS(t, path, "frame")
	rel := make([]clock.Ticks, len(want))
	for i, p := range want {
		rel[i] = p - want[0]
	}
	if !slices.Equal(got, rel) {
		t.Errorf("the clip presents %d frames at %v\nwant %d at %v (the segments' frames from pts %d)", len(got), got, len(rel), rel, want[0])
	}
	checkHead(t, path)
	pic := firstPicture(t, path, f.run.Source.Size())
	f.checkIsFrame(t, pic, want[0])
	return pic
}

// clipMarker returns a detector marker from 2 s before which to 1 s after
// which the segments are surely on disk, neither it nor the frame 2 s
// before it a segment's first: a clip of it starts after a keyframe.
func (f *pictureFixture) clipMarker(t *testing.T) marker.Marker {
	t.Helper()
	ms, err := f.run.Store.List(context.Background(), pipelinetest.Stream, 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	first := func(pts clock.Ticks) bool {
		return slices.ContainsFunc(f.run.Segments, func(s media.Segment) bool { return s.FirstPTS == pts })
	}
	for _, m := range ms {
		from, to := m.PTS-2*clock.Hz, m.PTS+clock.Hz
		if m.Source == marker.FromDetector && from >= 8*clock.Hz && to < f.run.PTS[len(f.run.PTS)-1] && !first(m.PTS) && !first(from) {
			if !f.onDisk(t, from, to) {
				t.Fatalf("the segments from pts %d to %d are gone", from, to)
			}
			return m
		}
	}
	t.Fatalf("no detector marker among %d at least 10 s in, 1 s before the end, off the segments' first frames", len(ms))
	return marker.Marker{}
}

func TestMarkerClip(t *testing.T) {
	f := newClipFixture(t)
	m := f.clipMarker(t)
	name := fmt.Sprintf("demo-marker-%d.mp4", m.ID)

	t.Run("before=0: the marker's frame first, the mint square in it", func(t *testing.T) {
		path := f.getClip(t, fmt.Sprintf("/api/streams/demo/markers/%d/clip.mp4?before=0&after=1", m.ID), name)
		want := f.framesBetween(t, m.PTS, m.PTS+clock.Hz)
		if len(want) < 25 || want[0] != m.PTS {
			t.Fatalf("the segments hold %d frames from the marker on, the first at %v: want a second's worth from pts %d", len(want), want[:1], m.PTS)
		}
		pic := f.checkClip(t, path, want)
		before := f.reference(t, f.run.PTS[f.frameIndex(t, m.PTS)-1], 0)
		if n, was := mintPixels(pic), mintPixels(before); n < 100 || was != 0 {
			t.Errorf("%d mint pixels in the clip's first frame, %d in the frame before the marker: want the square there and not before", n, was)
		}
	})

	t.Run("before=2: the frame 2 s earlier first", func(t *testing.T) {
		path := f.getClip(t, fmt.Sprintf("/api/streams/demo/markers/%d/clip.mp4?before=2&after=0.5", m.ID), name)
		want := f.framesBetween(t, m.PTS-2*clock.Hz, m.PTS+clock.Hz/2)
		f.checkClip(t, path, want)
	})

	t.Run("defaults: 2 s before, 5 s after, cut at the newest frame on disk", func(t *testing.T) {
		last := f.run.PTS[len(f.run.PTS)-1]
		if m.PTS+5*clock.Hz <= last {
			t.Fatalf("the marker at pts %d is more than 5 s before the last frame (%d)", m.PTS, last)
		}
		path := f.getClip(t, fmt.Sprintf("/api/streams/demo/markers/%d/clip.mp4", m.ID), name)
		f.checkClip(t, path, f.framesBetween(t, m.PTS-2*clock.Hz, last+1))
	})

	t.Run("from past a segment's last frame: the next segment's first", func(t *testing.T) {
		var seg media.Segment
		for _, s := range f.run.Segments {
			if s.Contains(m.PTS) {
				seg = s
			}
		}
		lastOf := f.framesBetween(t, seg.FirstPTS, seg.End())
		from := lastOf[len(lastOf)-1] + 1
		path := f.getClip(t, fmt.Sprintf("/api/streams/demo/clip.mp4?from=%d&to=%d", from, seg.End()+clock.Hz/2), fmt.Sprintf("demo-%d-%d.mp4", from, seg.End()+clock.Hz/2))
		want := f.framesBetween(t, from, seg.End()+clock.Hz/2)
		if want[0] != seg.End() {
			t.Fatalf("the first frame after pts %d is at %d, want the next segment's first, %d", from, want[0], seg.End())
		}
		f.checkClip(t, path, want)
	})

	t.Run("from and to between frames", func(t *testing.T) {
		i := f.frameIndex(t, m.PTS)
		from, to := f.run.PTS[i-17]+1, f.run.PTS[i+9]+1
		path := f.getClip(t, fmt.Sprintf("/api/streams/demo/clip.mp4?from=%d&to=%d", from, to), fmt.Sprintf("demo-%d-%d.mp4", from, to))
		want := f.framesBetween(t, from, to)
		if len(want) != 26 || want[0] != f.run.PTS[i-16] {
			t.Fatalf("the segments hold %d frames from %d to %d, want 26 from %d", len(want), from, to, f.run.PTS[i-16])
		}
		f.checkClip(t, path, want)
	})
}

func TestClipEndsAtDiscontinuity(t *testing.T) {
	f := newClipFixture(t)
	m := f.clipMarker(t)
	// The segment after the marker's is taken as a new run's first (as
	// after a restart): the playlist has EXT-X-DISCONTINUITY before it.
	var cut media.Segment
	for i, seg := range f.run.Segments {
		if seg.Contains(m.PTS) {
			cut = f.run.Segments[i+1]
		}
	}
	segmentAt := func(pts clock.Ticks) (media.Segment, bool) {
		seg, ok := f.run.Playlist.SegmentAt(pts)
		seg.Discontinuity = seg.Discontinuity || seg.Seq == cut.Seq
		return seg, ok
	}
	if !f.onDisk(t, m.PTS, cut.End()) {
		t.Fatal("the segments after the marker are gone")
	}
	f.srv.Config.Handler = server.New(server.Config{Streams: server.Fixed{{
		Name: streamName, Playlist: f.run.Playlist, Markers: f.run.Markers, Clips: clip.New(segmentAt),
	}}})
	path := f.getClip(t, fmt.Sprintf("/api/streams/demo/markers/%d/clip.mp4?before=0&after=%d", m.ID, int((cut.End()-m.PTS)/clock.Hz)+1), fmt.Sprintf("demo-marker-%d.mp4", m.ID))
	want := f.framesBetween(t, m.PTS, cut.FirstPTS)
	f.checkClip(t, path, want)
}

// casesBadClip are clip requests that must be refused with the status
// given and a JSON message holding want (the field at fault).
var casesBadClip = []struct {
	name, query string // query: after /api/streams/, %d the marker's ID
	status      int
	want        string
}{
	{"unknown marker", "demo/markers/9999/clip.mp4", 404, "no marker 9999"},
	{"unknown stream", "nope/markers/%d/clip.mp4", 404, "unknown stream"},
	{"before negative", "demo/markers/%d/clip.mp4?before=-1", 400, "before"},
	{"before not a number", "demo/markers/%d/clip.mp4?before=two", 400, "before"},
	{"before NaN", "demo/markers/%d/clip.mp4?before=NaN", 400, "before"},
	{"before twice", "demo/markers/%d/clip.mp4?before=1&before=2", 400, "before"},
	{"after huge", "demo/markers/%d/clip.mp4?after=1e9", 400, "after"},
	{"after infinite", "demo/markers/%d/clip.mp4?after=Inf", 400, "after"},
	{"span over 10 min", "demo/markers/%d/clip.mp4?before=300&after=300.5", 400, "after: the clip must span at most 10m0s"},
	{"span zero", "demo/markers/%d/clip.mp4?before=0&after=0", 400, "after"},
	{"no from", "demo/clip.mp4?to=100", 400, "from"},
	{"no to", "demo/clip.mp4?from=100", 400, "to"},
	{"from not a number", "demo/clip.mp4?from=x&to=100", 400, "from"},
	{"from negative", "demo/clip.mp4?from=-1&to=100", 400, "from"},
	{"to past 33 bits", "demo/clip.mp4?from=0&to=8589934592", 400, "to"},
	{"to twice", "demo/clip.mp4?from=0&to=1&to=2", 400, "to"},
	{"to equal to from", "demo/clip.mp4?from=900000&to=900000", 400, "to: must be after from"},
	{"to before from", "demo/clip.mp4?from=900000&to=899999", 400, "to: the clip must span at most 10m0s"},
	{"span over 10 min", "demo/clip.mp4?from=0&to=54000001", 400, "to: the clip must span at most 10m0s"},
}

func TestClipErrors(t *testing.T) {
	f := newClipFixture(t)
	m := f.clipMarker(t)
	// Nothing written: every clip's temporary file is made here (and the
	// test's own files too).
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	nothingLeft := func(t *testing.T) {
		t.Helper()
		if left, _ := filepath.Glob(filepath.Join(tmp, "hlsmark-clip-*")); len(left) > 0 {
			t.Errorf("%d clip files left in TMPDIR: %v", len(left), left)
		}
	}
	for _, c := range casesBadClip {
		t.Run(c.name, func(t *testing.T) {
			path := "/api/streams/" + c.query
			if strings.Contains(path, "%d") {
				path = fmt.Sprintf(path, m.ID)
			}
			resp, body := f.get(t, path)
			checkJSONError(t, resp, body, c.status)
			if !strings.Contains(string(body), c.want) {
				t.Errorf("%s: %s, want %q in it", path, body, c.want)
			}
			nothingLeft(t)
		})
	}
	t.Run("out of retention", func(t *testing.T) {
		first := f.run.PTS[0]
		if f.onDisk(t, first, first) {
			t.Fatal("the first segment is still on disk")
		}
		ms, err := f.run.Store.List(context.Background(), pipelinetest.Stream, 0, 1)
		if err != nil || len(ms) != 1 || f.onDisk(t, ms[0].PTS-2*clock.Hz, ms[0].PTS) {
			t.Fatalf("want a first marker whose segment is gone: %v %v", ms, err)
		}
		for _, path := range []string{
			fmt.Sprintf("/api/streams/demo/clip.mp4?from=%d&to=%d", first, first+clock.Hz),
			fmt.Sprintf("/api/streams/demo/markers/%d/clip.mp4", ms[0].ID),
		} {
			resp, body := f.get(t, path)
			checkJSONError(t, resp, body, http.StatusGone)
			if !strings.Contains(string(body), "no segment on disk") {
				t.Errorf("%s: %s", path, body)
			}
		}
		nothingLeft(t)
	})
	t.Run("a clip served leaves nothing", func(t *testing.T) {
		f.getClip(t, fmt.Sprintf("/api/streams/demo/markers/%d/clip.mp4?before=0&after=0.2", m.ID), fmt.Sprintf("demo-marker-%d.mp4", m.ID))
		nothingLeft(t)
	})
}
