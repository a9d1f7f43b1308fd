package web_test

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// stampSample is one measurement of window.hlsmark.latency.
type stampSample struct {
	PTS     int64   `json:"pts"`
	Latency float64 `json:"latency"`
}

// TestPlayerMeasuresLatency plays a --stamp stream in headless Chromium:
// the page reads the PTS drawn into the frames the video presents, and
// computes how far behind live each was shown (now minus the frame's
// program date time, from the epoch /api/streams gives). Every PTS read is
// the PTS of a frame the server made, as ffprobe reads the segments, and
// every latency is plausible: more than zero, less than the playlist's
// length. The LIVE button shows the measurement. Checked to fail with
// latency.js reading the strip one row too low (no stamp read), and with
// frameTime adding a lap of 2^33.
func TestPlayerMeasuresLatency(t *testing.T) {
	const window = 10 * time.Second
	srv := startServer(t, "--size", "640x360", "--fps", fmt.Sprint(fps), "--segment", "1s", "--window", window.String(), "--stamp")
	b := newBrowser(t)
	b.do(t, "open the player", 30*time.Second, chromedp.Navigate(srv.base+"/"))
	samples := waitFor(t, b, "60 stamps read from the playing video", 90*time.Second,
		`window.hlsmark.latency.samples.map((s) => ({ pts: s.pts, latency: s.latency }))`,
		func(s []stampSample) bool { return len(s) >= 60 })

	var streams struct {
		Streams []struct {
			WindowSeconds float64 `json:"window_seconds"`
		} `json:"streams"`
	}
	srv.getJSON(t, "/api/streams", &streams)
	length := max(window.Seconds(), streams.Streams[0].WindowSeconds)
	made := map[int64]bool{}
	lo, hi := samples[0].PTS, samples[0].PTS
	for _, s := range samples {
		lo, hi = min(lo, s.PTS), max(hi, s.PTS)
	}
	for _, uri := range vodSegments(t, srv, lo, hi) {
		for _, p := range framePTS(t, srv, uri) {
			made[p%(1<<33)] = true
		}
	}
	for _, s := range samples {
		if !made[s.PTS] {
			t.Errorf("the page read PTS %d, which no frame of the stream has", s.PTS)
		}
		if s.Latency <= 0 || s.Latency >= length {
			t.Errorf("frame %d shown %.3f s behind live; want more than 0, less than the playlist's %.0f s", s.PTS, s.Latency, length)
		}
	}
	t.Logf("%d stamps read, latest %.3f s behind live", len(samples), samples[len(samples)-1].Latency)

	label := waitFor(t, b, "the LIVE button's measurement", 10*time.Second,
		`[document.getElementById('live-behind').textContent, document.getElementById('live').getAttribute('aria-label')]`,
		func(l []string) bool { return len(l) == 2 && strings.Contains(l[1], "measured") })
	if !strings.HasSuffix(label[0], "\u202fs") {
		t.Errorf("the LIVE button shows %q, want the measured latency in seconds", label[0])
	}
	if errs := b.consoleErrors(); len(errs) > 0 {
		t.Errorf("console errors: %q", errs)
	}
}

// vodSegments returns the URIs of the segments vod.m3u8 lists from the
// frame at TS PTS from to the one at to: in the window, or retained past it.
func vodSegments(t *testing.T, srv *server, from, to int64) []string {
	t.Helper()
	resp, err := http.Get(fmt.Sprintf("%s/streams/demo/vod.m3u8?from=pts:%d&to=pts:%d", srv.base, from, to))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET vod.m3u8: %s, %v", resp.Status, err)
	}
	var uris []string
	for _, line := range strings.Split(string(body), "\n") {
		if line = strings.TrimSpace(line); line != "" && !strings.HasPrefix(line, "#") {
			uris = append(uris, line)
		}
	}
	return uris
}
