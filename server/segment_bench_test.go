//go:build cgo

package server_test

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/hlsmark/hlsmark/pipeline/media"
	"github.com/hlsmark/hlsmark/pipeline/pipelinetest"
	"github.com/hlsmark/hlsmark/server"
	"github.com/hlsmark/hlsmark/server/segcache"
)

// discard is a ResponseWriter that keeps the headers and counts the body,
// so that a benchmark times the handler, not a copy of the answer.
type discard struct {
	h      http.Header
	status int
	n      int
}

func (d *discard) Header() http.Header  { return d.h }
func (d *discard) WriteHeader(code int) { d.status = code }
func (d *discard) Write(p []byte) (int, error) {
	d.n += len(p)
	return len(p), nil
}

// BenchmarkSegment answers GETs for the newest segment of a 1280x720
// stream through the whole handler as hlsmark serve wires it (metrics on),
// from memory and from the file: the work the server does per request on
// top of net/http's.
func BenchmarkSegment(b *testing.B) {
	run := pipelinetest.Start(b, pipelinetest.Config{
		Size: media.Size{Width: 1280, Height: 720}, Frames: 90, Segment: time.Second, Preset: "veryfast", Cache: 64 << 20,
	})
	segs := run.Playlist.Segments()
	newest := segs[len(segs)-1]
	for _, c := range []struct {
		name  string
		cache *segcache.Cache
	}{{"memory", run.Stream.Cache()}, {"file", nil}} {
		b.Run(c.name, func(b *testing.B) {
			srv := server.New(server.Config{
				Streams: server.Fixed{{Name: streamName, Playlist: run.Playlist, Cache: c.cache}},
				Metrics: run.Stream.Metrics(),
			})
			req := httptest.NewRequest(http.MethodGet, "/streams/"+streamName+"/"+newest.Name(), nil)
			b.ReportAllocs()
			for b.Loop() {
				w := &discard{h: http.Header{}}
				srv.ServeHTTP(w, req)
				if w.status != http.StatusOK && w.status != 0 || w.n != int(newest.Size) {
					b.Fatalf("status %d, %d bytes; want 200 and %d", w.status, w.n, newest.Size)
				}
			}
		})
	}
}
