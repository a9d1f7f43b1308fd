package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"github.com/hlsmark/hlsmark/marker"
	"github.com/hlsmark/hlsmark/pipeline"
	"github.com/hlsmark/hlsmark/pipeline/clock"
	"github.com/hlsmark/hlsmark/pipeline/media"
)

// benchResult is what `hlsmark bench` prints, as one JSON object on its
// last line.
type benchResult struct {
	Frames          uint64  `json:"frames"`
	Size            string  `json:"size"`
	Preset          string  `json:"preset"`
	Segments        int     `json:"segments"`
	Bytes           int64   `json:"bytes"`
	WallSeconds     float64 `json:"wall_seconds"`
	FramesPerSecond float64 `json:"frames_per_second"`
	CPUSeconds      float64 `json:"cpu_seconds"`
	CPUPerFrame     float64 `json:"cpu_seconds_per_frame"`
}

// bench runs the serve pipeline unpaced: a generator clock that never
// waits, the same source, detector, encoder, muxer and playlist, writing
// segments to a temporary folder.
func bench(args []string) error {
	var a benchArgs
	if err := benchFlags(&a).parse(args); err != nil {
		return err
	}
	c, frames := a.stream, a.frames
	var err error
	if c.Size, err = media.ParseSize(a.size); err != nil {
		return usagef("--%v", err)
	}
	if frames < 1 {
		return usagef("--frames %d: must be positive", frames)
	}
	c.Name = "bench"
	c.Window = 24 * time.Hour // keep every segment listed, to count them
	c.Grace = c.minGrace()
	c.RetainSize = 1 << 62 // every segment stays listed: nothing to retain
	if err := c.validate(); err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "hlsmark-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	c.Data = dir
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	pipeline.RouteLibavLogs(log)
	store, err := marker.OpenBolt(filepath.Join(dir, "markers.db"))
	if err != nil {
		return err
	}
	defer store.Close()
	st, err := newStream(c, clock.NewFake(time.Now(), nil), store, log,
		func(src pipeline.Source) pipeline.Source { return pipeline.Limit(src, frames) })
	if err != nil {
		return err
	}

	cpu0 := cpuTime()
	start := time.Now()
	if err := st.Run(context.Background()); err != nil {
		return err
	}
	wall := time.Since(start).Seconds()
	cpu := (cpuTime() - cpu0).Seconds()
	r := benchResult{
		Frames: st.Stats().Frames.Load(), Size: c.Size.String(), Preset: c.Preset,
		WallSeconds: wall, CPUSeconds: cpu,
	}
	for _, s := range st.Playlist().Segments() {
		r.Segments++
		r.Bytes += s.Size
	}
	r.FramesPerSecond = float64(r.Frames) / wall
	r.CPUPerFrame = cpu / float64(r.Frames)
	out, _ := json.Marshal(r)
	fmt.Println(string(out))
	return nil
}

// benchArgs are the flags of `hlsmark bench` as typed.
type benchArgs struct {
	stream streamConfig
	size   string
	frames int
}

// benchFlags returns the flag set of `hlsmark bench`, bound to a.
func benchFlags(a *benchArgs) *commandLine {
	cl := newCommandLine("bench", "Encodes unpaced and prints the throughput as JSON.\nIt runs the serve pipeline into a temporary folder; the JSON object is the last line.")
	cl.group("Run", func(fs *flag.FlagSet) {
		fs.IntVar(&a.frames, "frames", 600, "frames to encode")
	})
	cl.group("Encoding", func(fs *flag.FlagSet) { encodingFlags(fs, &a.stream, &a.size) })
	cl.group("Events", func(fs *flag.FlagSet) { eventFlags(fs, &a.stream) })
	return cl
}

// cpuTime returns the CPU time (user and system) the process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
