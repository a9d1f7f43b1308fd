//go:build cgo

package server_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/hlsmark/hlsmark/server"
)

// casesCORS are CORS configurations and request origins, with the
// Access-Control-Allow-Origin each answer must carry ("" for none).
var casesCORS = []struct {
	name    string
	origins []string
	origin  string
	allow   string
}{
	{"allowed origin", []string{"https://a.example"}, "https://a.example", "https://a.example"},
	{"other origin", []string{"https://a.example"}, "https://b.example", ""},
	{"origin differing in scheme", []string{"https://a.example"}, "http://a.example", ""},
	{"origin differing in port", []string{"https://a.example"}, "https://a.example:8443", ""},
	{"no Origin header", []string{"https://a.example"}, "", ""},
	{"one of two", []string{"https://a.example", "https://b.example"}, "https://b.example", "https://b.example"},
	{"any origin", []string{"*"}, "https://b.example", "*"},
	{"none configured", nil, "https://a.example", ""},
}

// TestCORS checks the CORS headers of the playlist, a segment, an error and
// a preflight. Credentials are never allowed. With no origins configured
// no answer carries any CORS header; with some, every answer says it
// varies by Origin, since segments are cached for a year by shared caches.
func TestCORS(t *testing.T) {
	f := newHLSFixture(t)
	seg := f.run.Playlist.Segments()[0].Name()
	paths := []string{"/streams/demo/index.m3u8", "/streams/demo/" + seg, "/streams/demo/00.ts"}
	for _, c := range casesCORS {
		t.Run(c.name, func(t *testing.T) {
			ts := f.serve(t, server.Config{CORSOrigins: c.origins})
			header := http.Header{}
			if c.origin != "" {
				header.Set("Origin", c.origin)
			}
			for _, path := range paths {
				resp, _ := do(t, http.MethodGet, ts.URL+path, header)
				checkCORS(t, path, resp, c.allow, len(c.origins) > 0)
			}

			preflight := header.Clone()
			preflight.Set("Access-Control-Request-Method", http.MethodGet)
			preflight.Set("Access-Control-Request-Headers", "range")
			resp, _ := do(t, http.MethodOptions, ts.URL+paths[1], preflight)
			checkCORS(t, "preflight", resp, c.allow, len(c.origins) > 0)
			if c.allow != "" && (resp.StatusCode != http.StatusOK || resp.Header.Get("Access-Control-Max-Age") == "") {
				t.Errorf("preflight: %d, Max-Age %q; want 200 with a Max-Age", resp.StatusCode, resp.Header.Get("Access-Control-Max-Age"))
			}
		})
	}
}

func checkCORS(t *testing.T, what string, resp *http.Response, allow string, configured bool) {
	t.Helper()
	if got := resp.Header.Values("Access-Control-Allow-Origin"); allow == "" && len(got) > 0 || allow != "" && (len(got) != 1 || got[0] != allow) {
		t.Errorf("%s: Access-Control-Allow-Origin %q, want %q", what, got, allow)
	}
	if got := resp.Header.Get("Access-Control-Allow-Credentials"); got != "" {
		t.Errorf("%s: Access-Control-Allow-Credentials %q: credentials must never be allowed", what, got)
	}
	if !configured {
		for k := range resp.Header {
			if strings.HasPrefix(k, "Access-Control-") {
				t.Errorf("%s: %s set with no CORS origins configured", what, k)
			}
		}
		return
	}
	if !hasToken(resp.Header.Values("Vary"), "Origin") {
		t.Errorf("%s: Vary %q lacks Origin: a shared cache could hand one origin's answer to another", what, resp.Header.Values("Vary"))
	}
}

// hasToken reports whether a comma-separated header holds token.
func hasToken(values []string, token string) bool {
	for _, v := range values {
		for _, f := range strings.Split(v, ",") {
			if strings.EqualFold(strings.TrimSpace(f), token) {
				return true
			}
		}
	}
	return false
}
