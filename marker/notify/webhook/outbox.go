package webhook

import (
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/hlsmark/hlsmark/marker"
)

// outboxBucket holds the deliveries not yet acknowledged, keyed by a
// sequence (big-endian uint64) that orders them as they were made.
var outboxBucket = []byte("webhook-outbox")

// toldBucket holds, for each stream (its name as key), the revision of the
// last change whose deliveries the outbox took (big-endian uint64): what a
// restart resumes after (Webhooks.Told).
var toldBucket = []byte("webhook-told")

// delivery is one event to one URL, as the outbox keeps it. Its ID and
// Body are fixed when it is made, so every attempt sends the same bytes
// under the same X-Hlsmark-Delivery.
type delivery struct {
	seq    uint64    // its key in the outbox
	ID     string    `json:"id"`
	URL    string    `json:"url"`
	Stream string    `json:"stream"`
	Body   []byte    `json:"body"`
	Made   time.Time `json:"made"`
}

// lane is what orders deliveries: those of one stream to one URL go one
// after the other.
type lane struct{ url, stream string }

func (d delivery) lane() lane { return lane{d.URL, d.Stream} }

// outbox is the deliveries bucket in the marker store's bbolt file.
type outbox struct{ db *bolt.DB }

// add writes a delivery of body to each URL, and rev as the stream's last
// change told, in one transaction, fsynced when it returns, and returns
// the deliveries.
func (o outbox) add(urls []string, stream string, rev marker.Rev, body []byte, now time.Time) ([]delivery, error) {
	var out []delivery
	err := o.db.Update(func(tx *bolt.Tx) error {
		if err := putTold(tx, stream, rev); err != nil {
			return err
		}
		b, err := tx.CreateBucketIfNotExists(outboxBucket)
		if err != nil {
			return err
		}
		for _, u := range urls {
			d := delivery{URL: u, Stream: stream, Body: body, Made: now, ID: newID()}
			if d.seq, err = b.NextSequence(); err != nil {
				return err
			}
			v, err := json.Marshal(d)
			if err != nil {
				return err
			}
			if err := b.Put(binary.BigEndian.AppendUint64(nil, d.seq), v); err != nil {
				return err
			}
			out = append(out, d)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("webhook outbox: add: %w", err)
	}
	return out, nil
}

// putTold records rev as the last change of stream the outbox took.
func putTold(tx *bolt.Tx, stream string, rev marker.Rev) error {
	b, err := tx.CreateBucketIfNotExists(toldBucket)
	if err != nil {
		return err
	}
	return b.Put([]byte(stream), binary.BigEndian.AppendUint64(nil, uint64(rev)))
}

// told returns the last change of stream the outbox took, and whether it
// has taken any (or been told where to begin).
func (o outbox) told(stream string) (rev marker.Rev, ok bool, err error) {
	err = o.db.View(func(tx *bolt.Tx) error {
		if b := tx.Bucket(toldBucket); b != nil {
			if v := b.Get([]byte(stream)); len(v) == 8 {
				rev, ok = marker.Rev(binary.BigEndian.Uint64(v)), true
			}
		}
		return nil
	})
	if err != nil {
		return 0, false, fmt.Errorf("webhook outbox: read the last change of %q: %w", stream, err)
	}
	return rev, ok, nil
}

// begin records rev as the last change of stream told, with no delivery.
func (o outbox) begin(stream string, rev marker.Rev) error {
	if err := o.db.Update(func(tx *bolt.Tx) error { return putTold(tx, stream, rev) }); err != nil {
		return fmt.Errorf("webhook outbox: begin %q at revision %d: %w", stream, rev, err)
	}
	return nil
}

// all returns every delivery in the outbox, in the order they were made.
func (o outbox) all() ([]delivery, error) {
	var out []delivery
	err := o.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(outboxBucket)
		if b == nil {
			return nil
		}
		return b.ForEach(func(k, v []byte) error {
			var d delivery
			if err := json.Unmarshal(v, &d); err != nil {
				return fmt.Errorf("delivery %x: %w", k, err)
			}
			d.seq = binary.BigEndian.Uint64(k)
			out = append(out, d)
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("webhook outbox: read: %w", err)
	}
	return out, nil
}

// remove deletes a delivery: it was acknowledged, or given up.
func (o outbox) remove(d delivery) error {
	err := o.db.Update(func(tx *bolt.Tx) error {
		if b := tx.Bucket(outboxBucket); b != nil {
			return b.Delete(binary.BigEndian.AppendUint64(nil, d.seq))
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("webhook outbox: remove delivery %s: %w", d.ID, err)
	}
	return nil
}

// newID returns a random delivery id: 128 bits in hex, unique across
// restarts and stores.
func newID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go 1.24+)
	return hex.EncodeToString(b[:])
}
