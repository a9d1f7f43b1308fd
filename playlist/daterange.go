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
	// ID identifies the range. A later DateRange with the same ID may add
	// the DURATION, and change nothing else (see Playlist.SetDateRange).
	ID string
	// Start is its START-DATE, the program date time of its first frame.
	Start time.Time
	// Duration is its DURATION, or zero if it has none.
	Duration time.Duration
	// Open says the range has not ended: its duration is not known yet,
	// and it covers every segment from its start on, so it stays listed
	// until a later DateRange with the same ID gives its Duration. A range
	// neither Open nor given a Duration is an instant: it covers the
	// segment its start falls in.
	Open bool
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

// dateLayout is RFC 3339 in UTC with milliseconds, the precision HLS
// clients keep (hls.js and Safari read dates into milliseconds).
const dateLayout = "2006-01-02T15:04:05.000Z07:00"

// FormatTime formats a marker's time as its START-DATE and the API's
// program_date_time are written: RFC 3339 in UTC with milliseconds,
// rounded up to the millisecond.
//
// The rounding pairs with formatPDT's, which rounds segment program date
// times down: a client that maps a START-DATE to the media timeline through
// the PROGRAM-DATE-TIME of the segment holding it gets START-DATE − PDT,
// which is then at least the marker frame's true offset in the segment and
// less than 2 ms past it. Every frame rate hlsmark takes (at most 240 fps)
// puts the next frame more than 4 ms later, so the client lands on the
// marker's frame, never on the one before. Rounding both the same way
// would not do: each could err by up to 1 ms in opposite directions.
//
// (Timeline.Time rounds a PTS up to the nanosecond, and a millisecond is
// a whole number of nanoseconds, so rounding its result up to the
// millisecond is rounding the PTS's exact time up.)
func FormatTime(t time.Time) string {
	return startDate(t).Format(dateLayout)
}

// MarkerTime is a marker's time as FormatTime writes it: in UTC, rounded
// up to the millisecond. A search by time compares it, so that a marker's
// own program_date_time finds it.
func MarkerTime(t time.Time) time.Time { return startDate(t) }

// startDate is a marker time as FormatTime writes it: in UTC, rounded up
// to the millisecond.
func startDate(t time.Time) time.Time {
	t = t.UTC()
	if sub := t.Nanosecond() % int(time.Millisecond); sub != 0 {
		t = t.Add(time.Millisecond - time.Duration(sub))
	}
	return t
}

// formatPDT formats a segment's EXT-X-PROGRAM-DATE-TIME: RFC 3339 in UTC
// with milliseconds, rounded down, so that it never lies after its first
// frame's true time. See FormatTime.
func formatPDT(t time.Time) string {
	return pdtDate(t).Format(dateLayout)
}

// pdtDate is a segment's start as formatPDT writes it: in UTC, rounded
// down to the millisecond.
func pdtDate(t time.Time) time.Time {
	t = t.UTC()
	return t.Add(-time.Duration(t.Nanosecond() % int(time.Millisecond)))
}
