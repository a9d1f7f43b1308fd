//go:build cgo

package server

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/hlsmark/hlsmark/marker"
	"github.com/hlsmark/hlsmark/pipeline/pipelinetest"
)

// send sends a request with a JSON body (none if body is empty) and the
// bearer token (none if token is empty), and reads the whole answer.
func (s *markerServer) send(t *testing.T, method, path, body, token string) (*http.Response, []byte) {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, s.URL+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, b
}

// postAt posts a marker at pts and returns it as answered.
func (s *markerServer) postAt(t *testing.T, label string, pts int64, token string) markerView {
	t.Helper()
	resp, body := s.send(t, http.MethodPost, "/api/streams/demo/markers",
		`{"label":"`+label+`","pts":`+strconv.FormatInt(pts, 10)+`,"data":{"a":1}}`, token)
	var v markerView
	if resp.StatusCode != http.StatusCreated || json.Unmarshal(body, &v) != nil {
		t.Fatalf("post %s: %d %s", label, resp.StatusCode, body)
	}
	return v
}

// stored returns a marker as the store holds it.
func (s *markerServer) stored(t *testing.T, id marker.ID) marker.Marker {
	t.Helper()
	m, err := s.run.Store.Get(context.Background(), pipelinetest.Stream, id)
	if err != nil {
		t.Fatalf("marker %d: %v", id, err)
	}
	return m
}

func markerPath(id marker.ID) string {
	return "/api/streams/demo/markers/" + strconv.FormatUint(uint64(id), 10)
}

// checkNamed requires a 4xx JSON error whose message starts with field.
func checkNamed(t *testing.T, what string, resp *http.Response, body []byte, status int, field string) {
	t.Helper()
	var e struct{ Error string }
	if resp.StatusCode != status || json.Unmarshal(body, &e) != nil || !strings.HasPrefix(e.Error, field+":") {
		t.Errorf("%s: %d %s; want %d naming %s", what, resp.StatusCode, body, status, field)
	}
}

// casesBadPatch are PATCH bodies refused with 400 naming the field.
var casesBadPatch = []struct{ name, body, field string }{
	{"empty object", `{}`, "body"},
	{"invalid JSON", `{"label":`, "body"},
	{"two objects", `{"label":"x"}{}`, "body"},
	{"unknown field", `{"labels":"x"}`, "labels"},
	{"pts cannot move", `{"pts":5}`, "pts"},
	{"empty label", `{"label":"  "}`, "label"},
	{"null label", `{"label":null}`, "label"},
	{"label not a string", `{"label":5}`, "label"},
	{"label with a control character", `{"label":"a\u0007b"}`, "label"},
	{"negative duration", `{"duration":-1}`, "duration"},
	{"duration as a string", `{"duration":"2"}`, "duration"},
	{"duration over a day", `{"duration":86401}`, "duration"},
	{"data an array", `{"data":[1]}`, "data"},
	{"data a string", `{"data":"x"}`, "data"},
}

