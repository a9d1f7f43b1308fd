package main

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/grafov/m3u8"

	"github.com/hlsmark/hlsmark/marker"
	"github.com/hlsmark/hlsmark/muxer/segread"
	"github.com/hlsmark/hlsmark/playlist"
)

// childServer is a running `hlsmark serve` child process.
type childServer struct {
	cmd  *exec.Cmd
	base string
	log  *bytes.Buffer
	// stream is the stream playlist, markers and post read and write:
	// "demo", the default, when empty.
	stream string
}

// on returns s reading and writing the stream called name.
func (s *childServer) on(name string) *childServer {
	c := *s
	c.stream = name
	return &c
}

// name returns the name of the stream s reads and writes.
func (s *childServer) name() string { return cmp.Or(s.stream, "demo") }

func freeAddr(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// fastStream are serve flags for a small, quick stream with fixed events.
var fastStream = []string{"--size", "320x240", "--segment", "1s", "--window", "1m",
	"--preset", "ultrafast", "--event-fixed", "--event-every", "2s", "--event-duration", "500ms"}

// startServer starts `hlsmark serve` with fastStream and then extra flags
// (a flag given twice takes its last value).
func startServer(t testing.TB, data, addr string, extra ...string) *childServer {
	t.Helper()
	return startServerUnder(t, nil, data, addr, extra...)
}

// startServerUnder is startServer with the command run by wrapper (a
// command and its arguments, the server's command line appended), if set.
func startServerUnder(t testing.TB, wrapper []string, data, addr string, extra ...string) *childServer {
	t.Helper()
	return startServerReading(t, wrapper, nil, data, addr, extra...)
}

// startServerReading is startServerUnder with the server's standard input
// read from stdin (nil: none).
func startServerReading(t testing.TB, wrapper []string, stdin io.Reader, data, addr string, extra ...string) *childServer {
	t.Helper()
	args := append(append([]string{cliBinary(t), "serve", "--addr", addr, "--data", data}, fastStream...), extra...)
	return startChild(t, stdin, addr, append(wrapper, args...))
}

// startChild starts the command args (hlsmark serving on addr, or a
// wrapper running it) reading stdin (nil: none), and kills it at the end
// of the test if it is still running.
func startChild(t testing.TB, stdin io.Reader, addr string, args []string) *childServer {
	t.Helper()
	s := &childServer{base: "http://" + addr, log: &bytes.Buffer{}}
	s.cmd = exec.Command(args[0], args[1:]...)
	s.cmd.Stderr, s.cmd.Stdin = s.log, stdin
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if s.cmd.ProcessState == nil {
			_ = s.cmd.Process.Kill()
			_ = s.cmd.Wait()
		}
	})
	return s
}

func (s *childServer) stop(t testing.TB, sig syscall.Signal) {
	t.Helper()
	_ = s.cmd.Process.Signal(sig)
	err := s.cmd.Wait()
	if sig == syscall.SIGTERM && err != nil {
		t.Fatalf("serve after SIGTERM: %v\n%s", err, s.log)
	}
}

