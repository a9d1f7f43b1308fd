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
	// FragStart and FragEnd bound, on the player's clock, the hls.js
	// fragment whose sn is the marker's sequence; null while hls.js does
	// not list it.
	FragStart *float64 `json:"fragStart"`
	FragEnd   *float64 `json:"fragEnd"`
	// Parsed says hls.js has read that fragment's real PTS.
	Parsed bool `json:"parsed"`
	// Buffered says the media buffer holds the video's position.
	Buffered bool `json:"buffered"`
	// PrevEnd is where the fragment before the marker's ends, on the
	// player's clock, once hls.js has read its real PTS; else null.
	PrevEnd *float64 `json:"prevEnd"`
	// SeekableEnd is the end of video.seekable; Target the playlist's
	// EXT-X-TARGETDURATION.
	SeekableEnd float64 `json:"seekableEnd"`
	Target      float64 `json:"target"`
	// Behind says the LIVE button shows the player behind the live point,
	// BehindText by how much.
	Behind     bool   `json:"behind"`
	BehindText string `json:"behindText"`
	// LastSeek is what the page's last marker seek did: done once the
	// page says the video shows the marker's frame.
	LastSeek *struct {
		ID    int  `json:"id"`
		Seeks int  `json:"seeks"`
		MS    int  `json:"ms"`
		Done  bool `json:"done"`
	} `json:"lastSeek"`
}

