package media

import "github.com/hlsmark/hlsmark/pipeline/clock"

// Packet is one encoded H.264 access unit, in Annex B form with SPS and PPS
// in front of every IDR.
type Packet struct {
	// Data is the access unit. The encoder lends it: it is only valid
	// until the function it was passed to returns, so keep a copy, not
	// the slice.
	Data []byte
	// PTS is the PTS of the frame the packet holds: its generator timestamp.
	PTS clock.Ticks
	// DTS is the decode timestamp; it equals PTS unless B-frames are on.
	DTS clock.Ticks
	// Key is set on IDR pictures, where a segment may start.
	Key bool
	// Discontinuity is set on the IDR of a frame that starts a new run of
	// the source's timeline (Frame.Discontinuity): a new segment starts at
	// it, marked discontinuous.
	Discontinuity bool
}
