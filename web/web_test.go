package web

import (
	"io/fs"
	"net/http"
	"net/http/httptest"
	"path"
	"regexp"
	"strings"
	"testing"
)

// casesStatic covers what Static answers for the page's files.
var casesStatic = []struct {
	name       string
	path       string
	wantStatus int
	wantType   string
}{
	{"module script", "/js/main.js", http.StatusOK, "text/javascript"},
	{"style sheet", "/css/player.css", http.StatusOK, "text/css"},
	{"icon", "/icon.svg", http.StatusOK, "image/svg+xml"},
	{"page itself", "/index.html", http.StatusOK, "text/html"},
	{"missing file", "/js/nope.js", http.StatusNotFound, ""},
	{"folder", "/js", http.StatusNotFound, ""},
	{"dot-dot stays inside", "/../web.go", http.StatusNotFound, ""},
	{"encoded dot-dot stays inside", "/js/%2e%2e/%2e%2e/web.go", http.StatusNotFound, ""},
}

func TestStatic(t *testing.T) {
	h := Static()
	for _, c := range casesStatic {
		t.Run(c.name, func(t *testing.T) {
			req := httptest.NewRequest(http.MethodGet, c.path, nil)
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != c.wantStatus {
				t.Fatalf("GET %s: status %d, want %d", c.path, rec.Code, c.wantStatus)
			}
			if got := rec.Header().Get("Content-Type"); !strings.HasPrefix(got, c.wantType) {
				t.Errorf("GET %s: Content-Type %q, want %q", c.path, got, c.wantType)
			}
			if strings.Contains(rec.Body.String(), "package web") {
				t.Errorf("GET %s: answered with Go source", c.path)
			}
		})
	}
}

// TestRevalidation checks that a browser's revalidation of an unchanged
// file is answered 304 by its content hash.
func TestRevalidation(t *testing.T) {
	rec := httptest.NewRecorder()
	Static().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/js/player.js", nil))
	etag := rec.Header().Get("ETag")
	if rec.Code != http.StatusOK || etag == "" {
		t.Fatalf("status %d, ETag %q", rec.Code, etag)
	}
	if cc := rec.Header().Get("Cache-Control"); cc != "no-cache" {
		t.Errorf("Cache-Control %q, want no-cache", cc)
	}
	req := httptest.NewRequest(http.MethodGet, "/js/player.js", nil)
	req.Header.Set("If-None-Match", etag)
	rec = httptest.NewRecorder()
	Static().ServeHTTP(rec, req)
	if rec.Code != http.StatusNotModified {
		t.Errorf("revalidation: status %d, want 304", rec.Code)
	}
}

// TestPage checks the page's headers: HTML, and a Content-Security-Policy
// that keeps everything on the page's own origin.
func TestPage(t *testing.T) {
	rec := httptest.NewRecorder()
	Page().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/streams/demo", nil))
	if rec.Code != http.StatusOK {
		t.Fatalf("status %d", rec.Code)
	}
	if got := rec.Header().Get("Content-Type"); !strings.HasPrefix(got, "text/html") {
		t.Errorf("Content-Type %q", got)
	}
	csp := rec.Header().Get("Content-Security-Policy")
	for _, want := range []string{"default-src 'self'", "script-src 'self'", "connect-src 'self'"} {
		if !strings.Contains(csp, want) {
			t.Errorf("Content-Security-Policy %q lacks %q", csp, want)
		}
	}
	if n := strings.Count(rec.Body.String(), "<video"); n != 1 {
		t.Errorf("the page has %d <video> elements, want exactly 1", n)
	}
}

var (
	// pageRefs finds the files index.html loads.
	pageRefs = regexp.MustCompile(`(?:src|href)="(/static/[^"]+)"`)
	// moduleImports finds the modules a script imports, also where the
	// names imported span several lines.
	moduleImports = regexp.MustCompile(`(?m)^import [^;]*? from '([^']+)';`)
	// remoteURL finds an absolute URL to another host.
	remoteURL = regexp.MustCompile(`(?i)\b(?:https?:)?//[a-z0-9.-]+\.[a-z]{2,}`)
)

// TestFilesResolve checks that every file the page and its modules load is
// embedded (hls.js only once `make web` has run), and that no file of ours
// loads anything from another host: the player works offline.
func TestFilesResolve(t *testing.T) {
	for _, html := range []string{"index.html", "overview.html"} {
		page, err := fs.ReadFile(FS, html)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range pageRefs.FindAllStringSubmatch(string(page), -1) {
			name := strings.TrimPrefix(m[1], "/static/")
			if name == HLSJSPath && !HasHLSJS() {
				continue
			}
			if _, err := fs.Stat(FS, name); err != nil {
				t.Errorf("%s loads %s, which is not embedded", html, m[1])
			}
		}
	}
	err := fs.WalkDir(FS, ".", func(name string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || strings.HasPrefix(name, "vendor/") {
			return err
		}
		body, err := fs.ReadFile(FS, name)
		if err != nil {
			return err
		}
		if u := remoteURL.FindString(string(body)); u != "" && !strings.Contains(u, "www.w3.org") {
			t.Errorf("%s refers to another host: %s", name, u)
		}
		for _, m := range moduleImports.FindAllStringSubmatch(string(body), -1) {
			dep := path.Join(path.Dir(name), m[1])
			if _, err := fs.Stat(FS, dep); err != nil {
				t.Errorf("%s imports %s, which is not embedded", name, m[1])
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestSameHeadersOnEveryRoute serves the page through each route that
// reaches it, the overview, and some of their files: each answer carries
// the page's security headers, byte for byte the same.
func TestSameHeadersOnEveryRoute(t *testing.T) {
	page := httptest.NewRecorder()
	Page().ServeHTTP(page, httptest.NewRequest(http.MethodGet, "/", nil))
	answers := map[string]*httptest.ResponseRecorder{}
	for _, path := range []string{"/index.html", "/overview.html", "/js/main.js", "/js/overview.js", "/css/player.css"} {
		rec := httptest.NewRecorder()
		Static().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
		answers["/static"+path] = rec
	}
	overview := httptest.NewRecorder()
	Overview().ServeHTTP(overview, httptest.NewRequest(http.MethodGet, "/overview", nil))
	answers["/overview"] = overview
	for path, rec := range answers {
		if rec.Code != http.StatusOK {
			t.Fatalf("%s: status %d", path, rec.Code)
		}
		for _, h := range []string{"Content-Security-Policy", "Referrer-Policy", "X-Content-Type-Options"} {
			if got, want := rec.Header().Get(h), page.Header().Get(h); got != want || want == "" {
				t.Errorf("%s: %s %q, the page's %q", path, h, got, want)
			}
		}
	}
}
