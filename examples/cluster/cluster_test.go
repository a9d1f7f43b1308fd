package cluster_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
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

	"github.com/hlsmark/hlsmark/examples/cluster"
)

// viewers is how many clients fetch each new segment at once.
const viewers = 200

// TestCluster runs the example as its README says (the script run, with
// a freshly built hlsmark) and plays its stream through nginx: ffprobe
// reads frames through it; 200 clients fetching the same new segments at
// once get them all, and nginx's access log shows one request to an edge
// per segment (proxy_cache_lock); the owning encoder killed with SIGKILL,
// the standby takes the stream over and it plays on through nginx, its
// sequence numbers going on from the old owner's.
func TestCluster(t *testing.T) {
	ffprobe, err := exec.LookPath("ffprobe")
	if err != nil {
		t.Fatalf("ffprobe is needed (scripts/setup test installs it): %v", err)
	}
	c := startCluster(t)
	playlist := c.URL + "/streams/demo/index.m3u8"
	pollUntil(t, c, "3 segments listed through nginx", 60*time.Second, func() bool {
		pl, err := fetchPlaylist(playlist)
		return err == nil && len(pl.segs) >= 3
	})

	t.Run("ffprobe through nginx", func(t *testing.T) {
		probeFrames(t, ffprobe, playlist, 100)
	})

	t.Run("one origin fetch per segment", func(t *testing.T) {
		client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: viewers}, Timeout: 30 * time.Second}
		var fetched []string
		for range 3 {
			uri := nextSegment(t, c, playlist)
			fetched = append(fetched, uri)
			bodies := fetchAtOnce(client, c.URL+uri, viewers)
			for i, b := range bodies {
				if b.err != nil || len(b.body) == 0 || !bytes.Equal(b.body, bodies[0].body) {
					t.Fatalf("%s, client %d of %d: %v, %d bytes; want the %d bytes every client got", uri, i, viewers, b.err, len(b.body), len(bodies[0].body))
				}
			}
		}
		reqs, err := cluster.ReadAccessLog(c.AccessLog())
		if err != nil {
			t.Fatal(err)
		}
		origin := cluster.OriginFetches(reqs, ".ts")
		for _, uri := range fetched {
			served := 0
			for _, r := range reqs {
				if r.URI == uri {
					served++
					if r.Status != http.StatusOK {
						t.Errorf("%s: status %d in nginx's log; want 200", uri, r.Status)
					}
				}
			}
			if served != viewers || origin[uri] != 1 {
				t.Errorf("%s: nginx served it %d times with %d requests to an edge; want %d times with one", uri, served, origin[uri], viewers)
			}
		}
	})

	t.Run("takeover after kill -9 of the owner", func(t *testing.T) {
		owner, standby := encoders(t, c)
		before, err := fetchPlaylist(playlist)
		if err != nil {
			t.Fatal(err)
		}
		last := before.lastSeq()
		if err := syscall.Kill(owner.Pid, syscall.SIGKILL); err != nil {
			t.Fatalf("kill -9 %s (pid %d): %v", owner.Name, owner.Pid, err)
		}
		t.Logf("killed %s (pid %d), the owner; last sequence through nginx %d", owner.Name, owner.Pid, last)
		var after playlistView
		pollUntil(t, c, "two segments after the takeover through nginx", 60*time.Second, func() bool {
			pl, err := fetchPlaylist(playlist)
			if err == nil && len(pl.segs) >= 2 && pl.segs[0].SeqId > last {
				after = pl
				return true
			}
			return false
		})
		if !after.segs[0].Discontinuity {
			t.Errorf("the new owner's first segment %d is not marked EXT-X-DISCONTINUITY", after.segs[0].SeqId)
		}
		if state := streamState(t, standby); state != "live" {
			t.Errorf("%s, the standby, is %q after the takeover; want live", standby.Name, state)
		}
		probeFrames(t, ffprobe, playlist, 50)
		t.Logf("after the takeover: segments %d to %d through nginx", after.segs[0].SeqId, after.lastSeq())
	})
}

// binDir holds the hlsmark binary hlsmarkBinary built, removed by
// TestMain once every test has run.
var binDir string

func TestMain(m *testing.M) {
	code := m.Run()
	if binDir != "" {
		os.RemoveAll(binDir)
	}
	os.Exit(code)
}

// hlsmarkBinary builds hlsmark once for the test binary's run.
var hlsmarkBinary = sync.OnceValues(func() (string, error) {
	var err error
	if binDir, err = os.MkdirTemp("", "hlsmark-cluster-bin-"); err != nil {
		return "", err
	}
	bin := filepath.Join(binDir, "hlsmark")
	if out, err := exec.Command("go", "build", "-o", bin, "github.com/hlsmark/hlsmark/cmd/hlsmark").CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build: %v\n%s", err, out)
	}
	return bin, nil
})

// startCluster runs the script in a folder under /tmp (PostgreSQL and
// nginx's workers run as nobody when the test is root, and must reach it)
// and stops it when the test ends.
func startCluster(t *testing.T) *cluster.Cluster {
	t.Helper()
	bin, err := hlsmarkBinary()
	if err != nil {
		t.Fatal(err)
	}
	dir, err := os.MkdirTemp("", "hlsmark-cluster-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	port, err := cluster.FreePorts()
	if err != nil {
		t.Fatal(err)
	}
	c, err := cluster.Start("./run", bin, dir, port, 3*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := c.Stop(); err != nil {
			t.Error(err)
		}
	})
	return c
}

