package pipeline

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"sync/atomic"

	"github.com/hlsmark/hlsmark/pipeline/clock"
	"github.com/hlsmark/hlsmark/pipeline/media"
)

// ErrEnded is returned by Push.Push once the source has ended: End was
// called, or the pipeline stopped taking frames.
var ErrEnded = errors.New("push: the stream has ended")

// Push is a source of pictures that a Go program hands over, each with
// its own PTS: the program's clock, kept tick for tick, under the same
// rule as Raw's framed pictures (see intake).
//
// Push hands a picture straight to the pipeline's source goroutine, which
// converts it into a frame before Push returns: Push keeps no queue and no
// copy of its own, and the program may reuse its buffer at once. The
// pipeline's bounded frame queue is the only buffer: while it is full
// (the encoder is behind) Push blocks, so a program pushing faster than
// real time runs at the encoder's speed, and no accepted picture is ever
// dropped. A program that stops pushing makes no frames: the segment
// under way is cut when pictures come again, or at End.
type Push struct {
	size   media.Size
	in     *intake // the source goroutine's (Next), until Close
	offers chan offer

	ended    chan struct{} // closed by End
	endOnce  sync.Once
	stopped  chan struct{} // closed once Next takes no more pictures
	stopOnce sync.Once

	newest atomic.Int64 // the newest accepted PTS, once seen is set
	seen   atomic.Bool
}

// offer is one picture handed over by Push, and where Next tells whether
// it was accepted.
type offer struct {
	pts    clock.Ticks
	format PixelFormat
	pic    []byte
	taken  chan error
}

// NewPush returns a source of pictures of size s, ready for pictures in
// format p (other formats are made ready on first use), whose first PTS
// must be at least resume (see Start.Resume).
func NewPush(s media.Size, p PixelFormat, resume clock.Ticks) (*Push, error) {
	if err := s.Validate(); err != nil {
		return nil, err
	}
	in, err := newIntake(s, p, resume)
	if err != nil {
		return nil, err
	}
	return &Push{size: s, in: in, offers: make(chan offer),
		ended: make(chan struct{}), stopped: make(chan struct{})}, nil
}

// Size returns the pictures' size.
func (p *Push) Size() media.Size { return p.size }

// Late returns 0: Push never skips a picture; a slow pipeline blocks the
// program instead.
func (p *Push) Late() uint64 { return 0 }

// Newest returns the newest PTS accepted, and false before the first:
// markers may be placed up to it once Push has returned.
func (p *Push) Newest() (clock.Ticks, bool) {
	if !p.seen.Load() {
		return 0, false
	}
	return clock.Ticks(p.newest.Load()), true
}

// Push hands over pic, one picture in format p at the source's size, with
// PTS pts, and waits until the pipeline has taken it (or ctx ends). It
// returns nil once the picture is a frame in the pipeline, to be encoded
// whatever happens next. A PTS that does not rise past the last accepted
// one's (an error wrapping ErrRejected), a picture of the wrong length or
// format is refused, and changes nothing. After End, or once the pipeline
// stopped, it returns ErrEnded. It is safe for concurrent use: pictures
// are taken in the order their calls get through.
func (p *Push) Push(ctx context.Context, pts clock.Ticks, format PixelFormat, pic []byte) error {
	select {
	case <-p.ended:
		return ErrEnded
	default:
	}
	o := offer{pts: pts, format: format, pic: pic, taken: make(chan error, 1)}
	select {
	case p.offers <- o:
	case <-p.ended:
		return ErrEnded
	case <-p.stopped:
		return ErrEnded
	case <-ctx.Done():
		return ctx.Err()
	}
	if err := <-o.taken; err != nil {
		return fmt.Errorf("push: %w", err)
	}
	return nil
}

// End ends the source: Next returns io.EOF once it has returned every
// picture accepted, and Push returns ErrEnded.
func (p *Push) End() {
	p.endOnce.Do(func() { close(p.ended) })
}

// Next waits for the next picture pushed and converts it into f. A picture
// refused is told to its Push and Next waits for the next one. It returns
// io.EOF after End, or ctx's error when ctx ends; Next must not be called
// after that.
func (p *Push) Next(ctx context.Context, f *Frame) error {
	for {
		select {
		case <-p.ended: // before any picture still offered
			p.stop()
			return io.EOF
		default:
		}
		select {
		case <-ctx.Done():
			p.stop()
			return ctx.Err()
		case <-p.ended:
			p.stop()
			return io.EOF
		case o := <-p.offers:
			err := p.in.accept(f, o.pts, o.format, o.pic)
			if err == nil {
				// Before Push returns: a marker placed at the PTS just
				// pushed must find it in the stream's range.
				p.newest.Store(int64(o.pts))
				p.seen.Store(true)
			}
			o.taken <- err
			if err == nil {
				return nil
			}
		}
	}
}

// stop makes Push return ErrEnded instead of waiting for a Next that will
// not come.
func (p *Push) stop() {
	p.stopOnce.Do(func() { close(p.stopped) })
}

// Close frees the swscale contexts, once the pipeline has stopped calling
// Next (stream.Stream does it when its Run ends), and makes Push return
// ErrEnded.
func (p *Push) Close() {
	p.stop()
	p.in.close()
}
