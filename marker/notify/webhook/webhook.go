package webhook

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	bolt "go.etcd.io/bbolt"

	"github.com/hlsmark/hlsmark/marker"
	"github.com/hlsmark/hlsmark/marker/notify"
)

// Config configures Webhooks.
type Config struct {
	// URLs receive every event.
	URLs []string
	// Secret keys the signature of every body.
	Secret string
	// DB is the bbolt file the outbox is kept in: the marker store's.
	DB *bolt.DB
	// Client sends the deliveries; nil means one with a 10 s timeout.
	Client *http.Client
	// Backoff is the wait after a delivery's first failed attempt, doubled
	// after each next one up to MaxBackoff; zero means DefaultBackoff.
	Backoff, MaxBackoff time.Duration
	// MaxAge is how long a delivery is retried before it is given up
	// (counted and logged); zero means DefaultMaxAge.
	MaxAge time.Duration
	// Metrics, if set, is where the deliveries are counted.
	Metrics prometheus.Registerer
	Log     *slog.Logger
}

// The defaults of Config.
const (
	DefaultBackoff    = time.Second
	DefaultMaxBackoff = 10 * time.Minute
	DefaultMaxAge     = 24 * time.Hour
)

// Webhooks sends the events it is given to its URLs.
type Webhooks struct {
	cfg     Config
	outbox  outbox
	metrics counters

	mu      sync.Mutex
	ctx     context.Context // Run's, once it runs
	wg      sync.WaitGroup
	lanes   map[lane]*queue
	running bool
}

// queue holds a lane's deliveries not yet acknowledged, oldest first; the
// lane's goroutine sends its head.
type queue struct {
	mu   sync.Mutex
	ds   []delivery
	wake chan struct{} // holds a value when ds has grown
}

