package main

import (
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hlsmark/hlsmark/pipeline"
	"github.com/hlsmark/hlsmark/pipeline/clock"
)

// silentServer listens on loopback, accepts every connection and never
// answers on it: a camera whose software hung. It returns the address.
func silentServer(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var conns []net.Conn
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			conns = append(conns, c)
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		<-done
		for _, c := range conns {
			c.Close()
		}
	})
	return ln.Addr().String()
}

// TestUnreachableCamera points serve at an RTSP address where nothing
// listens, and at a server that accepts the connection and never answers.
// Neither hangs the stream or ends the process: /api/streams says
// reconnecting with the error (the refused connection; for the silent
// server, the read timeout the interrupt callback enforces), /readyz
// answers 503, and SIGTERM stops the server with exit 0.
func TestUnreachableCamera(t *testing.T) {
	for _, c := range []struct {
		name, addr, reason string
	}{
		{"closed port", unusedAddr(t), "refused"},
		{"silent server", silentServer(t), "nothing for 5s"},
	} {
		t.Run(c.name, func(t *testing.T) {
			s := startServer(t, t.TempDir(), freeAddr(t), "--input", "rtsp://"+c.addr+"/cam")
			pollUntil(t, "the stream to say reconnecting", time.Minute, func() bool { st, _ := s.streamState(); return st == "reconnecting" })
			if _, reason := s.streamState(); !strings.Contains(reason, c.reason) {
				t.Errorf("reason %q, want the error (%s)", reason, c.reason)
			}
			if code, body := s.get("/readyz"); code != http.StatusServiceUnavailable || !strings.Contains(string(body), "reconnecting") {
				t.Errorf("/readyz: %d %s, want 503 saying reconnecting", code, body)
			}
			if s.cmd.ProcessState != nil {
				t.Fatalf("the server exited:\n%s", s.log)
			}
			s.stop(t, syscall.SIGTERM)
		})
	}
}

// TestHTTPTransportStream pulls an MPEG-TS file (3 s at 25 fps, with
// B-frames) from an HTTP server in the test. It streams in full with
// every PTS 3600 ticks after the one before; at its end the input is
// reconnected, and the next pass starts a segment marked
// EXT-X-DISCONTINUITY whose PTS go on rising, 3600 ticks apart again.
func TestHTTPTransportStream(t *testing.T) {
	ts := makeFile(t, "-f", "lavfi", "-i", "testsrc2=size=320x240:rate=25", "-t", "3",
		"-c:v", "libx264", "-bf", "2", "-g", "25", "-pix_fmt", "yuv420p", "-f", "mpegts", "clip.ts")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.FileServer(http.Dir(filepath.Dir(ts)))}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { srv.Close() })

	data := t.TempDir()
	s := startServer(t, data, freeAddr(t), "--input", "http://"+ln.Addr().String()+"/clip.ts", "--fps", "25")
	pollUntil(t, "a segment after a discontinuity", 2*time.Minute, func() bool {
		segs := listed(s.mustPlaylist(t))
		for i, seg := range segs {
			if seg.discontinuity && i+1 < len(segs) {
				return true
			}
		}
		return false
	})
	pl := s.mustPlaylist(t)
	decoded := decodedPTS(t, pl, data)
	var passes [][]clock.Ticks
	for _, seg := range listed(pl) {
		if seg.discontinuity || len(passes) == 0 {
			passes = append(passes, nil)
		}
		passes[len(passes)-1] = append(passes[len(passes)-1], decoded[seg.seq]...)
	}
	if len(passes[0]) != 75 {
		t.Errorf("the first pass decodes to %d frames, want the file's 75", len(passes[0]))
	}
	for i, pass := range passes {
		if i > 0 && pass[0] <= passes[i-1][len(passes[i-1])-1] {
			t.Errorf("pass %d starts at PTS %d, not after %d", i, pass[0], passes[i-1][len(passes[i-1])-1])
		}
		for j := 1; j < len(pass); j++ {
			if pass[j]-pass[j-1] != 3600 {
				t.Fatalf("pass %d frame %d: PTS %d after %d, want a step of 3600", i, j, pass[j], pass[j-1])
			}
		}
	}
	s.stop(t, syscall.SIGTERM)
}

// TestServeBadLiveInput refuses, with exit 2 and one line naming the
// flag, a transport RTSP does not have, camera options without a camera,
// a camera that is not there and options libav cannot pass to one.
func TestServeBadLiveInput(t *testing.T) {
	notCamera := filepath.Join(t.TempDir(), "video0")
	if err := os.WriteFile(notCamera, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name  string
		args  []string
		names string
	}{
		{"unknown transport", []string{"--input", "rtsp://127.0.0.1:8554/cam", "--rtsp-transport", "sctp"}, "--rtsp-transport"},
		{"transport without rtsp", []string{"--input", "http://127.0.0.1/x.ts", "--rtsp-transport", "udp"}, "--rtsp-transport"},
		{"input size without a camera", []string{"--input-size", "640x480"}, "--input-size"},
		{"input size with rtsp", []string{"--input", "rtsp://127.0.0.1:8554/cam", "--input-size", "640x480"}, "--input-size"},
		{"missing camera", []string{"--input", "/dev/video99"}, "--input"},
		{"bad camera size", []string{"--input", "v4l2:" + notCamera, "--input-size", "640"}, "--input-size"},
		{"bad camera rate", []string{"--input", "v4l2:" + notCamera, "--input-fps", "fast"}, "--input-fps"},
		{"unknown camera format", []string{"--input", "v4l2:" + notCamera, "--input-pix-fmt", "nope"}, "--input-pix-fmt"},
		{"loop of a camera", []string{"--input", "rtsp://127.0.0.1:8554/cam", "--loop"}, "--loop"},
	} {
		t.Run(c.name, func(t *testing.T) {
			args := append([]string{"serve", "--addr", freeAddr(t), "--data", t.TempDir()}, c.args...)
			checkUsageError(t, runCLI(t, t.TempDir(), args...), c.names)
		})
	}
}

