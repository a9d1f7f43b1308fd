package pipeline_test

import (
	"context"
	"errors"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hlsmark/hlsmark/marker"
	"github.com/hlsmark/hlsmark/muxer"
	"github.com/hlsmark/hlsmark/pipeline"
	"github.com/hlsmark/hlsmark/pipeline/clock"
	"github.com/hlsmark/hlsmark/pipeline/media"
	"github.com/hlsmark/hlsmark/pipeline/pipelinetest"
	"github.com/hlsmark/hlsmark/pipeline/stream"
	"github.com/hlsmark/hlsmark/playlist"
)

// keyedFile makes a 9 s, 25 fps H.264 file of testsrc2 with B-frames
// and IDRs only where keys (ffmpeg's -force_key_frames) puts them.
func keyedFile(t *testing.T, keys, name string) string {
	t.Helper()
	return ffmpeg(t, "-f", "lavfi", "-i", "testsrc2=size=320x240:rate=25", "-t", "9",
		"-c:v", "libx264", "-bf", "2", "-g", "1000", "-sc_threshold", "0", "-forced-idr", "1",
		"-force_key_frames", keys, "-pix_fmt", "yuv420p", name)
}

// probeKeyframes returns, read by ffprobe, the indices in presentation
// order of the file's keyframes, and whether any packet has a DTS before
// its PTS (B-frames).
func probeKeyframes(t *testing.T, path string) (keys []int, reordered bool) {
	t.Helper()
	type packet struct {
		pts int64
		key bool
	}
	var pkts []packet
	for _, line := range probe(t, path, "packet=pts,dts,flags") {
		f := strings.Split(line, ",")
		pts, err := strconv.ParseInt(f[0], 10, 64)
		if err != nil {
			t.Fatalf("ffprobe packet %q: %v", line, err)
		}
		// Matroska keeps no DTS: libavformat works them out, after
		// the first packets.
		if dts, err := strconv.ParseInt(f[1], 10, 64); err == nil {
			reordered = reordered || dts < pts
		}
		pkts = append(pkts, packet{pts, strings.HasPrefix(f[2], "K")})
	}
	slices.SortFunc(pkts, func(a, b packet) int { return int(a.pts - b.pts) })
	for i, p := range pkts {
		if p.key {
			keys = append(keys, i)
		}
	}
	return keys, reordered
}

// probe runs ffprobe on the video stream of path and returns its CSV
// lines of entries.
func probe(t *testing.T, path, entries string) []string {
	t.Helper()
	out, err := exec.Command("ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries", entries, "-of", "csv=p=0", path).Output()
	if err != nil {
		t.Fatalf("ffprobe %s: %v", path, err)
	}
	return strings.Fields(string(out))
}

// copyStream is how a test streams a file with --codec copy: the file's
// keyframes scanned, the target duration they need, the passthrough.
func copyStream(t testing.TB, in string, segment time.Duration, loop bool) (func(pipeline.Start) (pipeline.Source, error), func(*stream.Config)) {
	t.Helper()
	scan, err := pipeline.ScanFile(in)
	if err != nil {
		t.Fatal(err)
	}
	newSource := func(at pipeline.Start) (pipeline.Source, error) {
		return pipeline.NewFileSource(pipeline.FileConfig{Input: in, Size: scan.Size, Loop: loop, Copy: true}, at)
	}
	return newSource, func(c *stream.Config) {
		c.Copy, c.Detector = true, nil
		c.Segment = muxer.CopyTarget(segment, scan.Keys, scan.End)
		c.Encoder.Size = scan.Size
	}
}

