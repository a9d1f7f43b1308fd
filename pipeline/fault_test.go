package pipeline_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/hlsmark/hlsmark/pipeline"
	"github.com/hlsmark/hlsmark/pipeline/clock"
	"github.com/hlsmark/hlsmark/pipeline/pipelinetest"
)

// badFrame spoils one frame of its source: the frame claims a size the
// encoder was not opened for, as a source switching resolution would.
type badFrame struct {
	pipeline.Source
	n, bad int
}

func (b *badFrame) Next(ctx context.Context, f *pipeline.Frame) error {
	f.Size = b.Source.Size()
	if err := b.Source.Next(ctx, f); err != nil {
		return err
	}
	b.n++
	if b.n == b.bad {
		f.Size = pipeline.Size{Width: f.Size.Width / 2, Height: f.Size.Height / 2}
	}
	return nil
}

type countSink struct{ packets int }

func (c *countSink) WritePacket(pipeline.Packet) error { c.packets++; return nil }
func (c *countSink) Close() error                      { return nil }

// TestRejectedFrameIsSkipped feeds the encoder one frame it must refuse:
// the frame is counted and reported, and every other frame is encoded.
func TestRejectedFrameIsSkipped(t *testing.T) {
	size := pipeline.Size{Width: 160, Height: 120}
	tl := clock.Timeline{Epoch: pipelinetest.Epoch}
	src, err := pipeline.NewCheckerboard(pipeline.CheckerboardConfig{
		Size: size, FPS: 30, Block: 20, EventEvery: 5 * time.Second, EventDuration: time.Second,
	}, clock.NewFake(pipelinetest.Epoch, nil), tl)
	if err != nil {
		t.Fatal(err)
	}
	enc, err := pipeline.NewEncoder(pipeline.EncoderConfig{Size: size, FPS: 30, Preset: "ultrafast", KeyInterval: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer enc.Close()
	var rejected []clock.Ticks
	sink := &countSink{}
	p := &pipeline.Pipeline{
		Source:   pipeline.Limit(&badFrame{Source: src, bad: 10}, 40),
		Encoder:  enc,
		Sink:     sink,
		OnReject: func(f *pipeline.Frame, err error) { rejected = append(rejected, f.PTS) },
	}
	if err := p.Run(context.Background()); err != nil {
		t.Fatalf("a refused frame stopped the pipeline: %v", err)
	}
	if got := p.Stats.Rejected.Load(); got != 1 || len(rejected) != 1 {
		t.Fatalf("rejected %d frames (reported %d), want 1", got, len(rejected))
	}
	if got := p.Stats.Frames.Load(); got != 39 || sink.packets != 39 {
		t.Fatalf("encoded %d frames into %d packets, want the other 39", got, sink.packets)
	}
}

// failingSink refuses the packet after its first `ok` ones, and records
// what happened to it.
type failingSink struct {
	ok, written int
	closed      bool
}

var errDiskGone = errors.New("disk gone")

func (s *failingSink) WritePacket(pipeline.Packet) error {
	if s.written == s.ok {
		return errDiskGone
	}
	s.written++
	return nil
}

func (s *failingSink) Close() error { s.closed = true; return nil }

// TestSinkFailureStopsPipeline makes the sink fail after 25 packets: Run
// returns the sink's error (the encoder, on its own goroutine, stops
// instead of waiting for a sink that is gone), the sink is closed once,
// and no packet after the failure reaches it.
func TestSinkFailureStopsPipeline(t *testing.T) {
	size := pipeline.Size{Width: 160, Height: 120}
	src, err := pipeline.NewCheckerboard(pipeline.DefaultCheckerboardConfig(size),
		clock.NewFake(pipelinetest.Epoch, nil), clock.Timeline{Epoch: pipelinetest.Epoch})
	if err != nil {
		t.Fatal(err)
	}
	enc, err := pipeline.NewEncoder(pipeline.EncoderConfig{Size: size, FPS: 30, Preset: "ultrafast", KeyInterval: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer enc.Close()
	sink := &failingSink{ok: 25}
	p := &pipeline.Pipeline{Source: pipeline.Limit(src, 10_000), Encoder: enc, Sink: sink}
	err = p.Run(context.Background())
	if !errors.Is(err, errDiskGone) {
		t.Fatalf("Run returned %v, want the sink's error", err)
	}
	if !sink.closed || sink.written != 25 || p.Stats.Packets.Load() != 25 {
		t.Fatalf("sink closed %v after %d packets (stats %d), want closed after 25", sink.closed, sink.written, p.Stats.Packets.Load())
	}
	if got := p.Stats.Frames.Load(); got >= 10_000 {
		t.Fatalf("the encoder went on for all %d frames after the sink failed", got)
	}
}
