package muxer

import (
	"errors"
	"fmt"

	"github.com/asticode/go-astiav"

	"github.com/hlsmark/hlsmark/pipeline/clock"
	"github.com/hlsmark/hlsmark/pipeline/media"
)

// container is the libav muxer that writes a run of segments, kept from
// one segment's file to the next: an mpegts muxer (tsStream) or an mp4
// muxer writing movie fragments (fmp4Stream).
type container interface {
	// write adds the packet pkt, whose payload is p.Data, to the current
	// segment.
	write(pkt *astiav.Packet, p media.Packet) error
	// end writes out what the current segment still holds and detaches
	// its output, which stays open. next is the DTS of the packet that
	// follows the segment, or 0 when none does (a cut by late frames, a
	// discontinuity): the duration of the segment's last frame is then
	// estimated.
	end(next clock.Ticks) error
	// close is end for the last segment of the run, with the trailer.
	close() error
	// switchTo makes out, the next segment's file, the output. Call it
	// after end.
	switchTo(out *astiav.IOContext) error
	// free detaches the output, if any, without writing to it, and frees
	// the muxer.
	free()
}

// addVideoStream adds to fc the H.264 stream both containers write: size,
// fps, the 90 kHz time base, and extradata (the parameter sets) if given.
func addVideoStream(fc *astiav.FormatContext, size media.Size, fps int, extradata []byte) (*astiav.Stream, error) {
	st := fc.NewStream(nil)
	if st == nil {
		return nil, errors.New("new stream failed")
	}
	cp := st.CodecParameters()
	cp.SetCodecType(astiav.MediaTypeVideo)
	cp.SetCodecID(astiav.CodecIDH264)
	cp.SetWidth(size.Width)
	cp.SetHeight(size.Height)
	if extradata != nil {
		if err := cp.SetExtraData(extradata); err != nil {
			return nil, fmt.Errorf("extradata: %w", err)
		}
	}
	st.SetTimeBase(astiav.NewRational(1, clock.Hz))
	st.SetAvgFrameRate(astiav.NewRational(fps, 1))
	return st, nil
}
