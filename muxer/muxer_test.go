package muxer_test

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hlsmark/hlsmark/muxer"
	"github.com/hlsmark/hlsmark/pipeline/clock"
	"github.com/hlsmark/hlsmark/pipeline/media"
	"github.com/hlsmark/hlsmark/pipeline/pipelinetest"
)

// tsPacket is the size of an MPEG-TS packet: every complete file is a
// whole number of them.
const tsPacket = 188

// casesEncoding are the encoder settings the muxer must cut correctly.
// With B-frames, packets arrive in decode order; the frame counts put each
// shape of the last mini-GOP (P, P B, P B B) at the end of the stream.
// With every frame an IDR, no segment's first picture follows a non-key one.
var casesEncoding = []struct {
	name        string
	bframes     int
	frames      int
	keyInterval time.Duration
}{
	{"jittered clock", 0, 200, 0},
	{"b-frames", 2, 200, 0},
	{"b-frames ending 1 later", 2, 201, 0},
	{"b-frames ending 2 later", 2, 202, 0},
	{"every frame an IDR", 0, 200, time.Nanosecond},
}

// TestSegmentsDecodeBack decodes every segment with libav and checks the
// muxer's account of it against the file: each opens with an IDR at its
// FirstPTS, holds its frames and no others, and the segments tile the
// stream's timeline without gaps or overlaps.
func TestSegmentsDecodeBack(t *testing.T) {
	for _, c := range casesEncoding {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			r := runMuxer(t, runConfig{dir: dir, frames: c.frames, bframes: c.bframes, keyInterval: c.keyInterval})
			if len(r.segments) < 5 {
				t.Fatalf("%d segments from %d frames at 1 s, want at least 5", len(r.segments), c.frames)
			}
			tl := clock.Timeline{Epoch: pipelinetest.Epoch}
			var all []clock.Ticks
			var frames int
			for i, seg := range r.segments {
				if seg.Seq != media.Seq(i) || seg.Path != filepath.Join(dir, media.SegmentName(seg.Seq)) {
					t.Fatalf("segment %d: seq %d at %s", i, seg.Seq, seg.Path)
				}
				if !seg.Start.Equal(tl.Time(seg.FirstPTS)) {
					t.Errorf("segment %d: Start %v, timeline says %v", i, seg.Start, tl.Time(seg.FirstPTS))
				}
				st, err := os.Stat(seg.Path)
				if err != nil {
					t.Fatal(err)
				}
				if st.Size() != seg.Size || st.Size()%tsPacket != 0 {
					t.Errorf("segment %d: file is %d bytes, Size says %d", i, st.Size(), seg.Size)
				}
				d := decode(t, seg.Path)
				if d.file.Codec != "h264" || !d.file.FirstPacketKey || len(d.frames) == 0 || !d.frames[0].Key {
					t.Fatalf("segment %d: codec %q, first packet key %v, %d frames: want h264 opening with an IDR",
						i, d.file.Codec, d.file.FirstPacketKey, len(d.frames))
				}
				if d.frames[0].PTS != seg.FirstPTS {
					t.Errorf("segment %d: first decoded PTS %d, FirstPTS %d", i, d.frames[0].PTS, seg.FirstPTS)
				}
				if len(d.frames) != seg.Frames || d.file.Packets != seg.Frames {
					t.Errorf("segment %d: %d frames and %d packets decoded, Frames says %d", i, len(d.frames), d.file.Packets, seg.Frames)
				}
				for _, f := range d.frames {
					if !seg.Contains(f.PTS) {
						t.Errorf("segment %d [%d, %d): holds a frame at %d", i, seg.FirstPTS, seg.End(), f.PTS)
					}
					all = append(all, f.PTS)
				}
				if i+1 < len(r.segments) && seg.End() != r.segments[i+1].FirstPTS {
					t.Errorf("segment %d ends at %d, segment %d starts at %d", i, seg.End(), i+1, r.segments[i+1].FirstPTS)
				}
				frames += seg.Frames
			}
			first, last := r.segments[0], r.segments[len(r.segments)-1]
			var sum clock.Ticks
			for _, s := range r.segments {
				sum += s.Duration
			}
			// The last segment ends one frame interval after its last frame:
			// the gap between the last two frames shown.
			n := len(r.pts)
			if want := r.pts[n-1] + (r.pts[n-1] - r.pts[n-2]); last.End() != want {
				t.Errorf("last segment ends at %d, want %d: its last frame at %d plus one frame", last.End(), want, r.pts[n-1])
			}
			if sum != last.End()-first.FirstPTS {
				t.Errorf("durations add up to %d, the segments span %d", sum, last.End()-first.FirstPTS)
			}
			if frames != len(r.pts) || !slices.Equal(all, r.pts) {
				t.Errorf("segments hold %d frames (%d decoded), generator made %d; decoded PTS differ: %v",
					frames, len(all), len(r.pts), !slices.Equal(all, r.pts))
			}
		})
	}
}

