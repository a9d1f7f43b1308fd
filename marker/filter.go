package marker

import (
	"strings"

	"github.com/hlsmark/hlsmark/pipeline/clock"
)

// Filter selects markers for a search. Its zero value selects every
// marker.
type Filter struct {
	// From and To, if set, bound the marker's PTS, both included.
	From, To *clock.Ticks
	// Source, if not empty, is the only source selected.
	Source Source
	// LabelPrefix, if not empty, selects labels that start with it
	// (case-sensitive; a whole label is a prefix of itself).
	LabelPrefix string
}

// Match reports whether the filter selects m.
func (f Filter) Match(m Marker) bool {
	switch {
	case f.From != nil && m.PTS < *f.From:
		return false
	case f.To != nil && m.PTS > *f.To:
		return false
	case f.Source != "" && m.Source != f.Source:
		return false
	}
	return strings.HasPrefix(m.Label, f.LabelPrefix)
}

// Zero reports whether the filter selects every marker.
func (f Filter) Zero() bool {
	return f.From == nil && f.To == nil && f.Source == "" && f.LabelPrefix == ""
}
