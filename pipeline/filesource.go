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

// FileConfig configures a file source.
type FileConfig struct {
	// Input is a file path or a file: URL (anything libavformat opens).
	Input string
	// Size is the size every frame is scaled to.
	Size media.Size
	// Loop plays the file again and again instead of ending.
	Loop bool
	// Copy hands out the file's H.264 packets (Frame.Coded) instead of
	// decoded pictures, for the Passthrough coder (--codec copy). A file
	// whose video is not H.264 is refused (*NotH264Error).
	Copy bool
	// Log receives the source's notices (a new timestamp mapping); nil
	// means slog.Default().
	Log *slog.Logger
}

// fileCatchUp is how far behind the file's timestamps the source may fall
// and still hand out every frame, at once, until it has caught up: a
// file's frames are its content, so a machine busy for a moment delays
// them rather than loses them. Only a pipeline that cannot keep up at all
// falls further behind, and then drops frames to stay live.
const fileCatchUp = 2 * time.Second

// leap is the longest gap between two frames of a file that is still
// the file playing on: a longer one is a leap of its timestamps (a
// recording paused, two recordings joined).
const leap = clock.Hz

// FileSource decodes a media file's best video stream, frame by frame in
// presentation order, paced in real time by the file's own timestamps.
//
// PTS mapping (ptsMap): a frame's PTS is base + FromTimeBase(ts − origin,
// time base), where ts is the frame's best-effort timestamp in the
// stream's time base and the rounding is FromTimeBase's floor. For the
// first mapping, origin is the file's first timestamp and base the
// stream's clock reading (Timeline.PTS) when the source is made, so PTS
// continue the stream's timeline and the file's frame spacing is kept
// tick for tick. A new mapping (origin = the frame's ts, base = the last
// PTS plus one frame step) starts when the file loops and when a
// timestamp does not rise past the last frame's (a backward jump): PTS
// never go back. A forward leap is kept: the stream waits, as the file
// says, and a leap of more than a second (see leap) marks the next frame
// Discontinuity, so the segment after it is EXT-X-DISCONTINUITY. Frames
// without a timestamp are dropped.
//
// Copying (FileConfig.Copy), the source hands out the file's H.264
// packets in decode order instead, their PTS and DTS mapped with one
// offset by the same rule (origin is a packet's PTS, a backward jump is a
// DTS that does not rise; see packetTimes), paced by their DTS.
type FileSource struct {
	cfg      FileConfig
	clk      clock.Clock
	timeline clock.Timeline
	d        *demuxer // the current pass, nil between passes
	done     bool
	m        ptsMap
	lastDTS  clock.Ticks // copying: the DTS of the last packet read (before the first, Resume)
	leapt    bool        // the file's timestamps leapt: the next frame handed out is marked Discontinuity

	late    atomic.Uint64
	remaps  atomic.Uint64
	dropped atomic.Uint64
}

