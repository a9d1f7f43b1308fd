// Command streams measures many real-time streams on one machine, then
// prints one JSON line.
//
// With --mode hlsmark it writes a config file of --streams checkerboard
// streams (s01, s02, ...) at --size, 30 fps, --preset, and runs
// `hlsmark serve --config` with it. Once every stream has listed a
// segment it streams for --duration, sampling the server's resident
// memory every 5 s, and, with --viewers, runs that many simulated viewers
// on every stream (bench/internal/live's Viewers). It then reads /metrics
// (late frames and frames encoded, summed over the streams' `stream`
// labels), stops the server with SIGINT and reads its CPU time.
//
// With --mode ffmpeg it runs --streams pairs of `rawgen --paced | ffmpeg
// -f hls` side by side, each for --duration of video, and reads their CPU
// time and late frames.
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
	"time"

	"github.com/hlsmark/hlsmark/bench/internal/live"
)

// fps is the rate of every stream: rawgen's and the checkerboard's.
const fps = 30

// result is the JSON line streams prints.
type result struct {
	Mode    string `json:"mode"`
	Streams int    `json:"streams"`
	Size    string `json:"size"`
	Preset  string `json:"preset"`
	// Part is the Low-Latency HLS part duration (fMP4 segments), if any.
	Part    string  `json:"part,omitempty"`
	Seconds float64 `json:"seconds"`
	// VideoSeconds is the video streamed, summed over the streams.
	VideoSeconds float64 `json:"video_seconds"`
	// CPUSeconds is the streaming processes' CPU time: hlsmark's, or every
	// ffmpeg's; GeneratorCPUSeconds is every rawgen's (ffmpeg mode).
	CPUSeconds          float64 `json:"cpu_seconds"`
	GeneratorCPUSeconds float64 `json:"generator_cpu_seconds,omitempty"`
	// CPUPerVideoSecond is CPUSeconds over VideoSeconds: CPU per stream
	// per second of video.
	CPUPerVideoSecond              float64 `json:"cpu_per_video_second"`
	CPUPerVideoSecondWithGenerator float64 `json:"cpu_per_video_second_with_generator,omitempty"`
	// LateFrames is summed over the streams; LateByStream has each.
	LateFrames   float64            `json:"late_frames"`
	LateByStream map[string]float64 `json:"late_by_stream,omitempty"`
	// RSS holds the server's resident memory, MiB, every 5 s of the run,
	// and Late its late frames so far, summed over the streams: when they
	// came.
	RSS  []live.Sample `json:"rss_mb,omitempty"`
	Late []live.Sample `json:"late,omitempty"`
	// RSSEndMB is the last sample; RSSSlopeMBPerHour the least-squares
	// slope of the samples taken after the first minute (while the
	// one-minute DVR windows fill up).
	RSSEndMB          float64 `json:"rss_end_mb,omitempty"`
	RSSSlopeMBPerHour float64 `json:"rss_slope_mb_per_hour,omitempty"`
	// RSSSlopeLateHalfMBPerHour fits the samples of the run's second half
	// only, when what the first minutes fill (segments kept for the
	// window plus its grace, the segment cache, the heap's own growth)
	// has long been filled.
	RSSSlopeLateHalfMBPerHour float64  `json:"rss_slope_second_half_mb_per_hour,omitempty"`
	Viewers                   *viewers `json:"viewers,omitempty"`
}

// viewers is what the simulated viewers did, over every stream.
type viewers struct {
	PerStream  int    `json:"per_stream"`
	Requests   int64  `json:"requests"`
	Segments   int64  `json:"segments"`
	Events     int64  `json:"events"`
	Errors     int64  `json:"errors"`
	FirstError string `json:"first_error,omitempty"`
}

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "streams:", err)
		os.Exit(1)
	}
}

