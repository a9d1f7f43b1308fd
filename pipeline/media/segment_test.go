package media_test

import (
	"math"
	"testing"

	"github.com/hlsmark/hlsmark/pipeline/media"
)

// casesCanonicalName are segment numbers and the only names that may stand
// for them.
var casesCanonicalName = []struct {
	seq  media.Seq
	name string
}{
	{0, "0.ts"},
	{1, "1.ts"},
	{9, "9.ts"},
	{10, "10.ts"},
	{1234567890, "1234567890.ts"},
	{math.MaxUint64, "18446744073709551615.ts"},
}

func TestSegmentNameRoundTrip(t *testing.T) {
	for _, c := range casesCanonicalName {
		t.Run(c.name, func(t *testing.T) {
			if got := media.SegmentName(c.seq); got != c.name {
				t.Fatalf("SegmentName(%d) = %q, want %q", c.seq, got, c.name)
			}
			if got := (media.Segment{Seq: c.seq}).Name(); got != c.name {
				t.Fatalf("Segment.Name() = %q, want %q", got, c.name)
			}
			seq, ok := media.ParseSegmentName(c.name)
			if !ok || seq != c.seq {
				t.Fatalf("ParseSegmentName(%q) = %d, %v; want %d, true", c.name, seq, ok, c.seq)
			}
		})
	}
}

// casesNotAName are names a request may carry that must not be taken for
// a segment: each would either name another file or alias a canonical one.
var casesNotAName = []struct {
	name, input string
}{
	{"empty", ""},
	{"suffix only", ".ts"},
	{"no suffix", "12"},
	{"leading zero", "01.ts"},
	{"zeros", "00.ts"},
	{"plus sign", "+1.ts"},
	{"minus sign", "-1.ts"},
	{"dot dot", ".."},
	{"parent", "../1.ts"},
	{"trailing slash", "1.ts/"},
	{"folder", "a/1.ts"},
	{"backslash", `..\1.ts`},
	{"percent-encoded dot", "%2e"},
	{"percent in digits", "1%2e.ts"},
	{"upper-case suffix", "1.TS"},
	{"leading space", " 1.ts"},
	{"trailing space", "1.ts "},
	{"temporary file", ".1.ts.tmp"},
	{"temporary suffix", "1.ts.tmp"},
	{"double suffix", "1.ts.ts"},
	{"exponent", "1e3.ts"},
	{"hex", "0x1.ts"},
	{"underscore", "1_000.ts"},
	{"NUL", "1\x00.ts"},
	{"full-width digit", "\uff11.ts"},
	{"arabic-indic digit", "\u0661.ts"},
	{"one past the largest", "18446744073709551616.ts"},
	{"overflow", "99999999999999999999.ts"},
	{"21 digits", "100000000000000000000.ts"},
}

func TestParseSegmentNameRejects(t *testing.T) {
	for _, c := range casesNotAName {
		t.Run(c.name, func(t *testing.T) {
			if seq, ok := media.ParseSegmentName(c.input); ok {
				t.Fatalf("ParseSegmentName(%q) = %d, true; want it rejected", c.input, seq)
			}
		})
	}
}
