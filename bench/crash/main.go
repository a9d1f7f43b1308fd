// Command crash kills `hlsmark serve` with SIGKILL at many moments while a
// marker POST flood runs, restarts it on the same folder each time, and
// prints one JSON object of what it found.
//
// Each round waits until the (re)started server lists a new segment, then
// kills it by pid at a moment of one of five kinds, in turn: a random delay
// of up to two target durations, or the instant inotify shows a step of the
// segment path (a segment's temporary file closed, a segment renamed into
// place, the playlist renamed into place, its state file renamed into
// place). While it runs, its playlist is polled and every segment it
// lists is fetched once. After the kill the folder is checked cold: the
// playlist on disk parses (grafov/m3u8); every segment it lists is there,
// has the bytes served over HTTP if it was fetched, and decodes with
// ffprobe without an error, its frames within its EXTINF; no segment the
// server had listed over HTTP, newer than the first one listed now, is
// gone. Then the server is started again, and the time until it lists a
// segment of its own (numbered past every one listed before, its program
// date time after the start) is the round's restart time. At the end every marker the flood got a 201 for
// must be in the marker list, with its label.
//
// Everything runs on 127.0.0.1 and stops by itself: after --kills rounds,
// or --max-time.
package main

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"maps"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/hlsmark/hlsmark/bench/internal/live"
)

const stream = "demo"

// round is one kill and restart.
type round struct {
	Kind string `json:"kind"`
	// File is the file whose event triggered the kill.
	File string `json:"file,omitempty"`
	// KilledAfter is the time from the server's first new segment to
	// the kill.
	KilledAfter float64 `json:"killed_after_publish_seconds"`
	Folder      folder  `json:"folder"`
	// Restart is the time from starting the server again to its first
	// new segment listed; -1 if none came within --publish-timeout.
	Restart float64 `json:"restart_seconds"`
	// State is what /api/streams said when no segment came.
	State string `json:"state,omitempty"`
}

// result is the JSON object crash prints.
type result struct {
	ServeArgs      []string `json:"serve_args"`
	Seed           uint64   `json:"seed"`
	TargetDuration float64  `json:"target_duration_seconds"`
	Kills          int      `json:"kills"`
	// Published counts restarts that listed a new segment within three
	// target durations; NeverPublished those that listed none within
	// --publish-timeout.
	Published      int     `json:"published_within_3_target_durations"`
	NeverPublished int     `json:"never_published"`
	RestartP50     float64 `json:"restart_p50_seconds"`
	RestartMax     float64 `json:"restart_max_seconds"`
	// BadSegments, LostSegments and AheadSegments add up the rounds'.
	BadSegments   int `json:"bad_segments"`
	LostSegments  int `json:"lost_segments"`
	AheadSegments int `json:"ahead_segments"`
	// Posts counts the flood's answers by status; Acked the markers it got
	// a 201 for, AckedLost those missing from the list at the end.
	Posts     map[string]int64 `json:"posts"`
	Acked     int              `json:"acked"`
	AckedLost int              `json:"acked_lost"`
	Lost      []live.Marker    `json:"lost_markers,omitempty"`
	StopError string           `json:"stop_error,omitempty"`
	Rounds    []round          `json:"rounds"`
}

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "crash:", err)
		os.Exit(1)
	}
}