// pollUntil polls cond every 100 ms until it holds, failing the test
// past timeout with the script's output.
func pollUntil(t *testing.T, c *cluster.Cluster, what string, timeout time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("no %s within %s (logs in %s)\n%s", what, timeout, c.Dir, c.Stderr())
		}
		time.Sleep(100 * time.Millisecond) // polling a live stream, not a proof
	}
}

// playlistView is a media playlist as grafov/m3u8 reads it, its segments
// without the nil tail.
type playlistView struct {
	segs []*m3u8.MediaSegment
}

func (p playlistView) lastSeq() uint64 { return p.segs[len(p.segs)-1].SeqId }

func fetchPlaylist(url string) (playlistView, error) {
	resp, err := http.Get(url)
	if err != nil {
		return playlistView{}, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return playlistView{}, fmt.Errorf("%s: %s", url, resp.Status)
	}
	pl, kind, err := m3u8.DecodeFrom(resp.Body, true)
	if err != nil {
		return playlistView{}, fmt.Errorf("%s: %w", url, err)
	}
	media, ok := pl.(*m3u8.MediaPlaylist)
	if !ok || kind != m3u8.MEDIA {
		return playlistView{}, fmt.Errorf("%s: not a media playlist", url)
	}
	var v playlistView
	for _, s := range media.Segments {
		if s != nil {
			v.segs = append(v.segs, s)
		}
	}
	return v, nil
}

// nextSegment waits for the playlist to list a segment after those it
// lists now, and returns its path.
func nextSegment(t *testing.T, c *cluster.Cluster, playlist string) string {
	t.Helper()
	now, err := fetchPlaylist(playlist)
	if err != nil {
		t.Fatal(err)
	}
	var uri string
	pollUntil(t, c, "a new segment", 30*time.Second, func() bool {
		pl, err := fetchPlaylist(playlist)
		if err != nil || pl.lastSeq() <= now.lastSeq() {
			return false
		}
		uri = "/streams/demo/" + pl.segs[len(pl.segs)-1].URI
		return true
	})
	return uri
}

type fetched struct {
	body []byte
	err  error
}

// fetchAtOnce has n clients GET url together (each waits for the others
// to be ready) and returns what each got.
func fetchAtOnce(client *http.Client, url string, n int) []fetched {
	out := make([]fetched, n)
	var ready, done sync.WaitGroup
	start := make(chan struct{})
	for i := range out {
		ready.Add(1)
		done.Go(func() {
			req, err := http.NewRequest(http.MethodGet, url, nil)
			ready.Done()
			<-start
			if err != nil {
				out[i].err = err
				return
			}
			resp, err := client.Do(req)
			if err != nil {
				out[i].err = err
				return
			}
			defer resp.Body.Close()
			out[i].body, out[i].err = io.ReadAll(resp.Body)
			if out[i].err == nil && resp.StatusCode != http.StatusOK {
				out[i].err = fmt.Errorf("%s", resp.Status)
			}
		})
	}
	ready.Wait()
	close(start)
	done.Wait()
	return out
}

// probeFrames has ffprobe read n video frames of the live playlist (from
// where it joins, near the live edge): it must decode at least n (it may
// read one more), their PTS rising.
func probeFrames(t *testing.T, ffprobe, url string, n int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, ffprobe, "-v", "error", "-select_streams", "v", "-show_entries", "frame=pts",
		"-of", "csv=p=0", "-read_intervals", "%+#"+strconv.Itoa(n), url).Output()
	if err != nil {
		t.Fatalf("ffprobe %s: %v", url, err)
	}
	lines := strings.Fields(string(out)) // "PTS," each
	prev := int64(-1)
	for i, l := range lines {
		pts, err := strconv.ParseInt(strings.TrimSuffix(l, ","), 10, 64)
		if err != nil || pts <= prev {
			t.Fatalf("ffprobe %s: frame %d has PTS %q after %d; want rising PTS", url, i, l, prev)
		}
		prev = pts
	}
	if len(lines) < n {
		t.Fatalf("ffprobe read %d frames of %s; want %d", len(lines), url, n)
	}
	t.Logf("ffprobe read %d frames through nginx", len(lines))
}

// encoders returns the encoder that owns the stream demo and the one
// standing by, as each tells in GET /api/streams.
func encoders(t *testing.T, c *cluster.Cluster) (owner, standby cluster.Node) {
	t.Helper()
	var found int
	for _, name := range []string{"encoder1", "encoder2"} {
		n := c.Nodes[name]
		switch state := streamState(t, n); state {
		case "live":
			owner = n
			found++
		case "standby":
			standby = n
			found += 10
		default:
			t.Fatalf("%s: stream demo is %q; want live or standby", name, state)
		}
	}
	if found != 11 {
		t.Fatalf("encoders %v: want one live, one standby", c.Nodes)
	}
	return owner, standby
}

// streamState returns the state of stream demo on an encoder.
func streamState(t *testing.T, n cluster.Node) string {
	t.Helper()
	resp, err := http.Get(n.Address + "/api/streams")
	if err != nil {
		t.Fatalf("%s: %v", n.Name, err)
	}
	defer resp.Body.Close()
	var out struct {
		Streams []struct{ Name, State string }
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatalf("%s: /api/streams: %v", n.Name, err)
	}
	for _, s := range out.Streams {
		if s.Name == "demo" {
			return s.State
		}
	}
	t.Fatalf("%s: no stream demo in /api/streams", n.Name)
	return ""
}
