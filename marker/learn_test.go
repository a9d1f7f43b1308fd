package marker_test

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hlsmark/hlsmark/marker"
	"github.com/hlsmark/hlsmark/pipeline/clock"
	"github.com/hlsmark/hlsmark/pipeline/media"
	"github.com/hlsmark/hlsmark/playlist"
)

// TestLearnPlacesMarkersPostedElsewhere: two services share a store, as
// an encoder and an edge share PostgreSQL; the edge's has no playlist. The
// edge posts one marker into a segment the encoder's playlist lists and
// one into a segment still to come; it knows neither's position. Told to
// Learn, the encoder lists both as date ranges and gives each a new
// revision once its segment is out, with the position the segments give.
func TestLearnPlacesMarkersPostedElsewhere(t *testing.T) {
	forEachStore(t, testLearnPlacesMarkersPostedElsewhere)
}

func testLearnPlacesMarkersPostedElsewhere(t *testing.T, st storage) {
	dir := t.TempDir()
	pl, err := playlist.New(playlist.Config{Dir: dir, Window: time.Minute, Target: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	store := st.openStore(t)
	t.Cleanup(func() { store.Close() })
	epoch := time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)
	tl := clock.Timeline{Epoch: epoch}
	now := clock.NewFake(epoch.Add(10*time.Second), nil)
	segment := func(seq media.Seq) media.Segment {
		first := clock.Ticks(seq) * clock.Hz
		return media.Segment{Seq: seq, Path: filepath.Join(dir, media.SegmentName(seq)), FirstPTS: first,
			Start: epoch.Add(first.Duration()), Duration: clock.Hz, Frames: 30}
	}
	if err := pl.Add(segment(0)); err != nil {
		t.Fatal(err)
	}
	if err := pl.Flush(); err != nil {
		t.Fatal(err)
	}
	encoder := marker.NewService(marker.Config{Stream: "demo", Store: store, Playlist: pl, Timeline: tl, Clock: now})
	if err := encoder.Restore(context.Background()); err != nil {
		t.Fatal(err)
	}
	runService(t, encoder)
	wake, unsubscribe, _ := encoder.Subscribe(1)
	t.Cleanup(unsubscribe)

	edge := marker.NewService(marker.Config{Stream: "demo", Store: store, Timeline: tl, Clock: now})
	var posted []marker.Marker
	for _, pts := range []clock.Ticks{clock.Hz / 2, clock.Hz + clock.Hz/2} { // in segment 0, listed; in 1, to come
		m, err := edge.Post(context.Background(), marker.Marker{Label: "from an edge", PTS: pts})
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := edge.Position(m.PTS); ok {
			t.Fatalf("marker %d has a position on a node with no playlist", m.ID)
		}
		posted = append(posted, m)
	}
	encoder.Learn()
	if err := pl.Add(segment(1)); err != nil {
		t.Fatal(err)
	}
	encoder.Published(segment(1))

	deadline := time.After(20 * time.Second)
	for _, m := range posted {
		if rev, ok := waitRevised(t, store, "demo", m, wake, deadline); !ok {
			t.Fatalf("marker %d posted elsewhere (revision %d) got no new revision from the encoder", m.ID, rev)
		}
	}
	if err := pl.Flush(); err != nil { // the date ranges revised since the last write
		t.Fatal(err)
	}
	for i, m := range posted {
		if pos, ok := encoder.Position(m.PTS); !ok || pos.Seq != media.Seq(i) || pos.Offset != clock.Hz/2 {
			t.Errorf("marker %d: position %+v (%v), want segment %d at offset %d", m.ID, pos, ok, i, clock.Hz/2)
		}
		if id := fmt.Sprintf(`ID="marker-%d"`, m.ID); !strings.Contains(string(pl.Encoded()), id) {
			t.Errorf("the encoder's playlist has no %s:\n%s", id, pl.Encoded())
		}
	}
}
