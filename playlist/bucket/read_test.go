package bucket_test

import (
	"bytes"
	"context"
	"strings"
	"sync"
	"testing"

	"github.com/minio/minio-go/v7"

	"github.com/hlsmark/hlsmark/playlist/bucket"
	"github.com/hlsmark/hlsmark/playlist/bucket/weedtest"
)

// TestGetWhileReplaced reads a playlist while a writer replaces it, as an
// edge reads the one an encoder uploads every segment: every Get returns
// one whole version, with its headers, and none fails. (Reading with a
// HEAD and then a GET If-Match the HEAD's ETag fails with 412 when a
// version lands between the two: edges answered 502 under load.)
func TestGetWhileReplaced(t *testing.T) {
	weed := weedtest.Start(t)
	weed.Bucket(t, "media")
	store, err := bucket.Open(bucket.Config{Location: bucket.Location{Bucket: "media", Prefix: "live/"}, Endpoint: weed.Endpoint, PathStyle: true})
	if err != nil {
		t.Fatal(err)
	}
	writer, err := minio.New(strings.TrimPrefix(weed.Endpoint, "http://"), &minio.Options{BucketLookup: minio.BucketLookupPath})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	// Version v is 4096 bytes of the letter 'a'+v%26: a read mixing two
	// versions shows.
	put := func(v int) {
		body := bytes.Repeat([]byte{byte('a' + v%26)}, 4096)
		if _, err := writer.PutObject(ctx, "media", "live/s/index.m3u8", bytes.NewReader(body), int64(len(body)),
			minio.PutObjectOptions{ContentType: "application/vnd.apple.mpegurl", CacheControl: "no-cache"}); err != nil {
			t.Errorf("put version %d: %v", v, err)
		}
	}
	put(0)
	const versions = 200
	done := make(chan struct{})
	var readers sync.WaitGroup
	var mu sync.Mutex
	reads, failed := 0, 0
	var first error
	for range 4 {
		readers.Go(func() {
			for {
				select {
				case <-done:
					return
				default:
				}
				obj, err := store.Get(ctx, "s", "index.m3u8")
				whole := err == nil && len(obj.Data) == 4096 && bytes.Count(obj.Data, obj.Data[:1]) == 4096 &&
					obj.ContentType == "application/vnd.apple.mpegurl" && obj.CacheControl == "no-cache"
				mu.Lock()
				reads++
				if !whole {
					failed++
					if first == nil {
						first = err
					}
				}
				mu.Unlock()
			}
		})
	}
	for v := 1; v <= versions; v++ {
		put(v)
	}
	close(done)
	readers.Wait()
	if failed > 0 {
		t.Errorf("%d of %d reads while the object was replaced %d times failed or were not one whole version; first error: %v", failed, reads, versions, first)
	}
	t.Logf("%d reads while the object was replaced %d times", reads, versions)
}
