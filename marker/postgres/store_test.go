package postgres_test

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/hlsmark/hlsmark/marker"
	"github.com/hlsmark/hlsmark/marker/postgres"
	"github.com/hlsmark/hlsmark/marker/postgres/pgtest"
)

// open opens a store on url, closed when t ends.
func open(t *testing.T, url string) *postgres.Store {
	t.Helper()
	s, err := postgres.Open(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// TestNodesWriteConcurrently runs several stores on one database, as
// several nodes, each with several writers adding, editing and deleting
// markers of two streams at once: on each stream the revisions
// acknowledged are exactly 1 to n, each once, and the IDs 1 to the
// number of markers added, each once.
func TestNodesWriteConcurrently(t *testing.T) {
	srv := pgtest.Start(t)
	const nodes, writers, rounds = 3, 4, 15
	streams := []string{"north", "south"}
	stores := make([]*postgres.Store, nodes)
	for i := range stores {
		stores[i] = open(t, srv.URL)
	}
	type acks struct {
		mu   sync.Mutex
		revs map[string][]marker.Rev
		ids  map[string][]marker.ID
	}
	got := acks{revs: map[string][]marker.Rev{}, ids: map[string][]marker.ID{}}
	ack := func(stream string, m marker.Marker, added bool) {
		got.mu.Lock()
		defer got.mu.Unlock()
		got.revs[stream] = append(got.revs[stream], m.Rev)
		if added {
			got.ids[stream] = append(got.ids[stream], m.ID)
		}
	}
	ctx := context.Background()
	errs := make(chan error, nodes*writers)
	var wg sync.WaitGroup
	for n, s := range stores {
		for w := range writers {
			wg.Go(func() {
				stream := streams[(n+w)%len(streams)]
				for r := range rounds {
					m, err := s.Add(ctx, stream, marker.Marker{Label: fmt.Sprintf("n%d w%d r%d", n, w, r), Source: marker.FromAPI})
					if err != nil {
						errs <- err
						return
					}
					ack(stream, m, true)
					if m, err = s.Update(ctx, stream, m.ID, func(m *marker.Marker) { m.Duration = 90000 }); err != nil {
						errs <- err
						return
					}
					ack(stream, m, false)
					if r%3 == 0 {
						if m, err = s.Delete(ctx, stream, m.ID); err != nil {
							errs <- err
							return
						}
						ack(stream, m, false)
					}
				}
			})
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	for _, stream := range streams {
		revs, ids := got.revs[stream], got.ids[stream]
		slices.Sort(revs)
		slices.Sort(ids)
		for i, r := range revs {
			if r != marker.Rev(i+1) {
				t.Fatalf("stream %s: acknowledged revisions %v: want each of 1 to %d once", stream, revs, len(revs))
			}
		}
		for i, id := range ids {
			if id != marker.ID(i+1) {
				t.Fatalf("stream %s: IDs added %v: want each of 1 to %d once", stream, ids, len(ids))
			}
		}
		if rev, err := stores[0].Rev(ctx, stream); err != nil || rev != marker.Rev(len(revs)) {
			t.Errorf("stream %s: Rev = %d, %v; want %d", stream, rev, err, len(revs))
		}
	}
}

// TestNodesStartTogether opens several stores on an empty database at
// once, as nodes started together: each makes or finds the schema, and
// it is made once.
func TestNodesStartTogether(t *testing.T) {
	srv := pgtest.Start(t)
	const nodes = 6
	errs := make(chan error, nodes)
	var wg sync.WaitGroup
	for range nodes {
		wg.Go(func() {
			s, err := postgres.Open(context.Background(), srv.URL)
			if err == nil {
				_, err = s.Add(context.Background(), "demo", marker.Marker{Label: "started"})
				s.Close()
			}
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	conn, err := pgx.Connect(context.Background(), srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var rows, version int
	if err := conn.QueryRow(context.Background(), "SELECT count(*), max(version) FROM schema_version").Scan(&rows, &version); err != nil {
		t.Fatal(err)
	}
	if rows != 1 || version != 2 {
		t.Errorf("schema_version has %d rows, version %d; want one row, version 2 (markers, then stream_leases)", rows, version)
	}
}

// TestListenTellsEveryWriter listens on one store and writes through
// another (another node) and with plain SQL (another program): each
// change is told with its stream and revision. When the listener's
// connection is ended by the server, it reconnects and tells every
// stream, and goes on telling changes.
func TestListenTellsEveryWriter(t *testing.T) {
	srv := pgtest.Start(t)
	listener, writer := open(t, srv.URL), open(t, srv.URL)
	notices := make(chan postgres.Notice, 100)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		listener.Listen(ctx, slog.Default(), func(n postgres.Notice) { notices <- n })
	}()
	t.Cleanup(func() {
		cancel()
		<-done
	})
	next := func(want postgres.Notice) {
		t.Helper()
		select {
		case n := <-notices:
			if n != want {
				t.Fatalf("notice %+v, want %+v", n, want)
			}
		case <-time.After(30 * time.Second):
			t.Fatalf("no notice; want %+v", want)
		}
	}
	next(postgres.Notice{All: true})

	m, err := writer.Add(context.Background(), "demo", marker.Marker{Label: "from another node"})
	if err != nil {
		t.Fatal(err)
	}
	next(postgres.Notice{Stream: "demo", Rev: m.Rev})

	sql, err := pgx.Connect(context.Background(), srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer sql.Close(context.Background())
	_, err = sql.Exec(context.Background(), `WITH s AS (UPDATE marker_streams SET last_rev = last_rev + 1 WHERE stream = 'demo' RETURNING last_rev)
		UPDATE markers SET label = 'by hand', rev = s.last_rev FROM s WHERE markers.stream = 'demo' AND id = $1`, int64(m.ID))
	if err != nil {
		t.Fatal(err)
	}

	next(postgres.Notice{Stream: "demo", Rev: m.Rev + 1})

	var ended bool
	if err := sql.QueryRow(context.Background(), `SELECT bool_and(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = $1`, postgres.ListenerName).Scan(&ended); err != nil || !ended {
		t.Fatalf("ending the listener's connection: %v, %v", ended, err)
	}
	next(postgres.Notice{All: true})
	m, err = writer.Add(context.Background(), "other", marker.Marker{Label: "after the reconnection"})
	if err != nil {
		t.Fatal(err)
	}
	next(postgres.Notice{Stream: "other", Rev: m.Rev})
}

// TestNewerSchemaRefused opens a database whose schema a newer hlsmark
// made: Open refuses it, naming both versions, and changes nothing.
func TestNewerSchemaRefused(t *testing.T) {
	srv := pgtest.Start(t)
	open(t, srv.URL)
	conn, err := pgx.Connect(context.Background(), srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(context.Background(), "UPDATE schema_version SET version = 7"); err != nil {
		t.Fatal(err)
	}
	if s, err := postgres.Open(context.Background(), srv.URL); err == nil || !strings.Contains(err.Error(), "version 7, newer than this hlsmark's 2") {
		if s != nil {
			s.Close()
		}
		t.Fatalf("Open of a newer schema: %v; want it refused, naming versions 7 and 2", err)
	}
	var version int
	if err := conn.QueryRow(context.Background(), "SELECT version FROM schema_version").Scan(&version); err != nil || version != 7 {
		t.Errorf("after the refusal the schema is version %d (%v), want 7 still", version, err)
	}
}
