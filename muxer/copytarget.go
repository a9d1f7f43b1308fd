package muxer

import (
	"time"

	"github.com/hlsmark/hlsmark/pipeline/clock"
)

// CopyTarget returns the target duration for a stream whose keyframes
// are its source's (--codec copy), the muxer being unable to cut anywhere
// else: the least duration, trying segment itself and then whole seconds
// above it, for which every segment the muxer would cut from keys (the
// keyframes' PTS, ascending) by its rule (at the first keyframe at least
// the target after the segment's start), the last one ending at end,
// lasts at most Longest of it, so that its EXTINF rounds to at most
// EXT-X-TARGETDURATION. Keys must hold at least one PTS, the first
// before end. A file's longest GOP is thus a lower bound, not the answer:
// GOPs of 1.9 s and 2.5 s cut at a target of 2 s make segments of 4.4 s.
func CopyTarget(segment time.Duration, keys []clock.Ticks, end clock.Ticks) time.Duration {
	t := segment
	for !fits(clock.FromDuration(t), Longest(t), keys, end) {
		t = t.Truncate(time.Second) + time.Second
	}
	return t
}

// fits reports whether every segment cut from keys at target lasts at
// most longest. Once target reaches end - keys[0], the whole file is one
// segment: the search above ends there at the latest.
func fits(target, longest clock.Ticks, keys []clock.Ticks, end clock.Ticks) bool {
	start := keys[0]
	for _, k := range keys[1:] {
		if !due(start, k, target) {
			continue
		}
		if k-start > longest {
			return false
		}
		start = k
	}
	return end-start <= longest
}

// due reports whether a keyframe at PTS key ends the segment that began
// at PTS start, for target duration target: the muxer's cut rule.
func due(start, key, target clock.Ticks) bool {
	return key-start >= target
}
