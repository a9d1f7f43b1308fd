package main

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/hlsmark/hlsmark/marker"
	"github.com/hlsmark/hlsmark/marker/postgres"
	"github.com/hlsmark/hlsmark/marker/postgres/pgtest"
	"github.com/hlsmark/hlsmark/pipeline/clock"
)

// TestConfigFileMarkers reads the markers key of a config file, a
// server-wide setting like --markers; a bad URL is refused naming the
// line and key, and bolt names the default.
func TestConfigFileMarkers(t *testing.T) {
	path := writeConfig(t, "markers: postgres://hls:pw@db.example:5433/hlsmark\nstreams:\n  - name: cam\n")
	c, err := parseServe([]string{"--config", path}, noEnv)
	if err != nil || c.Markers != "postgres://hls:pw@db.example:5433/hlsmark" {
		t.Fatalf("markers %q, %v", c.Markers, err)
	}
	if c, err := parseServe([]string{"--config", path, "--markers", "bolt"}, noEnv); err != nil || c.Markers != "" {
		t.Errorf("--markers bolt over the file: markers %q, %v; want the bbolt file (empty)", c.Markers, err)
	}
	bad := writeConfig(t, "streams:\n  - name: cam\nmarkers: redis://cache\n")
	if _, err := parseServe([]string{"--config", bad}, noEnv); err == nil || !strings.Contains(err.Error(), ":3: key markers") {
		t.Errorf("a bad markers URL in the file: %v, want the line and key named", err)
	}
}

// TestMarkersDatabaseUnreachable starts serve with --markers naming a
// port nothing listens on: it fails at once (exit 1), saying so on one
// line that names the flag and the address (pgx tries twice, with TLS
// and without: both attempts on the line).
func TestMarkersDatabaseUnreachable(t *testing.T) {
	db := unusedAddr(t)
	r := runCLI(t, t.TempDir(), append([]string{"serve", "--addr", unusedAddr(t), "--data", t.TempDir(),
		"--markers", "postgres://hlsmark@" + db + "/hlsmark"}, fastStream...)...)
	if r.code != 1 || strings.Count(r.stderr, "\n") != 1 || !strings.Contains(r.stderr, "--markers") || !strings.Contains(r.stderr, db) {
		t.Fatalf("exit %d, stderr %q; want 1 and one line naming --markers and %s", r.code, r.stderr, db)
	}
}

// sseEvent is one Server-Sent Event as a client reads it, or a heartbeat
// (kind "ping", from a comment line).
type sseEvent struct {
	id, kind string
	marker   apiMarker
	at       time.Time // when its last line was read
}

// followEvents reads the event stream of s's stream on a goroutine,
// sending each marker event and heartbeat on the channel it returns,
// until the test ends.
func followEvents(t testing.TB, s *childServer) <-chan sseEvent {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, s.base+"/api/streams/"+s.name()+"/markers/events", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != http.StatusOK {
		cancel()
		t.Fatalf("events: %v %v", resp, err)
	}
	events := make(chan sseEvent, 100)
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer resp.Body.Close()
		var e sseEvent
		sc := bufio.NewScanner(resp.Body)
		for sc.Scan() {
			if strings.HasPrefix(sc.Text(), ":") {
				events <- sseEvent{kind: "ping"}
				continue
			}
			field, value, _ := strings.Cut(sc.Text(), ": ")
			switch field {
			case "id":
				e.id = value
			case "event":
				e.kind = value
			case "data":
				_ = json.Unmarshal([]byte(value), &e.marker)
			case "":
				if e.kind != "" {
					e.at = time.Now()
					events <- e
				}
				e = sseEvent{}
			}
		}
	}()
	t.Cleanup(func() {
		cancel()
		<-done
	})
	return events
}

// storedMarker is a marker as the test reads it from PostgreSQL.
type storedMarker struct {
	label, source string
}

