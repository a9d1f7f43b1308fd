//go:build cgo

package marker_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hlsmark/hlsmark/marker"

	"github.com/hlsmark/hlsmark/pipeline/pipelinetest"
	"github.com/hlsmark/hlsmark/playlist"
)

// isCut reports whether a marker's data says it was cut.
func isCut(t *testing.T, m marker.Marker) bool {
	t.Helper()
	var data map[string]any
	if err := json.Unmarshal(m.Data, &data); err != nil {
		t.Fatalf("marker %d data %s: %v", m.ID, m.Data, err)
	}
	return data["cut"] == true
}

// TestEventShowingAtStopIsCut stops the stream half-way through an event
// (events at 2 s and 4 s lasting 1 s; the frames stop at 4.5 s): its marker
// is closed at the end of the stream and marked cut, the one before keeps
// its true duration and its box, and the playlist's DATERANGE gets the
// cut marker's DURATION.
func TestEventShowingAtStopIsCut(t *testing.T) {
	r := pipelinetest.Start(t, pipelinetest.Config{Frames: 135, EventEvery: 2 * time.Second, EventDuration: time.Second})
	ms, err := r.Store.List(context.Background(), pipelinetest.Stream, 0, 10)
	if err != nil {
		t.Fatal(err)
	}
	events := r.Source.Events()
	if len(ms) != 2 || len(events) != 2 || events[1].EndPTS != 0 {
		t.Fatalf("%d markers for events %+v: want 2, the last one still showing", len(ms), events)
	}
	whole, cut := ms[0], ms[1]
	if whole.Duration != events[0].EndPTS-events[0].FirstPTS || isCut(t, whole) {
		t.Errorf("first marker: duration %d, data %s; want %d, not cut", whole.Duration, whole.Data, events[0].EndPTS-events[0].FirstPTS)
	}
	last := r.Segments[len(r.Segments)-1]
	if cut.PTS != events[1].FirstPTS || cut.Duration != last.End()-cut.PTS || !isCut(t, cut) {
		t.Errorf("cut marker at %d: duration %d, data %s; want %d to the stream's end at %d, cut",
			cut.PTS, cut.Duration, cut.Data, last.End()-cut.PTS, last.End())
	}
	if !strings.Contains(string(cut.Data), `"width"`) {
		t.Errorf("cut marker lost its box: %s", cut.Data)
	}
	// Its tag was listed while the event showed; the DURATION comes in a
	// second tag with the same ID (see playlist/ranges.go).
	tag := `ID="` + r.Markers.DateRange(cut).ID + `"`
	var lines []string
	for _, line := range strings.Split(string(r.Playlist.Encoded()), "\n") {
		if strings.Contains(line, tag) {
			lines = append(lines, line)
		}
	}
	want := fmt.Sprintf(",DURATION=%s,", strconv.FormatFloat(cut.Duration.Duration().Seconds(), 'f', -1, 64))
	if len(lines) != 2 || strings.Contains(lines[0], ",DURATION=") || !strings.Contains(lines[1], want) {
		t.Errorf("the cut marker's DATERANGE tags %q: want one without DURATION, then one with %s", lines, want)
	}
}

// TestRestoreCutsMarkerLeftOpen simulates a run killed while an event
// showed: its detector marker is stored without a duration. Restoring the
// stream closes it, cut, at the end of the last segment written, and
// leaves markers from the API, whose duration may be unknown, alone.
func TestRestoreCutsMarkerLeftOpen(t *testing.T) {
	r := pipelinetest.Start(t, pipelinetest.Config{Frames: 90})
	ctx := context.Background()
	first := r.Segments[0]
	open, err := r.Store.Add(ctx, pipelinetest.Stream, marker.Marker{
		Label: "mint square", PTS: first.FirstPTS + 3000, Source: marker.FromDetector, Data: json.RawMessage(`{"x":1}`),
	})
	if err != nil {
		t.Fatal(err)
	}
	posted, err := r.Store.Add(ctx, pipelinetest.Stream, marker.Marker{Label: "door", PTS: first.FirstPTS, Source: marker.FromAPI})
	if err != nil {
		t.Fatal(err)
	}
	svc := marker.NewService(marker.Config{
		Stream: pipelinetest.Stream, Store: r.Store, Playlist: r.Playlist, Timeline: r.Timeline, Clock: r.Clock,
	})
	if err := svc.Restore(ctx); err != nil {
		t.Fatal(err)
	}
	end := r.Segments[len(r.Segments)-1].End()
	got, err := r.Store.Get(ctx, pipelinetest.Stream, open.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Duration != end-open.PTS || !isCut(t, got) || !strings.Contains(string(got.Data), `"x":1`) {
		t.Errorf("restored marker: duration %d, data %s; want %d, cut, x kept", got.Duration, got.Data, end-open.PTS)
	}
	if got, err := r.Store.Get(ctx, pipelinetest.Stream, posted.ID); err != nil || got.Duration != 0 || got.Rev != posted.Rev {
		t.Errorf("posted marker changed by Restore: %+v, %v", got, err)
	}
	text := string(r.Playlist.Encoded())
	for _, m := range []marker.Marker{open, posted} {
		if !strings.Contains(text, `ID="`+svc.DateRange(m).ID+`"`) {
			t.Errorf("Restore did not list marker %d's DATERANGE", m.ID)
		}
	}
	if !strings.Contains(text, `ID="`+svc.DateRange(open).ID+`",CLASS="com.hlsmark.marker",START-DATE="`+
		playlist.FormatTime(r.Timeline.Time(open.PTS))+`",DURATION=`) {
		t.Errorf("the cut marker's DATERANGE has no DURATION:\n%s", text)
	}
}
