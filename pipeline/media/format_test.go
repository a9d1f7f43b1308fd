package media_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/hlsmark/hlsmark/pipeline/media"
)

// casesFormatName are the formats, their names and their segment names.
var casesFormatName = []struct {
	format  media.Format
	name    string
	segment string
}{
	{media.TS, "ts", "42.ts"},
	{media.FMP4, "fmp4", "42.m4s"},
}

// TestFormatNames round-trips each format through its name and its
// segment names, and keeps an MPEG-TS segment's JSON as it was before
// formats (no "format" key) while an fMP4 one says so.
func TestFormatNames(t *testing.T) {
	for _, c := range casesFormatName {
		t.Run(c.name, func(t *testing.T) {
			f, err := media.ParseFormat(c.name)
			if err != nil || f != c.format || f.String() != c.name {
				t.Fatalf("ParseFormat(%q) = %v, %v", c.name, f, err)
			}
			if got := (media.Segment{Seq: 42, Format: c.format}).Name(); got != c.segment {
				t.Errorf("segment name %q, want %q", got, c.segment)
			}
			for _, other := range casesFormatName {
				seq, ok := other.format.ParseSegmentName(c.segment)
				if want := other.format == c.format; ok != want || (ok && seq != 42) {
					t.Errorf("%s.ParseSegmentName(%q) = %d, %v; want ok %v", other.name, c.segment, seq, ok, want)
				}
			}
			b, err := json.Marshal(media.Segment{Seq: 1, Format: c.format})
			if err != nil {
				t.Fatal(err)
			}
			var back media.Segment
			if err := json.Unmarshal(b, &back); err != nil || back.Format != c.format {
				t.Errorf("JSON %s reads back as %v (%v)", b, back.Format, err)
			}
			if hasKey := strings.Contains(string(b), `"format"`); hasKey != (c.format != media.TS) {
				t.Errorf("JSON %s: a format key only for fMP4", b)
			}
		})
	}
	for _, bad := range []string{"", "mp4", "TS", "cmaf"} {
		if _, err := media.ParseFormat(bad); err == nil {
			t.Errorf("ParseFormat(%q) accepted", bad)
		}
	}
}

// TestPartNames round-trips part names and refuses what is not one: a
// segment's name, leading zeros, signs, other extensions.
func TestPartNames(t *testing.T) {
	for _, c := range []struct {
		seq   media.Seq
		index int
		name  string
	}{{0, 0, "0.0.m4s"}, {42, 3, "42.3.m4s"}, {18446744073709551615, 12, "18446744073709551615.12.m4s"}} {
		if got := media.PartName(c.seq, c.index); got != c.name {
			t.Errorf("PartName(%d, %d) = %q, want %q", c.seq, c.index, got, c.name)
		}
		seq, index, ok := media.ParsePartName(c.name)
		if !ok || seq != c.seq || index != c.index {
			t.Errorf("ParsePartName(%q) = %d, %d, %v", c.name, seq, index, ok)
		}
	}
	for _, bad := range []string{"42.m4s", "42.03.m4s", "042.3.m4s", "42.3.ts", "42.-3.m4s", "42..m4s", ".3.m4s", "42.3.4.m4s", "42.99999999.m4s"} {
		if seq, index, ok := media.ParsePartName(bad); ok {
			t.Errorf("ParsePartName(%q) = %d, %d, accepted", bad, seq, index)
		}
	}
}

// TestRunInitNames round-trips the names of runs' init segments and
// refuses what is not one: init.mp4, leading zeros, signs, other
// extensions, numbers past a Seq.
func TestRunInitNames(t *testing.T) {
	for _, c := range []struct {
		first media.Seq
		name  string
	}{{0, "init-0.mp4"}, {42, "init-42.mp4"}, {18446744073709551615, "init-18446744073709551615.mp4"}} {
		if got := media.RunInitName(c.first); got != c.name {
			t.Errorf("RunInitName(%d) = %q, want %q", c.first, got, c.name)
		}
		if first, ok := media.ParseRunInitName(c.name); !ok || first != c.first {
			t.Errorf("ParseRunInitName(%q) = %d, %v", c.name, first, ok)
		}
	}
	for _, bad := range []string{"init.mp4", "init-.mp4", "init-042.mp4", "init--4.mp4", "init-+4.mp4", "init-4.m4s", "init-4.mp4.tmp", "init-18446744073709551616.mp4", "4.mp4"} {
		if first, ok := media.ParseRunInitName(bad); ok {
			t.Errorf("ParseRunInitName(%q) = %d, accepted", bad, first)
		}
	}
}
