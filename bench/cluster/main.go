// Command cluster measures simulated viewers through the cluster example's
// caching tier, then prints one JSON line.
//
// It runs examples/cluster/run (PostgreSQL, SeaweedFS, two encoders, two
// edges, nginx in front) with bin/hlsmark, waits until the stream lists a
// segment through nginx, and runs --viewers simulated viewers
// (bench/internal/live's Viewers: each polls the playlist, fetches every
// new segment, reads the marker list and holds the event stream open)
// against nginx for --duration, each from a loopback address of its own. Meanwhile it counts every process's open
// file descriptors every 5 s. Then it reads nginx's access log (requests
// to the edges per segment, answers other than 200), nginx's error log
// (worker_connections not enough), the owning encoder's late frames, and
// each process's CPU time over the run, children included (nginx's
// worker, PostgreSQL's backends), and stops the cluster.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/hlsmark/hlsmark/bench/internal/live"
	"github.com/hlsmark/hlsmark/examples/cluster"
)

// result is the JSON line cluster prints.
type result struct {
	Viewers int     `json:"viewers"`
	Seconds float64 `json:"seconds"`
	// Requests, Segments and Events are the viewers' (Viewers' counters);
	// Errors are their failures, FirstError the first.
	Requests   int64  `json:"requests"`
	Segments   int64  `json:"segments"`
	Events     int64  `json:"events"`
	Errors     int64  `json:"errors"`
	FirstError string `json:"first_error,omitempty"`
	// LateSegments were fetched in more than a target duration.
	LateSegments int64 `json:"late_segments"`
	// NotOK is how many answers nginx logged with a status other than 200.
	NotOK int `json:"nginx_not_200"`
	// SegmentsServed is how many segments nginx served (HIT or not);
	// OriginFetchesMax and OriginFetchesTotal are the requests to edges
	// for the most fetched segment and for all; SegmentsFetched is how
	// many distinct segments were asked of the edges.
	SegmentsServed     int `json:"segments_served"`
	SegmentsFetched    int `json:"segments_fetched"`
	OriginFetchesMax   int `json:"origin_fetches_per_segment_max"`
	OriginFetchesTotal int `json:"origin_fetches_segments_total"`
	// SegmentSeconds and PlaylistSeconds are nginx's $request_time for
	// them: p50, p99, max.
	SegmentSeconds  [3]float64 `json:"segment_seconds_p50_p99_max"`
	PlaylistSeconds [3]float64 `json:"playlist_seconds_p50_p99_max"`
	// PlaylistsFromEdges is how many playlist requests went to an edge
	// (all of them: the playlist is no-cache).
	PlaylistsFromEdges int `json:"playlists_from_edges"`
	// WorkerConnectionsShort counts nginx's "worker_connections are not
	// enough" in its error log.
	WorkerConnectionsShort int `json:"nginx_worker_connections_short"`
	// LateFrames is the owning encoder's hlsmark_frames_late_total.
	LateFrames float64 `json:"encoder_late_frames"`
	// CPUSeconds and PeakFDs are per process (the script's names), CPU
	// over the viewers' run with the process's children; "viewers" is
	// this program's own (the 2,000 clients, on the same machine).
	CPUSeconds map[string]float64 `json:"cpu_seconds"`
	PeakFDs    map[string]int     `json:"peak_fds"`
	// Load is /proc/loadavg's first three numbers before and after the
	// run: the machine is shared.
	LoadBefore string `json:"load_before"`
	LoadAfter  string `json:"load_after"`
	// FDLimit is the edges' limit on open files (ulimit -n as the script
	// was started); nginx's worker raises its own (worker_rlimit_nofile).
	FDLimit int `json:"fd_limit"`
}

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "cluster:", err)
		os.Exit(1)
	}
}

