package marker

import "context"

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
// acknowledged (returned to the caller). Its methods are written out, not
// embedded, so that a method added to Store that changes markers does not
// pass by without its change being told.
type changeLog struct {
	store    Store
	onChange func(context.Context, Change) error
}

// Add implements Store.
func (l changeLog) Add(ctx context.Context, stream string, m Marker) (Marker, error) {
	m, err := l.store.Add(ctx, stream, m)
	if err != nil {
		return m, err
	}
	return m, l.onChange(ctx, Change{Kind: Created, Stream: stream, Marker: m})
}

// Update implements Store.
func (l changeLog) Update(ctx context.Context, stream string, id ID, fn func(*Marker)) (Marker, error) {
	m, err := l.store.Update(ctx, stream, id, fn)
	if err != nil {
		return m, err
	}
	return m, l.onChange(ctx, Change{Kind: Updated, Stream: stream, Marker: m})
}

// Delete implements Store.
func (l changeLog) Delete(ctx context.Context, stream string, id ID) (Marker, error) {
	m, err := l.store.Delete(ctx, stream, id)
	if err != nil {
		return m, err
	}
	return m, l.onChange(ctx, Change{Kind: Deleted, Stream: stream, Marker: m})
}

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
