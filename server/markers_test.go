//go:build cgo

package server

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hlsmark/hlsmark/marker"

	"github.com/hlsmark/hlsmark/pipeline/clock"
	"github.com/hlsmark/hlsmark/pipeline/media"
	"github.com/hlsmark/hlsmark/pipeline/pipelinetest"
)

// markerServer is a real HTTP server over a finished pipeline run with
// markers.
type markerServer struct {
	*httptest.Server
	run *pipelinetest.Run
}

func newMarkerServer(t *testing.T, token string) *markerServer {
	t.Helper()
	return newMarkerServerFrom(t, token, pipelinetest.Config{Frames: 200, Seed: 11, EventEvery: 2 * time.Second, EventDuration: 500 * time.Millisecond})
}

func newMarkerServerFrom(t *testing.T, token string, cfg pipelinetest.Config) *markerServer {
	t.Helper()
	r := pipelinetest.Start(t, cfg)
	srv := New(Config{
		Streams: Fixed{{Name: pipelinetest.Stream, Playlist: r.Playlist, Markers: r.Markers}},
		Token:   token,
		Limits:  RoomyLimits,
	})
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	return &markerServer{Server: ts, run: r}
}

func (s *markerServer) count(t *testing.T) int {
	t.Helper()
	ms, err := s.run.Store.List(context.Background(), pipelinetest.Stream, 0, 10000)
	if err != nil {
		t.Fatal(err)
	}
	return len(ms)
}

func (s *markerServer) post(t *testing.T, body string, header http.Header) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, s.URL+"/api/streams/demo/markers", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, b
}

// casesBadMarker are POST bodies that must be refused with 400 and a
// message naming the field, and change nothing.
var casesBadMarker = []struct {
	name, body, field string
}{
	{"invalid JSON", `{"label":`, "body"},
	{"not JSON at all", `label=x`, "body"},
	{"empty body", ``, "body"},
	{"array", `[{"label":"x","pts":1}]`, "body"},
	{"two objects", `{"label":"x","pts":1}{}`, "body"},
	{"unknown field", `{"label":"x","pts":1,"colour":"red"}`, "colour"},
	{"missing label", `{"pts":1}`, "label"},
	{"null label", `{"label":null,"pts":1}`, "label"},
	{"empty label", `{"label":"  ","pts":1}`, "label"},
	{"label over 200 characters", `{"label":"` + strings.Repeat("é", 201) + `","pts":1}`, "label"},
	{"label with a control character", `{"label":"a\u0007b","pts":1}`, "label"},
	{"label not a string", `{"label":5,"pts":1}`, "label"},
	{"neither pts nor time", `{"label":"x"}`, "pts"},
	{"both pts and time", `{"label":"x","pts":1,"time":"2026-11-24T10:00:00Z"}`, "pts"},
	{"negative pts", `{"label":"x","pts":-1}`, "pts"},
	{"fractional pts", `{"label":"x","pts":1.5}`, "pts"},
	{"pts as NaN string", `{"label":"x","pts":"NaN"}`, "pts"},
	{"NaN literal", `{"label":"x","pts":NaN}`, "body"},
	{"pts beyond int64", `{"label":"x","pts":1e30}`, "pts"},
	{"pts after the present", `{"label":"x","pts":900000000}`, "pts"},
	{"pts beyond 33 bits", `{"label":"x","pts":8589934592}`, "pts"},
	{"time not a date", `{"label":"x","time":"yesterday"}`, "time"},
	{"time before the stream", `{"label":"x","time":"2020-01-01T00:00:00Z"}`, "time"},
	{"time after the present", `{"label":"x","time":"2030-01-01T00:00:00Z"}`, "pts"},
	{"negative duration", `{"label":"x","pts":1000,"duration":-1}`, "duration"},
	{"duration as NaN string", `{"label":"x","pts":1000,"duration":"NaN"}`, "duration"},
	{"infinite duration", `{"label":"x","pts":1000,"duration":1e400}`, "duration"},
	{"null pts", `{"label":"x","pts":null}`, "pts"},
	{"duration over a day", `{"label":"x","pts":1000,"duration":90000}`, "duration"},
	{"data an array", `{"label":"x","pts":1000,"data":[1]}`, "data"},
	{"data a string", `{"label":"x","pts":1000,"data":"s"}`, "data"},
}

