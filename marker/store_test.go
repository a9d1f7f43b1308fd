package marker_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/hlsmark/hlsmark/marker"
	"github.com/hlsmark/hlsmark/marker/postgres"
	"github.com/hlsmark/hlsmark/marker/postgres/pgtest"
)

// storeKind is one implementation of marker.Store, as the store's
// contract tests make and open it: every test of a Store runs against
// each (forEachStore).
type storeKind struct {
	name string
	// storage makes empty storage for a test and returns where it is:
	// a bbolt file's path, a PostgreSQL database's URL.
	storage func(t *testing.T) string
	// open opens a store on the storage at where; opened again after
	// Close, it has the same markers.
	open func(where string) (marker.Store, error)
}

// storeKinds are the Store implementations.
var storeKinds = []storeKind{
	{
		name:    "bolt",
		storage: func(t *testing.T) string { return filepath.Join(t.TempDir(), "markers.db") },
		open:    func(where string) (marker.Store, error) { return marker.OpenBolt(where) },
	},
	{
		name:    "postgres",
		storage: func(t *testing.T) string { return pgtest.Start(t).URL },
		open: func(where string) (marker.Store, error) {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			return postgres.Open(ctx, where)
		},
	},
}

// kindNamed returns the store kind called name.
func kindNamed(name string) (storeKind, bool) {
	for _, k := range storeKinds {
		if k.name == name {
			return k, true
		}
	}
	return storeKind{}, false
}

// storage is a test's storage of one kind.
type storage struct {
	storeKind
	where string
}

// openStore opens a store on s, failing t if it cannot.
func (s storage) openStore(t *testing.T) marker.Store {
	t.Helper()
	st, err := s.open(s.where)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// forEachStore runs test once for each store kind, as a subtest named
// for it, on empty storage of that kind.
func forEachStore(t *testing.T, test func(t *testing.T, s storage)) {
	for _, k := range storeKinds {
		t.Run(k.name, func(t *testing.T) {
			test(t, storage{storeKind: k, where: k.storage(t)})
		})
	}
}
