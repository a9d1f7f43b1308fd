package muxer

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/asticode/go-astiav"

	"github.com/hlsmark/hlsmark/internal/avpkt"
	"github.com/hlsmark/hlsmark/pipeline"
	"github.com/hlsmark/hlsmark/pipeline/clock"
)

// Config configures a Muxer.
type Config struct {
	// Dir is the folder segment files are written to.
	Dir string
	// Target is the target segment duration: a segment is cut at the first
	// IDR at least Target after its start.
	Target time.Duration
	// FirstSeq is the sequence number of the first segment.
	FirstSeq Seq
	// Size and FPS describe the video stream.
	Size pipeline.Size
	FPS  int
	// Timeline maps PTS to wall-clock time.
	Timeline clock.Timeline
	// Publish is called with every finished segment, once its file is in
	// place. An error from it is returned by the call that finished the
	// segment.
	Publish func(Segment) error
}

// Muxer writes packets into a sequence of MPEG-TS segment files. It is not
// safe for concurrent use.
type Muxer struct {
	cfg    Config
	target clock.Ticks
	next   Seq
	cur    *segmentWriter
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
func (m *Muxer) WritePacket(p pipeline.Packet) error {
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
			return err
		}
		m.cur = w
	}
	if err := m.payload.Set(m.pkt, p.Data); err != nil {
		return fmt.Errorf("muxer: %w", err)
	}
	if err := m.cur.write(m.pkt, p); err != nil {
		return fmt.Errorf("muxer: segment %d: %w", m.cur.seg.Seq, err)
	}
	return nil
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

// NextSeq returns the sequence number the next segment will get.
func (m *Muxer) NextSeq() Seq { return m.next }

func (m *Muxer) open(first clock.Ticks) (*segmentWriter, error) {
	seg := Segment{
		Seq:      m.next,
		Path:     filepath.Join(m.cfg.Dir, FileName(m.next)),
		FirstPTS: first,
		Start:    m.cfg.Timeline.Time(first),
	}
	w, err := openSegment(seg, m.cfg.Size, m.cfg.FPS)
	if err != nil {
		return nil, fmt.Errorf("muxer: open segment %d: %w", seg.Seq, err)
	}
	m.next++
	return w, nil
}

// finish closes the current segment with duration d, moves it into place
// and publishes it.
func (m *Muxer) finish(d clock.Ticks) error {
	w := m.cur
	m.cur = nil
	w.seg.Duration = d
	if err := w.close(); err != nil {
		os.Remove(w.tmp)
		return fmt.Errorf("muxer: close segment %d: %w", w.seg.Seq, err)
	}
	st, err := os.Stat(w.tmp)
	if err == nil {
		w.seg.Size = st.Size()
		err = os.Rename(w.tmp, w.seg.Path)
	}
	if err != nil {
		os.Remove(w.tmp)
		return fmt.Errorf("muxer: publish segment %d: %w", w.seg.Seq, err)
	}
	if m.cfg.Publish != nil {
		return m.cfg.Publish(w.seg)
	}
	return nil
}

// errNoMpegts is returned if libavformat lacks the mpegts muxer.
var errNoMpegts = errors.New("libavformat has no mpegts muxer")
