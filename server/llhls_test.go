//go:build cgo

package server_test

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hlsmark/hlsmark/pipeline/clock"
	"github.com/hlsmark/hlsmark/pipeline/media"
	"github.com/hlsmark/hlsmark/playlist"
	"github.com/hlsmark/hlsmark/server"
)

// llStream is a Low-Latency playlist fed by hand: parts of made-up
// bytes, and segments whose files are their parts concatenated.
type llStream struct {
	t     testing.TB
	pl    *playlist.Playlist
	dir   string
	pts   clock.Ticks
	parts []media.Part // of the segment being written
}

func newLLStream(t testing.TB) *llStream {
	dir := t.TempDir()
	pl, err := playlist.New(playlist.Config{Dir: dir, Window: 8 * time.Second, Target: time.Second, Format: media.FMP4, Part: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = pl.Flush() })
	return &llStream{t: t, pl: pl, dir: dir, pts: 1000}
}

// part adds the next part of segment seq, 200 ms long.
func (s *llStream) part(seq media.Seq) media.Part {
	s.t.Helper()
	p := media.Part{Seq: seq, Index: len(s.parts), Duration: clock.FromDuration(200 * time.Millisecond), Independent: len(s.parts) == 0,
		Data: []byte(fmt.Sprintf("part %d.%d", seq, len(s.parts)))}
	if err := s.pl.AddPart(p); err != nil {
		s.t.Fatal(err)
	}
	s.parts = append(s.parts, p)
	return p
}

// segment ends segment seq with its parts and waits until it is listed.
func (s *llStream) segment(seq media.Seq) {
	s.t.Helper()
	var data []byte
	var d clock.Ticks
	for _, p := range s.parts {
		data = append(data, p.Data...)
		d += p.Duration
	}
	seg := media.Segment{Seq: seq, Path: filepath.Join(s.dir, media.FMP4.SegmentName(seq)), FirstPTS: s.pts, Duration: d,
		Start: time.Unix(0, 0).Add(s.pts.Duration()), Size: int64(len(data)), Frames: 1, Format: media.FMP4}
	if err := os.WriteFile(seg.Path, data, 0o644); err != nil {
		s.t.Fatal(err)
	}
	if err := s.pl.Add(seg); err != nil {
		s.t.Fatal(err)
	}
	if err := s.pl.Flush(); err != nil {
		s.t.Fatal(err)
	}
	s.pts += d
	s.parts = nil
}

// serveLL serves the stream on loopback.
func serveLL(t testing.TB, s *llStream, limits server.Limits) (*httptest.Server, *server.Server) {
	srv := server.New(server.Config{Streams: server.Fixed{{Name: streamName, Playlist: s.pl}}, Limits: limits})
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	return ts, srv
}

// waitUntilWaiting waits until n requests wait in srv: the request sent
// before, whose answer comes on ch (if not nil), is blocked. An answer
// before that fails the test.
func waitUntilWaiting(t testing.TB, srv *server.Server, n int, ch chan answer) {
	t.Helper()
	for srv.Waiting() != n {
		select {
		case a := <-ch:
			if a.err == nil {
				t.Fatalf("answered %d without waiting:\n%s", a.resp.StatusCode, a.body)
			}
			t.Fatalf("no answer: %v", a.err)
		default:
		}
		time.Sleep(time.Millisecond) // polls a condition; proves nothing by itself
	}
}

// answer is an HTTP answer read in the background.
type answer struct {
	resp *http.Response
	body []byte
	err  error
}

