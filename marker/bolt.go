package marker

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Bolt is the embedded Store, a bbolt file in the data folder.
//
// Why bbolt: markers are few and small, written now and then and read in
// key order, which is what a B+tree in one file does well; every committed
// transaction is fsynced before Update returns, and its copy-on-write pages
// with two meta pages mean a crash mid-write leaves the last committed state
// readable, with no recovery step and no server to run. It is pure Go, so it
// adds nothing to the cgo build. (SQLite would do too, but brings SQL and a
// second cgo library for key-ordered reads that need neither.)
//
// Layout: one top-level bucket per stream, holding "markers" (ID → JSON)
// and "revs" (Rev → ID, for Changes). A marker's old revision key is
// deleted when it changes, so "revs" lists each marker once. A deleted
// marker stays in both as a tombstone (Deleted set), so that Changes
// reports its deletion.
type Bolt struct {
	db *bolt.DB
}

// OpenBolt opens (or creates) the store file at path. It fails after a few
// seconds if another process holds the file.
func OpenBolt(path string) (*Bolt, error) {
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: 3 * time.Second})
	if err != nil {
		return nil, fmt.Errorf("marker store %s: %w", path, err)
	}
	return &Bolt{db: db}, nil
}

var (
	markersKey = []byte("markers")
	revsKey    = []byte("revs")
)

func key(n uint64) []byte { return binary.BigEndian.AppendUint64(nil, n) }

// buckets returns a stream's buckets, creating them in a writable tx.
func buckets(tx *bolt.Tx, stream string) (markers, revs *bolt.Bucket, err error) {
	top := tx.Bucket([]byte(stream))
	if top == nil {
		if !tx.Writable() {
			return nil, nil, nil
		}
		if top, err = tx.CreateBucket([]byte(stream)); err != nil {
			return nil, nil, err
		}
		if markers, err = top.CreateBucket(markersKey); err == nil {
			revs, err = top.CreateBucket(revsKey)
		}
		return markers, revs, err
	}
	return top.Bucket(markersKey), top.Bucket(revsKey), nil
}

// nextRev takes the stream's next revision number.
func nextRev(tx *bolt.Tx, stream string) (Rev, error) {
	n, err := tx.Bucket([]byte(stream)).Bucket(revsKey).NextSequence()
	return Rev(n), err
}

func put(markers, revs *bolt.Bucket, m Marker) error {
	v, err := json.Marshal(m)
	if err != nil {
		return err
	}
	if err := markers.Put(key(uint64(m.ID)), v); err != nil {
		return err
	}
	return revs.Put(key(uint64(m.Rev)), key(uint64(m.ID)))
}

// Add implements Store.
func (b *Bolt) Add(_ context.Context, stream string, m Marker) (Marker, error) {
	err := b.db.Update(func(tx *bolt.Tx) error {
		markers, revs, err := buckets(tx, stream)
		if err != nil {
			return err
		}
		id, err := markers.NextSequence()
		if err != nil {
			return err
		}
		rev, err := nextRev(tx, stream)
		if err != nil {
			return err
		}
		m.ID, m.Rev, m.CreatedRev = ID(id), rev, rev
		return put(markers, revs, m)
	})
	if err != nil {
		return Marker{}, fmt.Errorf("marker store: add: %w", err)
	}
	return m, nil
}

// Update implements Store.
func (b *Bolt) Update(_ context.Context, stream string, id ID, fn func(*Marker)) (Marker, error) {
	m, err := b.change(stream, id, func(m *Marker) {
		fn(m)
		m.Deleted = false
	})
	if err != nil {
		return Marker{}, fmt.Errorf("marker store: update %d: %w", id, err)
	}
	return m, nil
}

// Delete implements Store.
func (b *Bolt) Delete(_ context.Context, stream string, id ID) (Marker, error) {
	m, err := b.change(stream, id, func(m *Marker) { m.Deleted = true })
	if err != nil {
		return Marker{}, fmt.Errorf("marker store: delete %d: %w", id, err)
	}
	return m, nil
}

