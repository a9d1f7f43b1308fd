// Command attack runs a 60 s attack mix against one `hlsmark serve` while a
// second one, started with the same flags on a copy of the same data
// folder, runs untouched beside it as the control, and prints one JSON
// object of what both went through.
//
// The mix, all on 127.0.0.1, bounded in clients and time:
//
//   - a marker POST flood: --posters clients, each posting again about
//     --post-interval after its answer, whatever the answer was;
//   - --replayers event streams asking to replay from Last-Event-ID: 0 over
//     the --seed-markers stored markers, reconnecting a second after each
//     answer (a reset event, or 5 s of replay);
//   - --listers clients reading the whole marker list with ?limit=1000,
//     following each answer's next link to the end, and starting again;
//   - --slow clients posting a 60000-byte body a byte every --slow-interval,
//     reconnecting that long after each answer.
//
// Every client comes from 127.0.0.1, so the server's per-client limits see
// one client: the flood meets them as a real flood from one address would.
// The stored markers are seeded first through the API by a separate start
// with the post limits raised and a 4 s window, which is then left to run
// until the seeded markers are out of its playlist, and stopped; both
// servers then start on copies of that folder with the flags given after
// "--" (the server's defaults unless told otherwise).
//
// Measured on both: late frames (hlsmark_frames_late_total, its increase
// over the attack), the live edge (the playlist fetched every 250 ms; lag
// is the arrival time minus the end of the last listed segment, its
// EXT-X-PROGRAM-DATE-TIME plus its EXTINF). On the attacked one: every
// answer by status, and every marker acknowledged with 201 looked up in the
// full list at the end.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/hlsmark/hlsmark/bench/internal/live"
)

const stream = "demo"

// result is the JSON object attack prints.
type result struct {
	Seconds   float64  `json:"seconds"`
	ServeArgs []string `json:"serve_args"`
	Seed      seeded   `json:"seed"`
	// Attacked and Control are the two servers' side of the run.
	Attacked side `json:"attacked"`
	Control  side `json:"control"`
	// Requests counts the attack's answers by kind of client and status.
	Requests map[string]map[string]int64 `json:"requests"`
	// ServerErrors is the number of 5xx answers the attack got.
	ServerErrors int64 `json:"server_errors"`
	// CPUSeconds is the CPU time the attacking clients used.
	CPUSeconds float64     `json:"cpu_seconds"`
	Replay     replayStats `json:"replay"`
	Listing    listStats   `json:"listing"`
	Slow       slowStats   `json:"slow"`
	// Acked is the number of markers the flood got a 201 for; AckedLost
	// those of them not in the list at the end (id and label), SeedLost
	// likewise for the seeded ones.
	Acked     int           `json:"acked"`
	AckedLost int           `json:"acked_lost"`
	SeedLost  int           `json:"seed_lost"`
	Lost      []live.Marker `json:"lost,omitempty"`
	// MarkersListed is the length of the attacked stream's list at the end.
	MarkersListed int `json:"markers_listed"`
}

// side is what one server went through during the attack.
type side struct {
	LateFrames    float64 `json:"late_frames"`
	FramesEncoded float64 `json:"frames_encoded"`
	// CPUSeconds is the CPU time the server used during the attack.
	CPUSeconds float64 `json:"cpu_seconds"`
	Edge       edge    `json:"edge"`
	// Limited counts hlsmark_http_limited_total's increase by limit.
	Limited map[string]float64 `json:"limited,omitempty"`
	// ServerErrors counts the 5xx answers hlsmark_http_requests_total
	// records over the attack, a cross-check of the clients' count.
	ServerErrors float64 `json:"server_errors_counted"`
	StopError    string  `json:"stop_error,omitempty"`
}

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "attack:", err)
		os.Exit(1)
	}
}

