package media

import (
	"strconv"
	"strings"
	"time"

	"github.com/hlsmark/hlsmark/pipeline/clock"
)

// Seq is a media sequence number, as in EXT-X-MEDIA-SEQUENCE.
type Seq uint64

// Segment is a finished MPEG-TS segment on disk.
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
}

// Name returns the segment's file name, as listed in the playlist.
func (s Segment) Name() string { return SegmentName(s.Seq) }

// End returns the PTS just past the segment.
func (s Segment) End() clock.Ticks { return s.FirstPTS + s.Duration }

// Contains reports whether PTS p falls inside the segment.
func (s Segment) Contains(p clock.Ticks) bool { return p >= s.FirstPTS && p < s.End() }

// SegmentName is the file name of segment seq: its decimal number and ".ts".
func SegmentName(seq Seq) string {
	return strconv.FormatUint(uint64(seq), 10) + ".ts"
}

// ParseSegmentName is the inverse of SegmentName. It accepts only the canonical
// form (no sign, no leading zeros, no other characters), so a name it
// accepts can name nothing but a segment file.
func ParseSegmentName(name string) (Seq, bool) {
	digits, ok := strings.CutSuffix(name, ".ts")
	if !ok || digits == "" || len(digits) > 20 || (len(digits) > 1 && digits[0] == '0') {
		return 0, false
	}
	for _, r := range digits {
		if r < '0' || r > '9' {
			return 0, false
		}
	}
	n, err := strconv.ParseUint(digits, 10, 64)
	return Seq(n), err == nil
}
