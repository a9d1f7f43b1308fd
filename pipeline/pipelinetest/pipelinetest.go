// Package pipelinetest runs hlsmark's real stream (checkerboard source,
// detector, libx264, mpegts muxer, playlist, marker service and a Bolt
// store), wired by package stream exactly as `hlsmark serve` wires it, on
// a fake generator clock, for tests in every package downstream of it.
package pipelinetest

import (
	"cmp"
	"context"
	"io"
	"log/slog"
	"math/rand/v2"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/hlsmark/hlsmark/marker"
	"github.com/hlsmark/hlsmark/pipeline"
	"github.com/hlsmark/hlsmark/pipeline/clock"
	"github.com/hlsmark/hlsmark/pipeline/media"
	"github.com/hlsmark/hlsmark/pipeline/stream"
	"github.com/hlsmark/hlsmark/playlist"
)

// Epoch is the wall-clock time of PTS 0 in every run.
var Epoch = time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)

// Stream is the stream name of every run.
const Stream = "demo"

// Config is a run's settings; zero fields take small, fast defaults.
type Config struct {
	Size    media.Size
	FPS     int
	Frames  int
	Segment time.Duration
	Window  time.Duration
	// Grace is how long segments stay on disk after leaving the window;
	// zero means an hour.
	Grace time.Duration
	// Retain and RetainSize keep segments past the window (stream.Config).
	Retain     time.Duration
	RetainSize int64
	// Cache is the stream's segment cache limit in bytes; zero means none.
	Cache         int64
	EventEvery    time.Duration
	EventDuration time.Duration
	// Start is the generator clock's reading, as a PTS, when the run
	// begins (to run across the 33-bit wrap, say).
	Start clock.Ticks
	// Jitter is the most a frame may come after its nominal time.
	Jitter time.Duration
	Seed   uint64
	// Preset is libx264's preset; empty means ultrafast.
	Preset string
	// Stamp draws each frame's PTS strip (CheckerboardConfig.Stamp).
	Stamp bool
	// Attach, if set, is called once the stream is wired, before the
	// first frame; the function it returns, if not nil, is called with
	// every segment once the playlist lists it.
	Attach func(*Run) func(media.Segment)
}

// Run is a finished run: the stream ran to the end of its frames, its
// playlist has EXT-X-ENDLIST, and its marker service finished its queue.
// The store stays open until the test ends.
type Run struct {
	Dir      string
	Stream   *stream.Stream
	Playlist *playlist.Playlist
	Source   *pipeline.Checkerboard
	Markers  *marker.Service
	Store    *marker.Bolt
	// PTS lists every frame's generator PTS, in order.
	PTS []clock.Ticks
	// Segments lists every segment the playlist listed, in order.
	Segments []media.Segment
	Timeline clock.Timeline
	// Clock is the run's generator clock.
	Clock *clock.Fake
}

// Start runs the stream to the end of cfg.Frames frames and returns what
// it made. Events are exactly periodic.
func Start(t testing.TB, cfg Config) *Run {
	t.Helper()
	pipeline.RouteLibavLogs(slog.Default()) // libav warnings in the test output, not libx264 statistics
	cfg = withDefaults(cfg)
	rng := rand.New(rand.NewPCG(cfg.Seed, 1))
	var jitter func() time.Duration
	if cfg.Jitter > 0 {
		jitter = func() time.Duration { return time.Duration(rng.Int64N(int64(cfg.Jitter))) }
	}
	root := t.TempDir()
	r := &Run{Dir: filepath.Join(root, Stream), Clock: clock.NewFake(Epoch.Add(cfg.Start.Duration()), jitter)}
	var err error
	if r.Store, err = marker.OpenBolt(filepath.Join(root, "markers.db")); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Store.Close() })
	var mu sync.Mutex
	var onSegment func(media.Segment)
	r.Stream, err = stream.New(stream.Config{
		Name: Stream, Dir: r.Dir, Segment: cfg.Segment, Window: cfg.Window, Grace: cfg.Grace, CacheBytes: cfg.Cache,
		Retain: cfg.Retain, RetainSize: cfg.RetainSize,
		Encoder: pipeline.EncoderConfig{
			Size: cfg.Size, FPS: cfg.FPS, Preset: cfg.Preset, Tune: "zerolatency", KeyInterval: cfg.Segment,
		},
		Source: func(at pipeline.Start) (pipeline.Source, error) {
			clk, tl := at.Clock, at.Timeline
			src, err := pipeline.NewCheckerboard(pipeline.CheckerboardConfig{
				Size: cfg.Size, FPS: cfg.FPS, Block: cfg.Size.Height / 6,
				EventEvery: cfg.EventEvery, EventDuration: cfg.EventDuration, EventFixed: true, Seed: cfg.Seed, Stamp: cfg.Stamp,
			}, clk, tl)
			r.Source = src
			return pipeline.Limit(src, cfg.Frames), err
		},
		Detector: pipeline.NewMintDetector,
		Clock:    r.Clock, Epoch: Epoch, Store: r.Store,
		Log: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Observe: stream.Observer{
			Frame: func(f *pipeline.Frame) { r.PTS = append(r.PTS, f.PTS) },
			Segment: func(s media.Segment) {
				mu.Lock()
				r.Segments = append(r.Segments, s)
				mu.Unlock()
				if onSegment != nil {
					onSegment(s)
				}
			},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	r.Playlist, r.Markers, r.Timeline = r.Stream.Playlist(), r.Stream.Markers(), r.Stream.Timeline()
	t.Cleanup(func() { _ = r.Playlist.Flush() }) // no write left (a marker posted later) when Dir goes
	if cfg.Attach != nil {
		onSegment = cfg.Attach(r)
	}
	if err := r.Stream.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	return r
}

// withDefaults fills cfg's zero fields.
func withDefaults(cfg Config) Config {
	cfg.Size = cmp.Or(cfg.Size, media.Size{Width: 320, Height: 240})
	cfg.FPS = cmp.Or(cfg.FPS, 30)
	cfg.Segment = cmp.Or(cfg.Segment, time.Second)
	cfg.Window = cmp.Or(cfg.Window, time.Hour)
	cfg.Grace = cmp.Or(cfg.Grace, time.Hour)
	cfg.EventEvery = cmp.Or(cfg.EventEvery, 3*time.Second)
	cfg.EventDuration = cmp.Or(cfg.EventDuration, 700*time.Millisecond)
	cfg.Preset = cmp.Or(cfg.Preset, "ultrafast")
	return cfg
}
