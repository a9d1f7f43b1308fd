package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"image/jpeg"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/grafov/m3u8"

	"github.com/hlsmark/hlsmark/pipeline/clock"
	"github.com/hlsmark/hlsmark/pipeline/media"
	"github.com/hlsmark/hlsmark/playlist"
)

// TestFMP4RestartKeepsRunInits serves fMP4 at 320x240, stops, serves the
// same folder at 320x240 again, stops, and serves it at 160x120.
//
// The second run's init segment has the first's bytes: it takes the first
// run's (one init-{seq}.mp4 on disk), and every line the first run served
// is served unchanged after the restart, EXT-X-MAP:URI="init.mp4" heading
// them (RFC 8216, section 6.2.1: a server only appends and removes).
// Checked to fail when every run keeps its own init segment.
//
// The third run's differs: the live playlist names the earlier runs' own
// init segment (init-{their first seq}.mp4) for their segments and
// init.mp4 after the EXT-X-DISCONTINUITY that starts the third, both
// served, and the VOD playlist across the runs, played over HTTP, decodes
// every frame at its run's size (see checkVODSizes); frame.jpg of the
// first run's first frame, decoded by the server, has the first size.
// Checked to fail with every EXT-X-MAP naming init.mp4 (the first run's
// frames decoded at 160x120, with errors).
func TestFMP4RestartKeepsRunInits(t *testing.T) {
	data, addr := t.TempDir(), freeAddr(t)
	sizes := []string{"320x240", "320x240", "160x120"}
	var firstOfRun []uint64
	var served []byte // the playlist as the first run served it last
	for run, size := range sizes {
		from := uint64(0)
		if len(firstOfRun) > 0 {
			from = uint64(readState(t, data).NextSeq)
		}
		firstOfRun = append(firstOfRun, from)
		s := startServer(t, data, addr, "--format", "fmp4", "--size", size)
		pollUntil(t, "3 segments of the run at "+size, 60*time.Second, func() bool {
			pl := s.mustPlaylist(t)
			if pl == nil {
				return false
			}
			segs := segments(pl)
			return len(segs) > 0 && segs[len(segs)-1].SeqId >= from+3
		})
		switch run {
		case 0:
			served = fetch(t, s, "index.m3u8")
		case 1:
			checkServedUnchanged(t, served, fetch(t, s, "index.m3u8"))
			if inits, _ := filepath.Glob(filepath.Join(data, "demo", "init-*.mp4")); len(inits) != 1 {
				t.Errorf("init segments %v after a restart with the same picture, want the first run's alone", inits)
			}
		case 2:
			checkRunMaps(t, s, []uint64{firstOfRun[0], firstOfRun[2]})
			checkVODSizes(t, s, data, firstOfRun[2], []string{sizes[0], sizes[2]})
			checkFrameSize(t, s, readState(t, data).Segments[0].FirstPTS, sizes[0])
		}
		s.stop(t, syscall.SIGTERM)
	}
}

// checkServedUnchanged checks that the playlist now, after a restart,
// carries the lines of every segment before listed, from its first
// EXT-X-MAP on, as they were: the playlist before, from its EXT-X-MAP
// to its end, is a run of lines of the playlist now.
func checkServedUnchanged(t *testing.T, before, now []byte) {
	t.Helper()
	i := bytes.Index(before, []byte("#EXT-X-MAP:"))
	if i < 0 {
		t.Fatalf("no EXT-X-MAP before the restart:\n%s", before)
	}
	if !bytes.Contains(now, before[i:]) {
		t.Fatalf("the lines served before the restart changed\nbefore:\n%s\nafter:\n%s", before[i:], now)
	}
	if n := bytes.Count(now, []byte("#EXT-X-MAP:")); n != 1 {
		t.Errorf("%d EXT-X-MAP after a restart with the same init segment, want 1:\n%s", n, now)
	}
}

// runState is what the tests read of a stream's state file.
type runState struct {
	Segments []media.Segment `json:"segments"`
	NextSeq  media.Seq       `json:"next_seq"`
}

// readState reads the state file of the stream demo in data.
func readState(t *testing.T, data string) runState {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(data, "demo", playlist.StateFile))
	if err != nil {
		t.Fatal(err)
	}
	var st runState
	if err := json.Unmarshal(b, &st); err != nil {
		t.Fatal(err)
	}
	return st
}

// checkRunMaps checks the live playlist's EXT-X-MAP tags: the first run's
// own init segment at the top, init.mp4 right after the discontinuity
// that starts the second run (first[1]), and both served.
func checkRunMaps(t *testing.T, s *childServer, first []uint64) {
	t.Helper()
	code, body := s.get("/streams/demo/index.m3u8")
	if code != http.StatusOK {
		t.Fatalf("playlist: %d", code)
	}
	var maps []string
	lines := strings.Split(string(body), "\n")
	for i, l := range lines {
		uri, ok := strings.CutPrefix(l, "#EXT-X-MAP:URI=")
		if !ok {
			continue
		}
		maps = append(maps, strings.Trim(uri, `"`))
		if len(maps) == 2 && (i == 0 || lines[i-1] != "#EXT-X-DISCONTINUITY") {
			t.Errorf("the second EXT-X-MAP follows %q, not the run's EXT-X-DISCONTINUITY", lines[i-1])
		}
	}
	want := []string{fmt.Sprintf("init-%d.mp4", first[0]), "init.mp4"}
	if strings.Join(maps, " ") != strings.Join(want, " ") {
		t.Fatalf("EXT-X-MAP URIs %v, want %v:\n%s", maps, want, body)
	}
	for _, uri := range maps {
		if code, _ := s.get("/streams/demo/" + uri); code != http.StatusOK {
			t.Errorf("%s: %d", uri, code)
		}
	}
}

