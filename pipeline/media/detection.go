package media

import (
	"image"

	"github.com/hlsmark/hlsmark/pipeline/clock"
)

// DetectionKind says whether a detection opens or closes an event.
type DetectionKind int

// The kinds of detection.
const (
	Opened DetectionKind = iota + 1
	Closed
)

// Detection is an event seen in the frames: its first frame (Opened) or the
// first frame it is gone from (Closed).
type Detection struct {
	Kind DetectionKind
	// Label names what the detector saw ("mint square", "motion"): the
	// label of the marker the event makes.
	Label string
	// Start is the PTS of the first frame showing the event.
	Start clock.Ticks
	// End is the PTS of the first frame no longer showing it (Closed only).
	End clock.Ticks
	// Cut is set on a Closed detection made because the frames stopped
	// while the event showed (see pipeline.Detector's Stop): End is then
	// where the stream ends.
	Cut bool
	// Box bounds what the detector saw in the event's first frame, in the
	// frame's pixels (Opened only).
	Box image.Rectangle
}
