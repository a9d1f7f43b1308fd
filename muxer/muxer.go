package muxer

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/asticode/go-astiav"

	"github.com/hlsmark/hlsmark/pipeline/avpkt"
	"github.com/hlsmark/hlsmark/pipeline/clock"
	"github.com/hlsmark/hlsmark/pipeline/media"
)

// Config configures a Muxer.
type Config struct {
	// Dir is the folder segment files are written to.
	Dir string
	// Target is the target segment duration: a segment is cut at the first
	// IDR at least Target after its start.
	Target time.Duration
	// FirstSeq is the sequence number of the first segment.
	FirstSeq media.Seq
	// Format is the segments' container: MPEG-TS (the zero value) or
	// fMP4, whose init segment is written into Dir when the first
	// segment of a run starts, as media.RunInitName of that segment and
	// as media.InitName, the current run's.
	Format media.Format
	// Size and FPS describe the video stream.
	Size media.Size
	FPS  int
	// Timeline maps PTS to wall-clock time.
	Timeline clock.Timeline
	// Publish is called with every finished segment, once its file is in
	// place. An error from it is returned by the call that finished the
	// segment.
	Publish func(media.Segment) error
	// OnError, if set, is told of every segment the muxer gave up on
	// because writing it failed (disk full, permissions). Such a failure
	// is not an error of WritePacket: the muxer drops the segment, starts
	// again at the next IDR with a discontinuity and the same sequence
	// number, so the stream goes on when the disk recovers and no playlist
	// ever lists a segment that was not written.
	OnError func(error)
	// OnOverlong, if set, is told of every segment whose own pictures
	// outlast Longest(Target): a GOP longer than the target, copied from
	// a source (--codec copy) whose keyframes could not be read ahead to
	// set the target (see CopyTarget). Without a keyframe there is no
	// cut: the segment keeps its true duration, d, which breaks
	// EXT-X-TARGETDURATION.
	OnOverlong func(seq media.Seq, d clock.Ticks)
	// Part, if positive, cuts fMP4 segments into parts of Low-Latency
	// HLS lasting at most Part each (see parts), told to PublishPart as
	// each is flushed. It needs Format FMP4 and at most a third of Target.
	Part time.Duration
	// PublishPart is called with every part, once its fragment is in the
	// segment's file, before the segment is made durable (see Step) and
	// published. An error from it
	// is returned by the call that finished the part. If the segment is
	// then lost, the next one takes its number and its parts start again
	// at index 0.
	PublishPart func(media.Part) error
	// AtStep, if set, is told of each step of every segment's path to disk
	// (see Step), before Publish: tests stop the process there.
	AtStep func(Step, media.Segment)
}

// Muxer writes packets into a sequence of MPEG-TS segment files, through
// one mpegts muxer for as long as no segment is lost, so that continuity
// counters go on from file to file. It is not safe for concurrent use.
type Muxer struct {
	cfg    Config
	target clock.Ticks
	// longest is the longest a segment may last: EXT-X-TARGETDURATION
	// (the target rounded up to the second) must stay what it is for the
	// stream's life, and every EXTINF, rounded to the nearest second, must
	// fit in it (RFC 8216, section 4.3.3.1).
	longest clock.Ticks
	next    media.Seq
	// ts is nil before the first segment and after a lost one: the next
	// segment then starts a new muxer.
	ts container
	// init is, in fMP4, the run whose init segment ts's segments play
	// after (media.Segment.Init): ts's first segment, or an earlier run
	// whose init segment has the same bytes (see keepInit).
	init media.Seq
	cur  *segmentFile
	// gap is set when the next segment does not follow on from the one
	// before it (a lost segment, or an earlier run): it is marked
	// discontinuous, in the playlist and in the TS.
	gap bool
	// jump is set when the next segment's timestamps do not follow on
	// from the end of the one before: frames came too late to keep the
	// segment within longest, or the source's timeline broke (a packet
	// marked Discontinuity). It is marked discontinuous in the playlist;
	// the TS goes on.
	jump bool
	// parts cuts segments into parts; nil without Config.Part.
	parts *parts
	pkt   *astiav.Packet
	// payload holds the packet being written: reused, so that writing a
	// packet allocates nothing.
	payload avpkt.Payload
}