// playbackJS reads playback; seq names the marker's fragment, if any.
func playbackJS(seq int) string {
	return fmt.Sprintf(`(() => {
  const v = document.querySelector('video');
  const hls = window.hlsmark && window.hlsmark.hls;
  const d = hls && hls.latestLevelDetails;
  const f = d && d.fragments.find((f) => f.sn === %[1]d);
  const pf = d && d.fragments.find((f) => f.sn === %[1]d - 1);
  const live = document.getElementById('live');
  const s = v.seekable;
  return {
    lastSeek: window.hlsmark ? window.hlsmark.player.lastMarkerSeek : null,
    videos: document.querySelectorAll('video').length,
    time: v.currentTime, paused: v.paused, seeking: v.seeking, ready: v.readyState,
    fragStart: f ? f.start : null,
    fragEnd: f ? f.start + f.duration : null,
    parsed: !!f && Number.isFinite(f.startPTS) && Number.isFinite(f.endPTS),
    prevEnd: pf && Number.isFinite(pf.endPTS) ? pf.endPTS : null,
    buffered: [...Array(v.buffered.length).keys()].some((i) => v.buffered.start(i) <= v.currentTime && v.currentTime < v.buffered.end(i)),
    seekableEnd: s.length ? s.end(s.length - 1) : 0,
    target: d ? d.targetduration : 0,
    behind: live.classList.contains('is-behind') && !live.hidden,
    behindText: document.getElementById('live-behind').textContent,
  };
})()`, seq)
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

// seekedTo accepts a paused, settled video whose page says its seek to
// marker id is done.
func seekedTo(id int) func(playback) bool {
	return func(p playback) bool {
		return p.Paused && !p.Seeking && p.Ready >= 2 && p.Parsed &&
			p.LastSeek != nil && p.LastSeek.ID == id && p.LastSeek.Done
	}
}

// forgetSeekJS clears the page's report of its last marker seek, so that
// the next report is of the next seek.
const forgetSeekJS = `(() => { window.hlsmark.player.lastMarkerSeek = null; return true; })()`

// frameBefore is how far before the position a marker seek leaves the
// video the check for "no block on the frame before" looks: half a nominal
// frame interval. The page seeks 1 ms after the marker's frame starts, so
// this lands inside the frame before it (frames are a nominal interval
// apart) or, after skipped frames, in an earlier one, which has no block
// either, the marker's being the first with it. Closer to the frame's
// start is not a question about the page: at a segment boundary hls.js
// moves a segment's first frame back over a small timestamp gap, and
// Chromium may show that frame a little before its PTS. Where the gap is
// wider (a frame late at the boundary, on a busy machine), Chromium shows
// the next frame, the marker's, at a time inside it: the frame before a
// fragment's first is then looked for inside the previous fragment's
// last frame, half an interval before that fragment's end.
const frameBefore = 0.5 / fps

// checkMarkerFrame waits until the page says it shows marker m's frame,
// and checks, from the pixels alone, that the video shows the first frame
// of m's event: the mint block is on it, and not on the frame just before.
// It returns the playback state on the marker's frame.
func checkMarkerFrame(t *testing.T, b *browser, what string, m apiMarker) playback {
	t.Helper()
	js := playbackJS(*m.Sequence)
	p := waitFor(t, b, fmt.Sprintf("%s: marker %d (sequence %d, offset %.4f)", what, m.ID, *m.Sequence, *m.Offset),
		30*time.Second, js, seekedTo(m.ID))
	t.Logf("%s: marker %d at %.4f, its fragment %.4f to %.4f, %+v", what, m.ID, p.Time, *p.FragStart, *p.FragEnd, *p.LastSeek)
	if p.Time < *p.FragStart || p.Time >= *p.FragEnd {
		t.Fatalf("%s: the video is at %.4f, outside the marker's fragment (%.4f to %.4f)", what, p.Time, *p.FragStart, *p.FragEnd)
	}
	checkMint(t, b, what, func(n int) bool { return n >= minMint })
	before := p.Time - frameBefore
	q := seekPaused(t, b, what+": the frame before", js, before)
	// If the marker's frame is its segment's first (offset 0, as the
	// server placed it), seeking there read the fragment before: with a
	// gap between the two, look inside that one's last frame (see
	// frameBefore). A seek landing a frame late is still caught: its
	// frame before is the marker's, inside the marker's fragment.
	if q.PrevEnd != nil {
		t.Logf("%s: the fragment before ends at %.4f", what, *q.PrevEnd)
	}
	if *m.Offset == 0 && q.PrevEnd != nil && before > *q.PrevEnd-frameBefore {
		before = *q.PrevEnd - frameBefore
		t.Logf("%s: the frame before looked for at %.4f, in the previous fragment", what, before)
		seekPaused(t, b, what+": the frame before, in the previous fragment", js, before)
	}
	checkMint(t, b, what+": the frame before", func(n int) bool { return n == 0 })
	return p
}

// seekPaused sets the paused video's position to at and waits until it
// shows the frame there; js reads the playback state it returns.
func seekPaused(t *testing.T, b *browser, what, js string, at float64) playback {
	t.Helper()
	b.eval(t, fmt.Sprintf(`(() => { document.querySelector('video').currentTime = %g; return true; })()`, at), new(bool))
	return waitFor(t, b, what, 30*time.Second, js, func(p playback) bool {
		return p.Paused && !p.Seeking && p.Ready >= 2 && p.Buffered && math.Abs(p.Time-at) < 0.0005
	})
}

// TestPlayerSeeksToMarkerFrame plays a live stream in headless Chromium,
// clicks a marker in the list, and checks from the video element that it
// shows the marker's first frame: the mint block is on it and not on the
// frame before. So do ] and a click on a tick, the latter to a marker
// whose segment follows a hole in the stream. Then LIVE brings it back to
// the live edge.
//
// It runs for each segment format: MPEG-TS, and fMP4 (init.mp4 and .m4s
// segments, which hls.js appends to MSE as they are, timestamps and all).
func TestPlayerSeeksToMarkerFrame(t *testing.T) {
	for _, c := range casesStreamFormat {
		t.Run(c.name, func(t *testing.T) { playerSeeksToMarkerFrame(t, c.name, c.flags...) })
	}
}

// casesStreamFormat are the kinds of stream the player seeks in: MPEG-TS
// and fMP4 segments, and fMP4 with Low-Latency HLS parts (hls.js in
// lowLatencyMode).
var casesStreamFormat = []struct {
	name  string
	flags []string
}{
	{"ts", []string{"--format", "ts"}},
	{"fmp4", []string{"--format", "fmp4"}},
	{"fmp4-parts", []string{"--format", "fmp4", "--part", "200ms"}},
}

// playerSeeksToMarkerFrame is TestPlayerSeeksToMarkerFrame for a stream
// served with flags, named name.
func playerSeeksToMarkerFrame(t *testing.T, name string, flags ...string) {
	srv := startServer(t, append([]string{"--size", "640x360", "--fps", fmt.Sprint(fps), "--segment", "1s", "--window", "1m",
		"--event-fixed", "--event-every", "3s", "--event-duration", "1s"}, flags...)...)
	// Let three markers into published segments before the page opens: the
	// player starts at the live edge, so the oldest marker's fragment is not
	// loaded when it is clicked, and hls.js knows its start only from the
	// playlist's rounded EXTINF values until the seek loads it.
	srv.waitMarkers(t, 3, 60*time.Second)
	b := newBrowser(t)
	b.do(t, "open the player", 30*time.Second, chromedp.Navigate(srv.base+"/"))

	p := waitFor(t, b, "playback at the live edge", 60*time.Second, playbackJS(-1), func(p playback) bool {
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

	b.eval(t, forgetSeekJS, new(bool))
	b.click(t, "click the marker's row", fmt.Sprintf(`.marker-list [data-marker-id="%d"]`, m.ID))
	p = checkMarkerFrame(t, b, "the marker's frame", m)
	if !p.Behind || !strings.Contains(p.BehindText, "s") {
		t.Errorf("paused on a marker, the LIVE button shows behind=%v %q; want it to say how far behind", p.Behind, p.BehindText)
	}

	// ] goes to the next marker: this one again, from half a second
	// before it (after the event before, which ended 2 s earlier).
	b.eval(t, fmt.Sprintf(`(() => { document.querySelector('video').currentTime = %g; return true; })()`, p.Time-0.5), new(bool))
	b.eval(t, forgetSeekJS, new(bool))
	b.do(t, "press ]", 10*time.Second, chromedp.KeyEvent("]"))
	p = checkMarkerFrame(t, b, "the marker's frame after ]", m)
	// Back on the marker's frame for the screenshot.
	seekPaused(t, b, "the marker's frame again", playbackJS(*m.Sequence), p.Time)
	saveScreenshot(t, b, "player-marker-"+name+".png")
	checkThumbnail(t, b, m.ID)

	// A tick seeks to its marker's frame too: that of a marker whose
	// segment follows a hole, as a busy machine leaves. hls.js, loading on
	// from the paused position, reads that fragment after the one before
	// and moves its first frame back to fill the hole: the marker is not
	// where its offset from the fragment's start says.
	h := holeBeforeEvent(t, srv)
	waitFor(t, b, "the tick of the marker after the hole", 30*time.Second,
		fmt.Sprintf(`!!document.querySelector('.tl-ticks [data-marker-id="%d"]')`, h.ID), func(ok bool) bool { return ok })
	b.eval(t, forgetSeekJS, new(bool))
	b.click(t, "click the tick of the marker after the hole", fmt.Sprintf(`.tl-ticks [data-marker-id="%d"]`, h.ID))
	checkMarkerFrame(t, b, "the frame of the marker after the hole", h)

	// LIVE plays from the live point again.
	b.click(t, "click LIVE", "#live")
	p = waitFor(t, b, "playback near the live edge", 30*time.Second, playbackJS(-1), func(p playback) bool {
		return !p.Paused && p.Target > 0 && p.SeekableEnd-p.Time <= 4.5*p.Target && !p.Behind
	})
	t.Logf("live: currentTime %.3f, seekable end %.3f (target duration %gs)", p.Time, p.SeekableEnd, p.Target)

	b.do(t, "phone-sized viewport", 10*time.Second, chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(2)))
	saveScreenshot(t, b, "player-phone-"+name+".png")

	for _, e := range b.consoleErrors() {
		t.Errorf("console: %s", e)
	}
}

// thumbnail is a marker row's thumbnail as the page shows it.
type thumbnail struct {
	Loaded        bool `json:"loaded"`
	Width, Height int
	Mint          int `json:"mint"`
}

// checkThumbnail requires the row of marker id to show its thumbnail, the
// marker's frame at 160 px wide: the mint square on it.
func checkThumbnail(t *testing.T, b *browser, id int) {
	t.Helper()
	js := fmt.Sprintf(`(() => {
  const img = document.querySelector('.marker-list img[data-thumb-marker-id="%d"]');
  if (!img) return { loaded: false };
  img.scrollIntoView({ block: 'nearest' });
  if (!img.complete || !img.naturalWidth) return { loaded: false };
  const c = document.createElement('canvas');
  c.width = img.naturalWidth;
  c.height = img.naturalHeight;
  const g = c.getContext('2d');
  g.drawImage(img, 0, 0);
  const d = g.getImageData(0, 0, c.width, c.height).data;
  let mint = 0;
  for (let i = 0; i < d.length; i += 4) {
    if (Math.abs(d[i]) <= 40 && Math.abs(d[i + 1] - 255) <= 40 && Math.abs(d[i + 2] - 200) <= 40) mint++;
  }
  return { loaded: true, Width: c.width, Height: c.height, mint };
})()`, id)
	th := waitFor(t, b, "the marker row's thumbnail", 30*time.Second, js, func(th thumbnail) bool { return th.Loaded })
	if th.Width != 160 || th.Height != 90 || th.Mint < 30 {
		t.Errorf("the thumbnail of marker %d is %dx%d with %d mint pixels, want 160x90 showing the mint square", id, th.Width, th.Height, th.Mint)
	}
	t.Logf("thumbnail of marker %d: %dx%d, %d mint pixels", id, th.Width, th.Height, th.Mint)
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