// TestEditMarker edits a posted marker's label, data and duration, clears
// them, edits a detector marker's label, and deletes; each edit is a new
// revision. Bad bodies, a missing token, unknown or other streams' IDs are
// refused and change nothing.
func TestEditMarker(t *testing.T) {
	const token = "s3cret"
	s := newMarkerServer(t, token)
	pts := int64(s.run.Playlist.Segments()[1].FirstPTS + 1000)
	posted := s.postAt(t, "before", pts, token)
	path := markerPath(posted.ID)
	was := s.stored(t, posted.ID)

	resp, body := s.send(t, http.MethodPatch, path, `{"label":" after ","data":{"b":[2]},"duration":1.25}`, token)
	var got markerView
	if resp.StatusCode != http.StatusOK || json.Unmarshal(body, &got) != nil {
		t.Fatalf("patch: %d %s", resp.StatusCode, body)
	}
	if got.ID != posted.ID || got.Label != "after" || string(got.Data) != `{"b":[2]}` || got.Duration == nil || *got.Duration != 1.25 ||
		got.PTS != posted.PTS || got.Sequence == nil || *got.Sequence != *posted.Sequence {
		t.Fatalf("patched %s; want label after, data {\"b\":[2]}, duration 1.25, same place", body)
	}
	var again markerView
	if getJSON(t, s.URL+path, &again); again.Label != "after" || *again.Duration != 1.25 || string(again.Data) != `{"b":[2]}` {
		t.Fatalf("GET after patch: %+v", again)
	}
	edited := s.stored(t, posted.ID)
	if edited.Rev <= was.Rev {
		t.Fatalf("revision %d after the edit, %d before: want it to rise", edited.Rev, was.Rev)
	}

	resp, body = s.send(t, http.MethodPatch, path, `{"duration":null,"data":null}`, token)
	if json.Unmarshal(body, &got); resp.StatusCode != http.StatusOK || got.Duration != nil || string(got.Data) != "{}" || got.Label != "after" {
		t.Fatalf("clearing duration and data: %d %s", resp.StatusCode, body)
	}
	cleared := s.stored(t, posted.ID)

	for _, c := range casesBadPatch {
		resp, body := s.send(t, http.MethodPatch, path, c.body, token)
		checkNamed(t, c.name, resp, body, http.StatusBadRequest, c.field)
	}
	resp, body = s.send(t, http.MethodPatch, "/api/streams/demo/markers/abc", `{"label":"x"}`, token)
	checkNamed(t, "id abc", resp, body, http.StatusBadRequest, "id")
	resp, _ = s.send(t, http.MethodPatch, path, `{"label":"no token"}`, "")
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("PATCH without the token: %d, want 401", resp.StatusCode)
	}
	resp, _ = s.send(t, http.MethodDelete, path, "", "wrong")
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("DELETE with a wrong token: %d, want 401", resp.StatusCode)
	}
	req, _ := http.NewRequest(http.MethodPatch, s.URL+path, strings.NewReader(`{"label":"x"}`))
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "text/plain")
	if r, err := http.DefaultClient.Do(req); err != nil || r.StatusCode != http.StatusUnsupportedMediaType {
		t.Errorf("PATCH as text/plain: %v %v, want 415", r, err)
	}
	if m := s.stored(t, posted.ID); m.Rev != cleared.Rev || m.Label != "after" {
		t.Fatalf("a refused request changed the marker: %+v", m)
	}

	// A marker of another stream in the same store: its ID is not this
	// stream's.
	ctx := context.Background()
	var other marker.Marker
	for other.ID <= posted.ID+10 {
		var err error
		if other, err = s.run.Store.Add(ctx, "other", marker.Marker{Label: "elsewhere", Source: marker.FromAPI}); err != nil {
			t.Fatal(err)
		}
	}
	for _, id := range []marker.ID{other.ID, 999999} {
		resp, body := s.send(t, http.MethodPatch, markerPath(id), `{"label":"x"}`, token)
		checkJSONErrorStatus(t, "PATCH "+markerPath(id), resp, body, http.StatusNotFound)
		resp, body = s.send(t, http.MethodDelete, markerPath(id), "", token)
		checkJSONErrorStatus(t, "DELETE "+markerPath(id), resp, body, http.StatusNotFound)
	}
	if m, err := s.run.Store.Get(ctx, "other", other.ID); err != nil || m.Label != "elsewhere" {
		t.Fatalf("the other stream's marker: %+v, %v", m, err)
	}

	det := firstDetectorMarker(t, s)
	resp, body = s.send(t, http.MethodPatch, markerPath(det.ID), `{"label":"seen","data":{"note":"checked"}}`, token)
	if json.Unmarshal(body, &got); resp.StatusCode != http.StatusOK || got.Label != "seen" || string(got.Data) != `{"note":"checked"}` || *got.Duration != *det.Duration {
		t.Fatalf("editing a detector marker's label and data: %d %s", resp.StatusCode, body)
	}
	resp, body = s.send(t, http.MethodPatch, markerPath(det.ID), `{"duration":9}`, token)
	checkNamed(t, "a detector marker's duration", resp, body, http.StatusBadRequest, "duration")

	resp, body = s.send(t, http.MethodDelete, path, "", token)
	if resp.StatusCode != http.StatusNoContent || len(body) != 0 {
		t.Fatalf("DELETE: %d %s", resp.StatusCode, body)
	}
	if code := getJSON(t, s.URL+path, nil); code != http.StatusNotFound {
		t.Errorf("GET of the deleted marker: %d, want 404", code)
	}
	var list struct{ Markers []markerView }
	getJSON(t, s.URL+"/api/streams/demo/markers?limit=1000", &list)
	for _, m := range list.Markers {
		if m.ID == posted.ID {
			t.Errorf("the deleted marker is listed: %+v", m)
		}
	}
	for _, method := range []string{http.MethodDelete, http.MethodPatch} {
		resp, body := s.send(t, method, path, `{"label":"x"}`, token)
		checkJSONErrorStatus(t, method+" of the deleted marker", resp, body, http.StatusNotFound)
	}
	// Three edits went through (label, data and duration; the clearing;
	// the detector marker's label) and one deletion.
	for name, want := range map[string]float64{"hlsmark_markers_edited_total": 3, "hlsmark_markers_deleted_total": 1} {
		if got := streamCounter(t, s, name); got != want {
			t.Errorf("%s{stream=demo} = %v, want %v", name, got, want)
		}
	}
}

