//go:build cgo

package server

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/hlsmark/hlsmark/pipeline/pipelinetest"
)

// newSlowServer serves a finished run with small limits on event streams.
func newSlowServer(t *testing.T) (*httptest.Server, *pipelinetest.Run) {
	t.Helper()
	r := pipelinetest.Start(t, pipelinetest.Config{Frames: 90, Seed: 5, EventEvery: 2 * time.Second, EventDuration: 500 * time.Millisecond})
	ts := httptest.NewServer(New(Config{
		Streams:           []*Stream{{Name: pipelinetest.Stream, Playlist: r.Playlist, Markers: r.Markers}},
		MaxSubscribers:    3,
		EventWriteTimeout: 500 * time.Millisecond,
	}))
	t.Cleanup(ts.Close)
	return ts, r
}

// rawGet opens a connection and sends a GET for path, reading nothing.
func rawGet(t *testing.T, ts *httptest.Server, path string) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", ts.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	fmt.Fprintf(c, "GET %s HTTP/1.1\r\nHost: x\r\n\r\n", path)
	return c
}

// TestSlowReaderTiesUpOnlyItsConnection reads a segment at 1 KiB/s while
// other clients fetch the playlist and segments: they are all served in
// full meanwhile.
func TestSlowReaderTiesUpOnlyItsConnection(t *testing.T) {
	ts, r := newSlowServer(t)
	seg := r.Playlist.Segments()[0]
	slow := rawGet(t, ts, "/streams/demo/"+seg.Name())
	_ = slow.(*net.TCPConn).SetReadBuffer(1024)
	done := make(chan int64)
	go func() {
		var n int64
		buf := make([]byte, 1024)
		br := bufio.NewReader(slow)
		for i := 0; i < 3; i++ { // 3 KiB at 1 KiB/s, then let go
			m, err := br.Read(buf)
			n += int64(m)
			if err != nil {
				break
			}
			time.Sleep(time.Second)
		}
		done <- n
	}()
	for range 20 {
		for _, path := range []string{"/streams/demo/index.m3u8", "/streams/demo/" + r.Playlist.Segments()[1].Name(), "/api/streams/demo/markers"} {
			resp, err := http.Get(ts.URL + path)
			if err != nil {
				t.Fatal(err)
			}
			n, _ := io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK || n == 0 {
				t.Fatalf("%s while a slow client reads: %d, %d bytes", path, resp.StatusCode, n)
			}
		}
	}
	if n := <-done; n == 0 {
		t.Fatal("the slow client got nothing")
	}
}

// TestStalledEventSubscriberIsDropped opens an event stream and never
// reads it: posting markers is not held up, the server gives the stalled
// client up once its writes time out, and subscribers beyond the limit
// are refused with 503 meanwhile.
func TestStalledEventSubscriberIsDropped(t *testing.T) {
	ts, r := newSlowServer(t)
	stalled := rawGet(t, ts, "/api/streams/demo/markers/events")
	_ = stalled.(*net.TCPConn).SetReadBuffer(4096)
	pts := r.Playlist.Segments()[0].FirstPTS
	big := strings.Repeat("x", 30000)
	deadline := time.Now().Add(30 * time.Second)
	for i := 0; r.Markers.Subscribers() > 0; i++ {
		if time.Now().After(deadline) {
			t.Fatalf("the stalled subscriber is still held after %d posts", i)
		}
		body := fmt.Sprintf(`{"label":"fill %d","pts":%d,"data":{"pad":%q}}`, i, pts, big)
		resp, err := http.Post(ts.URL+"/api/streams/demo/markers", "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusCreated {
			t.Fatalf("post %d with a stalled subscriber: %d", i, resp.StatusCode)
		}
	}
}

func TestEventSubscribersAreBounded(t *testing.T) {
	ts, r := newSlowServer(t)
	for range 3 {
		rawGet(t, ts, "/api/streams/demo/markers/events")
	}
	deadline := time.Now().Add(10 * time.Second)
	for r.Markers.Subscribers() < 3 {
		if time.Now().After(deadline) {
			t.Fatalf("%d subscribers, want 3", r.Markers.Subscribers())
		}
		time.Sleep(10 * time.Millisecond)
	}
	resp, err := http.Get(ts.URL + "/api/streams/demo/markers/events")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("fourth subscriber: %d, want 503 with Retry-After", resp.StatusCode)
	}
}
