package pipeline

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/hlsmark/hlsmark/pipeline/clock"
)

// Size is a frame size in pixels.
type Size struct {
	Width, Height int
}

// ParseSize parses "WIDTHxHEIGHT". Both must be even (YUV 4:2:0 halves the
// chroma planes) and between 16 and 7680.
func ParseSize(s string) (Size, error) {
	w, h, ok := strings.Cut(s, "x")
	if !ok {
		return Size{}, fmt.Errorf("size %q: want WIDTHxHEIGHT, like 1280x720", s)
	}
	width, err1 := strconv.Atoi(w)
	height, err2 := strconv.Atoi(h)
	if err1 != nil || err2 != nil {
		return Size{}, fmt.Errorf("size %q: want WIDTHxHEIGHT, like 1280x720", s)
	}
	sz := Size{width, height}
	return sz, sz.Validate()
}

// Validate reports whether the size can be encoded.
func (s Size) Validate() error {
	if s.Width < 16 || s.Height < 16 || s.Width > 7680 || s.Height > 7680 {
		return fmt.Errorf("size %s: each side must be from 16 to 7680 pixels", s)
	}
	if s.Width%2 != 0 || s.Height%2 != 0 {
		return fmt.Errorf("size %s: width and height must be even", s)
	}
	return nil
}

// String formats the size as WIDTHxHEIGHT.
func (s Size) String() string {
	return strconv.Itoa(s.Width) + "x" + strconv.Itoa(s.Height)
}

// Frame is one picture and the generator timestamp it was made at. Once
// converted (by Convert, or by Encoder.Encode) it holds libav memory: call
// Free when done with it. Pipeline.Run frees the frames it allocates.
type Frame struct {
	// PTS is the frame's generator timestamp: the generator clock's reading
	// when the frame was made, minus the stream epoch, floored to the tick.
	PTS clock.Ticks
	// Size is the picture's size.
	Size Size
	// BGR holds the picture as packed 8-bit blue, green, red (libav's
	// bgr24), Size.Width*3 bytes a row: the byte order swscale converts to
	// YUV420P on its fast, unscaled path.
	BGR []byte
	// Event is the id of the generator event visible in this frame, or 0.
	// It is the source's ground truth for tests; the detector never reads it.
	Event int

	yuv *picture // set by Convert, released by Free
}

// NewFrame allocates a black frame of the given size.
func NewFrame(s Size) *Frame {
	return &Frame{Size: s, BGR: make([]byte, s.Width*s.Height*3)}
}