func run() error {
	bin := flag.String("bin", "bin", "folder holding the hlsmark binary")
	duration := flag.Duration("duration", time.Minute, "how long the attack lasts")
	posters := flag.Int("posters", 300, "clients flooding marker POSTs")
	postInterval := flag.Duration("post-interval", time.Second, "mean pause of a flooding client between its answer and its next POST")
	replayers := flag.Int("replayers", 256, "event streams replaying from Last-Event-ID: 0")
	listers := flag.Int("listers", 50, "clients reading the whole marker list again and again")
	slow := flag.Int("slow", 1000, "clients sending a request body a byte at a time")
	slowInterval := flag.Duration("slow-interval", 3*time.Second, "time between two bytes of a slow body")
	seedMarkers := flag.Int("seed-markers", 10000, "markers stored before the attack")
	keep := flag.Bool("keep", false, "keep the work folder (data and logs) and say where")
	flag.Usage = func() {
		fmt.Fprintln(flag.CommandLine.Output(), "usage: attack [flags] [-- hlsmark serve flags for both servers]")
		flag.PrintDefaults()
	}
	flag.Parse()
	serveArgs := flag.Args()
	hlsmark := filepath.Join(*bin, "hlsmark")

	work, err := os.MkdirTemp("", "hlsmark-attack-")
	if err != nil {
		return err
	}
	if *keep {
		fmt.Fprintln(os.Stderr, "attack: work folder", work)
	} else {
		defer os.RemoveAll(work)
	}
	attackedData, controlData := filepath.Join(work, "attacked"), filepath.Join(work, "control")
	res := result{ServeArgs: append([]string{}, serveArgs...), Requests: map[string]map[string]int64{}}
	if res.Seed, err = seed(hlsmark, attackedData, work, *seedMarkers, serveArgs); err != nil {
		return err
	}
	if err := copyDir(attackedData, controlData); err != nil {
		return fmt.Errorf("copy the seeded folder: %w", err)
	}

	attacked, err := startPublishing(hlsmark, attackedData, filepath.Join(work, "attacked.log"), serveArgs)
	if err != nil {
		return err
	}
	defer attacked.Kill() // a no-op once stopped
	control, err := startPublishing(hlsmark, controlData, filepath.Join(work, "control.log"), serveArgs)
	if err != nil {
		return err
	}
	defer control.Kill()

	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 1000}}
	before := [2][]byte{}
	var cpuBefore [2]time.Duration
	for i, s := range []*live.Server{attacked, control} {
		if before[i], err = live.Fetch(context.Background(), client, s.Base+"/metrics"); err != nil {
			return err
		}
		if cpuBefore[i], err = s.CPU(); err != nil {
			return err
		}
	}
	selfBefore, err := selfCPU()
	if err != nil {
		return err
	}
	if *keep {
		fmt.Fprintf(os.Stderr, "attack: attacked pid %d at %s, control pid %d at %s\n", attacked.Pid(), attacked.Base, control.Pid(), control.Base)
	}

	ctx, cancel := context.WithTimeout(context.Background(), *duration)
	defer cancel()
	start := time.Now()
	var wg sync.WaitGroup
	var edges [2]edge
	for i, s := range []*live.Server{attacked, control} {
		wg.Go(func() { edges[i] = sampleEdge(ctx, s.Base, stream) })
	}
	var flood live.FloodResult
	wg.Go(func() {
		flood = live.Flood{Base: attacked.Base, Stream: stream, Clients: *posters, Interval: *postInterval,
			Label: "flood", Client: client}.Run(ctx)
	})
	replayCodes, listCodes, slowCodes := &live.Tally{}, &live.Tally{}, &live.Tally{}
	wg.Go(func() { res.Replay = replayAll(ctx, attacked.Base, stream, *replayers, replayCodes) })
	wg.Go(func() { res.Listing = listAll(ctx, client, attacked.Base, stream, *listers, listCodes) })
	wg.Go(func() { res.Slow = slowAll(ctx, attacked.Addr, stream, *slow, *slowInterval, slowCodes) })
	wg.Wait()
	res.Seconds = time.Since(start).Seconds()
	selfAfter, err := selfCPU()
	if err != nil {
		return err
	}
	res.CPUSeconds = (selfAfter - selfBefore).Seconds()

	for i, s := range []*live.Server{attacked, control} {
		cpu, err := s.CPU()
		if err != nil {
			return err
		}
		after, err := live.Fetch(context.Background(), client, s.Base+"/metrics")
		if err != nil {
			return err
		}
		if *keep {
			if err := os.WriteFile(filepath.Join(work, fmt.Sprintf("metrics-%d.txt", i)), after, 0o644); err != nil {
				return err
			}
		}
		sd := compareMetrics(before[i], after)
		sd.Edge = edges[i]
		sd.CPUSeconds = (cpu - cpuBefore[i]).Seconds()
		if i == 0 {
			res.Attacked = sd
		} else {
			res.Control = sd
		}
	}
	for name, t := range map[string]*live.Tally{"post": flood.Codes, "events": replayCodes, "list": listCodes, "slow": slowCodes} {
		res.Requests[name] = t.Counts()
		res.ServerErrors += t.ServerErrors()
	}

	list, err := live.ListMarkers(context.Background(), client, attacked.Base, stream, 1000, true)
	if err != nil {
		return fmt.Errorf("list the markers after the attack: %w", err)
	}
	res.MarkersListed = len(list.Markers)
	res.Acked = len(flood.Acked)
	lost := live.Missing(flood.Acked, list.Markers)
	seedLost := live.Missing(res.Seed.acked, list.Markers)
	res.AckedLost, res.SeedLost = len(lost), len(seedLost)
	res.Lost = append(lost, seedLost...)
	if len(res.Lost) > 20 {
		res.Lost = res.Lost[:20]
	}

	if err := attacked.Stop(10 * time.Second); err != nil {
		res.Attacked.StopError = err.Error()
	}
	if err := control.Stop(10 * time.Second); err != nil {
		res.Control.StopError = err.Error()
	}
	return json.NewEncoder(os.Stdout).Encode(res)
}

