package main

import (
	"errors"
	"flag"
	"io"
	"log/slog"
	"net/url"
	"os"
	"strings"

	"github.com/hlsmark/hlsmark/pipeline"
)

// The names --input, --input-format and --detect take.
const (
	inputCheckerboard = "checkerboard"
	inputStdin        = "-"
	inputPipe0        = "pipe:0"

	formatRawvideo = "rawvideo"
	formatFramed   = "framed"

	detectMint   = "mint"
	detectMotion = "motion"
	detectNone   = "none"
)

// inputConfig is what --input names and how to read it.
type inputConfig struct {
	// Input is --input: checkerboard (also when empty), - and pipe:0 for
	// raw frames on Stdin, or else a video file's path or file: URL.
	Input string
	// Loop is --loop: play a file again and again.
	Loop bool
	// Format is --input-format, Framed's flag: rawvideo or framed.
	Format string
	// PixFmt is --pix-fmt, the raw frames' pixel format.
	PixFmt pipeline.PixelFormat
	// Codec is --codec: libx264, or copy to pass a file's H.264 through.
	Codec string
	// Detect is --detect: mint, motion, none, or empty for the input's
	// default (mint for the checkerboard, none for every other input).
	Detect string
	// Motion is --motion-threshold and --motion-min-area, for --detect
	// motion.
	Motion pipeline.MotionConfig
	// Stdin is where - and pipe:0 read: os.Stdin for serve, a pipe in
	// tests.
	Stdin io.Reader
}

// inputFlags registers the flags of what the stream shows.
func inputFlags(fs *flag.FlagSet, c *inputConfig) {
	fs.StringVar(&c.Input, "input", inputCheckerboard, "what to stream: checkerboard; - (also pipe:0) for raw frames on standard input; or a video file's `path` or file: URL (paced by its own timestamps; the playlist ends when it does)")
	fs.BoolVar(&c.Loop, "loop", false, "play a file --input again and again, PTS still rising")
	fs.StringVar(&c.Format, "input-format", formatRawvideo, "raw frames on standard input: rawvideo (back to back, stamped on arrival) or framed (each after its 8-byte big-endian PTS in 90 kHz ticks)")
	fs.StringVar((*string)(&c.PixFmt), "pix-fmt", string(pipeline.BGR24), "raw frames' pixel format: rgb24, bgr24, yuv420p or gray")
	codecFlag(fs, c)
	fs.StringVar(&c.Detect, "detect", "", "detector making markers: mint, motion or none (default mint for the checkerboard, none for other inputs)")
	fs.IntVar(&c.Motion.Threshold, "motion-threshold", pipeline.DefaultMotionThreshold, "--detect motion: a pixel of the frame's small grey copy that differs from the running background by more than these luma `levels` (0-255) has changed")
	fs.IntVar(&c.Motion.MinArea, "motion-min-area", pipeline.DefaultMotionMinArea, "--detect motion: least changed area, in `pixels` of the full frame, that is motion; a marker per episode, ended by 5 still frames in a row")
}

// stdin reports whether the input is raw frames on standard input.
func (c inputConfig) stdin() bool { return c.Input == inputStdin || c.Input == inputPipe0 }

// file reports whether the input is a video file.
func (c inputConfig) file() bool { return c.Input != "" && c.Input != inputCheckerboard && !c.stdin() }

// validate checks the input flags, naming the flag at fault; fs tells
// which were given.
func (c inputConfig) validate(fs *flag.FlagSet) error {
	switch {
	case c.Loop && !c.file():
		return usagef("--loop: only for a file --input")
	case c.file():
		// Refused before anything is made in --data: a file that is not
		// there or cannot be read.
		f, err := os.Open(strings.TrimPrefix(c.Input, "file:"))
		if err != nil {
			return usagef("--input %q: %v (want checkerboard, - or pipe:0, or a video file)", c.Input, errors.Unwrap(err))
		}
		f.Close()
	case c.Format != formatRawvideo && c.Format != formatFramed:
		return usagef("--input-format %q: want rawvideo or framed", c.Format)
	}
	if c.Detect != "" && c.Detect != detectMint && c.Detect != detectMotion && c.Detect != detectNone {
		return usagef("--detect %q: want mint, motion or none", c.Detect)
	}
	for _, name := range []string{"input-format", "pix-fmt"} {
		if isSet(fs, name) && !c.stdin() {
			return usagef("--%s: only for raw frames on standard input (--input - or pipe:0), not --input %s", name, c.Input)
		}
	}
	for _, name := range []string{"motion-threshold", "motion-min-area"} {
		if isSet(fs, name) && c.Detect != detectMotion {
			return usagef("--%s: only with --detect motion", name)
		}
	}
	if err := c.Motion.Validate(); err != nil {
		return usagef("--%v", err)
	}
	if err := c.PixFmt.Validate(); err != nil {
		return usagef("--%v", err)
	}
	return c.validateCodec(fs)
}

// describe returns the input as /api/streams shows it: as given, with
// the password of a URL hidden.
func (c inputConfig) describe() string {
	if c.Input == "" {
		return inputCheckerboard
	}
	if u, err := url.Parse(c.Input); err == nil && u.User != nil {
		return u.Redacted()
	}
	return c.Input
}

// detector returns what makes the stream's detector, nil for none.
func (c inputConfig) detector() pipeline.NewDetector {
	detect := c.Detect
	if detect == "" {
		detect = detectNone
		if c.Input == "" || c.Input == inputCheckerboard {
			detect = detectMint
		}
	}
	switch detect {
	case detectMint:
		return pipeline.NewMintDetector
	case detectMotion:
		return c.Motion.New
	}
	return nil
}

// openInput returns the source of the stream c describes, paced by clk on
// the stream's timeline as at says: one case per kind of input.
func (c streamConfig) openInput(at pipeline.Start, log *slog.Logger) (pipeline.Source, error) {
	switch {
	case c.stdin():
		return pipeline.NewRaw(pipeline.RawConfig{Size: c.Size, Format: c.PixFmt, Framed: c.Format == formatFramed}, c.Stdin, at)
	case c.file():
		src, err := pipeline.NewFileSource(pipeline.FileConfig{Input: c.Input, Size: c.Size, Loop: c.Loop, Copy: c.copies(), Log: log}, at)
		if err != nil {
			return nil, usagef("--input: %v", err)
		}
		return src, nil
	default:
		return pipeline.NewCheckerboard(c.source(), at.Clock, at.Timeline)
	}
}
