package muxer_test

import (
	"cmp"
	"context"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/hlsmark/hlsmark/muxer"
	"github.com/hlsmark/hlsmark/muxer/segread"
	"github.com/hlsmark/hlsmark/pipeline"
	"github.com/hlsmark/hlsmark/pipeline/clock"
	"github.com/hlsmark/hlsmark/pipeline/media"
	"github.com/hlsmark/hlsmark/pipeline/pipelinetest"
)

// runConfig shapes a muxer run on the real pipeline.
type runConfig struct {
	dir     string
	frames  int
	bframes int
	// keyInterval is the encoder's KeyInterval; zero means 1 s, the
	// target duration.
	keyInterval time.Duration
	// afterPacket, if set, runs after every packet the muxer accepted,
	// while the muxer's state cannot change. An error stops the run.
	afterPacket func(m *muxer.Muxer, published []media.Segment) error
	// onError is the muxer's OnError.
	onError func(error)
	// firstSeq is the muxer's FirstSeq.
	firstSeq media.Seq
	// start is the generator clock's reading, past the epoch, when the run
	// begins: a run after a restart goes on from where the last one ended.
	start time.Duration
	// publish, if set, is also called with every published segment.
	publish func(media.Segment) error
	// late, if set, is how late the generator clock wakes for each wait
	// (numbered from 0) instead of the default 0–5 ms jitter.
	late func(wait int) time.Duration
	// breaks are the frames (numbered from 0) the source marks
	// Discontinuity, as a source that reconnected would.
	breaks map[int]bool
	// format is the muxer's Format.
	format media.Format
	// part is the muxer's Part.
	part time.Duration
	// atStep, if set, is the muxer's AtStep, also given the parts
	// published so far.
	atStep func(s muxer.Step, seg media.Segment, parts []media.Part)
}

// run is what a muxer run left behind.
type run struct {
	segments []media.Segment
	pts      []clock.Ticks
	// parts are the parts published, in order.
	parts []media.Part
}

// runMuxer drives checkerboard → libx264 → muxer into cfg.dir on a jittered
// fake clock, so that the test picks the folder and can watch it.
func runMuxer(t *testing.T, cfg runConfig) run {
	t.Helper()
	const fps = 30
	size := media.Size{Width: 320, Height: 240}
	tl := clock.Timeline{Epoch: pipelinetest.Epoch}
	rng := rand.New(rand.NewPCG(3, 1))
	waits := 0
	clk := clock.NewFake(pipelinetest.Epoch.Add(cfg.start), func() time.Duration {
		waits++
		if cfg.late != nil {
			return cfg.late(waits - 1)
		}
		return time.Duration(rng.Int64N(int64(5 * time.Millisecond)))
	})
	src, err := pipeline.NewCheckerboard(pipeline.CheckerboardConfig{
		Size: size, FPS: fps, Block: 40, EventEvery: 3 * time.Second, EventDuration: time.Second, EventFixed: true,
	}, clk, tl)
	if err != nil {
		t.Fatal(err)
	}
	enc, err := pipeline.NewEncoder(pipeline.EncoderConfig{
		Size: size, FPS: fps, Preset: "ultrafast", BFrames: cfg.bframes, KeyInterval: cmp.Or(cfg.keyInterval, time.Second),
	})
	if err != nil {
		t.Fatal(err)
	}
	defer enc.Close()
	var out run
	m, err := muxer.New(muxer.Config{
		Dir: cfg.dir, Target: time.Second, FirstSeq: cfg.firstSeq, Format: cfg.format, Size: size, FPS: fps, Timeline: tl,
		Publish: func(s media.Segment) error {
			out.segments = append(out.segments, s)
			if cfg.publish != nil {
				return cfg.publish(s)
			}
			return nil
		},
		OnError: cfg.onError,
		Part:    cfg.part,
		PublishPart: func(p media.Part) error {
			out.parts = append(out.parts, p)
			return nil
		},
		AtStep: func(s muxer.Step, seg media.Segment) {
			if cfg.atStep != nil {
				cfg.atStep(s, seg, out.parts)
			}
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	var sink pipeline.Sink = m
	if cfg.afterPacket != nil {
		sink = watchedSink{m, func() error { return cfg.afterPacket(m, out.segments) }}
	}
	p := &pipeline.Pipeline{
		Source:  &breakingSource{Source: pipeline.Limit(src, cfg.frames), at: cfg.breaks},
		Encoder: enc,
		Sink:    sink,
		OnFrame: func(f *pipeline.Frame) { out.pts = append(out.pts, f.PTS) },
	}
	if err := p.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	return out
}

// breakingSource marks the frames numbered in at Discontinuity.
type breakingSource struct {
	pipeline.Source
	at map[int]bool
	n  int
}

func (s *breakingSource) Next(ctx context.Context, f *pipeline.Frame) error {
	if err := s.Source.Next(ctx, f); err != nil {
		return err
	}
	f.Discontinuity = s.at[s.n]
	s.n++
	return nil
}

// watchedSink calls after once the muxer has taken each packet.
type watchedSink struct {
	*muxer.Muxer
	after func() error
}

func (s watchedSink) WritePacket(p media.Packet) error {
	if err := s.Muxer.WritePacket(p); err != nil {
		return err
	}
	return s.after()
}

// decoded is one segment file as libav reads it back.
type decoded struct {
	file   segread.File
	frames []segread.Frame // Image is dropped: it is only valid in the callback
}

func decode(t *testing.T, path string) decoded {
	t.Helper()
	var d decoded
	var err error
	d.file, err = segread.Decode(path, func(f segread.Frame) error {
		f.Image = nil
		d.frames = append(d.frames, f)
		return nil
	})
	if err != nil {
		t.Fatalf("decode %s: %v", path, err)
	}
	return d
}
