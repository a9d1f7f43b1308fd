package pipeline

import (
	"fmt"

	"github.com/hlsmark/hlsmark/pipeline/clock"
)

// defaultFrameStep is the frame step assumed before an input's second
// frame when its container gives no frame rate: 25 fps.
const defaultFrameStep clock.Ticks = clock.Hz / 25

// ptsMap maps a decoded input's timestamps to the stream's PTS, one pass
// (a file's play, a network input's connection) at a time.
//
// A frame's PTS is base + FromTimeBase(ts − origin, time base), where ts
// is the frame's best-effort timestamp in its stream's time base and the
// rounding is FromTimeBase's floor. A pass's first frame sets origin to
// its ts and maps to the base the pass began with, or to one frame step
// after the last PTS if that is later. A timestamp that does not rise
// past the last frame's (a backward jump) starts a new mapping: origin is
// its ts and base the last PTS plus one frame step. For a live input, a
// PTS more than a lead ahead of the clock (a leap of the input's
// timestamps) starts one too, at the clock's reading or one frame step
// after the last PTS, whichever is later. PTS never go back. The frame
// step is the last gap between two consecutive frames of one mapping, or
// the input's frame rate before there is one.
//
// A mapping kept by an earlier run of the stream (keepIn) is taken for the
// first frame instead of a new one if it puts that frame within
// resumeSlack of the new one's base: an input whose timestamps ran on
// across the restart (MPEG-TS over UDP or SRT with a running clock) keeps
// its exact mapping, and the restart costs only the frames it missed.
type ptsMap struct {
	input        string // the input's name, for errors
	tbNum, tbDen int64
	mapped       bool        // origin and base hold a mapping for this pass
	origin       int64       // the timestamp, in the time base, that maps to base
	base         clock.Ticks // the PTS origin maps to
	prev         clock.Ticks // the PTS of the last frame mapped
	decoded      bool        // prev is set
	step         clock.Ticks
	// kept is the mapping an earlier run kept, tried for the first frame
	// if that frame's PTS is at least floor.
	kept  *keptMapping
	floor clock.Ticks
	// keep, if set, is given every new mapping, to keep for a restart.
	// Keeping it is a convenience for the next run: it cannot fail this
	// one (see keepIn).
	keep func(keptMapping)
}

// begin starts a pass over an input whose stream has the time base
// num/den seconds and the frame rate rateNum/rateDen (0/0 if unknown): its
// first frame maps to base, or to the last PTS plus one frame step if
// that is later.
func (m *ptsMap) begin(num, den, rateNum, rateDen int64, base clock.Ticks) error {
	if num <= 0 || den <= 0 {
		return fmt.Errorf("%s: time base %d/%d", m.input, num, den)
	}
	m.tbNum, m.tbDen, m.mapped = num, den, false
	if m.step == 0 {
		m.step = defaultFrameStep
		if rateNum > 0 && rateDen > 0 {
			if step, ok := clock.FromTimeBase(1, rateDen, rateNum); ok && step > 0 {
				m.step = step
			}
		}
	}
	m.base = base
	if m.decoded {
		m.base = max(base, m.prev+m.step)
	}
	return nil
}

// pts maps the timestamp ts of the frame just decoded to its PTS. With a
// lead above 0 (a live input), a PTS more than lead past now is a leap of
// the input's timestamps: it starts a new mapping too, at now or one frame
// step after the last PTS, whichever is later. remapped is true when ts
// started a new mapping (a backward jump or a leap).
func (m *ptsMap) pts(ts int64, now, lead clock.Ticks) (pts clock.Ticks, remapped bool, err error) {
	first := !m.mapped
	if first {
		m.mapped, m.origin = true, ts
	}
	rel, ok := clock.FromTimeBase(ts-m.origin, m.tbNum, m.tbDen)
	if !ok {
		return 0, false, fmt.Errorf("%s: timestamp %d in %d/%d is out of range", m.input, ts, m.tbNum, m.tbDen)
	}
	pts = m.base + rel
	if first && m.kept != nil {
		if p, ok := m.resumed(ts); ok {
			m.origin, m.base, pts = m.kept.Origin, m.kept.Base, p
		}
		m.kept = nil
	}
	switch {
	case m.decoded && pts <= m.prev:
		m.origin, m.base = ts, m.prev+m.step
		pts, remapped = m.base, true
	case lead > 0 && pts > now+lead:
		m.origin, m.base = ts, now
		if m.decoded {
			m.base = max(now, m.prev+m.step)
		}
		pts, remapped = m.base, true
	}
	if m.decoded && !first && !remapped {
		m.step = pts - m.prev // a gap within one mapping: the input's own
	}
	m.prev, m.decoded = pts, true
	if (first || remapped) && m.keep != nil {
		m.keep(keptMapping{Input: m.input, TBNum: m.tbNum, TBDen: m.tbDen, Origin: m.origin, Base: m.base})
	}
	return pts, remapped, nil
}

// resumed returns the PTS the kept mapping gives the timestamp ts, and
// whether to take it: same time base, after the last PTS if any, and
// within resumeSlack of the base a new mapping would start at.
func (m *ptsMap) resumed(ts int64) (clock.Ticks, bool) {
	k := m.kept
	if k.TBNum != m.tbNum || k.TBDen != m.tbDen {
		return 0, false
	}
	rel, ok := clock.FromTimeBase(ts-k.Origin, k.TBNum, k.TBDen)
	if !ok {
		return 0, false
	}
	p := k.Base + rel
	if m.decoded && p <= m.prev {
		return 0, false
	}
	return p, p >= m.base-resumeSlack && p <= m.base+resumeSlack && p >= m.floor
}
