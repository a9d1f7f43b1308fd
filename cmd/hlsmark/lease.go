package main

import (
	"context"
	"crypto/rand"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/hlsmark/hlsmark/marker/postgres"
	"github.com/hlsmark/hlsmark/pipeline/stream"
	"github.com/hlsmark/hlsmark/playlist"
	"github.com/hlsmark/hlsmark/playlist/bucket"
)

// defaultLease is --lease unless given.
const defaultLease = 10 * time.Second

// Standby is the state of a stream another node owns: this server waits
// to take it over, and serves nothing of it meanwhile. It does not make
// the server unready: a standby is what a healthy second node is.
const Standby = "standby"

// errLeaseLost is the cause a stream stops with when its lease could not
// be renewed in time: it wraps stream.ErrReplaced, so the playlist is not
// ended, as the node that takes the stream over goes on with it.
var errLeaseLost = fmt.Errorf("the lease on the stream was lost: %w", stream.ErrReplaced)

// leaseFlag registers --lease, bound to d.
func leaseFlag(fs *flag.FlagSet, d *time.Duration) {
	*d = defaultLease
	fs.Func("lease", "with --markers postgres://: the `duration` a stream stays this server's after the last renewal of its lease (renewed every third of it); another server configured for the stream takes it over when it lapses (default 10s, at least 1s)", func(s string) error {
		v, err := time.ParseDuration(s)
		if err != nil || v < time.Second {
			return fmt.Errorf("%q: want a duration of at least 1s", s)
		}
		*d = v
		return nil
	})
}

// leases owns streams for this server through PostgreSQL leases
// (postgres.Store.Hold): one server encodes a stream at a time.
type leases struct {
	store  *postgres.Store
	owner  string        // this server: host, pid and a random part
	ttl    time.Duration // --lease
	bucket *bucket.Store // nil: disk only
	log    *slog.Logger
}

// newLeases returns the leases of this server; nil without PostgreSQL,
// where every stream is this server's.
func newLeases(store *markerStore, ttl time.Duration, objects *bucket.Store, log *slog.Logger) *leases {
	if store.shared == nil {
		return nil
	}
	host, _ := os.Hostname()
	return &leases{store: store.shared, owner: fmt.Sprintf("%s/%d/%s", host, os.Getpid(), rand.Text()[:8]),
		ttl: ttl, bucket: objects, log: log}
}

// poll is how often a standby asks for the lease, and renew how often an
// owner renews it.
func (l *leases) poll() time.Duration  { return max(l.ttl/10, 100*time.Millisecond) }
func (l *leases) renew() time.Duration { return l.ttl / 3 }

// acquire waits until the lease on the stream called name is this
// server's, asking every poll, and returns when it is, or with ctx's
// error when ctx ends first.
func (l *leases) acquire(ctx context.Context, name string) error {
	t := time.NewTicker(l.poll())
	defer t.Stop()
	for {
		ok, err := l.store.Hold(ctx, name, l.owner, l.ttl)
		if ok {
			return nil
		}
		if err != nil && ctx.Err() == nil {
			l.log.Warn("cannot ask for the stream's lease", "stream", name, "err", err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
	}
}

// keep renews the lease on name until ctx ends. When a renewal has not
// succeeded for two thirds of the lease, so that another node may soon
// take the stream, or another node holds it, it calls lost and returns.
func (l *leases) keep(ctx context.Context, name string, lost func()) {
	renewed := time.Now()
	t := time.NewTicker(l.renew())
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		asked := time.Now()
		hctx, cancel := context.WithTimeout(ctx, l.renew())
		ok, err := l.store.Hold(hctx, name, l.owner, l.ttl)
		cancel()
		switch {
		case ok:
			renewed = asked
		case err == nil:
			l.log.Error("another server took the stream's lease: stopping it", "stream", name)
			lost()
			return
		case ctx.Err() == nil:
			l.log.Warn("the lease was not renewed", "stream", name, "err", err)
		}
		if time.Since(renewed) >= 2*l.ttl/3 {
			l.log.Error("the lease could not be renewed in time: stopping the stream", "stream", name, "since", time.Since(renewed))
			lost()
			return
		}
	}
}

// release gives up the lease on name, once the stream stopped writing,
// so that another server takes it over at once.
func (l *leases) release(ctx context.Context, name string) {
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), l.renew())
	defer cancel()
	if err := l.store.Release(rctx, name, l.owner); err != nil {
		l.log.Warn("the lease was not released: another server takes the stream when it expires", "stream", name, "err", err)
	}
}

// goOn readies the folder of the stream called name to go on from what
// the bucket last published of it (playlist.GoOn); with the disk only,
// the folder goes on from its own state.
func (l *leases) goOn(ctx context.Context, c streamConfig) error {
	if l.bucket == nil {
		return nil
	}
	pub, ok, err := l.bucket.Published(ctx, c.Name)
	if err != nil || !ok {
		return err
	}
	dir := filepath.Join(c.Data, c.Name)
	if !pub.Epoch.IsZero() {
		// The same timeline as the server before: PTS go on from its, and
		// markers keep their times on every node.
		kept, err := stream.SeedEpoch(dir, pub.Epoch)
		if err != nil {
			return err
		}
		if !kept.Equal(pub.Epoch) {
			l.log.Warn("the stream folder keeps its own epoch, not the one the stream was published with: times of markers written elsewhere will differ",
				"stream", c.Name, "folder", kept.UTC(), "published", pub.Epoch.UTC())
		}
	}
	changed, err := playlist.GoOn(dir, c.SegmentFormat, pub.Next, pub.DiscontinuitySeq, pub.Target)
	if changed {
		l.log.Info("taking the stream over from the bucket's playlist", "stream", c.Name, "next", pub.Next)
	}
	return err
}

// own runs the stream st whenever this server holds its lease, until ctx
// ends: standby while another server holds it, running sv while this one
// does, standby again if the lease is lost.
func (l *leases) own(ctx context.Context, st *supervisedStream) error {
	for {
		st.standby.Store(true)
		if err := l.acquire(ctx, st.config.Name); err != nil {
			return nil // stopped while standby: nothing of the stream was made here
		}
		l.log.Info("this server owns the stream", "stream", st.config.Name, "owner", l.owner)
		if err := l.goOn(ctx, st.config); err != nil {
			l.log.Error("cannot read the stream's last published state: retrying", "stream", st.config.Name, "err", err)
			l.release(ctx, st.config.Name)
			select {
			case <-ctx.Done():
				return nil
			case <-time.After(l.poll()):
			}
			continue
		}
		// Renewed until the stream has stopped writing, also while it
		// drains after ctx ended; released only then.
		owned, lose := context.WithCancelCause(ctx)
		renewing, stopRenewing := context.WithCancel(context.WithoutCancel(ctx))
		kept := make(chan struct{})
		go func() {
			defer close(kept)
			l.keep(renewing, st.config.Name, func() { lose(errLeaseLost) })
		}()
		st.standby.Store(false)
		err := st.Run(owned)
		lost := errors.Is(context.Cause(owned), errLeaseLost)
		lose(context.Canceled)
		stopRenewing()
		<-kept
		if !lost {
			l.release(ctx, st.config.Name)
		}
		if !lost || ctx.Err() != nil {
			return err
		}
	}
}
