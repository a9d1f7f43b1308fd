package main

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// tmpfs mounts a tmpfs of the given size on a new folder, unmounted when
// the test ends. It needs root (CAP_SYS_ADMIN), as CI has.
func tmpfs(t *testing.T, size string) string {
	t.Helper()
	dir := t.TempDir()
	if err := unix.Mount("tmpfs", dir, "tmpfs", 0, "size="+size); err != nil {
		t.Fatalf("mount a %s tmpfs on %s (the full-disk test needs root): %v", size, dir, err)
	}
	t.Cleanup(func() { _ = unix.Unmount(dir, unix.MNT_DETACH) })
	return dir
}

// fill writes a file in dir until the file system is full, and returns
// its path.
func fill(t *testing.T, dir string) string {
	t.Helper()
	path := filepath.Join(dir, "filler")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	chunk := make([]byte, 64<<10)
	for {
		if _, err := f.Write(chunk); err != nil {
			if !errors.Is(err, syscall.ENOSPC) {
				t.Fatal(err)
			}
			return path
		}
	}
}

// streamState returns the stream's state and reason from /api/streams.
func (s *childServer) streamState() (string, string) {
	code, b := s.get("/api/streams")
	if code != 200 {
		return "", ""
	}
	var out struct {
		Streams []struct{ Name, State, Reason string }
	}
	if json.Unmarshal(b, &out) != nil {
		return "", ""
	}
	for _, st := range out.Streams {
		if st.Name == s.name() {
			return st.State, st.Reason
		}
	}
	return "", ""
}

// TestFullDisk fills the file system under a running stream: it shows as
// stalled, saying the disk is full, and /readyz answers 503 while /healthz
// stays 200; once space is freed it publishes again. A restart on the
// full disk starts (stalled), and publishes once space is freed.
func TestFullDisk(t *testing.T) {
	t.Parallel()
	data, addr := tmpfs(t, "8m"), freeAddr(t)
	args := []string{"--segment", "500ms", "--window", "3s"}
	s := startServer(t, data, addr, args...)
	pollUntil(t, "live", 60*time.Second, func() bool { code, _ := s.get("/readyz"); st, _ := s.streamState(); return code == 200 && st == "live" })

	filler := fill(t, data)
	pollUntil(t, "stalled on the full disk", 30*time.Second, func() bool { st, _ := s.streamState(); return st == "stalled" })
	if _, why := s.streamState(); !strings.Contains(strings.ToLower(why), "no space left") {
		t.Errorf("stalled because %q, want the full disk named", why)
	}
	if ready, live := readyAndLive(s); ready != 503 || live != 200 {
		t.Errorf("on a full disk: /readyz %d, /healthz %d; want 503 and 200", ready, live)
	}
	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	pollUntil(t, "live again once space is freed", 30*time.Second, func() bool { code, _ := s.get("/readyz"); return code == 200 })
	s.stop(t, syscall.SIGTERM)

	filler = fill(t, data)
	s = startServer(t, data, addr, args...)
	pollUntil(t, "a restart on the full disk to answer, stalled", 60*time.Second, func() bool { st, _ := s.streamState(); return st == "stalled" })
	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	pollUntil(t, "publishing once space is freed", 30*time.Second, func() bool { code, _ := s.get("/readyz"); return code == 200 })
	s.stop(t, syscall.SIGTERM)
}

// readyAndLive returns the status codes of /readyz and /healthz.
func readyAndLive(s *childServer) (int, int) {
	ready, _ := s.get("/readyz")
	live, _ := s.get("/healthz")
	return ready, live
}
