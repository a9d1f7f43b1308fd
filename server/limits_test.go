//go:build cgo

package server

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hlsmark/hlsmark/pipeline/pipelinetest"
)

// RoomyLimits are limits no functional test reaches, for the tests that
// post many markers from one address: each limit has a test of its own.
var RoomyLimits = Limits{PostRate: 1e9, PostBurst: 1 << 30, ListRate: 1e9, ListBurst: 1 << 30, StreamMarkersPerMinute: 1 << 30, DataBytes: maxBody, Replay: 1 << 30}

// newLimitServer serves a finished run with the given limits.
func newLimitServer(t *testing.T, lim Limits, token string) (*httptest.Server, *pipelinetest.Run) {
	t.Helper()
	r := pipelinetest.Start(t, pipelinetest.Config{Frames: 60, Seed: 3})
	ts := httptest.NewServer(New(Config{
		Streams: Fixed{{Name: pipelinetest.Stream, Playlist: r.Playlist, Markers: r.Markers}},
		Limits:  lim,
		Token:   token,
	}))
	t.Cleanup(ts.Close)
	return ts, r
}

// post sends a marker POST with a JSON Content-Type and returns the status,
// the Retry-After header and the error message.
func post(t *testing.T, url, body string) (int, string, string) {
	t.Helper()
	resp, err := http.Post(url+"/api/streams/demo/markers", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var e struct{ Error string }
	_ = json.NewDecoder(resp.Body).Decode(&e)
	return resp.StatusCode, resp.Header.Get("Retry-After"), e.Error
}

// storedLabels lists the labels of the stored markers.
func storedLabels(t *testing.T, r *pipelinetest.Run) map[string]bool {
	t.Helper()
	ms, err := r.Store.List(t.Context(), pipelinetest.Stream, 0, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]bool{}
	for _, m := range ms {
		out[m.Label] = true
	}
	return out
}

// TestPostRateThroughProxy: behind a trusted proxy (the test's own
// address), each client the proxy names in X-Forwarded-For has a budget of
// its own; without the trust, the proxy's clients share one.
func TestPostRateThroughProxy(t *testing.T) {
	for _, c := range []struct {
		name    string
		trusted []netip.Prefix
		second  int // the answer to a second client's post, once the first spent its burst
	}{
		{"trusted", []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")}, http.StatusCreated},
		{"not trusted", nil, http.StatusTooManyRequests},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := pipelinetest.Start(t, pipelinetest.Config{Frames: 60, Seed: 3})
			ts := httptest.NewServer(New(Config{
				Streams:        Fixed{{Name: pipelinetest.Stream, Playlist: r.Playlist, Markers: r.Markers}},
				Limits:         Limits{PostRate: 0.001, PostBurst: 1, StreamMarkersPerMinute: 1000},
				TrustedProxies: c.trusted,
			}))
			t.Cleanup(ts.Close)
			pts := r.Playlist.Segments()[0].FirstPTS
			postAs := func(client, label string) int {
				req, err := http.NewRequest(http.MethodPost, ts.URL+"/api/streams/demo/markers",
					strings.NewReader(fmt.Sprintf(`{"label":%q,"pts":%d}`, label, pts)))
				if err != nil {
					t.Fatal(err)
				}
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("X-Forwarded-For", client)
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				return resp.StatusCode
			}
			if code := postAs("203.0.113.1", "first"); code != http.StatusCreated {
				t.Fatalf("the first client's post: %d; want 201", code)
			}
			if code := postAs("203.0.113.1", "first again"); code != http.StatusTooManyRequests {
				t.Errorf("the first client past its burst: %d; want 429", code)
			}
			if code := postAs("203.0.113.2", "second"); code != c.second {
				t.Errorf("another client through the same proxy: %d; want %d", code, c.second)
			}
		})
	}
}

