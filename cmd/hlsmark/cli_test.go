package main

import (
	"bufio"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// casesBadCommandLine are command lines hlsmark must refuse before doing
// anything, and the text (a flag as typed, an argument) its message must
// name.
var casesBadCommandLine = []struct {
	name  string
	args  []string
	names string
}{
	{"size not even and too small", []string{"serve", "--size", "13x7"}, "--size"},
	{"size not a size", []string{"serve", "--size", "abc"}, "--size"},
	{"fps zero", []string{"serve", "--fps", "0"}, "--fps"},
	{"fps too high", []string{"serve", "--fps", "1000"}, "--fps"},
	{"fps not a number", []string{"serve", "--fps", "many"}, "--fps"},
	{"fps not a number after =", []string{"serve", "--fps=many"}, "--fps"},
	{"fps without its value", []string{"serve", "--fps"}, "--fps"},
	{"debug not a boolean", []string{"serve", "--debug=maybe"}, "--debug"},
	{"segment zero", []string{"serve", "--segment", "0s"}, "--segment"},
	{"segment not a duration", []string{"serve", "--segment", "2"}, "--segment"},
	{"window below the segment", []string{"serve", "--window", "1s"}, "--window"},
	{"grace negative", []string{"serve", "--grace", "-1s"}, "--grace"},
	{"grace below the window plus the target", []string{"serve", "--grace", "2m1s"},
		"--grace 2m1s: must be at least 2m2s, the window plus the target duration (RFC 8216 section 6.2.2)"},
	{"grace below a short window plus the target", []string{"serve", "--window", "10s", "--segment", "1500ms", "--grace", "11s"},
		"must be at least 12s"},
	{"segment cache negative", []string{"serve", "--segment-cache", "-1"}, "--segment-cache"},
	{"segment cache not a number", []string{"serve", "--segment-cache", "64MiB"}, "--segment-cache"},
	{"retain negative", []string{"serve", "--retain", "-1s"}, "--retain -1s: must not be negative"},
	{"retain size zero", []string{"serve", "--retain-size", "0"}, "--retain-size 0: must be at least 1 byte"},
	{"format unknown", []string{"serve", "--format", "mp4"}, "--format"},
	{"preset", []string{"serve", "--preset", "bogus"}, "--preset"},
	{"tune", []string{"serve", "--tune", "bogus"}, "--tune"},
	{"bframes", []string{"serve", "--bframes", "17"}, "--bframes"},
	{"events too close", []string{"serve", "--event-every", "1s"}, "--event-every"},
	{"stream name with a path", []string{"serve", "--stream", "../x"}, "--stream"},
	{"stream name with a slash", []string{"serve", "--stream", "a/b"}, "--stream"},
	{"input unknown", []string{"serve", "--input", "nope"}, "--input"},
	{"pix-fmt unknown", []string{"serve", "--input", "-", "--pix-fmt", "nope"}, "--pix-fmt"},
	{"input-format unknown", []string{"serve", "--input", "-", "--input-format", "nope"}, "--input-format"},
	{"input-format without stdin", []string{"serve", "--input-format", "framed"}, "--input-format"},
	{"pix-fmt without stdin", []string{"serve", "--pix-fmt", "gray"}, "--pix-fmt"},
	{"detect unknown", []string{"serve", "--detect", "nope"}, "--detect"},
	{"motion threshold negative", []string{"serve", "--detect", "motion", "--motion-threshold", "-1"}, "--motion-threshold"},
	{"motion threshold above 255", []string{"serve", "--detect", "motion", "--motion-threshold", "256"}, "--motion-threshold"},
	{"motion min area negative", []string{"serve", "--detect", "motion", "--motion-min-area", "-5"}, "--motion-min-area"},
	{"motion threshold without --detect motion", []string{"serve", "--motion-threshold", "20"}, "--motion-threshold"},
	{"motion min area with --detect mint", []string{"serve", "--detect", "mint", "--motion-min-area", "100"}, "--motion-min-area"},
	{"stamp on unframed raw frames", []string{"serve", "--stamp", "--input", "-"}, "--stamp"},
	{"stamp on a file", []string{"serve", "--stamp", "--input", "clip.mp4"}, "--stamp"},
	{"stamp on a network input", []string{"serve", "--stamp", "--input", "rtsp://127.0.0.1:9/x"}, "--stamp"},
	{"stamp on a picture too narrow", []string{"serve", "--stamp", "--size", "320x240"}, "--stamp"},
	{"stamp on framed frames too narrow", []string{"serve", "--stamp", "--input", "-", "--input-format", "framed", "--size", "320x240"}, "--stamp"},
	{"webhook not a URL", []string{"serve", "--webhook", "nope", "--webhook-secret", "s"}, "--webhook"},
	{"webhook without a secret", []string{"serve", "--webhook", "http://127.0.0.1:9/h"}, "--webhook-secret"},
	{"webhook secret without a webhook", []string{"serve", "--webhook-secret", "s"}, "--webhook-secret"},
	{"mqtt of another scheme", []string{"serve", "--mqtt", "ftp://x"}, "--mqtt"},
	{"mqtt user without a broker", []string{"serve", "--mqtt-user", "u"}, "--mqtt-user"},
	{"markers not a URL", []string{"serve", "--markers", "nope"}, "--markers"},
	{"markers of another database", []string{"serve", "--markers", "mysql://db.example/hlsmark"}, "--markers"},
	{"markers with a bad port", []string{"serve", "--markers", "postgres://db.example:port/hlsmark"}, "--markers"},
	{"unknown flag", []string{"serve", "--bogus"}, "--bogus"},
	{"unknown flag typed with one dash", []string{"serve", "-bogus"}, "-bogus"},
	{"token and token file", []string{"serve", "--token", "a", "--token-file", "b"}, "--token and --token-file"},
	{"token with a space", []string{"serve", "--token", "a b"}, "--token"},
	{"extra argument", []string{"serve", "extra"}, `"extra"`},
	{"unknown command", []string{"frobnicate"}, `"frobnicate"`},
	{"no command", nil, "no command"},
	{"bench frames", []string{"bench", "--frames", "0"}, "--frames"},
	{"bench size", []string{"bench", "--size", "13x7"}, "--size"},
	{"bench unknown flag", []string{"bench", "--bogus"}, "--bogus"},
	{"healthcheck unknown flag", []string{"healthcheck", "--bogus"}, "--bogus"},
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
	// The name stands as a word, as typed: "-bogus" is not "--bogus".
	if !strings.Contains(r.stderr, " "+names) {
		t.Errorf("stderr %q does not name %s", r.stderr, names)
	}
	if r.stdout != "" {
		t.Errorf("stdout %q, want nothing", r.stdout)
	}
}

// TestRefusedURLHidesPassword refuses URLs with a password on the command
// line, in both flag spellings, and in a config file: the one line names
// the flag (or the file's line and key) and quotes the URL with its
// password masked, never the password. Checked to fail without
// redactPasswords (the flag package quotes the value as given).
func TestRefusedURLHidesPassword(t *testing.T) {
	const url = "postgres://hls:s3cret-pw@db.example:99999/hlsmark"
	config := writeConfig(t, "streams:\n  - name: cam\nmarkers: "+url+"\n")
	for _, c := range []struct {
		name  string
		args  []string
		names string
	}{
		{"flag and value", []string{"serve", "--markers", url}, "--markers"},
		{"flag=value", []string{"serve", "--markers=" + url}, "--markers"},
		{"config file", []string{"serve", "--config", config}, "key markers"},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := runCLI(t, t.TempDir(), c.args...)
			checkUsageError(t, r, c.names)
			if strings.Contains(r.stderr, "s3cret-pw") || !strings.Contains(r.stderr, "hls:xxxxx@db.example") {
				t.Errorf("stderr %q, want the URL quoted with its password masked", r.stderr)
			}
		})
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

// TestStartupLineNamesPage starts serve on a loopback address and on every
// interface: its "serving" log line names the player page to open, on
// loopback in both cases, and that address answers with the page.
func TestStartupLineNamesPage(t *testing.T) {
	for _, c := range []struct{ name, host string }{{"loopback", "127.0.0.1"}, {"every interface", "0.0.0.0"}} {
		t.Run(c.name, func(t *testing.T) {
			_, port, _ := net.SplitHostPort(unusedAddr(t))
			want := "http://127.0.0.1:" + port + "/"
			cmd := exec.Command(cliBinary(t), append([]string{"serve", "--addr", net.JoinHostPort(c.host, port), "--data", t.TempDir()}, fastStream...)...)
			stderr, err := cmd.StderrPipe()
			if err != nil {
				t.Fatal(err)
			}
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() {
				if cmd.ProcessState == nil {
					cmd.Process.Kill() // the child this test started, by its pid
					cmd.Wait()
				}
			})
			serving := make(chan string, 1)
			drained := make(chan struct{})
			go func() {
				defer close(drained)
				lines := bufio.NewScanner(stderr)
				for lines.Scan() {
					if strings.Contains(lines.Text(), " msg=serving ") {
						serving <- lines.Text()
					}
				}
			}()
			var line string
			select {
			case line = <-serving:
			case <-drained:
				t.Fatal("serve ended without a serving line")
			case <-time.After(60 * time.Second):
				t.Fatal("no serving line after 60s")
			}
			if !strings.Contains(line, " open="+want+" ") {
				t.Errorf("the start-up line does not name the page %s:\n%s", want, line)
			}
			resp, err := http.Get(want)
			if err != nil {
				t.Fatal(err)
			}
			page, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") || !strings.Contains(string(page), "<video") {
				t.Errorf("GET %s: %d %s, want the player page:\n%.300s", want, resp.StatusCode, resp.Header.Get("Content-Type"), page)
			}
			if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
				t.Fatal(err)
			}
			<-drained
			if err := cmd.Wait(); err != nil {
				t.Fatalf("serve after SIGTERM: %v", err)
			}
		})
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

// TestBenchRuns runs `hlsmark bench` as bench/compare does: it exits 0
// and its last line is a JSON object counting every frame it was asked
// for, in at least one segment.
func TestBenchRuns(t *testing.T) {
	r := runCLI(t, t.TempDir(), "bench", "--frames", "45", "--size", "160x120", "--preset", "ultrafast")
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	var got struct {
		Frames   int
		Segments int
		Bytes    int64
	}
	if r.code != 0 || json.Unmarshal([]byte(lines[len(lines)-1]), &got) != nil {
		t.Fatalf("bench: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
	if got.Frames != 45 || got.Segments < 1 || got.Bytes <= 0 {
		t.Fatalf("bench reported %+v, want 45 frames in at least one segment", got)
	}
}
