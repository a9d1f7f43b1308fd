package web_test

import (
	"bytes"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/grafov/m3u8"
)

// listedSegment is a segment of the served playlist, read with grafov/m3u8.
type listedSegment struct {
	Seq           int
	URI           string
	Start         time.Time // EXT-X-PROGRAM-DATE-TIME
	End           time.Time // Start plus EXTINF
	Discontinuity bool
}

// readSegments reads the served playlist's segments.
func readSegments(t *testing.T, srv *server) []listedSegment {
	t.Helper()
	resp, err := http.Get(srv.base + "/streams/demo/index.m3u8")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	pl, kind, err := m3u8.DecodeFrom(bytes.NewReader(body), true)
	if err != nil || kind != m3u8.MEDIA {
		t.Fatalf("playlist: %v (kind %v)\n%s", err, kind, body)
	}
	media := pl.(*m3u8.MediaPlaylist)
	var out []listedSegment
	for i, s := range media.Segments {
		if s == nil {
			continue
		}
		out = append(out, listedSegment{
			Seq: int(media.SeqNo) + i, URI: s.URI, Start: s.ProgramDateTime,
			End:           s.ProgramDateTime.Add(time.Duration(s.Duration * float64(time.Second))),
			Discontinuity: s.Discontinuity,
		})
	}
	return out
}

// framePTS returns the PTS (90 kHz ticks) of the video frames of the
// served segment uri, ascending, as ffprobe reads them: an fMP4 segment
// (.m4s) after the stream's init segment, as a player reads it.
func framePTS(t *testing.T, srv *server, uri string) []int64 {
	t.Helper()
	path, err := exec.LookPath("ffprobe")
	if err != nil {
		t.Fatalf("ffprobe is required (make setup-test installs it): %v", err)
	}
	var data []byte
	if strings.HasSuffix(uri, ".m4s") {
		data = servedFile(t, srv, "init.mp4")
	}
	data = append(data, servedFile(t, srv, uri)...)
	file := filepath.Join(t.TempDir(), "segment")
	if err := os.WriteFile(file, data, 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(path, "-v", "error", "-select_streams", "v:0", "-show_entries", "packet=pts",
		"-of", "csv=p=0", file).Output()
	if err != nil {
		t.Fatalf("ffprobe %s: %v", uri, err)
	}
	var pts []int64
	for _, line := range strings.Fields(string(out)) {
		v, err := strconv.ParseInt(strings.TrimSuffix(line, ","), 10, 64)
		if err != nil {
			t.Fatalf("ffprobe %s: pts %q: %v", uri, line, err)
		}
		pts = append(pts, v)
	}
	if len(pts) == 0 {
		t.Fatalf("ffprobe found no video frame in %s", uri)
	}
	slices.Sort(pts)
	return pts
}

// servedFile returns the body of the stream's file name, served with 200.
func servedFile(t *testing.T, srv *server, name string) []byte {
	t.Helper()
	resp, err := http.Get(srv.base + "/streams/demo/" + name)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d %v", name, resp.StatusCode, err)
	}
	return b
}

