//go:build cgo

package server_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// casesQueryParam are the query parameters the API takes, each an integer,
// with the route that takes it.
var casesQueryParam = []struct{ route, param string }{
	{"/api/streams/demo/markers", "after"},
	{"/api/streams/demo/markers", "limit"},
	{"/api/streams/demo/markers/events", "last_event_id"},
}

// casesHostileValue are values no integer parameter may take, %-encoded as
// they go in the URL.
var casesHostileValue = []struct{ name, value string }{
	{"just beyond uint64", "18446744073709551616"},
	{"huge", "99999999999999999999999999999999999999"},
	{"negative", "-1"},
	{"negative zero", "-0"},
	{"plus sign", "%2B1"},
	{"plus as a space", "+1"},
	{"NaN", "NaN"},
	{"Inf", "Inf"},
	{"minus Inf", "-Inf"},
	{"1e999", "1e999"},
	{"float", "1.5"},
	{"exponent", "1e3"},
	{"hex", "0x10"},
	{"binary", "0b1"},
	{"octal", "0o7"},
	{"underscore", "1_000"},
	{"empty", ""},
	{"leading space", "%201"},
	{"trailing space", "1%20"},
	{"NUL", "1%00"},
	{"fullwidth digit", "%EF%BC%91"},
	{"invalid UTF-8", "%FF"},
	{"bad escape", "%ZZ"},
	{"truncated escape", "1%2"},
	{"semicolon", "1;x=2"},
	{"quote and markup", "%22%3Cscript%3E"},
	{"overlong", strings.Repeat("9", 5000)},
	{"overlong garbage", strings.Repeat("x", 5000)},
}

// casesHostileHeader are Last-Event-ID header values to refuse (a header
// cannot carry what the query's %-escapes can).
var casesHostileHeader = []string{
	"18446744073709551616", "99999999999999999999999", "-1", "+1", "NaN", "Inf", "1e999", "1.5", "0x10", "1_000",
	"1 2", "１", `"1"`, strings.Repeat("9", 5000),
}

// casesRouteWithoutParams are routes that take no query parameter, so any
// they are sent must be ignored; same says whether the body is the same
// from one request to the next.
var casesRouteWithoutParams = []struct {
	method, path string
	status       int
	same         bool
}{
	{http.MethodGet, "/healthz", http.StatusOK, true},
	{http.MethodHead, "/healthz", http.StatusOK, true},
	{http.MethodGet, "/metrics", http.StatusOK, false},
	{http.MethodGet, "/api/openapi.json", http.StatusOK, true},
	{http.MethodGet, "/api/streams", http.StatusOK, true},
	{http.MethodGet, "/api/streams/demo/markers/1", http.StatusOK, true},
	{http.MethodGet, "/streams/demo/index.m3u8", http.StatusOK, true},
	{http.MethodGet, "/", http.StatusOK, true},
	{http.MethodGet, "/streams/demo", http.StatusOK, true},
	{http.MethodGet, "/static/js/api.js", http.StatusOK, true},
	{http.MethodPost, "/api/streams/demo/markers", http.StatusCreated, false},
}

// hostileParams are query strings sent to routes that take no parameter,
// and (but for the first three) to the ones that do.
var hostileParams = []string{
	"after=-1", "limit=NaN", "last_event_id=1e999",
	"id=0x10", "stream=..%2fsecret.txt", "segment=..%5csecret.txt", "x=1&x=2", "%ZZ=%ZZ", "a;b=c", "AFTER=-1", "after%00=1",
	"after[]=1", "=1", "&&&", "?", strings.Repeat("k", 5000) + "=1", "k=" + strings.Repeat("v", 5000),
}