// New returns a muxer writing into cfg.Dir, which it creates if needed. A
// first sequence number above 0 means the stream goes on from an earlier
// run (Sweep never reuses a number): the first segment is then a
// discontinuity.
func New(cfg Config) (*Muxer, error) {
	if cfg.Target <= 0 {
		return nil, fmt.Errorf("muxer: target duration %s must be positive", cfg.Target)
	}
	if err := os.MkdirAll(cfg.Dir, 0o755); err != nil {
		return nil, fmt.Errorf("muxer: %w", err)
	}
	m := &Muxer{cfg: cfg, target: clock.FromDuration(cfg.Target), longest: Longest(cfg.Target),
		next: cfg.FirstSeq, gap: cfg.FirstSeq > 0}
	if cfg.Part != 0 {
		if cfg.Part < 0 || cfg.Format != media.FMP4 || 3*cfg.Part > cfg.Target {
			return nil, fmt.Errorf("muxer: part %s needs fmp4 and at most a third of the target %s", cfg.Part, cfg.Target)
		}
		m.parts = &parts{target: clock.FromDuration(cfg.Part), step: clock.Hz / clock.Ticks(max(cfg.FPS, 1))}
	}
	m.pkt = astiav.AllocPacket()
	return m, nil
}

// Longest returns the longest a segment may last for target duration
// target: its EXT-X-TARGETDURATION, the target rounded up to the second,
// plus 499 ms, the most an EXTINF written to the millisecond can exceed it
// by and still round to it.
func Longest(target time.Duration) clock.Ticks {
	seconds := (target + time.Second - 1) / time.Second
	return clock.FromDuration(seconds*time.Second + 499*time.Millisecond)
}

// WritePacket adds one packet. An IDR at least the target duration after
// the current segment's start finishes that segment and starts the next.
// If frames came so late that the segment would last longer than Longest,
// it ends with its last frame instead, and the next one, which starts at
// the late IDR, is a discontinuity: no segment of encoded frames ever
// outgrows EXT-X-TARGETDURATION. (Copied pictures can: see
// Config.OnOverlong.) A packet marked Discontinuity finishes the
// current segment whatever its length (its last frame lasting as long as
// the gap before it) and starts a discontinuous one. Packets before the
// first IDR are dropped: no segment can start with them.
func (m *Muxer) WritePacket(p media.Packet) error {
	switch {
	case m.cur == nil:
	case p.Discontinuity:
		m.jump = true
		if err := m.finish(m.lastDuration(), 0, false); err != nil {
			return err
		}
	case p.Key && due(m.cur.seg.FirstPTS, p.PTS, m.target):
		d := p.PTS - m.cur.seg.FirstPTS
		switch {
		case d <= m.longest: // within EXT-X-TARGETDURATION
		case m.outlasts(): // a long GOP, copied
			m.overlong(d)
		default: // late frames
			d = min(m.cur.lastPTS-m.cur.seg.FirstPTS+clock.Hz/clock.Ticks(m.cfg.FPS), m.longest)
			m.jump = true
		}
		next := p.DTS
		if m.jump {
			next = 0 // the last frame does not last until p
		}
		if err := m.finish(d, next, false); err != nil {
			return err
		}
	}
	var published error
	switch {
	case m.cur == nil:
		if !p.Key {
			return nil
		}
		if err := m.open(p); err != nil {
			m.fail(err)
			return nil
		}
	case m.parts != nil && m.parts.full(p):
		part, err := m.cutPart(p)
		if err != nil {
			m.abandon(fmt.Errorf("muxer: segment %d: %w", m.cur.seg.Seq, err))
			return nil
		}
		published = m.publishPart(part)
	}
	err := m.payload.Set(m.pkt, p.Data)
	if err == nil {
		err = m.ts.write(m.pkt, p)
	}
	if err != nil {
		m.abandon(fmt.Errorf("muxer: segment %d: %w", m.cur.seg.Seq, err))
		return published
	}
	m.cur.add(p)
	if m.parts != nil {
		m.parts.add(p)
	}
	return published
}

// abandon gives up the segment being written.
func (m *Muxer) abandon(err error) {
	f := m.cur
	m.cur = nil
	m.fail(err) // frees the mpegts muxer, which lets go of f's file
	f.discard()
}

// fail records a lost segment. The mpegts muxer wrote it (or some of it)
// and counted its packets, so it is dropped: the next segment starts a new
// one, its counters marked discontinuous.
func (m *Muxer) fail(err error) {
	m.gap = true
	m.dropStream()
	if m.cfg.OnError != nil {
		m.cfg.OnError(err)
	}
}

// dropStream frees the mpegts muxer, if any, without writing to its output.
func (m *Muxer) dropStream() {
	if m.ts != nil {
		m.ts.free()
		m.ts = nil
	}
}

// Close finishes and publishes the segment being written, if any, and frees
// the muxer's libav state.
func (m *Muxer) Close() error {
	defer func() {
		m.dropStream()
		if m.pkt != nil {
			m.pkt.Free()
			m.pkt = nil
		}
		m.payload.Free()
	}()
	if m.cur == nil {
		return nil
	}
	return m.finish(m.lastDuration(), 0, true)
}

