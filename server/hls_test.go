//go:build cgo

package server_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"os/exec"
	"strconv"
	"strings"
	"testing"

	"github.com/grafov/m3u8"

	"github.com/hlsmark/hlsmark/pipeline/media"
	"github.com/hlsmark/hlsmark/server"
)

// TestServeHLS fetches the playlist and every listed segment over HTTP, with
// GET and HEAD, and checks media types, caching and bodies against the
// playlist and the files on disk.
func TestServeHLS(t *testing.T) {
	f := newHLSFixture(t)
	ts := f.serve(t, server.Config{})
	base := ts.URL + "/streams/" + streamName + "/"

	t.Run("playlist", func(t *testing.T) {
		for _, method := range []string{http.MethodGet, http.MethodHead} {
			resp, body := do(t, method, base+"index.m3u8", nil)
			want := f.run.Playlist.Encoded()
			if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "application/vnd.apple.mpegurl" {
				t.Fatalf("%s: %d %q, want 200 application/vnd.apple.mpegurl", method, resp.StatusCode, resp.Header.Get("Content-Type"))
			}
			if cc := resp.Header.Get("Cache-Control"); !strings.Contains(cc, "no-cache") || !strings.Contains(cc, "no-store") {
				t.Errorf("%s: Cache-Control %q, want no-cache and no-store", method, cc)
			}
			if resp.Header.Get("Content-Length") != strconv.Itoa(len(want)) {
				t.Errorf("%s: Content-Length %q, the playlist is %d bytes", method, resp.Header.Get("Content-Length"), len(want))
			}
			if method == http.MethodHead {
				if len(body) != 0 {
					t.Errorf("HEAD answered %d body bytes", len(body))
				}
				continue
			}
			if !bytes.Equal(body, want) {
				t.Fatalf("served playlist differs from the playlist:\n%s", body)
			}
			if _, _, err := m3u8.DecodeFrom(bytes.NewReader(body), true); err != nil {
				t.Fatalf("grafov/m3u8 rejects the served playlist: %v", err)
			}
		}
	})

	t.Run("segments", func(t *testing.T) {
		for name, file := range f.segmentFiles(t) {
			for _, method := range []string{http.MethodGet, http.MethodHead} {
				resp, body := do(t, method, base+name, nil)
				if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "video/mp2t" {
					t.Fatalf("%s %s: %d %q, want 200 video/mp2t", method, name, resp.StatusCode, resp.Header.Get("Content-Type"))
				}
				if cc := resp.Header.Get("Cache-Control"); !strings.Contains(cc, "immutable") || !strings.Contains(cc, "max-age=") || strings.Contains(cc, "no-") {
					t.Errorf("%s %s: Cache-Control %q, want a long max-age and immutable", method, name, cc)
				}
				if resp.Header.Get("Content-Length") != strconv.Itoa(len(file)) || resp.Header.Get("Accept-Ranges") != "bytes" {
					t.Errorf("%s %s: Content-Length %q, Accept-Ranges %q; the file is %d bytes",
						method, name, resp.Header.Get("Content-Length"), resp.Header.Get("Accept-Ranges"), len(file))
				}
				if method == http.MethodGet && !bytes.Equal(body, file) || method == http.MethodHead && len(body) != 0 {
					t.Errorf("%s %s: %d body bytes differ from the %d-byte file", method, name, len(body), len(file))
				}
			}
		}
	})

	t.Run("ffprobe", func(t *testing.T) {
		out, err := exec.Command(ffprobe(t), "-v", "error", "-show_entries", "format=format_name:stream=codec_name",
			"-of", "json", base+"index.m3u8").Output()
		var got struct {
			Format struct {
				FormatName string `json:"format_name"`
			} `json:"format"`
			Streams []struct {
				CodecName string `json:"codec_name"`
			} `json:"streams"`
		}
		if err == nil {
			err = json.Unmarshal(out, &got)
		}
		if err != nil || got.Format.FormatName != "hls" || len(got.Streams) != 1 || got.Streams[0].CodecName != "h264" {
			t.Fatalf("ffprobe over HTTP reads %s (%v), want one h264 stream in hls", out, err)
		}
	})

	t.Run("healthz", func(t *testing.T) {
		resp, body := do(t, http.MethodGet, ts.URL+"/healthz", nil)
		if resp.StatusCode != http.StatusOK || strings.TrimSpace(string(body)) != `{"status":"ok"}` {
			t.Fatalf("healthz: %d %s", resp.StatusCode, body)
		}
	})
}

