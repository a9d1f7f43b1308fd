package pipeline

// #cgo pkg-config: libavcodec
// #include <libavcodec/codec_par.h>
//
// // hlsmark_video_delay returns how many pictures the video's decoder
// // holds back to reorder them (go-astiav v0.16.0 has no getter for it).
// static int hlsmark_video_delay(const AVCodecParameters *p) { return p->video_delay; }
import "C"

import (
	"context"
	"errors"
	"fmt"
	"io"
	"unsafe"

	"github.com/asticode/go-astiav"

	"github.com/hlsmark/hlsmark/pipeline/avpkt"
	"github.com/hlsmark/hlsmark/pipeline/clock"
)

// NotH264Error is why a file's video cannot be copied (--codec copy):
// it is not H.264, the only codec the MPEG-TS segments carry.
type NotH264Error struct {
	// Codec is the video's codec, as libavcodec names it (hevc, vp9...).
	Codec string
}

func (e *NotH264Error) Error() string {
	return fmt.Sprintf("input video is %s; only H.264 can be copied", e.Codec)
}

// checkH264 returns a *NotH264Error unless the video stream is H.264.
func (d *demuxer) checkH264() error {
	if id := d.stream.CodecParameters().CodecID(); id != astiav.CodecIDH264 {
		return &NotH264Error{Codec: id.Name()}
	}
	return nil
}

// openFilter sets up h264_mp4toannexb for the H.264 video stream: it
// turns MP4 and Matroska packets (length-prefixed NAL units, SPS and PPS
// in the container's extradata) into Annex B with SPS and PPS in front of
// every IDR, and passes Annex B input (MPEG-TS) through as it is.
func (d *demuxer) openFilter() error {
	if err := d.checkH264(); err != nil {
		return err
	}
	f := astiav.FindBitStreamFilterByName("h264_mp4toannexb")
	if f == nil {
		return errors.New("libavcodec has no h264_mp4toannexb bitstream filter")
	}
	var err error
	if d.bsf, err = astiav.AllocBitStreamFilterContext(f); err != nil {
		return fmt.Errorf("allocate h264_mp4toannexb: %w", err)
	}
	if err := d.stream.CodecParameters().Copy(d.bsf.InputCodecParameters()); err != nil {
		return fmt.Errorf("h264_mp4toannexb parameters: %w", err)
	}
	d.bsf.SetInputTimeBase(d.stream.TimeBase())
	if err := d.bsf.Initialize(); err != nil {
		return fmt.Errorf("initialize h264_mp4toannexb: %w", err)
	}
	if d.out = astiav.AllocPacket(); d.out == nil {
		return errors.New("allocate packet")
	}
	return nil
}

// openPackets opens in and, for its best video stream (see openInput),
// the bitstream filter that hands out its H.264 packets (openFilter).
func openPackets(ctx context.Context, in demuxInput) (*demuxer, error) {
	d, err := openInput(ctx, in)
	if err != nil {
		return nil, err
	}
	if err := d.openFilter(); err != nil {
		d.close()
		return nil, fmt.Errorf("%s: %w", in.Name, err)
	}
	return d, nil
}

// nextPacket reads the video stream's next packet, in decode order, into
// d.out, Annex B and in the stream's time base. It stays there until the
// next call. It returns io.EOF once the filter has given its last packet.
func (d *demuxer) nextPacket(ctx context.Context) error {
	for {
		d.out.Unref()
		err := d.bsf.ReceivePacket(d.out)
		switch {
		case err == nil:
			return nil
		case errors.Is(err, astiav.ErrEof):
			return io.EOF
		case !errors.Is(err, astiav.ErrEagain):
			return fmt.Errorf("%s: h264_mp4toannexb: %w", d.in.Name, err)
		}
		if err := d.feed(ctx, d.bsf); err != nil {
			return err
		}
	}
}

// nextPacket reads the file's next H.264 packet into f (Coded, PTS, DTS,
// Key), in decode order, once the clock reaches its DTS. Unlike a picture,
// a packet is never dropped for being late: the pictures after it, up to
// the next IDR, refer to it. The first packet of a loop's pass (an IDR)
// is marked Discontinuity, so that the pass starts a segment of its own
// and the target duration found for one pass's keyframes holds (see
// muxer.CopyTarget). A packet without a PTS is dropped and counted; the
// pictures that refer to it may show it.
func (s *FileSource) nextPacket(ctx context.Context, f *Frame) error {
	for {
		d, err := s.pass(ctx)
		if err != nil {
			return err
		}
		if err := d.nextPacket(ctx); errors.Is(err, io.EOF) {
			s.endPass()
			continue
		} else if err != nil {
			return err
		}
		pts, dts := d.out.Pts(), d.out.Dts()
		if pts == noPTS {
			s.dropped.Add(1)
			continue
		}
		p, dt, loop, err := s.packetTimes(pts, dts)
		if err != nil {
			return err
		}
		if err := s.clk.WaitUntil(ctx, s.timeline.Time(dt)); err != nil {
			return err
		}
		f.Coded = append(f.Coded[:0], avpkt.Bytes(d.out)...)
		f.PTS, f.DTS, f.Key, f.Event = p, dt, d.out.Flags().Has(astiav.PacketFlagKey), 0
		f.Discontinuity = loop
		return nil
	}
}