// TestPublishIsAtomic checks that a segment appears under its name only
// once complete. After every packet the folder must hold exactly the
// published segments, at their final size, and the open segment under a
// dot-prefixed temporary name. Meanwhile a reader polls the folder as fast
// as it can, and every N.ts it manages to open must already be the file's
// final content.
func TestPublishIsAtomic(t *testing.T) {
	dir := t.TempDir()
	var (
		wg    sync.WaitGroup
		stop  = make(chan struct{})
		first = map[string][]byte{} // the first content the poller read of each segment
	)
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case <-stop:
				pollOnce(t, dir, first) // one last look at the finished folder
				return
			default:
				pollOnce(t, dir, first)
			}
		}
	}()
	stopPoller := sync.OnceFunc(func() { close(stop); wg.Wait() })
	defer stopPoller() // also when the run fails

	var checks int
	r := runMuxer(t, runConfig{dir: dir, frames: 150, afterPacket: func(m *muxer.Muxer, published []media.Segment) error {
		checks++
		want := map[string]int64{"." + media.SegmentName(m.NextSeq()) + ".tmp": -1}
		for _, s := range published {
			want[s.Name()] = s.Size
		}
		entries, err := os.ReadDir(dir)
		if err != nil {
			return err
		}
		if len(entries) != len(want) {
			return fmt.Errorf("after packet %d the folder holds %v, want %v", checks, names(entries), want)
		}
		for _, e := range entries {
			size, ok := want[e.Name()]
			if !ok {
				return fmt.Errorf("after packet %d: unexpected %s in %v (want %v)", checks, e.Name(), names(entries), want)
			}
			if info, err := e.Info(); err != nil || size >= 0 && info.Size() != size {
				return fmt.Errorf("after packet %d: %s is not at its published size %d (%v, %v)", checks, e.Name(), size, info, err)
			}
		}
		return nil
	}})
	stopPoller()

	if checks < 150 || len(r.segments) < 4 {
		t.Fatalf("%d packets checked, %d segments: the run was too short to test anything", checks, len(r.segments))
	}
	if len(first) != len(r.segments) {
		t.Fatalf("the poller saw %d segments, %d were published", len(first), len(r.segments))
	}
	for _, s := range r.segments {
		final, err := os.ReadFile(s.Path)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(first[s.Name()], final) {
			t.Errorf("the poller read %d bytes of %s, the final file has %d", len(first[s.Name()]), s.Name(), len(final))
		}
	}
}

// pollOnce reads every segment in dir. A segment read must be a whole
// number of TS packets and must equal what an earlier read saw; any other
// name must be a dot-prefixed temporary file.
func pollOnce(t *testing.T, dir string, first map[string][]byte) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Errorf("poll: %v", err)
		return
	}
	for _, e := range entries {
		name := e.Name()
		if _, ok := media.ParseSegmentName(name); !ok {
			if !strings.HasPrefix(name, ".") || !strings.HasSuffix(name, ".ts.tmp") {
				t.Errorf("poll: %s is neither a segment nor a dot-prefixed temporary file", name)
			}
			continue
		}
		data, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Errorf("poll: %v", err)
			continue
		}
		if len(data) == 0 || len(data)%tsPacket != 0 {
			t.Errorf("poll: %s read as %d bytes, not whole TS packets", name, len(data))
		}
		if prev, ok := first[name]; !ok {
			first[name] = data
		} else if !bytes.Equal(prev, data) {
			t.Errorf("poll: %s changed from %d to %d bytes after it appeared", name, len(prev), len(data))
		}
	}
}

func names(entries []os.DirEntry) []string {
	var out []string
	for _, e := range entries {
		out = append(out, e.Name())
	}
	return out
}