// streamCounter reads the demo stream's counter name from its metrics.
func streamCounter(t *testing.T, s *markerServer, name string) float64 {
	t.Helper()
	families, err := s.run.Stream.Metrics().Registry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "stream" && l.GetValue() == pipelinetest.Stream {
					return m.GetCounter().GetValue()
				}
			}
		}
	}
	t.Fatalf("no %s{stream=%s}", name, pipelinetest.Stream)
	return 0
}

// checkJSONErrorStatus requires a JSON error answer with the given status.
func checkJSONErrorStatus(t *testing.T, what string, resp *http.Response, body []byte, status int) {
	t.Helper()
	var e struct{ Error string }
	if resp.StatusCode != status || json.Unmarshal(body, &e) != nil || e.Error == "" {
		t.Errorf("%s: %d %s; want %d with a JSON error", what, resp.StatusCode, body, status)
	}
}

// firstDetectorMarker returns the first detector marker with a duration.
func firstDetectorMarker(t *testing.T, s *markerServer) markerView {
	t.Helper()
	var list struct{ Markers []markerView }
	getJSON(t, s.URL+"/api/streams/demo/markers?source=detector", &list)
	for _, m := range list.Markers {
		if m.Source == marker.FromDetector && m.Duration != nil {
			return m
		}
	}
	t.Fatalf("no closed detector marker in %+v", list.Markers)
	return markerView{}
}

// TestMarkerEventsEditDelete follows a marker's creation, edit and
// deletion as events, live and when resuming: live, in order, created,
// updated (with the new label), deleted (with its id); resuming from
// before the edit or between the edit and the deletion, the marker comes
// once, deleted, before a marker posted after it.
func TestMarkerEventsEditDelete(t *testing.T) {
	s := newMarkerServer(t, "")
	url := s.URL + "/api/streams/demo/markers/events"
	pts := int64(s.run.Playlist.Segments()[0].FirstPTS + 77)

	resp, r := subscribe(t, url, "")
	defer resp.Body.Close()
	m := s.postAt(t, "fleeting", pts, "")
	created := readEvents(t, r, 1)[0]
	if res, body := s.send(t, http.MethodPatch, markerPath(m.ID), `{"label":"renamed"}`, ""); res.StatusCode != http.StatusOK {
		t.Fatalf("patch: %d %s", res.StatusCode, body)
	}
	updated := readEvents(t, r, 1)[0]
	if res, body := s.send(t, http.MethodDelete, markerPath(m.ID), "", ""); res.StatusCode != http.StatusNoContent {
		t.Fatalf("delete: %d %s", res.StatusCode, body)
	}
	deleted := readEvents(t, r, 1)[0]
	for i, c := range []struct {
		e     sseEventRead
		kind  string
		label string
	}{{created, "created", "fleeting"}, {updated, "updated", "renamed"}, {deleted, "deleted", "renamed"}} {
		if c.e.kind != c.kind || c.e.marker.ID != m.ID || c.e.marker.Label != c.label {
			t.Errorf("live event %d: %s %+v; want %s of marker %d labelled %s", i, c.e.kind, c.e.marker, c.kind, m.ID, c.label)
		}
	}
	if !(num(t, created.id) < num(t, updated.id) && num(t, updated.id) < num(t, deleted.id)) {
		t.Errorf("event ids %s, %s, %s do not rise", created.id, updated.id, deleted.id)
	}

	after := s.postAt(t, "after", pts+1, "")
	for _, from := range []string{created.id, updated.id} {
		resp, r := subscribe(t, url, from)
		got := readEvents(t, r, 2)
		resp.Body.Close()
		if got[0].kind != "deleted" || got[0].marker.ID != m.ID || got[0].id != deleted.id ||
			got[1].kind != "created" || got[1].marker.ID != after.ID {
			t.Errorf("resuming from %s: %s %d (id %s), %s %d; want deleted %d (id %s), created %d",
				from, got[0].kind, got[0].marker.ID, got[0].id, got[1].kind, got[1].marker.ID, m.ID, deleted.id, after.ID)
		}
	}
}

