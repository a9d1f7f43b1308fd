package main

import (
	"bufio"
	"encoding/binary"
	"math"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/grafov/m3u8"

	"github.com/hlsmark/hlsmark/muxer/segread"
	"github.com/hlsmark/hlsmark/pipeline/clock"
)

// rawW and rawH are the picture size of the raw-input tests, and rawFlags
// their serve flags past fastStream.
const rawW, rawH = 160, 120

var rawFlags = []string{"--size", "160x120", "--fps", "25"}

// rawPicture returns picture i in rgb24: a ramp that moves with i, so the
// encoder has something to do.
func rawPicture(i int) []byte {
	pic := make([]byte, rawW*rawH*3)
	for p := range rawW * rawH {
		v := byte(p%rawW + 3*i)
		pic[3*p], pic[3*p+1], pic[3*p+2] = v, 255-v, byte(i)
	}
	return pic
}

// startRawServer starts `hlsmark serve` reading its standard input from a
// pipe and returns the server and the pipe's write end.
func startRawServer(t *testing.T, data string, extra ...string) (*childServer, *os.File) {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.Close() })
	s := startServerReading(t, nil, r, data, freeAddr(t), append(rawFlags, extra...)...)
	r.Close() // the child has its own copy
	return s, w
}

// endedPlaylist waits until the server's playlist has EXT-X-ENDLIST, then
// reads it from the stream's folder.
func endedPlaylist(t *testing.T, s *childServer, data string) *m3u8.MediaPlaylist {
	t.Helper()
	pollUntil(t, "a playlist with ENDLIST", 60*time.Second, func() bool {
		pl := s.mustPlaylist(t)
		return pl != nil && pl.Closed
	})
	f, err := os.Open(filepath.Join(data, "demo", "index.m3u8"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	pl, _, err := m3u8.DecodeFrom(bufio.NewReader(f), true)
	if err != nil {
		t.Fatal(err)
	}
	if !pl.(*m3u8.MediaPlaylist).Closed {
		t.Fatal("the playlist file has no EXT-X-ENDLIST")
	}
	return pl.(*m3u8.MediaPlaylist)
}

// decodedPTS decodes every segment the playlist lists, from its file, and
// returns each one's frames' PTS in order, by media sequence number.
func decodedPTS(t *testing.T, pl *m3u8.MediaPlaylist, data string) map[uint64][]clock.Ticks {
	t.Helper()
	return decodedPTSIn(t, pl, filepath.Join(data, "demo"))
}

// decodedPTSIn is decodedPTS for the stream whose folder is dir.
func decodedPTSIn(t *testing.T, pl *m3u8.MediaPlaylist, dir string) map[uint64][]clock.Ticks {
	t.Helper()
	out := map[uint64][]clock.Ticks{}
	for _, seg := range segments(pl) {
		if _, err := segread.Decode(filepath.Join(dir, seg.URI), func(f segread.Frame) error {
			out[seg.SeqId] = append(out[seg.SeqId], f.PTS)
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	}
	return out
}

// rejectedFrames reads hlsmark_frames_rejected_total from /metrics.
func rejectedFrames(t *testing.T, s *childServer) string {
	t.Helper()
	_, b := s.get("/metrics")
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, `hlsmark_frames_rejected_total{stream="demo"} `); ok {
			return v
		}
	}
	t.Fatalf("no hlsmark_frames_rejected_total in /metrics:\n%s", b)
	return ""
}

// TestFramedInputKeepsProducerPTS streams framed rgb24 frames with
// jittered PTS, one of them not rising, and a last one cut short, into
// `hlsmark serve --input -`: the stream ends with ENDLIST and is served
// on; decoding every listed segment gives every accepted PTS, tick for
// tick, and no other; the frame that did not rise is counted as rejected;
// a marker posted at one frame's PTS names that frame's segment and its
// offset from the segment's first frame. Checked to fail by stamping
// framed pictures with the clock (the PTS differ) and by making a
// non-rising PTS end the source (the 89 frames after it are missing).
func TestFramedInputKeepsProducerPTS(t *testing.T) {
	data := t.TempDir()
	s, w := startRawServer(t, data, "--input", "-", "--input-format", "framed", "--pix-fmt", "rgb24")

	rng := rand.New(rand.NewPCG(7, 14))
	const frames, repeated = 150, 60
	var sent []clock.Ticks
	go func() {
		defer w.Close()
		pts := clock.Ticks(5 * clock.Hz)
		var header [8]byte
		for i := range frames {
			if i != repeated { // frame 60 repeats frame 59's PTS
				pts += 3600 + clock.Ticks(rng.IntN(1201)-600)
			}
			binary.BigEndian.PutUint64(header[:], uint64(pts))
			if _, err := w.Write(append(header[:], rawPicture(i)...)); err != nil {
				return
			}
		}
		// A last frame cut short: the header and half a picture.
		binary.BigEndian.PutUint64(header[:], uint64(pts+3600))
		_, _ = w.Write(append(header[:], rawPicture(0)[:rawW*rawH]...))
	}()
	pts := clock.Ticks(5 * clock.Hz)
	r := rand.New(rand.NewPCG(7, 14))
	for i := range frames {
		if i != repeated {
			pts += 3600 + clock.Ticks(r.IntN(1201)-600)
			sent = append(sent, pts)
		}
	}

	pl := endedPlaylist(t, s, data)
	got := decodedPTS(t, pl, data)
	var all []clock.Ticks
	for _, seg := range segments(pl) {
		all = append(all, got[seg.SeqId]...)
	}
	slices.Sort(all)
	if !slices.Equal(all, sent) {
		t.Fatalf("decoded %d frames with PTS\n%v\nwant the %d sent\n%v", len(all), all, len(sent), sent)
	}
	if v := rejectedFrames(t, s); v != "1" {
		t.Errorf("hlsmark_frames_rejected_total %s, want 1 (the frame whose PTS did not rise)", v)
	}

	code, b := s.get("/api/streams")
	if code != http.StatusOK || !strings.Contains(string(b), `"state":"ended"`) {
		t.Errorf("/api/streams: %d %s, want the stream ended", code, b)
	}
	if code, b := s.get("/readyz"); code != http.StatusOK {
		t.Errorf("/readyz of an ended stream: %d %s, want 200", code, b)
	}

	target := sent[97]
	if code, _ := s.postMarker("event", int64(target)); code != http.StatusCreated {
		t.Fatalf("post a marker at PTS %d: %d", target, code)
	}
	var wantSeq uint64
	var wantOffset float64
	found := false
	for seq, ptss := range got {
		if slices.Contains(ptss, target) {
			wantSeq, wantOffset, found = seq, float64(target-slices.Min(ptss))/clock.Hz, true
		}
	}
	if !found {
		t.Fatalf("no segment holds PTS %d", target)
	}
	ms := s.markers(t)
	if len(ms) != 1 || ms[0].PTS != int64(target) || ms[0].Sequence == nil || ms[0].Offset == nil {
		t.Fatalf("markers %+v, want one at PTS %d with its place", ms, target)
	}
	if *ms[0].Sequence != wantSeq || math.Abs(*ms[0].Offset-wantOffset) > 1e-6 {
		t.Errorf("marker at PTS %d is in segment %d at %.6f s, want %d at %.6f s (the decoded frame's)",
			target, *ms[0].Sequence, *ms[0].Offset, wantSeq, wantOffset)
	}
	s.stop(t, syscall.SIGTERM)
	if !strings.Contains(s.log.String(), "does not rise") {
		t.Errorf("the log does not name the frame whose PTS did not rise:\n%s", s.log)
	}
}

// TestRawvideoInputStampsOnArrival streams gray frames back to back into
// `hlsmark serve --input pipe:0`: every frame comes out, with PTS strictly
// rising, and the stream ends with ENDLIST. Checked to fail by stamping
// every frame with the first one's PTS.
func TestRawvideoInputStampsOnArrival(t *testing.T) {
	data := t.TempDir()
	s, w := startRawServer(t, data, "--input", "pipe:0", "--pix-fmt", "gray")
	const frames = 60
	go func() {
		defer w.Close()
		for i := range frames {
			if _, err := w.Write(rawPicture(i)[:rawW*rawH]); err != nil {
				return
			}
		}
	}()
	pl := endedPlaylist(t, s, data)
	got := decodedPTS(t, pl, data)
	var all []clock.Ticks
	for _, seg := range segments(pl) {
		all = append(all, got[seg.SeqId]...)
	}
	if len(all) != frames {
		t.Fatalf("decoded %d frames, want %d", len(all), frames)
	}
	for i := 1; i < len(all); i++ {
		if all[i] <= all[i-1] {
			t.Fatalf("frame %d has PTS %d after %d: not strictly rising (%v)", i, all[i], all[i-1], all)
		}
	}
	s.stop(t, syscall.SIGTERM)
}