// startPublishing starts a server and waits until it lists a segment
// made after it started.
func startPublishing(bin, data, logPath string, args []string) (*live.Server, error) {
	addr, err := live.FreeAddr()
	if err != nil {
		return nil, err
	}
	s, err := live.Start(bin, addr, data, logPath, args...)
	if err != nil {
		return nil, err
	}
	if err := s.WaitHealthy(10 * time.Second); err != nil {
		s.Kill()
		return nil, err
	}
	if err := waitNewSegment(s, 30*time.Second); err != nil {
		s.Kill()
		return nil, err
	}
	return s, nil
}

// waitNewSegment waits until the server lists a segment it did not list
// when first asked.
func waitNewSegment(s *live.Server, timeout time.Duration) error {
	c := &http.Client{Timeout: 2 * time.Second}
	first := -1
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if b, err := live.Fetch(context.Background(), c, s.Base+"/streams/"+stream+"/index.m3u8"); err == nil {
			pl, err := live.ParsePlaylist(b)
			if err != nil {
				return err
			}
			last, ok := pl.Last()
			switch {
			case !ok:
			case first < 0:
				first = int(last.Seq)
			case int(last.Seq) > first:
				return nil
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	return errors.New("no new segment listed within " + timeout.String())
}

// compareMetrics returns what changed between two scrapes of a server's
// /metrics.
func compareMetrics(before, after []byte) side {
	delta := func(name string) float64 { return live.Metric(after, name) - live.Metric(before, name) }
	s := side{
		LateFrames:    delta("hlsmark_frames_late_total"),
		FramesEncoded: delta("hlsmark_frames_encoded_total"),
		Limited:       map[string]float64{},
	}
	b := live.Series(before, "hlsmark_http_limited_total")
	for k, v := range live.Series(after, "hlsmark_http_limited_total") {
		if d := v - b[k]; d > 0 {
			s.Limited[k] = d
		}
	}
	b = live.Series(before, "hlsmark_http_requests_total")
	for k, v := range live.Series(after, "hlsmark_http_requests_total") {
		if isServerError(k) {
			s.ServerErrors += v - b[k]
		}
	}
	return s
}

// isServerError reports whether a label set holds code="5xx".
func isServerError(labels string) bool { return strings.Contains(labels, `code="5`) }

// selfCPU returns the CPU time this process has used.
func selfCPU() (time.Duration, error) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0, err
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()), nil
}
