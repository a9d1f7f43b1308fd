package web_test

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// twoStreams is a config file of two checkerboards whose events come at
// different periods, so that markers of the same id on the two streams
// have different times: a row's id and time say which stream it is of.
const twoStreams = `streams:
  - name: first
    size: 640x360
    fps: 30
    segment: 1s
    window: 1m
    event_fixed: true
    event_every: 2s
    event_duration: 1s
  - name: second
    size: 640x360
    fps: 30
    segment: 1s
    window: 1m
    event_fixed: true
    event_every: 3s
    event_duration: 1s
`

// datedMarker is a marker of the API by id and time.
type datedMarker struct {
	ID              int    `json:"id"`
	ProgramDateTime string `json:"program_date_time"`
}

// markerTimes returns the time of each of stream's markers, by id.
func (s *server) markerTimes(t *testing.T, stream string) map[int]string {
	t.Helper()
	var body struct {
		Markers []datedMarker `json:"markers"`
	}
	s.getJSON(t, "/api/streams/"+stream+"/markers?limit=1000", &body)
	out := map[int]string{}
	for _, m := range body.Markers {
		out[m.ID] = m.ProgramDateTime
	}
	return out
}

// streamPage is what the player page shows about the stream it plays.
type streamPage struct {
	Name   string `json:"name"`
	Search string `json:"search"`
	// Same says the document is the one the test marked: no reload.
	Same bool `json:"same"`
	// HLS is the URL hls.js plays, "" without hls.js.
	HLS    string `json:"hls"`
	Notice string `json:"notice"`
	// Picker is the picker's entries, PickerShown whether it is shown.
	Picker []struct {
		Name    string `json:"name"`
		State   string `json:"state"`
		Current bool   `json:"current"`
	} `json:"picker"`
	PickerShown bool `json:"pickerShown"`
	// Rows are the marker list's rows: marker id and time.
	Rows []datedMarker `json:"rows"`
	// Ticks are the ids of the timeline's ticks.
	Ticks []int `json:"ticks"`
	// Playing says the video has a frame and plays.
	Playing bool `json:"playing"`
}

const streamPageJS = `(() => {
  if (!document.getElementById('stream-name')) return {}; // not the player page (yet)
  const v = document.querySelector('video');
  const n = document.getElementById('notice');
  const nav = document.querySelector('[data-stream-picker]');
  const hls = window.hlsmark && window.hlsmark.hls;
  return {
    name: document.getElementById('stream-name').textContent,
    search: location.search,
    same: window.testMark === 'same document',
    hls: hls ? hls.url || '' : '',
    notice: n.hidden ? '' : n.textContent,
    picker: [...nav.querySelectorAll('[data-stream]')].map((a) => ({
      name: a.dataset.stream, state: a.dataset.state, current: a.getAttribute('aria-current') === 'page',
    })),
    pickerShown: !nav.hidden,
    rows: [...document.querySelectorAll('.marker-list li')].map((li) => ({
      id: Number(li.firstChild.dataset.markerId || li.firstChild.dataset.recordedMarkerId || li.firstChild.dataset.staleMarkerId),
      program_date_time: li.querySelector('.m-time').title,
    })),
    ticks: [...document.querySelectorAll('.tl-ticks [data-marker-id]')].map((e) => Number(e.dataset.markerId)),
    playing: v.readyState >= 3 && v.currentTime > 0 && !v.paused,
  };
})()`

// markPageJS marks the document, so that a reload shows: a new one lacks the mark.
const markPageJS = `(() => { window.testMark = 'same document'; return true; })()`

// playsStream accepts a page playing stream, its picker on it.
func playsStream(name string) func(streamPage) bool {
	return func(p streamPage) bool {
		current := ""
		for _, e := range p.Picker {
			if e.Current {
				current = e.Name
			}
		}
		return p.Name == name && p.Playing && strings.Contains(p.HLS, "/streams/"+name+"/index.m3u8") && current == name
	}
}