func getAsync(url string) chan answer {
	ch := make(chan answer, 1)
	go func() {
		resp, err := http.Get(url)
		if err != nil {
			ch <- answer{err: err}
			return
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		ch <- answer{resp: resp, body: body, err: err}
	}()
	return ch
}

// TestBlockingReload asks for the next part and the next segment with
// _HLS_msn and _HLS_part: each request waits (the server counts it) and
// is not answered before the part is written; its answer lists the part
// (so it was not answered before). Checked to fail with Ready always true
// (the answer lacks the part).
func TestBlockingReload(t *testing.T) {
	s := newLLStream(t)
	for range 5 {
		s.part(0)
	}
	s.segment(0)
	ts, srv := serveLL(t, s, server.Limits{})
	base := ts.URL + "/streams/" + streamName + "/index.m3u8"

	for _, c := range []struct {
		query string
		write func()
		want  string
	}{
		{"?_HLS_msn=1&_HLS_part=0", func() { s.part(1) }, `URI="1.0.m4s"`},
		{"?_HLS_msn=1&_HLS_part=2", func() { s.part(1); s.part(1) }, `URI="1.2.m4s"`},
		{"?_HLS_msn=1", func() { s.part(1); s.part(1); s.segment(1) }, "\n1.m4s\n"},
		{"?_HLS_msn=2&_HLS_part=0&_HLS_skip=YES", func() { s.part(2) }, `URI="2.0.m4s"`},
	} {
		ch := getAsync(base + c.query)
		waitUntilWaiting(t, srv, 1, ch)
		select {
		case a := <-ch:
			t.Fatalf("%s answered before the part was written: %v %s", c.query, a.err, a.body)
		default:
		}
		c.write()
		a := <-ch
		if a.err != nil || a.resp.StatusCode != http.StatusOK || !bytes.Contains(a.body, []byte(c.want)) {
			t.Fatalf("%s: %v %v, want %s in\n%s", c.query, a.err, a.resp, c.want, a.body)
		}
		if cc := a.resp.Header.Get("Cache-Control"); !strings.Contains(cc, "max-age") {
			t.Errorf("%s: Cache-Control %q", c.query, cc)
		}
	}
	if srv.Waiting() != 0 {
		t.Fatalf("%d requests still waiting", srv.Waiting())
	}
}

// TestBlockingReloadRefused: bad directives and a segment or part too far
// ahead are 400 at once (RFC 8216bis 6.2.5.2); a part that does not come
// within three target durations is 503; past Limits.Blocked waiting
// requests (playlist or hinted part), 503 before any header is sent. Checked to fail with msn last+3 accepted.
func TestBlockingReloadRefused(t *testing.T) {
	s := newLLStream(t)
	for range 5 {
		s.part(0)
	}
	s.segment(0)
	ts, srv := serveLL(t, s, server.Limits{Blocked: 1})
	base := ts.URL + "/streams/" + streamName + "/index.m3u8"
	for _, q := range []string{"?_HLS_msn=3", "?_HLS_msn=2&_HLS_part=15", "?_HLS_msn=1&_HLS_part=16", "?_HLS_part=1",
		"?_HLS_msn=x", "?_HLS_msn=-1", "?_HLS_msn=1&_HLS_part=-1", "?_HLS_skip=NO", "?_HLS_msn=1&_HLS_msn=2"} {
		resp, body := do(t, http.MethodGet, base+q, nil)
		checkJSONError(t, resp, body, http.StatusBadRequest)
	}
	ch := getAsync(base + "?_HLS_msn=1&_HLS_part=1")
	waitUntilWaiting(t, srv, 1, ch)
	resp, body := do(t, http.MethodGet, base+"?_HLS_msn=1&_HLS_part=0", nil)
	checkJSONError(t, resp, body, http.StatusServiceUnavailable)                      // Blocked: 1
	resp, body = do(t, http.MethodGet, ts.URL+"/streams/"+streamName+"/1.0.m4s", nil) // the hinted part
	checkJSONError(t, resp, body, http.StatusServiceUnavailable)
	a := <-ch // three target durations later
	if a.err != nil || a.resp.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("a part never written: %v %v %s", a.err, a.resp, a.body)
	}
}

// TestServeParts serves parts from memory: a written one whole, the
// hinted one with its headers at once and its bytes once written
// (chunked), one gone or never to come 404. Checked to fail with the
// hinted part answered 404 (PartComing treated as gone).
func TestServeParts(t *testing.T) {
	s := newLLStream(t)
	for range 5 {
		s.part(0)
	}
	s.segment(0)
	first := s.part(1)
	ts, srv := serveLL(t, s, server.Limits{})
	url := func(name string) string { return ts.URL + "/streams/" + streamName + "/" + name }

	resp, body := do(t, http.MethodGet, url(first.Name()), nil)
	if resp.StatusCode != http.StatusOK || !bytes.Equal(body, first.Data) || resp.Header.Get("Content-Type") != "video/iso.segment" {
		t.Fatalf("%s: %d %s %q", first.Name(), resp.StatusCode, resp.Header.Get("Content-Type"), body)
	}
	whole, body := do(t, http.MethodGet, url("0.m4s"), nil)
	if whole.StatusCode != http.StatusOK || !bytes.Equal(body, []byte("part 0.0part 0.1part 0.2part 0.3part 0.4")) {
		t.Fatalf("0.m4s: %d %q", whole.StatusCode, body)
	}
	resp, err := http.Get(url("1.1.m4s")) // the preload hint
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.ContentLength != -1 || len(resp.TransferEncoding) == 0 {
		t.Fatalf("hinted part: %d, length %d, transfer %v: want 200 chunked before it is written", resp.StatusCode, resp.ContentLength, resp.TransferEncoding)
	}
	waitUntilWaiting(t, srv, 1, nil)
	next := s.part(1)
	body, err = io.ReadAll(resp.Body)
	if err != nil || !bytes.Equal(body, next.Data) {
		t.Fatalf("hinted part: %q, %v; want %q", body, err, next.Data)
	}
	for _, name := range []string{"0.7.m4s", "1.50.m4s", "7.0.m4s", "01.1.m4s"} {
		resp, body := do(t, http.MethodGet, url(name), nil)
		checkJSONError(t, resp, body, http.StatusNotFound)
	}
}

// BenchmarkBlockingReload measures how long after a part is written a
// blocking reload waiting for it is answered, on loopback: one request
// per iteration, waiting for the next part (ms/op at p50 and p99).
func BenchmarkBlockingReload(b *testing.B) {
	s := newLLStream(b)
	ts, srv := serveLL(b, s, server.Limits{})
	base := ts.URL + "/streams/" + streamName + "/index.m3u8"
	seq := media.Seq(0)
	var took []time.Duration
	b.ResetTimer()
	for range b.N {
		if len(s.parts) == 5 {
			s.segment(seq)
			seq++
		}
		ch := getAsync(base + fmt.Sprintf("?_HLS_msn=%d&_HLS_part=%d", seq, len(s.parts)))
		waitUntilWaiting(b, srv, 1, ch)
		written := time.Now()
		s.part(seq)
		a := <-ch
		took = append(took, time.Since(written))
		if a.err != nil || a.resp.StatusCode != http.StatusOK {
			b.Fatalf("%v %v", a.err, a.resp)
		}
	}
	b.StopTimer()
	slices.Sort(took)
	q := func(f float64) float64 { return float64(took[int(f*float64(len(took)-1))]) / float64(time.Millisecond) }
	b.ReportMetric(q(0.5), "p50-ms")
	b.ReportMetric(q(0.99), "p99-ms")
}
