// Package pipelinetest runs hlsmark's real pipeline (checkerboard source,
// detector, libx264, mpegts muxer, playlist) on a fake generator clock, for
// tests in every package downstream of it.
package pipelinetest

import (
	"github.com/asticode/go-astiav"

	"context"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/hlsmark/hlsmark/muxer"
	"github.com/hlsmark/hlsmark/pipeline"
	"github.com/hlsmark/hlsmark/pipeline/clock"
	"github.com/hlsmark/hlsmark/pipeline/media"
	"github.com/hlsmark/hlsmark/playlist"
)

// Epoch is the wall-clock time of PTS 0 in every run.
var Epoch = time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)

// Config is a run's settings; zero fields take small, fast defaults.
type Config struct {
	Size          media.Size
	FPS           int
	Frames        int
	Segment       time.Duration
	Window        time.Duration
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
	// Attach, if set, is called once the playlist exists and before the
	// first frame, to hook more stages (the marker service) onto the run.
	Attach func(*Run) Hooks
}

// Hooks are the callbacks an Attach function adds to a run.
type Hooks struct {
	// OnDetection is called with every detection, on the pipeline's
	// goroutine.
	OnDetection func(media.Detection)
	// OnSegment is called with every segment after the playlist lists it.
	OnSegment func(media.Segment)
}

// Run is a finished run.
type Run struct {
	Dir      string
	Playlist *playlist.Playlist
	Source   *pipeline.Checkerboard
	// PTS lists every frame's generator PTS, in order.
	PTS []clock.Ticks
	// Segments lists every segment the muxer published, in order.
	Segments []media.Segment
	Timeline clock.Timeline
	// Clock is the run's generator clock.
	Clock *clock.Fake
}

// Start runs the pipeline to the end of cfg.Frames frames and returns what
// it made. Events are exactly periodic.
func Start(t testing.TB, cfg Config) *Run {
	t.Helper()
	astiav.SetLogLevel(astiav.LogLevelWarning) // no libx264 statistics in test output
	if cfg.Size == (media.Size{}) {
		cfg.Size = media.Size{Width: 320, Height: 240}
	}
	if cfg.FPS == 0 {
		cfg.FPS = 30
	}
	if cfg.Segment == 0 {
		cfg.Segment = time.Second
	}
	if cfg.Window == 0 {
		cfg.Window = time.Hour
	}
	if cfg.EventEvery == 0 {
		cfg.EventEvery = 3 * time.Second
	}
	if cfg.EventDuration == 0 {
		cfg.EventDuration = 700 * time.Millisecond
	}
	if cfg.Preset == "" {
		cfg.Preset = "ultrafast"
	}
	rng := rand.New(rand.NewPCG(cfg.Seed, 1))
	var jitter func() time.Duration
	if cfg.Jitter > 0 {
		jitter = func() time.Duration { return time.Duration(rng.Int64N(int64(cfg.Jitter))) }
	}
	r := &Run{Dir: t.TempDir(), Timeline: clock.Timeline{Epoch: Epoch}}
	clk := clock.NewFake(Epoch.Add(cfg.Start.Duration()), jitter)
	r.Clock = clk
	src, err := pipeline.NewCheckerboard(pipeline.CheckerboardConfig{
		Size: cfg.Size, FPS: cfg.FPS, Block: cfg.Size.Height / 6,
		EventEvery: cfg.EventEvery, EventDuration: cfg.EventDuration, EventFixed: true, Seed: cfg.Seed,
	}, clk, r.Timeline)
	if err != nil {
		t.Fatal(err)
	}
	r.Source = src
	enc, err := pipeline.NewEncoder(pipeline.EncoderConfig{
		Size: cfg.Size, FPS: cfg.FPS, Preset: cfg.Preset, Tune: "zerolatency", KeyInterval: cfg.Segment,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer enc.Close()
	r.Playlist, err = playlist.New(playlist.Config{Dir: r.Dir, Window: cfg.Window, Grace: time.Hour, Target: cfg.Segment})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = r.Playlist.Flush() }) // no write left when Dir goes
	var hooks Hooks
	if cfg.Attach != nil {
		hooks = cfg.Attach(r)
	}
	var mu sync.Mutex
	mux, err := muxer.New(muxer.Config{
		Dir: r.Dir, Target: cfg.Segment, Size: cfg.Size, FPS: cfg.FPS, Timeline: r.Timeline,
		Publish: func(s media.Segment) error {
			mu.Lock()
			r.Segments = append(r.Segments, s)
			mu.Unlock()
			if err := r.Playlist.Add(s); err != nil {
				return err
			}
			if hooks.OnSegment != nil {
				hooks.OnSegment(s)
			}
			return nil
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	p := &pipeline.Pipeline{
		Source:      pipeline.Limit(src, cfg.Frames),
		Encoder:     enc,
		Sink:        mux,
		OnDetection: hooks.OnDetection,
		OnFrame:     func(f *pipeline.Frame) { r.PTS = append(r.PTS, f.PTS) },
	}
	if err := p.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := r.Playlist.Flush(); err != nil { // the run's last segment published
		t.Fatal(err)
	}
	return r
}
