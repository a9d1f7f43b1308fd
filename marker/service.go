package marker

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hlsmark/hlsmark/pipeline/clock"
	"github.com/hlsmark/hlsmark/pipeline/media"
	"github.com/hlsmark/hlsmark/playlist"
)

// queueDepth bounds the detections, segment publications and listed parts
// waiting for the service. All are rare (events come seconds apart,
// segments every second or two, parts a few a second), so a full queue
// means the store is stuck; the pipeline then blocks rather than drop a
// marker.
const queueDepth = 64

// Config configures a Service.
type Config struct {
	Stream string
	Store  Store
	// Playlist is the stream's playlist, in which the service places
	// markers; nil on a node that does not encode the stream (an edge):
	// its markers are stored, and placed by the node that does (Learn).
	Playlist *playlist.Playlist
	Timeline clock.Timeline
	// Clock is the generator clock: no marker may be placed after its
	// current reading, unless Present says the stream is further on.
	Clock clock.Clock
	// Present, if set, returns the newest PTS the stream has had from a
	// source that stamps its own frames (see pipeline.Stamped): markers may
	// be placed up to it when it is past the clock's reading.
	Present func() (clock.Ticks, bool)
	Log     *slog.Logger
	// OnAdded, if set, is told of every marker stored, once it is durable.
	OnAdded func(Marker)
	// OnEdited and OnDeleted, if set, are told of every marker edited or
	// deleted through Edit and Delete, once the change is durable.
	OnEdited, OnDeleted func(Marker)
	// OnUnlisted, if set, is called for every marker the playlist did not
	// list because it lists as many date ranges as it may.
	OnUnlisted func()
	// OnChange, if set, is told of every change the service (or a writer
	// through Store) makes to the stream's markers, once the store has it
	// and before the change is acknowledged: a POST is answered after it
	// returns. Its error fails the change's caller (the marker stays
	// stored). It runs on the changing goroutine, so it must not wait on
	// the network: the webhook outbox writes to disk and returns.
	OnChange func(context.Context, Change) error
}

// Service turns detections into markers, places markers in the stream,
// keeps the playlist's EXT-X-DATERANGE tags and wakes subscribers.
type Service struct {
	cfg   Config
	store Store // cfg.Store, through a changeLog with OnChange
	jobs  chan func(context.Context) error

	openID  ID            // the detector marker still open, or 0 (Run's goroutine only)
	learned Rev           // the last revision learn read (Run's goroutine only)
	learn   chan struct{} // Learn's wake-up for Run, coalesced (holds at most one)
	// following is set by the first Learn: the store tells of changes,
	// this service's own too, so what it adds is read back (mine).
	following atomic.Bool

	mu      sync.Mutex
	pending map[ID]clock.Ticks // markers whose segment is not published yet
	mine    map[ID]struct{}    // markers this service added since Learn was first called, until learn reads them back

	subs *subscribers // shared with the services the stream is made again with (Adopt)
}

// subscribers are the open subscriptions to a stream's marker changes.
// They outlive a service: a stream made again hands them on (Adopt).
type subscribers struct {
	mu  sync.Mutex
	chs map[chan struct{}]struct{}
}

// NewService returns a service; Run must run for detections and segment
// publications to be processed.
func NewService(cfg Config) *Service {
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	store := cfg.Store
	if cfg.OnChange != nil {
		store = changeLog{store: store, onChange: cfg.OnChange, mu: &sync.Mutex{}}
	}
	return &Service{
		cfg:     cfg,
		store:   store,
		jobs:    make(chan func(context.Context) error, queueDepth),
		learn:   make(chan struct{}, 1),
		pending: map[ID]clock.Ticks{},
		mine:    map[ID]struct{}{},
		subs:    &subscribers{chs: map[chan struct{}]struct{}{}},
	}
}

// Stream returns the stream's name.
func (s *Service) Stream() string { return s.cfg.Stream }

