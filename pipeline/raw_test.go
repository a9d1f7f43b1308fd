package pipeline_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"io"
	"os/exec"
	"testing"

	"github.com/hlsmark/hlsmark/pipeline"
	"github.com/hlsmark/hlsmark/pipeline/clock"
	"github.com/hlsmark/hlsmark/pipeline/media"
	"github.com/hlsmark/hlsmark/pipeline/pipelinetest"
)

// casesRawFormat are uniform pictures in every raw pixel format: one
// value per plane (a packed format's three bytes, or Y, U, V).
var casesRawFormat = []struct {
	format pipeline.PixelFormat
	planes []byte // per packed pixel, or per plane
}{
	{pipeline.RGB24, []byte{10, 200, 30}},
	{pipeline.BGR24, []byte{30, 200, 10}},
	{pipeline.Gray, []byte{77}},
	{pipeline.YUV420P, []byte{150, 90, 170}},
}

var rawSize = media.Size{Width: 32, Height: 16}

// uniform returns one uniform picture of the case at rawSize.
func uniform(format pipeline.PixelFormat, planes []byte) []byte {
	n := rawSize.Width * rawSize.Height
	switch format {
	case pipeline.YUV420P:
		c := n / 4
		return append(append(bytes.Repeat(planes[:1], n), bytes.Repeat(planes[1:2], c)...), bytes.Repeat(planes[2:3], c)...)
	default:
		return bytes.Repeat(planes, n)
	}
}

// framed prefixes pic with pts as the framed input does.
func framed(pts clock.Ticks, pic []byte) []byte {
	return append(binary.BigEndian.AppendUint64(nil, uint64(pts)), pic...)
}

// TestRawConvertsEveryFormatAsFFmpegDoes reads a framed picture in each
// pixel format and compares its BGR24 with what the ffmpeg CLI makes of
// the same bytes (within 2 per channel: rounding differs between swscale
// set-ups); the frame keeps the sent PTS, and the input's end is io.EOF.
// Checked to fail by handing swscale the wrong source format (rgb24 for
// bgr24: red and blue swap).
func TestRawConvertsEveryFormatAsFFmpegDoes(t *testing.T) {
	for _, c := range casesRawFormat {
		t.Run(string(c.format), func(t *testing.T) {
			pic := uniform(c.format, c.planes)
			cmd := exec.Command("ffmpeg", "-v", "error", "-f", "rawvideo", "-pix_fmt", string(c.format), "-s", rawSize.String(),
				"-i", "-", "-f", "rawvideo", "-pix_fmt", "bgr24", "-")
			cmd.Stdin = bytes.NewReader(pic)
			want, err := cmd.Output()
			if err != nil {
				t.Fatalf("ffmpeg (required: make setup-test installs it): %v", err)
			}
			src, err := pipeline.NewRaw(pipeline.RawConfig{Size: rawSize, Format: c.format, Framed: true},
				bytes.NewReader(framed(12345, pic)), pipeline.Start{Clock: clock.NewFake(pipelinetest.Epoch, nil), Timeline: clock.Timeline{Epoch: pipelinetest.Epoch}})
			if err != nil {
				t.Fatal(err)
			}
			f := pipeline.NewFrame(rawSize)
			if err := src.Next(context.Background(), f); err != nil {
				t.Fatal(err)
			}
			if f.PTS != 12345 {
				t.Errorf("PTS %d, want the 12345 sent", f.PTS)
			}
			if len(want) != len(f.BGR) {
				t.Fatalf("ffmpeg made %d bytes, the frame holds %d", len(want), len(f.BGR))
			}
			for i := range want {
				if d := int(want[i]) - int(f.BGR[i]); d < -2 || d > 2 {
					t.Fatalf("byte %d is %d, ffmpeg makes %d (pixel %v, ffmpeg's %v)", i, f.BGR[i], want[i], f.BGR[i/3*3:i/3*3+3], want[i/3*3:i/3*3+3])
				}
			}
			if err := src.Next(context.Background(), f); !errors.Is(err, io.EOF) {
				t.Errorf("after the last picture: %v, want io.EOF", err)
			}
		})
	}
}

// TestRawFramedRejectsAndEnds sends framed gray pictures: one whose PTS
// does not rise (rejected, the next one read), then one cut short (the
// end, io.EOF, as at a picture's start).
func TestRawFramedRejectsAndEnds(t *testing.T) {
	pic := uniform(pipeline.Gray, []byte{9})
	var in []byte
	for _, pts := range []clock.Ticks{100, 100, 99, 200} {
		in = append(in, framed(pts, pic)...)
	}
	in = append(in, framed(300, pic[:len(pic)/2])...)
	src, err := pipeline.NewRaw(pipeline.RawConfig{Size: rawSize, Format: pipeline.Gray, Framed: true},
		bytes.NewReader(in), pipeline.Start{Clock: clock.NewFake(pipelinetest.Epoch, nil), Timeline: clock.Timeline{Epoch: pipelinetest.Epoch}})
	if err != nil {
		t.Fatal(err)
	}
	f := pipeline.NewFrame(rawSize)
	for _, want := range []struct {
		pts      clock.Ticks
		rejected bool
	}{{100, false}, {100, true}, {99, true}, {200, false}} {
		err := src.Next(context.Background(), f)
		if rejected := errors.Is(err, pipeline.ErrRejected); rejected != want.rejected || (err != nil && !rejected) || f.PTS != want.pts {
			t.Fatalf("frame at PTS %d: %v (PTS %d), want rejected %v", want.pts, err, f.PTS, want.rejected)
		}
	}
	if newest, ok := src.Newest(); !ok || newest < 200 {
		t.Errorf("Newest %d %v, want at least 200", newest, ok)
	}
	if err := src.Next(context.Background(), f); !errors.Is(err, io.EOF) {
		t.Errorf("at a picture cut short: %v, want io.EOF", err)
	}
}
