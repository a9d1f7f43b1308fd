package webhook

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	bolt "go.etcd.io/bbolt"

	"github.com/hlsmark/hlsmark/marker"
	"github.com/hlsmark/hlsmark/marker/notify"
)

// openDB opens a bbolt file in a new folder, closed at the test's end.
func openDB(t *testing.T) *bolt.DB {
	t.Helper()
	db, err := bolt.Open(filepath.Join(t.TempDir(), "markers.db"), 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// run runs w until the test ends.
func run(t *testing.T, w *Webhooks) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := w.Run(ctx); err != nil {
			t.Error(err)
		}
	}()
	t.Cleanup(func() {
		cancel()
		<-done
	})
}

func event(stream string, id int) notify.Event {
	m, _ := json.Marshal(map[string]int{"id": id})
	return notify.Event{Type: marker.Created, Stream: stream, Marker: m}
}

// TestStreamsDoNotWaitForEachOther: a receiver that refuses stream a's
// deliveries holds up stream a only; b's arrive, in order.
func TestStreamsDoNotWaitForEachOther(t *testing.T) {
	var mu sync.Mutex
	var got []notify.Event
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var e notify.Event
		if err := json.NewDecoder(r.Body).Decode(&e); err != nil {
			t.Error(err)
		}
		if e.Stream == "a" {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		mu.Lock()
		got = append(got, e)
		mu.Unlock()
	}))
	defer ts.Close()
	reg := prometheus.NewRegistry()
	w, err := New(Config{URLs: []string{ts.URL}, Secret: "s", DB: openDB(t), Metrics: reg, Backoff: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	run(t, w)
	for i, e := range []notify.Event{event("a", 1), event("b", 1), event("a", 2), event("b", 2), event("b", 3)} {
		if err := w.Notify(context.Background(), e); err != nil {
			t.Fatalf("event %d: %v", i, err)
		}
	}
	// A delivery is counted once its answer is read, after the handler.
	eventually(t, "three deliveries counted", func() bool {
		return testutil.ToFloat64(w.metrics.delivered.WithLabelValues("b")) == 3
	})
	mu.Lock()
	defer mu.Unlock()
	for i, e := range got {
		var m struct{ ID int }
		_ = json.Unmarshal(e.Marker, &m)
		if e.Stream != "b" || m.ID != i+1 {
			t.Errorf("delivery %d: stream %s marker %d, want b %d", i, e.Stream, m.ID, i+1)
		}
	}
	if v := testutil.ToFloat64(w.metrics.pending.WithLabelValues("a")); v != 2 {
		t.Errorf("pending for a: %v, want 2", v)
	}
}

// TestGivenUpAfterMaxAge: a delivery older than MaxAge at its next retry
// is dropped, counted, and leaves the outbox.
func TestGivenUpAfterMaxAge(t *testing.T) {
	attempts := make(chan struct{}, 16)
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusInternalServerError)
		attempts <- struct{}{}
	}))
	defer ts.Close()
	db := openDB(t)
	// MaxAge below the first backoff: the first failure is the last.
	w, err := New(Config{URLs: []string{ts.URL}, Secret: "s", DB: db, Backoff: time.Hour, MaxAge: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Notify(context.Background(), event("a", 1)); err != nil {
		t.Fatal(err)
	}
	run(t, w)
	<-attempts
	// The drop follows the answer: wait on the outbox emptying, which is
	// the last step of the drop.
	eventually(t, "the outbox empty", func() bool {
		ds, err := w.outbox.all()
		return err == nil && len(ds) == 0
	})
	if v := testutil.ToFloat64(w.metrics.dropped.WithLabelValues("a")); v != 1 {
		t.Errorf("dropped: %v, want 1", v)
	}
	if v := testutil.ToFloat64(w.metrics.failed.WithLabelValues("a")); v != 1 {
		t.Errorf("failed attempts: %v, want 1", v)
	}
}

// eventually polls cond until it holds, failing the test after 10 s: for
// what follows an answer on the sender's goroutine, with nothing to
// synchronise on.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("no %s after 10s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
