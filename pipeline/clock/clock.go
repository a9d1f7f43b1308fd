package clock

import (
	"context"
	"sync"
	"time"
)

// Clock is the generator clock: the source of every frame's timestamp.
// Real-time sources pace themselves with WaitUntil, which blocks on a timer
// and never spins.
type Clock interface {
	// Now reads the clock. The Real clock's readings carry Go's monotonic
	// reading, so differences between them ignore wall-clock steps.
	Now() time.Time
	// WaitUntil blocks until the clock reads t or later, or ctx is done.
	WaitUntil(ctx context.Context, t time.Time) error
}

// Real is the process's monotonic clock.
type Real struct{}

// Now returns time.Now().
func (Real) Now() time.Time { return time.Now() }

// WaitUntil sleeps on a timer until t.
func (Real) WaitUntil(ctx context.Context, t time.Time) error {
	d := time.Until(t)
	if d <= 0 {
		return ctx.Err()
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-timer.C:
		return nil
	}
}

// Fake is a clock for tests: WaitUntil returns at once, moving the clock to
// the requested time plus whatever Jitter returns, so a test runs as fast as
// the pipeline can go while frames keep realistic, uneven spacing.
type Fake struct {
	mu     sync.Mutex
	now    time.Time
	jitter func() time.Duration
}

// NewFake returns a fake clock reading start. jitter, if not nil, is called
// on every WaitUntil and its result (which must not be negative) is added to
// the time waited for, as a late wake-up of a real timer would be.
func NewFake(start time.Time, jitter func() time.Duration) *Fake {
	return &Fake{now: start, jitter: jitter}
}

// Now reads the fake clock.
func (f *Fake) Now() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.now
}

// Advance moves the clock forward by d.
func (f *Fake) Advance(d time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.now = f.now.Add(d)
}

// WaitUntil moves the clock to t (plus jitter) if it reads earlier, and
// returns without sleeping.
func (f *Fake) WaitUntil(ctx context.Context, t time.Time) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if t.After(f.now) {
		f.now = t
	}
	if f.jitter != nil {
		f.now = f.now.Add(f.jitter())
	}
	return nil
}
