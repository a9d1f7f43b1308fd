package pipeline

import (
	"errors"
	"fmt"

	"github.com/hlsmark/hlsmark/pipeline/clock"
	"github.com/hlsmark/hlsmark/pipeline/media"
)

// intake turns pictures that come with their producer's PTS into frames:
// the one rule that Raw (framed pictures read from a pipe) and Push
// (pictures a Go program hands over) share. A picture is accepted when its
// PTS rises past the last accepted picture's and it is exactly one picture
// of its format at the source's size; it is then converted into the
// frame's BGR24 with swscale and the frame keeps its PTS, unchanged. A
// picture refused changes nothing: not the last PTS, not the frame.
//
// An intake is used from one goroutine; close frees its swscale contexts.
type intake struct {
	size media.Size
	// resume is where the stream's earlier runs ended: a first PTS below
	// it would take the stream back in time.
	resume  clock.Ticks
	convs   map[PixelFormat]*toBGR // made on first use of each format
	started bool
	last    clock.Ticks // the last accepted PTS, once started
}

// newIntake returns an intake of pictures at size s, ready for format p,
// whose first PTS must be at least resume (see Start.Resume): an unknown
// format, or one swscale cannot convert, is an error here rather than at
// the first picture.
func newIntake(s media.Size, p PixelFormat, resume clock.Ticks) (*intake, error) {
	in := &intake{size: s, resume: resume, convs: map[PixelFormat]*toBGR{}}
	if _, err := in.converter(p); err != nil {
		return nil, err
	}
	return in, nil
}

// converter returns the converter from format p, made on first use.
func (in *intake) converter(p PixelFormat) (*toBGR, error) {
	if c, ok := in.convs[p]; ok {
		return c, nil
	}
	c, err := newToBGR(p, in.size)
	if err != nil {
		return nil, err
	}
	in.convs[p] = c
	return c, nil
}

// ErrGoesBack is the error of a first PTS that comes before where the
// stream's earlier runs ended (Start.Resume): a producer started again
// from its first PTS on a stream that went past it. Every picture would be
// refused, one by one; the source fails instead, saying why.
var ErrGoesBack = errors.New("a producer restarted on the same stream must go on from its last PTS (or stream under a new name or --data)")

// rises returns an error wrapping ErrRejected if pts does not rise past
// the last accepted PTS, and one wrapping ErrGoesBack if it is the first
// and comes before resume.
func (in *intake) rises(pts clock.Ticks) error {
	if !in.started && pts < in.resume {
		return fmt.Errorf("PTS %d comes before %d, where the stream's recorded segments end: %w", pts, in.resume, ErrGoesBack)
	}
	if in.started && pts <= in.last {
		return fmt.Errorf("PTS %d does not rise past the previous frame's %d: %w", pts, in.last, ErrRejected)
	}
	return nil
}

// accept converts pic, one picture in format p, into f with PTS pts, if
// pts rises (else an error wrapping ErrRejected) and pic is one whole
// picture (else an error naming the sizes).
func (in *intake) accept(f *Frame, pts clock.Ticks, p PixelFormat, pic []byte) error {
	if err := in.rises(pts); err != nil {
		return err
	}
	c, err := in.converter(p)
	if err != nil {
		return err
	}
	if err := c.convert(pic, f); err != nil {
		return err
	}
	f.PTS, f.Event = pts, 0
	in.started, in.last = true, pts
	return nil
}

// close frees the swscale contexts. The intake must not be used after.
func (in *intake) close() {
	for _, c := range in.convs {
		c.Close()
	}
	clear(in.convs)
}
