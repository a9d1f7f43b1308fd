package pipeline_test

import (
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hlsmark/hlsmark/pipeline"
	"github.com/hlsmark/hlsmark/pipeline/clock"
	"github.com/hlsmark/hlsmark/pipeline/media"
	"github.com/hlsmark/hlsmark/pipeline/pipelinetest"
)

// fileSize is the size of every test file and of the frames read from it.
var fileSize = media.Size{Width: 320, Height: 240}

// mintBox is the filter chain that turns testsrc2 grey (its colours
// include near-mint ones the detector would see) and shows a 60×60 mint
// square at (40, 40) from 3.0 s to 4.0 s: pipeline.Mint, RGB (0, 255, 200).
const mintBox = "hue=s=0,drawbox=x=40:y=40:w=60:h=60:color=0x00FFC8@1:t=fill:enable='between(t,3,4)'"

// ffmpeg runs the ffmpeg CLI with args in dir and returns the path of the
// file it made, the last argument. A missing ffmpeg fails the test.
func ffmpeg(t testing.TB, args ...string) string {
	t.Helper()
	bin, err := exec.LookPath("ffmpeg")
	if err != nil {
		t.Fatalf("ffmpeg is required (Debian package ffmpeg): %v", err)
	}
	out := filepath.Join(t.TempDir(), args[len(args)-1])
	args[len(args)-1] = out
	cmd := exec.Command(bin, append([]string{"-nostdin", "-v", "error", "-y"}, args...)...)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("ffmpeg %s: %v\n%s", strings.Join(args, " "), err, b)
	}
	return out
}

// testFile makes an H.264 file of seconds of grey testsrc2 at 25 fps, with
// B-frames and the mint box from 3 s to 4 s, named name (its extension
// picks the container).
func testFile(t *testing.T, seconds, name string) string {
	t.Helper()
	return ffmpeg(t, "-f", "lavfi", "-i", "testsrc2=size=320x240:rate=25", "-vf", mintBox,
		"-t", seconds, "-c:v", "libx264", "-bf", "2", "-g", "25", "-pix_fmt", "yuv420p", name)
}

// readAll reads src to its end, or n frames if n > 0, and returns their PTS.
func readAll(t *testing.T, src pipeline.Source, n int) []clock.Ticks {
	t.Helper()
	f := pipeline.NewFrame(src.Size())
	var pts []clock.Ticks
	for n <= 0 || len(pts) < n {
		err := src.Next(context.Background(), f)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("frame %d: %v", len(pts), err)
		}
		pts = append(pts, f.PTS)
	}
	return pts
}

// checkSteps fails the test unless pts start at first and rise by step,
// exactly, frame after frame.
func checkSteps(t *testing.T, pts []clock.Ticks, first, step clock.Ticks) {
	t.Helper()
	if len(pts) == 0 || pts[0] != first {
		t.Fatalf("first PTS %v, want %d", pts[:min(1, len(pts))], first)
	}
	for i := 1; i < len(pts); i++ {
		if pts[i]-pts[i-1] != step {
			t.Fatalf("frame %d: PTS %d after %d, a step of %d, want %d", i, pts[i], pts[i-1], pts[i]-pts[i-1], step)
		}
	}
}

// startAt is the generator clock's reading when the file tests begin:
// 1.234567 s after the epoch, PTS 111111 (floored).
var startAt = pipelinetest.Epoch.Add(1234567 * time.Microsecond)

const startPTS clock.Ticks = 111111

// TestFileSourceKeepsTheFrameStep reads a 25 fps file with B-frames, as a
// path, a file: URL and in Matroska: every frame in presentation order,
// the first at the clock's reading, each 3600 ticks after the last, then
// io.EOF.
func TestFileSourceKeepsTheFrameStep(t *testing.T) {
	mp4 := testFile(t, "6", "in.mp4")
	if b := countBFrames(t, mp4); b == 0 {
		t.Fatal("the test file has no B-frames: it would not test reordering")
	}
	ntsc := ffmpeg(t, "-f", "lavfi", "-i", "testsrc2=size=320x240:rate=30000/1001", "-t", "2",
		"-c:v", "libx264", "-bf", "2", "-pix_fmt", "yuv420p", "ntsc.ts")
	for _, c := range []struct {
		name, input string
		step        clock.Ticks
	}{
		{"mp4 path", mp4, 3600},
		{"file: URL", "file:" + mp4, 3600},
		{"matroska", testFile(t, "6", "in.mkv"), 3600},
		{"MPEG-TS at 29.97 fps", ntsc, 3003},
	} {
		t.Run(c.name, func(t *testing.T) {
			src, err := pipeline.NewFileSource(pipeline.FileConfig{Input: c.input, Size: fileSize},
				pipeline.Start{Clock: clock.NewFake(startAt, nil), Timeline: clock.Timeline{Epoch: pipelinetest.Epoch}})
			if err != nil {
				t.Fatal(err)
			}
			defer src.Close()
			pts := readAll(t, src, 0)
			if want := countFrames(t, strings.TrimPrefix(c.input, "file:")); len(pts) != want {
				t.Fatalf("%d frames, ffprobe counts %d", len(pts), want)
			}
			checkSteps(t, pts, startPTS, c.step)
		})
	}
}

