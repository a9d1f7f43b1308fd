package pipeline

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hlsmark/hlsmark/pipeline/clock"
	"github.com/hlsmark/hlsmark/pipeline/media"
)

// Source makes frames in real time (or as fast as a fake clock lets it).
type Source interface {
	// Size is the size of every frame the source makes.
	Size() media.Size
	// Next waits for the next frame and renders it into f, stamping f.PTS
	// with the generator clock. It returns io.EOF when the source has no
	// more frames.
	Next(ctx context.Context, f *Frame) error
	// Late counts the frames the source skipped because it fell behind
	// its real-time schedule.
	Late() uint64
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
	WritePacket(media.Packet) error
	// Close is called once, after the last packet.
	Close() error
}

// queueDepth is how many frames may wait between the source and the
// encoder. When the queue is full the source blocks; if that puts it more
// than its catch-up allowance (100 ms) behind its schedule, the source
// skips frames and counts them late, so a slow encoder costs frames, never
// unbounded memory or a growing delay.
const queueDepth = 4

// Stats counts what a pipeline did. Its fields are safe to read while the
// pipeline runs.
type Stats struct {
	Frames   atomic.Uint64 // frames encoded
	Packets  atomic.Uint64 // packets passed to the sink
	Rejected atomic.Uint64 // frames the encoder refused, skipped
}

// sinkDepth is how many packets may wait between the encoder and the sink,
// about two seconds of video at 30 fps: the sink writes files (a segment's
// fsync, the playlist's rename), and a slow disk must hold up neither the
// encoder nor, through it, the source's real-time schedule. When the queue
// is full the encoder waits for the sink.
const sinkDepth = 64

// keptBuffer is the largest packet buffer the sink queue keeps for reuse.
// Bigger ones (large IDR pictures) are let go after use, so that every
// slot of the queue does not end up holding the largest picture seen.
const keptBuffer = 256 << 10

// queuedPacket is a packet waiting for the sink, with a copy of its data in
// a buffer the pipeline reuses.
type queuedPacket struct {
	media.Packet
	buf []byte
}

// errSinkFailed stops the encoder once the sink has failed; the sink's own
// error is the one Run returns.
var errSinkFailed = errors.New("pipeline: the sink failed")

// Pipeline runs Source → Detector → Encoder → Sink, each of the three
// stages (source with detector and conversion, encoder, sink) on its own
// goroutine, joined by bounded queues.
type Pipeline struct {
	Source Source
	// Encoder turns the frames into packets: an *Encoder, or Passthrough
	// for a source whose frames are packets already (Frame.Coded).
	Encoder Coder
	Sink    Sink
	// Detector, if set, makes the detector that looks at every frame;
	// nil runs none: markers come only from the API.
	Detector NewDetector
	// OnDetection, if set, is called for every event the detector sees, in
	// frame order, before the frame is encoded, with the frame it was seen
	// in (nil for the Closed detection of an event cut when the frames
	// stop). The frame is only valid during the call.
	OnDetection func(media.Detection, *Frame)
	// OnFrame, if set, is called with every frame after detection.
	OnFrame func(*Frame)
	// OnReject, if set, is told of each frame that the source rejected
	// (ErrRejected), that could not be converted or that the encoder
	// refused, from the goroutine that found out. Such a frame is counted
	// in Stats.Rejected and skipped; the pipeline goes on.
	OnReject func(f *Frame, err error)
	// OnEncoded, if set, is called after each frame is encoded, with the
	// time the encoder took: from handing it the frame to having its
	// packets, the sink's writes excluded.
	OnEncoded func(f *Frame, took time.Duration)
	Stats     Stats
}

// Run runs the pipeline until ctx is done or a stage fails. It then flushes
// the encoder into the sink and closes the sink, so the last frames are
// written. It returns nil when stopped by ctx or at the end of the
// source's input, and a *SourceError alone when only the source failed.
// The detector is made when Run starts and freed when it returns; if it
// cannot be made, Run closes the sink and returns at once.
func (p *Pipeline) Run(ctx context.Context) error {
	var det Detector
	if p.Detector != nil {
		var err error
		if det, err = p.Detector(p.Source.Size()); err != nil {
			return errors.Join(fmt.Errorf("pipeline: %w", err), p.Sink.Close())
		}
		defer det.Close()
	}
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
		srcErr = p.produce(ctx, det, free, frames)
	}()

	packets := make(chan *queuedPacket, sinkDepth)
	spare := make(chan *queuedPacket, sinkDepth)
	for range sinkDepth {
		spare <- &queuedPacket{}
	}
	failed := make(chan struct{})
	var sinkErr error
	wg.Add(1)
	go func() {
		defer wg.Done()
		sinkErr = p.deliver(packets, spare, failed)
	}()

	encErr := p.consume(frames, free, packets, spare, failed)
	close(packets)
	if encErr != nil {
		cancel()
		for range frames { // let the producer finish
		}
	}
	wg.Wait()
	if errors.Is(srcErr, context.Canceled) || errors.Is(srcErr, context.DeadlineExceeded) || errors.Is(srcErr, io.EOF) {
		srcErr = nil
	}
	if errors.Is(encErr, errSinkFailed) {
		encErr = nil // sinkErr says why
	}
	if srcErr != nil {
		srcErr = &SourceError{Err: srcErr}
		if encErr == nil && sinkErr == nil {
			return srcErr
		}
	}
	return errors.Join(encErr, sinkErr, srcErr)
}

