package main

import (
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hlsmark/hlsmark/pipeline/media"
)

// TestDiskStaysWithinWindow streams for a while with a short window and
// the least grace period RFC 8216 allows (the window plus the target
// duration): the stream folder never holds more segment files than the
// window and the grace period span.
func TestDiskStaysWithinWindow(t *testing.T) {
	t.Parallel()
	data, addr := t.TempDir(), freeAddr(t)
	s := startServer(t, data, addr, "--segment", "500ms", "--window", "3s", "--grace", "4s")
	dir := filepath.Join(data, "demo")
	// 3 s of window and 4 s of grace in 0.5 s segments, each side rounded
	// up by one segment, and one more for the segment the window keeps
	// while the next is being written.
	const most = 3/0.5 + 1 + 4/0.5 + 1 + 1
	peak := 0
	pollUntil(t, "30 segments", 90*time.Second, func() bool {
		entries, err := os.ReadDir(dir)
		if err != nil {
			return false
		}
		n, highest := 0, media.Seq(0)
		for _, e := range entries {
			if seq, ok := media.ParseSegmentName(e.Name()); ok {
				n++
				highest = max(highest, seq)
			}
		}
		peak = max(peak, n)
		return highest >= 30
	})
	if peak > most {
		t.Fatalf("the folder held %d segments at once, more than the %d the window and grace span", peak, int(most))
	}
	s.stop(t, syscall.SIGTERM)
}

// TestIdleConnectionIsClosed opens a connection that sends half a request
// and then nothing: the server's read-header timeout closes it.
func TestIdleConnectionIsClosed(t *testing.T) {
	t.Parallel()
	data, addr := t.TempDir(), freeAddr(t)
	s := startServer(t, data, addr)
	pollUntil(t, "the server to answer", 60*time.Second, func() bool { code, _ := s.get("/healthz"); return code == 200 })
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := io.WriteString(c, "GET /healthz HTTP/1.1\r\nHost: x\r\n"); err != nil {
		t.Fatal(err)
	}
	_ = c.SetReadDeadline(time.Now().Add(30 * time.Second))
	b, err := io.ReadAll(c) // returns when the server closes the connection
	if ne, ok := err.(net.Error); ok && ne.Timeout() {
		t.Fatal("the server kept a half-sent request open for 30 s")
	}
	if strings.Contains(string(b), "200 OK") {
		t.Fatalf("a request without its end was answered: %q", b)
	}
	s.stop(t, syscall.SIGTERM)
}