// TestManyStreamsInBrowser runs two streams behind one server and checks
// in headless Chromium that the picker switches the player between them
// without a reload, letting go of the first stream's playlist, segments and
// marker feed, and that a marker of the second stream seeks to its frame;
// that /?stream=NAME opens a stream directly and an unknown name says so;
// and that the overview shows a playing tile per stream with its latest
// markers, a click on it opening the player on that stream.
func TestManyStreamsInBrowser(t *testing.T) {
	config := filepath.Join(t.TempDir(), "hlsmark.yaml")
	if err := os.WriteFile(config, []byte(twoStreams), 0o644); err != nil {
		t.Fatal(err)
	}
	srv := startServer(t, "--config", config)
	srv.waitStreamMarkers(t, "second", 3, 60*time.Second)
	srv.waitStreamMarkers(t, "first", 3, 60*time.Second)
	b := newBrowser(t)

	t.Run("picker", func(t *testing.T) {
		b.do(t, "open the player", 30*time.Second, chromedp.Navigate(srv.base+"/"))
		p := waitFor(t, b, "the first stream playing", 60*time.Second, streamPageJS, playsStream("first"))
		if names := pickerNames(p); !p.PickerShown || !slices.Equal(names, []string{"first", "second"}) {
			t.Fatalf("picker shown=%v with %v, want first and second", p.PickerShown, names)
		}
		for _, e := range p.Picker {
			if e.State != "live" {
				t.Errorf("picker: %s is %q, want live (as /api/streams says)", e.Name, e.State)
			}
		}
		waitFor(t, b, "rows of the first stream", 60*time.Second, streamPageJS, func(p streamPage) bool { return len(p.Rows) >= 3 })

		b.eval(t, markPageJS, new(bool))
		b.click(t, "pick the second stream", `[data-stream-picker] [data-stream="second"]`)
		p = waitFor(t, b, "the second stream playing", 60*time.Second, streamPageJS, playsStream("second"))
		if !p.Same || p.Search != "?stream=second" {
			t.Fatalf("after the switch: same document %v, query %q; want no reload and ?stream=second", p.Same, p.Search)
		}
		saveScreenshot(t, b, "player-picker.png")

		// Every row and tick is of the second stream: the first's markers
		// went with it. (Ids are per stream; times tell the streams apart.)
		const rowsJS = `[...document.querySelectorAll('.marker-list [data-marker-id]')].map((e) => Number(e.dataset.markerId))`
		ids := waitFor(t, b, "three marker rows of the second stream", 60*time.Second, rowsJS, func(ids []int) bool { return len(ids) >= 3 })
		b.eval(t, streamPageJS, &p)
		second := srv.markerTimes(t, "second")
		for _, r := range p.Rows {
			if second[r.ID] != r.ProgramDateTime {
				t.Errorf("row of marker %d at %s is not the second stream's (its marker %d is at %q)", r.ID, r.ProgramDateTime, r.ID, second[r.ID])
			}
		}
		for _, id := range p.Ticks {
			if _, ok := second[id]; !ok {
				t.Errorf("tick of marker %d, which the second stream lacks", id)
			}
		}

		var m apiMarker
		srv.getJSON(t, fmt.Sprintf("/api/streams/second/markers/%d", ids[2]), &m)
		if m.Sequence == nil || m.Offset == nil {
			t.Fatalf("marker %d has a clickable row but no stream position in the API: %+v", m.ID, m)
		}
		b.eval(t, forgetSeekJS, new(bool))
		b.click(t, "click the second stream's marker", fmt.Sprintf(`.marker-list [data-marker-id="%d"]`, m.ID))
		checkMarkerFrame(t, b, "the second stream's marker frame", m)
		b.eval(t, streamPageJS, &p)
		if !strings.Contains(p.HLS, "/streams/second/") {
			t.Fatalf("after the marker seek hls.js plays %q, want the second stream", p.HLS)
		}

		// Since it first asked for the second stream's playlist, the page
		// has not asked for anything of the first's, and it closed the
		// first's marker feed.
		if late := b.requestsAfter("/streams/second/index.m3u8", "/streams/first/"); len(late) > 0 {
			t.Errorf("after the switch the page still asked for %d of the first stream's files, first %s", len(late), late[0].URL)
		}
		feeds := b.requestsTo("/api/streams/first/markers/events")
		if len(feeds) == 0 {
			t.Fatal("the page never opened the first stream's marker feed")
		}
		for _, r := range feeds {
			if !r.Canceled {
				t.Errorf("the first stream's marker feed %s is still open after the switch", r.URL)
			}
		}

		// Back goes to the first stream, still without a reload.
		b.eval(t, `(() => { history.back(); return true; })()`, new(bool))
		p = waitFor(t, b, "the first stream again after Back", 60*time.Second, streamPageJS, playsStream("first"))
		if !p.Same || p.Search != "" {
			t.Errorf("after Back: same document %v, query %q; want no reload and no query", p.Same, p.Search)
		}
		checkConsole(t, b)
	})

	t.Run("link", func(t *testing.T) {
		b.do(t, "open /?stream=second", 30*time.Second, chromedp.Navigate(srv.base+"/?stream=second"))
		waitFor(t, b, "the second stream playing", 60*time.Second, streamPageJS, playsStream("second"))

		b.do(t, "open /?stream=nope", 30*time.Second, chromedp.Navigate(srv.base+"/?stream=nope"))
		p := waitFor(t, b, "a message naming the unknown stream", 30*time.Second, streamPageJS, func(p streamPage) bool {
			return strings.Contains(p.Notice, "no stream called “nope”")
		})
		if p.Name != "nope" || p.HLS != "" || p.Playing {
			t.Errorf("unknown stream: title %q, hls.js on %q, playing %v; want the name and no player", p.Name, p.HLS, p.Playing)
		}
		if names := pickerNames(p); !p.PickerShown || !slices.Equal(names, []string{"first", "second"}) {
			t.Errorf("unknown stream: picker shown=%v with %v, want both streams to choose from", p.PickerShown, names)
		}
		saveScreenshot(t, b, "player-unknown-stream.png")
		checkConsole(t, b)
	})

	t.Run("overview", func(t *testing.T) {
		before := map[string]int{"first": maxID(srv.markerTimes(t, "first")), "second": maxID(srv.markerTimes(t, "second"))}
		b.do(t, "open the overview", 30*time.Second, chromedp.Navigate(srv.base+"/overview"))
		tiles := waitFor(t, b, "two tiles playing, with markers", 60*time.Second, tilesJS, func(ts []tileState) bool {
			if len(ts) != 2 {
				return false
			}
			for _, tl := range ts {
				if !tl.Playing || len(tl.Markers) == 0 || tl.Markers[0].ID < before[tl.Name] {
					return false
				}
			}
			return true
		})
		saveScreenshot(t, b, "overview.png")
		for i, want := range []string{"first", "second"} {
			tl := tiles[i]
			if tl.Name != want || tl.State != "live" || !tl.Muted || tl.Href != "/?stream="+want {
				t.Errorf("tile %d: %+v; want %s, live, muted, linking to /?stream=%s", i, tl, want, want)
			}
			checkTileMarkers(t, tl, srv.markerTimes(t, want))
		}

		b.click(t, "click the second stream's tile", `[data-stream-tile="second"] a`)
		b.do(t, "the player page", 30*time.Second, chromedp.WaitReady(chromedp.CSS("#stream-name")))
		waitFor(t, b, "the player on the second stream", 60*time.Second, streamPageJS, func(p streamPage) bool {
			return playsStream("second")(p) && p.Search == "?stream=second"
		})

		b.do(t, "phone-sized viewport", 10*time.Second, chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(2)))
		saveScreenshot(t, b, "player-picker-phone.png")
		checkConsole(t, b)
	})
}

