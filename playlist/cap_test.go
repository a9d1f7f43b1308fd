package playlist_test

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/hlsmark/hlsmark/playlist"
)

// TestDateRangeCap lists at most MaxDateRanges ranges at once: past it a
// new one is refused with ErrTooManyDateRanges and the playlist does not
// change; once the listed ranges have left with their segments, new ones
// are listed again.
func TestDateRangeCap(t *testing.T) {
	p, mk := newPlaylist(t, playlist.Config{Window: 2 * time.Second, Grace: 3 * time.Second, Target: time.Second, MaxDateRanges: 3})
	first := mk.make(time.Second)
	add(t, p, first)
	at := func(i int) playlist.DateRange {
		return playlist.DateRange{ID: fmt.Sprintf("marker-%d", i), Start: first.Start.Add(time.Duration(i) * time.Millisecond), Label: "m"}
	}
	setRanges(t, p, at(1), at(2), at(3))
	before := string(p.Encoded())
	err := p.SetDateRange(at(4))
	if !errors.Is(err, playlist.ErrTooManyDateRanges) {
		t.Fatalf("a fourth range: %v, want ErrTooManyDateRanges", err)
	}
	flush(t, p)
	if got := string(p.Encoded()); got != before {
		t.Fatalf("a refused range changed the playlist:\n%s\nwas\n%s", got, before)
	}
	if n := len(dateRanges(t, p.Encoded())); n != 3 {
		t.Fatalf("%d ranges listed, want 3", n)
	}
	// The first segment, and the instants in it, leave the window.
	add(t, p, mk.make(time.Second), mk.make(time.Second), mk.make(time.Second))
	later := playlist.DateRange{ID: "marker-5", Start: p.Segments()[0].Start, Label: "m"}
	setRanges(t, p, later)
	listed := dateRanges(t, p.Encoded())
	if len(listed) != 1 || listed[0].attrs["ID"] != "marker-5" {
		t.Fatalf("after the window moved on, ranges %v; want marker-5 alone", listed)
	}
}
