package pipeline

import "time"

// The waits between a live source's attempts to reconnect: doubling from
// minBackoff up to maxBackoff, and back to minBackoff once a connection
// has delivered frames for goodRun.
const (
	minBackoff = time.Second
	maxBackoff = 30 * time.Second
	goodRun    = maxBackoff
)

// backoff is the wait before the next reconnection attempt.
type backoff struct{ next time.Duration }

// delay returns the wait before this attempt and doubles the next one.
func (b *backoff) delay() time.Duration {
	d := max(b.next, minBackoff)
	b.next = min(2*d, maxBackoff)
	return d
}

// reset makes the next wait minBackoff again.
func (b *backoff) reset() { b.next = 0 }
