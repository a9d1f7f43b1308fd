package marker_test

import (
	"context"
	"errors"
	"image"
	"sync"
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
	runService(t, svc)
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

// TestChangesAreToldInRevisionOrder makes changes from many goroutines at
// once through a service's store: OnChange is told them in the order of
// their revisions, so a teller that records the last revision told misses
// none when it resumes from the store's changes after a crash.
func TestChangesAreToldInRevisionOrder(t *testing.T) {
	forEachStore(t, testChangesAreToldInRevisionOrder)
}

func testChangesAreToldInRevisionOrder(t *testing.T, s storage) {
	dir := t.TempDir()
	pl, err := playlist.New(playlist.Config{Dir: dir, Window: time.Minute, Target: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = pl.Flush() })
	store := s.openStore(t)
	t.Cleanup(func() { store.Close() })
	var mu sync.Mutex
	var told []marker.Rev
	svc := marker.NewService(marker.Config{
		Stream: "demo", Store: store, Playlist: pl, Timeline: clock.Timeline{Epoch: time.Unix(0, 0)},
		OnChange: func(_ context.Context, c marker.Change) error {
			time.Sleep(time.Millisecond) // as an outbox's fsync: room for another change to pass
			mu.Lock()
			told = append(told, c.Marker.Rev)
			mu.Unlock()
			return nil
		},
	})
	var wg sync.WaitGroup
	for i := range 40 {
		wg.Go(func() {
			m, err := svc.Store().Add(context.Background(), "demo", marker.Marker{Label: "m", PTS: clock.Ticks(i)})
			if err == nil && i%2 == 0 {
				_, err = svc.Store().Update(context.Background(), "demo", m.ID, func(m *marker.Marker) { m.Label = "edited" })
			}
			if err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if len(told) != 60 {
		t.Fatalf("%d changes told, want 60", len(told))
	}
	for i, rev := range told {
		if rev != marker.Rev(i+1) {
			t.Fatalf("changes told in the order %v: revision %d told %dth", told, rev, i+1)
		}
	}
}

// TestChangesSince reads what a teller that told every change up to a
// revision has not told: a marker made after it is Created (even if
// edited since), one made before and edited after is Updated, a deleted
// one Deleted, one untouched since is left out; over more than one page
// of the store's changes.
func TestChangesSince(t *testing.T) { forEachStore(t, testChangesSince) }

func testChangesSince(t *testing.T, s storage) {
	ctx := context.Background()
	store := s.openStore(t)
	t.Cleanup(func() { store.Close() })
	add := func(label string) marker.Marker {
		m, err := store.Add(ctx, "demo", marker.Marker{Label: label})
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	old, kept, gone := add("old"), add("kept"), add("gone")
	told := gone.Rev
	if _, err := store.Update(ctx, "demo", old.ID, func(m *marker.Marker) { m.Label = "old, edited" }); err != nil {
		t.Fatal(err)
	}
	if _, err := store.Delete(ctx, "demo", gone.ID); err != nil {
		t.Fatal(err)
	}
	fresh := add("fresh")
	const many = 1100 // past one page
	for range many {
		add("more")
	}
	// Edited last, the fresh marker comes on the second page: made after
	// told, it is still Created.
	if _, err := store.Update(ctx, "demo", fresh.ID, func(m *marker.Marker) { m.Label = "fresh, edited" }); err != nil {
		t.Fatal(err)
	}
	got, err := marker.ChangesSince(ctx, store, "demo", told)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3+many {
		t.Fatalf("%d changes, want %d", len(got), 3+many)
	}
	want := []struct {
		at    int
		kind  marker.Kind
		id    marker.ID
		label string
	}{{0, marker.Updated, old.ID, "old, edited"}, {1, marker.Deleted, gone.ID, "gone"}, {2 + many, marker.Created, fresh.ID, "fresh, edited"}}
	for _, w := range want {
		if c := got[w.at]; c.Kind != w.kind || c.Marker.ID != w.id || c.Marker.Label != w.label || c.Stream != "demo" {
			t.Errorf("change %d: %s of %d %q on %s; want %s of %d %q", w.at, c.Kind, c.Marker.ID, c.Marker.Label, c.Stream, w.kind, w.id, w.label)
		}
	}
	for i, c := range got[2 : 2+many] {
		if c.Kind != marker.Created || c.Marker.ID == kept.ID || c.Marker.Rev <= got[1+i].Marker.Rev {
			t.Fatalf("change %d: %s of marker %d at revision %d", 2+i, c.Kind, c.Marker.ID, c.Marker.Rev)
		}
	}
}