func TestPostRatePerClient(t *testing.T) {
	ts, r := newLimitServer(t, Limits{PostRate: 0.001, PostBurst: 3, StreamMarkersPerMinute: 1000}, "")
	pts := r.Playlist.Segments()[0].FirstPTS
	for i := range 3 {
		if code, _, msg := post(t, ts.URL, fmt.Sprintf(`{"label":"burst %d","pts":%d}`, i, pts)); code != http.StatusCreated {
			t.Fatalf("post %d within the burst: %d %s", i, code, msg)
		}
	}
	code, retry, msg := post(t, ts.URL, fmt.Sprintf(`{"label":"one too many","pts":%d}`, pts))
	if n, _ := strconv.Atoi(retry); code != http.StatusTooManyRequests || n < 1 || !strings.Contains(msg, "this client") {
		t.Fatalf("post past the burst: %d, Retry-After %q, %q; want 429 naming the client limit", code, retry, msg)
	}
	if storedLabels(t, r)["one too many"] {
		t.Fatal("a refused post was stored")
	}
}

func TestMarkersPerStreamPerMinute(t *testing.T) {
	ts, r := newLimitServer(t, Limits{PostRate: 1e9, PostBurst: 1 << 20, StreamMarkersPerMinute: 2}, "")
	pts := r.Playlist.Segments()[0].FirstPTS
	for i := range 2 {
		if code, _, msg := post(t, ts.URL, fmt.Sprintf(`{"label":"m%d","pts":%d}`, i, pts)); code != http.StatusCreated {
			t.Fatalf("post %d: %d %s", i, code, msg)
		}
	}
	code, retry, msg := post(t, ts.URL, fmt.Sprintf(`{"label":"third","pts":%d}`, pts))
	if n, _ := strconv.Atoi(retry); code != http.StatusTooManyRequests || n < 1 || !strings.Contains(msg, "a minute") {
		t.Fatalf("third post in a minute: %d, Retry-After %q, %q; want 429 naming the stream limit", code, retry, msg)
	}
	// A bad post does not use up the stream's allowance.
	if code, _, _ := post(t, ts.URL, `{"label":""}`); code != http.StatusBadRequest {
		t.Fatalf("bad post: %d, want 400", code)
	}
}

// casesDataLimit are data objects past the size and depth limits, or not
// text at all.
var casesDataLimit = []struct {
	name   string
	data   string
	status int
	field  string
}{
	{"too big", `{"pad":"` + strings.Repeat("x", 2000) + `"}`, http.StatusRequestEntityTooLarge, "data: must be at most 1024 bytes"},
	{"too deep", `{"a":` + strings.Repeat(`[`, 40) + strings.Repeat(`]`, 40) + `}`, http.StatusRequestEntityTooLarge, "data: must nest at most 32"},
	{"invalid UTF-8", "{\"a\":\"\xff\xfe\"}", http.StatusBadRequest, "data: must be valid UTF-8"},
}

func TestDataLimits(t *testing.T) {
	ts, r := newLimitServer(t, Limits{PostRate: 1e9, PostBurst: 1 << 20, StreamMarkersPerMinute: 1 << 20, DataBytes: 1024}, "")
	pts := r.Playlist.Segments()[0].FirstPTS
	for _, c := range casesDataLimit {
		t.Run(c.name, func(t *testing.T) {
			code, _, msg := post(t, ts.URL, fmt.Sprintf(`{"label":%q,"pts":%d,"data":%s}`, c.name, pts, c.data))
			if code != c.status || !strings.Contains(msg, c.field) {
				t.Fatalf("%d %q, want %d naming %q", code, msg, c.status, c.field)
			}
		})
	}
	// Brackets in strings are not nesting: 32 levels of them pass.
	deepText := `{"a":"` + strings.Repeat("[", 100) + `"}`
	if code, _, msg := post(t, ts.URL, fmt.Sprintf(`{"label":"brackets","pts":%d,"data":%s}`, pts, deepText)); code != http.StatusCreated {
		t.Fatalf("brackets inside a string: %d %s", code, msg)
	}
	labels := storedLabels(t, r)
	for _, c := range casesDataLimit {
		if labels[c.name] {
			t.Errorf("marker %q was stored", c.name)
		}
	}
}

// casesBadLabel are labels with characters that are not control
// characters but still break lines or hide what the label says.
var casesBadLabel = []struct{ name, label string }{
	{"line separator", "before\u2028after"},
	{"paragraph separator", "before\u2029after"},
	{"right-to-left override", "abc\u202Etxt.exe"},
	{"isolate", "a\u2067b\u2069"},
	{"right-to-left mark", "a\u200Fb"},
}