func run() error {
	bin := flag.String("bin", "bin", "folder holding hlsmark")
	script := flag.String("script", "examples/cluster/run", "the cluster example's script")
	n := flag.Int("viewers", 2000, "simulated viewers")
	d := flag.Duration("duration", time.Minute, "how long the viewers watch")
	keep := flag.String("dir", "", "the cluster's folder, kept afterwards (its logs); default: a temporary one, removed")
	flag.Parse()
	if *n < 1 {
		return fmt.Errorf("--viewers %d: must be positive", *n)
	}
	hlsmark, err := filepath.Abs(filepath.Join(*bin, "hlsmark"))
	if err != nil {
		return err
	}
	dir := *keep
	if dir == "" {
		if dir, err = os.MkdirTemp("", "hlsmark-cluster-bench-"); err != nil {
			return err
		}
		defer os.RemoveAll(dir)
	}
	port, err := cluster.FreePorts()
	if err != nil {
		return err
	}
	c, err := cluster.Start(*script, hlsmark, dir, port, 3*time.Minute)
	if err != nil {
		return err
	}
	r, runErr := measure(c, *n, *d)
	if err := errors.Join(runErr, c.Stop()); err != nil {
		return err
	}
	return json.NewEncoder(os.Stdout).Encode(r)
}

// measure runs the viewers against c and reads what the cluster did.
func measure(c *cluster.Cluster, n int, d time.Duration) (*result, error) {
	r := &result{Viewers: n, CPUSeconds: map[string]float64{}, PeakFDs: map[string]int{}}
	if err := waitListed(http.DefaultClient, c.URL+"/streams/demo/index.m3u8", time.Minute); err != nil {
		return nil, err
	}
	r.LoadBefore = loadAverage()
	cpuBefore := map[string]time.Duration{"viewers": treeCPU(os.Getpid())}
	for name, node := range c.Nodes {
		cpuBefore[name] = treeCPU(node.Pid)
	}

	ctx, stop := context.WithTimeout(context.Background(), d)
	defer stop()
	var load live.Viewers
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { load.View(ctx, viewerClient(i), c.URL, "demo") })
	}
	start := time.Now()
	for ctx.Err() == nil {
		for name, node := range c.Nodes {
			r.PeakFDs[name] = max(r.PeakFDs[name], treeFDs(node.Pid))
		}
		select {
		case <-ctx.Done():
		case <-time.After(5 * time.Second):
		}
	}
	wg.Wait()
	r.Seconds = time.Since(start).Seconds()
	r.LoadAfter = loadAverage()
	r.CPUSeconds["viewers"] = (treeCPU(os.Getpid()) - cpuBefore["viewers"]).Seconds()
	for name, node := range c.Nodes {
		r.CPUSeconds[name] = (treeCPU(node.Pid) - cpuBefore[name]).Seconds()
	}
	r.Requests, r.Segments, r.Events = load.Requests.Load(), load.Segments.Load(), load.Events.Load()
	r.Errors, r.LateSegments = load.Errors.Load(), load.Late.Load()
	if err := load.FirstError(); err != nil {
		r.FirstError = err.Error()
	}
	r.FDLimit = fdLimit(c.Nodes["edge1"].Pid)
	if err := readNginx(r, c); err != nil {
		return nil, err
	}
	scrape := &http.Client{Timeout: 10 * time.Second}
	for _, name := range []string{"encoder1", "encoder2"} {
		m, err := live.Fetch(context.Background(), scrape, c.Nodes[name].Address+"/metrics")
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		for _, v := range live.Series(m, "hlsmark_frames_late_total") {
			r.LateFrames += v
		}
	}
	return r, nil
}

// viewerClient returns viewer i's HTTP client, its connections made from
// a loopback address of its own (127.1.x.y; Linux answers all of
// 127.0.0.0/8), so that nginx, and the edges through X-Forwarded-For,
// tell the viewers apart as they would real ones: per-client limits are
// per viewer, not shared by 2,000.
func viewerClient(i int) *http.Client {
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.IPv4(127, 1, byte(i/250), byte(i%250+1))}}
	return &http.Client{Transport: &http.Transport{DialContext: d.DialContext, MaxIdleConnsPerHost: 4}}
}

