package muxer_test

import (
	"testing"
	"time"

	"github.com/hlsmark/hlsmark/muxer"
	"github.com/hlsmark/hlsmark/pipeline/clock"
)

// at returns seconds (a decimal string, to the millisecond) as ticks.
func at(s float64) clock.Ticks { return clock.FromDuration(time.Duration(s * float64(time.Second))) }

// casesCopyTarget are files' keyframes and ends, with the target duration
// --codec copy needs for them, worked out by hand from the cut rule (a
// cut at the first keyframe at least the target after the segment's
// start) and EXTINF's rounding (at most the target rounded up, plus
// 0.499 s).
var casesCopyTarget = []struct {
	name    string
	segment time.Duration
	keys    []float64
	end     float64
	want    time.Duration
}{
	{"GOPs shorter than the segment keep it", 2 * time.Second, []float64{0, 1, 2, 3, 4}, 5, 2 * time.Second},
	{"a fractional segment that fits stays", 1500 * time.Millisecond, []float64{0, 1.5, 3}, 4.5, 1500 * time.Millisecond},
	{"2 s GOPs raise 1 s to 2 s", time.Second, []float64{0, 2, 4, 6}, 8, 2 * time.Second},
	// At 2 s, 3 s and 4 s the first segment runs to 3.92 s or 5 s:
	// longer than 2.499, 3.499 and 4.499 s; the longest GOP (2.72 s) is
	// no answer.
	{"irregular GOPs need 5 s", time.Second, []float64{0, 1.2, 3.92, 5, 7.6}, 9, 5 * time.Second},
	{"a short last GOP", time.Second, []float64{0, 2, 4}, 4.2, 2 * time.Second},
	// A 4 s last GOP: at 4 s or 5 s no keyframe comes 4 s after 0, so
	// the one segment lasts 6 s.
	{"a long last GOP", time.Second, []float64{0, 1, 2}, 6, 6 * time.Second},
	{"one keyframe: one segment", 2 * time.Second, []float64{0}, 10, 10 * time.Second},
	{"1.5 s GOPs under 1.2 s: 1.5 s segments fit 1.2's target of 2", 1200 * time.Millisecond, []float64{0, 1.5, 3, 4.5}, 6, 1200 * time.Millisecond},
}

func TestCopyTarget(t *testing.T) {
	for _, c := range casesCopyTarget {
		t.Run(c.name, func(t *testing.T) {
			keys := make([]clock.Ticks, len(c.keys))
			for i, k := range c.keys {
				keys[i] = at(k)
			}
			if got := muxer.CopyTarget(c.segment, keys, at(c.end)); got != c.want {
				t.Errorf("CopyTarget(%s, %v, %g) = %s, want %s", c.segment, c.keys, c.end, got, c.want)
			}
		})
	}
}
