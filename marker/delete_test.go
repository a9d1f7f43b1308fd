package marker_test

import (
	"context"
	"errors"
	"strconv"
	"testing"

	"github.com/hlsmark/hlsmark/marker"
	"github.com/hlsmark/hlsmark/pipeline/clock"
)

// TestStoreDeleteKeepsTombstone deletes a marker, reopens the store, and
// finds it gone from Get, List and Update, but reported by Changes at a
// new revision, marked deleted, after the edit before it: an event stream
// resuming from before the deletion learns of it.
func TestStoreDeleteKeepsTombstone(t *testing.T) { forEachStore(t, testDeleteKeepsTombstone) }

func testDeleteKeepsTombstone(t *testing.T, st storage) {
	ctx := context.Background()
	s := st.openStore(t)
	var ids []marker.ID
	for i := range 3 {
		m, err := s.Add(ctx, "demo", marker.Marker{Label: "m" + strconv.Itoa(i), PTS: clock.Ticks(100 * i), Source: marker.FromAPI})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, m.ID)
	}
	before, err := s.Rev(ctx, "demo")
	if err != nil {
		t.Fatal(err)
	}
	edited, err := s.Update(ctx, "demo", ids[1], func(m *marker.Marker) { m.Label = "edited" })
	if err != nil {
		t.Fatal(err)
	}
	gone, err := s.Delete(ctx, "demo", ids[1])
	if err != nil || !gone.Deleted || gone.Rev != edited.Rev+1 || gone.Label != "edited" {
		t.Fatalf("Delete = %+v, %v; want the edited marker marked deleted at revision %d", gone, err, edited.Rev+1)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	s = st.openStore(t)
	defer s.Close()
	if _, err := s.Get(ctx, "demo", ids[1]); !errors.Is(err, marker.ErrNotFound) {
		t.Errorf("Get of the deleted marker: %v, want ErrNotFound", err)
	}
	if _, err := s.Update(ctx, "demo", ids[1], func(m *marker.Marker) { m.Label = "back" }); !errors.Is(err, marker.ErrNotFound) {
		t.Errorf("Update of the deleted marker: %v, want ErrNotFound", err)
	}
	if _, err := s.Delete(ctx, "demo", ids[1]); !errors.Is(err, marker.ErrNotFound) {
		t.Errorf("second Delete: %v, want ErrNotFound", err)
	}
	ms, err := s.List(ctx, "demo", 0, 2)
	if err != nil || len(ms) != 2 || ms[0].ID != ids[0] || ms[1].ID != ids[2] {
		t.Errorf("List(limit 2) = %+v, %v; want markers %d and %d", ms, err, ids[0], ids[2])
	}
	changes, err := s.Changes(ctx, "demo", before, 100)
	if err != nil || len(changes) != 1 || changes[0].ID != ids[1] || !changes[0].Deleted || changes[0].Rev != gone.Rev {
		t.Fatalf("Changes after revision %d = %+v, %v; want the tombstone of %d at revision %d", before, changes, err, ids[1], gone.Rev)
	}
	if rev, err := s.Rev(ctx, "demo"); err != nil || rev != gone.Rev {
		t.Errorf("Rev = %d, %v; want the deletion's %d", rev, err, gone.Rev)
	}
	if _, err := s.Delete(ctx, "demo", 99); !errors.Is(err, marker.ErrNotFound) {
		t.Errorf("Delete of a marker never made: %v, want ErrNotFound", err)
	}
}
