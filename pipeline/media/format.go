package media

import (
	"fmt"
	"strconv"
	"strings"
)

// Format is the container a stream's segments are written in.
type Format uint8

// The segment formats. The zero value is MPEG-TS, the format of every
// stream recorded before fMP4 existed.
const (
	// TS is MPEG-TS: every segment plays on its own ({seq}.ts).
	TS Format = iota
	// FMP4 is fragmented MP4 (CMAF): one init segment (InitName) with the
	// track's sample entry, then media segments of movie fragments
	// ({seq}.m4s) that play after it.
	FMP4
)

// InitName is the file name of an fMP4 stream's init segment, the URI of
// its playlists' EXT-X-MAP; InitType is its media type.
const (
	InitName = "init.mp4"
	InitType = "video/mp4"
)

// RunInitName is the file name of the init segment of the fMP4 run whose
// first segment is first: "init-{first}.mp4". InitName is the current
// run's; a segment of an earlier run, still listed or retained, plays
// after its own (Segment.Init), which a restart with another picture
// size no longer matches InitName's.
func RunInitName(first Seq) string { return "init-" + strconv.FormatUint(uint64(first), 10) + ".mp4" }

// ParseRunInitName is the inverse of RunInitName.
func ParseRunInitName(name string) (Seq, bool) {
	digits, ok := strings.CutPrefix(name, "init-")
	if !ok {
		return 0, false
	}
	if digits, ok = strings.CutSuffix(digits, ".mp4"); !ok {
		return 0, false
	}
	if digits == "" || (len(digits) > 1 && digits[0] == '0') || strings.TrimLeft(digits, "0123456789") != "" {
		return 0, false
	}
	n, err := strconv.ParseUint(digits, 10, 64)
	return Seq(n), err == nil
}

// Formats lists every format, TS first.
var Formats = []Format{TS, FMP4}

// String returns the format's name as --format takes it: "ts" or "fmp4".
func (f Format) String() string {
	if f == FMP4 {
		return "fmp4"
	}
	return "ts"
}

// ParseFormat is the inverse of String.
func ParseFormat(s string) (Format, error) {
	for _, f := range Formats {
		if s == f.String() {
			return f, nil
		}
	}
	return TS, fmt.Errorf("unknown format %q (want ts or fmp4)", s)
}

// MarshalText writes the format as its name.
func (f Format) MarshalText() ([]byte, error) { return []byte(f.String()), nil }

// UnmarshalText reads a format's name.
func (f *Format) UnmarshalText(b []byte) error {
	v, err := ParseFormat(string(b))
	if err == nil {
		*f = v
	}
	return err
}

// Ext is the file name extension of the format's media segments.
func (f Format) Ext() string {
	if f == FMP4 {
		return ".m4s"
	}
	return ".ts"
}

// ContentType is the media type of the format's media segments (RFC
// 8216 section 4; CMAF, ISO/IEC 23000-19 annex A, for fMP4).
func (f Format) ContentType() string {
	if f == FMP4 {
		return "video/iso.segment"
	}
	return "video/mp2t"
}

// SegmentName is the file name of segment seq in this format: its decimal
// number and Ext.
func (f Format) SegmentName(seq Seq) string {
	return strconv.FormatUint(uint64(seq), 10) + f.Ext()
}

// ParseSegmentName is the inverse of SegmentName. It accepts only the
// canonical form (no sign, no leading zeros, no other characters), so a
// name it accepts can name nothing but a segment file of this format.
func (f Format) ParseSegmentName(name string) (Seq, bool) {
	digits, ok := strings.CutSuffix(name, f.Ext())
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
