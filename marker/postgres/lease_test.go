package postgres_test

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/hlsmark/hlsmark/marker/postgres"
	"github.com/hlsmark/hlsmark/marker/postgres/pgtest"
)

// TestLease: one owner at a time per stream; the owner renews; another
// takes the lease once it has expired by the database's clock (moved
// there, not waited for), or at once after a release; streams are
// independent.
func TestLease(t *testing.T) {
	srv := pgtest.Start(t)
	a, b := open(t, srv.URL), open(t, srv.URL)
	ctx := context.Background()
	hold := func(s *postgres.Store, stream, owner string) bool {
		t.Helper()
		ok, err := s.Hold(ctx, stream, owner, time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		return ok
	}
	if !hold(a, "cam", "node-a") {
		t.Fatal("node-a could not take a free lease")
	}
	if hold(b, "cam", "node-b") {
		t.Fatal("node-b took the lease node-a holds")
	}
	if !hold(a, "cam", "node-a") {
		t.Fatal("node-a could not renew its lease")
	}
	if !hold(b, "other", "node-b") {
		t.Fatal("node-b could not take the lease of another stream")
	}
	// node-a's lease lapses: its expiry put in the past, by SQL of our own.
	conn, err := pgx.Connect(ctx, srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, `UPDATE stream_leases SET expires = now() - interval '1 second' WHERE stream = 'cam'`); err != nil {
		t.Fatal(err)
	}
	if !hold(b, "cam", "node-b") {
		t.Fatal("node-b could not take an expired lease")
	}
	if hold(a, "cam", "node-a") {
		t.Fatal("node-a renewed a lease node-b took over")
	}
	if err := a.Release(ctx, "cam", "node-a"); err != nil {
		t.Fatal(err)
	}
	if hold(a, "cam", "node-a") {
		t.Fatal("node-a's release (of a lease it lost) freed node-b's")
	}
	if err := b.Release(ctx, "cam", "node-b"); err != nil {
		t.Fatal(err)
	}
	if !hold(a, "cam", "node-a") {
		t.Fatal("node-a could not take a released lease")
	}
}