// TestPushedMPEGTS streams MPEG-TS that the ffmpeg CLI sends in real time,
// looping a clip: to hlsmark listening on a UDP port, and from an SRT
// listener hlsmark calls. Decoded, the segments' frames are 3600 ticks
// apart, frame after frame, with no discontinuity.
func TestPushedMPEGTS(t *testing.T) {
	clip := cameraClip(t)
	for _, c := range []struct {
		name  string
		input func(port string) (hlsmark, ffmpeg string)
	}{
		{"udp", func(port string) (string, string) {
			return "udp://127.0.0.1:" + port, "udp://127.0.0.1:" + port + "?pkt_size=1316"
		}},
		{"srt", func(port string) (string, string) {
			return "srt://127.0.0.1:" + port, "srt://127.0.0.1:" + port + "?mode=listener"
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, port, _ := net.SplitHostPort(freeAddr(t))
			in, out := c.input(port)
			bin, err := exec.LookPath("ffmpeg")
			if err != nil {
				t.Fatalf("ffmpeg is required (Debian package ffmpeg): %v", err)
			}
			sender := exec.Command(bin, "-nostdin", "-v", "error", "-re", "-stream_loop", "-1", "-i", clip,
				"-c", "copy", "-f", "mpegts", out)
			if err := sender.Start(); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = sender.Process.Kill(); _ = sender.Wait() })
			data := t.TempDir()
			s := startServer(t, data, freeAddr(t), "--input", in, "--fps", "25")
			pollUntil(t, "four segments", time.Minute, func() bool {
				return len(listed(s.mustPlaylist(t))) >= 4
			})
			pl := s.mustPlaylist(t)
			decoded := decodedPTS(t, pl, data)
			var pts []clock.Ticks
			for _, seg := range listed(pl) {
				if seg.discontinuity {
					t.Fatalf("segment %d is marked EXT-X-DISCONTINUITY: the input was lost\n%s", seg.seq, s.log)
				}
				pts = append(pts, decoded[seg.seq]...)
			}
			for i := 1; i < len(pts); i++ {
				if pts[i]-pts[i-1] != 3600 {
					t.Fatalf("frame %d: PTS %d after %d, want a step of 3600", i, pts[i], pts[i-1])
				}
			}
			s.stop(t, syscall.SIGTERM)
		})
	}
}

// TestRestartKeepsInputClock: an MPEG-TS over UDP whose timestamps run on
// (the ffmpeg CLI sends it in real time, looping) is streamed, the server
// stops and starts again on the same folder while the input goes on. The
// restarted stream takes the timestamp mapping the first kept in the
// stream's folder: every frame, before and after the restart, is a whole
// number of the input's 3600-tick steps from the first, so PTS keep
// following the input's own clock, across an EXT-X-DISCONTINUITY. (A new
// mapping would start at the clock's reading: a whole number of steps
// from the old one once in 3600 restarts.)
func TestRestartKeepsInputClock(t *testing.T) {
	clip := cameraClip(t)
	_, port, _ := net.SplitHostPort(freeAddr(t))
	bin, err := exec.LookPath("ffmpeg")
	if err != nil {
		t.Fatalf("ffmpeg is required (Debian package ffmpeg): %v", err)
	}
	sender := exec.Command(bin, "-nostdin", "-v", "error", "-re", "-stream_loop", "-1", "-i", clip,
		"-c", "copy", "-f", "mpegts", "udp://127.0.0.1:"+port+"?pkt_size=1316")
	if err := sender.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sender.Process.Kill(); _ = sender.Wait() })
	data, addr := t.TempDir(), freeAddr(t)
	in := "udp://127.0.0.1:" + port
	s := startServer(t, data, addr, "--input", in, "--fps", "25")
	pollUntil(t, "three segments", time.Minute, func() bool { return len(listed(s.mustPlaylist(t))) >= 3 })
	s.stop(t, syscall.SIGTERM)
	before := len(listedOnDisk(t, filepath.Join(data, "demo")))
	if _, err := os.Stat(filepath.Join(data, "demo", pipeline.MappingFile)); err != nil {
		t.Fatalf("the stream kept no timestamp mapping: %v", err)
	}

	s = startServer(t, data, addr, "--input", in, "--fps", "25")
	pollUntil(t, "three more segments", time.Minute, func() bool { return len(listed(s.mustPlaylist(t))) >= before+3 })
	pl := s.mustPlaylist(t)
	s.stop(t, syscall.SIGTERM)
	decoded := decodedPTS(t, pl, data)
	var pts []clock.Ticks
	resumedAt := -1
	for i, seg := range listed(pl) {
		if seg.discontinuity {
			resumedAt = i
		}
		pts = append(pts, decoded[seg.seq]...)
	}
	if resumedAt < before {
		t.Fatalf("no EXT-X-DISCONTINUITY at the restart (segment %d of %d)", resumedAt, len(listed(pl)))
	}
	for i := 1; i < len(pts); i++ {
		if d := pts[i] - pts[i-1]; d <= 0 || d%3600 != 0 {
			t.Fatalf("frame %d: PTS %d after %d: a gap of %d ticks, not a whole number of the input's 3600-tick steps", i, pts[i], pts[i-1], d)
		}
	}
}