// TestFileSourceScales reads the 320×240 file at 160×120: the mint box,
// drawn at (40, 40)-(100, 100), shows at (20, 20)-(50, 50), from the
// frame 3 s in (the 76th) and not in the one before.
func TestFileSourceScales(t *testing.T) {
	small := media.Size{Width: 160, Height: 120}
	src, err := pipeline.NewFileSource(pipeline.FileConfig{Input: testFile(t, "4", "in.mp4"), Size: small},
		pipeline.Start{Clock: clock.NewFake(startAt, nil), Timeline: clock.Timeline{Epoch: pipelinetest.Epoch}})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	f := pipeline.NewFrame(small)
	mint := func(x, y int) bool {
		i := (y*small.Width + x) * 3
		r, g, b := int(f.BGR[i+2]), int(f.BGR[i+1]), int(f.BGR[i])
		near := func(v int, want byte) bool { d := v - int(want); return d > -40 && d < 40 }
		return near(r, pipeline.Mint[0]) && near(g, pipeline.Mint[1]) && near(b, pipeline.Mint[2])
	}
	for i := range 76 {
		if err := src.Next(context.Background(), f); err != nil {
			t.Fatal(err)
		}
		inside, outside := mint(35, 35), mint(60, 35)
		switch {
		case i < 75 && inside:
			t.Fatalf("frame %d (%.2f s) shows the box", i, float64(i)/25)
		case i == 75 && (!inside || !mint(21, 21) || !mint(48, 48) || outside || mint(35, 55)):
			t.Fatalf("frame 75 (3 s): box at (35,35) %v, (21,21) %v, (48,48) %v; outside at (60,35) %v, (35,55) %v",
				inside, mint(21, 21), mint(48, 48), outside, mint(35, 55))
		}
	}
}

// countFrames asks ffprobe how many video frames the file decodes to.
func countFrames(t *testing.T, path string) int {
	t.Helper()
	bin, err := exec.LookPath("ffprobe")
	if err != nil {
		t.Fatalf("ffprobe is required (Debian package ffmpeg): %v", err)
	}
	out, err := exec.Command(bin, "-v", "error", "-select_streams", "v", "-count_frames",
		"-show_entries", "stream=nb_read_frames", "-of", "csv=p=0", path).Output()
	if err != nil {
		t.Fatalf("ffprobe %s: %v", path, err)
	}
	fields := strings.Fields(string(out)) // an MPEG-TS lists its program's stream too
	if len(fields) == 0 {
		t.Fatalf("ffprobe counts no frames in %s", path)
	}
	n, err := strconv.Atoi(fields[0])
	if err != nil || n == 0 {
		t.Fatalf("ffprobe counts %q frames in %s", out, path)
	}
	return n
}

// countBFrames asks ffprobe how many B-frames the file's video has.
func countBFrames(t *testing.T, path string) int {
	t.Helper()
	bin, err := exec.LookPath("ffprobe")
	if err != nil {
		t.Fatalf("ffprobe is required (Debian package ffmpeg): %v", err)
	}
	out, err := exec.Command(bin, "-v", "error", "-select_streams", "v", "-show_entries", "frame=pict_type",
		"-of", "csv=p=0", path).Output()
	if err != nil {
		t.Fatalf("ffprobe %s: %v", path, err)
	}
	return strings.Count(string(out), "B")
}

// TestFileSourceLoops plays a 2 s file 2.6 times: PTS keep rising by the
// frame step across each end of the file, and it does not end.
func TestFileSourceLoops(t *testing.T) {
	in := testFile(t, "2", "in.mp4")
	src, err := pipeline.NewFileSource(pipeline.FileConfig{Input: in, Size: fileSize, Loop: true},
		pipeline.Start{Clock: clock.NewFake(startAt, nil), Timeline: clock.Timeline{Epoch: pipelinetest.Epoch}})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	pts := readAll(t, src, 130)
	if len(pts) != 130 {
		t.Fatalf("a looping source ended after %d frames", len(pts))
	}
	checkSteps(t, pts, startPTS, 3600)
}