// lastDuration returns the duration of the current segment ending with
// the last picture written: to that picture's end, at most Longest unless
// the segment's pictures outlast it.
func (m *Muxer) lastDuration() clock.Ticks {
	d := m.cur.lastPTS - m.cur.seg.FirstPTS + m.cur.frameGap(m.cfg.FPS)
	if d > m.longest && m.outlasts() {
		m.overlong(d)
		return d
	}
	return min(d, m.longest)
}

// outlasts reports whether the current segment's last picture starts at
// or after Longest: no encoded segment does (the encoder puts an IDR
// where the target ends), a copied GOP longer than the target does.
func (m *Muxer) outlasts() bool {
	return m.cur.lastPTS-m.cur.seg.FirstPTS >= m.longest
}

// overlong tells Config.OnOverlong of the current segment, which lasts d.
func (m *Muxer) overlong(d clock.Ticks) {
	if m.cfg.OnOverlong != nil {
		m.cfg.OnOverlong(m.cur.seg.Seq, d)
	}
}

// NextSeq returns the sequence number of the segment being written, or of
// the next one if none is open: numbers are taken only by segments that
// were published.
func (m *Muxer) NextSeq() media.Seq { return m.next }

// open starts the segment whose first packet is p, an IDR: a new file,
// written by the running muxer, or by a new one after a gap.
func (m *Muxer) open(p media.Packet) error {
	seg := media.Segment{
		Seq:           m.next,
		Path:          filepath.Join(m.cfg.Dir, m.cfg.Format.SegmentName(m.next)),
		FirstPTS:      p.PTS,
		Start:         m.cfg.Timeline.Time(p.PTS),
		Discontinuity: m.gap || m.jump,
		Format:        m.cfg.Format,
	}
	f, err := createSegment(seg)
	if err != nil {
		return fmt.Errorf("muxer: open segment %d: %w", seg.Seq, err)
	}
	// The new streams are assigned to m.ts only if they exist: a nil
	// *fmp4Stream in the interface would not be nil.
	switch {
	case m.ts == nil && m.cfg.Format == media.FMP4:
		var s *fmp4Stream
		if s, m.init, err = newFMP4Stream(m.cfg.Dir, seg.Seq, f.out, m.cfg.Size, m.cfg.FPS, p.Data); err == nil {
			m.ts = s
		}
	case m.ts == nil:
		var s *tsStream
		if s, err = newTSStream(f.out, m.cfg.Size, m.cfg.FPS, m.gap); err == nil {
			m.ts = s
		}
	default:
		err = m.ts.switchTo(f.out)
	}
	if err != nil {
		m.dropStream() // it may hold f's file
		f.discard()
		return fmt.Errorf("muxer: open segment %d: %w", seg.Seq, err)
	}
	if m.cfg.Format == media.FMP4 {
		f.seg.Init = m.init
	}
	m.cur, m.jump = f, false
	if m.parts != nil {
		m.parts.openParts(p, seg.FirstPTS)
	}
	return nil
}

// finish ends the current segment with duration d (with the trailer if it
// is the last), moves its file into place and publishes it. next is the
// DTS of the packet that follows the segment, or 0 (see container.end). A
// segment that cannot be written is given up (see Config.OnError); only
// an error from Publish is returned.
func (m *Muxer) finish(d, next clock.Ticks, last bool) error {
	f := m.cur
	m.cur = nil
	f.seg.Duration = d
	var err error
	if last {
		err = m.ts.close()
	} else {
		err = m.ts.end(next)
	}
	var part media.Part
	if err == nil && m.parts != nil {
		part, err = m.parts.last(f, d)
	}
	if err != nil {
		m.fail(fmt.Errorf("muxer: write segment %d: %w", f.seg.Seq, err))
		f.discard()
		return nil
	}
	// The last part is listed before the segment's file is made durable:
	// a player blocked on it should not wait for the fsyncs. Should the
	// commit fail, the next segment takes this number and its part 0
	// drops this one's parts (see Config.PublishPart).
	var published error
	if m.parts != nil {
		published = m.publishPart(part)
	}
	if err := f.commit(m.cfg.AtStep); err != nil {
		m.fail(fmt.Errorf("muxer: write segment %d: %w", f.seg.Seq, err))
		return published
	}
	m.next++
	m.gap = false
	if m.cfg.Publish != nil {
		published = errors.Join(published, m.cfg.Publish(f.seg))
	}
	return published
}

// errNoMpegts is returned if libavformat lacks the mpegts muxer.
var errNoMpegts = errors.New("libavformat has no mpegts muxer")
