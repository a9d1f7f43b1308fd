package pipeline_test

import (
	"syscall"
	"testing"
	"time"

	"github.com/hlsmark/hlsmark/pipeline"
	"github.com/hlsmark/hlsmark/pipeline/media"
	"github.com/hlsmark/hlsmark/pipeline/stream"
)

// BenchmarkFileStream streams a 4 s, 1280x720, 25 fps H.264 file
// (B-frames, 2 s GOPs) through the whole stream, unpaced and without a
// detector, re-encoded by libx264 at serve's default preset and tune, and
// copied (--codec copy). Besides frames/s it reports the process's CPU
// time per frame (user and system, every thread: libx264's and libav's
// too), the cost a copy saves.
func BenchmarkFileStream(b *testing.B) {
	const frames = 100
	size := media.Size{Width: 1280, Height: 720}
	in := ffmpeg(b, "-f", "lavfi", "-i", "testsrc2=size=1280x720:rate=25", "-t", "4",
		"-c:v", "libx264", "-preset", "veryfast", "-bf", "2", "-g", "50", "-pix_fmt", "yuv420p", "bench.mp4")
	copySource, copySetup := copyStream(b, in, 2*time.Second, false)
	for _, c := range []struct {
		name      string
		newSource func(pipeline.Start) (pipeline.Source, error)
		setup     func(*stream.Config)
	}{
		{"libx264-veryfast", func(at pipeline.Start) (pipeline.Source, error) {
			return pipeline.NewFileSource(pipeline.FileConfig{Input: in, Size: size}, at)
		}, func(cfg *stream.Config) {
			cfg.Segment, cfg.Detector = 2*time.Second, nil
			cfg.Encoder = pipeline.EncoderConfig{Size: size, FPS: 25, Preset: "veryfast", Tune: "zerolatency", KeyInterval: 2 * time.Second}
		}},
		{"copy", copySource, copySetup},
	} {
		b.Run(c.name, func(b *testing.B) {
			cpu := cpuTime()
			for b.Loop() {
				streamFile(b, c.newSource, fileOptions{config: c.setup})
			}
			b.ReportMetric(float64((cpuTime()-cpu).Microseconds())/1000/float64(b.N*frames), "cpu-ms/frame")
			reportFPS(b, b.N*frames)
		})
	}
}

// cpuTime returns the CPU time (user and system) the process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
