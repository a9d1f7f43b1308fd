package server

import (
	"cmp"
	"math"
	"net/http"
	"net/netip"
	"strconv"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Limits bound what one client, or all clients of one stream, may cost the
// server. A rate limit that is hit is answered 429 with Retry-After; a size
// limit 400 or 413; each with a JSON message naming the limit, and each is
// counted in hlsmark_http_limited_total. Zero fields take the value of
// DefaultLimits.
type Limits struct {
	// PostRate and PostBurst bound the marker POSTs of one client address:
	// PostRate a second on average, PostBurst at once.
	PostRate  float64
	PostBurst int
	// ListRate and ListBurst bound the markers one client address reads
	// from the marker list and from event-stream replays: ListRate a
	// second on average, ListBurst at once. A list answer costs its limit
	// parameter, a replay the changes it replays (at most Replay).
	ListRate  float64
	ListBurst int
	// StreamMarkersPerMinute bounds the markers posted to one stream by
	// all clients together.
	StreamMarkersPerMinute int
	// DataBytes and DataDepth bound a posted marker's data object: its
	// size in bytes and how deeply it nests.
	DataBytes int
	DataDepth int
	// Replay is the most changes an event stream replays to catch a
	// client up from its Last-Event-ID; a client further behind is told to
	// page through the marker list instead (a "reset" event).
	Replay int
	// ListBytes bounds a marker list answer; a longer list is cut short
	// and says where to go on.
	ListBytes int
	// Blocked bounds the requests waiting at once, server-wide, for a
	// Low-Latency HLS playlist update (blocking reload) or a part not yet
	// written; past it, such a request is answered 503 with Retry-After.
	Blocked int
	// BodyTimeout bounds the time to read a request's body, so a client
	// that sends it a byte at a time cannot hold a connection.
	BodyTimeout time.Duration
}

// DefaultLimits returns the limits a server has unless told otherwise.
func DefaultLimits() Limits {
	return Limits{
		PostRate:               10,
		PostBurst:              20,
		ListRate:               20000,
		ListBurst:              50000,
		StreamMarkersPerMinute: 600,
		DataBytes:              16 << 10,
		DataDepth:              32,
		Replay:                 1000,
		ListBytes:              1 << 20,
		BodyTimeout:            10 * time.Second,
		Blocked:                10000,
	}
}

// withDefaults fills l's zero fields from DefaultLimits.
func (l Limits) withDefaults() Limits {
	d := DefaultLimits()
	l.PostRate = cmp.Or(l.PostRate, d.PostRate)
	l.PostBurst = cmp.Or(l.PostBurst, d.PostBurst)
	l.ListRate = cmp.Or(l.ListRate, d.ListRate)
	l.ListBurst = cmp.Or(l.ListBurst, d.ListBurst)
	l.StreamMarkersPerMinute = cmp.Or(l.StreamMarkersPerMinute, d.StreamMarkersPerMinute)
	l.DataBytes = cmp.Or(l.DataBytes, d.DataBytes)
	l.DataDepth = cmp.Or(l.DataDepth, d.DataDepth)
	l.Replay = cmp.Or(l.Replay, d.Replay)
	l.ListBytes = cmp.Or(l.ListBytes, d.ListBytes)
	l.BodyTimeout = cmp.Or(l.BodyTimeout, d.BodyTimeout)
	l.Blocked = cmp.Or(l.Blocked, d.Blocked)
	return l
}

// maxClients bounds the per-client limiters kept; past it, the limiters of
// clients that are back to a full burst (idle ones) are forgotten.
const maxClients = 10000

// clientLimiter keeps a token bucket per client address (clientAddress).
type clientLimiter struct {
	rate    rate.Limit
	burst   int
	trusted []netip.Prefix

	mu      sync.Mutex
	clients map[string]*rate.Limiter
}

func newClientLimiter(perSecond float64, burst int, trusted []netip.Prefix) *clientLimiter {
	return &clientLimiter{rate: rate.Limit(perSecond), burst: burst, trusted: trusted, clients: map[string]*rate.Limiter{}}
}

// allow takes n tokens for the client of r, or returns how long until
// they are there.
func (c *clientLimiter) allow(r *http.Request, n int) (bool, time.Duration) {
	host := clientAddress(r, c.trusted)
	c.mu.Lock()
	lim, ok := c.clients[host]
	if !ok {
		if len(c.clients) >= maxClients {
			c.forgetIdle()
		}
		lim = rate.NewLimiter(c.rate, c.burst)
		c.clients[host] = lim
	}
	c.mu.Unlock()
	return take(lim, n)
}

// forgetIdle drops the limiters whose bucket is full again: forgetting
// them changes nothing for their clients.
func (c *clientLimiter) forgetIdle() {
	now := time.Now()
	for host, lim := range c.clients {
		if lim.TokensAt(now) >= float64(c.burst) {
			delete(c.clients, host)
		}
	}
}

// take takes n tokens from lim if they are there, or returns how long
// until they will be.
func take(lim *rate.Limiter, n int) (bool, time.Duration) {
	res := lim.ReserveN(time.Now(), min(n, lim.Burst()))
	if d := res.Delay(); d > 0 {
		res.Cancel()
		return false, d
	}
	return true, 0
}

// tooMany answers 429 with a Retry-After of wait rounded up to the second,
// and counts the limit.
func (s *Server) tooMany(w http.ResponseWriter, limit string, wait time.Duration, msg string) {
	s.limited(limit)
	w.Header().Set("Retry-After", strconv.Itoa(max(1, int(math.Ceil(wait.Seconds())))))
	w.Header().Set("Connection", "close") // the body, if any, stays unread
	writeError(w, http.StatusTooManyRequests, msg)
}

// limited counts a request that hit a limit.
func (s *Server) limited(limit string) {
	if s.cfg.Metrics != nil {
		s.cfg.Metrics.Limited(limit)
	}
}

// bodyDeadline gives every request that carries a body BodyTimeout to
// send it. The deadline is the connection's: the server sets a new one for
// the next request on it.
func (s *Server) bodyDeadline(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ContentLength != 0 {
			_ = http.NewResponseController(w).SetReadDeadline(time.Now().Add(s.cfg.Limits.BodyTimeout))
		}
		next.ServeHTTP(w, r)
	})
}
