package pipeline_test

import (
	"context"
	"testing"
	"time"

	"github.com/hlsmark/hlsmark/pipeline"
	"github.com/hlsmark/hlsmark/pipeline/clock"
	"github.com/hlsmark/hlsmark/pipeline/media"
	"github.com/hlsmark/hlsmark/pipeline/pipelinetest"
)

// The benchmarks report frames/s so that benchstat can compare changes.
// CI runs them with -benchtime 3x: each iteration is a fraction of a second.

// casesBenchSize are the frame sizes benchmarked, with the frames one
// iteration handles.
var casesBenchSize = []struct {
	name   string
	size   media.Size
	frames int
}{
	{"640x480", media.Size{Width: 640, Height: 480}, 150},
	{"1280x720", media.Size{Width: 1280, Height: 720}, 90},
}

// casesBenchPreset are the libx264 presets benchmarked.
var casesBenchPreset = []string{"ultrafast", "veryfast"}

func reportFPS(b *testing.B, frames int) {
	b.ReportMetric(float64(frames)/b.Elapsed().Seconds(), "frames/s")
}

// batch is how many frames one iteration of a single-stage benchmark
// handles, so that -benchtime 3x still measures more than a cold cache.
const batch = 60

// newBenchSource returns the checkerboard with the settings pipelinetest
// gives it (block height/6, events of 0.7 s every 3 s), on a clock that
// never waits: every benchmark sees the same frames.
func newBenchSource(b *testing.B, s media.Size) *pipeline.Checkerboard {
	b.Helper()
	tl := clock.Timeline{Epoch: pipelinetest.Epoch}
	src, err := pipeline.NewCheckerboard(pipeline.CheckerboardConfig{
		Size: s, FPS: 30, Block: s.Height / 6,
		EventEvery: 3 * time.Second, EventDuration: 700 * time.Millisecond, EventFixed: true,
	}, clock.NewFake(tl.Epoch, nil), tl)
	if err != nil {
		b.Fatal(err)
	}
	return src
}

// BenchmarkPipeline runs the whole pipeline (checkerboard, detector,
// conversion, libx264, MPEG-TS segments, playlist) unpaced.
func BenchmarkPipeline(b *testing.B) {
	for _, c := range casesBenchSize {
		for _, preset := range casesBenchPreset {
			b.Run(c.name+"/"+preset, func(b *testing.B) {
				for b.Loop() {
					pipelinetest.Start(b, pipelinetest.Config{Size: c.size, Frames: c.frames, Segment: 2 * time.Second, Preset: preset})
				}
				reportFPS(b, b.N*c.frames)
			})
		}
	}
}

// BenchmarkEncodeOnly is the bound the pipeline is measured against:
// libx264 alone, encoding frames already converted to YUV420P in memory.
func BenchmarkEncodeOnly(b *testing.B) {
	for _, c := range casesBenchSize {
		for _, preset := range casesBenchPreset {
			b.Run(c.name+"/"+preset, func(b *testing.B) {
				frames := make([]*pipeline.Frame, c.frames)
				src := newBenchSource(b, c.size)
				for i := range frames {
					frames[i] = pipeline.NewFrame(c.size)
					defer frames[i].Free()
				}
				discard := func(media.Packet) error { return nil }
				for b.Loop() {
					b.StopTimer()
					for _, f := range frames {
						if err := src.Next(context.Background(), f); err != nil {
							b.Fatal(err)
						}
						if err := f.Convert(); err != nil {
							b.Fatal(err)
						}
					}
					enc, err := pipeline.NewEncoder(pipeline.EncoderConfig{
						Size: c.size, FPS: 30, Preset: preset, Tune: "zerolatency", KeyInterval: 2 * time.Second,
					})
					if err != nil {
						b.Fatal(err)
					}
					b.StartTimer()
					for _, f := range frames {
						if err := enc.Encode(f, discard); err != nil {
							b.Fatal(err)
						}
					}
					if err := enc.Flush(discard); err != nil {
						b.Fatal(err)
					}
					b.StopTimer()
					enc.Close()
					b.StartTimer()
				}
				reportFPS(b, b.N*c.frames)
			})
		}
	}
}

// BenchmarkCheckerboard renders frames: the source alone.
func BenchmarkCheckerboard(b *testing.B) {
	for _, c := range casesBenchSize {
		b.Run(c.name, func(b *testing.B) {
			src := newBenchSource(b, c.size)
			f := pipeline.NewFrame(c.size)
			b.ReportAllocs()
			for b.Loop() {
				for range batch {
					if err := src.Next(context.Background(), f); err != nil {
						b.Fatal(err)
					}
				}
			}
			reportFPS(b, b.N*batch)
		})
	}
}

// casesBenchDetector are the detectors benchmarked: the mint square's, and
// motion's at the defaults of --detect motion.
var casesBenchDetector = []struct {
	name string
	new  pipeline.NewDetector
}{
	{"mint", pipeline.NewMintDetector},
	{"motion", pipeline.MotionConfig{Threshold: pipeline.DefaultMotionThreshold, MinArea: pipeline.DefaultMotionMinArea}.New},
}

// BenchmarkDetector inspects 3 s of the rolling checkerboard, with one
// mint square, with each detector.
func BenchmarkDetector(b *testing.B) {
	for _, d := range casesBenchDetector {
		for _, c := range casesBenchSize {
			b.Run(d.name+"/"+c.name, func(b *testing.B) {
				src := newBenchSource(b, c.size)
				frames := make([]*pipeline.Frame, 90) // 3 s: one event
				for i := range frames {
					frames[i] = pipeline.NewFrame(c.size)
					if err := src.Next(context.Background(), frames[i]); err != nil {
						b.Fatal(err)
					}
				}
				det, err := d.new(c.size)
				if err != nil {
					b.Fatal(err)
				}
				defer det.Close()
				b.ReportAllocs()
				for b.Loop() {
					for _, f := range frames {
						det.Inspect(f)
					}
				}
				reportFPS(b, b.N*len(frames))
			})
		}
	}
}

// BenchmarkConvert converts BGR frames to YUV420P for the encoder.
func BenchmarkConvert(b *testing.B) {
	for _, c := range casesBenchSize {
		b.Run(c.name, func(b *testing.B) {
			f := pipeline.NewFrame(c.size)
			defer f.Free()
			if err := newBenchSource(b, c.size).Next(context.Background(), f); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				for range batch {
					if err := f.Convert(); err != nil {
						b.Fatal(err)
					}
				}
			}
			reportFPS(b, b.N*batch)
		})
	}
}
