package weedtest

import (
	"io"
	"net"
	"sync"
	"testing"
	"time"
)

// idleGap is the pause in a connection's traffic taken as the start of a
// new request.
const idleGap = 20 * time.Millisecond

// Delayed returns the URL of a TCP proxy on loopback in front of the
// server's S3 gateway that holds each request for delay before passing it
// on, as a store far away would: what a client sends after a pause of at
// least idleGap is held. It stops when tb ends.
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
			wg.Add(2)
			go func() {
				defer wg.Done()
				delayCopy(up, c, delay)
				up.Close()
			}()
			go func() {
				defer wg.Done()
				_, _ = io.Copy(c, up)
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

// delayCopy copies src to dst, holding what comes after a pause of
// idleGap or more for delay.
func delayCopy(dst io.Writer, src io.Reader, delay time.Duration) {
	buf := make([]byte, 64<<10)
	var last time.Time
	for {
		n, err := src.Read(buf)
		if n > 0 {
			if time.Since(last) >= idleGap {
				time.Sleep(delay) // the latency of a store far away
			}
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
			last = time.Now()
		}
		if err != nil {
			return
		}
	}
}
