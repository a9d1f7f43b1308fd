package pipeline

import (
	"github.com/hlsmark/hlsmark/pipeline/clock"
	"github.com/hlsmark/hlsmark/pipeline/media"
)

// Detector finds events in a stream's frames, one frame after the other:
// the mint square (MintDetector) or motion (MotionDetector). It keeps the
// state of the event in progress; use one detector per stream.
type Detector interface {
	// Inspect looks at one frame and reports whether an event opened or
	// closed with it.
	Inspect(f *Frame) (media.Detection, bool)
	// Stop reports the event in progress, if any, as Closed. Call it when
	// the frames stop for good; end is the end of the last frame.
	Stop(end clock.Ticks) (media.Detection, bool)
	// Close frees what the detector holds.
	Close()
}

// NewDetector makes a stream's detector for frames of size s.
type NewDetector func(s media.Size) (Detector, error)
