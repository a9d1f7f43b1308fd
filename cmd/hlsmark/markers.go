package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/hlsmark/hlsmark/marker"
	"github.com/hlsmark/hlsmark/marker/postgres"
	"github.com/hlsmark/hlsmark/server"
)

// markersFlag registers --markers, bound to url: empty for the bbolt
// file in the data folder, else a PostgreSQL URL, checked as given.
func markersFlag(fs *flag.FlagSet, url *string) {
	fs.Func("markers", "where markers are kept: a PostgreSQL `URL` (postgres://user:password@host:port/database), which several servers may share; empty or bolt (the default): the bbolt file DATA/markers.db", func(s string) error {
		if s == "" || s == "bolt" {
			*url = ""
			return nil
		}
		if err := postgres.CheckURL(s); err != nil {
			return err
		}
		*url = s
		return nil
	})
}

// connectTimeout bounds how long serve waits for PostgreSQL at start.
const connectTimeout = 15 * time.Second

// markerStore is serve's marker store, as --markers names it, and the
// bbolt file its webhook outbox is kept in.
type markerStore struct {
	marker.Store
	// shared is the store when it is PostgreSQL's, whose markers other
	// nodes change too; nil for bbolt.
	shared *postgres.Store
	// outbox is the bbolt file of the webhook outbox: the markers' own
	// file with bbolt, DATA/notify.db with PostgreSQL (opened only if
	// webhooks are configured; nil otherwise).
	outbox *bolt.DB
	wg     sync.WaitGroup // follow's goroutine
}

// openMarkers opens the store url names (empty: DATA/markers.db under
// data); with PostgreSQL and outbox set, it opens DATA/notify.db for the
// webhook outbox, which stays on each server, as webhooks are sent from
// where the change is made.
func openMarkers(url, data string, outbox bool) (*markerStore, error) {
	if url == "" {
		b, err := marker.OpenBolt(filepath.Join(data, "markers.db"))
		if err != nil {
			return nil, err
		}
		return &markerStore{Store: b, outbox: b.DB()}, nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), connectTimeout)
	defer cancel()
	pg, err := postgres.Open(ctx, url)
	if err != nil {
		// On one line: pgx puts each connection attempt on its own.
		return nil, fmt.Errorf("--markers: %s", strings.ReplaceAll(err.Error(), "\n\t", "; "))
	}
	s := &markerStore{Store: pg, shared: pg}
	if outbox {
		path := filepath.Join(data, "notify.db")
		if s.outbox, err = bolt.Open(path, 0o600, &bolt.Options{Timeout: 3 * time.Second}); err != nil {
			pg.Close()
			return nil, fmt.Errorf("webhook outbox %s: %w", path, err)
		}
	}
	return s, nil
}

// follow wakes the event-stream subscribers of streams whenever another
// node (or any writer) changes their markers in PostgreSQL, and has the
// streams this node encodes place what changed (marker.Service.Learn: a
// marker posted on an edge), until ctx ends or Close; with bbolt every
// change is this server's own, and it does nothing.
func (s *markerStore) follow(ctx context.Context, streams server.Streams, log *slog.Logger) {
	if s.shared == nil {
		return
	}
	s.wg.Go(func() {
		s.shared.Listen(ctx, log, func(n postgres.Notice) {
			if !n.All {
				if st, ok := streams.Stream(n.Stream); ok && st.Markers != nil {
					st.Markers.Learn()
					st.Markers.Wake()
				}
				return
			}
			for _, st := range streams.All() {
				if st.Markers != nil {
					st.Markers.Learn()
					st.Markers.Wake()
				}
			}
		})
	})
}

// Close waits for follow to end (its ctx ended) and closes the stores.
func (s *markerStore) Close() error {
	s.wg.Wait()
	err := s.Store.Close()
	if s.shared != nil && s.outbox != nil {
		err = errors.Join(err, s.outbox.Close())
	}
	return err
}
