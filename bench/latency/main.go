// Command latency measures glass to glass: how far behind live the web
// player shows a stream, from the PTS each frame carries. It runs
// `hlsmark serve --stamp` (the checkerboard at --size, 30 fps, --preset,
// --segment), waits until the playlist lists --warmup segments (so that
// the player starts where a viewer of a running stream does, three target
// durations behind the edge, not at the first segment of a stream just
// begun), opens the player in headless Chromium, and for --duration
// collects what the page measures (window.hlsmark.latency: for each frame
// the video presents, the clock then minus the frame's program date time,
// the stream's epoch plus the PTS drawn in it). It prints one JSON line
// with the percentiles over every frame measured, and a breakdown of where
// the time goes (see breakdown): libx264's mean time per frame, when each
// Low-Latency HLS part was listed, loaded and appended after its end, and
// how far behind hls.js reckons it plays against its target.
//
// The server and the browser run on this machine and share its clock.
// Build hlsmark with the player's hls.js first (`make web build`), then:
//
//	go run ./bench/latency --bin bin
//	go run ./bench/latency --bin bin --format fmp4 --part 200ms  # Low-Latency HLS
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
	"slices"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/hlsmark/hlsmark/bench/internal/live"
)

// result is the JSON line latency prints; latencies are in seconds.
type result struct {
	Size    string  `json:"size"`
	Preset  string  `json:"preset"`
	Segment string  `json:"segment"`
	Format  string  `json:"format"`
	Part    string  `json:"part,omitempty"`
	Warmup  int     `json:"warmup_segments"`
	Seconds float64 `json:"seconds"`
	Frames  int     `json:"frames_measured"`
	// Misses counts the frames the page read without finding a stamp.
	Misses int     `json:"frames_without_stamp"`
	Min    float64 `json:"min"`
	P50    float64 `json:"p50"`
	P95    float64 `json:"p95"`
	Max    float64 `json:"max"`
	// Breakdown says where the time goes (Low-Latency HLS: per part).
	Breakdown breakdown `json:"breakdown"`
}

// takeJS hands over the page's measurements so far, and forgets them.
const takeJS = `(() => {
  const m = window.hlsmark && window.hlsmark.latency;
  if (!m) return { latencies: [], misses: 0 };
  const out = { latencies: m.samples.splice(0).map((s) => s.latency), misses: m.misses };
  m.misses = 0;
  return out;
})()`

// taken is what takeJS returns.
type taken struct {
	Latencies []float64 `json:"latencies"`
	Misses    int       `json:"misses"`
}

func main() {
	bin := flag.String("bin", "bin", "folder holding hlsmark")
	chromium := flag.String("chromium", "/usr/bin/chromium", "the browser")
	size := flag.String("size", "1280x720", "frame size")
	preset := flag.String("preset", "veryfast", "libx264 preset")
	segment := flag.Duration("segment", time.Second, "segment duration")
	format := flag.String("format", "ts", "segment format (--format): ts or fmp4")
	part := flag.Duration("part", 0, "Low-Latency HLS part duration (--part, fmp4 only); 0 for none")
	warmup := flag.Int("warmup", 6, "segments the playlist lists before the page opens")
	d := flag.Duration("duration", time.Minute, "how long to measure, once the page shows the first stamped frame")
	flag.Parse()
	r := result{Size: *size, Preset: *preset, Segment: segment.String(), Format: *format, Warmup: *warmup}
	if *part > 0 {
		r.Part = part.String()
	}
	if err := run(&r, filepath.Join(*bin, "hlsmark"), *chromium, *d); err != nil {
		fmt.Fprintln(os.Stderr, "latency:", err)
		os.Exit(1)
	}
	if err := json.NewEncoder(os.Stdout).Encode(r); err != nil {
		fmt.Fprintln(os.Stderr, "latency:", err)
		os.Exit(1)
	}
}