func TestPostMarkerRejectsBadInput(t *testing.T) {
	s := newMarkerServer(t, "")
	before := s.count(t)
	for _, c := range casesBadMarker {
		t.Run(c.name, func(t *testing.T) {
			resp, body := s.post(t, c.body, nil)
			if resp.StatusCode != http.StatusBadRequest {
				t.Fatalf("status %d (%s), want 400", resp.StatusCode, body)
			}
			var e struct{ Error string }
			if err := json.Unmarshal(body, &e); err != nil || !strings.Contains(e.Error, c.field) {
				t.Fatalf("error %q does not name %q (%v)", body, c.field, err)
			}
		})
	}
	t.Run("body over 64 KiB", func(t *testing.T) {
		resp, body := s.post(t, `{"label":"x","pts":1000,"data":{"pad":"`+strings.Repeat("a", 70<<10)+`"}}`, nil)
		if resp.StatusCode != http.StatusRequestEntityTooLarge || !strings.Contains(string(body), "body") {
			t.Fatalf("status %d %s, want 413 naming the body", resp.StatusCode, body)
		}
	})
	t.Run("wrong content type", func(t *testing.T) {
		resp, _ := s.post(t, `{"label":"x","pts":1000}`, http.Header{"Content-Type": {"text/plain"}})
		if resp.StatusCode != http.StatusUnsupportedMediaType {
			t.Fatalf("status %d, want 415", resp.StatusCode)
		}
	})
	if after := s.count(t); after != before {
		t.Fatalf("refused requests changed the store: %d markers before, %d after", before, after)
	}
}

func TestPostMarkerToken(t *testing.T) {
	s := newMarkerServer(t, "s3cret")
	before := s.count(t)
	for _, auth := range []string{"", "Bearer wrong", "s3cret", "Basic s3cret"} {
		resp, body := s.post(t, `{"label":"x","pts":1000}`, http.Header{"Authorization": {auth}})
		if resp.StatusCode != http.StatusUnauthorized || resp.Header.Get("WWW-Authenticate") == "" {
			t.Errorf("Authorization %q: status %d %s, want 401 with WWW-Authenticate", auth, resp.StatusCode, body)
		}
	}
	if s.count(t) != before {
		t.Fatal("unauthorised posts were stored")
	}
	resp, body := s.post(t, `{"label":"x","pts":1000}`, http.Header{"Authorization": {"Bearer s3cret"}})
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("with the token: %d %s", resp.StatusCode, body)
	}
	if r, err := http.Get(s.URL + "/api/streams/demo/markers"); err != nil || r.StatusCode != http.StatusOK {
		t.Fatalf("reads need no token: %v %v", r, err)
	}
}

func getJSON(t *testing.T, url string, v any) int {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if v != nil && resp.StatusCode == http.StatusOK {
		if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
			t.Fatal(err)
		}
	}
	return resp.StatusCode
}

func TestPostMarkerPlacesItExactly(t *testing.T) {
	s := newMarkerServer(t, "")
	segs := s.run.Playlist.Segments()
	seg := segs[1]
	pts := seg.FirstPTS + 4321
	tl := s.run.Timeline

	for _, c := range []struct{ name, body string }{
		{"by pts", `{"label":"by pts","pts":` + strconv.FormatInt(int64(pts), 10) + `,"duration":1.5,"data":{"who":"test"}}`},
		{"by time", `{"label":"by time","time":"` + tl.Time(pts).Format(time.RFC3339Nano) + `","duration":1.5,"data":{"who":"test"}}`},
	} {
		t.Run(c.name, func(t *testing.T) {
			resp, body := s.post(t, c.body, nil)
			if resp.StatusCode != http.StatusCreated {
				t.Fatalf("status %d %s", resp.StatusCode, body)
			}
			var got markerView
			if err := json.Unmarshal(body, &got); err != nil {
				t.Fatal(err)
			}
			if got.PTS != int64(pts) || got.Sequence == nil || *got.Sequence != seg.Seq ||
				got.Offset == nil || *got.Offset != clock.Ticks(4321).Seconds() ||
				got.Duration == nil || *got.Duration != 1.5 || got.Source != marker.FromAPI || string(got.Data) != `{"who":"test"}` {
				t.Fatalf("stored %s; want pts %d in segment %d at offset 4321 ticks", body, pts, seg.Seq)
			}
			var again markerView
			if code := getJSON(t, s.URL+resp.Header.Get("Location"), &again); code != http.StatusOK || again.ID != got.ID || again.PTS != got.PTS {
				t.Fatalf("GET %s: %d %+v", resp.Header.Get("Location"), code, again)
			}
		})
	}
}

