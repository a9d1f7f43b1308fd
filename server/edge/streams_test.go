package edge

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hlsmark/hlsmark/playlist/bucket"
	"github.com/hlsmark/hlsmark/playlist/bucket/weedtest"
)

// TestUnknownStreamListsOnce asks a real SeaweedFS, through a proxy that
// counts the listings (ListObjectsV2 requests), for a stream it does not
// hold, again and again: one listing answers them all until listFresh
// has passed on the Streams' clock. A stream uploaded meanwhile shows
// once it has, with a second listing.
func TestUnknownStreamListsOnce(t *testing.T) {
	weed := weedtest.Start(t)
	weed.Bucket(t, "media")
	target, err := url.Parse(weed.Endpoint)
	if err != nil {
		t.Fatal(err)
	}
	var listings atomic.Int32
	proxy := httputil.NewSingleHostReverseProxy(target)
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet && r.URL.Query().Has("list-type") {
			listings.Add(1)
		}
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(front.Close)
	objects, err := bucket.Open(bucket.Config{Location: bucket.Location{Bucket: "media", Prefix: "live/"}, Endpoint: front.URL, PathStyle: true})
	if err != nil {
		t.Fatal(err)
	}
	upload := func(key string) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodPut, weed.Endpoint+"/media/live/"+key, bytes.NewReader([]byte("ts")))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("PUT %s: %s", key, resp.Status)
		}
	}
	upload("a/0.ts")
	now := time.Date(2026, 12, 1, 5, 0, 0, 0, time.UTC)
	s := NewStreams(objects, nil, 0, slog.Default())
	s.now = func() time.Time { return now }

	for range 20 {
		if _, ok := s.Stream("nope"); ok {
			t.Fatal(`Stream("nope") found a stream the bucket does not hold`)
		}
	}
	if n := listings.Load(); n != 1 {
		t.Fatalf("20 requests for an unknown stream listed the bucket %d times; want once", n)
	}
	upload("b/0.ts")
	now = now.Add(listFresh - time.Nanosecond)
	if _, ok := s.Stream("b"); ok || listings.Load() != 1 {
		t.Fatalf("before listFresh: stream b found %v after %d listings; want the first listing's answer, not found", ok, listings.Load())
	}
	now = now.Add(time.Nanosecond)
	if st, ok := s.Stream("b"); !ok || st.Name != "b" || listings.Load() != 2 {
		t.Fatalf("at listFresh: stream b found %v after %d listings; want found, with a second listing", ok, listings.Load())
	}
	if all := s.All(); len(all) != 2 || all[0].Name != "a" || all[1].Name != "b" || listings.Load() != 2 {
		t.Fatalf("All lists %d streams after %d listings; want a and b from the second listing", len(all), listings.Load())
	}
}

// TestPlaylistReadOncePerFresh asks a stream's origin for its playlist
// from 50 requests at once, through a proxy in front of a real SeaweedFS
// that counts the GETs of it: one GET answers them all, and the next
// request within changingFresh on the Streams' clock too; at
// changingFresh a new GET reads the playlist as replaced meanwhile.
// Checked to fail with the changing files read each time (50 GETs).
func TestPlaylistReadOncePerFresh(t *testing.T) {
	weed := weedtest.Start(t)
	weed.Bucket(t, "media")
	target, err := url.Parse(weed.Endpoint)
	if err != nil {
		t.Fatal(err)
	}
	var gets atomic.Int32
	proxy := httputil.NewSingleHostReverseProxy(target)
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet && r.URL.Path == "/media/live/a/index.m3u8" {
			gets.Add(1)
		}
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(front.Close)
	objects, err := bucket.Open(bucket.Config{Location: bucket.Location{Bucket: "media", Prefix: "live/"}, Endpoint: front.URL, PathStyle: true})
	if err != nil {
		t.Fatal(err)
	}
	upload := func(body string) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodPut, weed.Endpoint+"/media/live/a/index.m3u8", bytes.NewReader([]byte(body)))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("PUT: %s", resp.Status)
		}
	}
	upload("#EXTM3U\n# one\n")
	now := time.Date(2026, 12, 1, 5, 0, 0, 0, time.UTC)
	s := NewStreams(objects, nil, 0, slog.Default())
	s.now = func() time.Time { return now }
	st, ok := s.Stream("a")
	if !ok {
		t.Fatal("stream a not found")
	}
	read := func() string {
		f, err := st.Origin.File(context.Background(), "index.m3u8")
		if err != nil {
			t.Error(err)
		}
		return string(f.Data)
	}
	var wg sync.WaitGroup
	for range 50 {
		wg.Go(func() {
			if got := read(); got != "#EXTM3U\n# one\n" {
				t.Errorf("playlist %q", got)
			}
		})
	}
	wg.Wait()
	if n := gets.Load(); n != 1 {
		t.Fatalf("50 requests at once made %d GETs of the playlist; want 1", n)
	}
	upload("#EXTM3U\n# two\n")
	now = now.Add(changingFresh - time.Nanosecond)
	if got := read(); got != "#EXTM3U\n# one\n" || gets.Load() != 1 {
		t.Fatalf("within changingFresh: %q after %d GETs; want the copy read, no GET", got, gets.Load())
	}
	now = now.Add(time.Nanosecond)
	if got := read(); got != "#EXTM3U\n# two\n" || gets.Load() != 2 {
		t.Fatalf("at changingFresh: %q after %d GETs; want the new playlist, a second GET", got, gets.Load())
	}
}
