package media

import (
	"time"

	"github.com/hlsmark/hlsmark/pipeline/clock"
)

// Seq is a media sequence number, as in EXT-X-MEDIA-SEQUENCE.
type Seq uint64

// Segment is a finished segment on disk, MPEG-TS or fMP4.
type Segment struct {
	Seq Seq `json:"seq"`
	// Path is the file's path.
	Path string `json:"-"`
	// FirstPTS is the PTS of the segment's first frame, an IDR.
	FirstPTS clock.Ticks `json:"first_pts"`
	// Duration runs from FirstPTS to the next segment's FirstPTS (for the
	// last segment of a run, to its last frame's PTS plus one frame
	// interval).
	Duration clock.Ticks `json:"duration"`
	// Start is the wall-clock time of the first frame.
	Start time.Time `json:"start"`
	// Size is the file's size in bytes.
	Size int64 `json:"size"`
	// Frames counts the packets in the segment.
	Frames int `json:"frames"`
	// Discontinuity marks a segment whose timestamps do not follow on from
	// the segment before it (EXT-X-DISCONTINUITY), as after a restart.
	Discontinuity bool `json:"discontinuity,omitempty"`
	// Format is the segment's container; fMP4 media segments play after
	// their stream's init segment.
	Format Format `json:"format,omitempty"`
	// Init is, for an fMP4 segment, the first segment of its run: the
	// segment plays after the init segment RunInitName(Init), written
	// when the run began.
	Init Seq `json:"init,omitempty"`
}

// Name returns the segment's file name, as listed in the playlist.
func (s Segment) Name() string { return s.Format.SegmentName(s.Seq) }

// End returns the PTS just past the segment.
func (s Segment) End() clock.Ticks { return s.FirstPTS + s.Duration }

// Contains reports whether PTS p falls inside the segment.
func (s Segment) Contains(p clock.Ticks) bool { return p >= s.FirstPTS && p < s.End() }

// SegmentName is the file name of MPEG-TS segment seq: its decimal number
// and ".ts" (TS.SegmentName).
func SegmentName(seq Seq) string { return TS.SegmentName(seq) }

// ParseSegmentName is the inverse of SegmentName (TS.ParseSegmentName).
func ParseSegmentName(name string) (Seq, bool) { return TS.ParseSegmentName(name) }
