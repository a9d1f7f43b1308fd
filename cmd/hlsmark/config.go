package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"regexp"
	"strings"
	"time"

	"github.com/hlsmark/hlsmark/pipeline"
	"github.com/hlsmark/hlsmark/pipeline/media"
	"github.com/hlsmark/hlsmark/playlist"
)

// usageError is a bad command line: main prints it on one line and exits 2.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error {
	return usageError{fmt.Sprintf(format, args...)}
}

// streamName is what a stream may be called: it appears in URLs and as a
// folder name, so it is kept to letters, digits, '-' and '_'.
var streamName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$`)

// streamConfig is everything that shapes one stream.
type streamConfig struct {
	Data          string
	Name          string
	Size          media.Size
	FPS           int
	Segment       time.Duration
	Window        time.Duration
	Grace         time.Duration
	Preset        string
	Tune          string
	BFrames       int
	EventEvery    time.Duration
	EventDuration time.Duration
	EventFixed    bool
	Seed          uint64
}

// serveConfig is the configuration of `hlsmark serve`.
type serveConfig struct {
	Addr   string
	CORS   []string
	Token  string
	Debug  bool
	Stream streamConfig
}

// newFlagSet returns a flag set that reports errors to its caller instead
// of printing them, so main can print one line.
func newFlagSet(name string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	return fs
}

// streamFlags registers the flags shared by serve and bench.
func streamFlags(fs *flag.FlagSet, c *streamConfig, size *string) {
	src := pipeline.DefaultCheckerboardConfig(media.Size{Width: 1280, Height: 720})
	fs.StringVar(size, "size", src.Size.String(), "frame size, WIDTHxHEIGHT")
	fs.IntVar(&c.FPS, "fps", src.FPS, "frames per second")
	fs.DurationVar(&c.Segment, "segment", 2*time.Second, "target segment duration")
	fs.StringVar(&c.Preset, "preset", "veryfast", "libx264 preset")
	fs.StringVar(&c.Tune, "tune", "zerolatency", "libx264 tune (empty for none)")
	fs.IntVar(&c.BFrames, "bframes", 0, "most consecutive B-frames (0 keeps DTS equal to PTS)")
	fs.DurationVar(&c.EventEvery, "event-every", src.EventEvery, "mean time between mint-square events")
	fs.DurationVar(&c.EventDuration, "event-duration", src.EventDuration, "how long a mint square stays")
	fs.BoolVar(&c.EventFixed, "event-fixed", src.EventFixed, "make events exactly periodic")
	fs.Uint64Var(&c.Seed, "seed", src.Seed, "seed of the event times and places")
}

// parseServe parses the arguments of `hlsmark serve`.
func parseServe(args []string) (serveConfig, error) {
	var c serveConfig
	var size, cors string
	fs := newFlagSet("serve")
	fs.StringVar(&c.Addr, "addr", "127.0.0.1:8080", "listen address")
	fs.StringVar(&c.Stream.Data, "data", "./data", "data folder (segments, playlists, markers)")
	fs.StringVar(&c.Stream.Name, "stream", "demo", "stream name")
	fs.DurationVar(&c.Stream.Window, "window", 2*time.Minute, "DVR window a viewer can seek back in")
	fs.DurationVar(&c.Stream.Grace, "grace", 0, "how long segments stay on disk after leaving the window (default and least: the window plus the target duration, RFC 8216 section 6.2.2)")
	fs.StringVar(&cors, "cors-origin", "", "comma-separated origins allowed cross-origin access, or *")
	fs.BoolVar(&c.Debug, "debug", false, "log every request")
	fs.StringVar(&c.Token, "token", "", "bearer token required to post markers (default: none, for local use)")
	streamFlags(fs, &c.Stream, &size)
	if err := parseFlags(fs, args); err != nil {
		return c, err
	}
	if !isSet(fs, "grace") {
		c.Stream.Grace = c.Stream.minGrace()
	}
	if cors != "" {
		c.CORS = strings.Split(cors, ",")
	}
	var err error
	if c.Stream.Size, err = media.ParseSize(size); err != nil {
		return c, usagef("--%v", err)
	}
	return c, c.Stream.validate()
}

// parseFlags parses args, turning the flag package's errors into usage
// errors. -h and --help come back as flag.ErrHelp.
func parseFlags(fs *flag.FlagSet, args []string) error {
	err := fs.Parse(args)
	switch {
	case errors.Is(err, flag.ErrHelp):
		return err
	case err != nil:
		return usageError{strings.Replace(err.Error(), "flag provided but not defined", "unknown flag", 1)}
	case fs.NArg() > 0:
		return usagef("unexpected argument %q", fs.Arg(0))
	}
	return nil
}

// isSet reports whether the flag called name was given.
func isSet(fs *flag.FlagSet, name string) bool {
	set := false
	fs.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}

// minGrace is the least --grace: the window (or one segment, for a window
// of 0) plus the target duration (see playlist.MinGrace).
func (c streamConfig) minGrace() time.Duration {
	return playlist.MinGrace(max(c.Window, c.Segment), c.Segment)
}

// validate checks the stream settings, naming the flag at fault.
func (c streamConfig) validate() error {
	switch {
	case c.Name != "" && !streamName.MatchString(c.Name):
		return usagef("--stream %q: use 1 to 64 letters, digits, '-' or '_'", c.Name)
	case c.Segment < 100*time.Millisecond || c.Segment > time.Minute:
		return usagef("--segment %s: must be from 100ms to 1m", c.Segment)
	case c.Window != 0 && c.Window < c.Segment:
		return usagef("--window %s: must be at least one segment (%s)", c.Window, c.Segment)
	case c.Grace < c.minGrace():
		return usagef("--grace %s: must be at least %s, the window plus the target duration (RFC 8216 section 6.2.2)", c.Grace, c.minGrace())
	}
	if err := c.source().Validate(); err != nil {
		return usagef("--%v", err)
	}
	if err := c.encoder().Validate(); err != nil {
		return usagef("--%v", err)
	}
	return nil
}

// source returns the checkerboard's configuration: the default one at the
// stream's size, with the flags' frame rate and events.
func (c streamConfig) source() pipeline.CheckerboardConfig {
	src := pipeline.DefaultCheckerboardConfig(c.Size)
	src.FPS = c.FPS
	src.EventEvery, src.EventDuration, src.EventFixed = c.EventEvery, c.EventDuration, c.EventFixed
	src.Seed = c.Seed
	return src
}

// encoder returns the encoder's configuration.
func (c streamConfig) encoder() pipeline.EncoderConfig {
	return pipeline.EncoderConfig{
		Size:        c.Size,
		FPS:         c.FPS,
		Preset:      c.Preset,
		Tune:        c.Tune,
		BFrames:     c.BFrames,
		KeyInterval: c.Segment,
	}
}
