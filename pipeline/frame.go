package pipeline

import (
	"github.com/hlsmark/hlsmark/pipeline/clock"
	"github.com/hlsmark/hlsmark/pipeline/media"
)

// Frame is one picture and the generator timestamp it was made at, or,
// from a source that passes H.264 through, one encoded picture (Coded). Once
// converted (by Convert, or by Encoder.Encode) it holds libav memory: call
// Free when done with it. Pipeline.Run frees the frames it allocates.
type Frame struct {
	// PTS is the frame's generator timestamp: the generator clock's reading
	// when the frame was made, minus the stream epoch, floored to the tick.
	PTS clock.Ticks
	// Size is the picture's size.
	Size media.Size
	// BGR holds the picture as packed 8-bit blue, green, red (libav's
	// bgr24), Size.Width*3 bytes a row: the byte order swscale converts to
	// YUV420P on its fast, unscaled path.
	BGR []byte
	// Event is the id of the generator event visible in this frame, or 0.
	// It is the source's ground truth for tests; the detector never reads it.
	Event int
	// Discontinuity marks the first frame after a break in the source's
	// timeline (a reconnection, a leap in its timestamps): the encoder makes
	// it an IDR and the muxer starts a new segment there, marked
	// EXT-X-DISCONTINUITY. Sources set it on that frame only; the pipeline
	// clears it before asking for the next.
	Discontinuity bool
	// Coded, for a source that passes encoded video through (--codec
	// copy), is the frame's H.264 access unit, Annex B with SPS and PPS
	// in front of every IDR, in decode order: the Passthrough encoder
	// forwards it, and BGR is not used. It is empty for a picture.
	Coded []byte
	// DTS is Coded's decode timestamp, mapped with the same offset as
	// PTS; PTS is its presentation timestamp.
	DTS clock.Ticks
	// Key marks Coded as a keyframe (an IDR), where a segment may start.
	Key bool

	yuv *picture // set by Convert, released by Free
}

// NewFrame allocates a black frame of the given size.
func NewFrame(s media.Size) *Frame {
	return &Frame{Size: s, BGR: make([]byte, s.Width*s.Height*3)}
}