// TestCopyStream streams files with B-frames through the real stream with
// --codec copy and --segment 1s: one with an IDR every 2 s, one with IDRs
// at 0, 1.2, 3.9, 5 and 7.6 s in MP4, Matroska and MPEG-TS (where the
// packets are Annex B already) (GOPs up to 2.72 s, which cut at any target
// from 2 s to 4 s would make segments longer than it). Read back with
// grafov/m3u8, ffprobe, the ffmpeg CLI and libav: every segment starts
// with a keyframe of the source's; every EXTINF, and every segment's span
// of PTS, rounds to at most EXT-X-TARGETDURATION; the pictures decode to
// the source's, hash for hash, at PTS 3600 ticks apart from the clock's
// reading, with DTS before PTS where the source reorders; and a marker
// posted through the marker service at a frame's PTS, while the stream
// runs, names the segment and offset where decoding finds that picture.
func TestCopyStream(t *testing.T) {
	for _, c := range []struct {
		name, keys, file string
		target           float64 // EXT-X-TARGETDURATION
	}{
		{"IDR every 2 s", "expr:eq(mod(n,50),0)", "in.mp4", 2},
		{"irregular IDRs", "0,1.2,3.9,5,7.6", "in.mp4", 5},
		{"irregular IDRs in Matroska", "0,1.2,3.9,5,7.6", "in.mkv", 5},
		{"irregular IDRs in MPEG-TS", "0,1.2,3.9,5,7.6", "in.ts", 5},
	} {
		t.Run(c.name, func(t *testing.T) {
			in := keyedFile(t, c.keys, c.file)
			keys, reordered := probeKeyframes(t, in)
			if !reordered {
				t.Fatal("the test file has no B-frames: it would not test DTS")
			}
			const marked = 80 // the picture the marker is posted at, mid-GOP in both files
			want := startPTS + marked*3600
			var posted marker.Marker
			var svc *marker.Service
			newSource, setup := copyStream(t, in, time.Second, false)
			r := runFileStream(t, newSource, fileOptions{
				config: func(cfg *stream.Config) {
					setup(cfg)
					cfg.Observe.Frame = func(f *pipeline.Frame) {
						// Posted once the source has read past the
						// frame, as a client that saw it would.
						if posted.ID == 0 && f.DTS > want {
							var err error
							if posted, err = svc.Post(context.Background(), marker.Marker{Label: "frame 80", PTS: want}); err != nil {
								t.Errorf("post: %v", err)
							}
						}
					}
				},
				wired: func(st *stream.Stream) { svc = st.Markers() },
			})

			src := pipelinetest.FrameMD5s(t, in)
			if len(r.frames) != len(src) {
				t.Fatalf("decoded %d pictures from the segments, the source has %d", len(r.frames), len(src))
			}
			checkSteps(t, r.pts(), startPTS, 3600)
			for i, f := range r.frames {
				if f.md5 != src[i] {
					t.Fatalf("picture %d (PTS %d) decodes to %s, the source's to %s", i, f.pts, f.md5, src[i])
				}
			}

			mp := pipelinetest.ReadMediaPlaylist(t, r.dir)
			// grafov/m3u8 raises TargetDuration to the longest EXTINF
			// it reads: the tag itself is read from the file.
			target := targetTag(t, r.dir)
			if target != c.target {
				t.Errorf("EXT-X-TARGETDURATION %g, want %g", target, c.target)
			}
			segs := mp.GetAllSegments()
			for i, s := range segs {
				seq := media.Seq(mp.SeqNo + uint64(i))
				first := slices.IndexFunc(r.frames, func(f decodedFrame) bool { return f.seq == seq })
				next := len(r.frames)
				if j := slices.IndexFunc(r.frames, func(f decodedFrame) bool { return f.seq > seq }); j >= 0 {
					next = j
				}
				if !r.keyFirst[seq] || !slices.Contains(keys, first) {
					t.Errorf("segment %d starts with picture %d (first packet a keyframe: %v); the source's keyframes are %v", seq, first, r.keyFirst[seq], keys)
				}
				span := float64((next-first)*3600) / clock.Hz
				if math.Round(s.Duration) > target || math.Round(span) > target {
					t.Errorf("segment %d: EXTINF %g, %g s of pictures, EXT-X-TARGETDURATION %g", seq, s.Duration, span, target)
				}
			}
			if c.target == 5 && len(segs) != 2 {
				t.Errorf("%d segments, want 2 (cut at the IDR at 5 s)", len(segs))
			}

			all := concatSegments(t, r)
			if _, dtsFirst := probeKeyframes(t, all); !dtsFirst {
				t.Error("no packet of the segments has a DTS before its PTS: the B-frames' DTS were lost")
			}

			if posted.ID == 0 {
				t.Fatal("no marker was posted")
			}
			pos, ok := r.stream.Markers().Position(posted.PTS)
			if !ok {
				t.Fatalf("marker at %d has no position in the playlist", posted.PTS)
			}
			i := slices.IndexFunc(r.frames, func(f decodedFrame) bool {
				return f.seq == pos.Seq && f.pts == r.segStart[pos.Seq]+pos.Offset
			})
			if i < 0 || r.frames[i].md5 != src[marked] {
				t.Fatalf("marker names segment %d at offset %d: decoded picture %d there, want the source's picture %d", pos.Seq, pos.Offset, i, marked)
			}
		})
	}
}

// concatSegments writes the run's segments, in playlist order, into one
// MPEG-TS file and returns its path.
func concatSegments(t *testing.T, r *fileRun) string {
	t.Helper()
	segs, _ := pipelinetest.ReadPlaylist(t, r.dir)
	var all []byte
	for _, s := range segs {
		b, err := os.ReadFile(s.Path)
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, b...)
	}
	path := filepath.Join(t.TempDir(), "all.ts")
	if err := os.WriteFile(path, all, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// targetTag returns the value of the EXT-X-TARGETDURATION tag of the
// playlist in dir.
func targetTag(t *testing.T, dir string) float64 {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, playlist.FileName))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "#EXT-X-TARGETDURATION:"); ok {
			n, err := strconv.Atoi(v)
			if err != nil {
				t.Fatalf("EXT-X-TARGETDURATION %q: %v", v, err)
			}
			return float64(n)
		}
	}
	t.Fatalf("no EXT-X-TARGETDURATION in the playlist:\n%s", b)
	return 0
}

