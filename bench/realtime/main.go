// Command realtime streams in real time for a while and measures it, then
// prints one JSON line.
//
// With --mode hlsmark it runs `hlsmark serve`, polls its playlist every
// 5 ms to see when each segment is listed (latency: listing time minus the
// segment's PROGRAM-DATE-TIME, the generation time of its first frame),
// samples the server's resident memory every 5 s, scrapes /metrics at the
// end (late frames, frames encoded), stops it with SIGINT and reads its CPU
// time. With --mode ffmpeg it runs `rawgen --paced | ffmpeg ... -f hls`
// with the same frames, size, preset and GOP, and reads both processes'
// CPU time.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/hlsmark/hlsmark/bench/internal/live"
)

// result is the JSON line realtime prints.
type result struct {
	Mode         string  `json:"mode"`
	Size         string  `json:"size"`
	Preset       string  `json:"preset"`
	Seconds      float64 `json:"seconds"`
	VideoSeconds float64 `json:"video_seconds"`
	// CPUSeconds is the streaming process's CPU time (hlsmark, or ffmpeg
	// alone); GeneratorCPUSeconds is rawgen's, in ffmpeg mode.
	CPUSeconds          float64 `json:"cpu_seconds"`
	GeneratorCPUSeconds float64 `json:"generator_cpu_seconds,omitempty"`
	CPUPerVideoSecond   float64 `json:"cpu_per_video_second"`
	// CPUPerVideoSecondWithGenerator adds rawgen's CPU (ffmpeg mode).
	CPUPerVideoSecondWithGenerator float64 `json:"cpu_per_video_second_with_generator,omitempty"`
	LateFrames                     float64 `json:"late_frames"`
	Segments                       int     `json:"segments,omitempty"`
	LatencyP50                     float64 `json:"latency_p50_seconds,omitempty"`
	LatencyP99                     float64 `json:"latency_p99_seconds,omitempty"`
	LatencyMax                     float64 `json:"latency_max_seconds,omitempty"`
	RSSStartMB                     float64 `json:"rss_start_mb,omitempty"`
	RSSEndMB                       float64 `json:"rss_end_mb,omitempty"`
	RSSMaxMB                       float64 `json:"rss_max_mb,omitempty"`
	// RSSSlopeMBPerHour is the least-squares slope of the RSS samples
	// taken after the first minute (the DVR window filling up).
	RSSSlopeMBPerHour float64 `json:"rss_slope_mb_per_hour,omitempty"`
}

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "realtime:", err)
		os.Exit(1)
	}
}

func run() error {
	mode := flag.String("mode", "hlsmark", "hlsmark or ffmpeg")
	bin := flag.String("bin", "bin", "folder holding hlsmark and rawgen")
	size := flag.String("size", "1280x720", "frame size")
	preset := flag.String("preset", "veryfast", "libx264 preset")
	seconds := flag.Duration("duration", time.Minute, "how long to stream")
	flag.Parse()
	dir, err := os.MkdirTemp("", "hlsmark-realtime-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	r := result{Mode: *mode, Size: *size, Preset: *preset}
	switch *mode {
	case "hlsmark":
		err = runHlsmark(&r, filepath.Join(*bin, "hlsmark"), dir, *seconds)
	case "ffmpeg":
		err = runFFmpeg(&r, filepath.Join(*bin, "rawgen"), dir, *seconds)
	default:
		err = fmt.Errorf("--mode %q: want hlsmark or ffmpeg", *mode)
	}
	if err != nil {
		return err
	}
	return json.NewEncoder(os.Stdout).Encode(r)
}

func runHlsmark(r *result, bin, dir string, d time.Duration) error {
	addr, err := live.FreeAddr()
	if err != nil {
		return err
	}
	srv, err := live.Start(bin, addr, filepath.Join(dir, "data"), filepath.Join(dir, "serve.log"),
		"--size", r.Size, "--preset", r.Preset, "--window", "1m")
	if err != nil {
		return err
	}
	defer srv.Kill() // a no-op once stopped
	if err := srv.WaitHealthy(10 * time.Second); err != nil {
		return err
	}
	base := srv.Base
	start := time.Now()
	seen := map[string]bool{}
	var latencies []float64
	var rss []live.Sample // MB
	nextRSS := start
	client := &http.Client{Timeout: 2 * time.Second}
	for time.Since(start) < d {
		if now := time.Now(); !now.Before(nextRSS) {
			if mb, err := live.RSSMB(srv.Pid()); err == nil {
				rss = append(rss, live.Sample{Seconds: now.Sub(start).Seconds(), Value: mb})
			}
			nextRSS = nextRSS.Add(5 * time.Second)
		}
		body, err := live.Fetch(context.Background(), client, base+"/streams/demo/index.m3u8")
		listed := time.Now()
		if err == nil {
			pl, err := live.ParsePlaylist(body)
			if err != nil {
				return err
			}
			for _, seg := range pl.Segments {
				if !seen[seg.URI] {
					seen[seg.URI] = true
					latencies = append(latencies, listed.Sub(seg.ProgramDateTime).Seconds())
				}
			}
		}
		time.Sleep(5 * time.Millisecond)
	}
	metrics, err := live.Fetch(context.Background(), client, base+"/metrics")
	if err != nil {
		return err
	}
	if err := srv.Stop(30 * time.Second); err != nil {
		return err
	}
	r.Seconds = time.Since(start).Seconds()
	r.CPUSeconds = live.ProcessCPU(srv.ProcessState()).Seconds()
	r.LateFrames = live.Metric(metrics, "hlsmark_frames_late_total")
	r.VideoSeconds = live.Metric(metrics, "hlsmark_frames_encoded_total") / 30
	r.CPUPerVideoSecond = r.CPUSeconds / r.VideoSeconds
	// The first segment listed may have been made before polling began.
	if len(latencies) > 1 {
		latencies = latencies[1:]
	}
	r.Segments = len(latencies)
	if len(latencies) > 0 {
		slices.Sort(latencies)
		r.LatencyP50 = live.Quantile(latencies, 0.50)
		r.LatencyP99 = live.Quantile(latencies, 0.99)
		r.LatencyMax = latencies[len(latencies)-1]
	}
	if len(rss) > 0 {
		r.RSSStartMB, r.RSSEndMB = rss[0].Value, rss[len(rss)-1].Value
		for _, s := range rss {
			r.RSSMaxMB = max(r.RSSMaxMB, s.Value)
		}
		var late []live.Sample
		for _, s := range rss {
			if s.Seconds >= 60 {
				late = append(late, s)
			}
		}
		r.RSSSlopeMBPerHour = live.Slope(late) * 3600
	}
	return nil
}

func runFFmpeg(r *result, rawgen, dir string, d time.Duration) error {
	start := time.Now()
	p, err := live.StartPair(rawgen, dir, r.Size, r.Preset, int(d.Seconds()*30))
	if err != nil {
		return err
	}
	pr, err := p.Wait()
	if err != nil {
		return err
	}
	r.Seconds = time.Since(start).Seconds()
	r.VideoSeconds = pr.VideoSeconds
	r.CPUSeconds = pr.CPU.Seconds()
	r.GeneratorCPUSeconds = pr.Generator.Seconds()
	r.CPUPerVideoSecond = r.CPUSeconds / r.VideoSeconds
	r.CPUPerVideoSecondWithGenerator = (r.CPUSeconds + r.GeneratorCPUSeconds) / r.VideoSeconds
	r.LateFrames = float64(pr.Late)
	return nil
}