// TestFileSourceTimestampsGoingBack reads two MPEG-TS files with the same
// timestamps joined byte for byte, so the timestamps jump back half way:
// the second half gets a new mapping, one frame step after the first half,
// and PTS never go back.
func TestFileSourceTimestampsGoingBack(t *testing.T) {
	part := ffmpeg(t, "-f", "lavfi", "-i", "testsrc2=size=320x240:rate=25", "-t", "1",
		"-c:v", "libx264", "-bf", "0", "-g", "25", "-pix_fmt", "yuv420p", "part.ts")
	b, err := os.ReadFile(part)
	if err != nil {
		t.Fatal(err)
	}
	joined := filepath.Join(t.TempDir(), "joined.ts")
	if err := os.WriteFile(joined, append(b, b...), 0o644); err != nil {
		t.Fatal(err)
	}
	src, err := pipeline.NewFileSource(pipeline.FileConfig{Input: joined, Size: fileSize},
		pipeline.Start{Clock: clock.NewFake(startAt, nil), Timeline: clock.Timeline{Epoch: pipelinetest.Epoch}})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	pts := readAll(t, src, 0)
	if len(pts) != 50 {
		t.Fatalf("%d frames from two 1 s parts at 25 fps, want 50", len(pts))
	}
	checkSteps(t, pts, startPTS, 3600)
	if src.Remaps() != 1 {
		t.Fatalf("%d new mappings, want 1 (where the second part starts)", src.Remaps())
	}
}

// TestFileSourceBadInput refuses a missing file and a file without video,
// saying which.
func TestFileSourceBadInput(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "nope.mp4")
	audio := ffmpeg(t, "-f", "lavfi", "-i", "sine=duration=1", "tone.wav")
	for _, c := range []struct{ name, input, want string }{
		{"missing file", missing, "nope.mp4: open: No such file or directory"},
		{"no video stream", audio, "tone.wav: no video stream"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := pipeline.NewFileSource(pipeline.FileConfig{Input: c.input, Size: fileSize},
				pipeline.Start{Clock: clock.NewFake(startAt, nil), Timeline: clock.Timeline{Epoch: pipelinetest.Epoch}})
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %v, want one containing %q", err, c.want)
			}
		})
	}
}

// TestFileSourcePacing reads a file on a fake clock that wakes one frame
// up late: every frame is handed out at its own PTS on the clock (after
// Next the clock reads a time within the frame's tick). A wake-up 1 s late
// loses nothing: the late frames are handed out at once, each with its own
// PTS. One 3 s late drops the 25 frames due more than 2 s before it
// (fileCatchUp), counted, and the next frame keeps its own PTS.
func TestFileSourcePacing(t *testing.T) {
	for _, c := range []struct {
		late        time.Duration
		next, count int // the frame handed out after the late wake-up, and the frames dropped
	}{
		{time.Second, 10, 0},
		{3 * time.Second, 35, 25},
	} {
		t.Run(c.late.String(), func(t *testing.T) {
			wakes := 0
			clk := clock.NewFake(startAt, func() time.Duration {
				wakes++
				if wakes == 11 { // frame 10's wait
					return c.late
				}
				return 0
			})
			tl := clock.Timeline{Epoch: pipelinetest.Epoch}
			src, err := pipeline.NewFileSource(pipeline.FileConfig{Input: testFile(t, "3", "in.mp4"), Size: fileSize}, pipeline.Start{Clock: clk, Timeline: tl})
			if err != nil {
				t.Fatal(err)
			}
			defer src.Close()
			f := pipeline.NewFrame(fileSize)
			for i := range 10 {
				if err := src.Next(context.Background(), f); err != nil {
					t.Fatal(err)
				}
				if f.PTS != startPTS+clock.Ticks(i)*3600 || clk.Now().Before(tl.Time(f.PTS)) || tl.PTS(clk.Now()) != f.PTS {
					t.Fatalf("frame %d: PTS %d handed out with the clock at %v, want PTS %d at %v",
						i, f.PTS, clk.Now().Sub(tl.Epoch), startPTS+clock.Ticks(i)*3600, tl.Time(f.PTS).Sub(tl.Epoch))
				}
			}
			if err := src.Next(context.Background(), f); err != nil {
				t.Fatal(err)
			}
			if f.PTS != startPTS+clock.Ticks(c.next)*3600 || src.Late() != uint64(c.count) {
				t.Fatalf("after a %s late wake-up at frame 10: PTS %d (frame %d), %d late; want frame %d, %d late",
					c.late, f.PTS, (f.PTS-startPTS)/3600, src.Late(), c.next, c.count)
			}
		})
	}
}