func run() error {
	bin := flag.String("bin", "bin", "folder holding the hlsmark binary")
	kills := flag.Int("kills", 50, "rounds of kill -9 and restart")
	seed := flag.Uint64("seed", 1, "seed of the random delays")
	posters := flag.Int("posters", 300, "clients flooding marker POSTs")
	postInterval := flag.Duration("post-interval", time.Second, "mean pause of a flooding client between its answer and its next POST")
	publishTimeout := flag.Duration("publish-timeout", 20*time.Second, "how long a restart may take to list a new segment before the round gives up on it")
	maxTime := flag.Duration("max-time", 20*time.Minute, "stop starting rounds after this long")
	keep := flag.Bool("keep", false, "keep the work folder (data and log) and say where")
	flag.Usage = func() {
		fmt.Fprintln(flag.CommandLine.Output(), "usage: crash [flags] [-- hlsmark serve flags]")
		flag.PrintDefaults()
	}
	flag.Parse()
	res := result{ServeArgs: append([]string{}, flag.Args()...), Seed: *seed}
	rng := rand.New(rand.NewPCG(*seed, 0))

	work, err := os.MkdirTemp("", "hlsmark-crash-")
	if err != nil {
		return err
	}
	if *keep {
		fmt.Fprintln(os.Stderr, "crash: work folder", work)
	} else {
		defer os.RemoveAll(work)
	}
	data := filepath.Join(work, "data")
	addr, err := live.FreeAddr()
	if err != nil {
		return err
	}
	r := &runner{bin: filepath.Join(*bin, "hlsmark"), addr: addr, data: data, log: filepath.Join(work, "serve.log"),
		args: flag.Args(), seen: map[uint64]bool{}, served: map[string][sha256.Size]byte{}, upTo: -1}
	srv, published, err := r.start(*publishTimeout)
	if err != nil {
		return err
	}
	if published < 0 {
		srv.Kill()
		return errors.New("the first start listed no segment")
	}
	defer func() { srv.Kill() }() // a no-op once stopped
	res.TargetDuration = r.target.Seconds()

	floodCtx, stopFlood := context.WithCancel(context.Background())
	defer stopFlood()
	var flood live.FloodResult
	var floodDone sync.WaitGroup
	floodDone.Go(func() {
		flood = live.Flood{Base: "http://" + addr, Stream: stream, Clients: *posters, Interval: *postInterval,
			Label: "crash", Client: &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: *posters}}}.Run(floodCtx)
	})

	chk := &checker{decoded: map[[sha256.Size]byte]string{}}
	began := time.Now()
	var restarts []float64
	for i := 0; i < *kills && time.Since(began) < *maxTime; i++ {
		m := moments[i%len(moments)]
		rd := round{Kind: m.Kind}
		publishedAt := time.Now()
		if err := r.killAt(srv, m, rng, &rd); err != nil {
			return fmt.Errorf("round %d: %w", i+1, err)
		}
		rd.KilledAfter = time.Since(publishedAt).Seconds()
		seen, served := r.listed()
		if rd.Folder, err = chk.check(filepath.Join(data, stream), seen, served); err != nil {
			return fmt.Errorf("round %d: check the folder: %w", i+1, err)
		}
		r.sawUpTo(rd.Folder.last)
		if srv, rd.Restart, err = r.start(*publishTimeout); err != nil {
			return fmt.Errorf("round %d: %w", i+1, err)
		}
		if rd.Restart < 0 {
			rd.State = streamState("http://" + addr)
			res.NeverPublished++
		} else {
			restarts = append(restarts, rd.Restart)
			if rd.Restart <= 3*res.TargetDuration {
				res.Published++
			}
		}
		res.BadSegments += len(rd.Folder.Bad)
		res.LostSegments += len(rd.Folder.Lost)
		res.AheadSegments += len(rd.Folder.Ahead)
		res.Rounds = append(res.Rounds, rd)
		fmt.Fprintf(os.Stderr, "crash: round %d (%s): restart %.2f s, %d listed, %d bad, %d lost, %d ahead\n",
			i+1, rd.Kind, rd.Restart, rd.Folder.Listed, len(rd.Folder.Bad), len(rd.Folder.Lost), len(rd.Folder.Ahead))
	}
	res.Kills = len(res.Rounds)
	if len(restarts) > 0 {
		slices.Sort(restarts)
		res.RestartP50, res.RestartMax = restarts[(len(restarts)-1)/2], restarts[len(restarts)-1]
	}

	stopFlood()
	floodDone.Wait()
	res.Posts = flood.Codes.Counts()
	res.Acked = len(flood.Acked)
	list, err := live.ListMarkers(context.Background(), &http.Client{Timeout: 30 * time.Second}, "http://"+addr, stream, 1000, true)
	if err != nil {
		return fmt.Errorf("list the markers at the end: %w", err)
	}
	lost := live.Missing(flood.Acked, list.Markers)
	res.AckedLost = len(lost)
	res.Lost = lost[:min(len(lost), 20)]
	if err := srv.Stop(10 * time.Second); err != nil {
		res.StopError = err.Error()
	}
	return json.NewEncoder(os.Stdout).Encode(res)
}

// runner starts and kills one server, always on the same address and
// folder, and remembers every segment it listed.
type runner struct {
	bin, addr, data, log string
	args                 []string
	target               time.Duration

	mu   sync.Mutex
	seen map[uint64]bool // sequence numbers listed over HTTP
	// served holds the digest of each segment fetched over HTTP, by name.
	served map[string][sha256.Size]byte
	// upTo is the highest sequence number listed before the current
	// start, -1 before the first.
	upTo int64
}

