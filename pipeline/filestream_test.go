package pipeline_test

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"image"
	"image/color"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/hlsmark/hlsmark/marker"
	"github.com/hlsmark/hlsmark/muxer/segread"
	"github.com/hlsmark/hlsmark/pipeline"
	"github.com/hlsmark/hlsmark/pipeline/clock"
	"github.com/hlsmark/hlsmark/pipeline/media"
	"github.com/hlsmark/hlsmark/pipeline/pipelinetest"
	"github.com/hlsmark/hlsmark/pipeline/stream"
)

// fileRun is a stream of a file run to its end on a fake clock, as decoded
// back from the segments its playlist lists.
type fileRun struct {
	stream *stream.Stream
	store  *marker.Bolt
	dir    string // the stream's folder
	// frames are the decoded frames in order, with the sequence number
	// of the segment each came from and whether it shows the mint box.
	frames []decodedFrame
	// segStart is each segment's first decoded PTS.
	segStart map[media.Seq]clock.Ticks
	// keyFirst is set for a segment whose first video packet is a keyframe.
	keyFirst map[media.Seq]bool
	ended    bool // the playlist has EXT-X-ENDLIST
}

// fileOptions are a file run's detector and hooks; each may be nil.
type fileOptions struct {
	// detector makes the stream's detector; nil runs none.
	detector pipeline.NewDetector
	// config changes the stream's configuration before it is wired.
	config func(*stream.Config)
	// wired is called with the stream before it runs.
	wired func(*stream.Stream)
}

type decodedFrame struct {
	pts  clock.Ticks
	seq  media.Seq
	mint bool
	// md5 is the MD5 of the picture's Y, Cb and Cr planes, packed: the
	// hash the ffmpeg CLI's framemd5 gives a yuv420p frame.
	md5 string
}

