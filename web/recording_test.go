package web_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// recordedMarker is a marker of the API with its recording's playlist.
type recordedMarker struct {
	apiMarker
	VODURL *string `json:"vod_url"`
}

// recordingState is what the page shows of the playlist it plays.
type recordingState struct {
	HLS       string `json:"hls"`   // the URL hls.js plays
	Badge     string `json:"badge"` // the stream state badge's data-state
	BadgeText string `json:"badgeText"`
	Tag       bool   `json:"tag"`  // the "recording" tag on the video is shown
	Live      bool   `json:"live"` // the LIVE button is shown
	Notice    string `json:"notice"`
	// Row is the class and note of the row of the marker asked about.
	Row     string `json:"row"`
	RowNote string `json:"rowNote"`
	// Clip is the row's download link, and whether it has the download attribute.
	Clip     string `json:"clip"`
	Download bool   `json:"download"`
}

// recordingJS reads recordingState, with the row of marker id.
func recordingJS(id int) string {
	return fmt.Sprintf(`(() => {
  const hls = window.hlsmark && window.hlsmark.hls;
  const badge = document.getElementById('stream-state');
  const n = document.getElementById('notice');
  const row = document.querySelector('.marker-list [data-marker-id="%[1]d"], .marker-list [data-recorded-marker-id="%[1]d"], .marker-list [data-stale-marker-id="%[1]d"]');
  const clip = row && row.parentElement.querySelector('a.m-clip');
  return {
    hls: hls ? hls.url || '' : '',
    badge: badge.hidden ? '' : badge.dataset.state,
    badgeText: badge.textContent,
    tag: !document.getElementById('recording').hidden,
    live: !document.getElementById('live').hidden,
    notice: n.hidden ? '' : n.textContent,
    row: row ? row.className : '',
    rowNote: row && row.querySelector('.m-note') ? row.querySelector('.m-note').textContent : '',
    clip: clip ? clip.getAttribute('href') : '',
    download: !!clip && clip.hasAttribute('download'),
  };
})()`, id)
}

