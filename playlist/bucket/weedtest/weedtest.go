// Package weedtest runs a real S3-compatible server for tests: SeaweedFS
// (`weed server -s3`), its master, volume, filer and S3 gateway on free
// loopback ports, its data in the test's temporary folder, stopped by its
// pid when the test ends. Requests need no credentials (no identities are
// configured), and objects are readable over plain HTTP. A missing weed
// fails the test: scripts/setup test builds it into /usr/local/bin.
package weedtest

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Bin is where scripts/setup test puts weed.
const Bin = "/usr/local/bin/weed"

// readyWithin bounds how long Start waits for the server to take writes.
const readyWithin = 90 * time.Second

// Server is one running SeaweedFS server.
type Server struct {
	// Endpoint is the S3 gateway's URL, http://127.0.0.1:PORT.
	Endpoint string
	dir      string
	ports    []int // master, volume, filer, s3, then their gRPC ports
	log      *os.File
	cmd      *exec.Cmd
}

// Start runs SeaweedFS with its data in a temporary folder of tb, waits
// until it stores objects, and stops it when tb ends.
func Start(tb testing.TB) *Server {
	tb.Helper()
	if out, err := exec.Command(Bin, "version").CombinedOutput(); err != nil {
		tb.Fatalf("SeaweedFS is needed (scripts/setup test builds %s): %v %s", Bin, err, out)
	}
	s := &Server{dir: tb.TempDir()}
	// Eight different ports: each pick is free when made, not of the
	// picks before it (CI once gave the S3 and the master's gRPC port
	// the same number).
	for len(s.ports) < 8 {
		if p := freePort(tb); !slices.Contains(s.ports, p) {
			s.ports = append(s.ports, p)
		}
	}
	s.Endpoint = fmt.Sprintf("http://127.0.0.1:%d", s.ports[3])
	log, err := os.Create(filepath.Join(s.dir, "weed.log"))
	if err != nil {
		tb.Fatal(err)
	}
	s.log = log
	tb.Cleanup(func() {
		s.Stop(tb)
		log.Close()
	})
	s.Restart(tb)
	return s
}

// Restart starts the server again, after Stop, on the same folder and
// ports, and waits until it stores objects.
func (s *Server) Restart(tb testing.TB) {
	tb.Helper()
	p := s.ports
	s.cmd = exec.Command(Bin, "server", "-ip=127.0.0.1", "-dir="+filepath.Join(s.dir, "data"), "-s3",
		"-master.port="+strconv.Itoa(p[0]), "-master.port.grpc="+strconv.Itoa(p[4]),
		"-volume.port="+strconv.Itoa(p[1]), "-volume.port.grpc="+strconv.Itoa(p[5]),
		"-filer.port="+strconv.Itoa(p[2]), "-filer.port.grpc="+strconv.Itoa(p[6]),
		"-s3.port="+strconv.Itoa(p[3]), "-s3.port.grpc="+strconv.Itoa(p[7]),
		"-s3.port.iceberg=0", "-s3.port.lance=0",
		"-master.volumeSizeLimitMB=256", "-volume.max=0")
	if err := os.MkdirAll(filepath.Join(s.dir, "data"), 0o755); err != nil {
		tb.Fatal(err)
	}
	s.cmd.Stdout, s.cmd.Stderr = s.log, s.log
	if err := s.cmd.Start(); err != nil {
		tb.Fatalf("weed: %v", err)
	}
	s.waitReady(tb)
}

// waitReady writes a probe object into a bucket of its own until it is
// stored: the S3 gateway listens before the volume server takes writes.
func (s *Server) waitReady(tb testing.TB) {
	tb.Helper()
	deadline := time.Now().Add(readyWithin)
	var err error
	for time.Now().Before(deadline) {
		// 409: the bucket is there from before a Restart.
		if err = s.put("/weedtest-probe", nil); err == nil || strings.Contains(err.Error(), "409") {
			if err = s.put("/weedtest-probe/probe", []byte("probe")); err == nil {
				return
			}
		}
		time.Sleep(100 * time.Millisecond) // polling the server's start, not a proof
	}
	tb.Fatalf("SeaweedFS (pid %d) stored no object within %s: %v\n%s", s.cmd.Process.Pid, readyWithin, err, s.Log())
}

// Bucket makes a bucket called name.
func (s *Server) Bucket(tb testing.TB, name string) {
	tb.Helper()
	if err := s.put("/"+name, nil); err != nil {
		tb.Fatalf("make bucket %s: %v", name, err)
	}
}

func (s *Server) put(path string, body []byte) error {
	req, err := http.NewRequest(http.MethodPut, s.Endpoint+path, bytes.NewReader(body))
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("PUT %s: %s", path, resp.Status)
	}
	return nil
}

// Stop kills the server (SIGKILL, as a crash: a graceful stop takes
// SeaweedFS half a minute) and waits for it; a stopped server stays
// stopped. Restart starts it again on the same folder: what it
// acknowledged is there.
func (s *Server) Stop(tb testing.TB) {
	tb.Helper()
	if s.cmd == nil {
		return
	}
	if err := s.cmd.Process.Kill(); err != nil {
		tb.Errorf("killing weed (pid %d): %v", s.cmd.Process.Pid, err)
	}
	_ = s.cmd.Wait() // killed: the status says so
	s.cmd = nil
}

// Log returns what the server logged so far.
func (s *Server) Log() string {
	b, _ := os.ReadFile(s.log.Name())
	return string(b)
}

// Ports are picked below Linux's ephemeral range (32768 up, by default),
// where the kernel hands out ports for "port 0" and outgoing connections:
// a server stopped and restarted on its ports (Stop, Restart) would
// otherwise find one taken by another test's listener meanwhile.
const (
	portLow  = 20000
	portHigh = 32000
)

// freePort returns a loopback TCP port outside the ephemeral range that
// was free a moment ago.
func freePort(tb testing.TB) int {
	for range 1000 {
		port := portLow + rand.IntN(portHigh-portLow)
		ln, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(port))
		if err != nil {
			continue // taken
		}
		ln.Close()
		return port
	}
	tb.Fatalf("weedtest: no free port from %d to %d", portLow, portHigh)
	return 0
}
