//go:build cgo

package server_test

import (
	"bytes"
	"net/http"
	"os"
	"reflect"
	"testing"
	"time"

	"github.com/hlsmark/hlsmark/pipeline/pipelinetest"
	"github.com/hlsmark/hlsmark/server"
)

// TestSegmentsFromMemory runs a stream whose segment cache holds about two
// of its six segments, then removes every segment file behind the server's
// back. The newest segments, as many as fit in the cache, are still served,
// byte for byte as they were written, with the headers a file gets; the
// older ones, evicted, are 404.
func TestSegmentsFromMemory(t *testing.T) {
	const limit = 30_000 // the 320x240 segments are 12 to 16 kB
	run := pipelinetest.Start(t, pipelinetest.Config{Frames: 180, Segment: time.Second, Cache: limit})
	f := &hlsFixture{run: run}
	written := f.segmentFiles(t)
	removeSegmentFiles(t, run)
	ts := f.serve(t, server.Config{})

	// The newest segments whose bytes add up to at most the limit.
	segs := run.Playlist.Segments()
	cached := map[string]bool{}
	var total int
	for i := len(segs) - 1; i >= 0 && total+len(written[segs[i].Name()]) <= limit; i-- {
		total += len(written[segs[i].Name()])
		cached[segs[i].Name()] = true
	}
	if len(cached) == 0 || len(cached) == len(segs) {
		t.Fatalf("%d of %d segments fit in %d bytes: change the limit so that some, not all, do", len(cached), len(segs), limit)
	}
	for _, seg := range segs {
		resp, body := do(t, http.MethodGet, ts.URL+"/streams/"+streamName+"/"+seg.Name(), nil)
		if !cached[seg.Name()] {
			checkJSONError(t, resp, body, http.StatusNotFound)
			continue
		}
		if resp.StatusCode != http.StatusOK || !bytes.Equal(body, written[seg.Name()]) {
			t.Fatalf("%s, cached, file removed: %d with %d bytes, want 200 with the %d bytes written", seg.Name(), resp.StatusCode, len(body), len(written[seg.Name()]))
		}
		if got, want := resp.Header.Get("Last-Modified"), seg.Start.UTC().Format(http.TimeFormat); got != want {
			t.Errorf("%s: Last-Modified %q, want the segment's start %q", seg.Name(), got, want)
		}
		if resp.Header.Get("Content-Type") != "video/mp2t" || resp.Header.Get("Cache-Control") != "public, max-age=31536000, immutable" {
			t.Errorf("%s: Content-Type %q, Cache-Control %q", seg.Name(), resp.Header.Get("Content-Type"), resp.Header.Get("Cache-Control"))
		}
	}
}

// removeSegmentFiles deletes the files of every segment the run lists.
func removeSegmentFiles(t *testing.T, run *pipelinetest.Run) {
	t.Helper()
	for _, seg := range run.Playlist.Segments() {
		if err := os.Remove(seg.Path); err != nil {
			t.Fatal(err)
		}
	}
}

// TestSegmentAnswersAgree: a segment from memory is answered the same
// whether the request is plain (written at once) or conditional (through
// http.ServeContent): status, headers but Date, and body; and a condition
// that holds gets 304.
func TestSegmentAnswersAgree(t *testing.T) {
	f := newHLSFixture(t)
	ts := f.serve(t, server.Config{})
	seg := f.run.Playlist.Segments()[2]
	url := ts.URL + "/streams/" + streamName + "/" + seg.Name()
	plain, plainBody := do(t, http.MethodGet, url, nil)
	before := seg.Start.Add(-time.Hour).UTC().Format(http.TimeFormat)
	cond, condBody := do(t, http.MethodGet, url, http.Header{"If-Modified-Since": {before}})
	plain.Header.Del("Date")
	cond.Header.Del("Date")
	if plain.StatusCode != http.StatusOK || cond.StatusCode != http.StatusOK || !bytes.Equal(plainBody, condBody) {
		t.Fatalf("plain: %d, %d bytes; modified since an hour before: %d, %d bytes", plain.StatusCode, len(plainBody), cond.StatusCode, len(condBody))
	}
	if !reflect.DeepEqual(plain.Header, cond.Header) {
		t.Fatalf("headers differ:\nplain       %v\nconditional %v", plain.Header, cond.Header)
	}
	after := seg.Start.Add(time.Hour).UTC().Format(http.TimeFormat)
	if resp, body := do(t, http.MethodGet, url, http.Header{"If-Modified-Since": {after}}); resp.StatusCode != http.StatusNotModified || len(body) != 0 {
		t.Fatalf("not modified since an hour after: %d with %d bytes, want 304 and none", resp.StatusCode, len(body))
	}
}
