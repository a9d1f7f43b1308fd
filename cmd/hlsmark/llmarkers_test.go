package main

import (
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hlsmark/hlsmark/pipeline/clock"
	"github.com/hlsmark/hlsmark/pipeline/media"
)

// TestMarkerPlacedByItsPart runs `hlsmark serve --format fmp4 --segment
// 1s --part 200ms` on framed pictures (25 fps, so five frames a part) that
// stop in the middle of segment 1, so that segment is never listed whole
// while the test looks:
//
//   - a marker posted on a frame of a listed part of segment 1 is answered
//     with sequence 1 and the part's index, and its EXT-X-DATERANGE is in
//     the playlist beside that part;
//   - a marker posted on the newest frame, whose part is still being
//     written, has no position yet; once more frames end that part, the
//     event stream tells its sequence and part, still before segment 1 is
//     listed.
//
// That the named part holds the frame is checked by ffprobe decoding init +
// the part served. Checked to fail with Locate not looking at the parts
// of the segment being written (the first answer has sequence null) and
// with the stream not telling the marker service of parts (no event with
// the second marker's part comes).
func TestMarkerPlacedByItsPart(t *testing.T) {
	data := t.TempDir()
	s, w := startRawServer(t, data, append(fmp4Flags, "--segment", "1s", "--part", "200ms")...)
	const step = 3600 // 25 fps
	pts := func(i int) clock.Ticks { return 5*clock.Hz + clock.Ticks(i)*step }
	written := 0
	writeUpTo := func(n int) { // frames [written, n), at their pace
		start := time.Now()
		for i := written; i < n; i++ {
			time.Sleep(time.Until(start.Add((pts(i) - pts(written)).Duration())))
			writeFramed1(w, pts(i), i)
		}
		written = n
	}
	base := "/streams/demo/"
	playlist := func() string {
		_, b := s.get(base + "index.m3u8")
		return string(b)
	}
	// Segment 0 is frames 0 to 24, segment 1 from frame 25: its part 0 is
	// frames 25 to 29, part 1 frames 30 to 34, part 2 frames 35 to 39.
	writeUpTo(38)
	pollUntil(t, "parts 1.0 and 1.1 listed", 30*time.Second, func() bool {
		return strings.Contains(playlist(), `URI="1.1.m4s"`)
	})
	events := followEvents(t, s)

	code, listed := s.postMarker("listed part", int64(pts(27)))
	if code != 201 || listed.Sequence == nil || *listed.Sequence != 1 || listed.Part == nil {
		t.Fatalf("a marker on a frame of listed part 1.0: %d, sequence %v, part %v; want 201, 1 and a part", code, listed.Sequence, listed.Part)
	}
	checkPartHolds(t, s, data, 1, *listed.Part, pts(27))
	pollUntil(t, "the first marker's date range", 10*time.Second, func() bool {
		return strings.Contains(playlist(), `ID="marker-`+strconv.FormatInt(listed.ID, 10)+`"`)
	})
	if text := playlist(); strings.Contains(text, "\n1.m4s\n") {
		t.Fatalf("segment 1 listed, its frames were not all written:\n%s", text)
	}

	code, newest := s.postMarker("part being written", int64(pts(37)))
	if code != 201 || newest.Sequence != nil || newest.Part != nil {
		t.Fatalf("a marker on a frame of the part being written: %d, sequence %v, part %v; want 201, null, null", code, newest.Sequence, newest.Part)
	}
	writeUpTo(43) // frame 40 ends part 1.2
	var placed apiMarker
	deadline := time.After(30 * time.Second)
	for placed.Part == nil {
		select {
		case e := <-events:
			if e.marker.ID == newest.ID && e.marker.Part != nil {
				placed = e.marker
			}
		case <-deadline:
			t.Fatalf("no event gave the position of the marker on frame 37:\n%s", playlist())
		}
	}
	if placed.Sequence == nil || *placed.Sequence != 1 {
		t.Fatalf("the marker on frame 37: sequence %v, want 1", placed.Sequence)
	}
	checkPartHolds(t, s, data, 1, *placed.Part, pts(37))
	if text := playlist(); strings.Contains(text, "\n1.m4s\n") {
		t.Fatalf("segment 1 listed, its frames were not all written:\n%s", text)
	}
	w.Close()
	s.stop(t, syscall.SIGTERM)
}

// checkPartHolds has ffprobe decode the init segment and parts 0 to index
// of segment seq as served (a part that does not start with an IDR
// decodes only after the parts before it): a frame with PTS p must be
// among them, and not among those of the parts before index.
func checkPartHolds(t *testing.T, s *childServer, data string, seq uint64, index int, p clock.Ticks) {
	t.Helper()
	init, err := os.ReadFile(filepath.Join(data, "demo", media.InitName))
	if err != nil {
		t.Fatal(err)
	}
	var before []clock.Ticks
	cat := init
	for i := 0; i <= index; i++ {
		if i == index && i > 0 {
			before = probeFile(t, cat)
		}
		name := media.PartName(media.Seq(seq), i)
		code, part := s.get("/streams/demo/" + name)
		if code != 200 {
			t.Fatalf("part %s: %d", name, code)
		}
		cat = append(slices.Clone(cat), part...)
	}
	got := probeFile(t, cat)
	if !slices.Contains(got, p) || slices.Contains(before, p) {
		t.Fatalf("parts %d.0 to %d.%d decode to %v, those before %d.%d to %v: frame %d is not in part %d",
			seq, seq, index, got, seq, index, before, p, index)
	}
}
