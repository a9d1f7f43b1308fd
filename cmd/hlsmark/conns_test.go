package main

import (
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestConnectionFloodLeavesTheStreamItsFiles runs the server with only 96
// file descriptors and opens 200 connections that send nothing: the server
// holds no more than its cap, so the stream keeps the descriptors it needs
// and goes on listing segments; once the flood is gone, HTTP answers again.
func TestConnectionFloodLeavesTheStreamItsFiles(t *testing.T) {
	t.Parallel()
	data, addr := t.TempDir(), freeAddr(t)
	s := startServerUnder(t, []string{"sh", "-c", `ulimit -n 96 && exec "$@"`, "sh"}, data, addr)
	pollUntil(t, "the server to answer", 60*time.Second, func() bool { code, _ := s.get("/readyz"); return code == 200 })
	var conns []net.Conn
	for range 200 {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		conns = append(conns, c)
	}
	// The stream goes on: four more segments get listed, read from the
	// state file, since HTTP is what the flood holds up.
	listed := func() int {
		b, err := os.ReadFile(filepath.Join(data, "demo", "state.json"))
		if err != nil {
			return -1
		}
		var st struct{ Segments []struct{ Seq int } }
		if json.Unmarshal(b, &st) != nil || len(st.Segments) == 0 {
			return -1
		}
		return st.Segments[len(st.Segments)-1].Seq
	}
	before := listed()
	pollUntil(t, "four more segments during the flood", 30*time.Second, func() bool { return listed() >= before+4 })
	for _, c := range conns {
		c.Close()
	}
	pollUntil(t, "HTTP after the flood", 30*time.Second, func() bool { code, _ := s.get("/readyz"); return code == 200 })
	s.stop(t, syscall.SIGTERM) // its log is complete once it exited
	if strings.Contains(s.log.String(), "too many open files") {
		t.Errorf("the server ran out of file descriptors:\n%s", s.log)
	}
}

// TestMetricsAddr serves /metrics on its own address: there, and not on
// --addr.
func TestMetricsAddr(t *testing.T) {
	t.Parallel()
	data, addr, maddr := t.TempDir(), freeAddr(t), freeAddr(t)
	s := startServer(t, data, addr, "--metrics-addr", maddr)
	pollUntil(t, "the server to answer", 60*time.Second, func() bool { code, _ := s.get("/healthz"); return code == 200 })
	if code, _ := s.get("/metrics"); code != http.StatusNotFound {
		t.Errorf("/metrics on --addr: %d, want 404", code)
	}
	resp, err := http.Get("http://" + maddr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var b strings.Builder
	_, _ = io.Copy(&b, resp.Body)
	if resp.StatusCode != http.StatusOK || !strings.Contains(b.String(), "hlsmark_frames_encoded_total") {
		t.Errorf("/metrics on --metrics-addr: %d, %d bytes without hlsmark's series", resp.StatusCode, b.Len())
	}
	s.stop(t, syscall.SIGTERM)
}
