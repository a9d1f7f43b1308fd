package marker

import "context"

// Store keeps markers. Every method is safe for concurrent use, and a
// marker is durable once Add or Update has returned it: a crash after that
// loses nothing. The embedded implementation is Bolt; marker/postgres
// keeps markers in PostgreSQL, shared by several servers.
type Store interface {
	// Add stores a new marker, assigning its ID and revisions.
	Add(ctx context.Context, stream string, m Marker) (Marker, error)
	// Update changes a marker with fn and gives it a new revision. A
	// deleted marker is ErrNotFound.
	Update(ctx context.Context, stream string, id ID, fn func(*Marker)) (Marker, error)
	// Delete deletes a marker: it keeps it as a tombstone (Deleted set)
	// at a new revision, which it returns. A deleted marker is
	// ErrNotFound.
	Delete(ctx context.Context, stream string, id ID) (Marker, error)
	// Get returns one marker, or ErrNotFound (also for a deleted one).
	Get(ctx context.Context, stream string, id ID) (Marker, error)
	// List returns up to limit markers with IDs above after, ascending,
	// deleted ones left out.
	List(ctx context.Context, stream string, after ID, limit int) ([]Marker, error)
	// Changes returns up to limit markers whose revision is above after,
	// in revision order: the changes a subscriber has not seen yet, each
	// marker once, as its latest revision left it (a tombstone for a
	// deleted one).
	Changes(ctx context.Context, stream string, after Rev, limit int) ([]Marker, error)
	// Rev returns the stream's latest revision (0 if it has none).
	Rev(ctx context.Context, stream string) (Rev, error)
	// Purge deletes every marker of the stream, and its revisions: a
	// stream made again under the name starts from ID 1.
	Purge(ctx context.Context, stream string) error
	// Close releases the store.
	Close() error
}
