package main

import (
	"cmp"
	"errors"
	"flag"
	"io"
	"log/slog"
	"os"
	"strings"

	"github.com/hlsmark/hlsmark/pipeline"
	"github.com/hlsmark/hlsmark/pipeline/media"
)

// The names --input and --input-format take.
const (
	inputCheckerboard = "checkerboard"
	inputStdin        = "-"
	inputPipe0        = "pipe:0"

	formatRawvideo = "rawvideo"
	formatFramed   = "framed"
)

// inputConfig is what --input names and how to read it.
type inputConfig struct {
	// Input is --input: checkerboard (also when empty), - and pipe:0 for
	// raw frames on Stdin, a network URL (rtsp, rtsps, http, https, udp,
	// srt), a camera (/dev/videoN, v4l2:PATH), or else a video file's path
	// or file: URL.
	Input string
	// Loop is --loop: play a file again and again.
	Loop bool
	// Format is --input-format, Framed's flag: rawvideo or framed.
	Format string
	// PixFmt is --pix-fmt, the raw frames' pixel format.
	PixFmt pipeline.PixelFormat
	// Detect is --detect: mint, none, or empty for the input's default
	// (mint for the checkerboard, none for every other input).
	Detect string
	// RTSPTransport is --rtsp-transport: tcp or udp, for an rtsp input.
	RTSPTransport string
	// InputSize, InputFPS and InputPixFmt are --input-size, --input-fps
	// and --input-pix-fmt: what a camera is asked for.
	InputSize, InputFPS, InputPixFmt string
	// Stdin is where - and pipe:0 read: os.Stdin for serve, a pipe in
	// tests.
	Stdin io.Reader
}

// inputFlags registers the flags of what the stream shows.
func inputFlags(fs *flag.FlagSet, c *inputConfig) {
	fs.StringVar(&c.Input, "input", inputCheckerboard, "what to stream: checkerboard; - (also pipe:0) for raw frames on standard input; a video file's `path` or file: URL (paced by its own timestamps; the playlist ends when it does); a network URL, rtsp://, rtsps://, http(s)://, udp:// or srt:// (reconnected when lost); or a camera, /dev/videoN or v4l2:PATH")
	fs.StringVar(&c.RTSPTransport, "rtsp-transport", "", "how an rtsp:// input's media come: tcp or udp (default tcp)")
	fs.StringVar(&c.InputSize, "input-size", "", "picture size a camera --input is asked for, `WxH` (default: the camera's)")
	fs.StringVar(&c.InputFPS, "input-fps", "", "frame rate a camera --input is asked for, `rate` N, N.M or N/D (default: the camera's)")
	fs.StringVar(&c.InputPixFmt, "input-pix-fmt", "", "pixel or compressed format a camera --input is asked for, as FFmpeg names it: yuyv422, mjpeg... (default: the camera's)")
	fs.BoolVar(&c.Loop, "loop", false, "play a file --input again and again, PTS still rising")
	fs.StringVar(&c.Format, "input-format", formatRawvideo, "raw frames on standard input: rawvideo (back to back, stamped on arrival) or framed (each after its 8-byte big-endian PTS in 90 kHz ticks)")
	fs.StringVar((*string)(&c.PixFmt), "pix-fmt", string(pipeline.BGR24), "raw frames' pixel format: rgb24, bgr24, yuv420p or gray")
	fs.StringVar(&c.Detect, "detect", "", "detector making markers: mint or none (default mint for the checkerboard, none for other inputs)")
}

// stdin reports whether the input is raw frames on standard input.
func (c inputConfig) stdin() bool { return c.Input == inputStdin || c.Input == inputPipe0 }

// live reports whether the input is a network input or a camera.
func (c inputConfig) live() bool {
	return pipeline.IsNetworkInput(c.Input) || pipeline.IsDeviceInput(c.Input)
}

// file reports whether the input is a video file.
func (c inputConfig) file() bool {
	return c.Input != "" && c.Input != inputCheckerboard && !c.stdin() && !c.live()
}