// pollUntil polls cond until it holds or the deadline passes.
func pollUntil(t testing.TB, what string, timeout time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func (s *childServer) get(path string) (int, []byte) {
	resp, err := http.Get(s.base + path)
	if err != nil {
		return 0, nil
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil { // cut off, as by a kill: no answer
		return 0, nil
	}
	return resp.StatusCode, b
}

// playlist fetches the live playlist: nil if the server does not serve it
// (yet), an error if what it serves does not parse. It may be called from
// any goroutine.
func (s *childServer) playlist() (*m3u8.MediaPlaylist, error) {
	code, b := s.get("/streams/" + s.name() + "/index.m3u8")
	if code != http.StatusOK {
		return nil, nil
	}
	pl, _, err := m3u8.DecodeFrom(bytes.NewReader(b), true)
	if err != nil {
		return nil, fmt.Errorf("playlist does not parse: %w\n%s", err, b)
	}
	return pl.(*m3u8.MediaPlaylist), nil
}

// mustPlaylist is playlist for the test's goroutine: a playlist that does
// not parse fails the test.
func (s *childServer) mustPlaylist(t testing.TB) *m3u8.MediaPlaylist {
	t.Helper()
	pl, err := s.playlist()
	if err != nil {
		t.Fatal(err)
	}
	return pl
}

type apiMarker struct {
	ID              int64   `json:"id"`
	Label           string  `json:"label"`
	PTS             int64   `json:"pts"`
	Sequence        *uint64 `json:"sequence"`
	Offset          *float64
	Part            *int   `json:"part"`
	ProgramDateTime string `json:"program_date_time"`
}

func (s *childServer) markers(t *testing.T) []apiMarker {
	code, b := s.get("/api/streams/" + s.name() + "/markers?limit=1000")
	if code != http.StatusOK {
		return nil
	}
	var out struct{ Markers []apiMarker }
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return out.Markers
}

func (s *childServer) postMarker(label string, pts int64) (int, apiMarker) {
	return s.post(fmt.Sprintf(`{"label":%q,"pts":%d}`, label, pts))
}

func (s *childServer) post(body string) (int, apiMarker) {
	resp, err := http.Post(s.base+"/api/streams/"+s.name()+"/markers", "application/json", strings.NewReader(body))
	if err != nil {
		return 0, apiMarker{}
	}
	defer resp.Body.Close()
	var m apiMarker
	_ = json.NewDecoder(resp.Body).Decode(&m)
	return resp.StatusCode, m
}

func segments(pl *m3u8.MediaPlaylist) []*m3u8.MediaSegment {
	var out []*m3u8.MediaSegment
	for _, s := range pl.Segments {
		if s != nil {
			out = append(out, s)
		}
	}
	return out
}

// TestRestartResumesStream stops a server (gracefully, then by SIGKILL)
// and starts another on the same data folder: sequence numbers keep
// rising, the first new segment is a discontinuity, the old segments stay
// listed and served with the same program date times, and every marker is
// still there in the same place.
func TestRestartResumesStream(t *testing.T) {
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGKILL} {
		t.Run(sig.String(), func(t *testing.T) {
			data, addr := t.TempDir(), freeAddr(t)
			s := startServer(t, data, addr)
			pollUntil(t, "3 segments and a placed marker", 60*time.Second, func() bool {
				pl := s.mustPlaylist(t)
				ms := s.markers(t)
				return pl != nil && len(segments(pl)) >= 3 && len(ms) > 0 && ms[0].Sequence != nil
			})
			ms := s.markers(t)
			code, posted := s.postMarker("before restart", ms[0].PTS+1)
			if code != http.StatusCreated {
				t.Fatalf("post: %d", code)
			}
			beforeMarkers := s.markers(t)
			// A player's event stream is open while the server stops: a
			// graceful stop must still end at once, with exit code 0.
			events, err := http.Get(s.base + "/api/streams/demo/markers/events")
			if err != nil || events.StatusCode != http.StatusOK {
				t.Fatalf("events: %v %v", events, err)
			}
			defer events.Body.Close()
			s.stop(t, sig)
			// What the stopped server left on disk, including the segment
			// a graceful stop flushes.
			b, err := os.ReadFile(filepath.Join(data, "demo", playlist.FileName))
			if err != nil {
				t.Fatal(err)
			}
			pl, _, err := m3u8.DecodeFrom(bytes.NewReader(b), true)
			if err != nil {
				t.Fatal(err)
			}
			before := segments(pl.(*m3u8.MediaPlaylist))
			if ended := pl.(*m3u8.MediaPlaylist).Closed; ended != (sig == syscall.SIGTERM) {
				t.Errorf("playlist on disk after %v: ENDLIST %v", sig, ended)
			}

			s = startServer(t, data, addr)
			last := before[len(before)-1].SeqId
			var after []*m3u8.MediaSegment
			pollUntil(t, "a new segment after the restart", 60*time.Second, func() bool {
				pl := s.mustPlaylist(t)
				if pl == nil {
					return false
				}
				after = segments(pl)
				return after[len(after)-1].SeqId > last+1
			})
			old := map[uint64]*m3u8.MediaSegment{}
			for _, seg := range before {
				old[seg.SeqId] = seg
			}
			firstNew := true
			for i, seg := range after {
				if i > 0 && seg.SeqId != after[i-1].SeqId+1 {
					t.Fatalf("sequence numbers not consecutive: %d after %d", seg.SeqId, after[i-1].SeqId)
				}
				if o, ok := old[seg.SeqId]; ok {
					if !seg.ProgramDateTime.Equal(o.ProgramDateTime) || seg.URI != o.URI {
						t.Errorf("segment %d changed across the restart: %v %s, was %v %s", seg.SeqId, seg.ProgramDateTime, seg.URI, o.ProgramDateTime, o.URI)
					}
					if code, _ := s.get("/streams/demo/" + seg.URI); code != http.StatusOK {
						t.Errorf("old segment %s: %d after restart", seg.URI, code)
					}
					continue
				}
				if seg.SeqId <= last {
					t.Errorf("sequence number %d reused", seg.SeqId)
				}
				if firstNew != seg.Discontinuity {
					t.Errorf("segment %d: discontinuity %v, want %v (first new segment only)", seg.SeqId, seg.Discontinuity, firstNew)
				}
				if !seg.ProgramDateTime.After(o0(before).ProgramDateTime) {
					t.Errorf("new segment %d dated %v, before the old ones", seg.SeqId, seg.ProgramDateTime)
				}
				firstNew = false
			}
			if firstNew {
				t.Fatal("no new segment listed")
			}
			now := map[int64]apiMarker{}
			for _, m := range s.markers(t) {
				now[m.ID] = m
			}
			for _, m := range beforeMarkers {
				got, ok := now[m.ID]
				if !ok {
					t.Fatalf("marker %d lost across the restart", m.ID)
				}
				if got.PTS != m.PTS || got.Label != m.Label || got.ProgramDateTime != m.ProgramDateTime ||
					(m.Sequence != nil && (got.Sequence == nil || *got.Sequence != *m.Sequence)) {
					t.Errorf("marker %d moved: %+v, was %+v", m.ID, got, m)
				}
			}
			if _, ok := now[posted.ID]; !ok {
				t.Fatalf("posted marker %d lost", posted.ID)
			}
			s.stop(t, syscall.SIGTERM)
		})
	}
}

func o0(segs []*m3u8.MediaSegment) *m3u8.MediaSegment { return segs[0] }

// TestCrashAtRandomMoments kills a serving process with SIGKILL at random
// moments, many times, while markers are being posted. After each kill the
// data folder is checked cold: every segment the playlist lists exists and
// decodes to the end, the marker store opens, and every marker the server
// acknowledged (201) is in it.
func TestCrashAtRandomMoments(t *testing.T) {
	data, addr := t.TempDir(), freeAddr(t)
	rng := rand.New(rand.NewPCG(9, 9))
	acked := map[int64]bool{}
	for round := range 6 {
		s := startServer(t, data, addr)
		pollUntil(t, "the server to answer", 60*time.Second, func() bool { code, _ := s.get("/healthz"); return code == 200 })
		ctx, cancel := context.WithCancel(context.Background())
		var mu sync.Mutex
		done := make(chan error, 1)
		go func() { // post markers until the kill
			var err error
			defer func() { done <- err }()
			for i := 0; ctx.Err() == nil; i++ {
				var segs *m3u8.MediaPlaylist
				if segs, err = s.playlist(); err != nil {
					return
				}
				if segs == nil || len(segments(segs)) == 0 {
					time.Sleep(50 * time.Millisecond)
					continue
				}
				at := time.Now().Add(-300 * time.Millisecond).UTC().Format(time.RFC3339Nano)
				if code, m := s.post(`{"label":"crash ` + strconv.Itoa(round) + `","time":"` + at + `"}`); code == http.StatusCreated {
					mu.Lock()
					acked[m.ID] = true
					mu.Unlock()
				}
			}
		}()
		time.Sleep(time.Duration(500+rng.IntN(2500)) * time.Millisecond)
		_ = s.cmd.Process.Kill()
		_ = s.cmd.Wait()
		cancel()
		if err := <-done; err != nil {
			t.Fatalf("round %d, before the kill: %v", round, err)
		}
		checkDataFolder(t, data, acked)
	}
	if len(acked) == 0 {
		t.Fatal("no marker was acknowledged: the test exercised nothing")
	}
}

// checkDataFolder checks a stopped server's data folder.
func checkDataFolder(t *testing.T, data string, acked map[int64]bool) {
	t.Helper()
	dir := filepath.Join(data, "demo")
	if b, err := os.ReadFile(filepath.Join(dir, playlist.FileName)); err == nil {
		pl, _, err := m3u8.DecodeFrom(bytes.NewReader(b), true)
		if err != nil {
			t.Fatalf("playlist on disk does not parse: %v", err)
		}
		for _, seg := range segments(pl.(*m3u8.MediaPlaylist)) {
			if _, err := segread.Decode(filepath.Join(dir, seg.URI), func(segread.Frame) error { return nil }); err != nil {
				t.Fatalf("listed segment %s: %v", seg.URI, err)
			}
		}
	}
	store, err := marker.OpenBolt(filepath.Join(data, "markers.db"))
	if err != nil {
		t.Fatalf("store does not open after a kill: %v", err)
	}
	defer store.Close()
	ms, err := store.List(context.Background(), "demo", 0, 1<<20)
	if err != nil {
		t.Fatalf("store unreadable: %v", err)
	}
	have := map[int64]bool{}
	for _, m := range ms {
		have[int64(m.ID)] = true
	}
	for id := range acked {
		if !have[id] {
			t.Fatalf("acknowledged marker %d lost", id)
		}
	}
}
