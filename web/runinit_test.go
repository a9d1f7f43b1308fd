package web_test

import (
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// videoJS reads what the page's video element shows.
const videoJS = `(() => {
  const v = document.querySelector('video');
  return { width: v.videoWidth, height: v.videoHeight, time: v.currentTime, paused: v.paused,
    start: v.seekable.length ? v.seekable.start(0) : -1 };
})()`

// videoState is what videoJS returns.
type videoState struct {
	Width, Height int
	Time, Start   float64
	Paused        bool
}

// TestPlayerPlaysAcrossRunInits plays, in hls.js, an fMP4 stream whose
// server restarted with another picture size: the window holds a run at
// 320x240 after its own init segment (init-0.mp4) and one at 160x120
// after init.mp4, each named by an EXT-X-MAP. Seeked back to the window's
// start, the video shows 320x240 and plays on into the second run at
// 160x120, with no error in the console. Checked to fail with every
// EXT-X-MAP naming init.mp4 (hls.js then shows the first run at 160x120).
func TestPlayerPlaysAcrossRunInits(t *testing.T) {
	common := []string{"--format", "fmp4", "--segment", "1s", "--window", "1m", "--preset", "ultrafast"}
	srv := startServer(t, append([]string{"--size", "320x240"}, common...)...)
	waitSegments(t, srv, 4)
	srv.stop(t)
	srv = launch(t, srv.addr, srv.data, append([]string{"--size", "160x120"}, common...))
	gap := waitGap(t, srv, 4)

	b := newBrowser(t)
	b.do(t, "open the player", 30*time.Second, chromedp.Navigate(srv.base+"/"))
	waitFor(t, b, "playback of the second run", 60*time.Second, videoJS, func(v videoState) bool {
		return !v.Paused && v.Width == 160 && v.Start >= 0
	})
	var ok bool
	b.eval(t, `(() => { const v = document.querySelector('video'); v.currentTime = v.seekable.start(0) + 0.1; return true })()`, &ok)
	first := waitFor(t, b, "the first run's picture", 30*time.Second, videoJS, func(v videoState) bool {
		return !v.Paused && v.Width == 320 && v.Height == 240
	})
	waitFor(t, b, "the second run's picture, played on into", 30*time.Second, videoJS, func(v videoState) bool {
		return !v.Paused && v.Width == 160 && v.Height == 120 && v.Time > first.Time
	})
	if errs := b.consoleErrors(); len(errs) > 0 {
		t.Errorf("console errors: %v", errs)
	}
	t.Logf("discontinuity before segment %d; played from %.2f s", gap.Seq, first.Time)
}

// waitSegments waits until the stream's playlist lists n segments.
func waitSegments(t *testing.T, srv *server, n int) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for len(readSegments(t, srv)) < n {
		if time.Now().After(deadline) {
			t.Fatalf("fewer than %d segments listed within 60s", n)
		}
		time.Sleep(200 * time.Millisecond) // polling the server; no event to wait on
	}
}