// Run processes detections and segment publications in the order they
// came, until ctx is done and the queue is drained.
func (s *Service) Run(ctx context.Context) {
	for {
		select {
		case <-s.learn:
			if err := s.learnChanges(context.WithoutCancel(ctx)); err != nil {
				s.cfg.Log.Error("markers", "stream", s.cfg.Stream, "err", err)
			}
		case job := <-s.jobs:
			// A job runs to its end even if ctx ends meanwhile: a
			// detection taken from the queue is stored, not dropped.
			if err := job(context.WithoutCancel(ctx)); err != nil {
				s.cfg.Log.Error("markers", "stream", s.cfg.Stream, "err", err)
			}
		case <-ctx.Done():
			for {
				select {
				case job := <-s.jobs:
					if err := job(context.WithoutCancel(ctx)); err != nil {
						s.cfg.Log.Error("markers", "stream", s.cfg.Stream, "err", err)
					}
				default:
					return
				}
			}
		}
	}
}

// Restore puts the date ranges of the stored markers still in the window
// back into the playlist, after a restart, with one playlist write; those
// past the playlist's cap stay unlisted, as they were. A
// detector marker that an earlier run left open (it was killed while the
// event showed) is closed, cut, at the end of the last segment written.
func (s *Service) Restore(ctx context.Context) error {
	// Changes made from now on by other nodes are Learn's; those before
	// are placed here.
	rev, err := s.cfg.Store.Rev(ctx, s.cfg.Stream)
	if err != nil {
		return err
	}
	s.learned = rev
	// Read once Run runs, for what other nodes change from here to the
	// stream's first notification.
	s.readChanges()
	var end clock.Ticks // of the last segment written
	if segs := s.cfg.Playlist.Segments(); len(segs) > 0 {
		end = segs[len(segs)-1].End()
	}
	var ranges []playlist.DateRange
	var after ID
	for {
		ms, err := s.store.List(ctx, s.cfg.Stream, after, 1000)
		if err != nil {
			return err
		}
		if len(ms) == 0 {
			break
		}
		for _, m := range ms {
			if m.Source == FromDetector && m.Duration == 0 && m.PTS < end {
				if m, err = s.store.Update(ctx, s.cfg.Stream, m.ID, func(m *Marker) { closeMarker(m, end-m.PTS, true) }); err != nil {
					return err
				}
			}
			if _, ok := s.cfg.Playlist.Locate(m.PTS); ok {
				ranges = append(ranges, s.DateRange(m))
			}
		}
		after = ms[len(ms)-1].ID
	}
	if len(ranges) == 0 {
		return nil
	}
	// One range at a time, so that a range the playlist has no room for
	// (it lists as many as it may) is told apart from a failure. A range
	// the playlist kept listed keeps its tags as served, though its marker
	// may have been edited since (ReviseDateRange).
	for _, r := range ranges {
		err := s.cfg.Playlist.ReviseDateRange(r)
		if errors.Is(err, playlist.ErrTooManyDateRanges) {
			if s.cfg.OnUnlisted != nil {
				s.cfg.OnUnlisted()
			}
			continue
		}
		if err != nil {
			return err
		}
	}
	return s.cfg.Playlist.Flush() // start serving with the ranges in place
}

// Detected queues a detection from the pipeline. It is called on the
// pipeline's goroutine and does not wait for the store.
func (s *Service) Detected(d media.Detection) {
	s.jobs <- func(ctx context.Context) error { return s.detected(ctx, d) }
}

// Published queues a segment the playlist has just listed.
func (s *Service) Published(seg media.Segment) {
	s.jobs <- func(ctx context.Context) error { return s.published(ctx, seg) }
}

// PartListed queues a Low-Latency HLS part the playlist has just listed.
func (s *Service) PartListed(part media.Part) {
	s.jobs <- func(ctx context.Context) error { return s.partListed(ctx, part) }
}

func (s *Service) detected(ctx context.Context, d media.Detection) error {
	switch d.Kind {
	case media.Opened:
		data, _ := json.Marshal(map[string]int{"x": d.Box.Min.X, "y": d.Box.Min.Y, "width": d.Box.Dx(), "height": d.Box.Dy()})
		m, err := s.add(ctx, Marker{Label: d.Label, PTS: d.Start, Source: FromDetector, Data: data})
		if err != nil {
			return err
		}
		s.openID = m.ID
	case media.Closed:
		if s.openID == 0 {
			return nil // opened before this run started
		}
		id := s.openID
		s.openID = 0
		m, err := s.store.Update(ctx, s.cfg.Stream, id, func(m *Marker) { closeMarker(m, d.End-d.Start, d.Cut) })
		if errors.Is(err, ErrNotFound) {
			return nil // deleted while its event showed (see Delete)
		}
		if err != nil {
			return err
		}
		s.changed(m)
	}
	return nil
}