// change changes a marker that is not deleted with fn and gives it the
// stream's next revision, in one transaction.
func (b *Bolt) change(stream string, id ID, fn func(*Marker)) (Marker, error) {
	var m Marker
	err := b.db.Update(func(tx *bolt.Tx) error {
		markers, revs, err := buckets(tx, stream)
		if err != nil {
			return err
		}
		if m, err = live(markers, id); err != nil {
			return err
		}
		if err := revs.Delete(key(uint64(m.Rev))); err != nil {
			return err
		}
		fn(&m)
		m.ID = id
		if m.Rev, err = nextRev(tx, stream); err != nil {
			return err
		}
		return put(markers, revs, m)
	})
	return m, err
}

// get returns a stored marker, a tombstone included.
func get(markers *bolt.Bucket, id ID) (Marker, error) {
	var m Marker
	if markers == nil {
		return m, ErrNotFound
	}
	v := markers.Get(key(uint64(id)))
	if v == nil {
		return m, ErrNotFound
	}
	return m, json.Unmarshal(v, &m)
}

// live returns a stored marker that is not deleted.
func live(markers *bolt.Bucket, id ID) (Marker, error) {
	m, err := get(markers, id)
	if err == nil && m.Deleted {
		return Marker{}, ErrNotFound
	}
	return m, err
}

// Get implements Store.
func (b *Bolt) Get(_ context.Context, stream string, id ID) (Marker, error) {
	var m Marker
	err := b.db.View(func(tx *bolt.Tx) error {
		markers, _, err := buckets(tx, stream)
		if err == nil {
			m, err = live(markers, id)
		}
		return err
	})
	if err != nil && !errors.Is(err, ErrNotFound) {
		err = fmt.Errorf("marker store: get %d: %w", id, err)
	}
	return m, err
}

// List implements Store.
func (b *Bolt) List(_ context.Context, stream string, after ID, limit int) ([]Marker, error) {
	out := []Marker{}
	err := b.db.View(func(tx *bolt.Tx) error {
		markers, _, err := buckets(tx, stream)
		if err != nil || markers == nil || after+1 == 0 {
			return err // after+1 == 0: nothing is above the highest ID, and the seek key would wrap to 0
		}
		c := markers.Cursor()
		for k, v := c.Seek(key(uint64(after) + 1)); k != nil && len(out) < limit; k, v = c.Next() {
			var m Marker
			if err := json.Unmarshal(v, &m); err != nil {
				return err
			}
			if !m.Deleted {
				out = append(out, m)
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("marker store: list: %w", err)
	}
	return out, nil
}

// Changes implements Store.
func (b *Bolt) Changes(_ context.Context, stream string, after Rev, limit int) ([]Marker, error) {
	out := []Marker{}
	err := b.db.View(func(tx *bolt.Tx) error {
		markers, revs, err := buckets(tx, stream)
		if err != nil || revs == nil || after+1 == 0 {
			return err // after+1 == 0: nothing is above the highest revision, and the seek key would wrap to 0
		}
		c := revs.Cursor()
		for k, id := c.Seek(key(uint64(after) + 1)); k != nil && len(out) < limit; k, id = c.Next() {
			m, err := get(markers, ID(binary.BigEndian.Uint64(id)))
			if err != nil {
				return err
			}
			out = append(out, m)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("marker store: changes: %w", err)
	}
	return out, nil
}

// Rev implements Store.
func (b *Bolt) Rev(_ context.Context, stream string) (Rev, error) {
	var r Rev
	err := b.db.View(func(tx *bolt.Tx) error {
		if _, revs, err := buckets(tx, stream); err != nil || revs == nil {
			return err
		} else {
			r = Rev(revs.Sequence())
		}
		return nil
	})
	return r, err
}

// Purge implements Store.
func (b *Bolt) Purge(_ context.Context, stream string) error {
	err := b.db.Update(func(tx *bolt.Tx) error {
		if tx.Bucket([]byte(stream)) == nil {
			return nil
		}
		return tx.DeleteBucket([]byte(stream))
	})
	if err != nil {
		return fmt.Errorf("marker store: purge %s: %w", stream, err)
	}
	return nil
}

// DB returns the bbolt file, for packages that keep their own buckets
// next to the markers (the webhook outbox): one file, one fsync per
// transaction, no second lock on the data folder.
func (b *Bolt) DB() *bolt.DB { return b.db }

// Close implements Store.
func (b *Bolt) Close() error { return b.db.Close() }