// TestMarkerAPIAcrossTheWrap shows PTS as the TS carries them (33 bits)
// and takes a posted TS timestamp to its instance after the wrap.
func TestMarkerAPIAcrossTheWrap(t *testing.T) {
	s := newMarkerServerFrom(t, "", pipelinetest.Config{
		Start: clock.Wrap - clock.Hz, Frames: 120, Seed: 2, EventEvery: 1500 * time.Millisecond, EventDuration: 300 * time.Millisecond,
	})
	var after media.Segment
	for _, seg := range s.run.Playlist.Segments() {
		if seg.FirstPTS > clock.Wrap {
			after = seg
			break
		}
	}
	if after.Path == "" {
		t.Fatal("no segment after the wrap")
	}
	ts := (after.FirstPTS + 100).TS()
	resp, body := s.post(t, `{"label":"after wrap","pts":`+strconv.FormatInt(int64(ts), 10)+`}`, nil)
	var got markerView
	if resp.StatusCode != http.StatusCreated || json.Unmarshal(body, &got) != nil {
		t.Fatalf("post: %d %s", resp.StatusCode, body)
	}
	if got.PTS != int64(ts) || got.Sequence == nil || *got.Sequence != after.Seq || *got.Offset != clock.Ticks(100).Seconds() {
		t.Fatalf("posted TS %d: got %s, want segment %d at 100 ticks", ts, body, after.Seq)
	}
	if want := (after.FirstPTS + 100).Seconds(); got.Time != want {
		t.Errorf("time %v, want %v on the unwrapped timeline", got.Time, want)
	}
	var all struct{ Markers []markerView }
	getJSON(t, s.URL+"/api/streams/demo/markers", &all)
	for _, m := range all.Markers {
		if m.PTS < 0 || m.PTS >= int64(clock.Wrap) {
			t.Errorf("marker %d shows pts %d, not a 33-bit TS timestamp", m.ID, m.PTS)
		}
	}
}

func TestListMarkersQuery(t *testing.T) {
	s := newMarkerServer(t, "")
	var all struct{ Markers []markerView }
	if code := getJSON(t, s.URL+"/api/streams/demo/markers", &all); code != http.StatusOK || len(all.Markers) < 3 {
		t.Fatalf("list: %d, %d markers; want at least 3", code, len(all.Markers))
	}
	var page struct{ Markers []markerView }
	getJSON(t, s.URL+"/api/streams/demo/markers?after="+strconv.FormatUint(uint64(all.Markers[0].ID), 10)+"&limit=1", &page)
	if len(page.Markers) != 1 || page.Markers[0].ID != all.Markers[1].ID {
		t.Fatalf("after=%d&limit=1 gave %+v, want marker %d", all.Markers[0].ID, page.Markers, all.Markers[1].ID)
	}
	for _, c := range []struct {
		query string
		code  int
	}{
		{"?limit=0", 400}, {"?limit=1001", 400}, {"?limit=-1", 400}, {"?limit=NaN", 400},
		{"?limit=99999999999999999999999", 400}, {"?after=-5", 400}, {"?after=1.5", 400}, {"?after=1&after=2", 400},
		{"?limit=1000", 200},
	} {
		if code := getJSON(t, s.URL+"/api/streams/demo/markers"+c.query, nil); code != c.code {
			t.Errorf("%s: status %d, want %d", c.query, code, c.code)
		}
	}
	for path, want := range map[string]int{
		"/api/streams/demo/markers/999":    404,
		"/api/streams/demo/markers/abc":    400,
		"/api/streams/demo/markers/0":      400,
		"/api/streams/nope/markers":        404,
		"/api/streams/nope/markers/1":      404,
		"/api/streams/nope/markers/events": 404,
	} {
		if code := getJSON(t, s.URL+path, nil); code != want {
			t.Errorf("GET %s: %d, want %d", path, code, want)
		}
	}
	var streams struct {
		Streams []streamView
	}
	if getJSON(t, s.URL+"/api/streams", &streams); len(streams.Streams) != 1 || streams.Streams[0].Name != "demo" || streams.Streams[0].Segments == 0 {
		t.Fatalf("streams: %+v", streams)
	}
}

