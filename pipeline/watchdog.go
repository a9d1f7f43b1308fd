package pipeline

import (
	"context"
	"sync"
	"time"

	"github.com/asticode/go-astiav"
)

// watchdog bounds libav's blocking calls on one demuxer through its
// interrupt callback: while a call is armed, a deadline or the end of
// ctx sets the callback's flag, and libav's I/O, which polls the flag,
// gives up with AVERROR_EXIT. Only the call it was armed for is
// interrupted: a timer that fires after its call returned finds a newer
// generation and does nothing.
type watchdog struct {
	intr astiav.IOInterrupter // held here: libav keeps a pointer to its flag

	mu      sync.Mutex
	gen     uint64 // counts arm and disarm calls: the armed call's number
	expired bool   // the armed call's deadline passed
}

// newWatchdog installs an interrupt callback on fc.
func newWatchdog(fc *astiav.FormatContext) *watchdog {
	return &watchdog{intr: fc.SetInterruptCallback()}
}

// arm guards the next blocking call: after timeout (none if 0), or when
// ctx ends, libav is told to give up. Call the returned function when the
// call has returned; it reports whether the deadline interrupted it.
func (w *watchdog) arm(ctx context.Context, timeout time.Duration) (disarm func() (timedOut bool)) {
	w.mu.Lock()
	w.gen++
	gen := w.gen
	w.expired = false
	w.intr.Resume()
	w.mu.Unlock()
	fire := func(deadline bool) func() {
		return func() {
			w.mu.Lock()
			defer w.mu.Unlock()
			if w.gen == gen {
				w.expired = deadline
				w.intr.Interrupt()
			}
		}
	}
	stopCtx := context.AfterFunc(ctx, fire(false))
	var timer *time.Timer
	if timeout > 0 {
		timer = time.AfterFunc(timeout, fire(true))
	}
	return func() bool {
		stopCtx()
		if timer != nil {
			timer.Stop()
		}
		w.mu.Lock()
		defer w.mu.Unlock()
		w.gen++
		return w.expired
	}
}