// closeMarker sets a detector marker's duration. A cut marker, whose event
// still showed when the stream stopped, also gets "cut": true in its data:
// its duration runs to the stream's end, not to the event's.
func closeMarker(m *Marker, d clock.Ticks, cut bool) {
	m.Duration = d
	if !cut {
		return
	}
	var data map[string]any
	if json.Unmarshal(m.Data, &data) != nil || data == nil {
		data = map[string]any{}
	}
	data["cut"] = true
	m.Data, _ = json.Marshal(data)
}

// published gives a new revision to the markers the segment places, so
// subscribers learn their sequence and offset.
func (s *Service) published(ctx context.Context, seg media.Segment) error {
	return s.place(ctx, seg.End())
}

// partListed gives a new revision to the markers the part places (in Low-
// Latency HLS a marker's frame is listed with its part, before its
// segment), so subscribers learn their sequence, offset and part.
func (s *Service) partListed(ctx context.Context, part media.Part) error {
	return s.place(ctx, part.Start+part.Duration)
}

// place gives a new revision to the pending markers before end that the
// playlist now lists.
//
// Readers see a segment only once the playlist has written it, and a
// marker's date range only once it has written that, so this waits for a
// write first (on the service's goroutine, not the pipeline's), and only
// then takes the pending markers. In the other order, a marker added
// meanwhile (a POST, on another goroutine) would be missed by both sides:
// add would not find the segment yet and make the marker pending, after
// this had looked for pending markers, and no subscriber would ever learn
// its position. Taken after the write, a marker is either pending already
// or found by add's own Locate.
func (s *Service) place(ctx context.Context, end clock.Ticks) error {
	if err := s.cfg.Playlist.Flush(); err != nil {
		return err
	}
	s.mu.Lock()
	var placed []ID
	for id, pts := range s.pending {
		if pts < end {
			delete(s.pending, id)
			// Locate, not a range check: an earlier segment whose write
			// failed is listed now too.
			if _, ok := s.cfg.Playlist.Locate(pts); ok {
				placed = append(placed, id)
			}
		}
	}
	s.mu.Unlock()
	for _, id := range placed {
		if err := s.touch(ctx, id); err != nil {
			return err
		}
	}
	return nil
}

// add stores a new marker and places it, now or when its segment comes.
func (s *Service) add(ctx context.Context, m Marker) (Marker, error) {
	m.Created = time.Now().UTC()
	m, err := s.store.Add(ctx, s.cfg.Stream, m)
	if err != nil {
		return m, err
	}
	if s.cfg.OnAdded != nil {
		s.cfg.OnAdded(m)
	}
	if s.cfg.Playlist != nil && s.following.Load() {
		s.mu.Lock()
		s.mine[m.ID] = struct{}{}
		s.mu.Unlock()
	}
	s.pend(m)
	s.changed(m)
	return m, nil
}

