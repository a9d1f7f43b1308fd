package main

import (
	"errors"
	"flag"

	"github.com/hlsmark/hlsmark/muxer"
	"github.com/hlsmark/hlsmark/pipeline"
)

// The names --codec takes.
const (
	codecLibx264 = "libx264"
	codecCopy    = "copy"
)

// codecFlag registers --codec.
func codecFlag(fs *flag.FlagSet, c *inputConfig) {
	fs.StringVar(&c.Codec, "codec", codecLibx264, "libx264 (encode), or copy: pass a file's H.264 through, cut at its own keyframes (the target duration grows to fit its GOPs)")
}

// copies reports whether the stream passes its input's H.264 through.
func (c inputConfig) copies() bool { return c.Codec == codecCopy }

// validateCodec checks --codec against the input and the flags given
// with it (fs tells which): copy needs H.264 to copy, a video file, and
// has no pictures to detect in or encoder to set.
func (c inputConfig) validateCodec(fs *flag.FlagSet) error {
	switch {
	case c.Codec != codecLibx264 && c.Codec != codecCopy:
		return usagef("--codec %q: want libx264 or copy", c.Codec)
	case !c.copies():
		return nil
	case !c.file():
		return usagef("--codec copy: --input %s makes pictures, not H.264: copy needs a video file", c.Input)
	case c.Detect != "" && c.Detect != "none":
		return usagef("--codec copy: --detect %s needs pictures, and copy decodes none (post markers through the API)", c.Detect)
	}
	for _, name := range []string{"size", "preset", "tune", "bframes"} {
		if isSet(fs, name) {
			return usagef("--%s: not with --codec copy, which keeps the file's video as it is", name)
		}
	}
	return nil
}

// planCopy reads, for --codec copy, the file's keyframes (demuxed, not
// decoded): the segment duration becomes the target duration they need
// (muxer.CopyTarget), the grace follows it unless --grace was given (fs
// tells), and the size is the video's. A file whose video is not H.264
// is refused here, before anything is written.
func (c *streamConfig) planCopy(fs *flag.FlagSet) error {
	if !c.copies() {
		return nil
	}
	scan, err := pipeline.ScanFile(c.Input)
	var notH264 *pipeline.NotH264Error
	if errors.As(err, &notH264) {
		return usagef("--codec copy: %v", notH264)
	}
	if err != nil {
		return usagef("--input: %v", err)
	}
	c.Size, c.Segment = scan.Size, muxer.CopyTarget(c.Segment, scan.Keys, scan.End)
	switch {
	case c.Window != 0 && c.Window < c.Segment:
		return usagef("--codec copy: the file's keyframes need segments of %s, longer than --window %s", c.Segment, c.Window)
	case !isSet(fs, "grace"):
		c.Grace = c.minGrace()
	case c.Grace < c.minGrace():
		return usagef("--grace %s: must be at least %s with --codec copy, the window plus the target duration the file's keyframes need", c.Grace, c.minGrace())
	}
	return nil
}