// sseEventRead is one event read from an event stream.
type sseEventRead struct {
	id, kind string
	marker   markerView
}

// readEvents reads n events from an SSE response.
func readEvents(t *testing.T, body *bufio.Reader, n int) []sseEventRead {
	t.Helper()
	var out []sseEventRead
	var cur sseEventRead
	for len(out) < n {
		line, err := body.ReadString('\n')
		if err != nil {
			t.Fatalf("after %d events: %v", len(out), err)
		}
		line = strings.TrimRight(line, "\n")
		switch {
		case strings.HasPrefix(line, "id: "):
			cur.id = strings.TrimPrefix(line, "id: ")
		case strings.HasPrefix(line, "event: "):
			cur.kind = strings.TrimPrefix(line, "event: ")
		case strings.HasPrefix(line, "data: "):
			if err := json.Unmarshal([]byte(strings.TrimPrefix(line, "data: ")), &cur.marker); err != nil {
				t.Fatal(err)
			}
		case line == "" && cur.id != "":
			out = append(out, cur)
			cur = sseEventRead{}
		}
	}
	return out
}

func subscribe(t *testing.T, url, lastID string) (*http.Response, *bufio.Reader) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if lastID != "" {
		req.Header.Set("Last-Event-ID", lastID)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("events: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	return resp, bufio.NewReader(resp.Body)
}

// TestMarkerEventsResume posts markers while a client listens, posts more
// while it is away, and checks that reconnecting with Last-Event-ID
// delivers exactly the ones it missed.
func TestMarkerEventsResume(t *testing.T) {
	s := newMarkerServer(t, "")
	url := s.URL + "/api/streams/demo/markers/events"
	pts := s.run.Playlist.Segments()[0].FirstPTS
	postN := func(label string, n int) {
		for i := range n {
			if resp, body := s.post(t, `{"label":"`+label+strconv.Itoa(i)+`","pts":`+strconv.FormatInt(int64(pts)+int64(i), 10)+`}`, nil); resp.StatusCode != http.StatusCreated {
				t.Fatalf("post: %d %s", resp.StatusCode, body)
			}
		}
	}

	resp, r := subscribe(t, url, "")
	postN("live", 2)
	live := readEvents(t, r, 2)
	resp.Body.Close()
	for i, e := range live {
		if e.kind != "created" || e.marker.Label != "live"+strconv.Itoa(i) {
			t.Fatalf("live event %d: %+v", i, e)
		}
	}

	postN("missed", 3)
	resp, r = subscribe(t, url, live[1].id)
	defer resp.Body.Close()
	missed := readEvents(t, r, 3)
	for i, e := range missed {
		if e.kind != "created" || e.marker.Label != "missed"+strconv.Itoa(i) {
			t.Fatalf("resumed event %d: %+v, want missed%d", i, e, i)
		}
	}
	if code := getJSON(t, url+"?last_event_id=x", nil); code != http.StatusBadRequest {
		t.Errorf("bad last_event_id: %d, want 400", code)
	}
}

// FuzzMarkerRequest feeds arbitrary bodies to the POST decoder: it must
// never panic, and whatever it accepts must be a valid marker.
func FuzzMarkerRequest(f *testing.F) {
	for _, c := range casesBadMarker {
		f.Add([]byte(c.body))
	}
	f.Add([]byte(`{"label":"ok","pts":12345,"duration":2.5,"data":{"a":[1,2]}}`))
	f.Add([]byte(`{"label":"ok","time":"2026-11-24T10:00:01.5Z"}`))
	tl := clock.Timeline{Epoch: pipelinetest.Epoch}
	f.Fuzz(func(t *testing.T, body []byte) {
		m, byPTS, err := decodeMarkerRequest(body, tl, DefaultLimits())
		if err != nil {
			if !strings.Contains(err.Error(), ":") {
				t.Fatalf("error %q names no field", err)
			}
			return
		}
		if m.Label == "" || len([]rune(m.Label)) > maxLabel || m.PTS < 0 || (byPTS && m.PTS >= clock.Wrap) || m.Duration < 0 {
			t.Fatalf("accepted an invalid marker %+v from %q", m, body)
		}
		if m.Data != nil && !json.Valid(m.Data) {
			t.Fatalf("accepted invalid data %q", m.Data)
		}
	})
}