// New returns webhooks over the outbox in cfg.DB. Run sends.
func New(cfg Config) (*Webhooks, error) {
	if cfg.Client == nil {
		cfg.Client = &http.Client{Timeout: 10 * time.Second}
	}
	if cfg.Backoff <= 0 {
		cfg.Backoff = DefaultBackoff
	}
	if cfg.MaxBackoff <= 0 {
		cfg.MaxBackoff = DefaultMaxBackoff
	}
	if cfg.MaxAge <= 0 {
		cfg.MaxAge = DefaultMaxAge
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	w := &Webhooks{cfg: cfg, outbox: outbox{cfg.DB}, lanes: map[lane]*queue{}, metrics: newCounters()}
	if cfg.Metrics != nil {
		if err := w.metrics.register(cfg.Metrics); err != nil {
			return nil, fmt.Errorf("webhook metrics: %w", err)
		}
	}
	return w, nil
}

// Notify writes the event's deliveries to the outbox, durably, and hands
// them to their lanes. It does not wait for the network.
func (w *Webhooks) Notify(_ context.Context, e notify.Event) error {
	body, err := e.Body()
	if err != nil {
		return fmt.Errorf("webhook: %w", err)
	}
	w.mu.Lock()
	defer w.mu.Unlock() // held across the write: Run reads the outbox under it too, so no delivery is queued twice or missed
	ds, err := w.outbox.add(w.cfg.URLs, e.Stream, e.Rev, body, time.Now())
	if err != nil {
		return err
	}
	if !w.running {
		return nil // Run reads them from the outbox, and counts them then
	}
	for _, d := range ds {
		w.metrics.pending.WithLabelValues(d.Stream).Inc()
		w.queue(d)
	}
	return nil
}

// Resume tells of the changes to a stream's markers that were stored but
// never reached the outbox: a process killed between a change and its
// telling. It runs when the stream's marker service is made, before it
// takes any change: changes after the last revision the outbox took are
// read from the store (marker.ChangesSince) and each event made by body
// and Notified. A stream the outbox has never seen begins at the store's
// latest revision: webhooks added to a server with markers do not replay
// its past, and nor does a stream deleted and made again under its name.
func (w *Webhooks) Resume(ctx context.Context, store marker.Store, stream string, event func(marker.Change) (notify.Event, error)) error {
	told, ok, err := w.outbox.told(stream)
	if err != nil {
		return err
	}
	rev, err := store.Rev(ctx, stream)
	if err != nil {
		return fmt.Errorf("webhook: resume %q: %w", stream, err)
	}
	if !ok || told > rev { // new to the outbox, or purged and made again
		return w.outbox.begin(stream, rev)
	}
	cs, err := marker.ChangesSince(ctx, store, stream, told)
	if err != nil {
		return fmt.Errorf("webhook: resume %q: %w", stream, err)
	}
	for _, c := range cs {
		e, err := event(c)
		if err != nil {
			return fmt.Errorf("webhook: resume %q: %w", stream, err)
		}
		if err := w.Notify(ctx, e); err != nil {
			return err
		}
	}
	if len(cs) > 0 {
		w.cfg.Log.Warn("webhook: changes stored before a stop but not told are told now", "stream", stream, "changes", len(cs), "after_rev", told)
	}
	return nil
}

// Run sends the outbox's deliveries, and those Notify adds, until ctx is
// done; it returns once every lane has stopped. What is not acknowledged
// stays in the outbox for the next run.
func (w *Webhooks) Run(ctx context.Context) error {
	w.mu.Lock()
	ds, err := w.outbox.all()
	if err != nil {
		w.mu.Unlock()
		return err
	}
	w.ctx, w.running = ctx, true
	for _, d := range ds {
		w.metrics.pending.WithLabelValues(d.Stream).Inc()
		w.queue(d)
	}
	w.mu.Unlock()
	<-ctx.Done()
	w.mu.Lock()
	w.running = false
	w.mu.Unlock()
	w.wg.Wait()
	return nil
}

// queue appends d to its lane, starting the lane's goroutine if it is new
// (w.mu held).
func (w *Webhooks) queue(d delivery) {
	q, ok := w.lanes[d.lane()]
	if !ok {
		q = &queue{wake: make(chan struct{}, 1)}
		w.lanes[d.lane()] = q
		w.wg.Add(1)
		ctx := w.ctx
		go func() {
			defer w.wg.Done()
			w.send(ctx, q)
		}()
	}
	q.mu.Lock()
	q.ds = append(q.ds, d)
	q.mu.Unlock()
	select {
	case q.wake <- struct{}{}:
	default:
	}
}

// send delivers a lane's deliveries in order until ctx is done.
func (w *Webhooks) send(ctx context.Context, q *queue) {
	for {
		q.mu.Lock()
		var d delivery
		empty := len(q.ds) == 0
		if !empty {
			d = q.ds[0]
		}
		q.mu.Unlock()
		if empty {
			select {
			case <-q.wake:
				continue
			case <-ctx.Done():
				return
			}
		}
		if !w.deliver(ctx, d) {
			return // stopped: d stays in the outbox
		}
		q.mu.Lock()
		q.ds = q.ds[1:]
		q.mu.Unlock()
	}
}

// deliver sends d until it is acknowledged or given up, and takes it out
// of the outbox; false if ctx ended first.
func (w *Webhooks) deliver(ctx context.Context, d delivery) bool {
	wait := w.cfg.Backoff
	for attempt := 1; ; attempt++ {
		err := w.post(ctx, d)
		if err == nil {
			w.metrics.delivered.WithLabelValues(d.Stream).Inc()
			break
		}
		if ctx.Err() != nil {
			return false
		}
		w.metrics.failed.WithLabelValues(d.Stream).Inc()
		if time.Since(d.Made)+wait > w.cfg.MaxAge {
			w.metrics.dropped.WithLabelValues(d.Stream).Inc()
			w.cfg.Log.Error("webhook delivery given up", "stream", d.Stream, "url", redacted(d.URL), "delivery", d.ID, "attempts", attempt, "age", time.Since(d.Made).Round(time.Second), "err", err)
			break
		}
		w.cfg.Log.Warn("webhook delivery failed", "stream", d.Stream, "url", redacted(d.URL), "delivery", d.ID, "attempt", attempt, "retry_in", wait, "err", err)
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return false
		}
		wait = min(2*wait, w.cfg.MaxBackoff)
	}
	w.metrics.pending.WithLabelValues(d.Stream).Dec()
	if err := w.outbox.remove(d); err != nil {
		// Sent again after a restart: a receiver sees the same delivery
		// id twice, which is what the id is for.
		w.cfg.Log.Error("webhook", "err", err)
	}
	return true
}

// post makes one attempt: nil when the receiver answers 2xx.
func (w *Webhooks) post(ctx context.Context, d delivery) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, d.URL, bytes.NewReader(d.Body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "hlsmark-webhook")
	req.Header.Set("X-Hlsmark-Signature", Signature(w.cfg.Secret, d.Body))
	req.Header.Set("X-Hlsmark-Delivery", d.ID)
	resp, err := w.cfg.Client.Do(req)
	if err != nil {
		return err
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10)) // lets the connection be reused
	resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("answered %s", resp.Status)
	}
	return nil
}

// redacted returns raw with a password in it replaced, for the logs.
func redacted(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparsable URL)"
	}
	return u.Redacted()
}
