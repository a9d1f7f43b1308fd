package pipeline_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/hlsmark/hlsmark/pipeline"
	"github.com/hlsmark/hlsmark/pipeline/clock"
	"github.com/hlsmark/hlsmark/pipeline/media"
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
		f.Size = media.Size{Width: f.Size.Width / 2, Height: f.Size.Height / 2}
	}
	return nil
}

// countSink counts the packets it takes. With failAfter set, it refuses
// every packet after that many.
type countSink struct {
	packets, failAfter int
	closed             bool
}

var errDiskGone = errors.New("disk gone")

func (s *countSink) WritePacket(media.Packet) error {
	if s.failAfter > 0 && s.packets == s.failAfter {
		return errDiskGone
	}
	s.packets++
	return nil
}

func (s *countSink) Close() error { s.closed = true; return nil }

// smallPipeline returns a pipeline of a 160x120 checkerboard on a fake
// clock, limited to frames, and an ultrafast encoder, into sink.
func smallPipeline(t *testing.T, frames int, sink pipeline.Sink) *pipeline.Pipeline {
	t.Helper()
	size := media.Size{Width: 160, Height: 120}
	src, err := pipeline.NewCheckerboard(pipeline.DefaultCheckerboardConfig(size),
		clock.NewFake(pipelinetest.Epoch, nil), clock.Timeline{Epoch: pipelinetest.Epoch})
	if err != nil {
		t.Fatal(err)
	}
	enc, err := pipeline.NewEncoder(pipeline.EncoderConfig{Size: size, FPS: 30, Preset: "ultrafast", KeyInterval: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(enc.Close)
	return &pipeline.Pipeline{Source: pipeline.Limit(src, frames), Encoder: enc, Sink: sink}
}

// TestRejectedFrameIsSkipped feeds the encoder one frame it must refuse:
// the frame is counted and reported, and every other frame is encoded.
func TestRejectedFrameIsSkipped(t *testing.T) {
	sink := &countSink{}
	p := smallPipeline(t, 40, sink)
	p.Source = &badFrame{Source: p.Source, bad: 10}
	var rejected []clock.Ticks
	p.OnReject = func(f *pipeline.Frame, err error) { rejected = append(rejected, f.PTS) }
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

// TestSinkFailureStopsPipeline makes the sink fail after 25 packets: Run
// returns the sink's error (the encoder, on its own goroutine, stops
// instead of waiting for a sink that is gone), the sink is closed once,
// and no packet after the failure reaches it.
func TestSinkFailureStopsPipeline(t *testing.T) {
	sink := &countSink{failAfter: 25}
	p := smallPipeline(t, 10_000, sink)
	if err := p.Run(context.Background()); !errors.Is(err, errDiskGone) {
		t.Fatalf("Run returned %v, want the sink's error", err)
	}
	if !sink.closed || sink.packets != 25 || p.Stats.Packets.Load() != 25 {
		t.Fatalf("sink closed %v after %d packets (stats %d), want closed after 25", sink.closed, sink.packets, p.Stats.Packets.Load())
	}
	if got := p.Stats.Frames.Load(); got >= 10_000 {
		t.Fatalf("the encoder went on for all %d frames after the sink failed", got)
	}
}
