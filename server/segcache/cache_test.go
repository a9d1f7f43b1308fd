package segcache_test

import (
	"bytes"
	"sync"
	"testing"

	"github.com/hlsmark/hlsmark/pipeline/media"
	"github.com/hlsmark/hlsmark/server/segcache"
)

// op is one call on a cache: put(seq, n) puts n bytes, each byte(seq);
// drop(seq) drops seq.
type op struct {
	drop bool
	seq  media.Seq
	n    int
}

func put(seq media.Seq, n int) op { return op{seq: seq, n: n} }
func drop(seq media.Seq) op       { return op{drop: true, seq: seq} }

// held is a segment a cache must hold: n bytes, each byte(seq).
type held struct {
	seq media.Seq
	n   int
}

// casesCache are sequences of calls and what the cache holds after them.
var casesCache = []struct {
	name  string
	limit int64
	ops   []op
	held  []held
}{
	{"within the limit", 100, []op{put(1, 30), put(2, 30), put(3, 30)}, []held{{1, 30}, {2, 30}, {3, 30}}},
	{"exactly the limit", 90, []op{put(1, 30), put(2, 30), put(3, 30)}, []held{{1, 30}, {2, 30}, {3, 30}}},
	{"oldest evicted first", 70, []op{put(1, 30), put(2, 30), put(3, 30)}, []held{{2, 30}, {3, 30}}},
	{"put order, not numbers, decides", 70, []op{put(5, 30), put(2, 30), put(3, 30)}, []held{{2, 30}, {3, 30}}},
	{"several evicted for a large one", 100, []op{put(1, 30), put(2, 30), put(3, 30), put(4, 90)}, []held{{4, 90}}},
	{"larger than the limit not kept", 50, []op{put(1, 30), put(2, 51)}, []held{{1, 30}}},
	{"empty segment", 50, []op{put(1, 0), put(2, 50)}, []held{{1, 0}, {2, 50}}},
	{"put again replaces", 100, []op{put(1, 30), put(1, 50)}, []held{{1, 50}}},
	{"put again counts as newest", 100, []op{put(1, 30), put(2, 30), put(1, 30), put(3, 30), put(4, 30)}, []held{{1, 30}, {3, 30}, {4, 30}}},
	{"put again too large drops it", 50, []op{put(1, 30), put(1, 60)}, nil},
	{"drop", 100, []op{put(1, 30), put(2, 30), put(3, 30), drop(2)}, []held{{1, 30}, {3, 30}}},
	{"drop frees room", 70, []op{put(1, 30), put(2, 30), drop(1), put(3, 30)}, []held{{2, 30}, {3, 30}}},
	{"drop unknown", 100, []op{put(1, 30), drop(7)}, []held{{1, 30}}},
	{"drop all", 100, []op{put(1, 30), put(2, 30), drop(1), drop(2), drop(2)}, nil},
}

func TestCache(t *testing.T) {
	for _, c := range casesCache {
		t.Run(c.name, func(t *testing.T) {
			cache := segcache.New(c.limit)
			for _, o := range c.ops {
				if o.drop {
					cache.Drop(o.seq)
				} else {
					cache.Put(o.seq, bytes.Repeat([]byte{byte(o.seq)}, o.n))
				}
			}
			var total int64
			want := map[media.Seq]int{}
			for _, h := range c.held {
				want[h.seq] = h.n
				total += int64(h.n)
			}
			for seq := media.Seq(0); seq < 10; seq++ {
				data, ok := cache.Get(seq)
				n, wanted := want[seq]
				switch {
				case ok != wanted:
					t.Errorf("segment %d: held %v, want %v", seq, ok, wanted)
				case ok && !bytes.Equal(data, bytes.Repeat([]byte{byte(seq)}, n)):
					t.Errorf("segment %d: %d bytes %x..., want %d bytes of %02x", seq, len(data), data[:min(len(data), 4)], n, byte(seq))
				}
			}
			if cache.Len() != len(c.held) || cache.Bytes() != total {
				t.Errorf("Len %d, Bytes %d; want %d segments, %d bytes", cache.Len(), cache.Bytes(), len(c.held), total)
			}
		})
	}
}

// TestNoCache: a limit that is not positive makes no cache, and the nil
// cache holds nothing.
func TestNoCache(t *testing.T) {
	for _, limit := range []int64{0, -1} {
		cache := segcache.New(limit)
		if cache != nil {
			t.Fatalf("New(%d) = %p, want nil", limit, cache)
		}
		cache.Put(1, []byte{1})
		cache.Drop(2)
		if _, ok := cache.Get(1); ok || cache.Len() != 0 || cache.Bytes() != 0 {
			t.Fatalf("the nil cache holds something: Len %d, Bytes %d", cache.Len(), cache.Bytes())
		}
	}
}

// TestConcurrent puts, gets and drops from several goroutines (run it
// with -race): every segment read is whole, and the cache stays within its
// limit.
func TestConcurrent(t *testing.T) {
	const limit, size, segments = 10_000, 1_000, 2_000
	cache := segcache.New(limit)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for seq := media.Seq(0); seq < segments; seq++ {
			cache.Put(seq, bytes.Repeat([]byte{byte(seq)}, size))
			if seq%7 == 0 {
				cache.Drop(seq - 3)
			}
		}
	}()
	errs := make(chan string, 4)
	for r := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range segments {
				seq := media.Seq((i*(r+1) + r) % segments)
				if data, ok := cache.Get(seq); ok && !bytes.Equal(data, bytes.Repeat([]byte{byte(seq)}, size)) {
					errs <- "a reader got a segment's bytes changed or cut"
					return
				}
				if cache.Bytes() > limit {
					errs <- "the cache went over its limit"
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Fatal(e)
	}
	if cache.Bytes() != limit || cache.Len() != limit/size {
		t.Fatalf("after the puts: Len %d, Bytes %d; want %d, %d", cache.Len(), cache.Bytes(), limit/size, limit)
	}
}

// BenchmarkGet reads a segment from a cache holding a minute of 2 s
// segments, from every CPU: the server's hot path.
func BenchmarkGet(b *testing.B) {
	cache := segcache.New(64 << 20)
	for seq := range media.Seq(30) {
		cache.Put(seq, make([]byte, 200<<10))
	}
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, ok := cache.Get(29); !ok {
				b.Error("segment 29 not cached")
				return
			}
		}
	})
}

// BenchmarkPut puts segments into a full cache, each evicting the oldest.
func BenchmarkPut(b *testing.B) {
	cache := segcache.New(30 * 200 << 10)
	data := make([]byte, 200<<10)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		cache.Put(media.Seq(i), data)
	}
}