// NewFileSource opens cfg.Input and returns a source whose first frame
// has the PTS of clk's present reading on timeline. A missing file, a
// file with no video stream or without a decoder fails here.
func NewFileSource(cfg FileConfig, at Start) (*FileSource, error) {
	if err := cfg.Size.Validate(); err != nil {
		return nil, err
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	s := &FileSource{cfg: cfg, clk: at.Clock, timeline: at.Timeline, m: ptsMap{input: "file " + cfg.Input}, lastDTS: at.Resume}
	if !cfg.Copy {
		if err := s.m.keepIn(at.Dir, at.Resume, cfg.Log); err != nil {
			cfg.Log.Warn("a new timestamp mapping, not the kept one", "input", cfg.Input, "err", err)
		}
	}
	if err := s.open(context.Background(), max(at.Timeline.PTS(at.Clock.Now()), at.Resume)); err != nil {
		return nil, err
	}
	return s, nil
}

// open starts a pass over the file whose first frame maps to base, or
// follows the last pass's last frame.
func (s *FileSource) open(ctx context.Context, base clock.Ticks) error {
	in := demuxInput{URL: s.cfg.Input, Name: s.m.input}
	var d *demuxer
	var err error
	if s.cfg.Copy {
		d, err = openPackets(ctx, in)
	} else {
		d, err = openDemuxer(ctx, in)
	}
	if err != nil {
		return err
	}
	if err := d.begin(&s.m, base); err != nil {
		d.close()
		return err
	}
	s.d = d
	return nil
}

// Size returns the frame size.
func (s *FileSource) Size() media.Size { return s.cfg.Size }

// Late returns how many frames were dropped because the source was more
// than fileCatchUp behind the file's timestamps.
func (s *FileSource) Late() uint64 { return s.late.Load() }

// Remaps returns how many times a timestamp that did not rise started a
// new PTS mapping (loops not counted).
func (s *FileSource) Remaps() uint64 { return s.remaps.Load() }

// Dropped returns how many frames were dropped for having no timestamp.
func (s *FileSource) Dropped() uint64 { return s.dropped.Load() }

// Close frees the file's demuxer and decoder. Next must not be called
// after it.
func (s *FileSource) Close() {
	if s.d != nil {
		s.d.close()
		s.d = nil
	}
	s.done = true
}

// Next waits until the next frame's PTS on the clock, then converts it
// into f. A frame found more than fileCatchUp late is dropped and counted.
// Copying (FileConfig.Copy), it waits until the next packet's DTS and
// puts the packet in f instead (see nextPacket). It returns io.EOF at the
// end of the file, unless the source loops.
func (s *FileSource) Next(ctx context.Context, f *Frame) error {
	if s.cfg.Copy {
		return s.nextPacket(ctx, f)
	}
	if f.Size != s.cfg.Size {
		return errors.New("file: frame size differs from source size")
	}
	for {
		d, err := s.pass(ctx)
		if err != nil {
			return err
		}
		ts, err := d.next(ctx)
		if errors.Is(err, io.EOF) {
			s.endPass()
			continue
		}
		if err != nil {
			return err
		}
		if ts == noPTS {
			s.dropped.Add(1)
			continue
		}
		prev, had := s.m.prev, s.m.decoded
		pts, remapped, err := s.m.pts(ts, 0, 0)
		if err != nil {
			return err
		}
		if remapped {
			s.remaps.Add(1)
			s.cfg.Log.Warn("file timestamps went back: new PTS mapping", "input", s.cfg.Input, "timestamp", ts, "pts", int64(pts))
		}
		if had && !remapped && pts-prev > leap {
			s.leapt = true
			s.cfg.Log.Info("file timestamps leap: the stream pauses, the next segment is discontinuous", "input", s.cfg.Input,
				"gap", (pts - prev).Duration(), "pts", int64(pts))
		}
		due := s.timeline.Time(pts)
		if err := s.clk.WaitUntil(ctx, due); err != nil {
			return err
		}
		if s.clk.Now().Sub(due) > fileCatchUp {
			s.late.Add(1)
			continue
		}
		if err := d.toBGR(f.BGR, s.cfg.Size); err != nil {
			return err
		}
		f.PTS, f.Event, f.Discontinuity = pts, 0, s.leapt
		s.leapt = false
		return nil
	}
}

// pass returns the demuxer of the pass over the file under way, opening
// the next one after a loop (one frame step after the last PTS). It
// returns io.EOF once the source has ended.
func (s *FileSource) pass(ctx context.Context) (*demuxer, error) {
	if s.done {
		return nil, io.EOF
	}
	if s.d == nil {
		if err := s.open(ctx, 0); err != nil {
			return nil, err
		}
	}
	return s.d, nil
}

// endPass closes the pass that reached the file's end: the source ends,
// unless it loops.
func (s *FileSource) endPass() {
	s.d.close()
	s.d = nil
	s.done = !s.cfg.Loop
}
