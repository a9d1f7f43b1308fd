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
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/hlsmark/hlsmark/pipeline/media"
	"github.com/hlsmark/hlsmark/pipeline/pipelinetest"
)

// newSlowServer serves a finished run with small limits on event streams.
func newSlowServer(t *testing.T) (*httptest.Server, *pipelinetest.Run) {
	t.Helper()
	r := pipelinetest.Start(t, pipelinetest.Config{Frames: 90, Seed: 5, EventEvery: 2 * time.Second, EventDuration: 500 * time.Millisecond})
	ts := httptest.NewServer(New(Config{
		Streams:           Fixed{{Name: pipelinetest.Stream, Playlist: r.Playlist, Markers: r.Markers}},
		MaxSubscribers:    3,
		EventWriteTimeout: 500 * time.Millisecond,
		Limits:            RoomyLimits,
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

// smallBuffers is a listener whose connections have small kernel send
// buffers, so that a response to a client that does not read stays stuck
// in the server's write instead of vanishing into the socket's buffers.
type smallBuffers struct{ net.Listener }

func (l smallBuffers) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if tc, ok := c.(*net.TCPConn); ok {
		_ = tc.SetWriteBuffer(4096)
	}
	return c, err
}

// TestSlowReaderTiesUpOnlyItsConnection asks for a segment on a connection
// that then reads nothing, so the server's handler is stuck writing it.
// Meanwhile other clients fetch the playlist, segments (the same one too)
// and markers in full. Then the slow client reads its segment, whole.
func TestSlowReaderTiesUpOnlyItsConnection(t *testing.T) {
	r := pipelinetest.Start(t, pipelinetest.Config{Size: media.Size{Width: 640, Height: 480}, Frames: 90, Seed: 5})
	ts := httptest.NewUnstartedServer(New(Config{
		Streams: Fixed{{Name: pipelinetest.Stream, Playlist: r.Playlist, Markers: r.Markers}},
	}))
	ts.Listener = smallBuffers{ts.Listener}
	var mu sync.Mutex
	states := map[net.Conn]http.ConnState{}
	ts.Config.ConnState = func(c net.Conn, s http.ConnState) {
		mu.Lock()
		defer mu.Unlock()
		states[c] = s
	}
	ts.Start()
	t.Cleanup(ts.Close)
	active := func() int {
		mu.Lock()
		defer mu.Unlock()
		n := 0
		for _, s := range states {
			if s == http.StateActive {
				n++
			}
		}
		return n
	}

	seg := r.Playlist.Segments()[0]
	// A receive buffer set before connecting bounds the window the slow
	// client ever advertises.
	d := net.Dialer{Control: func(_, _ string, c syscall.RawConn) error {
		return c.Control(func(fd uintptr) { _ = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 1024) })
	}}
	slow, err := d.Dial("tcp", ts.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer slow.Close()
	fmt.Fprintf(slow, "GET /streams/demo/%s HTTP/1.1\r\nHost: x\r\n\r\n", seg.Name())
	// Until the slow client reads, its request stays active: the handler
	// cannot have written a segment of many kilobytes into a few.
	deadline := time.Now().Add(10 * time.Second)
	for active() != 1 {
		if time.Now().After(deadline) {
			t.Fatalf("%d active connections, want the slow one", active())
		}
		time.Sleep(time.Millisecond)
	}
	client := &http.Client{Timeout: 10 * time.Second}
	for range 20 {
		for _, path := range []string{"/streams/demo/index.m3u8", "/streams/demo/" + seg.Name(), "/streams/demo/" + r.Playlist.Segments()[1].Name(), "/api/streams/demo/markers"} {
			resp, err := client.Get(ts.URL + path)
			if err != nil {
				t.Fatalf("%s while a slow client holds a segment: %v", path, err)
			}
			n, _ := io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK || n == 0 {
				t.Fatalf("%s while a slow client reads: %d, %d bytes", path, resp.StatusCode, n)
			}
		}
	}
	// The other clients' connections go idle once the server has written
	// their answers, a moment after the clients read them: the slow one
	// alone stays active.
	deadline = time.Now().Add(10 * time.Second)
	for active() != 1 {
		if time.Now().After(deadline) {
			t.Fatalf("%d active connections after the other clients were served, want the slow one still stuck", active())
		}
		time.Sleep(time.Millisecond)
	}
	resp, err := http.ReadResponse(bufio.NewReader(slow), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if n, err := io.Copy(io.Discard, resp.Body); err != nil || n != seg.Size {
		t.Fatalf("the slow client got %d bytes of %d (%v)", n, seg.Size, err)
	}
}

// TestStalledEventSubscriberIsDropped opens an event stream and never
// reads it: posting markers is not held up, and the server gives the
// stalled client up once its writes time out.
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

// TestEventSubscribersAreBounded holds as many event streams as allowed:
// the next one is refused with 503 and Retry-After.
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
