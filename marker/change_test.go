package marker_test

import (
	"context"
	"errors"
	"image"
	"testing"
	"time"

	"github.com/hlsmark/hlsmark/marker"
	"github.com/hlsmark/hlsmark/pipeline/clock"
	"github.com/hlsmark/hlsmark/pipeline/media"
	"github.com/hlsmark/hlsmark/playlist"
)

// TestEveryChangeIsTold runs a service with OnChange: a detector marker
// opened and closed, a posted marker and an update through Store are each
// told once, with their kind and the marker as stored, before the change
// returns; an OnChange that fails fails the Post.
func TestEveryChangeIsTold(t *testing.T) { forEachStore(t, testEveryChangeIsTold) }

func testEveryChangeIsTold(t *testing.T, st storage) {
	dir := t.TempDir()
	pl, err := playlist.New(playlist.Config{Dir: dir, Window: time.Minute, Target: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = pl.Flush() })
	store := st.openStore(t)
	t.Cleanup(func() { store.Close() })
	epoch := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	changes := make(chan marker.Change, 16)
	refuse := errors.New("outbox full")
	var fail bool // read on the goroutine that changes: set only between the service's jobs
	svc := marker.NewService(marker.Config{
		Stream: "demo", Store: store, Playlist: pl, Timeline: clock.Timeline{Epoch: epoch},
		Clock: clock.NewFake(epoch.Add(10*time.Second), nil),
		OnChange: func(_ context.Context, c marker.Change) error {
			if fail {
				return refuse
			}
			changes <- c
			return nil
		},
	})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		svc.Run(ctx)
	}()
	t.Cleanup(func() {
		cancel()
		<-done
	})
	next := func(kind marker.Kind) marker.Change {
		t.Helper()
		select {
		case c := <-changes:
			if c.Kind != kind || c.Stream != "demo" {
				t.Fatalf("change %s on %s, want %s on demo", c.Kind, c.Stream, kind)
			}
			stored, err := store.Get(context.Background(), "demo", c.Marker.ID)
			if kind == marker.Deleted {
				if !errors.Is(err, marker.ErrNotFound) {
					t.Fatalf("change %s of marker %d; the store still has it (%v)", kind, c.Marker.ID, err)
				}
				return c
			}
			if err != nil || stored.Rev != c.Marker.Rev {
				t.Fatalf("change %s of marker %d at revision %d; the store has revision %d (%v)", kind, c.Marker.ID, c.Marker.Rev, stored.Rev, err)
			}
			return c
		case <-time.After(10 * time.Second):
			t.Fatalf("no %s change", kind)
		}
		return marker.Change{}
	}

	svc.Detected(media.Detection{Kind: media.Opened, Start: clock.Hz, Box: image.Rect(0, 0, 8, 8), Label: "mint"})
	opened := next(marker.Created)
	svc.Detected(media.Detection{Kind: media.Closed, Start: clock.Hz, End: 2 * clock.Hz})
	if c := next(marker.Updated); c.Marker.ID != opened.Marker.ID || c.Marker.Duration != clock.Hz {
		t.Errorf("closing told marker %d duration %d, want marker %d duration %d", c.Marker.ID, c.Marker.Duration, opened.Marker.ID, clock.Hz)
	}
	posted, err := svc.Post(context.Background(), marker.Marker{Label: "api", PTS: 3 * clock.Hz})
	if err != nil {
		t.Fatal(err)
	}
	if c := next(marker.Created); c.Marker.ID != posted.ID {
		t.Errorf("post told marker %d, want %d", c.Marker.ID, posted.ID)
	}
	if _, err := svc.Store().Update(context.Background(), "demo", posted.ID, func(m *marker.Marker) { m.Label = "edited" }); err != nil {
		t.Fatal(err)
	}
	if c := next(marker.Updated); c.Marker.Label != "edited" {
		t.Errorf("edit told label %q", c.Marker.Label)
	}

	if _, err := svc.Delete(context.Background(), posted.ID); err != nil {
		t.Fatal(err)
	}
	if c := next(marker.Deleted); c.Marker.ID != posted.ID {
		t.Errorf("delete told marker %d, want %d", c.Marker.ID, posted.ID)
	}

	fail = true
	if _, err := svc.Post(context.Background(), marker.Marker{Label: "refused", PTS: 4 * clock.Hz}); !errors.Is(err, refuse) {
		t.Errorf("post with OnChange failing: %v, want %v", err, refuse)
	}
	select {
	case c := <-changes:
		t.Errorf("unexpected change %s of marker %d", c.Kind, c.Marker.ID)
	default:
	}
}