// TestHostileQueryValues sends hostile values of every query parameter to
// the route that takes it, and hostile parameters to every route. A value
// a parameter cannot take gets a 400 whose JSON error names the parameter
// (and quotes no more than a bounded part of the value); a parameter the
// route does not take is ignored. Nothing panics (a panic would reset the
// connection) and nothing answers 5xx.
func TestHostileQueryValues(t *testing.T) {
	fx := newHostileFixture(t)
	ts := httptest.NewServer(fx.srv)
	t.Cleanup(ts.Close)

	refused := func(t *testing.T, resp *http.Response, body []byte, name string) {
		t.Helper()
		checkJSONError(t, resp, body, http.StatusBadRequest)
		var e struct{ Error string }
		_ = json.Unmarshal(body, &e)
		if !strings.HasPrefix(e.Error, name+":") || len(e.Error) > 200 {
			t.Fatalf("error %q: want one that starts with %q and is at most 200 bytes", e.Error, name+":")
		}
	}
	t.Run("values", func(t *testing.T) {
		for _, p := range casesQueryParam {
			for _, c := range casesHostileValue {
				t.Run(p.param+"/"+c.name, func(t *testing.T) {
					resp, body := fetch(t, ts.URL+p.route+"?"+p.param+"="+c.value, nil)
					refused(t, resp, body, p.param)
				})
			}
			for _, c := range []struct{ name, query string }{
				{"repeated", p.param + "=1&" + p.param + "=2"},
				{"repeated, once empty", p.param + "=1&" + p.param + "="},
				{"repeated between others", p.param + "=1&colour=red&" + p.param + "=1"},
			} {
				t.Run(p.param+"/"+c.name, func(t *testing.T) {
					resp, body := fetch(t, ts.URL+p.route+"?"+c.query, nil)
					refused(t, resp, body, p.param)
				})
			}
		}
		for _, v := range []string{"0", "1001", "18446744073709551615"} {
			resp, body := do(t, http.MethodGet, ts.URL+"/api/streams/demo/markers?limit="+v, nil)
			refused(t, resp, body, "limit")
		}
		for _, v := range casesHostileHeader {
			resp, body := fetch(t, ts.URL+"/api/streams/demo/markers/events", http.Header{"Last-Event-Id": {v}})
			refused(t, resp, body, "Last-Event-ID")
		}
	})

	t.Run("limits accepted", func(t *testing.T) {
		var all, edge struct{ Markers []json.RawMessage }
		for query, want := range map[string]*struct{ Markers []json.RawMessage }{
			"": &all, "?after=0&limit=1000": &all, "?limit=1": nil, "?after=18446744073709551615": &edge,
		} {
			resp, body := do(t, http.MethodGet, ts.URL+"/api/streams/demo/markers"+query, nil)
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("%s: %d %s", query, resp.StatusCode, body)
			}
			if want != nil && json.Unmarshal(body, want) != nil {
				t.Fatalf("%s: %s", query, body)
			}
		}
		if len(all.Markers) == 0 {
			t.Fatal("the run stored no markers: the test shows nothing")
		}
		if len(edge.Markers) != 0 {
			t.Fatalf("after=18446744073709551615 lists %d markers; no ID is above it", len(edge.Markers))
		}
	})

	// A revision past the store's latest (the highest there is, or one a
	// client kept from an earlier store): nothing to catch up on, and the
	// first event is the next change, not every change (after+1 wrapping
	// to 0) and not none until the revisions catch up.
	t.Run("resume from past the latest revision", func(t *testing.T) {
		ahead := fmt.Sprint(fx.rev(t) + 5)
		for _, c := range []struct {
			name, query string
			header      http.Header
		}{
			{"highest in the query", "?last_event_id=18446744073709551615", nil},
			{"highest in the header", "", http.Header{"Last-Event-Id": {"18446744073709551615"}}},
			{"ahead of the store", "?last_event_id=" + ahead, nil},
		} {
			t.Run(c.name, func(t *testing.T) {
				r := openEvents(t, ts.URL+"/api/streams/demo/markers/events"+c.query, c.header)
				label := "after the highest revision " + c.name
				postMarker(t, ts, fx, label)
				if id, data := readEvent(t, r); !strings.Contains(data, `"label":"`+label+`"`) {
					t.Fatalf("first event %s is %.200s; want the marker posted after subscribing", id, data)
				}
			})
		}
	})

	t.Run("unknown parameters ignored", func(t *testing.T) {
		_, want := do(t, http.MethodGet, ts.URL+"/api/streams/demo/markers", nil)
		for _, q := range hostileParams[3:] {
			resp, body := do(t, http.MethodGet, ts.URL+"/api/streams/demo/markers?"+q, nil)
			if resp.StatusCode != http.StatusOK || !bytes.Equal(body, want) {
				t.Errorf("markers?%.60s: %d %.200s; want the list, as without it", q, resp.StatusCode, body)
			}
			openEvents(t, ts.URL+"/api/streams/demo/markers/events?"+q, nil)
		}
	})

	t.Run("routes without parameters", func(t *testing.T) {
		seg := "/streams/demo/" + fx.run.Playlist.Segments()[0].Name()
		routes := append(casesRouteWithoutParams, struct {
			method, path string
			status       int
			same         bool
		}{http.MethodGet, seg, http.StatusOK, true})
		for _, r := range routes {
			t.Run(r.method+" "+r.path, func(t *testing.T) {
				send := func(query string) (*http.Response, []byte) {
					t.Helper()
					if r.method == http.MethodPost {
						return postQuery(t, ts, fx, query)
					}
					return do(t, r.method, ts.URL+r.path+query, nil)
				}
				base, want := send("")
				if base.StatusCode != r.status {
					t.Fatalf("without parameters: %d %.200s, want %d", base.StatusCode, want, r.status)
				}
				for _, q := range hostileParams {
					resp, body := send("?" + q)
					if resp.StatusCode != r.status || resp.Header.Get("Content-Type") != base.Header.Get("Content-Type") ||
						r.same && !bytes.Equal(body, want) {
						t.Errorf("?%.60s: %d %s %.100q; want %d %s and the answer without it",
							q, resp.StatusCode, resp.Header.Get("Content-Type"), body, r.status, base.Header.Get("Content-Type"))
					}
				}
			})
		}
	})
}

