package bucket_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/hlsmark/hlsmark/pipeline/clock"
	"github.com/hlsmark/hlsmark/pipeline/media"
)

// BenchmarkUpload720p measures, per 2 s 720p segment, the time from the
// muxer's handing a finished segment to the playlist (Add) to the
// playlist that lists it being in the bucket: the playlist written to
// disk, the segment uploaded, then the playlist. The segment is one the
// ffmpeg CLI encoded from testsrc2 (libx264 veryfast, 30 fps), copied to
// a new file for each round. It reports the median and the 99th
// percentile, in ms.
func BenchmarkUpload720p(b *testing.B) {
	ffmpeg, err := exec.LookPath("ffmpeg")
	if err != nil {
		b.Fatalf("ffmpeg is required (make setup-test installs it): %v", err)
	}
	src := filepath.Join(b.TempDir(), "720p.ts")
	if out, err := exec.Command(ffmpeg, "-v", "error", "-f", "lavfi", "-i", "testsrc2=size=1280x720:rate=30", "-t", "2",
		"-c:v", "libx264", "-preset", "veryfast", "-g", "60", "-f", "mpegts", src).CombinedOutput(); err != nil {
		b.Fatalf("ffmpeg: %v\n%s", err, out)
	}
	data, err := os.ReadFile(src)
	if err != nil {
		b.Fatal(err)
	}
	r := newRig(b, 2*time.Second, media.TS)
	var took []time.Duration
	b.ResetTimer()
	for range b.N {
		s := media.Segment{Seq: r.next, Path: filepath.Join(r.dir, media.SegmentName(r.next)),
			FirstPTS: clock.Ticks(r.next) * 2 * clock.Hz, Duration: 2 * clock.Hz, Start: r.now, Size: int64(len(data)), Frames: 60}
		if err := os.WriteFile(s.Path, data, 0o644); err != nil {
			b.Fatal(err)
		}
		start := time.Now()
		r.addSegment(s)
		r.drain()
		took = append(took, time.Since(start))
	}
	b.StopTimer()
	slices.Sort(took)
	b.ReportMetric(float64(took[len(took)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(took[len(took)*99/100].Microseconds())/1000, "p99-ms")
	b.ReportMetric(float64(len(data)), "segment-bytes")
}
