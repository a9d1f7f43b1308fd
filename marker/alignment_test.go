//go:build cgo

package marker_test

import (
	"bufio"
	"bytes"
	"context"
	"image"
	"image/color"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/grafov/m3u8"

	"github.com/hlsmark/hlsmark/muxer/segread"
	"github.com/hlsmark/hlsmark/pipeline"
	"github.com/hlsmark/hlsmark/pipeline/clock"
	"github.com/hlsmark/hlsmark/pipeline/media"
	"github.com/hlsmark/hlsmark/pipeline/pipelinetest"
	"github.com/hlsmark/hlsmark/playlist"
)

// showsMint reports whether the decoded picture shows the mint colour at
// the centre of the given checkerboard cell.
func showsMint(img image.Image, col, row, block int) bool {
	c := color.NRGBAModel.Convert(img.At(col*block+block/2, row*block+block/2)).(color.NRGBA)
	near := func(v uint8, want uint8) bool { d := int(v) - int(want); return d > -40 && d < 40 }
	return near(c.R, pipeline.Mint[0]) && near(c.G, pipeline.Mint[1]) && near(c.B, pipeline.Mint[2])
}

// TestMarkersAlignWithDecodedFrames is the proof hlsmark exists for: every
// event the generator made has exactly one marker, and decoding the stream
// shows the event's first frame at exactly the marker's PTS, in the file
// the playlist lists for the marker's sequence, at the marker's offset from
// that file's first decoded frame, to the tick. Nothing of the muxer's own
// account of its segments is used: only the playlist file and the segment
// files.
func TestMarkersAlignWithDecodedFrames(t *testing.T) {
	const size, block = 240, 240 / 6
	r := pipelinetest.Start(t, pipelinetest.Config{
		Frames: 330, Jitter: 5300 * time.Microsecond, Seed: 3,
		EventEvery: 3 * time.Second, EventDuration: 700 * time.Millisecond,
	})
	events := r.Source.Events()
	ms, err := r.Store.List(context.Background(), "demo", 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	if len(events) < 3 {
		t.Fatalf("the generator made %d events, want at least 3 to compare", len(events))
	}
	if len(ms) != len(events) {
		t.Fatalf("%d markers for %d generator events (missed, doubled or invented)", len(ms), len(events))
	}

	segs := listedSegments(t, r.Dir)
	for i, ev := range events {
		m := ms[i]
		t.Run("event "+m.Label+" "+clock.Ticks(ev.FirstPTS).String(), func(t *testing.T) {
			if m.PTS != ev.FirstPTS {
				t.Fatalf("marker %d PTS %d, generator's first frame with the event %d", m.ID, m.PTS, ev.FirstPTS)
			}
			if ev.EndPTS != 0 && m.Duration != ev.EndPTS-ev.FirstPTS {
				t.Errorf("marker %d duration %d, generator's %d", m.ID, m.Duration, ev.EndPTS-ev.FirstPTS)
			}
			pos, ok := r.Markers.Position(m.PTS)
			if !ok {
				t.Fatalf("marker %d at %d has no position in the playlist", m.ID, m.PTS)
			}
			seg, ok := segs[pos.Seq]
			if !ok {
				t.Fatalf("marker %d names segment %d, which the playlist does not list", m.ID, pos.Seq)
			}
			file := seg.Path
			// Decode the file the playlist names for the marker's
			// sequence, and the one listed before it, and find the first
			// frame that shows the block. It must be in the named file,
			// at the marker's offset from that file's first frame.
			var first *segread.Frame
			var firstIn string
			var prevShown bool
			fileStart := map[string]clock.Ticks{}
			for _, path := range []string{segs[pos.Seq-1].Path, file} {
				if path == "" {
					continue
				}
				if _, err := segread.Decode(path, func(f segread.Frame) error {
					if _, ok := fileStart[path]; !ok {
						fileStart[path] = f.PTS
					}
					shown := showsMint(f.Image, ev.Col, ev.Row, block)
					if shown && !prevShown && first == nil && f.PTS <= m.PTS+clock.Hz {
						fr := f
						fr.Image = nil
						first, firstIn = &fr, path
					}
					prevShown = shown
					return nil
				}); err != nil {
					t.Fatal(err)
				}
			}
			switch {
			case first == nil:
				t.Fatalf("no decoded frame in segment %d (%s) shows marker %d's block", pos.Seq, file, m.ID)
			case firstIn != file:
				t.Fatalf("marker %d names segment %d (%s), but its first frame is in %s", m.ID, pos.Seq, file, firstIn)
			case first.PTS != m.PTS:
				t.Fatalf("first decoded frame with the block has PTS %d, marker says %d", first.PTS, m.PTS)
			}
			if got := first.PTS - fileStart[file]; got != pos.Offset {
				t.Fatalf("frame sits %d ticks after the first frame of %s, marker offset is %d", got, file, pos.Offset)
			}
		})
	}
}

// listedSegments reads the playlist file in dir and returns what it lists
// for each media sequence number.
func listedSegments(t *testing.T, dir string) map[media.Seq]pipelinetest.Listed {
	t.Helper()
	segs, _ := pipelinetest.ReadPlaylist(t, dir)
	out := map[media.Seq]pipelinetest.Listed{}
	for _, s := range segs {
		out[s.Seq] = s
	}
	return out
}

// TestDateRangesMatchMarkers checks each marker's EXT-X-DATERANGE:
// START-DATE is the marker's program date time, and HLS parsers accept
// the playlist.
func TestDateRangesMatchMarkers(t *testing.T) {
	r := pipelinetest.Start(t, pipelinetest.Config{Frames: 240, Seed: 5, EventEvery: 2 * time.Second, EventDuration: 500 * time.Millisecond})
	ms, err := r.Store.List(context.Background(), "demo", 0, 1000)
	if err != nil || len(ms) < 2 {
		t.Fatalf("markers %v, err %v: want at least 2", ms, err)
	}
	text := string(r.Playlist.Encoded())
	tags := map[string]string{}
	sc := bufio.NewScanner(strings.NewReader(text))
	for sc.Scan() {
		attrs, ok := strings.CutPrefix(sc.Text(), "#EXT-X-DATERANGE:")
		if !ok {
			continue
		}
		var id, start string
		for _, kv := range strings.Split(attrs, ",") {
			k, v, _ := strings.Cut(kv, "=")
			switch k {
			case "ID":
				id = strings.Trim(v, `"`)
			case "START-DATE":
				start = strings.Trim(v, `"`)
			}
		}
		tags[id] = start
	}
	for _, m := range ms {
		want := playlist.FormatTime(r.Timeline.Time(m.PTS))
		if got := tags[r.Markers.DateRange(m).ID]; got != want {
			t.Errorf("marker %d: DATERANGE START-DATE %q, program date time %q", m.ID, got, want)
		}
	}
	if len(tags) != len(ms) {
		t.Errorf("%d DATERANGE tags for %d markers", len(tags), len(ms))
	}
	if _, _, err := m3u8.DecodeFrom(bytes.NewReader(r.Playlist.Encoded()), true); err != nil {
		t.Errorf("grafov/m3u8 rejects the playlist: %v", err)
	}
	ffprobe, err := exec.LookPath("ffprobe")
	if err != nil {
		t.Fatal("ffprobe is required (Debian package ffmpeg): ", err)
	}
	out, err := exec.Command(ffprobe, "-v", "error", "-show_entries", "stream=codec_name", "-of", "csv=p=0",
		filepath.Join(r.Dir, playlist.FileName)).CombinedOutput()
	if err != nil || !strings.HasPrefix(string(out), "h264") {
		t.Errorf("ffprobe on the playlist: %q, %v", out, err)
	}
}

// TestStartDateLandsOnEventFrame maps each marker's START-DATE to a frame
// as an HLS client does, from the playlist alone: the segment whose
// PROGRAM-DATE-TIME is the last not after it (read with grafov/m3u8), and
// the offset START-DATE − PROGRAM-DATE-TIME from that segment's first
// frame. Decoding the segment (libav), the frame shown at that offset is
// the generator's first frame of the event, never the frame before (as it
// could be were START-DATE truncated to the millisecond).
func TestStartDateLandsOnEventFrame(t *testing.T) {
	r := pipelinetest.Start(t, pipelinetest.Config{
		Frames: 400, Jitter: 5300 * time.Microsecond, Seed: 8,
		EventEvery: 1700 * time.Millisecond, EventDuration: 500 * time.Millisecond,
	})
	events := r.Source.Events()
	pl, segs := decodePlaylist(t, r.Playlist.Encoded())
	var starts []time.Time
	sc := bufio.NewScanner(bytes.NewReader(r.Playlist.Encoded()))
	seen := map[string]bool{}
	for sc.Scan() {
		attrs, ok := strings.CutPrefix(sc.Text(), "#EXT-X-DATERANGE:")
		if !ok {
			continue
		}
		a := m3u8.DecodeAttributeList(attrs)
		if seen[a["ID"]] {
			continue // the tag that adds DURATION repeats the START-DATE
		}
		seen[a["ID"]] = true
		start, err := time.Parse(time.RFC3339Nano, a["START-DATE"])
		if err != nil {
			t.Fatal(err)
		}
		starts = append(starts, start)
	}
	if len(events) < 4 || len(starts) != len(events) {
		t.Fatalf("%d date ranges for %d events, want one each and at least 4", len(starts), len(events))
	}
	for i, start := range starts {
		j := len(segs) - 1
		for j > 0 && start.Before(segs[j].ProgramDateTime) {
			j--
		}
		offset := start.Sub(segs[j].ProgramDateTime)
		path := filepath.Join(r.Dir, segs[j].URI)
		var pts []clock.Ticks
		if _, err := segread.Decode(path, func(f segread.Frame) error { pts = append(pts, f.PTS); return nil }); err != nil {
			t.Fatal(err)
		}
		first := slices.Min(pts)
		var shown clock.Ticks = -1 // the last frame whose offset is not after START-DATE's
		for _, p := range pts {
			if int64(p-first)*int64(time.Second) <= int64(offset)*clock.Hz && p > shown {
				shown = p
			}
		}
		if ev := events[i]; shown != ev.FirstPTS {
			t.Errorf("event %d: START-DATE %s is %v into %s (MEDIA-SEQUENCE %d): the frame shown there has PTS %d, the event's first frame %d",
				i, start.Format(time.RFC3339Nano), offset, segs[j].URI, pl.SeqNo, shown, ev.FirstPTS)
		}
	}
}

// decodePlaylist reads a media playlist with grafov/m3u8 in strict mode.
func decodePlaylist(t *testing.T, data []byte) (*m3u8.MediaPlaylist, []*m3u8.MediaSegment) {
	t.Helper()
	pl, _, err := m3u8.DecodeFrom(bytes.NewReader(data), true)
	if err != nil {
		t.Fatal(err)
	}
	media := pl.(*m3u8.MediaPlaylist)
	var segs []*m3u8.MediaSegment
	for _, s := range media.Segments {
		if s != nil {
			segs = append(segs, s)
		}
	}
	return media, segs
}
