package web_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// pageState is what the page shows around the video, read from its DOM.
type pageState struct {
	// Loading is the loading state over the video: shown, its data-state,
	// and its text.
	Loading       bool   `json:"loading"`
	LoadingState  string `json:"loadingState"`
	LoadingTitle  string `json:"loadingTitle"`
	LoadingDetail string `json:"loadingDetail"`
	// Clock is the time of day under the video; LiveShown says the LIVE
	// button shows, LiveText what it says.
	Clock     string `json:"clock"`
	LiveShown bool   `json:"liveShown"`
	LiveText  string `json:"liveText"`
	// TimelineEmpty says the timeline draws no window and no playhead.
	TimelineEmpty bool `json:"timelineEmpty"`
	// Ready, Paused and Time are the video's.
	Ready  int     `json:"ready"`
	Paused bool    `json:"paused"`
	Time   float64 `json:"time"`
}

const pageStateJS = `(() => {
  const $ = (id) => document.getElementById(id);
  const l = $('loading');
  const v = $('video');
  return {
    loading: !!l && !l.hidden && l.getBoundingClientRect().height > 0,
    loadingState: l ? l.dataset.state : '',
    loadingTitle: l ? l.querySelector('.loading-title').textContent : '',
    loadingDetail: l ? l.querySelector('.loading-detail').textContent : '',
    clock: $('clock-time').textContent,
    liveShown: !$('live').hidden,
    liveText: $('live').textContent,
    timelineEmpty: $('timeline').classList.contains('is-empty'),
    ready: v.readyState, paused: v.paused, time: v.currentTime,
  };
})()`

// checkNoPosition fails unless the page shows no time, no LIVE offset
// and no playhead: what it shows before the first frame.
func checkNoPosition(t *testing.T, what string, p pageState) {
	t.Helper()
	if p.Clock != "--:--:--" {
		t.Errorf("%s: the clock shows %q, want --:--:--", what, p.Clock)
	}
	if p.LiveShown {
		t.Errorf("%s: the LIVE button shows %q; without a position there is nothing to be behind", what, p.LiveText)
	}
	if !p.TimelineEmpty {
		t.Errorf("%s: the timeline draws a window and a playhead", what)
	}
}

// longLabel is a marker label longer than a row of the marker list is
// wide, with a word longer than the row too.
const longLabel = "forklift entered the loading bay while the door was still closing " +
	"(camera-7-north-east-corner-wide-angle-backup-feed-number-two)"

// TestPlayerLoadingState holds the page's playlist and segment requests
// back, so that nothing can play. First with no playlist: the page must
// say it waits for the stream, show no time and no playhead, and list a
// marker posted meanwhile as pending with its long label whole. Then with
// the playlist but no segment: the page knows the window but has no
// position yet, and must still show no time, no LIVE offset and no
// playhead. Let through, the stream plays and the loading state goes away.
func TestPlayerLoadingState(t *testing.T) {
	srv := startServer(t, "--size", "640x360", "--segment", "1s", "--window", "1m")
	b := newBrowser(t)
	g := newGate(t, b, holdAll, "/index.m3u8", ".ts")
	b.do(t, "open the player", 30*time.Second, chromedp.Navigate(srv.base+"/"))
	g.waitRequests(t, 1, 30*time.Second)

	p := waitFor(t, b, "the loading state", 10*time.Second, pageStateJS, func(p pageState) bool {
		return p.Loading && p.LoadingDetail == "Loading the playlist…"
	})
	if p.LoadingState != "waiting" || p.LoadingTitle != "Waiting for the stream…" {
		t.Errorf("before the playlist: loading state %q %q, want waiting, “Waiting for the stream…”", p.LoadingState, p.LoadingTitle)
	}
	if p.Ready != 0 {
		t.Errorf("before the playlist: the video's readyState is %d, want 0 (nothing can have played)", p.Ready)
	}
	checkNoPosition(t, "before the playlist", p)

	// A marker posted now is pending: the page has no playlist to find it
	// in. Its row must show the whole label.
	id := postMarker(t, srv, longLabel)
	row := fmt.Sprintf(`.marker-list [data-stale-marker-id="%d"]`, id)
	label := waitFor(t, b, "the pending row of the posted marker", 10*time.Second, labelJS(row), func(l labelBox) bool {
		return l.Found
	})
	t.Logf("pending row: label %dx%d px (scroll width %d), ends at x=%.0f, the list at %.0f", label.ClientWidth,
		label.ClientHeight, label.ScrollWidth, label.Right, label.ListRight)
	if !label.Pending {
		t.Errorf("the posted marker's row is not marked pending: %+v", label)
	}
	if label.Text != longLabel {
		t.Errorf("the row shows the label %q, want %q", label.Text, longLabel)
	}
	if label.ScrollWidth > label.ClientWidth {
		t.Errorf("the label is clipped: %d px of text in a %d px box", label.ScrollWidth, label.ClientWidth)
	}
	if label.Right > label.ListRight+0.5 {
		t.Errorf("the label ends at x=%.1f, past the list's edge at %.1f", label.Right, label.ListRight)
	}
	if label.Ellipsis {
		t.Errorf("the label is cut with an ellipsis (text-overflow: ellipsis and overflow hidden)")
	}
	saveScreenshot(t, b, "player-loading.png")

	// The playlist, but no segment: a window and a live point, no frame.
	g.setRule(t, func(url string) verdict { return verdict{hold: strings.HasSuffix(url, ".ts")} })
	p = waitFor(t, b, "the loading state with a playlist", 30*time.Second, pageStateJS, func(p pageState) bool {
		return p.Loading && p.LoadingDetail == "Loading the first segment…"
	})
	if p.Ready >= 2 {
		t.Errorf("without segments: the video's readyState is %d; it cannot have a frame", p.Ready)
	}
	checkNoPosition(t, "with a playlist and no segment", p)

	g.setRule(t, passAll)
	p = waitFor(t, b, "playback, the loading state gone", 60*time.Second, pageStateJS, func(p pageState) bool {
		return !p.Loading && p.Ready >= 2 && !p.Paused
	})
	if p.Clock == "--:--:--" || !p.LiveShown {
		t.Errorf("playing: clock %q, LIVE shown %v; want a time of day and the LIVE button", p.Clock, p.LiveShown)
	}
	if p.TimelineEmpty {
		t.Errorf("playing: the timeline is still empty")
	}
	for _, e := range b.consoleErrors() {
		t.Errorf("console: %s", e)
	}
}

