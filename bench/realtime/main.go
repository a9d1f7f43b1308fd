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
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
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
	var rss [][2]float64 // seconds since start, MB
	nextRSS := start
	client := &http.Client{Timeout: 2 * time.Second}
	for time.Since(start) < d {
		if now := time.Now(); !now.Before(nextRSS) {
			if mb, err := rssMB(srv.Pid()); err == nil {
				rss = append(rss, [2]float64{now.Sub(start).Seconds(), mb})
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
	r.CPUSeconds = cpu(srv.ProcessState())
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
		r.RSSStartMB, r.RSSEndMB = rss[0][1], rss[len(rss)-1][1]
		for _, s := range rss {
			r.RSSMaxMB = max(r.RSSMaxMB, s[1])
		}
		var late [][2]float64
		for _, s := range rss {
			if s[0] >= 60 {
				late = append(late, s)
			}
		}
		r.RSSSlopeMBPerHour = slope(late) * 3600
	}
	return nil
}

func runFFmpeg(r *result, rawgen, dir string, d time.Duration) error {
	frames := int(d.Seconds() * 30)
	gen := exec.Command(rawgen, "--paced", "--size", r.Size, "--frames", strconv.Itoa(frames))
	ff := exec.Command("ffmpeg", "-hide_banner", "-nostdin", "-nostats", "-loglevel", "error",
		"-f", "rawvideo", "-pix_fmt", "bgr24", "-s", r.Size, "-r", "30", "-i", "-",
		"-c:v", "libx264", "-preset", r.Preset, "-tune", "zerolatency", "-bf", "0",
		"-forced-idr", "1", "-x264-params", "keyint=infinite:scenecut=0",
		"-force_key_frames", "expr:gte(t,n_forced*2)",
		"-f", "hls", "-hls_time", "2", "-hls_list_size", "30", "-hls_flags", "delete_segments",
		"-hls_segment_filename", filepath.Join(dir, "%d.ts"), filepath.Join(dir, "index.m3u8"))
	var genErr, ffErr bytes.Buffer
	gen.Stderr, ff.Stderr = &genErr, &ffErr
	pipe, err := gen.StdoutPipe()
	if err != nil {
		return err
	}
	ff.Stdin = pipe
	start := time.Now()
	if err := gen.Start(); err != nil {
		return err
	}
	if err := ff.Start(); err != nil {
		gen.Process.Kill()
		gen.Wait()
		return err
	}
	gerr := gen.Wait()
	ferr := ff.Wait()
	if gerr != nil || ferr != nil {
		return fmt.Errorf("rawgen: %v %s; ffmpeg: %v %s", gerr, genErr.String(), ferr, ffErr.String())
	}
	r.Seconds = time.Since(start).Seconds()
	r.VideoSeconds = float64(frames) / 30
	r.CPUSeconds = cpu(ff.ProcessState)
	r.GeneratorCPUSeconds = cpu(gen.ProcessState)
	r.CPUPerVideoSecond = r.CPUSeconds / r.VideoSeconds
	r.CPUPerVideoSecondWithGenerator = (r.CPUSeconds + r.GeneratorCPUSeconds) / r.VideoSeconds
	// rawgen reports "N frames late" when the real clock outran it.
	if f := strings.Fields(genErr.String()); len(f) >= 2 && f[0] == "rawgen:" {
		r.LateFrames, _ = strconv.ParseFloat(f[1], 64)
	}
	return nil
}

// slope is the least-squares slope of y over x.
func slope(pts [][2]float64) float64 {
	if len(pts) < 2 {
		return 0
	}
	var sx, sy, sxx, sxy float64
	for _, p := range pts {
		sx, sy, sxx, sxy = sx+p[0], sy+p[1], sxx+p[0]*p[0], sxy+p[0]*p[1]
	}
	n := float64(len(pts))
	return (n*sxy - sx*sy) / (n*sxx - sx*sx)
}

// rssMB reads a process's resident set size from /proc.
func rssMB(pid int) (float64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, err := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 64)
			return kb / 1024, err
		}
	}
	return 0, errors.New("no VmRSS")
}

func cpu(ps *os.ProcessState) float64 {
	if ru, ok := ps.SysUsage().(*syscall.Rusage); ok {
		return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()).Seconds()
	}
	return (ps.UserTime() + ps.SystemTime()).Seconds()
}
