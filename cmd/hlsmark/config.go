package main

import (
	"flag"
	"regexp"
	"strings"
	"time"

	"github.com/hlsmark/hlsmark/pipeline"
	"github.com/hlsmark/hlsmark/pipeline/media"
)

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

// encodingFlags registers the flags that shape the encoded video, shared
// by serve and bench.
func encodingFlags(fs *flag.FlagSet, c *streamConfig, size *string) {
	src := pipeline.DefaultCheckerboardConfig(media.Size{Width: 1280, Height: 720})
	fs.StringVar(size, "size", src.Size.String(), "frame size in pixels, `WxH`")
	fs.IntVar(&c.FPS, "fps", src.FPS, "frames per second")
	fs.DurationVar(&c.Segment, "segment", 2*time.Second, "target segment duration")
	fs.StringVar(&c.Preset, "preset", "veryfast", "libx264 preset")
	fs.StringVar(&c.Tune, "tune", "zerolatency", "libx264 tune, empty for none")
	fs.IntVar(&c.BFrames, "bframes", 0, "most consecutive B-frames; 0 keeps DTS equal to PTS")
}

// eventFlags registers the flags of the checkerboard's events (mint
// squares), shared by serve and bench.
func eventFlags(fs *flag.FlagSet, c *streamConfig) {
	src := pipeline.DefaultCheckerboardConfig(media.Size{Width: 1280, Height: 720})
	fs.DurationVar(&c.EventEvery, "event-every", src.EventEvery, "mean time between mint-square events")
	fs.DurationVar(&c.EventDuration, "event-duration", src.EventDuration, "how long a mint square stays")
	fs.BoolVar(&c.EventFixed, "event-fixed", src.EventFixed, "make events exactly periodic")
	fs.Uint64Var(&c.Seed, "seed", src.Seed, "seed of the event times and places")
}

// serveArgs are the flags of `hlsmark serve` as typed, before they are
// checked and turned into a serveConfig.
type serveArgs struct {
	serveConfig
	size, cors string
	token      tokenArgs
}

// serveFlags returns the flag set of `hlsmark serve`, bound to a.
func serveFlags(a *serveArgs) *commandLine {
	c := &a.serveConfig
	cl := newCommandLine("serve", "Streams the checkerboard as live HLS.\nSIGINT or SIGTERM stops it: the last segment is written and the playlist ended.")
	cl.notes = tokenNotes
	cl.group("HTTP", func(fs *flag.FlagSet) {
		fs.StringVar(&c.Addr, "addr", "127.0.0.1:8080", "`host:port` to listen on (0.0.0.0:port: every interface)")
		fs.StringVar(&a.cors, "cors-origin", "", "`origins` allowed cross-origin access, comma-separated, or *")
		fs.BoolVar(&c.Debug, "debug", false, "log every request")
	})
	cl.group("Marker writes", func(fs *flag.FlagSet) { a.token.register(fs) })
	cl.group("Stream", func(fs *flag.FlagSet) {
		fs.StringVar(&c.Stream.Data, "data", "./data", "`folder` for segments, playlists and markers")
		fs.StringVar(&c.Stream.Name, "stream", "demo", "stream `name`, in its URLs and its folder")
		fs.DurationVar(&c.Stream.Window, "window", 2*time.Minute, "DVR window a viewer can seek back in")
		fs.DurationVar(&c.Stream.Grace, "grace", 30*time.Second, "how long segments stay on disk after leaving the window")
	})
	cl.group("Encoding", func(fs *flag.FlagSet) { encodingFlags(fs, &c.Stream, &a.size) })
	cl.group("Events", func(fs *flag.FlagSet) { eventFlags(fs, &c.Stream) })
	return cl
}

// parseServe parses the arguments of `hlsmark serve`, taking the bearer
// token from HLSMARK_TOKEN through lookupEnv when no flag gives one.
func parseServe(args []string, lookupEnv func(string) (string, bool)) (serveConfig, error) {
	var a serveArgs
	cl := serveFlags(&a)
	if err := cl.parse(args); err != nil {
		return a.serveConfig, err
	}
	c := a.serveConfig
	if a.cors != "" {
		c.CORS = strings.Split(a.cors, ",")
	}
	var err error
	if c.Token, err = a.token.resolve(cl.FlagSet, lookupEnv); err != nil {
		return c, err
	}
	if c.Stream.Size, err = media.ParseSize(a.size); err != nil {
		return c, usagef("--%v", err)
	}
	return c, c.Stream.validate()
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
	case c.Grace < 0:
		return usagef("--grace %s: must not be negative", c.Grace)
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
