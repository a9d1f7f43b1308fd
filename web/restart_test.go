package web_test

import (
	"math"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
)

// playlistGap is where the served playlist marks a discontinuity, read
// with grafov/m3u8: the sequence number of the segment after the
// EXT-X-DISCONTINUITY, and how much wall-clock time its program date time
// leaves out after the segment before it ends.
type playlistGap struct {
	Seq     uint64
	Missing time.Duration
	// After counts the segments listed from the one after the gap on.
	After int
}

// readGap reads the stream's playlist and finds its discontinuity, if any.
func readGap(t *testing.T, srv *server) (playlistGap, bool) {
	t.Helper()
	segs := readSegments(t, srv)
	for i := 1; i < len(segs); i++ {
		if segs[i].Discontinuity {
			return playlistGap{Seq: uint64(segs[i].Seq), Missing: segs[i].Start.Sub(segs[i-1].End), After: len(segs) - i}, true
		}
	}
	return playlistGap{}, false
}

// waitGap waits until the stream's playlist has a discontinuity with n
// segments after it, and returns it.
func waitGap(t *testing.T, srv *server, n int) playlistGap {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		g, ok := readGap(t, srv)
		if ok && g.After >= n {
			return g
		}
		if time.Now().After(deadline) {
			t.Fatalf("no discontinuity with %d segments after it in the playlist within 60s (found %v: %+v)", n, ok, g)
		}
		time.Sleep(200 * time.Millisecond) // polling the server; no event to wait on
	}
}

// drawnGap is a gap as the timeline draws it.
type drawnGap struct {
	Count     int     `json:"count"`
	SN        string  `json:"sn"`
	MissingMS string  `json:"missingMs"`
	Restart   bool    `json:"restart"`
	Label     string  `json:"label"`
	Left      float64 `json:"left"`
	Width     float64 `json:"width"`
	TrackLeft float64 `json:"trackLeft"`
	TrackEnd  float64 `json:"trackEnd"`
	// Frac is where the gap should be: its fragment's start as a fraction
	// of the window hls.js reports.
	Frac float64 `json:"frac"`
	// Playing says the video plays: the page draws every frame.
	Playing bool `json:"playing"`
}

// drawnGapJS reads the gap as drawn, and where hls.js has its fragment, in
// one animation frame after the page's own: the page draws the timeline in
// requestAnimationFrame, so between a change of hls.js's playlist (a
// reload, a fragment's real PTS) and the next frame, the drawing is one
// frame behind it. While the video plays (Playing) the page always has
// its next frame's callback queued, before this one.
const drawnGapJS = `new Promise((resolve) => requestAnimationFrame(() => {
  const gaps = document.querySelectorAll('#timeline .tl-gaps .tl-gap');
  const g = gaps[0];
  const track = document.querySelector('#timeline .tl-track').getBoundingClientRect();
  if (!g) return resolve({ count: 0 });
  const r = g.getBoundingClientRect();
  const d = window.hlsmark.hls.latestLevelDetails;
  const f = d.fragments.find((f) => f.sn === Number(g.dataset.gapSn));
  const start = d.fragments[0].start;
  resolve({
    playing: !document.querySelector('video').paused,
    count: gaps.length, sn: g.dataset.gapSn, missingMs: g.dataset.missingMs,
    restart: g.classList.contains('is-restart'), label: g.getAttribute('aria-label'),
    left: r.left, width: r.width, trackLeft: track.left, trackEnd: track.right,
    frac: f ? (f.start - start) / (d.edge - start) : -1,
  });
}))`

