//go:build cgo

package server

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/grafov/m3u8"

	"github.com/hlsmark/hlsmark/pipeline/clock"
	"github.com/hlsmark/hlsmark/pipeline/media"
	"github.com/hlsmark/hlsmark/pipeline/pipelinetest"
)

// vodServer runs 20 s of a real stream with a 2 s window, the least
// grace (3 s) and 10 s of retention, and serves it.
func vodServer(t *testing.T) *markerServer {
	t.Helper()
	return newMarkerServerFrom(t, "", pipelinetest.Config{
		Frames: 600, Seed: 3, Window: 2 * time.Second, Grace: 3 * time.Second, Retain: 10 * time.Second,
		EventEvery: 1500 * time.Millisecond, EventDuration: 300 * time.Millisecond,
	})
}

// fetch GETs url and returns the status and body.
func fetch(t *testing.T, url string) (int, []byte) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, b
}

// decodeVOD parses a VOD playlist with grafov/m3u8 in strict mode.
func decodeVOD(t *testing.T, data []byte) (*m3u8.MediaPlaylist, []*m3u8.MediaSegment) {
	t.Helper()
	pl, typ, err := m3u8.DecodeFrom(bytes.NewReader(data), true)
	if err != nil || typ != m3u8.MEDIA {
		t.Fatalf("grafov/m3u8 rejects the playlist (%v, type %v):\n%s", err, typ, data)
	}
	mp := pl.(*m3u8.MediaPlaylist)
	if mp.MediaType != m3u8.VOD || !mp.Closed {
		t.Fatalf("type %v, ended %v; want EXT-X-PLAYLIST-TYPE:VOD and EXT-X-ENDLIST:\n%s", mp.MediaType, mp.Closed, data)
	}
	var segs []*m3u8.MediaSegment
	for _, s := range mp.Segments {
		if s != nil {
			segs = append(segs, s)
		}
	}
	return mp, segs
}

// TestRetainedSegments: segments that left the window stay on disk for
// --retain and are served; the oldest, past it, are gone, and the folder
// holds a run of the newest segments that includes every listed one.
func TestRetainedSegments(t *testing.T) {
	s := vodServer(t)
	all := s.run.Segments
	listed := s.run.Playlist.Segments()
	end := all[len(all)-1].End()
	var onDisk []media.Seq
	for _, seg := range all {
		if _, err := os.Stat(seg.Path); err == nil {
			onDisk = append(onDisk, seg.Seq)
		}
	}
	if len(onDisk) == 0 || onDisk[0] == 0 {
		t.Fatalf("segments on disk %v: the first, older than --retain, should be gone", onDisk)
	}
	for i := range onDisk {
		if onDisk[i] != onDisk[0]+media.Seq(i) {
			t.Fatalf("segments on disk %v: not the newest run (deleted out of order)", onDisk)
		}
	}
	if last := onDisk[len(onDisk)-1]; last != all[len(all)-1].Seq || onDisk[0] > listed[0].Seq {
		t.Fatalf("segments on disk %v do not hold the listed %d..%d", onDisk, listed[0].Seq, listed[len(listed)-1].Seq)
	}
	// A segment 8 to 9.5 s old left the window more than the grace ago:
	// only retention keeps it.
	var old media.Segment
	for _, seg := range all {
		if age := (end - seg.FirstPTS).Duration(); age >= 8*time.Second && age <= 9500*time.Millisecond {
			old = seg
		}
	}
	if old.Path == "" || old.Seq >= listed[0].Seq {
		t.Fatalf("no unlisted segment 8 to 9.5 s old (listed from %d)", listed[0].Seq)
	}
	want, err := os.ReadFile(old.Path)
	if err != nil {
		t.Fatalf("retained segment %d is not on disk: %v", old.Seq, err)
	}
	code, got := fetch(t, s.URL+"/streams/demo/"+old.Name())
	if code != http.StatusOK || !bytes.Equal(got, want) {
		t.Fatalf("GET %s: %d, %d bytes; want 200 and the file's %d", old.Name(), code, len(got), len(want))
	}
}