// readNginx reads nginx's logs into r.
func readNginx(r *result, c *cluster.Cluster) error {
	reqs, err := cluster.ReadAccessLog(c.AccessLog())
	if err != nil {
		return err
	}
	var segTimes, plTimes []float64
	for _, q := range reqs {
		if q.Status != http.StatusOK {
			r.NotOK++
		}
		if strings.HasSuffix(q.URI, ".ts") {
			r.SegmentsServed++
			segTimes = append(segTimes, q.Seconds)
		}
		if strings.HasSuffix(q.URI, ".m3u8") {
			plTimes = append(plTimes, q.Seconds)
			if q.OriginFetches() > 0 {
				r.PlaylistsFromEdges++
			}
		}
	}
	r.SegmentSeconds, r.PlaylistSeconds = spread(segTimes), spread(plTimes)
	for _, f := range cluster.OriginFetches(reqs, ".ts") {
		if f > 0 {
			r.SegmentsFetched++
		}
		r.OriginFetchesTotal += f
		r.OriginFetchesMax = max(r.OriginFetchesMax, f)
	}
	errLog, err := os.ReadFile(filepath.Join(c.Dir, "nginx", "error.log"))
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	r.WorkerConnectionsShort = strings.Count(string(errLog), "worker_connections are not enough")
	return nil
}

// spread returns the p50, p99 and largest of times, sorting them.
func spread(times []float64) [3]float64 {
	if len(times) == 0 {
		return [3]float64{}
	}
	slices.Sort(times)
	return [3]float64{live.Quantile(times, 0.5), live.Quantile(times, 0.99), times[len(times)-1]}
}

// waitListed waits until the playlist at url lists a segment.
func waitListed(c *http.Client, url string, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	for {
		if b, err := live.Fetch(ctx, c, url); err == nil {
			if pl, err := live.ParsePlaylist(b); err == nil && len(pl.Segments) > 0 {
				return nil
			}
		}
		if ctx.Err() != nil {
			return fmt.Errorf("%s listed no segment within %s", url, timeout)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// family returns pid and its children (nginx's workers, PostgreSQL's
// backends): the processes whose parent is pid, from /proc.
func family(pid int) []int {
	out := []int{pid}
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		child, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", child))
		if err != nil {
			continue // ended meanwhile
		}
		_, rest, _ := strings.Cut(string(b), ") ")
		if f := strings.Fields(rest); len(f) > 1 && f[1] == strconv.Itoa(pid) {
			out = append(out, child)
		}
	}
	return out
}

// treeCPU returns the CPU time pid and its children have used so far
// (children that ended are not counted).
func treeCPU(pid int) time.Duration {
	var t time.Duration
	for _, p := range family(pid) {
		if cpu, err := live.PidCPU(p); err == nil {
			t += cpu
		}
	}
	return t
}

// treeFDs returns the most file descriptors pid or one of its children
// holds open.
func treeFDs(pid int) int {
	most := 0
	for _, p := range family(pid) {
		if fds, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", p)); err == nil {
			most = max(most, len(fds))
		}
	}
	return most
}

// loadAverage returns the machine's load averages over 1, 5 and 15
// minutes.
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if f := strings.Fields(string(b)); err == nil && len(f) >= 3 {
		return strings.Join(f[:3], " ")
	}
	return ""
}

// fdLimit returns pid's soft limit on open files: the one the script and
// every process it starts inherit (Go raises its own, not its children's).
func fdLimit(pid int) int {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/limits", pid))
	if err != nil {
		return 0
	}
	for line := range strings.Lines(string(b)) {
		if strings.HasPrefix(line, "Max open files") {
			f := strings.Fields(line)
			if len(f) >= 4 {
				v, _ := strconv.Atoi(f[3])
				return v
			}
		}
	}
	return 0
}