// TestPlayerPlaylistError answers the page's playlist requests with 503:
// the page must say it cannot load the stream and why, with no time shown,
// and play once the playlist can be read.
func TestPlayerPlaylistError(t *testing.T) {
	srv := startServer(t, "--size", "640x360", "--segment", "1s", "--window", "1m")
	b := newBrowser(t)
	g := newGate(t, b, answerAll(http.StatusServiceUnavailable), "/index.m3u8")
	b.do(t, "open the player", 30*time.Second, chromedp.Navigate(srv.base+"/"))

	p := waitFor(t, b, "the error state", 30*time.Second, pageStateJS, func(p pageState) bool {
		return p.Loading && p.LoadingState == "error"
	})
	t.Logf("error state: %q %q", p.LoadingTitle, p.LoadingDetail)
	if p.LoadingTitle != "Cannot load the stream" || !strings.Contains(p.LoadingDetail, "HTTP 503") {
		t.Errorf("error state says %q %q; want “Cannot load the stream” and the status, HTTP 503", p.LoadingTitle, p.LoadingDetail)
	}
	checkNoPosition(t, "the playlist answered 503", p)
	var noticeShown bool
	b.eval(t, `!document.getElementById('notice').hidden`, &noticeShown)
	if noticeShown {
		t.Errorf("the notice shows as well as the error state: one message is enough")
	}
	saveScreenshot(t, b, "player-playlist-error.png")

	g.setRule(t, passAll)
	waitFor(t, b, "playback once the playlist can be read", 60*time.Second, pageStateJS, func(p pageState) bool {
		return !p.Loading && p.Ready >= 2 && !p.Paused && p.Clock != "--:--:--"
	})
}

// labelBox is a marker row's label as laid out.
type labelBox struct {
	Found        bool    `json:"found"`
	Pending      bool    `json:"pending"`
	Text         string  `json:"text"`
	ScrollWidth  int     `json:"scrollWidth"`
	ClientWidth  int     `json:"clientWidth"`
	ClientHeight int     `json:"clientHeight"`
	Right        float64 `json:"right"`
	ListRight    float64 `json:"listRight"`
	Ellipsis     bool    `json:"ellipsis"`
}

// labelJS lays out the label of the row that sel selects.
func labelJS(sel string) string {
	return fmt.Sprintf(`(() => {
  const row = document.querySelector(%q);
  const l = row && row.querySelector('.m-label');
  if (!l) return { found: false };
  const cs = getComputedStyle(l);
  return {
    found: true,
    pending: row.classList.contains('is-pending'),
    text: l.textContent,
    scrollWidth: l.scrollWidth, clientWidth: l.clientWidth, clientHeight: l.clientHeight,
    right: l.getBoundingClientRect().right,
    listRight: document.querySelector('.marker-list').getBoundingClientRect().right,
    ellipsis: cs.textOverflow === 'ellipsis' && cs.overflowX !== 'visible' && cs.whiteSpace === 'nowrap',
  };
})()`, sel)
}

// postMarker posts a marker a moment ago through the API and returns its id.
func postMarker(t *testing.T, srv *server, label string) int {
	t.Helper()
	id, err := tryPostMarker(srv, label)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// tryPostMarker posts a marker a moment ago through the API and returns
// its id; it can run off the test's goroutine.
func tryPostMarker(srv *server, label string) (int, error) {
	at := time.Now().Add(-100 * time.Millisecond).UTC().Format(time.RFC3339Nano)
	body, _ := json.Marshal(map[string]string{"label": label, "time": at})
	resp, err := http.Post(srv.base+"/api/streams/demo/markers", "application/json", bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	var m apiMarker
	if err := json.NewDecoder(resp.Body).Decode(&m); err != nil {
		return 0, fmt.Errorf("POST marker: %s: %w", resp.Status, err)
	}
	if resp.StatusCode != http.StatusCreated || m.ID == 0 {
		return 0, fmt.Errorf("POST marker: %s, %+v", resp.Status, m)
	}
	return m.ID, nil
}
