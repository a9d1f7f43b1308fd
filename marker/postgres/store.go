package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/url"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/hlsmark/hlsmark/marker"
)

// Store is a marker.Store in a PostgreSQL database, shared by every node
// that opens it.
type Store struct {
	pool   *pgxpool.Pool
	listen *pgx.ConnConfig // for Listen's own connection
}

// CheckURL checks that s is a postgres:// (or postgresql://) URL that
// pgx can connect with, without connecting.
func CheckURL(s string) error {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		return errors.New("want a postgres://[user[:password]@]host[:port]/database URL")
	}
	if _, err := pgxpool.ParseConfig(s); err != nil {
		// pgx's message quotes the URL (its password masked); the cause
		// alone, when it has one, says what is wrong with it.
		if cause := errors.Unwrap(err); cause != nil {
			err = cause
		}
		return fmt.Errorf("not a PostgreSQL URL pgx takes: %w", err)
	}
	return nil
}

// Open connects to the database at url (a postgres:// URL), makes or
// migrates the schema, and returns the store. It fails if the database
// cannot be reached before ctx ends.
func Open(ctx context.Context, url string) (*Store, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("marker store: %w", err)
	}
	where := fmt.Sprintf("PostgreSQL at %s:%d, database %s", cfg.ConnConfig.Host, cfg.ConnConfig.Port, cfg.ConnConfig.Database)
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("marker store: %s: %w", where, err)
	}
	if err := migrate(ctx, pool); err != nil {
		pool.Close()
		return nil, fmt.Errorf("marker store: %s: %w", where, err)
	}
	return &Store{pool: pool, listen: cfg.ConnConfig.Copy()}, nil
}

// columns are a marker's columns, in the order scan reads them.
const columns = `id, rev, created_rev, label, pts, duration, source, data::text, created, deleted`

// scan reads one row of columns.
func scan(row pgx.Row) (marker.Marker, error) {
	var (
		m                   marker.Marker
		id, rev, createdRev int64
		data                *string
		source              string
	)
	err := row.Scan(&id, &rev, &createdRev, &m.Label, &m.PTS, &m.Duration, &source, &data, &m.Created, &m.Deleted)
	m.ID, m.Rev, m.CreatedRev, m.Source = marker.ID(id), marker.Rev(rev), marker.Rev(createdRev), marker.Source(source)
	m.Created = m.Created.UTC()
	if data != nil {
		m.Data = json.RawMessage(*data)
	}
	return m, err
}

// dataParam is a marker's data as stored: as encoding/json writes it (the
// bbolt store's form: compact, HTML characters escaped), or NULL.
func dataParam(d json.RawMessage) (*string, error) {
	if len(d) == 0 {
		return nil, nil
	}
	b, err := json.Marshal(d)
	if err != nil {
		return nil, err
	}
	s := string(b)
	return &s, nil
}

// write runs fn in a transaction, committed if fn returns nil.
func (s *Store) write(ctx context.Context, fn func(pgx.Tx) error) error {
	return pgx.BeginFunc(ctx, s.pool, fn)
}

// Add implements marker.Store.
func (s *Store) Add(ctx context.Context, stream string, m marker.Marker) (marker.Marker, error) {
	// What PostgreSQL keeps of the time: the marker returned is the one
	// read back.
	m.Created = m.Created.Truncate(time.Microsecond)
	data, err := dataParam(m.Data)
	if err != nil {
		return marker.Marker{}, fmt.Errorf("marker store: add: %w", err)
	}
	err = s.write(ctx, func(tx pgx.Tx) error {
		var id, rev int64
		err := tx.QueryRow(ctx, `INSERT INTO marker_streams AS s (stream, last_id, last_rev) VALUES ($1, 1, 1)
			ON CONFLICT (stream) DO UPDATE SET last_id = s.last_id + 1, last_rev = s.last_rev + 1
			RETURNING last_id, last_rev`, stream).Scan(&id, &rev)
		if err != nil {
			return err
		}
		m.ID, m.Rev, m.CreatedRev = marker.ID(id), marker.Rev(rev), marker.Rev(rev)
		_, err = tx.Exec(ctx, `INSERT INTO markers (stream, id, rev, created_rev, label, pts, duration, source, data, created, deleted)
			VALUES ($1, $2, $3, $3, $4, $5, $6, $7, $8::text::json, $9, $10)`,
			stream, id, rev, m.Label, int64(m.PTS), int64(m.Duration), string(m.Source), data, m.Created, m.Deleted)
		return err
	})
	if err != nil {
		return marker.Marker{}, fmt.Errorf("marker store: add: %w", err)
	}
	if m.Data != nil {
		m.Data = json.RawMessage(*data)
	}
	return m, nil
}

// Update implements marker.Store.
func (s *Store) Update(ctx context.Context, stream string, id marker.ID, fn func(*marker.Marker)) (marker.Marker, error) {
	m, err := s.change(ctx, stream, id, func(m *marker.Marker) {
		fn(m)
		m.Deleted = false
	})
	if err != nil {
		return marker.Marker{}, fmt.Errorf("marker store: update %d: %w", id, err)
	}
	return m, nil
}

// Delete implements marker.Store.
func (s *Store) Delete(ctx context.Context, stream string, id marker.ID) (marker.Marker, error) {
	m, err := s.change(ctx, stream, id, func(m *marker.Marker) { m.Deleted = true })
	if err != nil {
		return marker.Marker{}, fmt.Errorf("marker store: delete %d: %w", id, err)
	}
	return m, nil
}

