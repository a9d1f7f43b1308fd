package postgres

import (
	"context"
	"encoding/json"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/hlsmark/hlsmark/marker"
)

// channel is the NOTIFY channel every change is told on by the markers
// table's trigger, in the transaction that makes it (so it is told once
// committed, and only then).
const channel = "hlsmark_markers"

// notice is a NOTIFY payload: which stream changed, and its revision;
// never the marker, which readers take from the store (Changes), and
// which could be longer than a payload may be.
type notice struct {
	Stream string     `json:"stream"`
	Rev    marker.Rev `json:"rev"`
}

// Notice tells a listener of changes to markers, made by any node.
type Notice struct {
	// All is set when the listener has (re)connected: changes made while
	// it was not listening were not told, so every stream may have
	// changed. Stream and Rev are then empty.
	All bool
	// Stream changed, to revision Rev at least.
	Stream string
	Rev    marker.Rev
}

// ListenerName is the application_name of Listen's connection, as
// pg_stat_activity shows it.
const ListenerName = "hlsmark markers listener"

// Reconnection delays of Listen: doubled after each failed attempt, from
// the first to the last, reset by a connection that listens.
const (
	firstRetry = 100 * time.Millisecond
	lastRetry  = 5 * time.Second
)

// Listen tells wake of every change committed to the store's database,
// by this store or any other writer, until ctx ends, on a connection of
// its own. A lost connection is made again (logged, retried with growing
// delays); once listening, after the first connection and each
// reconnection, wake is told Notice{All: true}. wake runs on Listen's
// goroutine and must not block.
func (s *Store) Listen(ctx context.Context, log *slog.Logger, wake func(Notice)) {
	delay := firstRetry
	for {
		listened, err := s.listenOnce(ctx, wake)
		if ctx.Err() != nil {
			return
		}
		if listened {
			delay = firstRetry
		}
		log.Warn("marker notifications: connection to PostgreSQL lost; reconnecting", "err", err, "retry_in", delay)
		select {
		case <-ctx.Done():
			return
		case <-time.After(delay):
		}
		delay = min(2*delay, lastRetry)
	}
}

// listenOnce connects, listens and tells wake of notifications until the
// connection fails or ctx ends. listened says whether it got as far as
// listening.
func (s *Store) listenOnce(ctx context.Context, wake func(Notice)) (listened bool, err error) {
	cfg := s.listen.Copy()
	cfg.RuntimeParams["application_name"] = ListenerName
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return false, err
	}
	defer func() {
		closing, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Second)
		defer cancel()
		_ = conn.Close(closing) // the connection is lost or no longer wanted
	}()
	if _, err := conn.Exec(ctx, "LISTEN "+channel); err != nil {
		return false, err
	}
	wake(Notice{All: true})
	for {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			return true, err
		}
		var p notice
		if err := json.Unmarshal([]byte(n.Payload), &p); err != nil {
			// Not hlsmark's: someone else's NOTIFY on the channel.
			// Waking everyone costs a read of each stream's changes.
			wake(Notice{All: true})
			continue
		}
		wake(Notice{Stream: p.Stream, Rev: p.Rev})
	}
}
