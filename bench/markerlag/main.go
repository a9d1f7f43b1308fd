// Command markerlag measures how soon a detector marker shows, after the
// frame that shows its event, to a Low-Latency HLS client and to an event
// stream subscriber. It runs `hlsmark serve --format fmp4 --part PART`
// on the checkerboard (--size, 30 fps, --preset, --segment) with the mint
// square every --every, and for --duration:
//
//   - reads the live playlist every --poll and, for each EXT-X-DATERANGE
//     of class com.hlsmark.marker it has not seen, takes the time it saw it
//     minus its START-DATE (the frame's program date time, rounded up to
//     the millisecond);
//   - follows GET /api/streams/demo/markers/events and, for each "created"
//     event, takes the time it arrived minus the marker's
//     program_date_time.
//
// It prints one JSON line with the count, p50, p99 and max in
// milliseconds of each. The polling adds up to --poll to the playlist's
// figures. Build hlsmark first (`make build`), then:
//
//	go run ./bench/markerlag --bin bin
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/hlsmark/hlsmark/bench/internal/live"
)

// result is the JSON line markerlag prints.
type result struct {
	Size     string  `json:"size"`
	Preset   string  `json:"preset"`
	Segment  string  `json:"segment"`
	Part     string  `json:"part"`
	Poll     string  `json:"poll"`
	Seconds  float64 `json:"seconds"`
	Playlist summary `json:"playlist_daterange"`
	SSE      summary `json:"sse_created"`
}

// summary is one way's figures, in milliseconds after the frame.
type summary struct {
	Count int     `json:"count"`
	P50   float64 `json:"p50_ms"`
	P99   float64 `json:"p99_ms"`
	Max   float64 `json:"max_ms"`
}

func summarize(lags []float64) summary {
	if len(lags) == 0 {
		return summary{}
	}
	s := slices.Clone(lags)
	slices.Sort(s)
	return summary{Count: len(s), P50: live.Quantile(s, 0.5), P99: live.Quantile(s, 0.99), Max: s[len(s)-1]}
}

func main() {
	bin := flag.String("bin", "bin", "folder holding hlsmark")
	size := flag.String("size", "1280x720", "frame size")
	preset := flag.String("preset", "veryfast", "libx264 preset")
	segment := flag.Duration("segment", time.Second, "segment duration")
	part := flag.Duration("part", 200*time.Millisecond, "part duration")
	every := flag.Duration("every", 2*time.Second, "time between two events of the checkerboard (each lasts 500 ms)")
	poll := flag.Duration("poll", 10*time.Millisecond, "time between two playlist reads")
	d := flag.Duration("duration", time.Minute, "how long to measure")
	flag.Parse()
	r := result{Size: *size, Preset: *preset, Segment: segment.String(), Part: part.String(), Poll: poll.String()}
	args := []string{"--size", *size, "--fps", "30", "--preset", *preset, "--segment", segment.String(),
		"--format", "fmp4", "--part", part.String(),
		"--event-fixed", "--event-every", every.String(), "--event-duration", "500ms"}
	if err := run(&r, filepath.Join(*bin, "hlsmark"), args, *poll, *d); err != nil {
		fmt.Fprintln(os.Stderr, "markerlag:", err)
		os.Exit(1)
	}
	if err := json.NewEncoder(os.Stdout).Encode(r); err != nil {
		fmt.Fprintln(os.Stderr, "markerlag:", err)
		os.Exit(1)
	}
}