func run() error {
	mode := flag.String("mode", "hlsmark", "hlsmark or ffmpeg")
	bin := flag.String("bin", "bin", "folder holding hlsmark and rawgen")
	n := flag.Int("streams", 1, "streams to run side by side")
	size := flag.String("size", "640x480", "frame size")
	preset := flag.String("preset", "veryfast", "libx264 preset")
	segment := flag.Duration("segment", 2*time.Second, "segment duration (hlsmark)")
	perStream := flag.Int("viewers", 0, "simulated viewers on every stream (hlsmark)")
	part := flag.Duration("part", 0, "Low-Latency HLS parts (fMP4 segments, hlsmark): viewers follow them (Viewers.ViewLL)")
	d := flag.Duration("duration", time.Minute, "how long to stream")
	flag.Parse()
	if *n < 1 {
		return fmt.Errorf("--streams %d: must be positive", *n)
	}
	if *perStream > 0 && *mode != "hlsmark" {
		return errors.New("--viewers: only with --mode hlsmark")
	}
	dir, err := os.MkdirTemp("", "hlsmark-streams-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	r := result{Mode: *mode, Streams: *n, Size: *size, Preset: *preset}
	if *part > 0 {
		if *mode != "hlsmark" {
			return errors.New("--part: only with --mode hlsmark")
		}
		r.Part = part.String()
	}
	switch *mode {
	case "hlsmark":
		err = runHlsmark(&r, filepath.Join(*bin, "hlsmark"), dir, *segment, *perStream, *d)
	case "ffmpeg":
		err = runFFmpeg(&r, filepath.Join(*bin, "rawgen"), dir, *d)
	default:
		err = fmt.Errorf("--mode %q: want hlsmark or ffmpeg", *mode)
	}
	if err != nil {
		return err
	}
	return json.NewEncoder(os.Stdout).Encode(r)
}

// names returns the streams' names: s01, s02, ...
func names(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("s%02d", i+1)
	}
	return out
}

// writeConfig writes the config file of r's streams, with a one-minute
// DVR window each, and returns its path. Every other setting is serve's
// default (the checkerboard, its mint detector), as in the other
// real-time runs.
func writeConfig(r *result, dir string, segment time.Duration) (string, error) {
	var b strings.Builder
	b.WriteString("streams:\n")
	for _, name := range names(r.Streams) {
		fmt.Fprintf(&b, "  - name: %s\n    size: %s\n    fps: %d\n    preset: %s\n    segment: %s\n    window: 1m\n",
			name, r.Size, fps, r.Preset, segment)
		if r.Part != "" {
			fmt.Fprintf(&b, "    format: fmp4\n    part: %s\n", r.Part)
		}
	}
	path := filepath.Join(dir, "hlsmark.yaml")
	return path, os.WriteFile(path, []byte(b.String()), 0o644)
}