// TestCopyRefusesOtherCodecs: a file whose video is HEVC or MPEG-4 part 2
// cannot be copied; the scan and the source both say which codec it is.
func TestCopyRefusesOtherCodecs(t *testing.T) {
	for _, codec := range []struct{ encoder, name string }{{"libx265", "hevc"}, {"mpeg4", "mpeg4"}} {
		t.Run(codec.name, func(t *testing.T) {
			in := ffmpeg(t, "-f", "lavfi", "-i", "testsrc2=size=320x240:rate=25", "-t", "1", "-c:v", codec.encoder, "-pix_fmt", "yuv420p", "in.mkv")
			_, scanErr := pipeline.ScanFile(in)
			_, openErr := pipeline.NewFileSource(pipeline.FileConfig{Input: in, Size: fileSize, Copy: true},
				pipeline.Start{Clock: clock.NewFake(startAt, nil), Timeline: clock.Timeline{Epoch: pipelinetest.Epoch}})
			for _, err := range []error{scanErr, openErr} {
				var notH264 *pipeline.NotH264Error
				if !errors.As(err, &notH264) || notH264.Codec != codec.name {
					t.Errorf("copying %s: %v, want a NotH264Error naming %s", codec.name, err, codec.name)
				}
			}
		})
	}
}

// TestCopyLoops streams a 2 s file with 1 s GOPs and B-frames, looped,
// for 130 packets with copy: the pictures decode to the source's, pass
// after pass, 3600 ticks apart across both loops, and each pass starts a
// segment marked EXT-X-DISCONTINUITY.
func TestCopyLoops(t *testing.T) {
	in := testFile(t, "2", "in.mp4")
	src := pipelinetest.FrameMD5s(t, in)
	newSource, setup := copyStream(t, in, time.Second, true)
	r := runFileStream(t, func(at pipeline.Start) (pipeline.Source, error) {
		s, err := newSource(at)
		return pipeline.Limit(s, 130), err
	}, fileOptions{config: setup})
	// The last pass stops mid-GOP: its last packets may be pictures that
	// the B-frames after them, cut off, would have come before.
	if len(r.frames) < 125 {
		t.Fatalf("decoded %d pictures, want at least 125 of the 130 packets", len(r.frames))
	}
	checkSteps(t, r.pts()[:125], startPTS, 3600)
	for i, f := range r.frames[:125] {
		if f.md5 != src[i%len(src)] {
			t.Fatalf("picture %d decodes to %s, the source's picture %d to %s", i, f.md5, i%len(src), src[i%len(src)])
		}
	}
	mp := pipelinetest.ReadMediaPlaylist(t, r.dir)
	var passes []clock.Ticks
	for i, s := range mp.GetAllSegments() {
		if s.Discontinuity {
			passes = append(passes, r.segStart[media.Seq(mp.SeqNo+uint64(i))])
		}
	}
	if want := []clock.Ticks{startPTS + 50*3600, startPTS + 100*3600}; !slices.Equal(passes, want) {
		t.Errorf("discontinuous segments start at %v, want %v (each pass)", passes, want)
	}
}

// TestCopyRunsNoDetector: a stream that copies its source's packets has
// no pictures to run a detector on, and says so.
func TestCopyRunsNoDetector(t *testing.T) {
	store, err := marker.OpenBolt(filepath.Join(t.TempDir(), "markers.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	_, err = stream.New(stream.Config{Name: "copy", Dir: t.TempDir(), Copy: true, Detector: pipeline.NewMintDetector,
		Source: func(pipeline.Start) (pipeline.Source, error) { return nil, errors.New("not reached") },
		Clock:  clock.NewFake(startAt, nil), Store: store})
	if err == nil || !strings.Contains(err.Error(), "detector") {
		t.Fatalf("stream.New with Copy and a detector: %v, want an error naming the detector", err)
	}
}

