package stream_test

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"testing"
	"time"

	"github.com/hlsmark/hlsmark/pipeline/pipelinetest"
)

// TestCacheFollowsTheFiles runs a stream whose playlist deletes segments as
// soon as they leave a 3 s window (and RFC 8216's wait after it): every
// segment still on disk is cached with exactly its file's bytes, every
// deleted one is dropped from the cache, and the cache holds nothing
// else. The run lasts 20 s: the source may run a few seconds ahead of the
// muxer on the fake clock, and segments must still expire before it ends.
func TestCacheFollowsTheFiles(t *testing.T) {
	r := pipelinetest.Start(t, pipelinetest.Config{
		Frames: 600, Segment: time.Second, Window: 3 * time.Second, Grace: time.Nanosecond, Cache: 64 << 20,
	})
	cache := r.Stream.Cache()
	var onDisk, deleted int
	var bytesOnDisk int64
	for _, seg := range r.Segments {
		cached, inCache := cache.Get(seg.Seq)
		file, err := os.ReadFile(seg.Path)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			deleted++
			if inCache {
				t.Errorf("segment %d: its file was deleted, the cache still holds %d bytes", seg.Seq, len(cached))
			}
		case err != nil:
			t.Fatal(err)
		default:
			onDisk++
			bytesOnDisk += int64(len(file))
			if !inCache || !bytes.Equal(cached, file) {
				t.Errorf("segment %d: cached %v, %d bytes; its file has %d", seg.Seq, inCache, len(cached), len(file))
			}
		}
	}
	if deleted == 0 || onDisk == 0 {
		t.Fatalf("%d segments deleted, %d on disk: the run proves nothing", deleted, onDisk)
	}
	if cache.Len() != onDisk || cache.Bytes() != bytesOnDisk {
		t.Fatalf("the cache holds %d segments, %d bytes; the disk %d, %d bytes", cache.Len(), cache.Bytes(), onDisk, bytesOnDisk)
	}
}

// TestNoCache: a stream configured without a cache has none.
func TestNoCache(t *testing.T) {
	r := pipelinetest.Start(t, pipelinetest.Config{Frames: 60, Segment: time.Second})
	if c := r.Stream.Cache(); c != nil {
		t.Fatalf("CacheBytes 0 made a cache holding %d segments", c.Len())
	}
}
