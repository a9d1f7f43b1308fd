package weedtest

import (
	"io"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Delayed returns the URL of a TCP proxy on loopback in front of the
// server's S3 gateway that holds each request for delay before passing it
// on, as a store far away would. A request starts with the first bytes a
// client sends on a connection, or the first after an answer came back
// (HTTP/1.1 clients do not pipeline). It stops when tb ends.
func (s *Server) Delayed(tb testing.TB, delay time.Duration) string {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	target := s.Endpoint[len("http://"):]
	var wg sync.WaitGroup
	var mu sync.Mutex
	var conns []net.Conn
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			up, err := net.Dial("tcp", target)
			if err != nil {
				c.Close()
				continue
			}
			mu.Lock()
			conns = append(conns, c, up)
			mu.Unlock()
			var answered atomic.Bool
			answered.Store(true) // the first request is held too
			wg.Add(2)
			go func() {
				defer wg.Done()
				holdRequests(up, c, delay, &answered)
				up.Close()
			}()
			go func() {
				defer wg.Done()
				_, _ = io.Copy(&telling{w: c, answered: &answered}, up)
				c.Close()
			}()
		}
	}()
	tb.Cleanup(func() {
		ln.Close()
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	return "http://" + ln.Addr().String()
}

// holdRequests copies a client's bytes to the server, holding the first
// bytes of each request for delay.
func holdRequests(dst io.Writer, src io.Reader, delay time.Duration, answered *atomic.Bool) {
	buf := make([]byte, 64<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			if answered.Swap(false) {
				time.Sleep(delay) // the latency of a store far away
			}
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

// telling is the server-to-client side: what it writes is an answer, so
// the client's next bytes start a request.
type telling struct {
	w        io.Writer
	answered *atomic.Bool
}

func (t *telling) Write(p []byte) (int, error) {
	n, err := t.w.Write(p)
	t.answered.Store(true)
	return n, err
}