// holeBeforeEvent makes the server skip frames just before the segment
// that will hold the next mint-square event, as a busy machine does: it
// stops the server's process (SIGSTOP) for 300 ms around the time its next
// IDR is due, and the source, more than its catch-up allowance behind,
// skips the frames it missed. The segment then opens with the first frame
// after the stall, 300 ms after the last one of the segment before, and
// not marked discontinuous (it lasts less than EXT-X-TARGETDURATION plus
// 499 ms). hls.js closes such a hole by moving the fragment's first frame
// back onto the end of the one before: the event's frame is then further
// from the fragment's start than its offset in the segment says.
//
// The stream must be made of 1 s segments with an event every 3 s (fixed),
// the first of them in marker 1. It returns the event's marker, once the
// API gives it a position and ffprobe shows the hole before its segment.
func holeBeforeEvent(t *testing.T, srv *server) apiMarker {
	t.Helper()
	const segment, every, stall = time.Second, 3 * time.Second, 300 * time.Millisecond
	var first struct {
		ProgramDateTime string `json:"program_date_time"`
	}
	srv.getJSON(t, "/api/streams/demo/markers/1", &first)
	firstEvent, err := time.Parse(time.RFC3339Nano, first.ProgramDateTime)
	if err != nil {
		t.Fatalf("marker 1's program_date_time %q: %v", first.ProgramDateTime, err)
	}
	for attempt := 1; attempt <= 5; attempt++ {
		// Just after a segment is listed, the next one's IDR is due a
		// segment after the listed one ends: the stall must fit before.
		segs := readSegments(t, srv)
		last := segs[len(segs)-1].Seq
		for segs[len(segs)-1].Seq == last {
			time.Sleep(20 * time.Millisecond) // polling the playlist; no event to wait on
			segs = readSegments(t, srv)
		}
		due := segs[len(segs)-1].End.Add(segment)
		// The segment after the hole starts when the stall ends and lasts
		// a segment: the event must come some frames into it.
		from := due.Add(stall / 2).Add(150 * time.Millisecond)
		k := (from.Sub(firstEvent) + every - 1) / every
		event := firstEvent.Add(k * every)
		if event.After(due.Add(stall / 2).Add(segment - 100*time.Millisecond)) {
			continue // not in the segment after the hole: wait for the next segment
		}
		if d := time.Until(due.Add(-stall / 2)); d > 0 {
			time.Sleep(d) // until the stall must begin
		} else {
			continue // the playlist came too late to stall before the IDR
		}
		if err := srv.cmd.Process.Signal(syscall.SIGSTOP); err != nil {
			t.Fatal(err)
		}
		time.Sleep(stall) // the stall itself
		if err := srv.cmd.Process.Signal(syscall.SIGCONT); err != nil {
			t.Fatal(err)
		}

		// The event's first frame is the first rendered at or after its
		// time, as marker 1's was: the two differ by under a frame, and
		// a late wake-up.
		m := waitMarkerAt(t, srv, event, 150*time.Millisecond)
		// With parts (--part) the marker has its position as soon as its
		// part is listed: its segment is listed whole a little later.
		for segs = readSegments(t, srv); segs[len(segs)-1].Seq < *m.Sequence; segs = readSegments(t, srv) {
			time.Sleep(20 * time.Millisecond) // polling the playlist; no event to wait on
		}
		i := slices.IndexFunc(segs, func(s listedSegment) bool { return s.Seq == *m.Sequence })
		if i < 1 {
			t.Fatalf("marker %d's segment %d is not listed after another: %+v", m.ID, *m.Sequence, segs)
		}
		before, after := framePTS(t, srv, segs[i-1].URI), framePTS(t, srv, segs[i].URI)
		hole := time.Duration(after[0]-before[len(before)-1]) * time.Second / 90000
		if hole >= stall*2/3 && !segs[i].Discontinuity && *m.Offset > 0 {
			t.Logf("a %s hole before segment %d, marker %d %.4f s into it", hole, *m.Sequence, m.ID, *m.Offset)
			return m
		}
		t.Logf("attempt %d: before segment %d (discontinuity %v) the frames jump by %s, marker %d at offset %.4f: no hole before an event",
			attempt, *m.Sequence, segs[i].Discontinuity, hole, m.ID, *m.Offset)
	}
	t.Fatal("no hole before an event's segment in 5 attempts")
	return apiMarker{}
}

// waitMarkerAt waits until the API lists a marker dated within of at, with
// a stream position, and returns it.
func waitMarkerAt(t *testing.T, srv *server, at time.Time, within time.Duration) apiMarker {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		var body struct {
			Markers []struct {
				apiMarker
				ProgramDateTime string `json:"program_date_time"`
			} `json:"markers"`
		}
		srv.getJSON(t, "/api/streams/demo/markers?limit=1000", &body)
		for _, m := range body.Markers {
			when, err := time.Parse(time.RFC3339Nano, m.ProgramDateTime)
			if err == nil && when.Sub(at).Abs() <= within && m.Sequence != nil && m.Offset != nil {
				return m.apiMarker
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no marker dated %s (give or take %s) with a stream position within 30s", at.Format(time.RFC3339Nano), within)
		}
		time.Sleep(200 * time.Millisecond) // polling the server; no event to wait on
	}
}
