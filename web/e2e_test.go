package web_test

import (
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// fps is the test stream's frame rate: a frame lasts 1/fps seconds.
const fps = 30

// apiMarker is the part of a marker of the API that the test reads.
type apiMarker struct {
	ID       int      `json:"id"`
	Label    string   `json:"label"`
	Sequence *int     `json:"sequence"`
	Offset   *float64 `json:"offset"`
}

// playback is the state of the page's <video>.
type playback struct {
	Videos  int     `json:"videos"`
	Time    float64 `json:"time"`
	Paused  bool    `json:"paused"`
	Seeking bool    `json:"seeking"`
	Ready   int     `json:"ready"`
	// Expected is the marker's position on the player's clock: the start
	// of the hls.js fragment whose sn is the marker's sequence, plus the
	// marker's offset; null while that fragment is unknown.
	Expected *float64 `json:"expected"`
	// Parsed says hls.js has read that fragment's real PTS.
	Parsed bool `json:"parsed"`
	// SeekableEnd is the end of video.seekable; Target the playlist's
	// EXT-X-TARGETDURATION.
	SeekableEnd float64 `json:"seekableEnd"`
	Target      float64 `json:"target"`
	// Behind says the LIVE button shows the player behind the live point,
	// BehindText by how much.
	Behind     bool   `json:"behind"`
	BehindText string `json:"behindText"`
	// LastSeek is what the page's last marker seek did.
	LastSeek *struct {
		Seeks int `json:"seeks"`
		MS    int `json:"ms"`
	} `json:"lastSeek"`
}

// playbackJS reads playback; seq and offset name the marker, if any.
func playbackJS(seq int, offset float64) string {
	return fmt.Sprintf(`(() => {
  const v = document.querySelector('video');
  const hls = window.hlsmark && window.hlsmark.hls;
  const d = hls && hls.latestLevelDetails;
  const f = d && d.fragments.find((f) => f.sn === %d);
  const live = document.getElementById('live');
  const s = v.seekable;
  return {
    lastSeek: window.hlsmark ? window.hlsmark.player.lastMarkerSeek : null,
    videos: document.querySelectorAll('video').length,
    time: v.currentTime, paused: v.paused, seeking: v.seeking, ready: v.readyState,
    expected: f ? f.start + %g : null,
    parsed: !!f && Number.isFinite(f.startPTS) && Number.isFinite(f.endPTS),
    seekableEnd: s.length ? s.end(s.length - 1) : 0,
    target: d ? d.targetduration : 0,
    behind: live.classList.contains('is-behind') && !live.hidden,
    behindText: document.getElementById('live-behind').textContent,
  };
})()`, seq, offset)
}

// mintJS draws the video's current frame on a canvas and counts its mint
// pixels: each channel within 40 of (0, 255, 200), as the detector counts.
const mintJS = `(() => {
  const v = document.querySelector('video');
  const c = document.createElement('canvas');
  c.width = v.videoWidth;
  c.height = v.videoHeight;
  const g = c.getContext('2d', { willReadFrequently: true });
  g.drawImage(v, 0, 0);
  const px = g.getImageData(0, 0, c.width, c.height).data;
  let n = 0;
  for (let i = 0; i < px.length; i += 4) {
    if (px[i] <= 40 && px[i + 1] >= 215 && Math.abs(px[i + 2] - 200) <= 40) n++;
  }
  return { width: c.width, height: c.height, mint: n };
})()`

type frameScan struct {
	Width  int `json:"width"`
	Height int `json:"height"`
	Mint   int `json:"mint"`
}

// minMint is how many mint pixels a frame with the event block has at
// least: the block is a ninth of the frame's height square, some 1,300
// pixels at 640x360.
const minMint = 300

// onMarkerFrame accepts a paused, settled video showing the marker's frame:
// its time is the marker's position, to within one frame.
func onMarkerFrame(p playback) bool {
	return p.Paused && !p.Seeking && p.Ready >= 2 && p.Parsed && p.Expected != nil &&
		math.Abs(p.Time-*p.Expected) < 1.0/fps
}

// TestPlayerSeeksToMarkerFrame plays a live stream in headless Chromium,
// clicks a marker in the list, and checks from the video element that it
// shows the marker's first frame: the mint block is on it and not on the
// frame before. Then LIVE brings it back to the live edge.
func TestPlayerSeeksToMarkerFrame(t *testing.T) {
	srv := startServer(t, "--size", "640x360", "--fps", fmt.Sprint(fps), "--segment", "1s", "--window", "1m",
		"--event-fixed", "--event-every", "3s", "--event-duration", "1s")
	// Let three markers into published segments before the page opens: the
	// player starts at the live edge, so the oldest marker's fragment is not
	// loaded when it is clicked, and hls.js knows its start only from the
	// playlist's rounded EXTINF values until the seek loads it.
	srv.waitMarkers(t, 3, 60*time.Second)
	b := newBrowser(t)
	b.do(t, "open the player", 30*time.Second, chromedp.Navigate(srv.base+"/"))

	p := waitFor(t, b, "playback at the live edge", 60*time.Second, playbackJS(-1, 0), func(p playback) bool {
		return p.Ready >= 3 && p.Time > 0 && !p.Paused
	})
	if p.Videos != 1 {
		t.Fatalf("the page has %d <video> elements, want exactly 1", p.Videos)
	}

	// A marker some seconds behind the live point, so that the LIVE button
	// has something to show: the third newest whose row can be clicked.
	// Its tick must be on the timeline too.
	const rowsJS = `[...document.querySelectorAll('.marker-list [data-marker-id]')].map((e) => Number(e.dataset.markerId))`
	ids := waitFor(t, b, "three marker rows to click", 60*time.Second, rowsJS, func(ids []int) bool { return len(ids) >= 3 })
	var m apiMarker
	srv.getJSON(t, fmt.Sprintf("/api/streams/demo/markers/%d", ids[2]), &m)
	if m.Sequence == nil || m.Offset == nil {
		t.Fatalf("marker %d has a clickable row but no stream position in the API: %+v", m.ID, m)
	}
	tickJS := fmt.Sprintf(`!!document.querySelector('.tl-ticks [data-marker-id="%d"]')`, m.ID)
	waitFor(t, b, "the marker's tick on the timeline", 10*time.Second, tickJS, func(ok bool) bool { return ok })
	// Markers created while the page is open come by the event stream and
	// are highlighted.
	waitFor(t, b, "a new marker, highlighted", 30*time.Second,
		`!!document.querySelector('.marker-item.is-new [data-marker-id]')`, func(ok bool) bool { return ok })

	var pre playback
	b.eval(t, playbackJS(*m.Sequence, *m.Offset), &pre)
	if pre.Expected != nil {
		t.Logf("before the click: fragment %d parsed %v, marker estimated at %.4f, playing at %.3f",
			*m.Sequence, pre.Parsed, *pre.Expected, pre.Time)
	}
	b.click(t, "click the marker's row", fmt.Sprintf(`.marker-list [data-marker-id="%d"]`, m.ID))
	js := playbackJS(*m.Sequence, *m.Offset)
	p = waitFor(t, b, fmt.Sprintf("the frame of marker %d (sequence %d, offset %.4f)", m.ID, *m.Sequence, *m.Offset),
		30*time.Second, js, onMarkerFrame)
	t.Logf("marker %d: currentTime %.4f, fragment start + offset %.4f, %+v", m.ID, p.Time, *p.Expected, p.LastSeek)
	checkMint(t, b, "the marker's frame", func(n int) bool { return n >= minMint })
	if !p.Behind || !strings.Contains(p.BehindText, "s") {
		t.Errorf("paused on a marker, the LIVE button shows behind=%v %q; want it to say how far behind", p.Behind, p.BehindText)
	}
	saveScreenshot(t, b, "player-marker.png")

	// The frame before has no block: the seek landed on the marker's first
	// frame, not just on one that shows the block.
	before := *p.Expected - 1.0/fps + 0.001
	b.eval(t, fmt.Sprintf(`(() => { document.querySelector('video').currentTime = %g; return true; })()`, before), new(bool))
	waitFor(t, b, "the frame before the marker", 30*time.Second, js, func(p playback) bool {
		return p.Paused && !p.Seeking && p.Ready >= 2 && math.Abs(p.Time-before) < 0.0005
	})
	checkMint(t, b, "the frame before the marker", func(n int) bool { return n == 0 })

	// ] goes to the next marker: this one again.
	b.do(t, "press ]", 10*time.Second, chromedp.KeyEvent("]"))
	waitFor(t, b, "the marker's frame after ]", 30*time.Second, js, onMarkerFrame)
	checkMint(t, b, "the marker's frame after ]", func(n int) bool { return n >= minMint })

	// A tick seeks to its marker's frame too: the newest marker's.
	var n apiMarker
	srv.getJSON(t, fmt.Sprintf("/api/streams/demo/markers/%d", ids[0]), &n)
	if n.Sequence == nil || n.Offset == nil {
		t.Fatalf("marker %d has a clickable row but no stream position in the API: %+v", n.ID, n)
	}
	b.click(t, "click the newest marker's tick", fmt.Sprintf(`.tl-ticks [data-marker-id="%d"]`, n.ID))
	p = waitFor(t, b, fmt.Sprintf("the frame of marker %d after a click on its tick", n.ID), 30*time.Second,
		playbackJS(*n.Sequence, *n.Offset), onMarkerFrame)
	checkMint(t, b, "the newest marker's frame", func(n int) bool { return n >= minMint })

	// LIVE plays from the live point again.
	b.click(t, "click LIVE", "#live")
	p = waitFor(t, b, "playback near the live edge", 30*time.Second, js, func(p playback) bool {
		return !p.Paused && p.Target > 0 && p.SeekableEnd-p.Time <= 4.5*p.Target && !p.Behind
	})
	t.Logf("live: currentTime %.3f, seekable end %.3f (target duration %gs)", p.Time, p.SeekableEnd, p.Target)

	b.do(t, "phone-sized viewport", 10*time.Second, chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(2)))
	saveScreenshot(t, b, "player-phone.png")

	for _, e := range b.consoleErrors() {
		t.Errorf("console: %s", e)
	}
}

// checkMint counts the mint pixels of the frame the video shows.
func checkMint(t *testing.T, b *browser, what string, ok func(int) bool) {
	t.Helper()
	var s frameScan
	b.eval(t, mintJS, &s)
	if s.Width != 640 || s.Height != 360 {
		t.Fatalf("%s: the video is %dx%d, want 640x360", what, s.Width, s.Height)
	}
	if !ok(s.Mint) {
		t.Fatalf("%s: %d mint pixels", what, s.Mint)
	}
	t.Logf("%s: %d mint pixels", what, s.Mint)
}

// saveScreenshot writes a PNG of the page to artifacts/ at the repository
// root (kept out of git), for a person to look at.
func saveScreenshot(t *testing.T, b *browser, name string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 20*time.Second)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	dir := filepath.Join("..", "artifacts")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	path, _ := filepath.Abs(filepath.Join(dir, name))
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s", path)
}