func runHlsmark(r *result, bin, dir string, segment time.Duration, perStream int, d time.Duration) error {
	config, err := writeConfig(r, dir, segment)
	if err != nil {
		return err
	}
	addr, err := live.FreeAddr()
	if err != nil {
		return err
	}
	srv, err := live.Start(bin, addr, filepath.Join(dir, "data"), filepath.Join(dir, "serve.log"), "--config", config)
	if err != nil {
		return err
	}
	defer srv.Kill() // a no-op once stopped
	if err := srv.WaitHealthy(30 * time.Second); err != nil {
		return err
	}
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 2*perStream*r.Streams + 8}}
	if err := waitListed(client, srv.Base, names(r.Streams), time.Minute); err != nil {
		return err
	}

	ctx, stop := context.WithTimeout(context.Background(), d)
	defer stop()
	var load live.Viewers
	view := load.View
	if r.Part != "" {
		view = load.ViewLL
	}
	var wg sync.WaitGroup
	for _, name := range names(r.Streams) {
		for range perStream {
			wg.Go(func() { view(ctx, client, srv.Base, name) })
		}
	}
	start := time.Now()
	scrape := &http.Client{Timeout: 10 * time.Second}
	for t := start; ctx.Err() == nil; t = t.Add(5 * time.Second) {
		select {
		case <-ctx.Done():
		case <-time.After(time.Until(t)):
			at := time.Since(start).Seconds()
			if mb, err := live.RSSMB(srv.Pid()); err == nil {
				r.RSS = append(r.RSS, live.Sample{Seconds: at, Value: mb})
			}
			if m, err := live.Fetch(ctx, scrape, srv.Base+"/metrics"); err == nil {
				r.Late = append(r.Late, live.Sample{Seconds: at, Value: sum(live.Series(m, "hlsmark_frames_late_total"))})
			}
		}
	}
	wg.Wait()
	r.Seconds = time.Since(start).Seconds()

	metrics, err := live.Fetch(context.Background(), scrape, srv.Base+"/metrics")
	if err != nil {
		return err
	}
	if err := srv.Stop(time.Minute); err != nil {
		return err
	}
	r.CPUSeconds = live.ProcessCPU(srv.ProcessState()).Seconds()
	r.LateByStream = map[string]float64{}
	for labels, v := range live.Series(metrics, "hlsmark_frames_late_total") {
		r.LateByStream[strings.Trim(strings.TrimPrefix(labels, "{stream="), `"}`)] = v
		r.LateFrames += v
	}
	r.VideoSeconds = sum(live.Series(metrics, "hlsmark_frames_encoded_total")) / fps
	r.CPUPerVideoSecond = r.CPUSeconds / r.VideoSeconds
	if len(r.RSS) > 0 {
		r.RSSEndMB = r.RSS[len(r.RSS)-1].Value
		r.RSSSlopeMBPerHour = live.Slope(since(r.RSS, 60)) * 3600
		r.RSSSlopeLateHalfMBPerHour = live.Slope(since(r.RSS, r.Seconds/2)) * 3600
	}
	if perStream > 0 {
		r.Viewers = &viewers{
			PerStream: perStream, Requests: load.Requests.Load(), Segments: load.Segments.Load(),
			Events: load.Events.Load(), Errors: load.Errors.Load(),
		}
		if err := load.FirstError(); err != nil {
			r.Viewers.FirstError = err.Error()
		}
	}
	return nil
}

// since returns the samples taken from the given second on.
func since(samples []live.Sample, seconds float64) []live.Sample {
	var out []live.Sample
	for _, s := range samples {
		if s.Seconds >= seconds {
			out = append(out, s)
		}
	}
	return out
}

// sum adds up a metric's series.
func sum(series map[string]float64) float64 {
	var t float64
	for _, v := range series {
		t += v
	}
	return t
}

// waitListed waits until every stream's playlist lists a segment, so that
// viewers join streams that are live.
func waitListed(c *http.Client, base string, streams []string, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	for _, name := range streams {
		for {
			b, err := live.Fetch(ctx, c, base+"/streams/"+name+"/index.m3u8")
			if err == nil {
				if pl, err := live.ParsePlaylist(b); err == nil && len(pl.Segments) > 0 {
					break
				}
			}
			if ctx.Err() != nil {
				return fmt.Errorf("stream %s listed no segment within %s", name, timeout)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	return nil
}

func runFFmpeg(r *result, rawgen, dir string, d time.Duration) error {
	start := time.Now()
	pairs := make([]*live.Pair, 0, r.Streams)
	var startErr error
	for _, name := range names(r.Streams) {
		out := filepath.Join(dir, name)
		if startErr = os.Mkdir(out, 0o755); startErr != nil {
			break
		}
		p, err := live.StartPair(rawgen, out, r.Size, r.Preset, int(d.Seconds()*fps))
		if startErr = err; err != nil {
			break
		}
		pairs = append(pairs, p)
	}
	// Wait for every pair started, even when one could not start.
	errs := []error{startErr}
	r.LateByStream = map[string]float64{}
	for i, p := range pairs {
		pr, err := p.Wait()
		errs = append(errs, err)
		r.CPUSeconds += pr.CPU.Seconds()
		r.GeneratorCPUSeconds += pr.Generator.Seconds()
		r.LateFrames += float64(pr.Late)
		r.LateByStream[names(r.Streams)[i]] = float64(pr.Late)
		r.VideoSeconds += pr.VideoSeconds
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}
	r.Seconds = time.Since(start).Seconds()
	r.CPUPerVideoSecond = r.CPUSeconds / r.VideoSeconds
	r.CPUPerVideoSecondWithGenerator = (r.CPUSeconds + r.GeneratorCPUSeconds) / r.VideoSeconds
	return nil
}
