package pipeline

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"sync/atomic"
	"time"

	"github.com/hlsmark/hlsmark/pipeline/clock"
	"github.com/hlsmark/hlsmark/pipeline/media"
	"github.com/hlsmark/hlsmark/pipeline/stamp"
)

// ErrRejected marks an error from Source.Next about one frame only: the
// pipeline counts the frame as rejected (Pipeline.OnReject) and asks for
// the next one, instead of ending.
var ErrRejected = errors.New("frame rejected")

// RawConfig configures a Raw source.
type RawConfig struct {
	// Size is the size of every picture.
	Size media.Size
	// Format is the pictures' pixel format.
	Format PixelFormat
	// Framed, if set, reads each picture after an 8-byte big-endian signed
	// PTS in 90 kHz ticks, the producer's, kept as the frame's PTS.
	// Otherwise pictures come back to back, each stamped with the
	// generator clock when it has been read in full.
	Framed bool
	// Stamp draws each frame's PTS as a strip across the top of the
	// picture (see package stamp), over the producer's picture.
	Stamp bool
}

// Validate reports the first configuration error, naming the setting.
func (c RawConfig) Validate() error {
	if err := c.Size.Validate(); err != nil {
		return err
	}
	if c.Stamp {
		if err := stamp.Validate(c.Size); err != nil {
			return err
		}
	}
	return c.Format.Validate()
}

// rawPicture is one picture as read, before conversion.
type rawPicture struct {
	pts     clock.Ticks // the producer's, when framed
	arrived time.Time   // the generator clock's reading once read in full
	data    []byte
}

// rawReadAhead is how many pictures the reader may hold read but not yet
// taken by Next: reading goes on while the pipeline works, so a rawvideo
// picture is stamped when it arrives, not when the pipeline gets to it.
// When they are all held, the reader stops reading and the producer's
// writes block: a slow encoder slows the producer, and drops nothing.
const rawReadAhead = 2

// Stamped is a Source whose frames carry their producer's own PTS: the
// newest one it has read is the stream's present, however far it is from
// the generator clock.
type Stamped interface {
	Source
	// Newest returns the newest PTS read from the producer, and false
	// before the first.
	Newest() (clock.Ticks, bool)
}

// Raw is a source of raw pictures read from a byte stream (a pipe, the
// process's standard input), converted to BGR24 with swscale. It ends
// (io.EOF) at the end of the stream, a picture cut short included.
type Raw struct {
	cfg   RawConfig
	clk   clock.Clock
	tl    clock.Timeline
	r     io.Reader
	bytes int // of one picture
	in    *intake

	read    chan rawPicture // pictures read, in order
	free    chan []byte     // buffers Next is done with
	readErr error           // why read closed: io.EOF or a read error
	newest  atomic.Int64    // the newest framed PTS read, once seen is set
	seen    atomic.Bool
}

// NewRaw returns a source reading pictures from r. Framed pictures keep
// the producer's PTS; unframed ones are stamped with clk on the stream's
// timeline tl. Reading starts at the first Next, on a goroutine that ends
// at the end of r or once the pipeline has stopped and the read blocked
// then returns.
func NewRaw(cfg RawConfig, r io.Reader, at Start) (*Raw, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	n, err := cfg.Format.FrameBytes(cfg.Size)
	if err != nil {
		return nil, err
	}
	in, err := newIntake(cfg.Size, cfg.Format, at.Resume)
	if err != nil {
		return nil, err
	}
	return &Raw{cfg: cfg, clk: at.Clock, tl: at.Timeline, r: r, bytes: n, in: in}, nil
}

// Size returns the pictures' size.
func (s *Raw) Size() media.Size { return s.cfg.Size }

// Late returns 0: a raw source never skips a picture; a slow pipeline
// blocks the producer instead.
func (s *Raw) Late() uint64 { return 0 }

