//go:build cgo

package server_test

import (
	"fmt"
	"net/http"
	"strings"
	"time"
)

// hostileNumbers are values no integer parameter may take, as they appear
// in a URL (already %-encoded where they need it).
var hostileNumbers = []string{
	"18446744073709551615", "18446744073709551616", "99999999999999999999999999999", "-1", "-0", "%2B1",
	"NaN", "Inf", "-Inf", "1e999", "1.5", "1e3", "0x10", "0b1", "1_000", "", "%201", "1%00", "%EF%BC%91",
	"%ZZ", "1;limit=2", strings.Repeat("9", 3000),
}

// seedsHostile covers every route, by every method it takes and some it
// does not, with hostile values in each place a request carries one.
func seedsHostile(fx *hostileFixture) []hostileRequest {
	segs := fx.run.Playlist.Segments()
	seg := "/streams/demo/" + segs[0].Name()
	pts := fmt.Sprint(int64(segs[1].FirstPTS.TS()) + 1234)
	when := fx.run.Timeline.Time(segs[1].FirstPTS + 4321).Format(time.RFC3339Nano)
	bearer := "Bearer " + hostileToken
	get := func(target, query string) hostileRequest {
		return hostileRequest{method: http.MethodGet, target: target, query: query}
	}
	post := func(ct, auth, body string) hostileRequest {
		return hostileRequest{method: http.MethodPost, target: "/api/streams/demo/markers", contentType: ct, authorization: auth, body: []byte(body)}
	}
	var out []hostileRequest
	for _, target := range []string{
		"/", "/healthz", "/metrics", "/streams/demo", "/streams/demo/index.m3u8", seg, "/static/js/api.js", "/static/",
		"/api/openapi.json", "/api/streams", "/api/streams/demo/markers", "/api/streams/demo/markers/1",
		"/api/streams/demo/markers/events", "/api/streams/nope/markers", "/streams/nope/index.m3u8",
	} {
		for _, method := range []string{http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodDelete, http.MethodOptions, "PATCH", "TRACE"} {
			out = append(out, hostileRequest{method: method, target: target})
		}
	}
	for _, v := range hostileNumbers {
		out = append(out,
			get("/api/streams/demo/markers", "after="+v),
			get("/api/streams/demo/markers", "limit="+v),
			get("/api/streams/demo/markers/events", "last_event_id="+v),
			get("/api/streams/demo/markers/"+v, ""),
			get("/streams/demo/"+v+".ts", ""),
			hostileRequest{method: http.MethodGet, target: "/api/streams/demo/markers/events", lastEventID: v},
		)
	}
	out = append(out,
		get("/api/streams/demo/markers", "after=1&after=2"),
		get("/api/streams/demo/markers", "limit=1&limit=2&after=0"),
		get("/api/streams/demo/markers", "limit=0"),
		get("/api/streams/demo/markers", "limit=1001"),
		get("/api/streams/demo/markers", "limit=1000&after=1&colour=red"),
		get("/api/streams/demo/markers/events", "last_event_id=1&last_event_id=2"),
		get("/api/streams/demo/markers/events", "last_event_id=0"),
		get("/healthz", "after=-1&limit=NaN&last_event_id=1e999&x=1&x=2"),
		get("/streams/demo/index.m3u8", "limit=%ZZ"),
		get("/api/streams", strings.Repeat("a=1&", 500)),
	)
	for _, c := range casesTraversal {
		out = append(out, get(c.target, ""))
	}
	out = append(out,
		get("/streams/demo/"+strings.Repeat("%252e%252e%252f", 200)+"secret.txt", ""),
		get(`/streams/demo\..\..\secret.txt`, ""),
		get("/streams/demo/..%00/secret.txt", ""),
		get("/static/%2e%2e%5c%2e%2e%5csecret.txt", ""),
		get("/static/..%252f..%252fsecret.txt", ""),
		get("/api/streams/demo/markers/..%2f..%2f..%2fsecret.txt", ""),
		get("/api/streams/%2e%2e/markers", ""),
		get("/"+strings.Repeat("a/", 4000), ""),
	)
	for _, rng := range []string{"bytes=0-187", "bytes=-1", "bytes=99999999999999999999-", "bytes=5-1", "bytes=0-0,1-1,2-2,0-0", "bytes=-0", "items=0-1", "bytes=" + strings.Repeat("0-0,", 500)} {
		for _, target := range []string{seg, "/streams/demo/index.m3u8", "/static/js/api.js", "/api/openapi.json"} {
			out = append(out, hostileRequest{method: http.MethodGet, target: target, rng: rng})
		}
	}
	for _, body := range []string{
		`{"label":"ok","pts":` + pts + `,"duration":1.5,"data":{"who":"seed"}}`,
		`{"label":"by time","time":"` + when + `"}`,
		`{"label":"say \"hi\"\n#EXT-X-ENDLIST","pts":` + pts + `}`,
		`{"label":"x","pts":1e999}`, `{"label":"x","pts":NaN}`, `{"label":"x","pts":-1}`,
		`{"label":"x","pts":18446744073709551616}`, `{"label":"x","pts":` + pts + `,"duration":1e999}`,
		`{"label":"x","pts":` + pts + `,"duration":-0}`, `{"label":"x","time":"9999-12-31T23:59:59.999999999Z"}`,
		`{"label":"x","time":"0000-01-01T00:00:00Z"}`, `{"label":"","pts":1}`, `{"label":"\u0000","pts":1}`,
		`{"label":"x","pts":1}{"label":"y","pts":2}`, `[]`, `null`, ``, `{`, `{"label":"x","pts":` + pts + `,"data":[1]}`,
		`{"label":"` + strings.Repeat("é", 201) + `","pts":` + pts + `}`,
		`{"label":"x","pts":` + pts + `,"data":{"pad":"` + strings.Repeat("a", 70<<10) + `"}}`,
	} {
		out = append(out, post("application/json", bearer, body))
	}
	ok := `{"label":"ok","pts":` + pts + `}`
	for _, auth := range []string{"", "Bearer", "Bearer ", "bearer " + hostileToken, bearer + " ", "Basic " + hostileToken, strings.Repeat("Bearer ", 1000)} {
		out = append(out, post("application/json", auth, ok))
	}
	for _, ct := range []string{"", "text/plain", "application/json; charset=utf-8", "application/merge-patch+json", "application/json; charset", ";;;", strings.Repeat("a", 5000)} {
		out = append(out, post(ct, bearer, ok))
	}
	// Edits and deletions, with the token: hostile bodies, then hostile
	// IDs (none of which may reach marker 1), then one that deletes it.
	for _, body := range []string{
		`{"label":"edited","duration":2,"data":{"who":"seed"}}`, `{"duration":null,"data":null}`,
		`{}`, `{"pts":1}`, `{"label":null}`, `{"label":" "}`, `{"duration":1e999}`, `{"duration":-0}`,
		`{"data":[1]}`, `{"data":{"pad":"` + strings.Repeat("a", 70<<10) + `"}}`, `{"label":"x"}{}`, `null`, ``,
	} {
		out = append(out, hostileRequest{method: "PATCH", target: "/api/streams/demo/markers/1", contentType: "application/json", authorization: bearer, body: []byte(body)})
	}
	for _, v := range hostileNumbers {
		out = append(out,
			hostileRequest{method: "PATCH", target: "/api/streams/demo/markers/" + v, contentType: "application/json", authorization: bearer, body: []byte(`{"label":"x"}`)},
			hostileRequest{method: http.MethodDelete, target: "/api/streams/demo/markers/" + v, authorization: bearer},
			get("/api/streams/demo/markers", "from="+v+"&to=pts:"+v),
			get("/api/streams/demo/markers", "source="+v+"&label="+v),
		)
	}
	out = append(out,
		get("/api/streams/demo/markers", "from=pts:8589934591&to=pts:0&source=api"),
		get("/api/streams/demo/markers", "label=%E2%80%AE&from=0001-01-01T00:00:00Z&to=9999-12-31T23:59:59Z"),
		hostileRequest{method: http.MethodDelete, target: "/api/streams/demo/markers/1", authorization: bearer},
		hostileRequest{method: http.MethodDelete, target: "/api/streams/demo/markers/1", authorization: bearer},
	)
	out = append(out,
		hostileRequest{method: http.MethodOptions, target: "/api/streams/demo/markers", origin: hostileOrigin},
		hostileRequest{method: http.MethodGet, target: "/api/streams", origin: "https://evil.example"},
		hostileRequest{method: http.MethodPost, target: "/api/streams/demo/markers?after=-1", contentType: "application/json", authorization: bearer, origin: hostileOrigin, body: []byte(ok)},
	)
	return out
}
