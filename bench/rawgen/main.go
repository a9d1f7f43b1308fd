// Command rawgen writes the checkerboard hlsmark streams to stdout as raw
// bgr24 frames, for the ffmpeg CLI to read with
// `-f rawvideo -pix_fmt bgr24 -s WxH -r 30 -i -`. Unpaced (the default) it
// renders as fast as the pipe takes frames, on a fake clock; with --paced
// it renders each frame at its time on the real clock, as `hlsmark serve`
// does.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/hlsmark/hlsmark/bench/internal/benchsrc"
	"github.com/hlsmark/hlsmark/pipeline"
	"github.com/hlsmark/hlsmark/pipeline/clock"
	"github.com/hlsmark/hlsmark/pipeline/media"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "rawgen:", err)
		os.Exit(1)
	}
}

func run() error {
	size := flag.String("size", "1280x720", "frame size, WIDTHxHEIGHT")
	frames := flag.Int("frames", 300, "frames to write")
	paced := flag.Bool("paced", false, "render in real time instead of as fast as possible")
	flag.Parse()
	s, err := media.ParseSize(*size)
	if err != nil {
		return err
	}
	var clk clock.Clock = clock.NewFake(time.Now(), nil)
	if *paced {
		clk = clock.Real{}
	}
	src, err := benchsrc.New(s, clk)
	if err != nil {
		return err
	}
	f := pipeline.NewFrame(s)
	for range *frames {
		if err := src.Next(context.Background(), f); err != nil {
			return err
		}
		if _, err := os.Stdout.Write(f.BGR); err != nil {
			return err
		}
	}
	if late := src.Late(); late > 0 {
		fmt.Fprintf(os.Stderr, "rawgen: %d frames late\n", late)
	}
	return nil
}
