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
}

// Muxer writes packets into a sequence of MPEG-TS segment files. It is not
// safe for concurrent use.
type Muxer struct {
	cfg    Config
	target clock.Ticks
	next   media.Seq
	cur    *segmentWriter
	gap    bool // a segment was lost: the next one is a discontinuity
	pkt    *astiav.Packet
	// payload holds the packet being written: reused, so that writing a
	// packet allocates nothing.
	payload avpkt.Payload
}

// New returns a muxer writing into cfg.Dir, which it creates if needed.
func New(cfg Config) (*Muxer, error) {
	if cfg.Target <= 0 {
		return nil, fmt.Errorf("muxer: target duration %s must be positive", cfg.Target)
	}
	if err := os.MkdirAll(cfg.Dir, 0o755); err != nil {
		return nil, fmt.Errorf("muxer: %w", err)
	}
	return &Muxer{cfg: cfg, target: clock.FromDuration(cfg.Target), next: cfg.FirstSeq, pkt: astiav.AllocPacket()}, nil
}

// WritePacket adds one packet. An IDR at least the target duration after
// the current segment's start finishes that segment and starts the next.
// Packets before the first IDR are dropped: no segment can start with them.
func (m *Muxer) WritePacket(p media.Packet) error {
	if m.cur != nil && p.Key && p.PTS-m.cur.seg.FirstPTS >= m.target {
		if err := m.finish(p.PTS - m.cur.seg.FirstPTS); err != nil {
			return err
		}
	}
	if m.cur == nil {
		if !p.Key {
			return nil
		}
		w, err := m.open(p.PTS)
		if err != nil {
			m.fail(err)
			return nil
		}
		m.cur = w
	}
	err := m.payload.Set(m.pkt, p.Data)
	if err == nil {
		err = m.cur.write(m.pkt, p)
	}
	if err != nil {
		m.abandon(fmt.Errorf("muxer: segment %d: %w", m.cur.seg.Seq, err))
	}
	return nil
}

// abandon gives up the segment being written.
func (m *Muxer) abandon(err error) {
	w := m.cur
	m.cur = nil
	w.free()
	os.Remove(w.tmp)
	m.fail(err)
}

// fail records a lost segment.
func (m *Muxer) fail(err error) {
	m.gap = true
	if m.cfg.OnError != nil {
		m.cfg.OnError(err)
	}
}

// Close finishes and publishes the segment being written, if any, and frees
// the muxer's libav state.
func (m *Muxer) Close() error {
	defer func() {
		if m.pkt != nil {
			m.pkt.Free()
			m.pkt = nil
		}
		m.payload.Free()
	}()
	if m.cur == nil {
		return nil
	}
	w := m.cur
	return m.finish(w.lastPTS - w.seg.FirstPTS + w.frameGap(m.cfg.FPS))
}

// NextSeq returns the sequence number of the segment being written, or of
// the next one if none is open: numbers are taken only by segments that
// were published.
func (m *Muxer) NextSeq() media.Seq { return m.next }

func (m *Muxer) open(first clock.Ticks) (*segmentWriter, error) {
	seg := media.Segment{
		Seq:      m.next,
		Path:     filepath.Join(m.cfg.Dir, media.SegmentName(m.next)),
		FirstPTS: first,
		Start:    m.cfg.Timeline.Time(first),
		// A lost segment leaves a hole in the timestamps.
		Discontinuity: m.gap,
	}
	w, err := openSegment(seg, m.cfg.Size, m.cfg.FPS)
	if err != nil {
		return nil, fmt.Errorf("muxer: open segment %d: %w", seg.Seq, err)
	}
	return w, nil
}

// finish closes the current segment with duration d, moves it into place
// and publishes it. A segment that cannot be written is given up (see
// Config.OnError); only an error from Publish is returned.
func (m *Muxer) finish(d clock.Ticks) error {
	w := m.cur
	m.cur = nil
	w.seg.Duration = d
	err := w.close()
	if err == nil {
		var st os.FileInfo
		if st, err = os.Stat(w.tmp); err == nil {
			w.seg.Size = st.Size()
			err = os.Rename(w.tmp, w.seg.Path)
		}
	}
	if err != nil {
		os.Remove(w.tmp)
		m.fail(fmt.Errorf("muxer: write segment %d: %w", w.seg.Seq, err))
		return nil
	}
	m.next++
	m.gap = false
	if m.cfg.Publish != nil {
		return m.cfg.Publish(w.seg)
	}
	return nil
}

// errNoMpegts is returned if libavformat lacks the mpegts muxer.
var errNoMpegts = errors.New("libavformat has no mpegts muxer")