// storedMarkers reads the live markers of stream demo from the database
// at url with SQL, by ID.
func storedMarkers(t *testing.T, url string) map[int64]storedMarker {
	t.Helper()
	conn, err := pgx.Connect(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	rows, err := conn.Query(context.Background(), "SELECT id, label, source FROM markers WHERE stream = 'demo' AND NOT deleted")
	if err != nil {
		t.Fatal(err)
	}
	out := map[int64]storedMarker{}
	for rows.Next() {
		var id int64
		var m storedMarker
		if err := rows.Scan(&id, &m.label, &m.source); err != nil {
			t.Fatal(err)
		}
		out[id] = m
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestServeKeepsMarkersInPostgres runs serve with --markers on a
// PostgreSQL the test starts: the detector's markers and a posted one are
// in the database (read with SQL), not in a bbolt file; a restart serves
// them all. Then, with the detector off, a marker written through a
// second store on the database (as another node writes) reaches an event
// stream open on the server, with its revision as the event id, before
// the stream's first heartbeat: the database's notification woke the
// subscriber, not the heartbeat's reading of the store.
func TestServeKeepsMarkersInPostgres(t *testing.T) {
	db := pgtest.Start(t)
	data, addr := t.TempDir(), freeAddr(t)
	s := startServer(t, data, addr, "--markers", db.URL)
	pollUntil(t, "3 segments and two placed detector markers", 60*time.Second, func() bool {
		pl := s.mustPlaylist(t)
		ms := s.markers(t)
		return pl != nil && len(segments(pl)) >= 3 && len(ms) >= 2 && ms[1].Sequence != nil
	})
	code, posted := s.postMarker("posted", s.markers(t)[0].PTS+1)
	if code != http.StatusCreated {
		t.Fatalf("post: %d", code)
	}
	served := s.markers(t)
	stored := storedMarkers(t, db.URL)
	detected := 0
	for _, m := range served {
		st, ok := stored[m.ID]
		if !ok || st.label != m.Label {
			t.Errorf("marker %d (%s) served, stored as %+v (%v)", m.ID, m.Label, st, ok)
		}
		if st.source == string(marker.FromDetector) {
			detected++
		}
	}
	if detected < 2 || stored[posted.ID] != (storedMarker{"posted", string(marker.FromAPI)}) {
		t.Fatalf("in PostgreSQL: %d detector markers, and the posted one as %+v; want 2 or more, and it", detected, stored[posted.ID])
	}
	if _, err := os.Stat(filepath.Join(data, "markers.db")); !os.IsNotExist(err) {
		t.Errorf("a bbolt marker file beside PostgreSQL's: %v", err)
	}
	s.stop(t, syscall.SIGTERM)

	s = startServer(t, data, addr, "--markers", db.URL, "--detect", "none")
	pollUntil(t, "the markers served after the restart", 60*time.Second, func() bool { return len(s.markers(t)) >= len(served) })
	after := map[int64]string{}
	for _, m := range s.markers(t) {
		after[m.ID] = m.Label
	}
	for _, m := range served {
		if after[m.ID] != m.Label {
			t.Errorf("marker %d (%s) after the restart: %q", m.ID, m.Label, after[m.ID])
		}
	}

	events := followEvents(t, s)
	node, err := postgres.Open(context.Background(), db.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer node.Close()
	other, err := node.Add(context.Background(), "demo", marker.Marker{Label: "from another node", PTS: clock.Ticks(served[0].PTS + 1), Source: marker.FromAPI, Created: time.Now().UTC()})
	if err != nil {
		t.Fatal(err)
	}
	select {
	case e := <-events:
		if e.kind == "ping" {
			t.Fatalf("a heartbeat came before the marker another node wrote: no notification woke the subscriber")
		}
		// The encoder places a marker written elsewhere as soon as it
		// learns of it, at a new revision: the event may come at that
		// one, coalesced, still "created" for this subscriber.
		rev, err := strconv.ParseUint(e.id, 10, 64)
		if e.kind != "created" || e.marker.ID != int64(other.ID) || e.marker.Label != other.Label || err != nil || rev < uint64(other.Rev) {
			t.Errorf("event %s %s %+v; want created, id %d or later, of marker %d", e.kind, e.id, e.marker, other.Rev, other.ID)
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("the marker written by another node reached no event stream\n%s", s.log)
	}
	s.stop(t, syscall.SIGTERM)
}