// checkVODSizes reads the VOD playlist of every segment on disk with
// grafov/m3u8 and plays it as a player does, each segment after the init
// segment its latest EXT-X-MAP names, all fetched over HTTP: ffprobe
// decodes every frame of every segment (their count from state.json),
// sizes[0] before segment second and sizes[1] from it, and says nothing
// at -v error. (FFmpeg 5.1's own HLS demuxer cannot be the player here:
// it feeds a new EXT-X-MAP's moov into the mp4 demuxer it has open, which
// skips it as a duplicate, and decodes the next run with the first run's
// SPS.)
func checkVODSizes(t *testing.T, s *childServer, data string, second uint64, sizes []string) {
	t.Helper()
	st := readState(t, data)
	frames := map[uint64]int{}
	for _, seg := range st.Segments {
		frames[uint64(seg.Seq)] = seg.Frames
	}
	first, last := st.Segments[0], st.Segments[len(st.Segments)-1]
	code, body := s.get(fmt.Sprintf("/streams/demo/vod.m3u8?from=pts:%d&to=pts:%d", first.FirstPTS, last.FirstPTS))
	if code != http.StatusOK {
		t.Fatalf("VOD playlist: %d %s", code, body)
	}
	pl, _, err := m3u8.DecodeFrom(bytes.NewReader(body), true)
	if err != nil {
		t.Fatalf("grafov: %v\n%s", err, body)
	}
	// runs are the listed segments, grouped by the init segment they
	// play after.
	type run struct {
		init string
		data []byte
		want []string
	}
	var runs []*run
	for _, seg := range segments(pl.(*m3u8.MediaPlaylist)) {
		if seg.Map != nil {
			runs = append(runs, &run{init: seg.Map.URI, data: fetch(t, s, seg.Map.URI)})
		}
		if len(runs) == 0 {
			t.Fatalf("segment %s before any EXT-X-MAP:\n%s", seg.URI, body)
		}
		r := runs[len(runs)-1]
		r.data = append(r.data, fetch(t, s, seg.URI)...)
		size := sizes[0]
		if seg.SeqId >= second {
			size = sizes[1]
		}
		for range frames[seg.SeqId] {
			r.want = append(r.want, size)
		}
	}
	if len(runs) != 2 {
		t.Fatalf("%d EXT-X-MAP in the VOD playlist, want one for each run:\n%s", len(runs), body)
	}
	for _, r := range runs {
		if got := probeSizes(t, r.data); strings.Join(got, " ") != strings.Join(r.want, " ") {
			t.Errorf("after %s, ffprobe decodes %d frames\n%v\nwant %d\n%v", r.init, len(got), got, len(r.want), r.want)
		}
	}
}

// fetch GETs the stream's file uri, failing the test unless it is 200.
func fetch(t *testing.T, s *childServer, uri string) []byte {
	t.Helper()
	code, body := s.get("/streams/demo/" + uri)
	if code != http.StatusOK {
		t.Fatalf("%s: %d", uri, code)
	}
	return body
}

// probeSizes has ffprobe decode the MP4 data and returns each frame's
// WIDTHxHEIGHT; anything it says at -v error fails the test.
func probeSizes(t *testing.T, data []byte) []string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "run.mp4")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("ffprobe", "-v", "error", "-select_streams", "v", "-show_entries", "frame=width,height", "-of", "json", path)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil || stderr.Len() > 0 {
		t.Fatalf("ffprobe (Debian package ffmpeg): %v\n%.2000s", err, stderr.String())
	}
	var probe struct {
		Frames []struct{ Width, Height int } `json:"frames"`
	}
	if err := json.Unmarshal(out, &probe); err != nil {
		t.Fatal(err)
	}
	var sizes []string
	for _, f := range probe.Frames {
		sizes = append(sizes, fmt.Sprintf("%dx%d", f.Width, f.Height))
	}
	return sizes
}

// checkFrameSize GETs frame.jpg of PTS pts and checks its size.
func checkFrameSize(t *testing.T, s *childServer, pts clock.Ticks, size string) {
	t.Helper()
	code, b := s.get(fmt.Sprintf("/api/streams/demo/frame.jpg?pts=%d", pts))
	if code != http.StatusOK {
		t.Fatalf("frame.jpg of PTS %d: %d %.200s", pts, code, b)
	}
	cfg, err := jpeg.DecodeConfig(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("frame.jpg of PTS %d: %v", pts, err)
	}
	if got := fmt.Sprintf("%dx%d", cfg.Width, cfg.Height); got != size {
		t.Errorf("frame.jpg of PTS %d: %s, want %s", pts, got, size)
	}
}
