package main

import (
	"fmt"
	"net"
	"net/http"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/grafov/m3u8"

	"github.com/hlsmark/hlsmark/pipeline/clock"
)

// cameraClip makes a 4 s H.264 clip of testsrc2 at 25 fps, a keyframe a
// second, without B-frames, for the RTSP publisher to loop.
func cameraClip(t *testing.T) string {
	t.Helper()
	return makeFile(t, "-f", "lavfi", "-i", "testsrc2=size=320x240:rate=25", "-t", "4",
		"-c:v", "libx264", "-bf", "0", "-g", "25", "-pix_fmt", "yuv420p", "clip.mp4")
}

// listedSegment is a segment as the playlist lists it.
type listedSegment struct {
	seq           uint64
	uri           string
	discontinuity bool
}

// listed returns the playlist's segments with their sequence numbers,
// none for no playlist.
func listed(pl *m3u8.MediaPlaylist) []listedSegment {
	var out []listedSegment
	if pl == nil {
		return nil
	}
	for _, s := range segments(pl) {
		out = append(out, listedSegment{seq: s.SeqId, uri: s.URI, discontinuity: s.Discontinuity})
	}
	return out
}

// TestRTSPReconnects pulls a real RTSP server's stream (gortsplib, fed by
// the ffmpeg CLI in real time; the media over TCP, then over UDP), then
// stops the server and its publisher: /api/streams says reconnecting, with the error, and /readyz answers
// 503; the server and publisher start again on the same port and the
// stream goes on. The playlist marks the first segment after the break,
// and only it, EXT-X-DISCONTINUITY; sequence numbers are consecutive,
// none reused (every segment listed before the break is still listed
// under its number, its file unchanged); decoded, the frames' PTS rise
// 3600 ticks a frame within each connection and rise across the break.
func TestRTSPReconnects(t *testing.T) {
	clip := cameraClip(t)
	for _, transport := range []string{"tcp", "udp"} {
		t.Run(transport, func(t *testing.T) { testRTSPReconnects(t, clip, transport) })
	}
}

// freeUDPPair returns two loopback UDP addresses free a moment ago, on an
// even port and the next: RTP's and RTCP's.
func freeUDPPair(t *testing.T) (rtp, rtcp string) {
	t.Helper()
	for range 100 {
		a, err := net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		port := a.LocalAddr().(*net.UDPAddr).Port
		b, err := net.ListenPacket("udp", fmt.Sprintf("127.0.0.1:%d", port+1))
		a.Close()
		if err == nil {
			b.Close()
			if port%2 == 0 {
				return fmt.Sprintf("127.0.0.1:%d", port), fmt.Sprintf("127.0.0.1:%d", port+1)
			}
		}
	}
	t.Fatal("no free pair of UDP ports")
	return "", ""
}

// testRTSPReconnects is TestRTSPReconnects with the media over transport.
func testRTSPReconnects(t *testing.T, clip, transport string) {
	addrs := relayAddrs{rtsp: freeAddr(t)}
	if transport == "udp" {
		addrs.rtp, addrs.rtcp = freeUDPPair(t)
	}
	relay := startRelay(t, addrs, clip)
	data := t.TempDir()
	s := startServer(t, data, freeAddr(t), "--input", "rtsp://"+addrs.rtsp+"/cam", "--rtsp-transport", transport, "--fps", "25")
	pollUntil(t, "three segments from the camera", time.Minute, func() bool {
		pl := s.mustPlaylist(t)
		return pl != nil && len(segments(pl)) >= 3
	})

	relay.stop()
	pollUntil(t, "the stream to say reconnecting", time.Minute, func() bool { st, _ := s.streamState(); return st == "reconnecting" })
	if _, reason := s.streamState(); reason == "" {
		t.Error("a reconnecting stream gives no reason")
	}
	if code, body := s.get("/readyz"); code != http.StatusServiceUnavailable || !strings.Contains(string(body), "reconnecting") {
		t.Errorf("/readyz while reconnecting: %d %s, want 503 saying reconnecting", code, body)
	}
	before := listed(s.mustPlaylist(t))
	beforeFrames := decodedPTS(t, s.mustPlaylist(t), data)

	startRelay(t, addrs, clip)
	pollUntil(t, "three more segments", 2*time.Minute, func() bool {
		return len(segments(s.mustPlaylist(t))) >= len(before)+3
	})
	if st, _ := s.streamState(); st != "live" {
		t.Errorf("after the reconnection the stream says %q, want live", st)
	}
	pl := s.mustPlaylist(t)
	after := listed(pl)
	for i, seg := range before {
		if i >= len(after) || after[i] != seg {
			t.Fatalf("segment %d (%s) listed before the break is not listed the same after it: %+v", seg.seq, seg.uri, after)
		}
	}
	breaks := 0
	for i := range after {
		if i > 0 && after[i].seq != after[i-1].seq+1 {
			t.Fatalf("sequence %d follows %d", after[i].seq, after[i-1].seq)
		}
		if after[i].discontinuity {
			breaks++
		}
	}
	if breaks != 1 {
		t.Fatalf("%d segments marked EXT-X-DISCONTINUITY, want the 1 after the break", breaks)
	}

	decoded := decodedPTS(t, pl, data)
	var prev clock.Ticks
	for i, seg := range after {
		pts := decoded[seg.seq]
		if len(pts) == 0 {
			t.Fatalf("segment %d decodes to no frame", seg.seq)
		}
		if want, ok := beforeFrames[seg.seq]; ok && !slices.Equal(pts, want) {
			t.Fatalf("segment %d's frames changed after the break: its number was reused", seg.seq)
		}
		for j, p := range pts {
			switch {
			case i == 0 && j == 0:
			case j == 0 && seg.discontinuity:
				if p <= prev {
					t.Fatalf("segment %d after the break starts at PTS %d, not after %d", seg.seq, p, prev)
				}
			case p-prev != 3600:
				t.Fatalf("segment %d frame %d: PTS %d after %d, want a step of 3600 within a connection", seg.seq, j, p, prev)
			}
			prev = p
		}
	}
	s.stop(t, syscall.SIGTERM)
}