// tileState is what a tile of the overview shows.
type tileState struct {
	Name    string        `json:"name"`
	State   string        `json:"state"`
	Href    string        `json:"href"`
	Playing bool          `json:"playing"`
	Muted   bool          `json:"muted"`
	Markers []datedMarker `json:"markers"`
}

const tilesJS = `[...document.querySelectorAll('[data-overview] [data-stream-tile]')].map((t) => {
  const v = t.querySelector('video');
  const a = t.querySelector('a');
  return {
    name: t.dataset.streamTile,
    state: t.querySelector('.badge').textContent.toLowerCase(),
    href: a.getAttribute('href'),
    playing: v.readyState >= 3 && v.currentTime > 0 && !v.paused,
    muted: v.muted,
    markers: [...t.querySelectorAll('[data-tile-marker-id]')].map((m) => ({
      id: Number(m.dataset.tileMarkerId), program_date_time: m.title,
    })),
  };
})`

// tileMarkersShown is how many markers a tile lists.
const tileMarkersShown = 4

// checkTileMarkers checks that a tile lists its stream's latest markers as
// of when it read them: newest first, each the stream's (by id and time),
// and no marker of the stream missing between them.
func checkTileMarkers(t *testing.T, tl tileState, times map[int]string) {
	t.Helper()
	newest := tl.Markers[0].ID
	var want []int
	for id := newest; id > 0 && len(want) < tileMarkersShown; id-- {
		if _, ok := times[id]; ok {
			want = append(want, id)
		}
	}
	var got []int
	for _, m := range tl.Markers {
		got = append(got, m.ID)
		if times[m.ID] != m.ProgramDateTime {
			t.Errorf("tile %s: marker %d at %s is not the stream's (its marker %d is at %q)", tl.Name, m.ID, m.ProgramDateTime, m.ID, times[m.ID])
		}
	}
	if !slices.Equal(got, want) {
		t.Errorf("tile %s lists markers %v, want the stream's latest %v", tl.Name, got, want)
	}
}

func pickerNames(p streamPage) []string {
	var out []string
	for _, e := range p.Picker {
		out = append(out, e.Name)
	}
	return out
}

func maxID(times map[int]string) int {
	n := 0
	for id := range times {
		n = max(n, id)
	}
	return n
}

// checkConsole fails the test for each error the page reported so far.
func checkConsole(t *testing.T, b *browser) {
	t.Helper()
	for _, e := range b.consoleErrors() {
		t.Errorf("console: %s", e)
	}
}
