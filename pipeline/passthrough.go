package pipeline

import (
	"errors"

	"github.com/hlsmark/hlsmark/pipeline/media"
)

// Coder is the pipeline's encoding stage: it turns frames into H.264
// packets, Annex B with SPS and PPS in front of every IDR. Encoder does it
// with libx264; Passthrough forwards the packets a source read (--codec
// copy).
type Coder interface {
	// Encode takes one frame and passes every packet ready to out.
	Encode(f *Frame, out func(media.Packet) error) error
	// Flush passes the packets still held to out; Encode must not be
	// called after it.
	Flush(out func(media.Packet) error) error
	// Close frees what the coder holds.
	Close()
}

// Passthrough is the Coder of a stream that copies its source's H.264
// (--codec copy): each frame already holds its access unit (Frame.Coded),
// which it forwards with the frame's PTS, DTS and keyframe mark, in the
// order the source read them. It holds nothing, encodes nothing, and
// cannot force an IDR: segments start at the source's keyframes.
type Passthrough struct{}

// errNotCoded is Passthrough's answer to a frame that is a picture.
var errNotCoded = errors.New("passthrough: the frame holds a picture, not H.264 (--codec copy needs a source that reads packets)")

// Encode passes f's access unit to out. A frame that is a picture is
// refused: there is no encoder to turn it into one.
func (Passthrough) Encode(f *Frame, out func(media.Packet) error) error {
	if len(f.Coded) == 0 {
		return errNotCoded
	}
	return out(media.Packet{Data: f.Coded, PTS: f.PTS, DTS: f.DTS, Key: f.Key, Discontinuity: f.Discontinuity && f.Key})
}

// Flush does nothing: Passthrough holds no packet.
func (Passthrough) Flush(func(media.Packet) error) error { return nil }

// Close does nothing: Passthrough holds no libav object.
func (Passthrough) Close() {}
