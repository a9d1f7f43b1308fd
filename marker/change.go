package marker

import (
	"context"
	"fmt"
	"sync"
)

// Kind says what a change did to a marker. Its text is the event type
// webhooks and MQTT carry.
type Kind string

// The kinds of change.
const (
	Created Kind = "marker.created"
	Updated Kind = "marker.updated"
	Deleted Kind = "marker.deleted"
)

// Change is one stored change to a stream's markers: the marker as it is
// after the change (as it was, for Deleted).
type Change struct {
	Kind   Kind
	Stream string
	Marker Marker
}

// changeLog is the Store a Service writes through: every change the store
// makes is told to onChange once it is durable, and before it is
// acknowledged (returned to the caller). A change and its telling hold a
// lock, so that changes are told in the order of their revisions: a
// teller that records the last revision told (the webhook outbox) can
// resume after a crash from the store's Changes without missing one. Its
// methods are written out, not embedded, so that a method added to Store
// that changes markers does not pass by without its change being told.
type changeLog struct {
	store    Store
	onChange func(context.Context, Change) error
	mu       *sync.Mutex
}

// Add implements Store.
func (l changeLog) Add(ctx context.Context, stream string, m Marker) (Marker, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	m, err := l.store.Add(ctx, stream, m)
	if err != nil {
		return m, err
	}
	return m, l.onChange(ctx, Change{Kind: Created, Stream: stream, Marker: m})
}

// Update implements Store.
func (l changeLog) Update(ctx context.Context, stream string, id ID, fn func(*Marker)) (Marker, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	m, err := l.store.Update(ctx, stream, id, fn)
	if err != nil {
		return m, err
	}
	return m, l.onChange(ctx, Change{Kind: Updated, Stream: stream, Marker: m})
}

// Delete implements Store.
func (l changeLog) Delete(ctx context.Context, stream string, id ID) (Marker, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	m, err := l.store.Delete(ctx, stream, id)
	if err != nil {
		return m, err
	}
	return m, l.onChange(ctx, Change{Kind: Deleted, Stream: stream, Marker: m})
}

// ChangesSince returns the changes to the stream's markers stored after
// revision after, in revision order, each marker once as its latest
// revision left it: Deleted for a tombstone, Created for a marker made
// after after, Updated for one made before it. They are what a teller
// that told every change up to after has not told.
func ChangesSince(ctx context.Context, store Store, stream string, after Rev) ([]Change, error) {
	var out []Change
	for next := after; ; {
		ms, err := store.Changes(ctx, stream, next, changesPage)
		if err != nil {
			return nil, fmt.Errorf("markers: changes of %q after revision %d: %w", stream, after, err)
		}
		for _, m := range ms {
			c := Change{Kind: Updated, Stream: stream, Marker: m}
			switch {
			case m.Deleted:
				c.Kind = Deleted
			case m.CreatedRev > after:
				c.Kind = Created
			}
			out = append(out, c)
		}
		if len(ms) < changesPage {
			return out, nil
		}
		next = ms[len(ms)-1].Rev
	}
}

// changesPage is how many changes ChangesSince reads at a time.
const changesPage = 1000

// Get implements Store.
func (l changeLog) Get(ctx context.Context, stream string, id ID) (Marker, error) {
	return l.store.Get(ctx, stream, id)
}

// List implements Store.
func (l changeLog) List(ctx context.Context, stream string, after ID, limit int) ([]Marker, error) {
	return l.store.List(ctx, stream, after, limit)
}

// Changes implements Store.
func (l changeLog) Changes(ctx context.Context, stream string, after Rev, limit int) ([]Marker, error) {
	return l.store.Changes(ctx, stream, after, limit)
}

// Rev implements Store.
func (l changeLog) Rev(ctx context.Context, stream string) (Rev, error) {
	return l.store.Rev(ctx, stream)
}

// Purge implements Store. A purge is the stream's end, not a change to
// its markers: no change is told.
func (l changeLog) Purge(ctx context.Context, stream string) error {
	return l.store.Purge(ctx, stream)
}

// Close implements Store.
func (l changeLog) Close() error { return l.store.Close() }
