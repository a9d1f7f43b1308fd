//go:build cgo

package marker_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/hlsmark/hlsmark/marker"
	"github.com/hlsmark/hlsmark/pipeline/pipelinetest"
	"github.com/hlsmark/hlsmark/playlist"
)

// TestRestartKeepsServedTagsOfEditedMarkers edits one posted marker and
// deletes another, then restarts the stream's playlist and marker
// service on the same folder and store: Restore succeeds, and both tags
// are listed as first served, the edited label nowhere in the playlist.
func TestRestartKeepsServedTagsOfEditedMarkers(t *testing.T) {
	r := pipelinetest.Start(t, pipelinetest.Config{Frames: 90})
	ctx := context.Background()
	first := r.Segments[0]
	edited, err := r.Markers.Post(ctx, marker.Marker{Label: "as served", PTS: first.FirstPTS + 3000})
	if err != nil {
		t.Fatal(err)
	}
	deleted, err := r.Markers.Post(ctx, marker.Marker{Label: "soon gone", PTS: first.FirstPTS + 6000})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Playlist.Flush(); err != nil {
		t.Fatal(err)
	}
	served := map[marker.ID]string{}
	for _, m := range []marker.Marker{edited, deleted} {
		for _, l := range strings.Split(string(r.Playlist.Encoded()), "\n") {
			if strings.Contains(l, `ID="`+r.Markers.DateRange(m).ID+`"`) {
				served[m.ID] = l
			}
		}
		if served[m.ID] == "" {
			t.Fatalf("marker %d is not listed:\n%s", m.ID, r.Playlist.Encoded())
		}
	}
	label := "edited"
	if _, err := r.Markers.Edit(ctx, edited.ID, marker.Edit{Label: &label}); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Markers.Delete(ctx, deleted.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Markers.Edit(ctx, deleted.ID, marker.Edit{Label: &label}); !errors.Is(err, marker.ErrNotFound) {
		t.Fatalf("editing a deleted marker: %v, want ErrNotFound", err)
	}
	if err := r.Playlist.Flush(); err != nil {
		t.Fatal(err)
	}

	p, err := playlist.New(playlist.Config{Dir: r.Dir, Window: time.Hour, Grace: time.Hour, Target: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	svc := marker.NewService(marker.Config{Stream: pipelinetest.Stream, Store: r.Store, Playlist: p, Timeline: r.Timeline, Clock: r.Clock})
	if err := svc.Restore(ctx); err != nil {
		t.Fatalf("Restore after an edit: %v", err)
	}
	if err := p.Flush(); err != nil {
		t.Fatal(err)
	}
	text := string(p.Encoded())
	for id, l := range served {
		if !strings.Contains(text, l+"\n") {
			t.Errorf("after the restart, marker %d's served tag %q is gone:\n%s", id, l, text)
		}
	}
	if strings.Contains(text, label) {
		t.Errorf("the edited label is in the restarted playlist:\n%s", text)
	}
}
