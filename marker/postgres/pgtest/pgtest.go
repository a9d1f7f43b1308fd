// Package pgtest runs a real PostgreSQL server for tests: Debian's
// PostgreSQL 15, initialised in the test's temporary folder and listening
// on a free loopback port, stopped when the test ends. A missing
// PostgreSQL fails the test: scripts/setup test installs it.
package pgtest

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
)

// Bin is where Debian's postgresql-15 package puts initdb and postgres.
const Bin = "/usr/lib/postgresql/15/bin"

// nobody is the user PostgreSQL runs as when the test runs as root, which
// initdb and postgres refuse to be.
const nobody = 65534

// Server is one running PostgreSQL server.
type Server struct {
	// URL is a connection URL for the server's postgres database, as
	// superuser postgres (trusted on loopback, no password).
	URL  string
	cmd  *exec.Cmd
	logs *logTail
}

// Start initialises a database cluster in a temporary folder of tb, runs
// postgres on a free loopback port, waits until it accepts connections and
// stops it (by its pid) when tb ends. Durability settings are off (fsync):
// the tests stop clients, not the machine.
func Start(tb testing.TB) *Server {
	tb.Helper()
	for _, name := range []string{"initdb", "postgres"} {
		if _, err := os.Stat(filepath.Join(Bin, name)); err != nil {
			tb.Fatalf("PostgreSQL 15 is needed (scripts/setup test installs postgresql-15): %v", err)
		}
	}
	dir := filepath.Join(tb.TempDir(), "pg")
	if err := os.Mkdir(dir, 0o700); err != nil {
		tb.Fatal(err)
	}
	if os.Geteuid() == 0 {
		// The two temporary folders TempDir made are root's, mode 0700:
		// let nobody through them to the cluster's folder, which it owns.
		for _, p := range []string{filepath.Dir(dir), filepath.Dir(filepath.Dir(dir))} {
			if err := os.Chmod(p, 0o711); err != nil {
				tb.Fatal(err)
			}
		}
		if err := os.Chown(dir, nobody, nobody); err != nil {
			tb.Fatal(err)
		}
	}
	data := filepath.Join(dir, "data")
	initdb := command(filepath.Join(Bin, "initdb"), "-D", data, "-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-sync")
	if out, err := initdb.CombinedOutput(); err != nil {
		tb.Fatalf("initdb: %v\n%s", err, out)
	}
	port := freePort(tb)
	cmd := command(filepath.Join(Bin, "postgres"), "-D", data, "-p", strconv.Itoa(port),
		"-c", "listen_addresses=127.0.0.1", "-c", "unix_socket_directories=",
		"-c", "fsync=off", "-c", "max_connections=200", "-c", "logging_collector=off")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		tb.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		tb.Fatalf("postgres: %v", err)
	}
	s := &Server{
		URL:  fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", port),
		cmd:  cmd,
		logs: &logTail{done: make(chan struct{})},
	}
	ready := make(chan bool, 1)
	go s.logs.follow(stderr, ready)
	if !<-ready {
		<-s.logs.done
		_ = cmd.Wait()
		tb.Fatalf("postgres ended before accepting connections:\n%s", s.logs)
	}
	tb.Cleanup(func() { s.stop(tb) })
	return s
}

// command runs name as nobody when the test runs as root, in the C
// locale (the server's log lines are read in English).
func command(name string, args ...string) *exec.Cmd {
	var cmd *exec.Cmd
	if os.Geteuid() != 0 {
		cmd = exec.Command(name, args...)
	} else {
		all := append([]string{"--reuid=" + strconv.Itoa(nobody), "--regid=" + strconv.Itoa(nobody), "--clear-groups", name}, args...)
		cmd = exec.Command("setpriv", all...) // setpriv execs name: the pid is postgres's
	}
	cmd.Env = append(os.Environ(), "LC_ALL=C")
	return cmd
}

// freePort returns a loopback TCP port that was free a moment ago.
func freePort(tb testing.TB) int {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// stop asks postgres for a fast shutdown (SIGINT: sessions are ended,
// then it exits) and waits for it.
func (s *Server) stop(tb testing.TB) {
	if err := s.cmd.Process.Signal(syscall.SIGINT); err != nil {
		tb.Errorf("stopping postgres (pid %d): %v", s.cmd.Process.Pid, err)
		return
	}
	<-s.logs.done // Wait closes the pipe: read it to its end first
	if err := s.cmd.Wait(); err != nil {
		tb.Errorf("postgres (pid %d) exited with %v:\n%s", s.cmd.Process.Pid, err, s.logs)
	}
}

// logTail keeps the server's log, to show when it fails.
type logTail struct {
	done chan struct{} // closed when the log has ended
	mu   sync.Mutex
	b    strings.Builder
}

func (l *logTail) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// follow reads the server's log until it ends, telling ready once (true
// when the server accepts connections, false if the log ends first).
func (l *logTail) follow(r io.Reader, ready chan<- bool) {
	defer close(l.done)
	told := false
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		line := sc.Text()
		l.mu.Lock()
		l.b.WriteString(line + "\n")
		l.mu.Unlock()
		if !told && strings.Contains(line, "database system is ready to accept connections") {
			ready <- true
			told = true
		}
	}
	if !told {
		ready <- false
	}
}
