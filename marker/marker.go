// Package marker keeps a stream's timeline markers: events seen in the video
// (by the detector) or posted by external detectors, stored durably and
// placed exactly in the stream.
//
// A marker's time is the PTS of the first frame in which its event is
// visible. Its position in the stream (media sequence number and offset)
// is derived from the playlist when read, so it is exact whatever the
// segment durations, and null once the segment has left the window.
package marker

import (
	"encoding/json"
	"errors"
	"time"

	"github.com/hlsmark/hlsmark/pipeline/clock"
)

// ID identifies a marker within its stream. IDs rise in creation order.
type ID uint64

// Rev orders the changes to a stream's markers: every created or changed
// marker gets the stream's next revision. Server-Sent Events use it as the
// event id, so a client resuming from a revision misses no change.
type Rev uint64

// Source says where a marker came from.
type Source string

// The marker sources.
const (
	FromDetector Source = "detector"
	FromAPI      Source = "api"
)

// Marker is one stored marker.
type Marker struct {
	ID    ID     `json:"id"`
	Label string `json:"label"`
	// PTS is the PTS of the first frame showing the event.
	PTS clock.Ticks `json:"pts"`
	// Duration is how long the event lasted, or 0 while unknown.
	Duration clock.Ticks     `json:"duration"`
	Source   Source          `json:"source"`
	Data     json.RawMessage `json:"data,omitempty"`
	Created  time.Time       `json:"created"`
	// Rev is the revision of the marker's last change; CreatedRev that of
	// its creation.
	Rev        Rev `json:"rev"`
	CreatedRev Rev `json:"created_rev"`
	// Deleted marks a tombstone: the marker was deleted at revision Rev.
	// The store keeps it so that Changes reports the deletion (an event
	// stream resuming from before it learns of it); Get, Update and List
	// treat it as gone.
	Deleted bool `json:"deleted,omitempty"`
}

// ErrNotFound is returned for a marker that does not exist.
var ErrNotFound = errors.New("marker not found")