// Newest returns the newest PTS a framed picture carried, once its header
// has been read; an unframed source has none (false).
func (s *Raw) Newest() (clock.Ticks, bool) {
	if !s.seen.Load() {
		return 0, false
	}
	return clock.Ticks(s.newest.Load()), true
}

// Next waits for the next picture and converts it into f (see intake). A
// framed picture whose PTS does not rise past the previous one's is
// returned as an error wrapping ErrRejected, with f.PTS set to it. At the
// end of the input, or when ctx ends, it frees its swscale context and
// returns io.EOF or ctx's error; Next must not be called after that.
func (s *Raw) Next(ctx context.Context, f *Frame) (err error) {
	defer func() {
		if err != nil && !errors.Is(err, ErrRejected) {
			s.in.close()
		}
	}()
	if s.read == nil {
		s.start(ctx)
	}
	var pic rawPicture
	var ok bool
	select {
	case <-ctx.Done():
		return ctx.Err()
	case pic, ok = <-s.read:
	}
	if !ok {
		return s.readErr
	}
	defer func() { s.free <- pic.data }()
	pts := pic.pts
	if !s.cfg.Framed {
		if pts, err = s.stamp(ctx, pic.arrived); err != nil {
			return err
		}
	}
	f.PTS, f.Event = pts, 0 // told with a rejection
	if err := s.in.accept(f, pts, s.cfg.Format, pic.data); err != nil {
		return fmt.Errorf("raw input: %w", err)
	}
	if s.cfg.Stamp {
		stamp.Draw(f.BGR, f.Size, f.PTS) // over the producer's picture, as converted
	}
	return nil
}

// stamp returns the PTS of a picture that arrived at t: the generator
// clock's reading then, or, if that does not rise past the previous
// frame's, the clock's reading once it has (as the checkerboard does).
func (s *Raw) stamp(ctx context.Context, t time.Time) (clock.Ticks, error) {
	pts := s.tl.PTS(t)
	if s.in.rises(pts) != nil {
		if err := s.clk.WaitUntil(ctx, s.tl.Time(s.in.last+1)); err != nil {
			return 0, err
		}
		pts = s.tl.PTS(s.clk.Now())
	}
	return pts, nil
}

// start starts the goroutine that reads pictures ahead of Next.
func (s *Raw) start(ctx context.Context) {
	s.read = make(chan rawPicture, rawReadAhead)
	s.free = make(chan []byte, rawReadAhead+1)
	for range rawReadAhead + 1 {
		s.free <- make([]byte, s.bytes)
	}
	go func() {
		defer close(s.read)
		s.readErr = s.readAll(ctx)
	}()
}

// readAll reads pictures into free buffers and queues them until the
// input ends (io.EOF, a picture cut short included), a read fails, or ctx
// ends.
func (s *Raw) readAll(ctx context.Context) error {
	var header [8]byte
	for {
		var buf []byte
		select {
		case <-ctx.Done():
			return ctx.Err()
		case buf = <-s.free:
		}
		var pic rawPicture
		if s.cfg.Framed {
			if _, err := io.ReadFull(s.r, header[:]); err != nil {
				return endOfInput(err)
			}
			pic.pts = clock.Ticks(int64(binary.BigEndian.Uint64(header[:])))
			if !s.seen.Load() || pic.pts > clock.Ticks(s.newest.Load()) {
				s.newest.Store(int64(pic.pts))
				s.seen.Store(true)
			}
		}
		if _, err := io.ReadFull(s.r, buf); err != nil {
			return endOfInput(err)
		}
		pic.arrived, pic.data = s.clk.Now(), buf
		select {
		case <-ctx.Done():
			return ctx.Err()
		case s.read <- pic:
		}
	}
}

// endOfInput turns the end of the input, at a picture's start or within
// it, into io.EOF, and wraps any other read error.
func endOfInput(err error) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return io.EOF
	}
	return fmt.Errorf("raw input: read: %w", err)
}
