package main

import (
	"net"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// casesBadCommandLine are command lines hlsmark must refuse before doing
// anything, and the text (a flag, an argument) its message must name.
var casesBadCommandLine = []struct {
	name  string
	args  []string
	names string
}{
	{"size not even and too small", []string{"serve", "--size", "13x7"}, "--size"},
	{"size not a size", []string{"serve", "--size", "abc"}, "--size"},
	{"fps zero", []string{"serve", "--fps", "0"}, "--fps"},
	{"fps too high", []string{"serve", "--fps", "1000"}, "--fps"},
	{"fps not a number", []string{"serve", "--fps", "many"}, "-fps"},
	{"segment zero", []string{"serve", "--segment", "0s"}, "--segment"},
	{"segment not a duration", []string{"serve", "--segment", "2"}, "-segment"},
	{"window below the segment", []string{"serve", "--window", "1s"}, "--window"},
	{"grace negative", []string{"serve", "--grace", "-1s"}, "--grace"},
	{"grace below the window plus the target", []string{"serve", "--grace", "2m1s"},
		"--grace 2m1s: must be at least 2m2s, the window plus the target duration (RFC 8216 section 6.2.2)"},
	{"grace below a short window plus the target", []string{"serve", "--window", "10s", "--segment", "1500ms", "--grace", "11s"},
		"must be at least 12s"},
	{"preset", []string{"serve", "--preset", "bogus"}, "--preset"},
	{"tune", []string{"serve", "--tune", "bogus"}, "--tune"},
	{"bframes", []string{"serve", "--bframes", "17"}, "--bframes"},
	{"events too close", []string{"serve", "--event-every", "1s"}, "--event-every"},
	{"stream name with a path", []string{"serve", "--stream", "../x"}, "--stream"},
	{"stream name with a slash", []string{"serve", "--stream", "a/b"}, "--stream"},
	{"unknown flag", []string{"serve", "--nope"}, "-nope"},
	{"extra argument", []string{"serve", "extra"}, `"extra"`},
	{"unknown command", []string{"frobnicate"}, `"frobnicate"`},
	{"bench frames", []string{"bench", "--frames", "0"}, "--frames"},
	{"bench size", []string{"bench", "--size", "13x7"}, "--size"},
	{"healthcheck unknown flag", []string{"healthcheck", "--nope"}, "-nope"},
	{"healthcheck extra argument", []string{"healthcheck", "extra"}, `"extra"`},
}

// TestBadCommandLine runs hlsmark with each bad command line: it exits 2
// with exactly one line on stderr naming the fault, prints nothing on
// stdout, and leaves its working folder untouched (no ./data).
func TestBadCommandLine(t *testing.T) {
	for _, c := range casesBadCommandLine {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			r := runCLI(t, dir, c.args...)
			checkUsageError(t, r, c.names)
			if entries, err := os.ReadDir(dir); err != nil || len(entries) > 0 {
				t.Errorf("a refused command line left %d files in its folder (%v)", len(entries), err)
			}
		})
	}
}

// TestAddressInUse refuses --addr when the address is taken, the same way.
func TestAddressInUse(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	r := runCLI(t, t.TempDir(), "serve", "--addr", ln.Addr().String(), "--data", t.TempDir())
	checkUsageError(t, r, "--addr")
}

func checkUsageError(t *testing.T, r cliResult, names string) {
	t.Helper()
	if r.code != 2 {
		t.Errorf("exit code %d, want 2 (stderr %q)", r.code, r.stderr)
	}
	if strings.Count(r.stderr, "\n") != 1 || !strings.HasSuffix(r.stderr, "\n") {
		t.Errorf("stderr is %q, want exactly one line", r.stderr)
	}
	if !strings.Contains(r.stderr, names) {
		t.Errorf("stderr %q does not name %s", r.stderr, names)
	}
	if r.stdout != "" {
		t.Errorf("stdout %q, want nothing", r.stdout)
	}
}

// TestHealthcheckClosedPort exits 1, with one line saying why, when no
// server answers.
func TestHealthcheckClosedPort(t *testing.T) {
	r := runCLI(t, t.TempDir(), "healthcheck", "--addr", unusedAddr(t))
	if r.code != 1 || strings.Count(r.stderr, "\n") != 1 || r.stdout != "" {
		t.Fatalf("healthcheck of a closed port: exit %d, stderr %q, stdout %q; want 1 and one line on stderr", r.code, r.stderr, r.stdout)
	}
}

// TestDataFolderInUse starts a server, then a second hlsmark on the same
// --data: the second exits at once with code 2 and one line naming the
// folder and the first server's pid (the lock file, not the marker
// store's timeout), and leaves the first serving.
func TestDataFolderInUse(t *testing.T) {
	t.Parallel()
	data, addr := t.TempDir(), freeAddr(t)
	first := startServer(t, data, addr)
	pollUntil(t, "the first server to answer", 60*time.Second, func() bool { code, _ := first.get("/healthz"); return code == 200 })
	r := runCLI(t, t.TempDir(), "serve", "--addr", unusedAddr(t), "--data", data)
	checkUsageError(t, r, "data folder "+data+" in use by another hlsmark, pid "+strconv.Itoa(first.cmd.Process.Pid))
	if code, _ := first.get("/healthz"); code != 200 {
		t.Fatalf("the first server answers /healthz with %d after the second tried its folder", code)
	}
	first.stop(t, syscall.SIGTERM)
}
