package marker

import (
	"strings"
	"time"

	"github.com/hlsmark/hlsmark/pipeline/clock"
	"github.com/hlsmark/hlsmark/playlist"
)

// Filter selects markers for a search. Its zero value selects every
// marker. Every bound includes its end.
type Filter struct {
	// FromPTS and ToPTS, if set, bound the marker's PTS.
	FromPTS, ToPTS *clock.Ticks
	// FromTime and ToTime, if set, bound the marker's time as the API and
	// the playlist write it (its program_date_time: milliseconds, rounded
	// up; playlist.MarkerTime), so that a marker's own time finds it.
	FromTime, ToTime *time.Time
	// Source, if not empty, is the only source selected.
	Source Source
	// LabelPrefix, if not empty, selects the labels that start with it
	// (case-sensitive; a whole label is a prefix of itself).
	LabelPrefix string
}

// Match reports whether the filter selects m, a marker of the stream
// whose timeline is tl.
func (f Filter) Match(m Marker, tl clock.Timeline) bool {
	switch {
	case f.FromPTS != nil && m.PTS < *f.FromPTS, f.ToPTS != nil && m.PTS > *f.ToPTS:
		return false
	case f.Source != "" && m.Source != f.Source:
		return false
	case !strings.HasPrefix(m.Label, f.LabelPrefix):
		return false
	}
	if f.FromTime == nil && f.ToTime == nil {
		return true
	}
	t := playlist.MarkerTime(tl.Time(m.PTS))
	return (f.FromTime == nil || !t.Before(*f.FromTime)) && (f.ToTime == nil || !t.After(*f.ToTime))
}

// Zero reports whether the filter selects every marker.
func (f Filter) Zero() bool { return f == Filter{} }
