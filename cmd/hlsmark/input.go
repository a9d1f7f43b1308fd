package main

import (
	"cmp"
	"errors"
	"flag"
	"io"
	"log/slog"
	"net/url"
	"os"
	"strings"

	"github.com/hlsmark/hlsmark/pipeline"
	"github.com/hlsmark/hlsmark/pipeline/media"
	"github.com/hlsmark/hlsmark/pipeline/stamp"
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
	// Codec is --codec: libx264, or copy to pass a file's H.264 through.
	Codec string
	// Detect is --detect: mint, motion, none, or empty for the input's
	// default (mint for the checkerboard, none for every other input).
	Detect string
	// Motion is --motion-threshold and --motion-min-area, for --detect
	// motion.
	Motion pipeline.MotionConfig
	// RTSPTransport is --rtsp-transport: tcp or udp, for an rtsp input.
	RTSPTransport string
	// InputSize, InputFPS and InputPixFmt are --input-size, --input-fps
	// and --input-pix-fmt: what a camera is asked for.
	InputSize, InputFPS, InputPixFmt string
	// Stdin is where - and pipe:0 read: os.Stdin for serve, a pipe in
	// tests.
	Stdin io.Reader
	// Stamp is --stamp: draw each frame's PTS as a strip (package
	// pipeline/stamp), on the checkerboard or framed raw frames.
	Stamp bool
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
	codecFlag(fs, c)
	fs.StringVar(&c.Detect, "detect", "", "detector making markers: mint, motion or none (default mint for the checkerboard, none for other inputs)")
	fs.IntVar(&c.Motion.Threshold, "motion-threshold", pipeline.DefaultMotionThreshold, "--detect motion: a pixel of the frame's small grey copy that differs from the running background by more than these luma `levels` (0-255) has changed")
	fs.IntVar(&c.Motion.MinArea, "motion-min-area", pipeline.DefaultMotionMinArea, "--detect motion: least changed area, in `pixels` of the full frame, that is motion; a marker per episode, ended by 5 still frames in a row")
	fs.BoolVar(&c.Stamp, "stamp", false, "draw each frame's PTS (90 kHz, modulo 2^33) as a strip of black and white cells across the top of the picture, for glass-to-glass measurement; only for the checkerboard and --input - --input-format framed")
}

// checkerboard reports whether the input is the checkerboard.
func (c inputConfig) checkerboard() bool { return c.Input == "" || c.Input == inputCheckerboard }

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
	if c.Stamp && !c.checkerboard() && !(c.stdin() && c.Format == formatFramed) {
		return usagef("--stamp: only for the checkerboard or framed raw frames (--input - --input-format framed), not --input %s", c.describe())
	}
	var err error
	if c.live() {
		err = c.validateLive(fs, size)
	} else {
		err = c.validateLocal(fs)
	}
	if err != nil {
		return err
	}
	if c.Detect != "" && c.Detect != detectMint && c.Detect != detectMotion && c.Detect != detectNone {
		return usagef("--detect %q: want mint, motion or none", c.Detect)
	}
	for _, name := range []string{"motion-threshold", "motion-min-area"} {
		if isSet(fs, name) && c.Detect != detectMotion {
			return usagef("--%s: only with --detect motion", name)
		}
	}
	if err := c.Motion.Validate(); err != nil {
		return usagef("--%v", err)
	}
	return c.validateCodec(fs)
}

// validateLocal checks the flags of an input that is neither a network
// input nor a camera: the checkerboard, raw frames or a file.
func (c inputConfig) validateLocal(fs *flag.FlagSet) error {
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
		if !c.Stamp {
			return c.Motion.New
		}
		return func(s media.Size) (pipeline.Detector, error) {
			m := c.Motion
			m.Mask = stamp.Bounds(s) // its cells change every frame
			return m.New(s)
		}
	}
	return nil
}

// openInput returns the source of the stream c describes, paced by clk on
// the stream's timeline as at says: one case per kind of input.
func (c streamConfig) openInput(at pipeline.Start, log *slog.Logger) (pipeline.Source, error) {
	switch {
	case c.stdin():
		return pipeline.NewRaw(pipeline.RawConfig{Size: c.Size, Format: c.PixFmt, Framed: c.Format == formatFramed, Stamp: c.Stamp}, c.Stdin, at)
	case c.live():
		lc, err := c.liveConfig(c.Size)
		if err != nil {
			return nil, err
		}
		return pipeline.NewLiveSource(lc, at, log)
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
