package pipeline

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/hlsmark/hlsmark/pipeline/clock"
	"github.com/hlsmark/hlsmark/pipeline/media"
)

// liveLead is how far ahead of the clock a live frame's PTS may be before
// it counts as a leap of the input's timestamps (and starts a new
// mapping) rather than a frame that came early (and is held until due).
const liveLead = clock.Ticks(clock.Hz)

// errInputEnded is why a live input that ended is reconnected.
var errInputEnded = errors.New("the input ended")

// Reconnector is a source that can lose its input and connect again.
type Reconnector interface {
	// Reconnecting returns why the source lost its input while it waits
	// to connect again or is connecting, nil while it delivers frames.
	Reconnecting() error
}

// LiveSource decodes a live input's best video stream: a network input
// (RTSP, HTTP, UDP, SRT) or a camera (v4l2). It never ends: when the
// input fails, ends or stays silent past the read timeout, the source
// reconnects after a wait that doubles from 1 s to 30 s (back to 1 s once
// a connection has delivered frames for 30 s), and says so (Reconnecting)
// until frames come again. The first frame after a reconnection is marked
// Discontinuity.
//
// PTS mapping: as FileSource's (ptsMap), with base the stream's clock
// reading when a connection opens (at least Start.Resume, and at least one
// frame step after the last PTS after a reconnection), so a reconnection
// starts a new mapping and PTS never go back. Frames are handed out as
// they are decoded, never skipped for being late: a live source's frames
// come in real time, so waiting on their timestamps would only add
// latency. A frame whose PTS is still ahead of the clock (an input read
// faster than real time, such as a file served over HTTP) is held until
// it is due; one more than a second ahead is a leap of the input's
// timestamps and starts a new mapping at the clock's reading.
type LiveSource struct {
	cfg      LiveConfig
	in       demuxInput
	log      *slog.Logger
	clk      clock.Clock
	timeline clock.Timeline
	resume   clock.Ticks

	d       *demuxer // the current connection, nil between connections
	m       ptsMap
	wait    backoff
	since   time.Time // when the current connection delivered its first frame; zero before
	pending bool      // the next frame follows a break

	lost       atomic.Pointer[error]
	reconnects atomic.Uint64
	remaps     atomic.Uint64
	dropped    atomic.Uint64
}

// NewLiveSource returns a source of the live input cfg names. It does not
// connect: Next does, and keeps trying. cfg must be valid (Validate).
func NewLiveSource(cfg LiveConfig, at Start, log *slog.Logger) (*LiveSource, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if log == nil {
		log = slog.Default()
	}
	in := cfg.demuxInput()
	s := &LiveSource{cfg: cfg, in: in, log: log, clk: at.Clock, timeline: at.Timeline, resume: at.Resume,
		m: ptsMap{input: in.Name}}
	if err := s.m.keepIn(at.Dir, at.Resume, log); err != nil {
		log.Warn("a new timestamp mapping, not the kept one", "input", in.Name, "err", err)
	}
	return s, nil
}

// Size returns the frame size.
func (s *LiveSource) Size() media.Size { return s.cfg.Size }

// Late returns 0: a live source hands out every frame it decodes.
func (s *LiveSource) Late() uint64 { return 0 }

// Reconnects returns how many times a connection failed, ended or fell
// silent.
func (s *LiveSource) Reconnects() uint64 { return s.reconnects.Load() }

// Remaps returns how many times a timestamp that did not rise, or leapt
// ahead of the clock, started a new PTS mapping within a connection.
func (s *LiveSource) Remaps() uint64 { return s.remaps.Load() }

// Dropped returns how many frames were dropped for having no timestamp.
func (s *LiveSource) Dropped() uint64 { return s.dropped.Load() }

// Reconnecting returns why the source lost its input, nil while it
// delivers frames (see Reconnector).
func (s *LiveSource) Reconnecting() error {
	if e := s.lost.Load(); e != nil {
		return *e
	}
	return nil
}

// Close frees the connection's demuxer and decoder. Next must not be
// called after it.
func (s *LiveSource) Close() {
	if s.d != nil {
		s.d.close()
		s.d = nil
	}
}

// Next connects if need be, decodes the next frame and converts it into
// f. It returns only a frame or the end of ctx: a lost input is
// reconnected.
func (s *LiveSource) Next(ctx context.Context, f *Frame) error {
	if f.Size != s.cfg.Size {
		return errors.New("live: frame size differs from source size")
	}
	for {
		pts, err := s.decode(ctx)
		if err == nil {
			err = s.d.toBGR(f.BGR, s.cfg.Size)
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if err != nil {
			if err := s.lose(ctx, err); err != nil {
				return err
			}
			continue
		}
		f.PTS, f.Event, f.Discontinuity = pts, 0, s.pending
		if s.since.IsZero() {
			s.since = s.clk.Now()
			if s.lost.Load() != nil {
				s.log.Info("input connected again", "input", s.in.Name, "pts", int64(pts))
			}
		}
		s.pending = false
		s.lost.Store(nil)
		return nil
	}
}

// decode connects if need be and decodes the next frame with a
// timestamp, held until its PTS is due, and returns that PTS.
func (s *LiveSource) decode(ctx context.Context) (clock.Ticks, error) {
	if s.d == nil {
		base := max(s.timeline.PTS(s.clk.Now()), s.resume)
		d, err := openDemuxer(ctx, s.in)
		if err != nil {
			return 0, err
		}
		if err := d.begin(&s.m, base); err != nil {
			d.close()
			return 0, err
		}
		s.d, s.since = d, time.Time{}
	}
	for {
		ts, err := s.d.next(ctx)
		if errors.Is(err, io.EOF) {
			return 0, errInputEnded
		}
		if err != nil {
			return 0, err
		}
		if ts == noPTS {
			s.dropped.Add(1)
			continue
		}
		now := s.timeline.PTS(s.clk.Now())
		pts, remapped, err := s.m.pts(ts, now, liveLead)
		if err != nil {
			return 0, err
		}
		if remapped {
			s.remaps.Add(1)
			s.log.Warn("live timestamps went back or leapt: new PTS mapping", "input", s.in.Name, "timestamp", ts, "pts", int64(pts))
		}
		if pts > now {
			if err := s.clk.WaitUntil(ctx, s.timeline.Time(pts)); err != nil {
				return 0, err
			}
		}
		return pts, nil
	}
}

// lose closes the connection that failed with err, says why (Reconnecting,
// the log) and waits before the next attempt. It returns only ctx's error.
func (s *LiveSource) lose(ctx context.Context, err error) error {
	if s.d != nil {
		s.d.close()
		s.d = nil
	}
	if !s.since.IsZero() && s.clk.Now().Sub(s.since) >= goodRun {
		s.wait.reset()
	}
	s.since = time.Time{}
	s.pending = s.pending || s.m.decoded
	s.reconnects.Add(1)
	s.lost.Store(&err)
	delay := s.wait.delay()
	s.log.Warn("input lost: reconnecting", "input", s.in.Name, "err", err, "in", delay)
	return s.clk.WaitUntil(ctx, s.clk.Now().Add(delay))
}
