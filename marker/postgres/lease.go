package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// Streams are owned through leases, rows of stream_leases naming the node
// that encodes the stream and until when, by the database's clock, not
// through session advisory locks: a lock dies with its connection, so a
// network blip of a second would hand the stream to another node while
// the owner still encodes, and a pool hides which connection holds it. A
// lease outlives a blip shorter than itself, needs no connection held,
// and can be read (who owns what) with plain SQL.

// Hold takes the lease on stream for owner, or renews it, for ttl from
// now by the database's clock. It reports false, changing nothing, while
// another owner's lease has not expired.
func (s *Store) Hold(ctx context.Context, stream, owner string, ttl time.Duration) (bool, error) {
	var got string
	err := s.pool.QueryRow(ctx, `INSERT INTO stream_leases (stream, owner, expires)
		VALUES ($1, $2, now() + make_interval(secs => $3))
		ON CONFLICT (stream) DO UPDATE SET owner = EXCLUDED.owner, expires = EXCLUDED.expires
		WHERE stream_leases.owner = EXCLUDED.owner OR stream_leases.expires < now()
		RETURNING owner`, stream, owner, ttl.Seconds()).Scan(&got)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return false, nil
	case err != nil:
		return false, fmt.Errorf("postgres: lease on stream %s: %w", stream, err)
	}
	return true, nil
}

// Release gives up owner's lease on stream, so that another node takes
// it at once; a lease owner no longer holds is left alone.
func (s *Store) Release(ctx context.Context, stream, owner string) error {
	if _, err := s.pool.Exec(ctx, `DELETE FROM stream_leases WHERE stream = $1 AND owner = $2`, stream, owner); err != nil {
		return fmt.Errorf("postgres: release the lease on stream %s: %w", stream, err)
	}
	return nil
}
