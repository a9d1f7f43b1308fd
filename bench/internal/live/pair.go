package live

import (
	"bytes"
	"fmt"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Pair is the proof-of-concept way to stream, the yardstick hlsmark serve
// is measured against: `rawgen --paced` renders the checkerboard on the
// real clock and pipes its raw bgr24 frames into the ffmpeg CLI, which
// encodes them with hlsmark's encoder settings (libx264, -tune
// zerolatency, no B-frames, an IDR every 2 s and nowhere else) and cuts
// 2 s HLS segments, keeping a one-minute playlist.
type Pair struct {
	gen, ff       *exec.Cmd
	genErr, ffErr bytes.Buffer
	frames        int
}

// PairResult is what a pair used and dropped.
type PairResult struct {
	// CPU is ffmpeg's CPU time, Generator rawgen's.
	CPU, Generator time.Duration
	// Late counts the frames rawgen dropped because it fell more than
	// 100 ms behind its schedule, as hlsmark's checkerboard counts them:
	// with ffmpeg slower than real time, the pipe fills and rawgen falls
	// behind.
	Late int
	// VideoSeconds is the video the pair streamed.
	VideoSeconds float64
}

// StartPair starts rawgen (the binary at rawgen) for frames frames at
// size, piped into ffmpeg encoding with preset, its segments and playlist
// written into dir.
func StartPair(rawgen, dir, size, preset string, frames int) (*Pair, error) {
	p := &Pair{frames: frames}
	p.gen = exec.Command(rawgen, "--paced", "--size", size, "--frames", strconv.Itoa(frames))
	p.ff = exec.Command("ffmpeg", "-hide_banner", "-nostdin", "-nostats", "-loglevel", "error",
		"-f", "rawvideo", "-pix_fmt", "bgr24", "-s", size, "-r", "30", "-i", "-",
		"-c:v", "libx264", "-preset", preset, "-tune", "zerolatency", "-bf", "0",
		"-forced-idr", "1", "-x264-params", "keyint=infinite:scenecut=0",
		"-force_key_frames", "expr:gte(t,n_forced*2)",
		"-f", "hls", "-hls_time", "2", "-hls_list_size", "30", "-hls_flags", "delete_segments",
		"-hls_segment_filename", filepath.Join(dir, "%d.ts"), filepath.Join(dir, "index.m3u8"))
	p.gen.Stderr, p.ff.Stderr = &p.genErr, &p.ffErr
	pipe, err := p.gen.StdoutPipe()
	if err != nil {
		return nil, fmt.Errorf("live: rawgen: %w", err)
	}
	p.ff.Stdin = pipe
	if err := p.gen.Start(); err != nil {
		return nil, fmt.Errorf("live: start rawgen: %w", err)
	}
	if err := p.ff.Start(); err != nil {
		_ = p.gen.Process.Kill()
		_ = p.gen.Wait()
		return nil, fmt.Errorf("live: start ffmpeg: %w", err)
	}
	return p, nil
}

// Wait waits for both processes to end, rawgen after its last frame and
// ffmpeg after the last segment, and returns what they used.
func (p *Pair) Wait() (PairResult, error) {
	gerr := p.gen.Wait()
	ferr := p.ff.Wait()
	if gerr != nil || ferr != nil {
		return PairResult{}, fmt.Errorf("live: rawgen: %v %s; ffmpeg: %v %s", gerr, p.genErr.String(), ferr, p.ffErr.String())
	}
	r := PairResult{
		CPU: ProcessCPU(p.ff.ProcessState), Generator: ProcessCPU(p.gen.ProcessState),
		VideoSeconds: float64(p.frames) / 30,
	}
	// rawgen reports "rawgen: N frames late" when the real clock outran it.
	if f := strings.Fields(p.genErr.String()); len(f) >= 2 && f[0] == "rawgen:" {
		r.Late, _ = strconv.Atoi(f[1])
	}
	return r, nil
}