// packetTimes maps the timestamps pts and dts of the packet just read, in
// the stream's time base, to its PTS and DTS with the one offset of the
// mapping under way (FileSource's rule, origin being a packet's PTS). It
// starts a new mapping at a pass's first packet and when the DTS does not
// rise past the last packet's (a backward jump); a new mapping's base is
// then raised, if need be, so that its DTS is at least the last DTS plus
// one frame step (before the first packet: at least Resume), and DTS keep
// rising. A packet without a DTS gets one (guessDTS). It reports whether
// the packet starts a loop's pass.
func (s *FileSource) packetTimes(pts, dts int64) (clock.Ticks, clock.Ticks, bool, error) {
	m := &s.m
	fresh := !m.mapped
	loop := fresh && m.decoded // the pass began one frame step after the last (ptsMap.begin)
	if fresh {
		m.mapped, m.origin = true, pts
	}
	p, d, err := s.mapPacket(pts, dts)
	if err != nil {
		return 0, 0, false, err
	}
	if dts == noPTS {
		d = s.guessDTS(p, fresh)
	} else if !fresh && d <= s.lastDTS {
		s.remaps.Add(1)
		s.cfg.Log.Warn("file timestamps went back: new PTS mapping", "input", s.cfg.Input,
			"timestamp", pts, "dts", dts, "would_be_dts", int64(d), "last_dts", int64(s.lastDTS))
		m.origin, m.base, fresh = pts, m.prev+m.step, true
		if p, d, err = s.mapPacket(pts, dts); err != nil {
			return 0, 0, false, err
		}
	}
	if fresh {
		least := s.lastDTS
		if m.decoded {
			least += m.step
		}
		if d < least {
			m.base += least - d
			p, d = p+least-d, least
		}
	}
	if m.decoded {
		m.step = d - s.lastDTS
		m.prev = max(m.prev, p)
	} else {
		m.prev = p
	}
	s.lastDTS, m.decoded = d, true
	return p, d, loop, nil
}

// guessDTS returns a DTS for the packet with PTS p that has none (as a
// Matroska file's first packets, before libavformat can work them out
// from the PTS): the first packet of a mapping gets p less one frame step
// for every picture the decoder holds back to reorder, every other the
// last DTS plus one frame step.
func (s *FileSource) guessDTS(p clock.Ticks, fresh bool) clock.Ticks {
	if fresh {
		return p - clock.Ticks(s.d.videoDelay())*s.m.step
	}
	return s.lastDTS + s.m.step
}

// videoDelay returns how many pictures the video's decoder holds back to
// reorder them: its B-frames' depth.
func (d *demuxer) videoDelay() int {
	return int(C.hlsmark_video_delay(codecParameters(d.stream.CodecParameters())))
}

// astiav.CodecParameters must be exactly one pointer: the index is out of
// range (or the constant overflows) and the build fails if go-astiav
// changes it.
var _ = [1]struct{}{}[unsafe.Sizeof(astiav.CodecParameters{})-unsafe.Sizeof(uintptr(0))]

// codecParameters returns the AVCodecParameters behind cp.
func codecParameters(cp *astiav.CodecParameters) *C.AVCodecParameters {
	return *(**C.AVCodecParameters)(unsafe.Pointer(cp))
}

// mapPacket maps pts and dts with the mapping under way; a DTS that is
// noPTS maps to anything (see guessDTS).
func (s *FileSource) mapPacket(pts, dts int64) (clock.Ticks, clock.Ticks, error) {
	if dts == noPTS {
		dts = pts
	}
	m := &s.m
	p, okP := clock.FromTimeBase(pts-m.origin, m.tbNum, m.tbDen)
	d, okD := clock.FromTimeBase(dts-m.origin, m.tbNum, m.tbDen)
	if !okP || !okD {
		return 0, 0, fmt.Errorf("%s: timestamps %d, %d in %d/%d are out of range", m.input, pts, dts, m.tbNum, m.tbDen)
	}
	return m.base + p, m.base + d, nil
}
