// Package live runs `hlsmark serve` as a child process and reads what it
// serves, for the programs under bench/ that measure a running server
// from outside: its playlist, its metrics and its marker API, over HTTP on
// loopback only.
package live

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Server is a running `hlsmark serve`, started by Start.
type Server struct {
	// Base is its URL, http://127.0.0.1:port.
	Base string
	// Addr is the host:port it listens on.
	Addr string
	cmd  *exec.Cmd
	log  *os.File
	done chan struct{}
	err  error
}

// FreeAddr returns a loopback host:port that nothing listens on now.
func FreeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// Start runs bin (the hlsmark binary) as `serve --addr addr --data data`
// followed by args, its output appended to logPath. addr must be on
// loopback.
func Start(bin, addr, data, logPath string, args ...string) (*Server, error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil || host != "127.0.0.1" {
		return nil, fmt.Errorf("live: address %q: only 127.0.0.1 is allowed", addr)
	}
	log, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("live: %w", err)
	}
	cmd := exec.Command(bin, append([]string{"serve", "--addr", addr, "--data", data}, args...)...)
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		log.Close()
		return nil, fmt.Errorf("live: start %s: %w", bin, err)
	}
	s := &Server{Base: "http://" + addr, Addr: addr, cmd: cmd, log: log, done: make(chan struct{})}
	go func() {
		s.err = cmd.Wait()
		log.Close()
		close(s.done)
	}()
	return s, nil
}

// Pid returns the server's process id.
func (s *Server) Pid() int { return s.cmd.Process.Pid }

// WaitHealthy waits until /healthz answers 200, or the process exits, or
// timeout passes.
func (s *Server) WaitHealthy(timeout time.Duration) error {
	c := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		select {
		case <-s.done:
			return fmt.Errorf("live: hlsmark serve exited before answering: %v (log %s)", s.err, s.log.Name())
		default:
		}
		if resp, err := c.Get(s.Base + "/healthz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	return fmt.Errorf("live: hlsmark serve did not answer /healthz within %s (log %s)", timeout, s.log.Name())
}

// Kill sends SIGKILL to the server's pid and waits for it to exit.
func (s *Server) Kill() {
	_ = s.cmd.Process.Signal(syscall.SIGKILL)
	<-s.done
}

// Stop sends SIGINT, the graceful stop, and waits up to timeout for the
// server to exit; past it, the server is killed and an error returned.
func (s *Server) Stop(timeout time.Duration) error {
	if err := s.cmd.Process.Signal(os.Interrupt); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return fmt.Errorf("live: interrupt hlsmark serve: %w", err)
	}
	select {
	case <-s.done:
	case <-time.After(timeout):
		s.Kill()
		return fmt.Errorf("live: hlsmark serve did not stop within %s of SIGINT (log %s)", timeout, s.log.Name())
	}
	if s.err != nil {
		return fmt.Errorf("live: hlsmark serve: %w (log %s)", s.err, s.log.Name())
	}
	return nil
}

// Exited reports whether the process has exited.
func (s *Server) Exited() bool {
	select {
	case <-s.done:
		return true
	default:
		return false
	}
}

// ProcessState returns the exited process's state (CPU time), or nil
// while it runs.
func (s *Server) ProcessState() *os.ProcessState {
	if !s.Exited() {
		return nil
	}
	return s.cmd.ProcessState
}

// CPU returns the CPU time (user and system, every thread) the running
// server has used so far, from /proc.
func (s *Server) CPU() (time.Duration, error) { return PidCPU(s.Pid()) }

// PidCPU returns the CPU time (user and system, every thread) the running
// process pid has used so far, from /proc/PID/stat.
func PidCPU(pid int) (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// The command name, in parentheses, may hold spaces: the fields
	// counted in proc(5) go on after its closing one.
	_, rest, ok := strings.Cut(string(b), ") ")
	f := strings.Fields(rest)
	if !ok || len(f) < 13 {
		return 0, fmt.Errorf("live: /proc/%d/stat: %q", pid, b)
	}
	// utime and stime, fields 14 and 15, in clock ticks (USER_HZ, 100
	// on Linux).
	utime, err1 := strconv.ParseInt(f[11], 10, 64)
	stime, err2 := strconv.ParseInt(f[12], 10, 64)
	if err := errors.Join(err1, err2); err != nil {
		return 0, fmt.Errorf("live: /proc/%d/stat: %w", pid, err)
	}
	return time.Duration(utime+stime) * 10 * time.Millisecond, nil
}