// change changes a marker that is not deleted with fn and gives it the
// stream's next revision, in one transaction that holds the stream's row
// lock from its first statement.
func (s *Store) change(ctx context.Context, stream string, id marker.ID, fn func(*marker.Marker)) (marker.Marker, error) {
	key, ok := bigint(uint64(id))
	if !ok {
		return marker.Marker{}, marker.ErrNotFound
	}
	var m marker.Marker
	err := s.write(ctx, func(tx pgx.Tx) error {
		var rev int64
		err := tx.QueryRow(ctx, `UPDATE marker_streams SET last_rev = last_rev + 1 WHERE stream = $1 RETURNING last_rev`, stream).Scan(&rev)
		if errors.Is(err, pgx.ErrNoRows) {
			return marker.ErrNotFound
		}
		if err != nil {
			return err
		}
		m, err = scan(tx.QueryRow(ctx, `SELECT `+columns+` FROM markers WHERE stream = $1 AND id = $2`, stream, key))
		if errors.Is(err, pgx.ErrNoRows) || (err == nil && m.Deleted) {
			return marker.ErrNotFound // rolled back: the revision is not taken
		}
		if err != nil {
			return err
		}
		fn(&m)
		m.ID, m.Rev = id, marker.Rev(rev)
		m.Created = m.Created.Truncate(time.Microsecond)
		data, err := dataParam(m.Data)
		if err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `UPDATE markers SET rev = $3, created_rev = $4, label = $5, pts = $6, duration = $7, source = $8,
			data = $9::text::json, created = $10, deleted = $11 WHERE stream = $1 AND id = $2`,
			stream, key, rev, int64(m.CreatedRev), m.Label, int64(m.PTS), int64(m.Duration), string(m.Source), data, m.Created, m.Deleted)
		if err != nil {
			return err
		}
		if data != nil {
			m.Data = json.RawMessage(*data)
		}
		return nil
	})
	return m, err
}

// Get implements marker.Store.
func (s *Store) Get(ctx context.Context, stream string, id marker.ID) (marker.Marker, error) {
	key, ok := bigint(uint64(id))
	if !ok {
		return marker.Marker{}, marker.ErrNotFound
	}
	m, err := scan(s.pool.QueryRow(ctx, `SELECT `+columns+` FROM markers WHERE stream = $1 AND id = $2 AND NOT deleted`, stream, key))
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return marker.Marker{}, marker.ErrNotFound
	case err != nil:
		return marker.Marker{}, fmt.Errorf("marker store: get %d: %w", id, err)
	}
	return m, nil
}

// List implements marker.Store.
func (s *Store) List(ctx context.Context, stream string, after marker.ID, limit int) ([]marker.Marker, error) {
	ms, err := s.query(ctx, `SELECT `+columns+` FROM markers WHERE stream = $1 AND id > $2 AND NOT deleted ORDER BY id LIMIT $3`, stream, uint64(after), limit)
	if err != nil {
		return nil, fmt.Errorf("marker store: list: %w", err)
	}
	return ms, nil
}

// Changes implements marker.Store.
func (s *Store) Changes(ctx context.Context, stream string, after marker.Rev, limit int) ([]marker.Marker, error) {
	ms, err := s.query(ctx, `SELECT `+columns+` FROM markers WHERE stream = $1 AND rev > $2 ORDER BY rev LIMIT $3`, stream, uint64(after), limit)
	if err != nil {
		return nil, fmt.Errorf("marker store: changes: %w", err)
	}
	return ms, nil
}

// query reads up to limit markers of stream with a key (ID or revision)
// above after.
func (s *Store) query(ctx context.Context, sql, stream string, after uint64, limit int) ([]marker.Marker, error) {
	out := []marker.Marker{}
	key, ok := bigint(after)
	if !ok || limit <= 0 {
		return out, nil // nothing is above the highest key
	}
	rows, err := s.pool.Query(ctx, sql, stream, key, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		m, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, rows.Err()
}

// Rev implements marker.Store.
func (s *Store) Rev(ctx context.Context, stream string) (marker.Rev, error) {
	var rev int64
	err := s.pool.QueryRow(ctx, `SELECT last_rev FROM marker_streams WHERE stream = $1`, stream).Scan(&rev)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return 0, nil
	case err != nil:
		return 0, fmt.Errorf("marker store: rev: %w", err)
	}
	return marker.Rev(rev), nil
}

// Purge implements marker.Store: the stream's row goes, and its markers
// with it (ON DELETE CASCADE).
func (s *Store) Purge(ctx context.Context, stream string) error {
	if _, err := s.pool.Exec(ctx, `DELETE FROM marker_streams WHERE stream = $1`, stream); err != nil {
		return fmt.Errorf("marker store: purge %s: %w", stream, err)
	}
	return nil
}

// Close implements marker.Store. Listen must have returned first.
func (s *Store) Close() error {
	s.pool.Close()
	return nil
}

// bigint returns n as PostgreSQL's bigint, or false if it is above the
// largest: no ID or revision is.
func bigint(n uint64) (int64, bool) {
	if n > math.MaxInt64 {
		return 0, false
	}
	return int64(n), true
}

var _ marker.Store = (*Store)(nil)