// run streams, measures for d, and fills r.
func run(r *result, bin, chromium string, d time.Duration) error {
	dir, err := os.MkdirTemp("", "hlsmark-latency-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	addr, err := live.FreeAddr()
	if err != nil {
		return err
	}
	args := []string{"--stamp", "--size", r.Size, "--fps", "30", "--preset", r.Preset, "--segment", r.Segment, "--format", r.Format}
	if r.Part != "" {
		args = append(args, "--part", r.Part)
	}
	srv, err := live.Start(bin, addr, filepath.Join(dir, "data"), filepath.Join(dir, "serve.log"), args...)
	if err != nil {
		return err
	}
	defer srv.Kill() // after Stop, a no-op
	if err := srv.WaitHealthy(30 * time.Second); err != nil {
		return err
	}
	if err := waitSegments(srv.Base, r.Warmup); err != nil {
		return err
	}

	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(chromium), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.NoFirstRun, chromedp.NoDefaultBrowserCheck, chromedp.UserDataDir(filepath.Join(dir, "chromium")),
		chromedp.WindowSize(1280, 800))
	defer cancelAlloc()
	tab, cancelTab := chromedp.NewContext(alloc)
	defer cancelTab()
	if err := chromedp.Do(tab, chromedp.Navigate(srv.Base+"/")); err != nil {
		return fmt.Errorf("open the player: %w", err)
	}
	// The probe in place and the first stamped frame shown, then a clean start.
	deadline := time.Now().Add(60 * time.Second)
	for probed := false; ; {
		if !probed {
			if probed, err = probe(tab); err != nil {
				return err
			}
		}
		got, err := take(tab)
		if err != nil {
			return err
		}
		if probed && len(got.Latencies) > 0 {
			break
		}
		if time.Now().After(deadline) {
			return errors.New("the page read no stamp within 60 s")
		}
		time.Sleep(200 * time.Millisecond)
	}
	if _, err := takeStages(tab); err != nil {
		return err
	}
	var all []float64
	var st stages
	start := time.Now()
	for time.Since(start) < d {
		time.Sleep(min(5*time.Second, d-time.Since(start)))
		got, err := take(tab)
		if err != nil {
			return err
		}
		all = append(all, got.Latencies...)
		r.Misses += got.Misses
		s, err := takeStages(tab)
		if err != nil {
			return err
		}
		st.add(s)
	}
	r.Seconds = time.Since(start).Seconds()
	r.Breakdown.summarize(st)
	metrics, err := live.Fetch(context.Background(), &http.Client{Timeout: 5 * time.Second}, srv.Base+"/metrics")
	if err != nil {
		return err
	}
	enc := live.Series(metrics, "hlsmark_encode_seconds_sum")
	n := live.Series(metrics, "hlsmark_encode_seconds_count")
	for k, sum := range enc {
		if n[k] > 0 {
			r.Breakdown.EncodeMean = sum / n[k]
		}
	}
	if err := srv.Stop(15 * time.Second); err != nil {
		return err
	}
	if len(all) == 0 {
		return errors.New("no frame measured")
	}
	slices.Sort(all)
	r.Frames = len(all)
	r.Min, r.P50, r.P95, r.Max = all[0], live.Quantile(all, 0.5), live.Quantile(all, 0.95), all[len(all)-1]
	return nil
}

// take runs takeJS in the tab.
func take(tab context.Context) (taken, error) {
	var got taken
	raw, err := chromedp.Run(tab, chromedp.Evaluate[[]byte](takeJS))
	if err != nil {
		return got, fmt.Errorf("read the page's measurements: %w", err)
	}
	if err := json.Unmarshal(raw, &got); err != nil {
		return got, fmt.Errorf("read the page's measurements: %w", err)
	}
	return got, nil
}

// waitSegments waits until the playlist at base lists n segments.
func waitSegments(base string, n int) error {
	c := &http.Client{Timeout: 5 * time.Second}
	deadline := time.Now().Add(time.Minute + time.Duration(n)*10*time.Second)
	for time.Now().Before(deadline) {
		b, err := live.Fetch(context.Background(), c, base+"/streams/demo/index.m3u8")
		if err == nil {
			p, err := live.ParsePlaylist(b)
			if err != nil {
				return err
			}
			if len(p.Segments) >= n {
				return nil
			}
		} else if live.Code(err) != http.StatusNotFound {
			return err
		}
		time.Sleep(100 * time.Millisecond)
	}
	return fmt.Errorf("the playlist did not list %d segments in time", n)
}