// casesRange are byte ranges of a segment and the bytes they select, as
// half-open offsets computed from the file's length.
var casesRange = []struct {
	name, header string
	from, to     func(n int) int // half-open
}{
	{"first packet", "bytes=0-187", at(0), at(188)},
	{"second packet", "bytes=188-375", at(188), at(376)},
	{"suffix", "bytes=-188", fromEnd(188), fromEnd(0)},
	{"open end", "bytes=376-", at(376), fromEnd(0)},
	{"end past the file", "bytes=100-99999999", at(100), fromEnd(0)},
}

func at(i int) func(int) int      { return func(int) int { return i } }
func fromEnd(i int) func(int) int { return func(n int) int { return n - i } }

// TestSegmentRanges asks for parts of a segment, as players seeking by
// byte range do: from its file (no cache), then from memory (the files
// removed, so that only the cache can answer).
func TestSegmentRanges(t *testing.T) {
	f := newHLSFixture(t)
	seg := f.run.Playlist.Segments()[1]
	files := f.segmentFiles(t)
	file := files[seg.Name()]
	n := len(file)
	for _, from := range []string{"file", "memory"} {
		t.Run(from, func(t *testing.T) {
			ts := f.serveWith(t, server.Config{}, nil)
			if from == "memory" {
				ts = f.serve(t, server.Config{})
				removeSegmentFiles(t, f.run)
			}
			url := ts.URL + "/streams/" + streamName + "/" + seg.Name()
			for _, c := range casesRange {
				t.Run(c.name, func(t *testing.T) {
					resp, body := do(t, http.MethodGet, url, http.Header{"Range": {c.header}})
					from, to := c.from(n), c.to(n)
					wantRange := "bytes " + strconv.Itoa(from) + "-" + strconv.Itoa(to-1) + "/" + strconv.Itoa(n)
					if resp.StatusCode != http.StatusPartialContent || resp.Header.Get("Content-Range") != wantRange {
						t.Fatalf("Range %s: %d, Content-Range %q; want 206, %q", c.header, resp.StatusCode, resp.Header.Get("Content-Range"), wantRange)
					}
					if !bytes.Equal(body, file[from:to]) || resp.Header.Get("Content-Type") != "video/mp2t" {
						t.Fatalf("Range %s: %d bytes of %s, want bytes %d to %d of the file", c.header, len(body), resp.Header.Get("Content-Type"), from, to)
					}
				})
			}
			t.Run("unsatisfiable", func(t *testing.T) {
				resp, body := do(t, http.MethodGet, url, http.Header{"Range": {"bytes=" + strconv.Itoa(n) + "-"}})
				if resp.StatusCode != http.StatusRequestedRangeNotSatisfiable || bytes.Contains(body, file[:188]) {
					t.Fatalf("a range past the end: %d with %d bytes, want 416", resp.StatusCode, len(body))
				}
			})
		})
	}
}

// casesNotFound are requests that name no stream, no segment, or a
// segment in a form other than its canonical name; each gets a JSON 404.
var casesNotFound = []struct{ name, path string }{
	{"unknown stream playlist", "/streams/nope/index.m3u8"},
	{"unknown stream segment", "/streams/nope/0.ts"},
	{"segment never made", "/streams/demo/" + media.SegmentName(1_000_000)},
	{"leading zero", "/streams/demo/00.ts"},
	{"leading zeros on a listed one", "/streams/demo/01.ts"},
	{"sign", "/streams/demo/+1.ts"},
	{"upper-case suffix", "/streams/demo/1.TS"},
	{"temporary file", "/streams/demo/.1.ts.tmp"},
	{"playlist's temporary file", "/streams/demo/.index.m3u8.tmp"},
	{"planted file", "/streams/demo/secret.txt"},
	{"trailing slash", "/streams/demo/1.ts/"},
	{"overflow", "/streams/demo/99999999999999999999.ts"},
	{"no route", "/nothing/here"},
}

func TestNotFound(t *testing.T) {
	f := newHLSFixture(t)
	ts := f.serve(t, server.Config{})
	for _, c := range casesNotFound {
		t.Run(c.name, func(t *testing.T) {
			resp, body := do(t, http.MethodGet, ts.URL+c.path, nil)
			checkJSONError(t, resp, body, http.StatusNotFound)
		})
	}
	t.Run("method not allowed", func(t *testing.T) {
		resp, body := do(t, http.MethodPost, ts.URL+"/streams/demo/0.ts", nil)
		checkJSONError(t, resp, body, http.StatusMethodNotAllowed)
	})
}
