package main

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// cli is the hlsmark binary the command-line tests run, built on first use
// into a folder TestMain removes.
var cli struct {
	once sync.Once
	dir  string
	path string
	err  error
}

func TestMain(m *testing.M) {
	// The children inherit the environment: a token set in the shell that
	// runs the tests would lock every test's marker POSTs.
	os.Unsetenv(tokenEnv)
	code := m.Run()
	if cli.dir != "" {
		os.RemoveAll(cli.dir)
	}
	os.Exit(code)
}

// cliBinary builds hlsmark (with the race detector, so the child process
// is checked too) once per test binary and returns its path.
func cliBinary(t testing.TB) string {
	t.Helper()
	cli.once.Do(func() {
		if cli.dir, cli.err = os.MkdirTemp("", "hlsmark-cli-"); cli.err != nil {
			return
		}
		cli.path = filepath.Join(cli.dir, "hlsmark")
		if out, err := exec.Command("go", "build", "-race", "-o", cli.path, ".").CombinedOutput(); err != nil {
			cli.err = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if cli.err != nil {
		t.Fatal(cli.err)
	}
	return cli.path
}

// cliResult is how a finished hlsmark process ended.
type cliResult struct {
	code           int
	stdout, stderr string
}

// runCLI runs hlsmark with args in folder dir and waits for it to end.
func runCLI(t *testing.T, dir string, args ...string) cliResult {
	t.Helper()
	cmd := exec.Command(cliBinary(t), args...)
	cmd.Dir = dir
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		t.Fatalf("hlsmark %q: %v", args, err)
	}
	return cliResult{code: cmd.ProcessState.ExitCode(), stdout: stdout.String(), stderr: stderr.String()}
}

// unusedAddr returns a loopback address that nothing listens on: the
// address of a listener it opened and closed.
func unusedAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	if err := ln.Close(); err != nil {
		t.Fatal(err)
	}
	return addr
}

// waitFor polls cond until it holds, failing the test at the deadline. It
// is for a child process on the real clock, where there is nothing to
// synchronise on but what it serves.
func waitFor(t *testing.T, what string, deadline time.Duration, cond func() bool) {
	t.Helper()
	end := time.Now().Add(deadline)
	for !cond() {
		if time.Now().After(end) {
			t.Fatalf("no %s after %v", what, deadline)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// ffprobePath returns ffprobe's path; its absence fails the test.
func ffprobePath(t *testing.T) string {
	t.Helper()
	path, err := exec.LookPath("ffprobe")
	if err != nil {
		t.Fatalf("ffprobe is required (make setup-test installs it): %v", err)
	}
	return path
}