func TestLabelSeparatorsAndBidi(t *testing.T) {
	ts, r := newLimitServer(t, RoomyLimits, "")
	pts := r.Playlist.Segments()[0].FirstPTS
	for _, c := range casesBadLabel {
		t.Run(c.name, func(t *testing.T) {
			body, _ := json.Marshal(map[string]any{"label": c.label, "pts": pts})
			if code, _, msg := post(t, ts.URL, string(body)); code != http.StatusBadRequest || !strings.HasPrefix(msg, "label:") {
				t.Fatalf("%d %q, want 400 naming the label", code, msg)
			}
		})
	}
}

// TestPostNeedsJSONContentType is the CSRF guard: what a web page can send
// cross-site without a preflight (no Content-Type, text/plain, a form) is
// refused with 415 and stores nothing.
func TestPostNeedsJSONContentType(t *testing.T) {
	ts, r := newLimitServer(t, RoomyLimits, "")
	body := fmt.Sprintf(`{"label":"forged","pts":%d}`, r.Playlist.Segments()[0].FirstPTS)
	for _, ct := range []string{"", "text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x"} {
		req, _ := http.NewRequest(http.MethodPost, ts.URL+"/api/streams/demo/markers", strings.NewReader(body))
		if ct != "" {
			req.Header.Set("Content-Type", ct)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnsupportedMediaType {
			t.Errorf("Content-Type %q: %d, want 415", ct, resp.StatusCode)
		}
	}
	if storedLabels(t, r)["forged"] {
		t.Fatal("a forged post was stored")
	}
}

// slowPost opens a connection and sends the head of a POST whose body
// never comes, then returns the connection.
func slowPost(t *testing.T, ts *httptest.Server, auth string) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", ts.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	fmt.Fprintf(c, "POST /api/streams/demo/markers HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n%sContent-Length: 60000\r\n\r\n{", auth)
	return c
}

// readStatus reads the status line of the answer on c, failing after
// within.
func readStatus(t *testing.T, c net.Conn, within time.Duration) int {
	t.Helper()
	_ = c.SetReadDeadline(time.Now().Add(within))
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatalf("no answer within %s: %v", within, err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

// TestSlowBody sends bodies that never finish. Without the token the 401
// comes long before the body timeout (30 s here): the server does not
// wait for a body it will not use. With the token, the server gives up
// after the body timeout with 408 and closes the connection.
func TestSlowBody(t *testing.T) {
	lim := RoomyLimits
	lim.BodyTimeout = 30 * time.Second
	ts, _ := newLimitServer(t, lim, "secret")
	if code := readStatus(t, slowPost(t, ts, ""), 10*time.Second); code != http.StatusUnauthorized {
		t.Fatalf("slow body without the token: %d, want 401 before the body", code)
	}
	lim.BodyTimeout = 500 * time.Millisecond
	ts, _ = newLimitServer(t, lim, "secret")
	c := slowPost(t, ts, "Authorization: Bearer secret\r\n")
	if code := readStatus(t, c, 10*time.Second); code != http.StatusRequestTimeout {
		t.Fatalf("slow body with the token: %d, want 408", code)
	}
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	if n, err := c.Read(make([]byte, 1)); n != 0 || err == nil {
		t.Fatalf("the connection stayed open after the body timed out (%d bytes, %v)", n, err)
	}
}

// TestListIsCutShortBySize lists markers whose data make the answer larger
// than the list limit: the answer stays under it and says where to go on,
// and paging through it finds every marker once.
func TestListIsCutShortBySize(t *testing.T) {
	lim := RoomyLimits
	lim.ListBytes = 64 << 10
	ts, r := newLimitServer(t, lim, "")
	pts := r.Playlist.Segments()[0].FirstPTS
	pad := strings.Repeat("x", 8000)
	for i := range 30 {
		if code, _, msg := post(t, ts.URL, fmt.Sprintf(`{"label":"big %d","pts":%d,"data":{"pad":%q}}`, i, pts, pad)); code != http.StatusCreated {
			t.Fatalf("post %d: %d %s", i, code, msg)
		}
	}
	want := len(storedLabels(t, r))
	seen := map[int64]bool{}
	next, pages := "/api/streams/demo/markers?limit=1000", 0
	for next != "" {
		resp, err := http.Get(ts.URL + next)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || len(b) > lim.ListBytes {
			t.Fatalf("GET %s: %d, %d bytes; want 200 within %d", next, resp.StatusCode, len(b), lim.ListBytes)
		}
		var page struct {
			Markers []struct{ ID int64 }
			Next    string
		}
		if err := json.Unmarshal(b, &page); err != nil {
			t.Fatal(err)
		}
		for _, m := range page.Markers {
			if seen[m.ID] {
				t.Fatalf("marker %d listed twice", m.ID)
			}
			seen[m.ID] = true
		}
		next = page.Next
		if pages++; pages > 50 {
			t.Fatal("paging does not end")
		}
	}
	if pages < 3 || len(seen) != want {
		t.Fatalf("%d pages, %d markers; want the %d markers over several pages", pages, len(seen), want)
	}
}

// TestReplayIsBounded resumes an event stream from far behind: it gets a
// reset event pointing at the marker list instead of every change, then
// the changes from the present on.
func TestReplayIsBounded(t *testing.T) {
	lim := RoomyLimits
	lim.Replay = 5
	ts, r := newLimitServer(t, lim, "")
	pts := r.Playlist.Segments()[0].FirstPTS
	for i := range 20 {
		if code, _, msg := post(t, ts.URL, fmt.Sprintf(`{"label":"m%d","pts":%d}`, i, pts)); code != http.StatusCreated {
			t.Fatalf("post %d: %d %s", i, code, msg)
		}
	}
	req, _ := http.NewRequest(http.MethodGet, ts.URL+"/api/streams/demo/markers/events", nil)
	req.Header.Set("Last-Event-ID", "0")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	events := make(chan string, 64)
	go func() {
		defer close(events)
		sc := bufio.NewScanner(resp.Body)
		for sc.Scan() {
			if ev, ok := strings.CutPrefix(sc.Text(), "event: "); ok {
				events <- ev
			}
		}
	}()
	first := <-events
	if first != "reset" {
		t.Fatalf("first event %q, want reset", first)
	}
	if code, _, msg := post(t, ts.URL, fmt.Sprintf(`{"label":"after","pts":%d}`, pts)); code != http.StatusCreated {
		t.Fatalf("post: %d %s", code, msg)
	}
	select {
	case ev := <-events:
		if ev != "created" {
			t.Fatalf("after the reset: %q, want the new marker's created event", ev)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no event for the marker posted after the reset")
	}
}

// TestSymlinkedSegmentIsNotFollowed replaces a listed segment file with a
// symlink to a file outside the stream's folder: it is answered 404, and
// the file's content is not sent.
func TestSymlinkedSegmentIsNotFollowed(t *testing.T) {
	ts, r := newLimitServer(t, RoomyLimits, "")
	secret := filepath.Join(t.TempDir(), "secret")
	if err := os.WriteFile(secret, []byte("SECRET-do-not-serve"), 0o644); err != nil {
		t.Fatal(err)
	}
	seg := r.Playlist.Segments()[1]
	if err := os.Remove(seg.Path); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(secret, seg.Path); err != nil {
		t.Fatal(err)
	}
	resp, err := http.Get(ts.URL + "/streams/demo/" + seg.Name())
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound || strings.Contains(string(b), "SECRET") {
		t.Fatalf("symlinked segment: %d %q, want 404 without the target's content", resp.StatusCode, b)
	}
}

// TestListRatePerClient reads the marker list as fast as one client can:
// past its burst of markers read, it gets 429 with Retry-After, naming the
// limit, while a request for fewer markers still fits a smaller budget.
func TestListRatePerClient(t *testing.T) {
	lim := RoomyLimits
	lim.ListRate, lim.ListBurst = 1, 2500
	ts, _ := newLimitServer(t, lim, "")
	get := func(limit int) (int, string) {
		resp, err := http.Get(fmt.Sprintf("%s/api/streams/demo/markers?limit=%d", ts.URL, limit))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode, resp.Header.Get("Retry-After")
	}
	for i := range 2 {
		if code, _ := get(1000); code != http.StatusOK {
			t.Fatalf("listing %d within the burst: %d", i, code)
		}
	}
	if code, retry := get(1000); code != http.StatusTooManyRequests || retry == "" {
		t.Fatalf("a third listing of 1000: %d, Retry-After %q; want 429 with Retry-After", code, retry)
	}
	if code, _ := get(100); code != http.StatusOK {
		t.Fatalf("a listing of 100 within what is left: %d", code)
	}
}