func num(t *testing.T, s string) uint64 {
	t.Helper()
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		t.Fatalf("event id %q: %v", s, err)
	}
	return n
}

// servedPlaylist returns the playlist as served, once everything set so
// far is written.
func servedPlaylist(t *testing.T, s *markerServer) []byte {
	t.Helper()
	if err := s.run.Playlist.Flush(); err != nil {
		t.Fatal(err)
	}
	resp, body := s.send(t, http.MethodGet, "/streams/demo/index.m3u8", "", "")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("playlist: %d", resp.StatusCode)
	}
	return body
}

// rangeLines returns the EXT-X-DATERANGE lines of marker id.
func rangeLines(playlist []byte, id marker.ID) []string {
	var out []string
	for _, l := range strings.Split(string(playlist), "\n") {
		if strings.HasPrefix(l, "#EXT-X-DATERANGE:") && strings.Contains(l, `ID="marker-`+strconv.FormatUint(uint64(id), 10)+`"`) {
			out = append(out, l)
		}
	}
	return out
}

// TestServedDateRangeStaysAfterEdit edits and deletes a posted marker and
// a detector marker, reading the playlist after each change: a served
// EXT-X-DATERANGE line never changes nor goes (RFC 8216, section 6.2.1);
// the playlist only grows, and only by the tag adding the posted marker's
// duration, with its label as first served.
func TestServedDateRangeStaysAfterEdit(t *testing.T) {
	s := newMarkerServer(t, "")
	posted := s.postAt(t, "first words", int64(s.run.Playlist.Segments()[1].FirstPTS+4321), "")
	det := firstDetectorMarker(t, s)
	served := servedPlaylist(t, s)
	lines := map[marker.ID][]string{posted.ID: rangeLines(served, posted.ID), det.ID: rangeLines(served, det.ID)}
	if len(lines[posted.ID]) != 1 || strings.Contains(lines[posted.ID][0], "DURATION") || len(lines[det.ID]) == 0 {
		t.Fatalf("served tags: %v; want one without DURATION for marker %d and the detector marker %d's", lines, posted.ID, det.ID)
	}
	for _, step := range []struct {
		method string
		id     marker.ID
		body   string
		grows  bool // by the tag that adds DURATION
	}{
		{http.MethodPatch, posted.ID, `{"label":"second thoughts","data":{"k":"v"}}`, false},
		{http.MethodPatch, det.ID, `{"label":"seen"}`, false},
		{http.MethodPatch, posted.ID, `{"duration":2.5}`, true},
		{http.MethodPatch, posted.ID, `{"duration":4}`, false},
		{http.MethodDelete, det.ID, "", false},
		{http.MethodDelete, posted.ID, "", false},
	} {
		what := step.method + " " + markerPath(step.id) + " " + step.body
		if resp, body := s.send(t, step.method, markerPath(step.id), step.body, ""); resp.StatusCode >= 300 {
			t.Fatalf("%s: %d %s", what, resp.StatusCode, body)
		}
		now := servedPlaylist(t, s)
		if !bytes.HasPrefix(now, served) {
			t.Fatalf("%s changed the playlist other than by appending:\n%s\n--- before ---\n%s", what, now, served)
		}
		added := strings.TrimSuffix(string(now[len(served):]), "\n")
		switch {
		case !step.grows && added != "":
			t.Fatalf("%s appended %q; want nothing", what, added)
		case step.grows && (strings.Contains(added, "\n") ||
			added != strings.Replace(lines[posted.ID][0], `",X-LABEL=`, `",DURATION=2.5,X-LABEL=`, 1)):
			t.Fatalf("%s appended %q; want %q with DURATION=2.5", what, added, lines[posted.ID][0])
		}
		for id, ls := range lines {
			for _, l := range ls {
				if !bytes.Contains(now, []byte(l+"\n")) {
					t.Fatalf("%s: marker %d's served line %q is gone", what, id, l)
				}
			}
		}
		if bytes.Contains(now, []byte("second thoughts")) || bytes.Contains(now, []byte(`"seen"`)) {
			t.Fatalf("%s: an edited label is in the playlist:\n%s", what, now)
		}
		served = now
	}
}
