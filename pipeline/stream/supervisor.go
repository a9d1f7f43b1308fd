package stream

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"
)

// The pauses before a failed stream is made again: the first, doubled at
// each failure up to the last.
const (
	FirstRetry = time.Second
	LastRetry  = 30 * time.Second
)

// States a stream is in, as GET /api/streams names them.
const (
	Starting = "starting" // made, no segment listed yet
	Live     = "live"     // listing segments
	Stalled  = "stalled"  // no segment listed for three target durations
	// Reconnecting: the source lost its (network or camera) input and is
	// getting it back.
	Reconnecting = "reconnecting"
	Ended        = "ended"  // its input ended: served on, with EXT-X-ENDLIST
	Failed       = "failed" // failed: its source for good, else made again after a pause
)

// Supervisor runs one stream for as long as it is wanted. It makes the
// stream, runs it, and when it fails (its encoder, its path to disk, or
// its making) makes it again after a pause that doubles from FirstRetry
// to LastRetry, and starts over from FirstRetry after a run that lasted
// longer than LastRetry. The stream made again goes on in the same
// folder: its segments numbered on, the first one marked
// EXT-X-DISCONTINUITY. A stream whose input ends is not made again, nor
// one whose source failed: a file that cannot be read would fail again
// the same way, and a network source reconnects by itself; the stream
// stays failed, its playlist ended, and is served as it is.
type Supervisor struct {
	name string
	make func() (*Stream, error)
	log  *slog.Logger

	first *Stream // made by Start, run first

	mu      sync.Mutex
	cur     *Stream // the stream made last, nil before the first
	lastErr error   // why the last stream failed, or could not be made
	ended   bool
}

// NewSupervisor returns the supervisor of the stream called name, made by
// make: a Config with Supervised set, so that a failure leaves its
// playlist open for the next.
func NewSupervisor(name string, make func() (*Stream, error), log *slog.Logger) *Supervisor {
	if log == nil {
		log = slog.Default()
	}
	return &Supervisor{name: name, make: make, log: log}
}

// Start makes the stream now, so that an error in making it comes back
// to the caller (a command line refused at start) instead of being
// retried. Run runs the stream it made.
func (sv *Supervisor) Start() error {
	st, err := sv.make()
	if err != nil {
		return err
	}
	sv.mu.Lock()
	sv.cur, sv.first = st, st
	sv.mu.Unlock()
	return nil
}

// Name returns the stream's name.
func (sv *Supervisor) Name() string { return sv.name }

// Current returns the stream made last, or nil if none could be made yet.
func (sv *Supervisor) Current() *Stream {
	sv.mu.Lock()
	defer sv.mu.Unlock()
	return sv.cur
}

// State returns the stream's state and, for a failed, reconnecting or
// stalled one, why: failed while it waits to be made again, starting
// before it is first made, else the state of the stream made last.
func (sv *Supervisor) State() (state, reason string) {
	sv.mu.Lock()
	cur, lastErr, ended := sv.cur, sv.lastErr, sv.ended
	sv.mu.Unlock()
	switch {
	case lastErr != nil:
		return Failed, lastErr.Error()
	case cur == nil:
		return Starting, ""
	case ended:
		return Ended, ""
	}
	return cur.State()
}

// Run makes and runs the stream until ctx ends or its input does. When
// ctx ends, the stream's playlist is ended with EXT-X-ENDLIST, also if it
// was waiting to be made again, unless ctx was cancelled with cause
// ErrReplaced.
func (sv *Supervisor) Run(ctx context.Context) error {
	wait := FirstRetry
	for {
		started := time.Now()
		ran, err := sv.runOnce(ctx)
		if ctx.Err() != nil {
			if !ran {
				err = nil // not made: a state, not an error of the stop
			}
			return sv.end(ctx, err)
		}
		if err == nil {
			return nil // the input ended, or failed for good
		}
		if time.Since(started) > LastRetry {
			wait = FirstRetry
		}
		sv.log.Error("the stream failed: making it again", "stream", sv.name, "in", wait, "err", err)
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return sv.end(ctx, nil)
		case <-t.C:
		}
		wait = min(2*wait, LastRetry)
	}
}

// runOnce makes the stream and runs it. It returns nil if the input
// ended or failed (the stream ended then, its failure kept for State),
// and why the stream failed otherwise; ran says whether it was made and
// run.
func (sv *Supervisor) runOnce(ctx context.Context) (ran bool, _ error) {
	st, err := sv.first, error(nil)
	if st == nil {
		st, err = sv.make()
	}
	sv.first = nil
	if err != nil {
		sv.failed(err)
		return false, err
	}
	sv.mu.Lock()
	if sv.cur != nil && sv.cur != st {
		// Clients following the markers of the stream that failed
		// follow this one's.
		st.Markers().Adopt(sv.cur.Markers())
	}
	sv.cur, sv.lastErr = st, nil
	sv.mu.Unlock()
	if err = st.Run(ctx); err != nil {
		sv.failed(err)
		return true, err
	}
	if ferr := st.Failed(); ferr != nil {
		sv.failed(ferr)
		return true, nil
	}
	sv.mu.Lock()
	sv.ended = true
	sv.mu.Unlock()
	return true, nil
}

// failed records why the stream failed.
func (sv *Supervisor) failed(err error) {
	sv.mu.Lock()
	sv.lastErr = err
	sv.mu.Unlock()
}

// end ends the playlist of a stream stopped while failed: its last
// stream left it open for the next, which will not come. A stream
// replaced (ctx's cause is ErrReplaced) leaves it open for its
// replacement.
func (sv *Supervisor) end(ctx context.Context, err error) error {
	cur := sv.Current()
	if cur == nil || cur.Playlist().Closed() || errors.Is(context.Cause(ctx), ErrReplaced) {
		return err
	}
	return errors.Join(err, cur.Playlist().Close())
}
