// Command encodeonly measures the bound hlsmark's pipeline is compared
// with: libx264 alone, through hlsmark's own encoder settings, encoding
// frames that are already YUV420P in memory. It renders and converts every
// frame first, then times only the encoding, and prints one JSON line. The
// line also gives what the conversion (swscale, one thread) took per frame:
// the one stage above the encoder that hlsmark cannot skip.
//
// With --convert the bound takes in that stage too, on the threads hlsmark
// runs it on: every frame is rendered first and kept as BGR24, then the
// timed part runs hlsmark's own pipeline.Pipeline over them, without a
// detector and into a sink that only counts bytes, so that swscale
// converts each frame on the source's goroutine while libx264 encodes the
// ones before on the encoder's, through the same 4-frame queue.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"syscall"
	"time"

	"github.com/hlsmark/hlsmark/bench/internal/benchsrc"
	"github.com/hlsmark/hlsmark/pipeline"
	"github.com/hlsmark/hlsmark/pipeline/clock"
	"github.com/hlsmark/hlsmark/pipeline/media"
)

// result is the JSON line encodeonly prints.
type result struct {
	Frames          int     `json:"frames"`
	Size            string  `json:"size"`
	Preset          string  `json:"preset"`
	Bytes           int     `json:"bytes"`
	WallSeconds     float64 `json:"wall_seconds"`
	FramesPerSecond float64 `json:"frames_per_second"`
	CPUSeconds      float64 `json:"cpu_seconds"`
	// CPUPerFrame is CPUSeconds per frame: libx264's CPU time, all its
	// threads together.
	CPUPerFrame float64 `json:"cpu_seconds_per_frame"`
	// ConvertPerFrame is the time one BGR24 → YUV420P conversion took, on
	// one thread, averaged over the frames.
	ConvertPerFrame float64 `json:"convert_seconds_per_frame"`
}

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "encodeonly:", err)
		os.Exit(1)
	}
}

func run() error {
	size := flag.String("size", "1280x720", "frame size, WIDTHxHEIGHT")
	frames := flag.Int("frames", 300, "frames to encode")
	preset := flag.String("preset", "veryfast", "libx264 preset")
	segment := flag.Duration("segment", 2*time.Second, "IDR interval (the segment duration)")
	withConvert := flag.Bool("convert", false, "time the BGR24 to YUV420P conversion too, on hlsmark's threads")
	flag.Parse()
	s, err := media.ParseSize(*size)
	if err != nil {
		return err
	}
	src, err := benchsrc.New(s, clock.NewFake(time.Now(), nil))
	if err != nil {
		return err
	}
	if *withConvert {
		return runConverting(src, s, *frames, *preset, *segment)
	}
	// Render into one RGB buffer; keep only each frame's YUV420P picture.
	rgb := pipeline.NewFrame(s).BGR
	pics := make([]*pipeline.Frame, *frames)
	defer func() {
		for _, f := range pics {
			if f != nil {
				f.Free()
			}
		}
	}()
	// Conversion is timed into one reused picture, as the pipeline's
	// frames are reused: a fresh picture per frame would time page faults.
	var converting time.Duration
	warm := &pipeline.Frame{Size: s, BGR: rgb}
	defer warm.Free()
	for i := range pics {
		f := &pipeline.Frame{Size: s, BGR: rgb}
		if err := src.Next(context.Background(), f); err != nil {
			return err
		}
		if err := f.Convert(); err != nil {
			return err
		}
		if i == 0 { // the first conversion also sets swscale up
			if err := warm.Convert(); err != nil {
				return err
			}
		}
		start := time.Now()
		if err := warm.Convert(); err != nil {
			return err
		}
		converting += time.Since(start)
		f.BGR = nil // Encode reads the converted picture only
		pics[i] = f
	}
	enc, err := newEncoder(s, *preset, *segment)
	if err != nil {
		return err
	}
	defer enc.Close()
	r := result{Frames: *frames, Size: s.String(), Preset: *preset}
	out := func(p media.Packet) error { r.Bytes += len(p.Data); return nil }

	cpu0, start := cpuTime(), time.Now()
	for _, f := range pics {
		if err := enc.Encode(f, out); err != nil {
			return err
		}
	}
	if err := enc.Flush(out); err != nil {
		return err
	}
	r.ConvertPerFrame = converting.Seconds() / float64(r.Frames)
	return r.print(time.Since(start), cpuTime()-cpu0)
}

// newEncoder opens libx264 with hlsmark's settings for the checkerboard.
func newEncoder(s media.Size, preset string, segment time.Duration) (*pipeline.Encoder, error) {
	return pipeline.NewEncoder(pipeline.EncoderConfig{
		Size: s, FPS: benchsrc.FPS, Preset: preset, Tune: "zerolatency", KeyInterval: segment,
	})
}

// print completes r with the time the timed part took and prints it.
func (r result) print(wall, cpu time.Duration) error {
	r.WallSeconds = wall.Seconds()
	r.CPUSeconds = cpu.Seconds()
	r.FramesPerSecond = float64(r.Frames) / r.WallSeconds
	r.CPUPerFrame = r.CPUSeconds / float64(r.Frames)
	return json.NewEncoder(os.Stdout).Encode(r)
}

// runConverting is encodeonly --convert: it renders n frames of src
// beforehand, each into a buffer of its own, then times hlsmark's
// pipeline converting and encoding them.
func runConverting(src *pipeline.Checkerboard, s media.Size, n int, preset string, segment time.Duration) error {
	frames := make([]pipeline.Frame, n)
	for i := range frames {
		frames[i] = pipeline.Frame{Size: s, BGR: make([]byte, s.Width*s.Height*3)}
		if err := src.Next(context.Background(), &frames[i]); err != nil {
			return err
		}
	}
	enc, err := newEncoder(s, preset, segment)
	if err != nil {
		return err
	}
	r := result{Frames: n, Size: s.String(), Preset: preset}
	p := &pipeline.Pipeline{Source: &rendered{frames: frames}, Encoder: enc, Sink: &counter{bytes: &r.Bytes}}
	defer enc.Close()
	cpu0, start := cpuTime(), time.Now()
	if err := p.Run(context.Background()); err != nil {
		return err
	}
	wall, cpu := time.Since(start), cpuTime()-cpu0
	if got := p.Stats.Frames.Load(); got != uint64(n) {
		return fmt.Errorf("the pipeline encoded %d frames of %d", got, n)
	}
	return r.print(wall, cpu)
}

// rendered is a pipeline.Source of frames rendered beforehand: Next points
// the pipeline's frame at the next one's picture, without copying it, and
// gives it that frame's PTS.
type rendered struct {
	frames []pipeline.Frame
	next   int
}

func (r *rendered) Size() media.Size { return r.frames[0].Size }
func (r *rendered) Late() uint64     { return 0 }

func (r *rendered) Next(_ context.Context, f *pipeline.Frame) error {
	if r.next == len(r.frames) {
		return io.EOF
	}
	f.BGR, f.PTS = r.frames[r.next].BGR, r.frames[r.next].PTS
	r.next++
	return nil
}

// counter is a pipeline.Sink that only adds up the packets' bytes.
type counter struct{ bytes *int }

func (c *counter) WritePacket(p media.Packet) error { *c.bytes += len(p.Data); return nil }
func (c *counter) Close() error                     { return nil }

// cpuTime returns the CPU time (user and system) the process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