// start starts the server and waits until it lists a segment numbered past
// every segment listed before. It returns the seconds that took, or -1 if
// none came within timeout.
func (r *runner) start(timeout time.Duration) (*live.Server, float64, error) {
	began := time.Now()
	srv, err := live.Start(r.bin, r.addr, r.data, r.log, r.args...)
	if err != nil {
		return nil, 0, err
	}
	c := &http.Client{Timeout: time.Second}
	for time.Since(began) < timeout {
		if srv.Exited() {
			return srv, 0, fmt.Errorf("hlsmark serve exited on start (log %s)", r.log)
		}
		pl, err := r.fetch(c, srv.Base)
		if err != nil {
			return srv, 0, err
		}
		// A segment of this run: numbered past every one listed before,
		// and made after the start (not one an earlier run renamed into
		// place that this one listed on restoring).
		if last, ok := pl.Last(); ok && int64(last.Seq) > r.upTo && last.ProgramDateTime.After(began.Add(-startSlack)) {
			return srv, time.Since(began).Seconds(), nil
		}
		time.Sleep(20 * time.Millisecond)
	}
	return srv, -1, nil
}

// startSlack is how much earlier than its process's start a segment's
// program date time may be and still count as made by it: the two clocks
// are the same, read a moment apart.
const startSlack = 250 * time.Millisecond

// fetch reads the server's playlist, records the segments it lists, and
// fetches each one it has not fetched before, keeping its digest. No
// answer is an empty playlist; an answer that does not parse, an error.
func (r *runner) fetch(c *http.Client, base string) (live.Playlist, error) {
	b, err := live.Fetch(context.Background(), c, base+"/streams/"+stream+"/index.m3u8")
	if err != nil {
		return live.Playlist{}, nil
	}
	pl, err := live.ParsePlaylist(b)
	if err != nil {
		return pl, err
	}
	r.mu.Lock()
	r.target = max(r.target, pl.TargetDuration)
	var fresh []live.Segment
	for _, s := range pl.Segments {
		r.seen[s.Seq] = true
		if _, ok := r.served[s.URI]; !ok {
			fresh = append(fresh, s)
		}
	}
	r.mu.Unlock()
	for _, s := range fresh {
		body, err := live.Fetch(context.Background(), c, base+"/streams/"+stream+"/"+s.URI)
		if err != nil {
			continue // cut by a kill: nothing to compare with
		}
		r.mu.Lock()
		r.served[s.URI] = sha256.Sum256(body)
		r.mu.Unlock()
	}
	return pl, nil
}

// killAt kills srv at moment m, polling its playlist until then so that
// every segment it listed is known.
func (r *runner) killAt(srv *live.Server, m moment, rng *rand.Rand, rd *round) error {
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	var pollErr error
	wg.Go(func() {
		c := &http.Client{Timeout: time.Second}
		for ctx.Err() == nil {
			if _, err := r.fetch(c, srv.Base); err != nil {
				pollErr = err
				return
			}
			time.Sleep(20 * time.Millisecond)
		}
	})
	if m.mask == 0 {
		time.Sleep(randomDelay(rng, 2*r.target))
		srv.Kill()
	} else {
		rd.File = killOnEvent(srv, filepath.Join(r.data, stream), m, 3*r.target)
	}
	cancel()
	wg.Wait() // a playlist served before the kill counts, even if read after
	return pollErr
}

// killOnEvent kills srv the instant a file event of moment m shows in dir,
// or after timeout, and returns the file's name, or why there was none.
func killOnEvent(srv *live.Server, dir string, m moment, timeout time.Duration) string {
	w, err := watch(dir, m.mask)
	if err != nil {
		srv.Kill()
		return "no watch: " + err.Error()
	}
	defer w.Close()
	name, err := w.wait(m.match, time.Now().Add(timeout))
	srv.Kill()
	if err != nil {
		return "none within " + timeout.String() + ": " + err.Error()
	}
	return name
}

// listed returns the sequence numbers listed so far, and the digests of
// the segments served.
func (r *runner) listed() (map[uint64]bool, map[string][sha256.Size]byte) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return maps.Clone(r.seen), maps.Clone(r.served)
}

// sawUpTo sets the number a restart's new segment must pass: the highest
// listed, over HTTP or in the playlist on disk (diskLast).
func (r *runner) sawUpTo(diskLast uint64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	up := diskLast
	for s := range r.seen {
		up = max(up, s)
	}
	r.upTo = int64(up)
}

// streamState returns the stream's state in /api/streams, with its reason.
func streamState(base string) string {
	b, err := live.Fetch(context.Background(), &http.Client{Timeout: 2 * time.Second}, base+"/api/streams")
	if err != nil {
		return "no answer: " + err.Error()
	}
	var v struct {
		Streams []struct {
			State  string `json:"state"`
			Reason string `json:"reason"`
		} `json:"streams"`
	}
	if err := json.Unmarshal(b, &v); err != nil || len(v.Streams) == 0 {
		return strings.TrimSpace(string(b))
	}
	return strings.TrimSpace(v.Streams[0].State + " " + v.Streams[0].Reason)
}
