//go:build cgo

package server_test

import (
	"bytes"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/hlsmark/hlsmark/server"
)

// casesTraversal are request targets that try to reach files outside the
// stream folder, sent byte for byte. The planted secret.txt files sit next
// to the stream folder and in its parent.
var casesTraversal = []struct{ name, target string }{
	{"parent", "/streams/demo/../secret.txt"},
	{"grandparent", "/streams/demo/../../secret.txt"},
	{"deep", "/streams/demo/../../../../../../../../etc/passwd"},
	{"stream dot dot", "/streams/../secret.txt"},
	{"stream dot dot segment", "/streams/../0.ts"},
	{"encoded dots and slash", "/streams/demo/%2e%2e%2fsecret.txt"},
	{"encoded twice over", "/streams/demo/%2e%2e%2f%2e%2e%2fsecret.txt"},
	{"encoded upper case", "/streams/demo/%2E%2E%2F%2E%2E%2Fsecret.txt"},
	{"encoded dots", "/streams/demo/%2e%2e/%2e%2e/secret.txt"},
	{"dots and encoded slash", "/streams/demo/..%2fsecret.txt"},
	{"dots and encoded slashes", "/streams/demo/..%2f..%2f..%2fetc%2fpasswd"},
	{"double-encoded", "/streams/demo/%252e%252e%252fsecret.txt"},
	{"double-encoded twice over", "/streams/demo/%252e%252e%252f%252e%252e%252fsecret.txt"},
	{"overlong UTF-8 dots", "/streams/demo/%c0%ae%c0%ae%c0%afsecret.txt"},
	{"backslashes", `/streams/demo/..\..\secret.txt`},
	{"backslashes to passwd", `/streams/demo/..\..\..\..\..\..\etc\passwd`},
	{"encoded backslashes", "/streams/demo/..%5c..%5csecret.txt"},
	{"encoded backslash upper case", "/streams/demo/..%5C..%5Csecret.txt"},
	{"backslash redirect", `/\example.com/x/..`},
	{"absolute path", "/streams/demo//etc/passwd"},
	{"encoded absolute path", "/streams/demo/%2fetc%2fpasswd"},
	{"absolute-form target", "http://example.com/streams/demo/../../secret.txt"},
	{"NUL after a name", "/streams/demo/0.ts%00"},
	{"NUL before the suffix", "/streams/demo/secret.txt%00.ts"},
	{"NUL in the stream", "/streams/demo%00/index.m3u8"},
	{"segment then parent", "/streams/demo/0.ts/../../secret.txt"},
	{"segment, encoded parent", "/streams/demo/0.ts%2f..%2f..%2fsecret.txt"},
	{"semicolon", "/streams/demo/0.ts;/../../secret.txt"},
	{"query", "/streams/demo/../secret.txt?name=0.ts"},
	{"very long name", "/streams/demo/" + strings.Repeat("9", 4000) + ".ts"},
	{"very long traversal", "/streams/demo/" + strings.Repeat("../", 1500) + "secret.txt"},
	{"static parent", "/static/../../secret.txt"},
	{"static encoded parent", "/static/..%2f..%2fsecret.txt"},
	{"static encoded dots", "/static/%2e%2e/%2e%2e/secret.txt"},
	{"very long stream", "/streams/" + strings.Repeat("a", 4000) + "/index.m3u8"},
}

// TestPathTraversal sends every target raw over a TCP connection and
// requires that no answer carries a planted secret and none is a 200 with
// anything but one of the stream's segments. Every answer is a 4xx, or a
// redirect (gorilla's path cleaning) to a path under /streams/ on the same
// server, which is then followed and held to the same rules.
func TestPathTraversal(t *testing.T) {
	f := newHLSFixture(t)
	ts := f.serve(t, server.Config{})
	segments := f.segmentFiles(t)
	check := func(t *testing.T, resp *http.Response, body []byte) {
		t.Helper()
		for _, s := range f.secrets {
			if bytes.Contains(body, []byte(s)) {
				t.Fatalf("%d answer holds planted secret %q", resp.StatusCode, s)
			}
		}
		if bytes.Contains(body, []byte("root:")) {
			t.Fatalf("%d answer looks like /etc/passwd: %.80q", resp.StatusCode, body)
		}
		if resp.StatusCode == http.StatusOK && !isSegment(segments, body) {
			t.Fatalf("200 with %d bytes that are not a segment of the stream: %.80q", len(body), body)
		}
	}
	for _, c := range casesTraversal {
		t.Run(c.name, func(t *testing.T) {
			resp, body := doRaw(t, ts, c.target)
			check(t, resp, body)
			switch {
			case resp.StatusCode >= 400 && resp.StatusCode < 500:
			case resp.StatusCode == http.StatusMovedPermanently || resp.StatusCode == http.StatusPermanentRedirect:
				loc, err := url.Parse(resp.Header.Get("Location"))
				if err != nil || loc.Scheme != "" || loc.Host != "" || !strings.HasPrefix(loc.Path, "/streams/") ||
					strings.HasPrefix(loc.EscapedPath(), "//") || strings.Contains(loc.Path, `\`) {
					t.Fatalf("%d to %q: a redirect must stay under /streams/ on this server", resp.StatusCode, resp.Header.Get("Location"))
				}
				next, nextBody := doRaw(t, ts, loc.RequestURI())
				check(t, next, nextBody)
				if next.StatusCode != http.StatusOK && (next.StatusCode < 400 || next.StatusCode >= 500) {
					t.Fatalf("redirect to %q answered %d", loc, next.StatusCode)
				}
			default:
				t.Fatalf("answered %d (Location %q), want a 4xx", resp.StatusCode, resp.Header.Get("Location"))
			}
		})
	}
}

func isSegment(segments map[string][]byte, body []byte) bool {
	for _, data := range segments {
		if bytes.Equal(body, data) {
			return true
		}
	}
	return false
}
