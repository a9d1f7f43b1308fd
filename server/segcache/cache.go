// Package segcache keeps the bytes of a stream's newest segments in memory,
// so that the server answers requests for the live edge, where every viewer
// is, without opening a file for each one.
//
// The stream puts each segment in as it is written; the cache holds at
// most its byte limit, evicting the oldest segments first, and the stream
// drops a segment when the playlist deletes its file. The cache knows
// nothing of playlists: the server asks it only about segments the
// playlist still lists or keeps in grace.
package segcache

import (
	"container/list"
	"sync"

	"github.com/hlsmark/hlsmark/pipeline/media"
)

// Cache holds segments' bytes, at most a fixed number of bytes in all. It
// is safe for concurrent use. A nil *Cache holds nothing: Get finds
// nothing, Put and Drop do nothing.
type Cache struct {
	limit int64

	mu    sync.RWMutex
	bytes int64
	order *list.List // of *entry, oldest put first
	index map[media.Seq]*list.Element
}

// entry is one segment's bytes.
type entry struct {
	seq  media.Seq
	data []byte
}

// New returns a cache that holds at most limit bytes of segments, or nil,
// which holds nothing, if limit is not positive.
func New(limit int64) *Cache {
	if limit <= 0 {
		return nil
	}
	return &Cache{limit: limit, order: list.New(), index: map[media.Seq]*list.Element{}}
}

// Put keeps data as segment seq's bytes, in place of any it held, then
// evicts the oldest segments until the cache is within its limit. A
// segment larger than the whole limit is not kept. The cache keeps data
// itself, not a copy: the caller must not change it afterwards.
func (c *Cache) Put(seq media.Seq, data []byte) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.dropLocked(seq)
	if int64(len(data)) > c.limit {
		return
	}
	c.index[seq] = c.order.PushBack(&entry{seq: seq, data: data})
	c.bytes += int64(len(data))
	for c.bytes > c.limit {
		c.dropLocked(c.order.Front().Value.(*entry).seq)
	}
}

// Get returns segment seq's bytes, if the cache holds them. They are
// shared with every other caller: read them, never change them.
func (c *Cache) Get(seq media.Seq) ([]byte, bool) {
	if c == nil {
		return nil, false
	}
	c.mu.RLock()
	defer c.mu.RUnlock()
	e, ok := c.index[seq]
	if !ok {
		return nil, false
	}
	return e.Value.(*entry).data, true
}

// Drop forgets segment seq, if the cache holds it: its file is gone.
func (c *Cache) Drop(seq media.Seq) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.dropLocked(seq)
}

func (c *Cache) dropLocked(seq media.Seq) {
	e, ok := c.index[seq]
	if !ok {
		return
	}
	delete(c.index, seq)
	c.bytes -= int64(len(c.order.Remove(e).(*entry).data))
}

// Len returns how many segments the cache holds.
func (c *Cache) Len() int {
	if c == nil {
		return 0
	}
	c.mu.RLock()
	defer c.mu.RUnlock()
	return len(c.index)
}

// Bytes returns how many bytes of segments the cache holds.
func (c *Cache) Bytes() int64 {
	if c == nil {
		return 0
	}
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.bytes
}
