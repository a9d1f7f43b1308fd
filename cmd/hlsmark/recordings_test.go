package main

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/grafov/m3u8"

	"github.com/hlsmark/hlsmark/muxer/segread"
	"github.com/hlsmark/hlsmark/pipeline/media"
	"github.com/hlsmark/hlsmark/playlist"
)

// recorded reads, cold, the segments a stopped server's state file says
// are on disk, listed or retained, by sequence number.
func recorded(t *testing.T, dir string) map[media.Seq]media.Segment {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, playlist.StateFile))
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	var st struct {
		Segments []media.Segment `json:"segments"`
		Retained []media.Segment `json:"retained"`
	}
	if err := json.Unmarshal(b, &st); err != nil {
		t.Fatalf("%s does not parse after a kill: %v", playlist.StateFile, err)
	}
	out := map[media.Seq]media.Segment{}
	for _, s := range append(st.Retained, st.Segments...) {
		out[s.Seq] = s
	}
	return out
}

// TestCrashKeepsRecordings kills a server recording past a 3-second window
// (--retain 1h) with SIGKILL at random moments. After each kill, cold:
// every segment the state records is on disk whole and decodes, and every
// segment recorded before an earlier kill still is (a crash loses no
// recording). Then a restarted server serves one VOD playlist over all the
// runs, each run after the first starting with EXT-X-DISCONTINUITY, and
// every segment it lists.
func TestCrashKeepsRecordings(t *testing.T) {
	data, addr := t.TempDir(), freeAddr(t)
	dir := filepath.Join(data, "demo")
	flags := []string{"--window", "3s", "--retain", "1h"}
	rng := rand.New(rand.NewPCG(16, 16))
	before := map[media.Seq]media.Segment{}
	starts := 0 // runs whose first segment was recorded
	for round := range 4 {
		s := startServer(t, data, addr, flags...)
		pollUntil(t, "the server to list a segment", 60*time.Second, func() bool {
			pl, err := s.playlist()
			return err == nil && pl != nil && len(segments(pl)) > 0
		})
		// Long enough for segments to leave the window (3 s) and be kept
		// only by retention.
		time.Sleep(time.Duration(4500+rng.IntN(2500)) * time.Millisecond)
		_ = s.cmd.Process.Kill()
		_ = s.cmd.Wait()

		now := recorded(t, dir)
		for seq, seg := range before {
			if _, ok := now[seq]; !ok {
				t.Fatalf("round %d: segment %d (pts %d) was recorded before the kill and is not any more", round, seq, seg.FirstPTS)
			}
		}
		for seq, seg := range now {
			path := filepath.Join(dir, seg.Name())
			fi, err := os.Stat(path)
			if err != nil || fi.Size() != seg.Size {
				t.Fatalf("round %d: recorded segment %d is not on disk whole: %v", round, seq, err)
			}
			if _, err := segread.Decode(path, func(segread.Frame) error { return nil }); err != nil {
				t.Fatalf("round %d: recorded segment %d: %v", round, seq, err)
			}
		}
		if len(now) <= len(before) {
			t.Fatalf("round %d: %d segments recorded, %d before: the run recorded nothing", round, len(now), len(before))
		}
		before = now
		starts++
	}

	s := startServer(t, data, addr, flags...)
	pollUntil(t, "the server to answer", 60*time.Second, func() bool { code, _ := s.get("/healthz"); return code == 200 })
	first, last := media.Seq(1<<62), media.Seq(0)
	for seq := range before {
		first, last = min(first, seq), max(last, seq)
	}
	if int(last-first)+1 != len(before) {
		t.Fatalf("recorded segments %d..%d are not a run of %d: one went missing", first, last, len(before))
	}
	from, to := before[first].FirstPTS, before[last].End()-1
	if (to - from).Duration() > 10*time.Minute {
		t.Fatalf("the recording spans %s: over a VOD playlist's 10 minutes", (to - from).Duration())
	}
	q := "from=pts:" + strconv.FormatInt(int64(from.TS()), 10) + "&to=pts:" + strconv.FormatInt(int64(to.TS()), 10)
	code, body := s.get("/streams/demo/vod.m3u8?" + q)
	if code != http.StatusOK {
		t.Fatalf("vod.m3u8?%s: %d %s", q, code, body)
	}
	pl, typ, err := m3u8.DecodeFrom(bytes.NewReader(body), true)
	if err != nil || typ != m3u8.MEDIA {
		t.Fatalf("VOD playlist does not parse (%v):\n%s", err, body)
	}
	segs := segments(pl.(*m3u8.MediaPlaylist))
	if len(segs) != len(before) {
		t.Fatalf("VOD playlist lists %d segments, %d recorded:\n%s", len(segs), len(before), body)
	}
	breaks := 0
	for i, seg := range segs {
		want := before[first+media.Seq(i)]
		if seg.URI != want.Name() {
			t.Fatalf("entry %d is %s, want %s", i, seg.URI, want.Name())
		}
		if seg.Discontinuity {
			breaks++
		}
		if code, _ := s.get("/streams/demo/" + seg.URI); code != http.StatusOK {
			t.Fatalf("GET %s listed in the VOD playlist: %d", seg.URI, code)
		}
	}
	// Every run after the first begins with a discontinuity; a kill in
	// the middle of a run adds none of its own.
	if breaks != starts-1 {
		t.Fatalf("%d discontinuities over %d runs, want %d:\n%s", breaks, starts, starts-1, body)
	}
}