// run serves with args, measures for d, and fills r.
func run(r *result, bin string, args []string, poll, d time.Duration) error {
	dir, err := os.MkdirTemp("", "hlsmark-markerlag-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	addr, err := live.FreeAddr()
	if err != nil {
		return err
	}
	srv, err := live.Start(bin, addr, filepath.Join(dir, "data"), filepath.Join(dir, "serve.log"), args...)
	if err != nil {
		return err
	}
	defer srv.Kill() // after Stop, a no-op
	if err := srv.WaitHealthy(30 * time.Second); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	var wg sync.WaitGroup
	var listed, created []float64
	var listErr, sseErr error
	wg.Add(2)
	go func() {
		defer wg.Done()
		listed, listErr = watchPlaylist(ctx, srv.Base+"/streams/demo/index.m3u8", poll)
	}()
	go func() {
		defer wg.Done()
		created, sseErr = followCreated(ctx, srv.Base+"/api/streams/demo/markers/events")
	}()
	start := time.Now()
	wg.Wait()
	r.Seconds = time.Since(start).Seconds()
	if err := errors.Join(listErr, sseErr); err != nil {
		return err
	}
	if err := srv.Stop(15 * time.Second); err != nil {
		return err
	}
	r.Playlist, r.SSE = summarize(listed), summarize(created)
	if r.Playlist.Count == 0 || r.SSE.Count == 0 {
		return fmt.Errorf("no marker measured: %d in the playlist, %d by events", r.Playlist.Count, r.SSE.Count)
	}
	return nil
}

// markerRange matches an EXT-X-DATERANGE of a marker: its ID and START-DATE.
var markerRange = regexp.MustCompile(`#EXT-X-DATERANGE:ID="([^"]+)",CLASS="com\.hlsmark\.marker",START-DATE="([^"]+)"`)

// watchPlaylist reads the playlist at url every poll until ctx ends, and
// returns, for every marker date range that appeared, the milliseconds from
// its START-DATE to the read that first listed it. Those listed at the
// first read are left out (they came before the watch).
func watchPlaylist(ctx context.Context, url string, poll time.Duration) ([]float64, error) {
	c := &http.Client{Timeout: 5 * time.Second}
	var seen map[string]bool
	var lags []float64
	for ctx.Err() == nil {
		b, err := live.Fetch(ctx, c, url)
		at := time.Now()
		switch {
		case ctx.Err() != nil:
			return lags, nil
		case live.Code(err) == http.StatusNotFound:
		case err != nil:
			return nil, err
		default:
			first := seen == nil
			if first {
				seen = map[string]bool{}
			}
			for _, m := range markerRange.FindAllStringSubmatch(string(b), -1) {
				if seen[m[1]] {
					continue
				}
				seen[m[1]] = true
				start, err := time.Parse(time.RFC3339Nano, m[2])
				if err != nil {
					return nil, fmt.Errorf("date range %s: START-DATE: %w", m[1], err)
				}
				if !first {
					lags = append(lags, float64(at.Sub(start))/float64(time.Millisecond))
				}
			}
		}
		select {
		case <-ctx.Done():
		case <-time.After(poll):
		}
	}
	return lags, nil
}

// followCreated follows the event stream at url until ctx ends and
// returns, for each "created" event, the milliseconds from the marker's
// program_date_time to the event's arrival.
func followCreated(ctx context.Context, url string) ([]float64, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("events: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("events: %s", resp.Status)
	}
	var lags []float64
	kind := ""
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		at := time.Now()
		field, value, _ := strings.Cut(sc.Text(), ": ")
		switch field {
		case "event":
			kind = value
		case "data":
			if kind != "created" {
				continue
			}
			var m struct {
				ID              uint64 `json:"id"`
				ProgramDateTime string `json:"program_date_time"`
			}
			if err := json.Unmarshal([]byte(value), &m); err != nil {
				return nil, fmt.Errorf("events: %s: %w", value, err)
			}
			pdt, err := time.Parse(time.RFC3339Nano, m.ProgramDateTime)
			if err != nil {
				return nil, fmt.Errorf("events: marker %d: program_date_time: %w", m.ID, err)
			}
			lags = append(lags, float64(at.Sub(pdt))/float64(time.Millisecond))
		case "":
			kind = ""
		}
	}
	if ctx.Err() != nil {
		return lags, nil // the measurement ended
	}
	return nil, fmt.Errorf("events: the stream ended: %v", sc.Err())
}
