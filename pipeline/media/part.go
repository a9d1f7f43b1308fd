package media

import (
	"strconv"
	"strings"

	"github.com/hlsmark/hlsmark/pipeline/clock"
)

// Part is a partial segment of Low-Latency HLS: one movie fragment of an
// fMP4 media segment, listed (EXT-X-PART) and served while the segment is
// still being written. A segment's file is its parts' bytes, concatenated
// in index order.
type Part struct {
	// Seq is the sequence number of the segment the part belongs to.
	Seq Seq
	// Index is the part's place in its segment, from 0.
	Index int
	// Start is the PTS the part starts at: its segment's first PTS for
	// part 0.
	Start clock.Ticks
	// Duration runs from the part's first frame to the next part's (to
	// the segment's end for its last part); never more than the part
	// target.
	Duration clock.Ticks
	// Independent says the part starts with an IDR (INDEPENDENT=YES).
	Independent bool
	// Discontinuity is set on the first part of a segment that does not
	// follow on from the one before it (Segment.Discontinuity), so that
	// EXT-X-DISCONTINUITY precedes its parts before the segment is listed.
	Discontinuity bool
	// Data is the fragment's bytes (moof and mdat).
	Data []byte
}

// PartExt ends the name of a part's resource.
const PartExt = ".m4s"

// PartName is the URI of part index of segment seq: "{seq}.{index}.m4s".
// It cannot be taken for a segment's name, which has a single dot.
func PartName(seq Seq, index int) string {
	return strconv.FormatUint(uint64(seq), 10) + "." + strconv.Itoa(index) + PartExt
}

// Name returns the part's URI (PartName).
func (p Part) Name() string { return PartName(p.Seq, p.Index) }

// ParsePartName is the inverse of PartName. Like Format.ParseSegmentName,
// it accepts only the canonical form.
func ParsePartName(name string) (seq Seq, index int, ok bool) {
	digits, rest, found := strings.Cut(name, ".")
	if !found {
		return 0, 0, false
	}
	seq, ok = FMP4.ParseSegmentName(digits + PartExt)
	if !ok {
		return 0, 0, false
	}
	i, ok := FMP4.ParseSegmentName(rest)
	if !ok || i > maxPartIndex {
		return 0, 0, false
	}
	return seq, int(i), true
}

// maxPartIndex bounds the index ParsePartName accepts: far more parts
// than any segment has.
const maxPartIndex = 1 << 20
