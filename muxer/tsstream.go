package muxer

import (
	"fmt"

	"github.com/asticode/go-astiav"

	"github.com/hlsmark/hlsmark/pipeline/clock"
	"github.com/hlsmark/hlsmark/pipeline/media"
)

// tsStream is one libavformat mpegts muxer kept over consecutive segments,
// its output switched from one segment's file to the next at each cut, as
// libavformat's own hls muxer does. One muxer, not one per file, is what
// keeps every PID's continuity counter (PAT, PMT, SDT, video) going on
// from segment to segment, as RFC 8216 section 3 requires: a player reads
// the segments as one transport stream.
type tsStream struct {
	fc *astiav.FormatContext
}

// noOutput is a format context's output when it has none (a NULL pb).
var noOutput = &astiav.IOContext{}

// newTSStream returns an mpegts muxer writing into out. If discontinuous,
// the first packet of every PID carries the discontinuity indicator: the
// counters start again at 0 and do not follow those of the segment before,
// which an earlier run or a lost segment left.
func newTSStream(out *astiav.IOContext, size media.Size, fps int, discontinuous bool) (_ *tsStream, err error) {
	of := astiav.FindOutputFormat("mpegts")
	if of == nil {
		return nil, errNoMpegts
	}
	fc, err := astiav.AllocOutputFormatContext(of, "", "")
	if err != nil {
		return nil, fmt.Errorf("alloc format context: %w", err)
	}
	s := &tsStream{fc: fc}
	defer func() {
		if err != nil {
			s.free()
		}
	}()
	st, err := addVideoStream(fc, size, fps, nil)
	if err != nil {
		return nil, err
	}
	fc.SetPb(out)
	opts := astiav.NewDictionary()
	defer opts.Free()
	// mpegts_copyts writes PTS as given; without it the muxer adds its
	// max_delay to every timestamp. Negative-timestamp shifting is off
	// too: a shift would move the PTS away from the generator's.
	set := map[string]string{"mpegts_copyts": "1", "avoid_negative_ts": "disabled"}
	if discontinuous {
		set["mpegts_flags"] = "+initial_discontinuity"
	}
	for k, v := range set {
		if err := opts.Set(k, v, 0); err != nil {
			return nil, fmt.Errorf("option %s: %w", k, err)
		}
	}
	if err := fc.WriteHeader(opts); err != nil {
		return nil, fmt.Errorf("write header: %w", err)
	}
	if tb := st.TimeBase(); tb.Num() != 1 || tb.Den() != clock.Hz {
		return nil, fmt.Errorf("mpegts changed the time base to %d/%d", tb.Num(), tb.Den())
	}
	return s, nil
}

// switchTo makes out, the next segment's file, the muxer's output, and has
// the muxer write SDT, PAT and PMT again before the next packet, so that
// the segment can be read on its own. Call it after end.
func (s *tsStream) switchTo(out *astiav.IOContext) error {
	s.fc.SetPb(out)
	return setMuxerOption(s.fc, "mpegts_flags", "+resend_headers")
}

// write writes pkt, whose payload is p.Data, stamped with p's timestamps.
// WriteFrame (av_write_frame) neither takes pkt nor copies its payload.
func (s *tsStream) write(pkt *astiav.Packet, p media.Packet) error {
	pkt.SetPts(int64(p.PTS))
	pkt.SetDts(int64(p.DTS))
	pkt.SetStreamIndex(0)
	if p.Key {
		pkt.SetFlags(pkt.Flags().Add(astiav.PacketFlagKey))
	}
	if err := s.fc.WriteFrame(pkt); err != nil {
		return fmt.Errorf("write packet at %s: %w", p.PTS, err)
	}
	return nil
}

// end flushes whatever the muxer holds into the current output, which
// then holds the whole segment, and detaches it. The output stays open.
// A TS packet has no duration: next is not needed.
func (s *tsStream) end(clock.Ticks) error {
	err := s.fc.WriteFrame(nil) // av_write_frame(NULL): flush
	s.fc.SetPb(noOutput)
	return err
}

// close writes the trailer into the current output and detaches it. The
// output stays open; the muxer can only be freed after.
func (s *tsStream) close() error {
	err := s.fc.WriteTrailer()
	s.fc.SetPb(noOutput)
	return err
}

// free detaches the output, if any, without writing to it, and frees the
// muxer.
func (s *tsStream) free() {
	s.fc.SetPb(noOutput)
	s.fc.Free()
	s.fc = nil
}
