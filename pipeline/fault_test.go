package pipeline_test

import (
	"context"
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
