package pipeline

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"time"
)

// Source makes frames in real time (or as fast as a fake clock lets it).
type Source interface {
	// Size is the size of every frame the source makes.
	Size() Size
	// Next waits for the next frame and renders it into f, stamping f.PTS
	// with the generator clock. It returns io.EOF when the source has no
	// more frames.
	Next(ctx context.Context, f *Frame) error
}

// Limit returns a source that ends (io.EOF) after n frames of src.
func Limit(src Source, n int) Source {
	return &limited{Source: src, n: n}
}

type limited struct {
	Source
	n int
}

func (l *limited) Next(ctx context.Context, f *Frame) error {
	if l.n <= 0 {
		return io.EOF
	}
	l.n--
	return l.Source.Next(ctx, f)
}

// Sink takes the encoded packets: in hlsmark, the MPEG-TS muxer.
type Sink interface {
	// WritePacket takes one packet. Its Data is only valid until
	// WritePacket returns.
	WritePacket(Packet) error
	// Close is called once, after the last packet.
	Close() error
}

// queueDepth is how many frames may wait between the source and the
// encoder. When the queue is full the source blocks; if that makes it miss
// a frame's time, the source skips the frame and counts it late, so a slow
// encoder costs frames, never unbounded memory or a growing delay.
const queueDepth = 4

// Stats counts what a pipeline did. Its fields are safe to read while the
// pipeline runs.
type Stats struct {
	Frames   atomic.Uint64 // frames encoded
	Packets  atomic.Uint64 // packets passed to the sink
	Rejected atomic.Uint64 // frames the encoder refused, skipped
}

// Pipeline runs Source → Detector → Encoder → Sink.
type Pipeline struct {
	Source  Source
	Encoder *Encoder
	Sink    Sink
	// OnDetection, if set, is called for every event the detector sees, in
	// frame order, before the frame is encoded.
	OnDetection func(Detection)
	// OnFrame, if set, is called with every frame after detection.
	OnFrame func(*Frame)
	// OnReject, if set, is told of each frame that could not be converted
	// or that the encoder refused, from the goroutine that found out. Such
	// a frame is counted in Stats.Rejected and skipped; the pipeline goes on.
	OnReject func(f *Frame, err error)
	// OnEncoded, if set, is called after each frame is encoded, with the
	// time the encoder took: from handing it the frame to having its
	// packets, the sink's writes excluded.
	OnEncoded func(f *Frame, took time.Duration)
	Stats     Stats
}

// Run runs the pipeline until ctx is done or a stage fails. It then flushes
// the encoder into the sink and closes the sink, so the last frames are
// written. It returns nil when stopped by ctx.
func (p *Pipeline) Run(ctx context.Context) error {
	frames := make(chan *Frame, queueDepth)
	free := make(chan *Frame, queueDepth+1)
	pool := make([]*Frame, queueDepth+1)
	for i := range pool {
		pool[i] = NewFrame(p.Source.Size())
		free <- pool[i]
	}
	defer func() {
		for _, f := range pool {
			f.Free()
		}
	}()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	var srcErr error
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		defer close(frames)
		srcErr = p.produce(ctx, free, frames)
	}()

	encErr := p.consume(frames, free)
	if encErr != nil {
		cancel()
		for range frames { // let the producer finish
		}
	}
	wg.Wait()
	if errors.Is(srcErr, context.Canceled) || errors.Is(srcErr, context.DeadlineExceeded) || errors.Is(srcErr, io.EOF) {
		srcErr = nil
	}
	return errors.Join(encErr, srcErr)
}

// produce renders frames, runs the detector on them and converts them to
// YUV420P: work that overlaps the encoding of the frames before.
func (p *Pipeline) produce(ctx context.Context, free chan *Frame, frames chan<- *Frame) error {
	var det Detector
	for {
		var f *Frame
		select {
		case <-ctx.Done():
			return ctx.Err()
		case f = <-free:
		}
		if err := p.Source.Next(ctx, f); err != nil {
			return err
		}
		if d, ok := det.Inspect(f); ok && p.OnDetection != nil {
			p.OnDetection(d)
		}
		if p.OnFrame != nil {
			p.OnFrame(f)
		}
		if err := f.Convert(); err != nil {
			p.reject(f, err)
			free <- f // it came from free, so there is room
			continue
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case frames <- f:
		}
	}
}

// reject counts and reports a frame that could not be encoded.
func (p *Pipeline) reject(f *Frame, err error) {
	p.Stats.Rejected.Add(1)
	if p.OnReject != nil {
		p.OnReject(f, err)
	}
}

// consume encodes frames until the queue closes, then flushes.
func (p *Pipeline) consume(frames <-chan *Frame, free chan<- *Frame) error {
	var sinkTime time.Duration // of the frame being encoded
	var sinkErr error          // the sink's failure, fatal unlike the encoder's
	write := func(pkt Packet) error {
		p.Stats.Packets.Add(1)
		start := time.Now()
		sinkErr = p.Sink.WritePacket(pkt)
		sinkTime += time.Since(start)
		return sinkErr
	}
	for f := range frames {
		sinkTime = 0
		start := time.Now()
		err := p.Encoder.Encode(f, write)
		took := time.Since(start) - sinkTime
		if sinkErr != nil {
			free <- f
			return fmt.Errorf("pipeline: %w", sinkErr)
		}
		if err != nil {
			p.reject(f, err)
			free <- f
			continue
		}
		p.Stats.Frames.Add(1)
		if p.OnEncoded != nil {
			p.OnEncoded(f, took)
		}
		free <- f
	}
	if err := p.Encoder.Flush(write); err != nil {
		return errors.Join(fmt.Errorf("pipeline: %w", err), p.Sink.Close())
	}
	if err := p.Sink.Close(); err != nil {
		return fmt.Errorf("pipeline: %w", err)
	}
	return nil
}
