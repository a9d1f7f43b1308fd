package cluster

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// casesAccessLog are lines as nginx writes them in the format cache of
// nginx.conf.in, and what each request cost the edges.
var casesAccessLog = []struct {
	name    string
	line    string
	uri     string
	fetches int
}{
	{"from the cache", `2026-12-01T05:18:44+00:00 200 HIT "-" "/streams/demo/1.ts" 41172 0.000`, "/streams/demo/1.ts", 0},
	{"a miss", `2026-12-01T05:18:44+00:00 200 MISS "127.0.0.1:24081" "/streams/demo/1.ts" 41172 0.003`, "/streams/demo/1.ts", 1},
	{"a second edge tried", `2026-12-01T05:18:44+00:00 200 MISS "127.0.0.1:24081, 127.0.0.1:24082" "/streams/demo/2.ts" 41172 0.010`, "/streams/demo/2.ts", 2},
	{"no cache asked", `2026-12-01T05:18:44+00:00 200 - "127.0.0.1:24082" "/api/streams/demo/markers?limit=100" 2 0.001`, "/api/streams/demo/markers?limit=100", 1},
}

func TestReadAccessLog(t *testing.T) {
	path := filepath.Join(t.TempDir(), "access.log")
	var log string
	for _, c := range casesAccessLog {
		log += c.line + "\n"
	}
	if err := os.WriteFile(path, []byte(log), 0o644); err != nil {
		t.Fatal(err)
	}
	reqs, err := ReadAccessLog(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(reqs) != len(casesAccessLog) {
		t.Fatalf("%d requests; want %d", len(reqs), len(casesAccessLog))
	}
	for i, c := range casesAccessLog {
		t.Run(c.name, func(t *testing.T) {
			if reqs[i].URI != c.uri || reqs[i].Status != 200 || reqs[i].OriginFetches() != c.fetches {
				t.Errorf("%+v: want %s, 200, %d fetches from edges", reqs[i], c.uri, c.fetches)
			}
		})
	}
	want := map[string]int{"/streams/demo/1.ts": 1, "/streams/demo/2.ts": 2}
	if got := OriginFetches(reqs, ".ts"); !reflect.DeepEqual(got, want) {
		t.Errorf("OriginFetches: %v; want %v", got, want)
	}
}

// TestReadAccessLogRefuses a line in another format, naming the line.
func TestReadAccessLogRefuses(t *testing.T) {
	path := filepath.Join(t.TempDir(), "access.log")
	if err := os.WriteFile(path, []byte(casesAccessLog[0].line+"\n127.0.0.1 - - [01/Dec/2026] \"GET / HTTP/1.1\" 200 2\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadAccessLog(path); err == nil || !strings.Contains(err.Error(), "access.log:2") {
		t.Errorf("ReadAccessLog of a combined-format line: %v; want an error naming access.log:2", err)
	}
}