// TestCopySourceStartsAtResume reads a file with B-frames (its first DTS
// two frames before its first PTS) as packets, starting where a stream
// can start: at its epoch, and after a run that recorded up to PTS
// 500000, later than the clock's reading. No DTS comes before Resume (so
// none is negative): the first is Resume itself; DTS rise packet after
// packet; the pictures' PTS, sorted, are 3600 apart.
func TestCopySourceStartsAtResume(t *testing.T) {
	in := testFile(t, "2", "in.mp4")
	for _, c := range []struct {
		name   string
		now    time.Time
		resume clock.Ticks
	}{
		{"a new stream, at its epoch", pipelinetest.Epoch, 0},
		{"resumed past the clock", startAt, 500000},
	} {
		t.Run(c.name, func(t *testing.T) {
			src, err := pipeline.NewFileSource(pipeline.FileConfig{Input: in, Size: fileSize, Copy: true},
				pipeline.Start{Clock: clock.NewFake(c.now, nil), Timeline: clock.Timeline{Epoch: pipelinetest.Epoch}, Resume: c.resume})
			if err != nil {
				t.Fatal(err)
			}
			defer src.Close()
			f := pipeline.NewFrame(src.Size())
			var pts, dts []clock.Ticks
			for {
				err := src.Next(context.Background(), f)
				if errors.Is(err, io.EOF) {
					break
				}
				if err != nil {
					t.Fatal(err)
				}
				pts, dts = append(pts, f.PTS), append(dts, f.DTS)
			}
			if len(dts) != 50 || dts[0] != c.resume {
				t.Fatalf("%d packets, the first DTS %v; want 50, the first at %d", len(dts), dts[:min(1, len(dts))], c.resume)
			}
			for i := 1; i < len(dts); i++ {
				if dts[i] <= dts[i-1] {
					t.Fatalf("packet %d: DTS %d after %d", i, dts[i], dts[i-1])
				}
			}
			slices.Sort(pts)
			checkSteps(t, pts, pts[0], 3600)
		})
	}
}

// TestCopyUnscannedGOPOutgrowsTarget streams a file with 2 s GOPs with
// copy at a target of 1 s, as a source whose keyframes cannot be read
// ahead would be: with no keyframe to cut at, the segments last their 2 s
// (their EXTINF says so, beyond EXT-X-TARGETDURATION 1), each is counted
// in hlsmark_segments_overlong_total, the pictures are still the source's,
// and a marker 1.8 s into a segment, past the most a 1 s target allows,
// still names its segment and offset.
func TestCopyUnscannedGOPOutgrowsTarget(t *testing.T) {
	in := keyedFile(t, "expr:eq(mod(n,50),0)", "in.mp4")
	newSource, setup := copyStream(t, in, time.Second, false)
	r := runFileStream(t, newSource, fileOptions{config: func(cfg *stream.Config) {
		setup(cfg)
		cfg.Segment = time.Second // not the 2 s the file's keyframes need
	}})
	if target := targetTag(t, r.dir); target != 1 {
		t.Fatalf("EXT-X-TARGETDURATION %g, want 1", target)
	}
	mp := pipelinetest.ReadMediaPlaylist(t, r.dir)
	var durations []float64
	for _, s := range mp.GetAllSegments() {
		durations = append(durations, s.Duration)
	}
	if want := []float64{2, 2, 2, 2, 1}; !slices.Equal(durations, want) {
		t.Errorf("EXTINF %v, want %v: the GOPs' own durations", durations, want)
	}
	if n := counter(t, r.stream, "hlsmark_segments_overlong_total"); n != 4 {
		t.Errorf("hlsmark_segments_overlong_total %g, want 4", n)
	}
	src := pipelinetest.FrameMD5s(t, in)
	if len(r.frames) != len(src) {
		t.Fatalf("decoded %d pictures, the source has %d", len(r.frames), len(src))
	}
	for i, f := range r.frames {
		if f.md5 != src[i] {
			t.Fatalf("picture %d decodes to %s, the source's to %s", i, f.md5, src[i])
		}
	}
	const marked = 95 // 1.8 s into the segment from 2 s to 4 s
	pts := startPTS + marked*3600
	if _, err := r.stream.Markers().Post(context.Background(), marker.Marker{Label: "late in a long GOP", PTS: pts}); err != nil {
		t.Fatal(err)
	}
	pos, ok := r.stream.Markers().Position(pts)
	if !ok {
		t.Fatalf("a marker at %d has no position in the playlist", pts)
	}
	i := slices.IndexFunc(r.frames, func(f decodedFrame) bool {
		return f.seq == pos.Seq && f.pts == r.segStart[pos.Seq]+pos.Offset
	})
	if i < 0 || r.frames[i].md5 != src[marked] {
		t.Fatalf("marker names segment %d at offset %d: decoded picture %d there, want the source's picture %d", pos.Seq, pos.Offset, i, marked)
	}
}

// counter reads a counter of the stream's metrics.
func counter(t *testing.T, st *stream.Stream, name string) float64 {
	t.Helper()
	families, err := st.Metrics().Registry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() == name {
			return f.GetMetric()[0].GetCounter().GetValue()
		}
	}
	t.Fatalf("no metric %s", name)
	return 0
}