// runFileStream streams the file source made by newSource through the
// real stream (detector, libx264, muxer, playlist, markers) to its end,
// then decodes every segment the playlist file lists, with opts' hooks.
func runFileStream(t *testing.T, newSource func(pipeline.Start) (pipeline.Source, error), opts fileOptions) *fileRun {
	t.Helper()
	st, store, dir := streamFile(t, newSource, opts)
	r := &fileRun{stream: st, store: store, dir: dir, segStart: map[media.Seq]clock.Ticks{}, keyFirst: map[media.Seq]bool{}}
	segs, ended := pipelinetest.ReadPlaylist(t, dir)
	r.ended = ended
	for _, s := range segs {
		seq := s.Seq
		file, err := segread.Decode(s.Path, func(f segread.Frame) error {
			if _, ok := r.segStart[seq]; !ok {
				r.segStart[seq] = f.PTS
			}
			r.frames = append(r.frames, decodedFrame{pts: f.PTS, seq: seq, mint: mintAt(f.Image, 70, 70), md5: planesMD5(f.Image)})
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		r.keyFirst[seq] = file.FirstPacketKey
	}
	return r
}

// mintAt reports whether the decoded picture is mint at (x, y), within the
// detector's tolerance of 40 a channel.
func mintAt(img image.Image, x, y int) bool {
	c := color.NRGBAModel.Convert(img.At(x, y)).(color.NRGBA)
	near := func(v, want uint8) bool { d := int(v) - int(want); return d > -40 && d < 40 }
	return near(c.R, pipeline.Mint[0]) && near(c.G, pipeline.Mint[1]) && near(c.B, pipeline.Mint[2])
}

// streamFile wires the stream of the file source made by newSource, with
// opts' hooks, and runs it to its end on a fake clock. It returns the
// stream, its marker store and its folder.
func streamFile(t testing.TB, newSource func(pipeline.Start) (pipeline.Source, error), opts fileOptions) (*stream.Stream, *marker.Bolt, string) {
	t.Helper()
	pipeline.RouteLibavLogs(slog.Default()) // libav warnings in the test output, not libx264's notices
	root := t.TempDir()
	store, err := marker.OpenBolt(filepath.Join(root, "markers.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	dir := filepath.Join(root, "file")
	cfg := stream.Config{
		Name: "file", Dir: dir, Segment: time.Second, Window: time.Hour, Grace: time.Hour,
		Encoder:  pipeline.EncoderConfig{Size: fileSize, FPS: 25, Preset: "ultrafast", Tune: "zerolatency", KeyInterval: time.Second},
		Source:   newSource,
		Detector: opts.detector,
		Clock:    clock.NewFake(startAt, nil), Epoch: startAt.Add(-1234567 * time.Microsecond), Store: store,
		Log: slog.New(slog.NewTextHandler(io.Discard, nil)),
	}
	if opts.config != nil {
		opts.config(&cfg)
	}
	st, err := stream.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Playlist().Flush() }) // no write left (a marker posted later) when dir goes
	if opts.wired != nil {
		opts.wired(st)
	}
	if err := st.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	return st, store, dir
}

// planesMD5 returns the hex MD5 of a decoded picture's planes, packed.
func planesMD5(img image.Image) string {
	yuv := img.(*image.YCbCr)
	h := md5.New()
	for _, plane := range [][]byte{yuv.Y, yuv.Cb, yuv.Cr} {
		h.Write(plane)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// pts lists the decoded frames' PTS.
func (r *fileRun) pts() []clock.Ticks {
	out := make([]clock.Ticks, len(r.frames))
	for i, f := range r.frames {
		out[i] = f.pts
	}
	return out
}

// TestFileStreamExactPTSAndMarker streams a 6 s, 25 fps file with B-frames
// and a mint box from 3 s to 4 s: the segments decode to 150 frames, each
// 3600 ticks after the last from the clock's reading at start; the
// playlist ends; the detector's one marker has the PTS of the first
// decoded frame showing the box, 3 s (75 frames) into the file, and the
// marker's position names the segment holding that frame, at its offset.
func TestFileStreamExactPTSAndMarker(t *testing.T) {
	in := testFile(t, "6", "in.mp4")
	r := runFileStream(t, func(at pipeline.Start) (pipeline.Source, error) {
		return pipeline.NewFileSource(pipeline.FileConfig{Input: in, Size: fileSize}, at)
	}, fileOptions{detector: pipeline.NewMintDetector})
	if !r.ended {
		t.Error("the playlist of a file streamed to its end has no EXT-X-ENDLIST")
	}
	if len(r.frames) != 150 {
		t.Fatalf("decoded %d frames, want the file's 150", len(r.frames))
	}
	checkSteps(t, r.pts(), startPTS, 3600)

	var shown *decodedFrame
	for i := range r.frames {
		if r.frames[i].mint {
			shown = &r.frames[i]
			break
		}
	}
	if shown == nil || shown.pts != startPTS+75*3600 {
		t.Fatalf("first decoded frame with the box: %+v, want PTS %d (3 s into the file)", shown, startPTS+75*3600)
	}
	ms, err := r.store.List(context.Background(), "file", 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	if len(ms) != 1 {
		t.Fatalf("%d markers, want 1 for the one box: %+v", len(ms), ms)
	}
	if ms[0].PTS != shown.pts {
		t.Fatalf("marker PTS %d, first decoded frame with the box %d", ms[0].PTS, shown.pts)
	}
	pos, ok := r.stream.Markers().Position(ms[0].PTS)
	if !ok {
		t.Fatalf("marker at %d has no position in the playlist", ms[0].PTS)
	}
	if pos.Seq != shown.seq || pos.Offset != shown.pts-r.segStart[shown.seq] {
		t.Fatalf("marker names segment %d at offset %d; the frame is in segment %d at offset %d",
			pos.Seq, pos.Offset, shown.seq, shown.pts-r.segStart[shown.seq])
	}
}

// TestFileStreamLoops streams a 2 s file looped for 130 frames (2.6
// times): the segments decode to 130 frames 3600 ticks apart, across both
// ends of the file.
func TestFileStreamLoops(t *testing.T) {
	in := testFile(t, "2", "in.mp4")
	r := runFileStream(t, func(at pipeline.Start) (pipeline.Source, error) {
		src, err := pipeline.NewFileSource(pipeline.FileConfig{Input: in, Size: fileSize, Loop: true}, at)
		return pipeline.Limit(src, 130), err
	}, fileOptions{})
	if len(r.frames) != 130 {
		t.Fatalf("decoded %d frames, want 130", len(r.frames))
	}
	checkSteps(t, r.pts(), startPTS, 3600)
}

// TestFileStreamLeapIsDiscontinuity streams two MPEG-TS recordings joined
// byte for byte, the second's timestamps 1.14 s after the first's last
// frame: a leap the file says to wait out, short enough that the muxer's
// own rule (a segment outgrowing EXT-X-TARGETDURATION) would not mark it.
// The stream waits, keeping the file's timestamps (a step of 102600
// ticks there, 3600 elsewhere), and the first frame after the leap opens
// a segment marked EXT-X-DISCONTINUITY.
func TestFileStreamLeapIsDiscontinuity(t *testing.T) {
	// The first part ends with an IDR (its 26th frame, 1 s in), so a
	// segment starts 0.04 s before the leap.
	first := ffmpeg(t, "-f", "lavfi", "-i", "testsrc2=size=320x240:rate=25", "-frames:v", "26",
		"-c:v", "libx264", "-bf", "0", "-g", "25", "-pix_fmt", "yuv420p", "first.ts")
	second := ffmpeg(t, "-f", "lavfi", "-i", "testsrc2=size=320x240:rate=25", "-frames:v", "25",
		"-c:v", "libx264", "-bf", "0", "-g", "25", "-pix_fmt", "yuv420p", "-output_ts_offset", "2.14", "second.ts")
	var joined []byte
	for _, part := range []string{first, second} {
		b, err := os.ReadFile(part)
		if err != nil {
			t.Fatal(err)
		}
		joined = append(joined, b...)
	}
	in := filepath.Join(t.TempDir(), "joined.ts")
	if err := os.WriteFile(in, joined, 0o644); err != nil {
		t.Fatal(err)
	}
	r := runFileStream(t, func(at pipeline.Start) (pipeline.Source, error) {
		return pipeline.NewFileSource(pipeline.FileConfig{Input: in, Size: fileSize}, at)
	}, fileOptions{})
	if len(r.frames) != 51 {
		t.Fatalf("decoded %d frames, want the 51 of both parts", len(r.frames))
	}
	for i := 1; i < len(r.frames); i++ {
		want := clock.Ticks(3600)
		if i == 26 {
			want = 102600 // 1.14 s: from 1.0 s to 2.14 s
		}
		if step := r.frames[i].pts - r.frames[i-1].pts; step != want {
			t.Fatalf("frame %d: PTS step %d, want %d", i, step, want)
		}
	}
	after := r.frames[26]
	if r.segStart[after.seq] != after.pts {
		t.Fatalf("the first frame after the leap (PTS %d) is inside segment %d, which starts at %d", after.pts, after.seq, r.segStart[after.seq])
	}
	for _, seg := range r.stream.Playlist().Segments() {
		if want := seg.Seq == after.seq; seg.Discontinuity != want {
			t.Errorf("segment %d: discontinuity %v, want %v", seg.Seq, seg.Discontinuity, want)
		}
	}
}