// TestPlayerGapAfterRestart watches a stream while its server restarts.
// The playlist then holds a discontinuity where the program date time
// jumps: the timeline must draw one gap there, at the first segment after
// it, saying how much time is missing. The marker feed must resume where
// it left off, not read the marker list again from the start.
func TestPlayerGapAfterRestart(t *testing.T) {
	srv := startServer(t, "--size", "640x360", "--segment", "1s", "--window", "1m",
		"--event-fixed", "--event-every", "2s", "--event-duration", "500ms")
	srv.waitMarkers(t, 2, 60*time.Second)
	b := newBrowser(t)
	b.do(t, "open the player", 30*time.Second, chromedp.Navigate(srv.base+"/"))
	waitFor(t, b, "playback", 60*time.Second, pageStateJS, func(p pageState) bool {
		return !p.Loading && p.Ready >= 2 && !p.Paused
	})
	// A marker created while the page watches comes by the event stream
	// (and is highlighted): from then on the feed has an event id to
	// resume from.
	waitFor(t, b, "a marker from the event stream", 30*time.Second,
		`!!document.querySelector('.marker-item.is-new')`, func(ok bool) bool { return ok })
	var gaps int
	b.eval(t, `document.querySelectorAll('.tl-gap').length`, &gaps)
	if gaps != 0 {
		t.Fatalf("before the restart the timeline draws %d gaps, want 0", gaps)
	}
	listedBefore := len(b.requestsTo("/markers?"))
	eventsBefore := len(b.requestsTo("/markers/events"))

	srv = srv.restart(t)
	// Two segments after the restart, so that the player has one to play.
	want := waitGap(t, srv, 2)
	if want.Missing <= 0 {
		t.Fatalf("the playlist's dates jump by %s at the discontinuity; the restart should leave time out", want.Missing)
	}
	t.Logf("playlist: discontinuity before segment %d, %s missing", want.Seq, want.Missing)

	got := waitFor(t, b, "a gap drawn on the timeline", 60*time.Second, drawnGapJS, func(g drawnGap) bool {
		return g.Count > 0 && g.SN == strconv.FormatUint(want.Seq, 10) && g.Playing
	})
	t.Logf("drawn: %+v", got)
	if got.Count != 1 {
		t.Errorf("the timeline draws %d gaps, want 1", got.Count)
	}
	missing, err := strconv.Atoi(got.MissingMS)
	if err != nil {
		t.Fatalf("data-missing-ms %q: %v", got.MissingMS, err)
	}
	// The page measures with the playlist's dates and EXTINF, as this
	// test does: both are whole milliseconds, so the page's count, rounded
	// to the millisecond, is the dates' to within one (its EXTINF comes as
	// a difference of sums of seconds in floating point).
	if d := time.Duration(missing)*time.Millisecond - want.Missing; d.Abs() > time.Millisecond || missing < 0 {
		t.Errorf("the gap says %d ms missing, the playlist's dates %s", missing, want.Missing)
	}
	if !got.Restart || got.Label == "" {
		t.Errorf("the gap is not marked as a restart (is-restart %v, label %q)", got.Restart, got.Label)
	}
	if got.Width <= 0 || got.Left < got.TrackLeft-got.Width || got.Left > got.TrackEnd {
		t.Errorf("the gap is at x=%.1f (%.1f wide), outside the track %.1f..%.1f", got.Left, got.Width, got.TrackLeft, got.TrackEnd)
	}
	// Read in the same frame as the page drew it, the gap's centre is
	// where its fragment starts, to within half a pixel: the page sets
	// its left to the fraction as a percentage with three decimals (1e-5
	// of the track, under 0.01 px here), Chromium lays out in 1/64 px, and
	// the skew keeps the box's centre where it was. (A gap a frame off,
	// 1/30 s in the window of under 10 s the stream has by then, would
	// be 3 px or more off.)
	track := got.TrackEnd - got.TrackLeft
	centre := (got.Left + got.Width/2 - got.TrackLeft) / track
	if off := math.Abs(centre-got.Frac) * track; off > 0.5 {
		t.Errorf("the gap's centre is at %.4f of the track, its fragment starts at %.4f of the window: %.2f px apart",
			centre, got.Frac, off)
	}
	saveScreenshot(t, b, "player-gap.png")

	// The marker feed came back by resuming: the event stream with the
	// last event id, and the list only after the highest id seen.
	waitFor(t, b, "the event stream open again", 30*time.Second,
		`document.getElementById('feed-state').dataset.state`, func(s string) bool { return s == "open" })
	events := b.requestsTo("/markers/events")
	if len(events) <= eventsBefore {
		t.Fatalf("the page did not reconnect its event stream (%d requests before the restart, %d after)", eventsBefore, len(events))
	}
	for _, r := range events[eventsBefore:] {
		if header(r.Headers, "Last-Event-ID") == "" && !hasQuery(r.URL, "last_event_id") {
			t.Errorf("event stream reconnected without a last event id: %s %v", r.URL, r.Headers)
		}
	}
	for _, r := range b.requestsTo("/markers?")[listedBefore:] {
		u, err := url.Parse(r.URL)
		if err != nil {
			t.Fatal(err)
		}
		if after, _ := strconv.Atoi(u.Query().Get("after")); after == 0 {
			t.Errorf("after the restart the page read the marker list from the start: %s", r.URL)
		}
	}
}

// header returns the value of the request header name, in any case.
func header(h network.Headers, name string) string {
	for k, v := range h {
		if s, ok := v.(string); ok && strings.EqualFold(k, name) {
			return s
		}
	}
	return ""
}

// hasQuery reports whether raw has a non-empty query parameter name.
func hasQuery(raw, name string) bool {
	u, err := url.Parse(raw)
	return err == nil && u.Query().Get(name) != ""
}
