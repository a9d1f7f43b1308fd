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
	"unsafe"

	"github.com/hlsmark/hlsmark/pipeline/media"
	"golang.org/x/sys/unix"
)

// casesDisk are short windows, grace periods and retentions in 0.5 s
// segments, and the most segment files the folder may hold at once: each
// span rounded up by one segment, and one more for the segment the window
// keeps while the next is being written. least is what the folder must
// reach: retention keeps more than the window and grace alone.
var casesDisk = []struct {
	name        string
	args        []string
	least, most int
}{
	// 3 s of window and 4 s of grace (more than the least RFC 8216
	// allows, the window plus the target), no retention.
	{"window and grace", []string{"--window", "3s", "--grace", "4s", "--retain", "0"}, 3 / 0.5, 3/0.5 + 1 + 4/0.5 + 1 + 1},
	// 10 s of retention, from each segment's start: past the grace.
	{"retention", []string{"--window", "3s", "--grace", "4s", "--retain", "10s"}, 3/0.5 + 1 + 4/0.5 + 1 + 1 + 1, 10/0.5 + 1 + 1},
}

// TestDiskStaysWithinWindow streams for a while with a short window and
// grace period, and retention: the stream folder never holds more segment
// files than they span. The folder is watched with inotify, so every
// segment file that appears or goes is counted: the peak cannot fall
// between two samples.
func TestDiskStaysWithinWindow(t *testing.T) {
	t.Parallel()
	for _, c := range casesDisk {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			data, addr := t.TempDir(), freeAddr(t)
			dir := filepath.Join(data, "demo")
			if err := os.MkdirAll(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			w := watchSegments(t, dir)
			s := startServer(t, data, addr, append([]string{"--segment", "500ms"}, c.args...)...)
			peak, highest := w.until(t, 40, 90*time.Second)
			if peak > c.most {
				t.Fatalf("the folder held %d segments at once, more than the %d that %v span", peak, c.most, c.args)
			}
			if peak < c.least {
				t.Fatalf("the folder held at most %d segments by segment %d, want %d at least with %v", peak, highest, c.least, c.args)
			}
			s.stop(t, syscall.SIGTERM)
		})
	}
}

// segmentWatch follows the segment files in a folder through inotify.
type segmentWatch struct {
	fd int
}

// watchSegments starts watching dir for segment files moved in, created
// or deleted. The watch ends with the test.
func watchSegments(t *testing.T, dir string) *segmentWatch {
	t.Helper()
	fd, err := unix.InotifyInit1(unix.IN_CLOEXEC)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Close(fd) })
	if _, err := unix.InotifyAddWatch(fd, dir, unix.IN_CREATE|unix.IN_MOVED_TO|unix.IN_DELETE|unix.IN_MOVED_FROM); err != nil {
		t.Fatal(err)
	}
	return &segmentWatch{fd: fd}
}

// until reads events until a segment numbered last or higher appears, or
// the timeout passes (a failure), and returns the most segment files the
// folder held at once and the highest segment number seen.
func (w *segmentWatch) until(t *testing.T, last media.Seq, timeout time.Duration) (peak int, highest media.Seq) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	present := map[media.Seq]bool{}
	buf := make([]byte, 64<<10)
	for highest < last {
		if time.Now().After(deadline) {
			t.Fatalf("segment %d did not appear in %s (highest %d)", last, timeout, highest)
		}
		fds := []unix.PollFd{{Fd: int32(w.fd), Events: unix.POLLIN}}
		if n, err := unix.Poll(fds, 1000); err != nil && err != unix.EINTR {
			t.Fatal(err)
		} else if n == 0 {
			continue
		}
		n, err := unix.Read(w.fd, buf)
		if err != nil {
			t.Fatal(err)
		}
		for off := 0; off+unix.SizeofInotifyEvent <= n; {
			ev := (*unix.InotifyEvent)(unsafe.Pointer(&buf[off]))
			name := strings.TrimRight(string(buf[off+unix.SizeofInotifyEvent:off+unix.SizeofInotifyEvent+int(ev.Len)]), "\x00")
			off += unix.SizeofInotifyEvent + int(ev.Len)
			if ev.Mask&unix.IN_Q_OVERFLOW != 0 {
				t.Fatal("inotify queue overflowed: events were lost")
			}
			seq, ok := media.ParseSegmentName(name)
			if !ok {
				continue
			}
			if ev.Mask&(unix.IN_CREATE|unix.IN_MOVED_TO) != 0 {
				present[seq] = true
				highest = max(highest, seq)
			} else {
				delete(present, seq)
			}
			peak = max(peak, len(present))
		}
	}
	return peak, highest
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
