package bucket

import (
	"context"
	"time"
)

// watch reports the lag every quarter of Target until ctx ends, and logs
// when it goes past Target and when it comes back.
func (m *Mirror) watch(ctx context.Context) {
	t := time.NewTicker(max(m.cfg.Target/4, 10*time.Millisecond))
	defer t.Stop()
	for {
		m.look()
		select {
		case <-t.C:
		case <-ctx.Done():
			return
		}
	}
}

// Lag returns how far uploads are behind: the age of the oldest segment or
// playlist not yet uploaded, 0 if none waits.
func (m *Mirror) Lag() time.Duration {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.lagLocked()
}

func (m *Mirror) lagLocked() time.Duration {
	var since time.Time
	switch {
	case len(m.queue) > 0:
		since = m.queue[0].since
	case m.list != nil:
		since = m.list.since
	default:
		return 0
	}
	return max(m.cfg.Now().Sub(since), 0)
}

func (m *Mirror) look() {
	m.mu.Lock()
	lag, queued := m.lagLocked(), len(m.queue)
	was := m.behind
	m.behind = lag > m.cfg.Target
	m.mu.Unlock()
	if m.cfg.OnLag != nil {
		m.cfg.OnLag(lag)
	}
	switch {
	case lag > m.cfg.Target && !was:
		m.cfg.Log.Warn("uploads to the bucket fall behind by more than a segment", "stream", m.cfg.Stream, "lag", lag, "segments_waiting", queued)
	case lag <= m.cfg.Target && was:
		m.cfg.Log.Info("uploads to the bucket caught up", "stream", m.cfg.Stream)
	}
}