// TestPlayerOpensRecording plays a stream whose live window is four
// one-second segments, with segments kept 20 s past it, in headless
// Chromium. A marker that left the window is clicked in the list: the page
// opens its recording (the marker's vod_url) in the same video and shows,
// by the canvas pixels, the marker's first frame; it says it plays a
// recording, and LIVE brings it back to the live edge. Each row that has
// video on disk links its clip for download. Once the server deleted a
// marker's segments, its row says so when clicked.
func TestPlayerOpensRecording(t *testing.T) {
	srv := startServer(t, "--size", "640x360", "--fps", fmt.Sprint(fps), "--segment", "1s", "--window", "4s",
		"--retain", "20s", "--event-fixed", "--event-every", "3s", "--event-duration", "1s")
	srv.waitMarkers(t, 1, 60*time.Second)
	b := newBrowser(t)
	b.do(t, "open the player", 30*time.Second, chromedp.Navigate(srv.base+"/"))
	waitFor(t, b, "playback at the live edge", 60*time.Second, playbackJS(-1), func(p playback) bool {
		return p.Ready >= 3 && p.Time > 0 && !p.Paused
	})

	// The newest marker that left the live window: its row opens its
	// recording, and the server still keeps it for some 20 s.
	const recordedJS = `[...document.querySelectorAll('.marker-list [data-recorded-marker-id]')].map((e) => Number(e.dataset.recordedMarkerId))`
	ids := waitFor(t, b, "a row of a marker past the live window", 60*time.Second, recordedJS, func(ids []int) bool { return len(ids) > 0 })
	var m recordedMarker
	srv.getJSON(t, fmt.Sprintf("/api/streams/demo/markers/%d", ids[0]), &m)
	if m.Sequence == nil || m.Offset == nil || m.VODURL == nil {
		t.Fatalf("marker %d opens a recording in the page but the API gives it no sequence, offset or vod_url: %+v", m.ID, m)
	}
	s := waitFor(t, b, "the recorded row's clip link", 10*time.Second, recordingJS(m.ID), func(s recordingState) bool { return s.Clip != "" })
	if want := fmt.Sprintf("/api/streams/demo/markers/%d/clip.mp4", m.ID); s.Clip != want || !s.Download {
		t.Errorf("the row of marker %d links %q (download attribute %v), want %q with download", m.ID, s.Clip, s.Download, want)
	}
	if !strings.Contains(s.Row, "is-recorded") || s.RowNote != "recording" {
		t.Errorf("the row of marker %d is %q noting %q, want is-recorded noting “recording”", m.ID, s.Row, s.RowNote)
	}

	b.eval(t, forgetSeekJS, new(bool))
	b.click(t, "click the recorded marker's row", fmt.Sprintf(`.marker-list [data-recorded-marker-id="%d"]`, m.ID))
	p := checkMarkerFrame(t, b, "the marker's frame in its recording", m.apiMarker)
	s = waitFor(t, b, "the page in recording mode", 10*time.Second, recordingJS(m.ID), func(s recordingState) bool { return s.Badge == "recording" })
	if !strings.HasSuffix(s.HLS, *m.VODURL) {
		t.Errorf("hls.js plays %q, want the marker's recording %q", s.HLS, *m.VODURL)
	}
	if s.BadgeText != "Recording" || !s.Tag || !s.Live {
		t.Errorf("playing a recording, the badge says %q, the tag on the video is shown %v, LIVE shown %v; want “Recording”, true, true", s.BadgeText, s.Tag, s.Live)
	}
	var videos int
	b.eval(t, `document.querySelectorAll('video').length`, &videos)
	if videos != 1 {
		t.Errorf("the page has %d <video> elements, want the one it had", videos)
	}
	// Back on the marker's frame for the screenshot.
	seekPaused(t, b, "the marker's frame again", playbackJS(*m.Sequence), p.Time)
	checkMint(t, b, "the marker's frame again", func(n int) bool { return n >= minMint })
	saveScreenshot(t, b, "player-recording.png")
	for _, e := range b.consoleErrors() {
		t.Errorf("console: %s", e)
	}

	// LIVE leaves the recording for the live playlist's live point.
	b.click(t, "click LIVE", "#live")
	q := waitFor(t, b, "playback near the live edge", 30*time.Second, playbackJS(-1), func(p playback) bool {
		return !p.Paused && p.Ready >= 3 && p.Time > 0 && p.Target > 0 && p.SeekableEnd-p.Time <= 4.5*p.Target && !p.Behind
	})
	s = waitFor(t, b, "the page live again", 10*time.Second, recordingJS(m.ID), func(s recordingState) bool { return s.Badge == "live" })
	if !strings.HasSuffix(s.HLS, "/streams/demo/index.m3u8") || s.Tag {
		t.Errorf("after LIVE, hls.js plays %q and the recording tag is shown %v; want the live playlist, no tag", s.HLS, s.Tag)
	}
	t.Logf("live: currentTime %.3f, seekable end %.3f (target duration %gs)", q.Time, q.SeekableEnd, q.Target)

	// The server deletes segments 20 s after they left the window: once
	// none is left of the marker's recording (10 s either side of it), its
	// vod_url answers 404. The page, which read the marker before, still
	// offers its recording; clicked, it says the marker is no longer
	// recorded.
	deadline := time.Now().Add(90 * time.Second)
	for {
		resp, err := http.Get(srv.base + *m.VODURL)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode == http.StatusNotFound {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the recording of marker %d still answers %s 90 s after it was opened, with --retain 20s", m.ID, resp.Status)
		}
		time.Sleep(500 * time.Millisecond) // polling the server; no event to wait on
	}
	before := len(b.consoleErrors())
	b.click(t, "click the row of the marker no longer kept", fmt.Sprintf(`.marker-list [data-recorded-marker-id="%d"]`, m.ID))
	s = waitFor(t, b, "the page saying the marker is no longer recorded", 30*time.Second, recordingJS(m.ID), func(s recordingState) bool {
		return s.Notice != ""
	})
	if !strings.Contains(s.Notice, "no longer recorded") || !strings.Contains(s.Row, "is-gone") || s.RowNote != "not kept" || s.Clip != "" {
		t.Errorf("after its recording answered 404: notice %q, row %q noting %q, clip %q; want “no longer recorded”, is-gone, “not kept”, no clip", s.Notice, s.Row, s.RowNote, s.Clip)
	}
	if s.Badge != "live" || !strings.HasSuffix(s.HLS, "/streams/demo/index.m3u8") {
		t.Errorf("after a recording that is gone, the badge is %q and hls.js plays %q; want the live stream still playing", s.Badge, s.HLS)
	}
	// Chromium logs the 404 it was answered; nothing else may be said.
	for _, e := range b.consoleErrors()[before:] {
		if !strings.Contains(e, "404") || !strings.Contains(e, "/vod.m3u8") {
			t.Errorf("console: %s", e)
		}
	}

	// On a phone, each row keeps its label and its clip link side by side.
	b.do(t, "phone-sized viewport", 10*time.Second, chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(2)))
	var fit struct {
		Rows, Overflowing, SmallLinks int
	}
	b.eval(t, `(() => {
  const list = document.querySelector('.marker-list').getBoundingClientRect();
  const rows = [...document.querySelectorAll('.marker-list li')];
  const links = [...document.querySelectorAll('.marker-list a.m-clip')].map((a) => a.getBoundingClientRect());
  return {
    Rows: rows.length,
    Overflowing: rows.filter((li) => li.scrollWidth > li.clientWidth || li.getBoundingClientRect().right > list.right + 0.5).length,
    SmallLinks: links.filter((r) => r.width < 44 || r.height < 44).length,
  };
})()`, &fit)
	if fit.Rows == 0 || fit.Overflowing > 0 || fit.SmallLinks > 0 {
		t.Errorf("on a phone: %d rows, %d wider than the list, %d clip links smaller than 44 px; want rows that fit and links a finger can hit", fit.Rows, fit.Overflowing, fit.SmallLinks)
	}
	saveScreenshot(t, b, "player-recording-phone.png")
}