// TestVODPlaylistOverRetained asks for a range of retained segments, from
// an RFC 3339 time to a pts:, and reads the answer with grafov: exactly
// the segments overlapping the range, each with its program date time,
// and the date ranges of the markers in it.
func TestVODPlaylistOverRetained(t *testing.T) {
	s := vodServer(t)
	all := s.run.Segments
	listed := s.run.Playlist.Segments()
	var retained []media.Segment
	for _, seg := range all {
		if _, err := os.Stat(seg.Path); err == nil && seg.Seq < listed[0].Seq {
			retained = append(retained, seg)
		}
	}
	if len(retained) < 4 {
		t.Fatalf("%d retained segments, want 4 at least", len(retained))
	}
	first, last := retained[1], retained[3]
	from := s.run.Timeline.Time(first.FirstPTS + 900).Format(time.RFC3339Nano)
	to := "pts:" + strconv.FormatInt(int64(last.FirstPTS.TS()), 10)
	code, body := fetch(t, s.URL+"/streams/demo/vod.m3u8?"+url.Values{"from": {from}, "to": {to}}.Encode())
	if code != http.StatusOK {
		t.Fatalf("status %d: %s", code, body)
	}
	pl, segs := decodeVOD(t, body)
	if pl.SeqNo != uint64(first.Seq) || len(segs) != 3 {
		t.Fatalf("MEDIA-SEQUENCE %d, %d segments; want %d..%d:\n%s", pl.SeqNo, len(segs), first.Seq, last.Seq, body)
	}
	for i, g := range segs {
		seg := all[int(first.Seq)+i]
		start := s.run.Timeline.Time(seg.FirstPTS)
		if g.URI != seg.Name() || g.ProgramDateTime.After(start) || start.Sub(g.ProgramDateTime) >= time.Millisecond {
			t.Errorf("entry %d: %s at %s; want %s at %s", i, g.URI, g.ProgramDateTime.Format(time.RFC3339Nano), seg.Name(), start.Format(time.RFC3339Nano))
		}
	}
	ms, err := s.run.Store.List(context.Background(), pipelinetest.Stream, 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range ms {
		in := m.PTS >= first.FirstPTS+900 && m.PTS <= last.FirstPTS
		listedTag := strings.Contains(string(body), `ID="marker-`+strconv.FormatUint(uint64(m.ID), 10)+`"`)
		if in != listedTag {
			t.Errorf("marker %d at pts %d: in range %v, its DATERANGE listed %v", m.ID, m.PTS, in, listedTag)
		}
	}
}

// TestMarkerOutsideWindowKeepsPosition: a detector marker whose segment
// left the window but is retained keeps its sequence and offset, and its
// vod_url lists that segment at that sequence number.
func TestMarkerOutsideWindowKeepsPosition(t *testing.T) {
	s := vodServer(t)
	listed := s.run.Playlist.Segments()
	ms, err := s.run.Store.List(context.Background(), pipelinetest.Stream, 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	var seg media.Segment
	var id string
	var pts clock.Ticks
	for _, m := range ms {
		for _, sg := range s.run.Segments {
			if _, err := os.Stat(sg.Path); err == nil && sg.Contains(m.PTS) && sg.Seq < listed[0].Seq {
				seg, id, pts = sg, strconv.FormatUint(uint64(m.ID), 10), m.PTS
			}
		}
	}
	if id == "" {
		t.Fatal("no marker in a retained segment out of the window")
	}
	var got markerView
	if code := getJSON(t, s.URL+"/api/streams/demo/markers/"+id, &got); code != http.StatusOK {
		t.Fatalf("GET marker %s: %d", id, code)
	}
	if got.Sequence == nil || *got.Sequence != seg.Seq || got.Offset == nil || *got.Offset != (pts-seg.FirstPTS).Seconds() {
		t.Fatalf("marker %s: sequence %v offset %v; want %d, %v", id, got.Sequence, got.Offset, seg.Seq, (pts - seg.FirstPTS).Seconds())
	}
	if got.VODURL == nil {
		t.Fatal("no vod_url")
	}
	code, body := fetch(t, s.URL+*got.VODURL)
	if code != http.StatusOK {
		t.Fatalf("GET %s: %d %s", *got.VODURL, code, body)
	}
	pl, segs := decodeVOD(t, body)
	found := false
	for i, g := range segs {
		if g.URI == seg.Name() {
			found = pl.SeqNo+uint64(i) == uint64(seg.Seq)
		}
	}
	if !found {
		t.Fatalf("vod_url's playlist does not list %s at sequence %d:\n%s", seg.Name(), seg.Seq, body)
	}
}

// casesBadVOD are VOD requests refused, and the parameter the answer names.
var casesBadVOD = []struct {
	name, query, field string
}{
	{"no from", "to=pts:0", "from:"},
	{"no to", "from=pts:0", "to:"},
	{"from not a time", "from=yesterday&to=pts:90000", "from:"},
	{"to not a pts", "from=pts:0&to=pts:x", "to:"},
	{"to before from", "from=2026-11-24T10:00:05Z&to=2026-11-24T10:00:01Z", "to:"},
	{"over 10 minutes", "from=pts:0&to=pts:" + strconv.Itoa(601*90000), "to:"},
	{"given twice", "from=pts:0&from=pts:1&to=pts:2", "from:"},
}

func TestVODBadInput(t *testing.T) {
	s := newMarkerServerFrom(t, "", pipelinetest.Config{Frames: 30, Seed: 1})
	for _, c := range casesBadVOD {
		t.Run(c.name, func(t *testing.T) {
			code, body := fetch(t, s.URL+"/streams/demo/vod.m3u8?"+c.query)
			if code != http.StatusBadRequest || !strings.Contains(string(body), c.field) {
				t.Fatalf("status %d %s; want 400 naming %s", code, body, c.field)
			}
		})
	}
}