// fetch GETs url and reads the whole answer, failing after 10 s: an event
// stream that should have been refused would never end.
func fetch(t *testing.T, url string, header http.Header) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	client := &http.Client{Timeout: 10 * time.Second}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var b bytes.Buffer
	if _, err := b.ReadFrom(resp.Body); err != nil {
		t.Fatalf("%d %s: %v (an event stream, not a refusal?)", resp.StatusCode, resp.Header.Get("Content-Type"), err)
	}
	return resp, b.Bytes()
}

// openEvents opens an event stream, requires it to start, and closes it
// when the test ends.
func openEvents(t *testing.T, url string, header http.Header) *bufio.Reader {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cancel()
		resp.Body.Close()
	})
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("%s: %d %s, want an event stream", url, resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	return bufio.NewReader(resp.Body)
}

// readEvent reads the next event's id and data.
func readEvent(t *testing.T, r *bufio.Reader) (id, data string) {
	t.Helper()
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			t.Fatalf("reading an event: %v", err)
		}
		line = strings.TrimRight(line, "\n")
		switch {
		case strings.HasPrefix(line, "id: "):
			id = strings.TrimPrefix(line, "id: ")
		case strings.HasPrefix(line, "data: "):
			data = strings.TrimPrefix(line, "data: ")
		case line == "" && id != "":
			return id, data
		}
	}
}

// postMarker posts a marker in the window and requires it stored.
func postMarker(t *testing.T, ts *httptest.Server, fx *hostileFixture, label string) {
	t.Helper()
	resp, body := postBody(t, ts, "", fmt.Sprintf(`{"label":%q,"pts":%d}`, label, fx.run.Playlist.Segments()[1].FirstPTS.TS()))
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("post: %d %s", resp.StatusCode, body)
	}
}

// postQuery posts a valid marker with a query string after the route.
func postQuery(t *testing.T, ts *httptest.Server, fx *hostileFixture, query string) (*http.Response, []byte) {
	t.Helper()
	return postBody(t, ts, query, fmt.Sprintf(`{"label":"with a query","pts":%d}`, fx.run.Playlist.Segments()[1].FirstPTS.TS()))
}

func postBody(t *testing.T, ts *httptest.Server, query, body string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, ts.URL+"/api/streams/demo/markers"+query, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+hostileToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var b bytes.Buffer
	_, _ = b.ReadFrom(resp.Body)
	return resp, b.Bytes()
}
