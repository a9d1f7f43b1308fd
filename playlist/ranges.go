package playlist

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/hlsmark/hlsmark/pipeline/media"
)

// A live playlist may only grow at its end and lose its head (RFC 8216,
// section 6.2.1), so a line once served never changes: every
// EXT-X-DATERANGE is written once, at the end of the playlist as it stands
// then (before the next segment to come), and stays byte for byte the same
// until its range no longer covers any listed segment.
//
// A marker's duration is often unknown when its tag is written (a
// detector's event is still showing). When it becomes known, a second tag
// with the same ID, repeating every attribute of the first unchanged, adds
// DURATION. RFC 8216bis (section 4.4.5.1) lets a server augment a date
// range so, and makes the client consolidate the tags; RFC 8216 itself asks
// only that an attribute appearing in both tags have the same value, which
// the repeat keeps. hls.js merges tags with the same ID into one DateRange
// (src/loader/date-range.ts), keeps the first START-DATE, and declares the
// range invalid if a repeated attribute differs, hence the byte-identical
// repeat. Safari's AVFoundation consolidates augmenting tags as Apple's
// specification describes (HLS interstitials are updated that way).
// Waiting for the duration before writing anything was the alternative: it
// would hide every marker from players for as long as its event lasts, and
// an event longer than the window would leave before it was ever listed.

// tag is one EXT-X-DATERANGE line as listed.
type tag struct {
	r DateRange
	// before is the sequence number of the segment the tag is written
	// before: the one that followed the playlist's last segment when the
	// tag was added. Tags whose segment left the window are written before
	// the first listed segment.
	before media.Seq
	// afterEnd marks a tag added after Close: it follows EXT-X-ENDLIST.
	afterEnd bool
}

// rangeState is what the tags listed for one ID say together.
type rangeState struct {
	first DateRange // as the first tag wrote it
	// duration is the DURATION a later tag added, or the first's.
	duration time.Duration
	open     bool // as the latest SetDateRange said
}

// merged returns the range the tags state together.
func (s *rangeState) merged() DateRange {
	r := s.first
	r.Duration, r.Open = s.duration, s.open
	return r
}

// ErrTooManyDateRanges is returned for a date range not listed because the
// playlist lists as many as it may (Config.MaxDateRanges). Listed tags may
// not be removed while they cover a listed segment (RFC 8216, section
// 6.2.1), so it is the new one that waits out: its marker is still stored
// and served by the API; only players reading the playlist alone miss it.
var ErrTooManyDateRanges = errors.New("playlist: too many date ranges")

// maxRanges returns the most date ranges listed at once.
func (p *Playlist) maxRanges() int {
	if p.cfg.MaxDateRanges > 0 {
		return p.cfg.MaxDateRanges
	}
	return DefaultMaxDateRanges
}

// setRangeLocked lists r (see SetDateRange) and reports whether anything
// changed.
func (p *Playlist) setRangeLocked(r DateRange) (bool, error) {
	st, listed := p.ranges[r.ID]
	if !listed {
		if !p.coversWindowLocked(r) {
			return false, nil // it ended before the window: nothing to list
		}
		if len(p.ranges) >= p.maxRanges() {
			return false, fmt.Errorf("%w: %d listed; %q is not", ErrTooManyDateRanges, len(p.ranges), r.ID)
		}
		p.ranges[r.ID] = &rangeState{first: r, duration: r.Duration, open: r.Open}
		p.tags = append(p.tags, tag{r: r, before: p.next, afterEnd: p.closed})
		return true, nil
	}
	was := st.merged()
	switch {
	case !r.Start.Equal(was.Start) || r.Label != was.Label:
		return false, fmt.Errorf("playlist: date range %q is listed with START-DATE %s and X-LABEL %q; a listed tag cannot change (RFC 8216, section 6.2.1)",
			r.ID, FormatTime(was.Start), was.Label)
	case r.Duration == was.Duration:
		open := r.Open && r.Duration == 0
		changed := open != st.open
		st.open = open
		return changed, nil
	case was.Duration != 0:
		return false, fmt.Errorf("playlist: date range %q is listed with DURATION %v; a listed tag cannot change (RFC 8216, section 6.2.1)", r.ID, was.Duration)
	}
	// The duration became known: a second tag adds it, unless the range
	// now ends before the window, where it no longer belongs.
	add := was
	add.Duration, add.Open = r.Duration, false
	st.duration, st.open = r.Duration, false
	if !p.coversWindowLocked(add) {
		p.dropRangesLocked()
		return true, nil
	}
	p.tags = append(p.tags, tag{r: add, before: p.next, afterEnd: p.closed})
	return true, nil
}

