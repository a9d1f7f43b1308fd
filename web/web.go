package web

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"io/fs"
	"net/http"
	"path"
	"strings"
	"sync"
	"time"
)

//go:embed static
var files embed.FS

// FS holds the player's files: index.html, css/, js/, and vendor/hls.min.js
// once `make web` has run.
var FS fs.FS = mustSub(files, "static")

// HLSJSPath is where the page loads hls.js from, inside FS.
const HLSJSPath = "vendor/hls.min.js"

// contentSecurityPolicy keeps the page to its own origin: no script, style,
// font or media from another host, so it works offline and nothing can be
// injected from elsewhere. hls.js runs its transmuxer in a worker made from
// a blob URL and feeds the video element from a MediaSource blob URL.
const contentSecurityPolicy = "default-src 'self'; script-src 'self'; style-src 'self'; " +
	"img-src 'self' data: blob:; media-src 'self' blob: data:; worker-src 'self' blob:; " +
	"connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'self'"

func mustSub(f fs.FS, dir string) fs.FS {
	sub, err := fs.Sub(f, dir)
	if err != nil {
		panic(err) // only for an invalid dir name, which a constant is not
	}
	return sub
}

// HasHLSJS reports whether hls.js was embedded; without it the page can
// play only where the browser plays HLS natively.
func HasHLSJS() bool {
	_, err := fs.Stat(FS, HLSJSPath)
	return err == nil
}

// asset is one embedded file with its validator.
type asset struct {
	body []byte
	etag string
}

// assets reads every embedded file once and tags it with a hash of its
// content: the embedded files carry no modification time, and a hash lets
// browsers revalidate them cheaply.
var assets = sync.OnceValue(func() map[string]asset {
	m := map[string]asset{}
	_ = fs.WalkDir(FS, ".", func(name string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		body, err := fs.ReadFile(FS, name)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(body)
		m[name] = asset{body: body, etag: `"` + base64.RawURLEncoding.EncodeToString(sum[:12]) + `"`}
		return nil
	})
	return m
})

// serveAsset serves the embedded file name, or answers 404.
func serveAsset(w http.ResponseWriter, r *http.Request, name string) {
	a, ok := assets()[name]
	if !ok {
		http.Error(w, "404 page not found", http.StatusNotFound)
		return
	}
	h := w.Header()
	// The same security headers on every file, not only on the page's
	// own routes: /static/index.html is the page too.
	h.Set("Content-Security-Policy", contentSecurityPolicy)
	h.Set("Referrer-Policy", "same-origin")
	h.Set("ETag", a.etag)
	// Revalidate every time: the files change with the binary, and a
	// revalidation answered 304 costs one round trip on loopback or LAN.
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Content-Type-Options", "nosniff")
	if strings.HasSuffix(name, ".js") {
		// mime.TypeByExtension reads the system's tables, which may lack .js
		// or call it something else; module scripts need a JavaScript type.
		h.Set("Content-Type", "text/javascript; charset=utf-8")
	}
	http.ServeContent(w, r, name, time.Time{}, bytes.NewReader(a.body))
}

// Page returns the handler of the player page. The same page serves every
// stream: its script reads the stream name from the URL (/?stream=NAME, or
// /streams/NAME), or plays the first stream the API lists when the URL
// names none, and switches streams without loading again.
func Page() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		serveAsset(w, r, "index.html")
	})
}

// Overview returns the handler of the overview page: a tile per stream,
// each a muted live player with the stream's state and latest markers.
func Overview() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		serveAsset(w, r, "overview.html")
	})
}

// Static returns the handler of the page's files, FS, for URLs with the
// mount prefix already stripped ("js/main.js", "/css/player.css").
func Static() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name := strings.TrimPrefix(path.Clean("/"+r.URL.Path), "/")
		serveAsset(w, r, name)
	})
}