// pend makes marker m pending if its segment is yet to come, and says
// whether the playlist lists its segment already; without a playlist (an
// edge) it does nothing: the encoder places it (Learn).
func (s *Service) pend(m Marker) (listed bool) {
	if s.cfg.Playlist == nil {
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	_, listed = s.cfg.Playlist.Locate(m.PTS)
	if !listed && m.PTS >= s.windowStart() {
		s.pending[m.ID] = m.PTS
	}
	return listed
}

// changed updates the marker's date range and wakes subscribers. A range
// already listed keeps its tags as served: an edited label shows in the
// API only, and a duration only where the range had none
// (playlist.ReviseDateRange).
func (s *Service) changed(m Marker) {
	if s.cfg.Playlist == nil {
		s.notify()
		return
	}
	err := s.cfg.Playlist.ReviseDateRange(s.DateRange(m))
	switch {
	case errors.Is(err, playlist.ErrTooManyDateRanges):
		// A flood of markers: each is stored and served by the API;
		// counted, not logged one by one.
		if s.cfg.OnUnlisted != nil {
			s.cfg.OnUnlisted()
		}
	case err != nil:
		s.cfg.Log.Error("markers", "stream", s.cfg.Stream, "err", err)
	}
	s.notify()
}

// DateRange returns the playlist tag of marker m. A detector marker
// without a duration is Open: its event still shows, so its range stays
// listed until it closes. A marker from the API without a duration is an
// instant.
func (s *Service) DateRange(m Marker) playlist.DateRange {
	return playlist.DateRange{
		ID:       "marker-" + strconv.FormatUint(uint64(m.ID), 10),
		Start:    s.cfg.Timeline.Time(m.PTS),
		Duration: m.Duration.Duration(),
		Open:     m.Source == FromDetector && m.Duration == 0,
		Label:    m.Label,
	}
}

// windowStart returns the first PTS still in the playlist, or 0.
func (s *Service) windowStart() clock.Ticks {
	if s.cfg.Playlist == nil {
		return 0
	}
	if segs := s.cfg.Playlist.Segments(); len(segs) > 0 {
		return segs[0].FirstPTS
	}
	return 0
}

// Range returns the PTS range a new marker may be placed in: from the
// start of the window to the present, the generator clock's or, if later,
// the newest PTS of a source that stamps its own frames.
func (s *Service) Range() (first, last clock.Ticks) {
	last = s.cfg.Timeline.PTS(s.cfg.Clock.Now())
	if s.cfg.Present != nil {
		if p, ok := s.cfg.Present(); ok {
			last = max(last, p)
		}
	}
	return s.windowStart(), last
}

// Timeline returns the stream's timeline.
func (s *Service) Timeline() clock.Timeline { return s.cfg.Timeline }

// Post stores a marker from an external detector. Its PTS must lie in
// Range; ErrOutOfRange says when it does not.
func (s *Service) Post(ctx context.Context, m Marker) (Marker, error) {
	if first, last := s.Range(); m.PTS < first || m.PTS > last {
		return Marker{}, fmt.Errorf("%w: pts %d is outside the stream's known range %d to %d", ErrOutOfRange, m.PTS, first, last)
	}
	m.Source = FromAPI
	return s.add(ctx, m)
}

// ErrOutOfRange is returned for a marker placed outside the stream.
var ErrOutOfRange = errors.New("out of range")

// Position returns where pts lies in the current window or, with
// retention, among the segments retained past it (playlist.Retained).
func (s *Service) Position(pts clock.Ticks) (playlist.Position, bool) {
	if s.cfg.Playlist == nil {
		return playlist.Position{}, false
	}
	return s.cfg.Playlist.Retained(pts)
}

// Store returns the service's store: changes made through it are told to
// OnChange like the service's own.
func (s *Service) Store() Store { return s.store }

// Subscribe returns a channel that receives a value (coalesced: it holds
// at most one) whenever the stream's markers change, and a function that
// ends the subscription. It refuses (ok false) when limit subscriptions
// are already open.
func (s *Service) Subscribe(limit int) (_ <-chan struct{}, cancel func(), ok bool) {
	ch := make(chan struct{}, 1)
	subs := s.subs
	subs.mu.Lock()
	defer subs.mu.Unlock()
	if len(subs.chs) >= limit {
		return nil, nil, false
	}
	subs.chs[ch] = struct{}{}
	return ch, func() {
		subs.mu.Lock()
		delete(subs.chs, ch)
		subs.mu.Unlock()
	}, true
}

// Subscribers returns how many subscriptions are open.
func (s *Service) Subscribers() int {
	s.subs.mu.Lock()
	defer s.subs.mu.Unlock()
	return len(s.subs.chs)
}

// Adopt takes over the subscriptions of old, the service of the stream
// this one's is made again from (a Supervisor's), and wakes them to read
// what changed meanwhile: a client following the old one's changes
// follows this one's. It must be called before the service is used.
func (s *Service) Adopt(old *Service) {
	s.subs = old.subs
	s.notify()
}

// Wake wakes the stream's subscribers to read the store's changes: for a
// change the service did not make, one another node wrote to a shared
// store, as the store's notifications tell.
func (s *Service) Wake() { s.notify() }

func (s *Service) notify() {
	s.subs.mu.Lock()
	defer s.subs.mu.Unlock()
	for ch := range s.subs.chs {
		select {
		case ch <- struct{}{}:
		default: // already woken; it will read every change from the store
		}
	}
}
