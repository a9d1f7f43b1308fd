package pipeline_test

import (
	"context"
	"errors"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hlsmark/hlsmark/pipeline"
	"github.com/hlsmark/hlsmark/pipeline/clock"
	"github.com/hlsmark/hlsmark/pipeline/media"
	"github.com/hlsmark/hlsmark/pipeline/pipelinetest"
)

// liveSize is the size of the live tests' frames: small, to decode fast.
var liveSize = media.Size{Width: 64, Height: 48}

// serveFiles serves dir's files over HTTP on loopback until the test ends
// and returns the server's base URL.
func serveFiles(t *testing.T, dir string) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.FileServer(http.Dir(dir))}
	var wg sync.WaitGroup
	wg.Go(func() { _ = srv.Serve(ln) })
	t.Cleanup(func() { srv.Close(); wg.Wait() })
	return "http://" + ln.Addr().String() + "/"
}

// pass is one connection's frames: their PTS, and whether the first was
// marked Discontinuity.
type pass struct {
	pts   []clock.Ticks
	broke bool
}

// readPasses reads a live source on a fake clock until it has n passes
// (connections) of frames, and returns all but the last, which may be cut.
func readPasses(t *testing.T, src pipeline.Source, n int) []pass {
	t.Helper()
	f := pipeline.NewFrame(src.Size())
	defer f.Free()
	var passes []pass
	for len(passes) <= n {
		f.Discontinuity = false
		if err := src.Next(context.Background(), f); err != nil {
			t.Fatal(err)
		}
		if len(passes) == 0 || f.Discontinuity {
			passes = append(passes, pass{broke: f.Discontinuity})
		}
		p := &passes[len(passes)-1]
		p.pts = append(p.pts, f.PTS)
	}
	return passes[:n]
}

// TestLiveSourceReconnects reads an MPEG-TS file over HTTP as a live
// input on a fake clock: frames are held until due, so each pass ends at
// its last frame's time; the input ends, and the source waits, connects
// again, and marks the next pass's first frame Discontinuity, at exactly
// the clock's reading then: the last PTS plus the wait. Within a pass
// every step is 3600 ticks. A 2 s file's passes wait 1, 2, 4, 8, 16, 30,
// 30 s (doubling up to 30 s); a 31 s file's passes, each a good run, wait
// 1 s every time.
func TestLiveSourceReconnects(t *testing.T) {
	for _, c := range []struct {
		name, seconds string
		waits         []time.Duration
	}{
		{"short runs back off", "2", []time.Duration{1, 2, 4, 8, 16, 30, 30}},
		{"good runs reset", "31", []time.Duration{1, 1}},
	} {
		t.Run(c.name, func(t *testing.T) {
			ts := ffmpeg(t, "-f", "lavfi", "-i", "testsrc2=size=64x48:rate=25", "-t", c.seconds,
				"-c:v", "libx264", "-g", "25", "-pix_fmt", "yuv420p", "-f", "mpegts", c.seconds+".ts")
			base := serveFiles(t, filepath.Dir(ts))
			src, err := pipeline.NewLiveSource(pipeline.LiveConfig{Input: base + filepath.Base(ts), Size: liveSize},
				pipeline.Start{Clock: clock.NewFake(startAt, nil), Timeline: clock.Timeline{Epoch: pipelinetest.Epoch}}, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer src.Close()
			passes := readPasses(t, src, len(c.waits)+1)
			if passes[0].broke || passes[0].pts[0] != startPTS {
				t.Errorf("first frame: PTS %d, discontinuity %v; want the clock's reading %d, no discontinuity", passes[0].pts[0], passes[0].broke, startPTS)
			}
			for i, p := range passes {
				for j := 1; j < len(p.pts); j++ {
					if p.pts[j]-p.pts[j-1] != 3600 {
						t.Fatalf("pass %d frame %d: PTS %d after %d, want a step of 3600", i, j, p.pts[j], p.pts[j-1])
					}
				}
				if i == 0 {
					continue
				}
				last := passes[i-1].pts[len(passes[i-1].pts)-1]
				want := last + clock.Ticks(c.waits[i-1])*clock.Hz
				if !p.broke || p.pts[0] != want {
					t.Errorf("pass %d starts at PTS %d (discontinuity %v), want %d: the last PTS %d plus the %d s wait",
						i, p.pts[0], p.broke, want, last, c.waits[i-1])
				}
			}
		})
	}
}

// TestLiveSourceCameraErrors opens cameras through libavdevice's v4l2
// input with every device option set: a path that is not there and a
// file that is no video device. The source does not end: Reconnecting
// names the camera and libav's error until the context ends.
func TestLiveSourceCameraErrors(t *testing.T) {
	for _, c := range []struct {
		name, device, err string
	}{
		{"missing device", filepath.Join(t.TempDir(), "video0"), "No such file or directory"},
		{"not a video device", "/dev/null", "camera /dev/null"},
	} {
		t.Run(c.name, func(t *testing.T) {
			cfg := pipeline.LiveConfig{Input: "v4l2:" + c.device, Size: liveSize,
				Device: pipeline.DeviceConfig{Size: media.Size{Width: 640, Height: 480}, FPS: "30", PixFmt: "yuyv422"}}
			src, err := pipeline.NewLiveSource(cfg, pipeline.Start{Clock: clock.Real{}, Timeline: clock.Timeline{Epoch: time.Now()}}, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer src.Close()
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan error, 1)
			go func() { done <- src.Next(ctx, pipeline.NewFrame(liveSize)) }()
			for src.Reconnecting() == nil {
				time.Sleep(10 * time.Millisecond)
			}
			lost := src.Reconnecting()
			cancel()
			if err := <-done; !errors.Is(err, context.Canceled) {
				t.Errorf("Next: %v, want the context's end", err)
			}
			if !strings.Contains(lost.Error(), "camera "+c.device) || !strings.Contains(lost.Error(), c.err) {
				t.Errorf("Reconnecting: %v, want the camera named and %q", lost, c.err)
			}
		})
	}
}

// TestLiveSourceEndsWhileConnecting connects to an RTSP server that
// accepts the connection and never answers, with no deadline to speak of
// (an hour), and ends the context once the connection is made: Next
// returns the context's error, libav's blocked open interrupted through
// its interrupt callback. (Without the callback it would wait the hour.)
func TestLiveSourceEndsWhileConnecting(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	src, err := pipeline.NewLiveSource(pipeline.LiveConfig{Input: "rtsp://" + ln.Addr().String() + "/cam", Size: liveSize, Timeout: time.Hour},
		pipeline.Start{Clock: clock.Real{}, Timeline: clock.Timeline{Epoch: time.Now()}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- src.Next(ctx, pipeline.NewFrame(liveSize)) }()
	conn, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Errorf("Next: %v, want the context's end", err)
	}
	if lost := src.Reconnecting(); lost != nil {
		t.Errorf("Reconnecting: %v, want nil: the source was stopped, not lost", lost)
	}
}
