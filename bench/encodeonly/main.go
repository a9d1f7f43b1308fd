// Command encodeonly measures the bound hlsmark's pipeline is compared
// with: libx264 alone, through hlsmark's own encoder settings, encoding
// frames that are already YUV420P in memory. It renders and converts every
// frame first, then times only the encoding, and prints one JSON line. The
// line also gives what the conversion (swscale, one thread) took per frame:
// the one stage above the encoder that hlsmark cannot skip.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
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
	flag.Parse()
	s, err := media.ParseSize(*size)
	if err != nil {
		return err
	}
	src, err := benchsrc.New(s, clock.NewFake(time.Now(), nil))
	if err != nil {
		return err
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
	enc, err := pipeline.NewEncoder(pipeline.EncoderConfig{
		Size: s, FPS: benchsrc.FPS, Preset: *preset, Tune: "zerolatency", KeyInterval: *segment,
	})
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
	r.WallSeconds = time.Since(start).Seconds()
	r.CPUSeconds = (cpuTime() - cpu0).Seconds()
	r.FramesPerSecond = float64(r.Frames) / r.WallSeconds
	r.CPUPerFrame = r.CPUSeconds / float64(r.Frames)
	r.ConvertPerFrame = converting.Seconds() / float64(r.Frames)
	return json.NewEncoder(os.Stdout).Encode(r)
}

// cpuTime returns the CPU time (user and system) the process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