// liveConfig returns the live source's configuration, at the stream's
// size; bad --input-size fails.
func (c inputConfig) liveConfig(size media.Size) (pipeline.LiveConfig, error) {
	lc := pipeline.LiveConfig{Input: c.Input, Size: size, RTSPTransport: c.RTSPTransport,
		Device: pipeline.DeviceConfig{FPS: c.InputFPS, PixFmt: c.InputPixFmt}}
	if c.InputSize != "" {
		s, err := media.ParseSize(c.InputSize)
		if err != nil {
			return lc, usagef("--input-%v", err)
		}
		lc.Device.Size = s
	}
	return lc, nil
}

// validate checks the input flags, naming the flag at fault; fs tells
// which were given, size is the stream's frame size.
func (c inputConfig) validate(fs *flag.FlagSet, size media.Size) error {
	if c.live() {
		return c.validateLive(fs, size)
	}
	for _, name := range []string{"rtsp-transport", "input-size", "input-fps", "input-pix-fmt"} {
		if isSet(fs, name) {
			what := "a camera --input (/dev/videoN or v4l2:PATH)"
			if name == "rtsp-transport" {
				what = "an rtsp:// or rtsps:// --input"
			}
			return usagef("--%s: only for %s, not --input %s", name, what, cmp.Or(c.Input, inputCheckerboard))
		}
	}
	switch {
	case c.Loop && !c.file():
		return usagef("--loop: only for a file --input")
	case c.file():
		// Refused before anything is made in --data: a file that is not
		// there or cannot be read.
		f, err := os.Open(strings.TrimPrefix(c.Input, "file:"))
		if err != nil {
			return usagef("--input %q: %v (want checkerboard, - or pipe:0, a video file, a network URL or a camera)", c.Input, errors.Unwrap(err))
		}
		f.Close()
	case c.Format != formatRawvideo && c.Format != formatFramed:
		return usagef("--input-format %q: want rawvideo or framed", c.Format)
	case c.Detect != "" && c.Detect != "mint" && c.Detect != "none":
		return usagef("--detect %q: want mint or none", c.Detect)
	}
	for _, name := range []string{"input-format", "pix-fmt"} {
		if isSet(fs, name) && !c.stdin() {
			return usagef("--%s: only for raw frames on standard input (--input - or pipe:0), not --input %s", name, c.Input)
		}
	}
	if err := c.PixFmt.Validate(); err != nil {
		return usagef("--%v", err)
	}
	return nil
}

// validateLive checks a network or camera input's flags: what libav
// knows, what the camera can be asked for, and that a camera's device is
// there.
func (c inputConfig) validateLive(fs *flag.FlagSet, size media.Size) error {
	for _, name := range []string{"loop", "input-format", "pix-fmt"} {
		if isSet(fs, name) {
			return usagef("--%s: not for a network or camera --input (%s)", name, c.Input)
		}
	}
	lc, err := c.liveConfig(size)
	if err != nil {
		return err
	}
	if err := lc.Validate(); err != nil {
		return usagef("--%v", err)
	}
	if pipeline.IsDeviceInput(c.Input) {
		if _, err := os.Stat(pipeline.DevicePath(c.Input)); err != nil {
			return usagef("--input %q: %v (no such camera)", c.Input, errors.Unwrap(err))
		}
	}
	return nil
}

// noDetector reports whether the stream runs without a detector.
func (c inputConfig) noDetector() bool {
	if c.Detect == "" {
		return c.Input != "" && c.Input != inputCheckerboard
	}
	return c.Detect == "none"
}

// openInput returns the source of the stream c describes, paced by clk on
// the stream's timeline as at says: one case per kind of input.
func (c streamConfig) openInput(at pipeline.Start, log *slog.Logger) (pipeline.Source, error) {
	switch {
	case c.stdin():
		return pipeline.NewRaw(pipeline.RawConfig{Size: c.Size, Format: c.PixFmt, Framed: c.Format == formatFramed}, c.Stdin, at)
	case c.live():
		lc, err := c.liveConfig(c.Size)
		if err != nil {
			return nil, err
		}
		return pipeline.NewLiveSource(lc, at, log)
	case c.file():
		src, err := pipeline.NewFileSource(pipeline.FileConfig{Input: c.Input, Size: c.Size, Loop: c.Loop, Log: log}, at)
		if err != nil {
			return nil, usagef("--input: %v", err)
		}
		return src, nil
	default:
		return pipeline.NewCheckerboard(c.source(), at.Clock, at.Timeline)
	}
}
