// Package cluster runs the cluster example (the script run, next to this
// file) from Go and reads what its nginx logged, for the test that proves
// the example and for bench/cluster, which measures viewers through it.
// It starts nothing itself: every process is the script's.
package cluster

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Ports is how many consecutive ports the script takes from its PORT up:
// nginx, two edges, two encoders, PostgreSQL and SeaweedFS's eight.
const Ports = 15

// Node is one process the script started.
type Node struct {
	// Name is the script's: postgres, seaweedfs, encoder1, encoder2,
	// edge1, edge2 or nginx.
	Name string
	// Address is its URL (PostgreSQL's connection URL).
	Address string
	Pid     int
}

// Cluster is a running example, started by Start.
type Cluster struct {
	// URL is nginx's, the one to open: http://127.0.0.1:PORT/.
	URL string
	// Dir is the folder every component keeps its data and log in.
	Dir   string
	Nodes map[string]Node

	cmd    *exec.Cmd
	stderr *syncBuffer
	done   chan struct{}
	err    error
}

// nodeLine is how the script tells a process it started:
// "NAME ADDRESS pid PID".
var nodeLine = regexp.MustCompile(`^(\S+)\s+(\S+)\s+pid (\d+)$`)

// Start runs script (examples/cluster/run) with hlsmark as its binary, dir
// as its folder and nginx on port (the Ports ports from it up must be
// free), and waits until the script tells the URL to open, at most within.
func Start(script, hlsmark, dir string, port int, within time.Duration) (*Cluster, error) {
	cmd := exec.Command(script, dir)
	cmd.Env = append(os.Environ(), "HLSMARK="+hlsmark, "PORT="+strconv.Itoa(port))
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, fmt.Errorf("cluster: %w", err)
	}
	c := &Cluster{Dir: dir, Nodes: map[string]Node{}, cmd: cmd, stderr: &syncBuffer{}, done: make(chan struct{})}
	cmd.Stderr = c.stderr
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("cluster: start %s: %w", script, err)
	}
	opened := make(chan struct{})
	go func() {
		defer close(c.done)
		c.read(stdout, opened)
		c.err = cmd.Wait()
	}()
	select {
	case <-opened:
		return c, nil
	case <-c.done:
		return nil, fmt.Errorf("cluster: %s ended before telling the URL (%v):\n%s", script, c.err, c.stderr)
	case <-time.After(within):
		c.Stop()
		return nil, fmt.Errorf("cluster: %s told no URL within %s:\n%s", script, within, c.stderr)
	}
}

// read takes the script's lines: its nodes, then the URL to open.
func (c *Cluster) read(stdout io.Reader, opened chan<- struct{}) {
	sc := bufio.NewScanner(stdout)
	for sc.Scan() {
		line := sc.Text()
		if url, ok := strings.CutPrefix(line, "open "); ok && c.URL == "" {
			c.URL = strings.TrimSuffix(url, "/")
			close(opened)
			continue
		}
		if m := nodeLine.FindStringSubmatch(line); m != nil && c.URL == "" {
			pid, _ := strconv.Atoi(m[3]) // \d+
			c.Nodes[m[1]] = Node{Name: m[1], Address: m[2], Pid: pid}
		}
	}
	_, _ = io.Copy(io.Discard, stdout)
}

// Stop sends the script SIGTERM, as Ctrl-C would, and waits until it has
// stopped every process it started.
func (c *Cluster) Stop() error {
	if err := c.cmd.Process.Signal(syscall.SIGTERM); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return fmt.Errorf("cluster: stop the script (pid %d): %w", c.cmd.Process.Pid, err)
	}
	<-c.done
	if c.err != nil {
		return fmt.Errorf("cluster: the script: %w\n%s", c.err, c.stderr)
	}
	return nil
}

// Stderr returns what the script told on its standard error so far.
func (c *Cluster) Stderr() string { return c.stderr.String() }

// AccessLog returns the path of nginx's access log.
func (c *Cluster) AccessLog() string { return filepath.Join(c.Dir, "nginx", "access.log") }

// FreePorts returns the first of Ports consecutive loopback ports that
// were all free a moment ago, below Linux's ephemeral range (from 32768),
// where outgoing connections would take them meanwhile.
func FreePorts() (int, error) {
	for range 200 {
		first := 20000 + rand.IntN(12000-Ports)
		if allFree(first) {
			return first, nil
		}
	}
	return 0, errors.New("cluster: no free ports")
}

func allFree(first int) bool {
	for p := first; p < first+Ports; p++ {
		ln, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(p))
		if err != nil {
			return false
		}
		ln.Close()
	}
	return true
}

// syncBuffer is a bytes.Buffer written by exec's copying goroutine and
// read by the caller.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
