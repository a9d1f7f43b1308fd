package playlist

import (
	"bytes"
	"strconv"
	"strings"
	"time"
	"unicode"
)

// DateRangeClass is the CLASS attribute of hlsmark's EXT-X-DATERANGE tags.
const DateRangeClass = "com.hlsmark.marker"

// DateRange is an EXT-X-DATERANGE tag (RFC 8216, section 4.3.2.7): a marker
// seen by any HLS client without hlsmark's API.
type DateRange struct {
	// ID identifies the range; a later DateRange with the same ID replaces it.
	ID string
	// Start is its START-DATE, the program date time of its first frame.
	Start time.Time
	// Duration is its DURATION, or zero while unknown.
	Duration time.Duration
	// Label goes in the X-LABEL attribute.
	Label string
}

// encode writes the tag without its trailing newline.
func (d DateRange) encode(b *bytes.Buffer) {
	b.WriteString(`#EXT-X-DATERANGE:ID="`)
	b.WriteString(quoted(d.ID))
	b.WriteString(`",CLASS="` + DateRangeClass + `",START-DATE="`)
	b.WriteString(FormatTime(d.Start))
	b.WriteByte('"')
	if d.Duration > 0 {
		b.WriteString(",DURATION=")
		b.WriteString(strconv.FormatFloat(d.Duration.Seconds(), 'f', -1, 64))
	}
	b.WriteString(`,X-LABEL="`)
	b.WriteString(quoted(d.Label))
	b.WriteByte('"')
}

// quoted makes s fit an attribute quoted-string, which may hold neither a
// double quote nor a line break (RFC 8216, section 4.2), in a file with no
// control characters but line ends (section 4.1): each control character
// becomes a space. (strings.Map turns invalid UTF-8 into U+FFFD.)
func quoted(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r == '"':
			return '\''
		case unicode.IsControl(r): // CR and LF among them
			return ' '
		}
		return r
	}, s)
}

// FormatTime formats t as program date times and START-DATEs are written:
// RFC 3339 in UTC with milliseconds, the precision HLS clients keep.
func FormatTime(t time.Time) string {
	return t.UTC().Format("2006-01-02T15:04:05.000Z07:00")
}

// dateRanges is a grafov/m3u8 custom segment tag carrying every
// EXT-X-DATERANGE that starts in one segment. grafov keeps one custom tag
// per name and segment, so one value holds them all.
type dateRanges []DateRange

func (dateRanges) TagName() string { return "#EXT-X-DATERANGE:" }

func (rs dateRanges) Encode() *bytes.Buffer {
	var b bytes.Buffer
	for i, r := range rs {
		if i > 0 {
			b.WriteByte('\n')
		}
		r.encode(&b)
	}
	return &b
}

func (rs dateRanges) String() string { return rs.Encode().String() }