// SourceError is the error Run returns when the source failed (a read or
// decode error, not the end of its input) and nothing else did: the frames
// read before it were encoded and the sink closed, as at the end of the
// input. Run returns it joined with the others when the encoder or the
// sink failed too.
type SourceError struct {
	Err error
}

func (e *SourceError) Error() string { return "source: " + e.Err.Error() }

// Unwrap returns the source's error.
func (e *SourceError) Unwrap() error { return e.Err }

// produce renders frames, runs det (if not nil) on them and converts them
// to YUV420P: work that overlaps the encoding of the frames before. When
// it stops, det reports an event still in progress closed, the end of the
// last frame queued for the encoder being the end of the stream.
func (p *Pipeline) produce(ctx context.Context, det Detector, free chan *Frame, frames chan<- *Frame) error {
	var last, gap clock.Ticks // the last queued frame's PTS, and the gap before it
	queued := 0
	defer func() {
		if det == nil || queued == 0 {
			return
		}
		if d, ok := det.Stop(last + gap); ok && p.OnDetection != nil {
			p.OnDetection(d, nil)
		}
	}()
	for {
		var f *Frame
		select {
		case <-ctx.Done():
			return ctx.Err()
		case f = <-free:
		}
		f.Discontinuity = false
		if err := p.Source.Next(ctx, f); errors.Is(err, ErrRejected) {
			p.reject(f, err)
			free <- f // it came from free, so there is room
			continue
		} else if err != nil {
			return err
		}
		if det != nil {
			if d, ok := det.Inspect(f); ok && p.OnDetection != nil {
				p.OnDetection(d, f)
			}
		}
		if p.OnFrame != nil {
			p.OnFrame(f)
		}
		if err := convert(f); err != nil {
			p.reject(f, err)
			free <- f // it came from free, so there is room
			continue
		}
		pts := f.PTS
		select {
		case <-ctx.Done():
			return ctx.Err()
		case frames <- f:
		}
		if queued > 0 {
			gap = pts - last
		}
		last = pts
		queued++
	}
}

// convert converts f's picture for the encoder; a frame that holds a
// packet to pass through (Frame.Coded) has no picture to convert.
func convert(f *Frame) error {
	if len(f.Coded) > 0 {
		return nil
	}
	return f.Convert()
}

// reject counts and reports a frame that could not be encoded.
func (p *Pipeline) reject(f *Frame, err error) {
	p.Stats.Rejected.Add(1)
	if p.OnReject != nil {
		p.OnReject(f, err)
	}
}

// consume encodes frames until the queue closes, then flushes the encoder.
// Each packet is copied into a spare buffer and queued for the sink; if the
// sink has failed, consume stops.
func (p *Pipeline) consume(frames <-chan *Frame, free chan<- *Frame, packets chan<- *queuedPacket, spare <-chan *queuedPacket, failed <-chan struct{}) error {
	var waited time.Duration // for the sink, while encoding this frame
	queue := func(pkt media.Packet) error {
		select {
		case <-failed:
			return errSinkFailed
		default:
		}
		var q *queuedPacket
		select {
		case q = <-spare:
		default:
			start := time.Now()
			select {
			case q = <-spare:
			case <-failed:
				return errSinkFailed
			}
			waited += time.Since(start)
		}
		q.buf = append(q.buf[:0], pkt.Data...)
		q.Packet = pkt
		q.Data = q.buf
		packets <- q // never blocks: there are only sinkDepth buffers
		return nil
	}
	for f := range frames {
		waited = 0
		start := time.Now()
		err := p.Encoder.Encode(f, queue)
		took := time.Since(start) - waited
		switch {
		case errors.Is(err, errSinkFailed):
			free <- f
			return err
		case err != nil:
			p.reject(f, err)
		default:
			p.Stats.Frames.Add(1)
			if p.OnEncoded != nil {
				p.OnEncoded(f, took)
			}
		}
		free <- f
	}
	if err := p.Encoder.Flush(queue); err != nil && !errors.Is(err, errSinkFailed) {
		return fmt.Errorf("pipeline: %w", err)
	}
	return nil
}

// deliver passes the queued packets to the sink in order until the queue
// closes, then closes the sink. After the sink's first error it closes
// failed, drops the rest and returns that error.
func (p *Pipeline) deliver(packets <-chan *queuedPacket, spare chan<- *queuedPacket, failed chan<- struct{}) error {
	var err error
	for q := range packets {
		if err == nil {
			if err = p.Sink.WritePacket(q.Packet); err != nil {
				close(failed)
			} else {
				p.Stats.Packets.Add(1)
			}
		}
		if cap(q.buf) > keptBuffer {
			q.buf = nil
		}
		q.Data = nil
		spare <- q
	}
	if cerr := p.Sink.Close(); cerr != nil {
		err = errors.Join(err, cerr)
	}
	if err != nil {
		return fmt.Errorf("pipeline: %w", err)
	}
	return nil
}
