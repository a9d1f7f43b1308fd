package clip

import (
	"context"
	"errors"
	"fmt"

	"github.com/asticode/go-astiav"

	"github.com/hlsmark/hlsmark/pipeline/clock"
	"github.com/hlsmark/hlsmark/pipeline/media"
)

// mp4Options are the mp4 muxer's options: the index before the media
// (faststart), an edit list over the head that is copied but not shown,
// no shift of the negative timestamps that head has (the edit list needs
// them), and the stream's own 90 kHz clock as the track's.
var mp4Options = [][2]string{
	{"movflags", "+faststart"},
	{"use_editlist", "1"},
	{"avoid_negative_ts", "disabled"},
	{"video_track_timescale", "90000"},
}

// write copies into the MP4 at path the packets of segs from h's keyframe
// on, up to the first one (in decoding order) whose frame is at or after
// to, stamped relative to h's start frame.
func write(ctx context.Context, path string, segs []media.Segment, h head, to clock.Ticks) error {
	m := &mp4{path: path, origin: h.start, held: astiav.AllocPacket()}
	defer m.free()
	copying := false
	for _, seg := range segs {
		ended := false
		err := readPackets(ctx, seg, func(p packet) (bool, error) {
			if !copying && !(p.key && p.pts == h.key) {
				return true, nil
			}
			copying = true
			if p.pts >= to {
				ended = true
				return false, nil
			}
			return true, m.put(p)
		})
		if err != nil {
			return err
		}
		if ended {
			break
		}
	}
	return m.finish()
}

// mp4 is the MP4 being written. It holds back the latest packet until the
// next one gives its duration (the TS carries none).
type mp4 struct {
	path   string
	origin clock.Ticks // PTS of the first frame presented, the clip's 0
	fc     *astiav.FormatContext
	out    *astiav.IOContext
	// held is the latest packet, if hasHeld, with heldPTS and heldDTS its
	// unwrapped timestamps; step is the last duration known.
	held             *astiav.Packet
	heldPTS, heldDTS clock.Ticks
	hasHeld          bool
	step             clock.Ticks
	fallback         clock.Ticks // one frame at the stream's frame rate
}

// put writes the packet held back, if any, and holds back p.
func (m *mp4) put(p packet) error {
	if m.fc == nil {
		if err := m.open(p.in); err != nil {
			return err
		}
	}
	if m.hasHeld {
		m.step = p.dts - m.heldDTS
		if err := m.writeHeld(m.step); err != nil {
			return err
		}
	}
	if err := m.held.Ref(p.av); err != nil {
		return fmt.Errorf("clip: ref packet: %w", err)
	}
	m.heldPTS, m.heldDTS, m.hasHeld = p.pts, p.dts, true
	return nil
}

// writeHeld writes the packet held back, lasting d.
func (m *mp4) writeHeld(d clock.Ticks) error {
	m.held.SetStreamIndex(0)
	m.held.SetPts(int64(m.heldPTS - m.origin))
	m.held.SetDts(int64(m.heldDTS - m.origin))
	m.held.SetDuration(int64(d))
	m.held.SetPos(-1)
	err := m.fc.WriteFrame(m.held) // av_write_frame: does not take the packet
	m.held.Unref()
	m.hasHeld = false
	if err != nil {
		return fmt.Errorf("clip: write packet at pts %d: %w", m.heldPTS, err)
	}
	return nil
}

// open starts the MP4 with the codec parameters of in, the TS's video
// stream.
func (m *mp4) open(in *astiav.Stream) error {
	fc, err := astiav.AllocOutputFormatContext(nil, "mp4", m.path)
	if err != nil {
		return fmt.Errorf("clip: alloc mp4 muxer (is libavformat built with it?): %w", err)
	}
	m.fc = fc
	st := fc.NewStream(nil)
	if st == nil {
		return errors.New("clip: new stream failed")
	}
	if err := in.CodecParameters().Copy(st.CodecParameters()); err != nil {
		return fmt.Errorf("clip: codec parameters: %w", err)
	}
	st.CodecParameters().SetCodecTag(0) // the mp4 muxer picks avc1, not the TS's
	st.SetTimeBase(astiav.NewRational(1, clock.Hz))
	if r := in.RFrameRate(); r.Num() > 0 && r.Den() > 0 {
		st.SetAvgFrameRate(r)
		m.fallback = clock.Ticks(int64(clock.Hz) * int64(r.Den()) / int64(r.Num()))
	}
	if m.out, err = astiav.OpenIOContext(m.path, astiav.NewIOContextFlags(astiav.IOContextFlagWrite)); err != nil {
		return fmt.Errorf("clip: open %s: %w", m.path, err)
	}
	fc.SetPb(m.out)
	opts := astiav.NewDictionary()
	defer opts.Free()
	for _, kv := range mp4Options {
		if err := opts.Set(kv[0], kv[1], 0); err != nil {
			return fmt.Errorf("clip: option %s: %w", kv[0], err)
		}
	}
	if err := fc.WriteHeader(opts); err != nil {
		return fmt.Errorf("clip: write mp4 header: %w", err)
	}
	if tb := st.TimeBase(); tb.Num() != 1 || tb.Den() != clock.Hz {
		return fmt.Errorf("clip: the mp4 muxer changed the time base to %d/%d", tb.Num(), tb.Den())
	}
	return nil
}

// finish writes the last packet, lasting as long as the one before it
// (one frame at the stream's rate if it is the only one), and the index,
// which faststart moves before the media.
func (m *mp4) finish() error {
	if m.fc == nil {
		return media.ErrNoFrame
	}
	if m.hasHeld {
		d := m.step
		if d <= 0 {
			d = m.fallback
		}
		if err := m.writeHeld(d); err != nil {
			return err
		}
	}
	if err := m.fc.WriteTrailer(); err != nil {
		return fmt.Errorf("clip: write mp4 trailer: %w", err)
	}
	err := m.out.Close()
	m.out = nil
	if err != nil {
		return fmt.Errorf("clip: close %s: %w", m.path, err)
	}
	return nil
}

// free frees what libav holds, on every path.
func (m *mp4) free() {
	if m.out != nil {
		_ = m.out.Close() // an unfinished clip: the caller removes the file
	}
	if m.fc != nil {
		m.fc.Free()
	}
	m.held.Free()
}
