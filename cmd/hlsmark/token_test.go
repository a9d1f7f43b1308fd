package main

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// casesTokenSource are the ways to give serve its bearer token together,
// and the token that must then unlock marker POSTs; the other tokens
// given must not.
var casesTokenSource = []struct {
	name     string
	env      string // HLSMARK_TOKEN, "" for unset
	file     string // the token file's content, "" for no --token-file
	flag     string // --token, "" for none
	unlocks  string
	refusals []string
}{
	{"environment alone", "env-token", "", "", "env-token", []string{""}},
	{"file over environment, its newline dropped", "env-token", "file-token\n", "", "file-token", []string{"env-token", ""}},
	{"file with CRLF", "", "file-token\r\n", "", "file-token", []string{""}},
	{"flag over environment", "env-token", "", "flag-token", "flag-token", []string{"env-token", ""}},
}

// TestTokenSource starts serve with each combination of token sources and
// posts markers: the token precedence picks unlocks a POST (201), and
// every other token given, and none, gets 401.
func TestTokenSource(t *testing.T) {
	for _, c := range casesTokenSource {
		t.Run(c.name, func(t *testing.T) {
			if c.env != "" {
				t.Setenv(tokenEnv, c.env) // the child inherits it
			}
			var extra []string
			if c.file != "" {
				path := filepath.Join(t.TempDir(), "token")
				if err := os.WriteFile(path, []byte(c.file), 0o600); err != nil {
					t.Fatal(err)
				}
				extra = append(extra, "--token-file", path)
			}
			if c.flag != "" {
				extra = append(extra, "--token", c.flag)
			}
			s := startServer(t, t.TempDir(), freeAddr(t), extra...)
			pollUntil(t, "a detected marker", 60*time.Second, func() bool { return len(s.markers(t)) > 0 })
			pts := s.markers(t)[0].PTS + 1
			for _, token := range c.refusals {
				if code := postWithToken(t, s, token, pts); code != http.StatusUnauthorized {
					t.Errorf("POST with token %q: %d, want 401", token, code)
				}
			}
			if code := postWithToken(t, s, c.unlocks, pts); code != http.StatusCreated {
				t.Errorf("POST with token %q: %d, want 201", c.unlocks, code)
			}
			s.stop(t, syscall.SIGTERM)
		})
	}
}

// postWithToken posts a marker at pts with token as its bearer token, no
// Authorization header for "", and returns the status.
func postWithToken(t *testing.T, s *childServer, token string, pts int64) int {
	t.Helper()
	code, _ := s.request(t, http.MethodPost, "/api/streams/demo/markers", token, fmt.Sprintf(`{"label":"token test","pts":%d}`, pts))
	return code
}

// TestBadTokenSource refuses a token file that is missing, empty, a
// folder or more than one line, and an empty HLSMARK_TOKEN, the way every
// bad command line is refused: one line naming the source, exit 2.
func TestBadTokenSource(t *testing.T) {
	files := t.TempDir()
	write := func(name, content string) string {
		path := filepath.Join(files, name)
		if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}
	empty, twoLines, newlineOnly := write("empty", ""), write("two-lines", "a\nb\n"), write("newline", "\n")
	missing := filepath.Join(files, "missing")
	for _, c := range []struct {
		name  string
		env   string
		args  []string
		names string
	}{
		{"missing file", "", []string{"--token-file", missing}, "--token-file " + missing},
		{"empty file", "", []string{"--token-file", empty}, "--token-file " + empty},
		{"file of one newline", "", []string{"--token-file", newlineOnly}, "--token-file " + newlineOnly},
		{"file of two lines", "", []string{"--token-file", twoLines}, "--token-file " + twoLines},
		{"folder as file", "", []string{"--token-file", files}, "--token-file " + files},
		{"both flags, even with the environment", "env-token", []string{"--token", "a", "--token-file", empty}, "--token and --token-file"},
	} {
		t.Run(c.name, func(t *testing.T) {
			if c.env != "" {
				t.Setenv(tokenEnv, c.env)
			}
			dir := t.TempDir()
			checkUsageError(t, runCLI(t, dir, append([]string{"serve"}, c.args...)...), c.names)
			if entries, _ := os.ReadDir(dir); len(entries) > 0 {
				t.Errorf("a refused token left %d files in the working folder", len(entries))
			}
		})
	}
	t.Run("empty environment variable", func(t *testing.T) {
		t.Setenv(tokenEnv, "")
		checkUsageError(t, runCLI(t, t.TempDir(), "serve"), tokenEnv)
	})
}
