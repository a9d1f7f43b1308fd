package muxer

import (
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
