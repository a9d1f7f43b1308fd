package main

import (
	"bytes"
	"encoding/binary"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hlsmark/hlsmark/pipeline/clock"
	"github.com/hlsmark/hlsmark/pipeline/media"
)

// writePaced writes a framed picture for every PTS into w at the pace the
// PTS give (a live source), then closes w.
func writePaced(w *os.File, pts []clock.Ticks) {
	defer w.Close()
	start := time.Now()
	for i, p := range pts {
		time.Sleep(time.Until(start.Add((p - pts[0]).Duration())))
		writeFramed1(w, p, i)
	}
}

// writeFramed1 writes picture i with its PTS p.
func writeFramed1(w *os.File, p clock.Ticks, i int) {
	var header [8]byte
	binary.BigEndian.PutUint64(header[:], uint64(p))
	_, _ = w.Write(append(header[:], rawPicture(i)...))
}

var (
	hintLine = regexp.MustCompile(`#EXT-X-PRELOAD-HINT:TYPE=PART,URI="([^"]+)"`)
	partLine = regexp.MustCompile(`#EXT-X-PART:DURATION=[0-9.]+,URI="([^"]+)"`)
)

// TestServeLowLatency runs `hlsmark serve --format fmp4 --part 200ms` on
// a live source (framed pictures at their PTS' pace) and follows it as a
// Low-Latency client does: it asks for the preload-hinted part (answered
// once written), then reloads the playlist blocking on that part, and so
// on. Every listed segment whose parts it fetched is those parts
// concatenated, byte for byte, and init + the parts decodes (ffprobe) to
// a run of the PTS sent; meanwhile ffprobe plays the LL playlist over HTTP
// from its start and reads every PTS sent. Checked to fail with the
// hinted part answered 404 (the client gets no part).
func TestServeLowLatency(t *testing.T) {
	data := t.TempDir()
	sent := jitteredPTS(9, 5*clock.Hz, 300)
	s, w := startRawServer(t, data, append(fmp4Flags, "--segment", "1s", "--part", "200ms")...)
	go writePaced(w, sent)
	base := "/streams/demo/"

	var text string
	pollUntil(t, "a preload hint", 30*time.Second, func() bool {
		code, b := s.get(base + "index.m3u8")
		text = string(b)
		return code == 200 && hintLine.MatchString(text) && strings.Contains(text, "\n0.m4s\n")
	})
	probed := make(chan []clock.Ticks, 1)
	go func() {
		pts, _ := probeFrames(t, s.base+base+"index.m3u8")
		probed <- pts
	}()

	parts := map[string][]byte{}
	misses := 0
	for len(parts) < 40 {
		hint := hintOf(t, text)
		seq, index, ok := media.ParsePartName(hint)
		if !ok {
			t.Fatalf("preload hint %q is no part name", hint)
		}
		if code, b := s.get(base + hint); code == 200 {
			parts[hint] = b
		} else {
			misses++ // the segment ended before it: the next part is the next segment's first
		}
		if misses > 10 && misses > len(parts)/3 {
			t.Fatalf("%d hinted parts missed, %d fetched: hinted parts are not served as written", misses, len(parts))
		}
		code, b := s.get(base + "index.m3u8?_HLS_msn=" + strconv.FormatUint(uint64(seq), 10) + "&_HLS_part=" + strconv.Itoa(index))
		if code != 200 {
			t.Fatalf("blocking reload for %s: %d %s", hint, code, b)
		}
		text = string(b)
		if _, ok := parts[hint]; ok && !strings.Contains(text, `URI="`+hint+`"`) {
			t.Fatalf("blocking reload for %s answered without it:\n%s", hint, text)
		}
		// After a miss, the parts of the next segment listed meanwhile.
		next := hintOf(t, text)
		nextSeq, _, _ := media.ParsePartName(next)
		for _, m := range partLine.FindAllStringSubmatch(text, -1) {
			if ps, _, _ := media.ParsePartName(m[1]); ps == nextSeq && parts[m[1]] == nil && len(parts) > 0 {
				if code, b := s.get(base + m[1]); code == 200 {
					parts[m[1]] = b
				}
			}
		}
	}

	init, err := os.ReadFile(filepath.Join(data, "demo", media.InitName))
	if err != nil {
		t.Fatal(err)
	}
	checked := 0
	var listed []string
	for _, line := range strings.Split(text, "\n") {
		if m := partLine.FindStringSubmatch(line); m != nil {
			listed = append(listed, m[1])
			continue
		}
		if !strings.HasSuffix(line, ".m4s") || strings.HasPrefix(line, "#") {
			continue
		}
		var cat []byte
		whole := len(listed) > 0
		for _, name := range listed {
			b, ok := parts[name]
			whole = whole && ok
			cat = append(cat, b...)
		}
		listed = nil
		if !whole {
			continue
		}
		code, seg := s.get(base + line)
		if code != 200 || !bytes.Equal(seg, cat) {
			t.Fatalf("segment %s: %d, %d bytes; its parts hold %d", line, code, len(seg), len(cat))
		}
		pts := probeFile(t, append(slices.Clone(init), cat...))
		i := slices.Index(sent, pts[0])
		if i < 0 || i+len(pts) > len(sent) || !slices.Equal(pts, sent[i:i+len(pts)]) {
			t.Fatalf("segment %s: init + parts decode to %v, not a run of the PTS sent", line, pts)
		}
		checked++
	}
	if checked < 2 {
		t.Fatalf("%d segments checked against their parts, want 2 or more\n%s", checked, text)
	}
	got := <-probed
	if !slices.Equal(got, sent) {
		t.Fatalf("ffprobe playing the LL playlist: %d frames\n%v\nwant the %d sent\n%v", len(got), got, len(sent), sent)
	}
	s.stop(t, syscall.SIGTERM)
}

// hintOf returns the URI of the playlist's preload hint.
func hintOf(t *testing.T, text string) string {
	t.Helper()
	m := hintLine.FindStringSubmatch(text)
	if m == nil {
		t.Fatalf("no preload hint (the stream ended before the parts were fetched?):\n%s", text)
	}
	return m[1]
}

// probeFile has ffprobe decode MP4 data and returns its frames' PTS in
// presentation order.
func probeFile(t *testing.T, data []byte) []clock.Ticks {
	t.Helper()
	path := filepath.Join(t.TempDir(), "parts.mp4")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	pts, _ := probeFrames(t, path)
	slices.Sort(pts)
	return pts
}

// TestPartFlag refuses --part without fmp4, longer than a third of
// --segment, or negative: one line, exit 2.
func TestPartFlag(t *testing.T) {
	for _, args := range [][]string{
		{"--part", "200ms"},
		{"--format", "fmp4", "--segment", "1s", "--part", "400ms"},
		{"--format", "fmp4", "--part", "-1s"},
	} {
		data := t.TempDir()
		r := runCLI(t, data, append([]string{"serve", "--addr", unusedAddr(t), "--data", data}, args...)...)
		checkUsageError(t, r, "--part")
	}
}