// coversWindowLocked reports whether r covers a listed segment or lies
// past the first one's start: whether it may be listed. With no segment
// listed, every range may. Times are compared as the playlist writes them
// (START-DATE rounded up, PROGRAM-DATE-TIME down, to the millisecond), so
// that a range stays while any client, reading the written dates, finds
// it covering a listed segment.
func (p *Playlist) coversWindowLocked(r DateRange) bool {
	if len(p.segs) == 0 || r.Open {
		return true
	}
	first, start := pdtDate(p.segs[0].Start), startDate(r.Start)
	if r.Duration == 0 { // an instant covers the segment it falls in
		return !start.Before(first)
	}
	return start.Add(r.Duration).After(first)
}

// dropRangesLocked removes every tag of the ranges that no longer cover a
// listed segment.
func (p *Playlist) dropRangesLocked() {
	gone := map[string]bool{}
	for id, st := range p.ranges {
		if !p.coversWindowLocked(st.merged()) {
			gone[id] = true
			delete(p.ranges, id)
		}
	}
	if len(gone) > 0 {
		p.tags = slices.DeleteFunc(p.tags, func(t tag) bool { return gone[t.r.ID] })
	}
}

// SetDateRange lists date ranges, or adds the DURATION that became known
// to ranges already listed, in one change of the playlist. A new range is
// written at the playlist's end, and stays listed while it covers a listed
// segment (or starts after the last one); one that ended before the window
// is not listed. For a listed range, only the Duration may be added
// (through a second tag, see above) and Open cleared; a range set again as
// it was listed changes nothing; any other change is refused with an
// error, and the other ranges are still set.
func (p *Playlist) SetDateRange(rs ...DateRange) error {
	rs = slices.Clone(rs)
	slices.SortStableFunc(rs, func(a, b DateRange) int {
		if c := a.Start.Compare(b.Start); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	p.mu.Lock()
	defer p.mu.Unlock()
	var errs []error
	changed := false
	for _, r := range rs {
		c, err := p.setRangeLocked(r)
		if err != nil {
			errs = append(errs, err)
		}
		changed = changed || c
	}
	if changed {
		p.changedLocked(false)
	}
	return errors.Join(errs...)
}

// ReviseDateRange sets r as SetDateRange does, for a marker that may have
// been edited since its range was listed. A listed range keeps what its
// tags say (RFC 8216, section 6.2.1: a served tag never changes): r's
// START-DATE and X-LABEL are not taken, nor its DURATION where one is
// listed; only a DURATION the range lacks is added (a second tag), and
// Open as SetDateRange takes it. An unlisted range is listed as r says.
// ErrTooManyDateRanges says when there is no room for it.
func (p *Playlist) ReviseDateRange(r DateRange) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if st, listed := p.ranges[r.ID]; listed {
		was := st.merged()
		r.Start, r.Label = was.Start, was.Label
		if was.Duration != 0 || r.Duration == 0 {
			r.Duration = was.Duration
		}
	}
	changed, err := p.setRangeLocked(r)
	if changed {
		p.changedLocked(false)
	}
	return err
}

// EndDateRange ends a listed open range whose marker was deleted, so that
// no DURATION will come: its tag stays as served, and it leaves the
// playlist as an instant does, with the segment its start falls in. Any
// other range is left as it is.
func (p *Playlist) EndDateRange(id string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if st, listed := p.ranges[id]; listed && st.open {
		st.open = false
		p.changedLocked(false)
	}
}
