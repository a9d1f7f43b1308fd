package main

import (
	"flag"
	"regexp"
	"strings"
	"time"

	"github.com/hlsmark/hlsmark/pipeline"
	"github.com/hlsmark/hlsmark/pipeline/media"
	"github.com/hlsmark/hlsmark/pipeline/stream"
	"github.com/hlsmark/hlsmark/playlist"
	"github.com/hlsmark/hlsmark/playlist/bucket"
	"github.com/hlsmark/hlsmark/server"
)

// streamName is what a stream may be called: it appears in URLs, in
// metric labels and as a folder name, so it is kept to lower-case
// letters, digits, '-' and '_'.
var streamName = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,63}$`)

// streamConfig is everything that shapes one stream.
type streamConfig struct {
	inputConfig
	Data string
	Name string
	// SegmentFormat is the segments' container (--format).
	SegmentFormat media.Format
	// Part is the Low-Latency HLS part duration (--part); 0: no parts.
	Part    time.Duration
	Size    media.Size
	FPS     int
	Segment time.Duration
	Window  time.Duration
	Grace   time.Duration
	// Retain and RetainSize keep segments past the window for VOD
	// playlists (playlist.Config.Retain, RetainSize).
	Retain        time.Duration
	RetainSize    int64
	MaxDateRanges int
	Preset        string
	Tune          string
	BFrames       int
	EventEvery    time.Duration
	EventDuration time.Duration
	EventFixed    bool
	Seed          uint64

	// SegmentCache bounds the bytes of the newest segments held in memory
	// for the server to answer from; 0 holds none.
	SegmentCache int64
	// notifier is stream.Config.Notifier: serve's webhooks and MQTT.
	notifier stream.MarkerNotifier
	// bucket is stream.Config.Bucket: serve's --segments store.
	bucket *bucket.Store
}

// serveConfig is the configuration of `hlsmark serve`.
type serveConfig struct {
	// Config is --config: the YAML file the settings below were read
	// from, with the flags given over it; empty for flags alone.
	Config string
	Data   string
	// Markers is --markers: a PostgreSQL URL, or empty for the bbolt
	// file Data/markers.db.
	Markers string
	// Segments is --segments and the --s3-... flags: the object store
	// segments and playlists are copied to; nil for the disk only.
	Segments *bucket.Config
	// Lease is --lease: how long a stream stays this server's after the
	// last renewal of its lease, with PostgreSQL.
	Lease       time.Duration
	Addr        string
	MetricsAddr string
	CORS        []string
	Token       string
	Debug       bool
	// MaxConns bounds the open HTTP connections; 0 means from the file
	// descriptor limit (see connLimit).
	MaxConns int
	Limits   server.Limits
	Notify   notifyConfig
	// Streams are the streams to run: one from the flags, or those of
	// the --config file's streams: list.
	Streams []streamConfig
	// file is the --config file, nil without one.
	file *configFile
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
	cors     string
	token    tokenArgs
	segments segmentsArgs
	stream   streamArgs
}

// streamArgs are the flags of one stream as typed: on the command line,
// or the keys of one entry of a config file's streams: list.
type streamArgs struct {
	streamConfig
	size string
}

// serveFlags returns the flag set of `hlsmark serve`, bound to a.
func serveFlags(a *serveArgs) *commandLine {
	c := &a.serveConfig
	cl := newCommandLine("serve", "Streams the checkerboard, a video file, a network stream or a camera (--input), or several streams (--config), as live HLS.\nSIGINT or SIGTERM stops it: the last segments are written and the playlists ended.")
	cl.notes = tokenNotes
	cl.group("Server", func(fs *flag.FlagSet) {
		fs.StringVar(&c.Config, "config", "", "YAML `file` of settings and streams (see README, \"Many streams\"); a flag given with it overrides the file's top-level key of the same name")
		fs.StringVar(&c.Data, "data", "./data", "`folder` for segments, playlists and markers, a subfolder per stream")
		markersFlag(fs, &c.Markers)
		segmentsFlags(fs, &a.segments)
		leaseFlag(fs, &c.Lease)
	})
	cl.group("HTTP", func(fs *flag.FlagSet) {
		fs.StringVar(&c.Addr, "addr", "127.0.0.1:8080", "`host:port` to listen on (0.0.0.0:port: every interface)")
		fs.StringVar(&a.cors, "cors-origin", "", "`origins` allowed cross-origin access, comma-separated, or *")
		fs.BoolVar(&c.Debug, "debug", false, "log every request")
		fs.StringVar(&c.MetricsAddr, "metrics-addr", "", "`host:port` to serve /metrics on instead of --addr (empty: on --addr)")
	})
	cl.group("Limits", func(fs *flag.FlagSet) { limitFlags(fs, &c.Limits, &c.MaxConns) })
	cl.group("Marker writes", func(fs *flag.FlagSet) { a.token.register(fs) })
	cl.group("Notifications", func(fs *flag.FlagSet) { notifyFlags(fs, &c.Notify) })
	streamFlags(cl, &a.stream)
	return cl
}

// streamFlags registers the flags of one stream, bound to a: on the
// command line of serve, and for each entry of a config file's streams:
// list, whose keys are these flags' names.
func streamFlags(cl *commandLine, a *streamArgs) {
	c := &a.streamConfig
	cl.group("Stream", func(fs *flag.FlagSet) {
		fs.StringVar(&c.Name, "stream", "demo", "stream `name`, in its URLs and its folder: 1 to 64 of a-z, 0-9, '-' and '_' (in a config file: name)")
		fs.TextVar(&c.SegmentFormat, "format", media.TS, "segment container: ts (MPEG-TS, {seq}.ts), or fmp4 (fragmented MP4/CMAF: init.mp4 and {seq}.m4s, EXT-X-MAP); a stream's folder keeps its format")
		fs.DurationVar(&c.Part, "part", 0, "Low-Latency HLS part `duration` (e.g. 200ms, at most a third of --segment; fmp4 only): parts listed as EXT-X-PART, blocking playlist reload; 0: off")
		fs.DurationVar(&c.Window, "window", 2*time.Minute, "DVR window a viewer can seek back in")
		fs.IntVar(&c.MaxDateRanges, "max-dateranges", playlist.DefaultMaxDateRanges, "most markers listed as EXT-X-DATERANGE in the playlist at once (the API has them all)")
		fs.DurationVar(&c.Grace, "grace", 0, "how long segments stay on disk after leaving the window (default and least: the window plus the target duration, RFC 8216 section 6.2.2)")
		fs.DurationVar(&c.Retain, "retain", time.Hour, "how long segments stay on disk after leaving the window, for VOD playlists (vod.m3u8); 0: only the window, as --grace keeps it")
		fs.Int64Var(&c.RetainSize, "retain-size", 2<<30, "most `bytes` of a stream's segments on disk; past it the oldest retained ones go first (2 GiB = 2147483648)")
		fs.Int64Var(&c.SegmentCache, "segment-cache", 64<<20, "`bytes` of the newest segments kept in memory to answer from (64 MiB = 67108864); 0: every segment from its file")
	})
	cl.group("Input", func(fs *flag.FlagSet) { inputFlags(fs, &c.inputConfig) })
	cl.group("Encoding", func(fs *flag.FlagSet) { encodingFlags(fs, c, &a.size) })
	cl.group("Events", func(fs *flag.FlagSet) { eventFlags(fs, c) })
}

// resolve checks the stream's flags as set in fs and returns the stream
// they describe, its folder under data.
func (a streamArgs) resolve(fs *flag.FlagSet, data string) (streamConfig, error) {
	c := a.streamConfig
	c.Data = data
	if !isSet(fs, "grace") {
		c.Grace = c.minGrace()
	}
	var err error
	if c.Size, err = media.ParseSize(a.size); err != nil {
		return c, usagef("--%v", err)
	}
	if c.MaxDateRanges < 1 {
		return c, usagef("--max-dateranges %d: must be at least 1", c.MaxDateRanges)
	}
	if err := c.inputConfig.validate(fs, c.Size); err != nil {
		return c, err
	}
	if err := c.validate(); err != nil {
		return c, err
	}
	return c, c.planCopy(fs)
}

// parseServe parses the arguments of `hlsmark serve`, and the --config
// file they name, taking the bearer token from HLSMARK_TOKEN through
// lookupEnv when neither gives one.
func parseServe(args []string, lookupEnv func(string) (string, bool)) (serveConfig, error) {
	var a serveArgs
	cl := serveFlags(&a)
	if err := cl.parse(args); err != nil {
		return a.serveConfig, err
	}
	var file *configFile
	if a.Config != "" {
		var err error
		if file, err = readConfigFile(a.Config); err != nil {
			return a.serveConfig, err
		}
		if err := file.applyServer(cl); err != nil {
			return a.serveConfig, err
		}
	}
	c := a.serveConfig
	if a.cors != "" {
		c.CORS = strings.Split(a.cors, ",")
	}
	var err error
	if c.Token, err = a.token.resolve(cl.FlagSet, lookupEnv); err != nil {
		return c, err
	}
	if err := validateLimits(c); err != nil {
		return c, err
	}
	if err := c.Notify.validate(); err != nil {
		return c, err
	}
	if c.Segments, err = a.segments.resolve(lookupEnv); err != nil {
		return c, err
	}
	if file == nil {
		st, err := a.stream.resolve(cl.FlagSet, c.Data)
		c.Streams = []streamConfig{st}
		return c, err
	}
	c.Streams, err = file.streams(c.Data)
	c.file = file
	return c, err
}

// limitFlags registers the flags of what clients may cost the server.
func limitFlags(fs *flag.FlagSet, l *server.Limits, maxConns *int) {
	d := server.DefaultLimits()
	fs.IntVar(maxConns, "max-conns", 0, "most open HTTP connections; 0: half the file descriptor limit (raised to its hard limit), less a reserve")
	fs.Float64Var(&l.PostRate, "post-rate", d.PostRate, "marker posts a second allowed per client address, on average")
	fs.IntVar(&l.PostBurst, "post-burst", d.PostBurst, "marker posts a client address may send at once")
	fs.Float64Var(&l.ListRate, "list-rate", d.ListRate, "markers a second a client address may read from the list and event-stream replays, on average")
	fs.IntVar(&l.ListBurst, "list-burst", d.ListBurst, "markers a client address may read at once (at least 1000, a full page)")
	fs.IntVar(&l.StreamMarkersPerMinute, "stream-markers-per-minute", d.StreamMarkersPerMinute, "markers posted to one stream a minute, by all clients")
	fs.IntVar(&l.DataBytes, "data-bytes", d.DataBytes, "largest marker data object, in bytes")
	fs.IntVar(&l.DataDepth, "data-depth", d.DataDepth, "deepest nesting of a marker data object")
	fs.IntVar(&l.Replay, "replay", d.Replay, "most changes an event stream replays from Last-Event-ID; further behind, the client reads the list")
	fs.IntVar(&l.ListBytes, "list-bytes", d.ListBytes, "largest marker list answer, in bytes")
	fs.DurationVar(&l.BodyTimeout, "body-timeout", d.BodyTimeout, "time a client has to send a request body")
}

// validateLimits checks the limits, naming the flag at fault.
func validateLimits(c serveConfig) error {
	l := c.Limits
	switch {
	case c.MaxConns < 0:
		return usagef("--max-conns %d: must not be negative", c.MaxConns)
	case l.PostRate <= 0:
		return usagef("--post-rate %g: must be positive", l.PostRate)
	case l.PostBurst < 1:
		return usagef("--post-burst %d: must be at least 1", l.PostBurst)
	case l.ListRate <= 0:
		return usagef("--list-rate %g: must be positive", l.ListRate)
	case l.ListBurst < 1000:
		return usagef("--list-burst %d: must be at least 1000, a full page", l.ListBurst)
	case l.StreamMarkersPerMinute < 1:
		return usagef("--stream-markers-per-minute %d: must be at least 1", l.StreamMarkersPerMinute)
	case l.DataBytes < 2 || l.DataBytes > 60<<10:
		return usagef("--data-bytes %d: must be from 2 to %d (a body is at most 64 KiB)", l.DataBytes, 60<<10)
	case l.DataDepth < 1:
		return usagef("--data-depth %d: must be at least 1", l.DataDepth)
	case l.Replay < 1:
		return usagef("--replay %d: must be at least 1", l.Replay)
	case l.ListBytes < 4<<10:
		return usagef("--list-bytes %d: must be at least 4096", l.ListBytes)
	case l.BodyTimeout <= 0:
		return usagef("--body-timeout %s: must be positive", l.BodyTimeout)
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
		return usagef("--stream %q: use 1 to 64 of a-z, 0-9, '-' and '_', starting with a letter or digit", c.Name)
	case c.Segment < 100*time.Millisecond || c.Segment > time.Minute:
		return usagef("--segment %s: must be from 100ms to 1m", c.Segment)
	case c.Part < 0 || 3*c.Part > c.Segment:
		return usagef("--part %s: must be from 0 to a third of --segment (%s)", c.Part, c.Segment)
	case c.Part > 0 && c.SegmentFormat != media.FMP4:
		return usagef("--part %s: parts need --format fmp4", c.Part)
	case c.Window != 0 && c.Window < c.Segment:
		return usagef("--window %s: must be at least one segment (%s)", c.Window, c.Segment)
	case c.Grace < c.minGrace():
		return usagef("--grace %s: must be at least %s, the window plus the target duration (RFC 8216 section 6.2.2)", c.Grace, c.minGrace())
	case c.SegmentCache < 0:
		return usagef("--segment-cache %d: must not be negative", c.SegmentCache)
	case c.Retain < 0:
		return usagef("--retain %s: must not be negative", c.Retain)
	case c.RetainSize < 1:
		return usagef("--retain-size %d: must be at least 1 byte", c.RetainSize)
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
	src.Stamp = c.Stamp
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
