//go:build cgo

package live_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"image/color"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hlsmark/hlsmark/muxer/segread"
	"github.com/hlsmark/hlsmark/pipeline"
	"github.com/hlsmark/hlsmark/pipeline/clock"
	"github.com/hlsmark/hlsmark/pipeline/media"
	"github.com/hlsmark/hlsmark/pipeline/pipelinetest"
	"github.com/hlsmark/hlsmark/server/live"
)

var testSize = media.Size{Width: 64, Height: 48}

// Colours of the test's frames: calm frames are blue, the event's red,
// and a few grey ones come as *image.Gray.
var (
	blue = color.RGBA{40, 60, 170, 255}
	red  = color.RGBA{220, 30, 30, 255}
	grey = color.RGBA{128, 128, 128, 255}
)

// pushKinds are the ways the test hands a frame over, taken in turn.
var pushKinds = []string{"rgb24 bytes", "*image.RGBA", "*image.NRGBA", "*image.YCbCr", "*image.Gray"}

// push hands over a solid frame of colour c the way kind says.
func push(ctx context.Context, s *live.Stream, kind string, pts clock.Ticks, c color.RGBA) error {
	r := image.Rect(0, 0, testSize.Width, testSize.Height)
	switch kind {
	case "rgb24 bytes":
		return s.Push(ctx, pts, bytes.Repeat([]byte{c.R, c.G, c.B}, testSize.Width*testSize.Height))
	case "*image.RGBA":
		img := image.NewRGBA(r)
		fill(img, c)
		return s.PushImage(ctx, pts, img)
	case "*image.NRGBA":
		img := image.NewNRGBA(r)
		fill(img, c)
		return s.PushImage(ctx, pts, img)
	case "*image.YCbCr":
		img := image.NewYCbCr(r, image.YCbCrSubsampleRatio420)
		y, cb, cr := color.RGBToYCbCr(c.R, c.G, c.B)
		for i := range img.Y {
			img.Y[i] = y
		}
		for i := range img.Cb {
			img.Cb[i], img.Cr[i] = cb, cr
		}
		return s.PushImage(ctx, pts, img)
	case "*image.Gray":
		img := image.NewGray(r)
		fill(img, color.Gray{Y: c.R})
		return s.PushImage(ctx, pts, img)
	}
	panic("unknown kind " + kind)
}

func fill(img interface {
	Set(x, y int, c color.Color)
	Bounds() image.Rectangle
}, c color.Color) {
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			img.Set(x, y, c)
		}
	}
}

// decoded is one frame decoded from a listed segment.
type decoded struct {
	seq    media.Seq
	pts    clock.Ticks
	centre color.RGBA // the colour of its centre pixel
	red    int        // how many of its pixels are clearly red
}

// decodeListed decodes every segment the playlist file in dir lists,
// reading the playlist with grafov/m3u8 and the segments with libav.
func decodeListed(t *testing.T, dir string) (frames []decoded, ended bool) {
	t.Helper()
	segs, ended := pipelinetest.ReadPlaylist(t, dir)
	for _, seg := range segs {
		if _, err := segread.Decode(seg.Path, func(f segread.Frame) error {
			b := f.Image.Bounds()
			frames = append(frames, decoded{seq: seg.Seq, pts: f.PTS,
				centre: rgb(f.Image.At((b.Min.X+b.Max.X)/2, (b.Min.Y+b.Max.Y)/2)), red: redPixels(f.Image)})
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	}
	return frames, ended
}

// rgb returns c as 8-bit red, green and blue.
func rgb(c color.Color) color.RGBA {
	r, g, b, _ := c.RGBA()
	return color.RGBA{uint8(r >> 8), uint8(g >> 8), uint8(b >> 8), 255}
}

// redPixels counts the pixels of img that are clearly red.
func redPixels(img image.Image) int {
	n := 0
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			if c := rgb(img.At(x, y)); c.R > 150 && c.G < 90 && c.B < 90 {
				n++
			}
		}
	}
	return n
}

// near reports whether two colours differ by at most 16 per channel (the
// encoder is lossy, and colour conversions round).
func near(a, b color.RGBA) bool {
	d := func(x, y uint8) bool { return int(x)-int(y) <= 16 && int(y)-int(x) <= 16 }
	return d(a.R, b.R) && d(a.G, b.G) && d(a.B, b.B)
}

// getJSON fetches url from the handler's server and decodes its JSON.
func getJSON(t *testing.T, url string, v any) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("GET %s: %s %s", url, resp.Status, b)
	}
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
}

// apiMarker is a marker as the API answers it.
type apiMarker struct {
	ID       uint64     `json:"id"`
	Label    string     `json:"label"`
	PTS      int64      `json:"pts"`
	Sequence *media.Seq `json:"sequence"`
	Offset   *float64   `json:"offset"`
	Source   string     `json:"source"`
}

// TestPushAndMarkers pushes frames with jittered PTS through every kind
// of push, some refused on purpose, adds a marker at the event frame's
// PTS with AddMarker and another by POST through the handler, and ends
// the stream. Every frame accepted, and no other, comes out of the
// segments with its PTS and its colour; the markers name the segment and
// offset where the decoded event frame is; the playlist is ended; and no
// goroutine is left. Checked to fail by making intake.accept keep the PTS
// of a picture it refused (the wrong-size push then moves the last PTS).
func TestPushAndMarkers(t *testing.T) {
	goroutines := runtime.NumGoroutine()
	data := t.TempDir()
	ctx := context.Background()
	s, err := live.Start(ctx, live.Config{Name: "sim", Data: data, Size: testSize, FPS: 25, Segment: 500 * time.Millisecond,
		Preset: "ultrafast", Token: "sesame"})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ts := httptest.NewServer(s.Handler())
	defer ts.Close()

	rng := rand.New(rand.NewPCG(14, 14))
	const frames, event = 80, 50
	pts := clock.Ticks(90000) // the program's clock starts 1 s in
	var sent []clock.Ticks
	want := map[clock.Ticks]color.RGBA{}
	var marked, posted clock.Ticks
	for n := range frames {
		pts += 2700 + clock.Ticks(rng.IntN(1800)) // 30 to 50 ms apart
		kind := pushKinds[n%len(pushKinds)]
		c := blue
		switch {
		case n >= event:
			c = red
			if kind == "*image.Gray" {
				kind = "rgb24 bytes"
			}
		case kind == "*image.Gray":
			c = grey
		}
		if n == 20 {
			// Refused, and changing nothing: a picture cut short at the
			// PTS the next frame then takes, and PTS that do not rise.
			if err := s.Push(ctx, pts, make([]byte, 10)); err == nil || !strings.Contains(err.Error(), "bytes") {
				t.Fatalf("a 10-byte picture: %v, want an error naming its length", err)
			}
			for _, p := range []clock.Ticks{sent[len(sent)-1] - 1, sent[len(sent)-1]} {
				if err := s.Push(ctx, p, bytes.Repeat([]byte{9}, testSize.Width*testSize.Height*3)); !errors.Is(err, pipeline.ErrRejected) {
					t.Fatalf("a frame at PTS %d after %d: %v, want ErrRejected", p, sent[len(sent)-1], err)
				}
			}
			if err := s.PushImage(ctx, pts, image.NewRGBA(image.Rect(0, 0, 10, 10))); err == nil {
				t.Fatal("a 10x10 image was taken")
			}
		}
		if err := push(ctx, s, kind, pts, c); err != nil {
			t.Fatalf("frame %d (%s) at PTS %d: %v", n, kind, pts, err)
		}
		sent = append(sent, pts)
		want[pts] = c
		switch n {
		case event: // the frame is in: a marker may name it
			m, err := s.AddMarker(ctx, live.Marker{PTS: pts, Label: "turns red", Data: json.RawMessage(`{"frame": 50}`)})
			if err != nil {
				t.Fatal(err)
			}
			if m.PTS != pts || m.Source != "api" {
				t.Fatalf("AddMarker stored %+v, want PTS %d from the api", m, pts)
			}
			marked = pts
		case event + 5:
			posted = sent[event+2]
			postMarker(t, ts.URL, posted)
		}
	}
	if _, err := s.AddMarker(ctx, live.Marker{PTS: pts + 1, Label: "future"}); err == nil {
		t.Error("a marker past the newest frame pushed was taken")
	}
	if _, err := s.AddMarker(ctx, live.Marker{PTS: pts, Label: " "}); err == nil || !strings.Contains(err.Error(), "label") {
		t.Errorf("a blank label: %v, want an error naming the label", err)
	}

	// The handler serves the playlist, and the markers once their
	// segments are listed.
	resp, err := http.Get(ts.URL + s.PlaylistPath())
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "application/vnd.apple.mpegurl" || !bytes.HasPrefix(body, []byte("#EXTM3U")) {
		t.Fatalf("GET %s: %s %q\n%s", s.PlaylistPath(), resp.Status, resp.Header.Get("Content-Type"), body)
	}
	if err := s.End(); err != nil {
		t.Fatal(err)
	}
	if err := s.Push(ctx, pts+3000, bytes.Repeat([]byte{9}, testSize.Width*testSize.Height*3)); !errors.Is(err, pipeline.ErrEnded) {
		t.Errorf("Push after End: %v, want ErrEnded", err)
	}
	var list struct {
		Markers []apiMarker `json:"markers"`
	}
	getJSON(t, ts.URL+"/api/streams/sim/markers", &list)

	got, ended := decodeListed(t, s.Dir())
	if !ended {
		t.Error("the playlist has no EXT-X-ENDLIST after End")
	}
	var gotPTS []clock.Ticks
	for _, f := range got {
		gotPTS = append(gotPTS, f.pts)
		if c, ok := want[f.pts]; ok && !near(f.centre, c) {
			t.Errorf("frame at PTS %d shows %v, want %v", f.pts, f.centre, c)
		}
	}
	if !slices.Equal(gotPTS, sent) {
		t.Fatalf("decoded %d frames with PTS\n%v\nwant the %d pushed\n%v", len(gotPTS), gotPTS, len(sent), sent)
	}
	if len(list.Markers) != 2 {
		t.Fatalf("the API lists %+v, want the two markers", list.Markers)
	}
	for i, wantPTS := range []clock.Ticks{marked, posted} {
		checkPlaced(t, got, list.Markers[i], wantPTS)
	}
	// The handler cuts clips too: an MP4 from the marker's frame.
	clipURL := fmt.Sprintf("%s/api/streams/sim/markers/%d/clip.mp4?before=0&after=0.2", ts.URL, list.Markers[0].ID)
	resp, err = http.Get(clipURL)
	if err != nil {
		t.Fatal(err)
	}
	body, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "video/mp4" || len(body) < 8 || string(body[4:8]) != "ftyp" {
		t.Fatalf("GET %s: %s %q, %d bytes; want 200 and an MP4", clipURL, resp.Status, resp.Header.Get("Content-Type"), len(body))
	}

	ts.Close()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	http.DefaultClient.CloseIdleConnections()
	waitGoroutines(t, goroutines)
}

// checkPlaced checks that the API places m at wantPTS, in the segment and
// at the offset where the decoded frame with that PTS is.
func checkPlaced(t *testing.T, frames []decoded, m apiMarker, wantPTS clock.Ticks) {
	t.Helper()
	i := slices.IndexFunc(frames, func(f decoded) bool { return f.pts == wantPTS })
	if m.PTS != int64(wantPTS) || i < 0 {
		t.Fatalf("marker %+v, want one at the decoded frame's PTS %d", m, wantPTS)
	}
	if m.Sequence == nil || m.Offset == nil {
		t.Fatalf("marker %d has no position after the stream ended", m.ID)
	}
	first := slices.IndexFunc(frames, func(f decoded) bool { return f.seq == frames[i].seq })
	off := (frames[i].pts - frames[first].pts).Seconds()
	if *m.Sequence != frames[i].seq || fmt.Sprintf("%.6f", *m.Offset) != fmt.Sprintf("%.6f", off) {
		t.Errorf("marker at PTS %d: sequence %d offset %.6f; the frame is in segment %d, %.6f s after its first frame",
			wantPTS, *m.Sequence, *m.Offset, frames[i].seq, off)
	}
}

// postMarker posts a marker at pts through the handler: refused without
// the token, taken with it.
func postMarker(t *testing.T, base string, pts clock.Ticks) {
	t.Helper()
	body := fmt.Sprintf(`{"label": "posted", "pts": %d}`, pts)
	for _, c := range []struct {
		token string
		want  int
	}{{"", http.StatusUnauthorized}, {"sesame", http.StatusCreated}} {
		req, err := http.NewRequest(http.MethodPost, base+"/api/streams/sim/markers", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/json")
		if c.token != "" {
			req.Header.Set("Authorization", "Bearer "+c.token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != c.want {
			t.Fatalf("POST with token %q: %s %s, want %d", c.token, resp.Status, b, c.want)
		}
	}
}

// waitGoroutines waits until no more goroutines run than before, failing
// after a generous deadline: the stream's must all have ended by Close.
func waitGoroutines(t *testing.T, before int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for runtime.NumGoroutine() > before {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			t.Fatalf("%d goroutines left, %d before the stream:\n%s", runtime.NumGoroutine(), before, buf[:runtime.Stack(buf, true)])
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestStartAgain closes a stream that never had a frame, then starts one
// on the same folder (the marker store's lock is let go by Close) and
// ends it after one frame: its playlist lists it and is ended. Starting a
// second stream on a folder in use fails, naming the store. Checked to
// fail by leaving the store open in Close.
func TestStartAgain(t *testing.T) {
	data := t.TempDir()
	ctx := context.Background()
	cfg := live.Config{Data: data, Size: testSize, Segment: 500 * time.Millisecond, Preset: "ultrafast"}
	s, err := live.Start(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close with no frame: %v", err)
	}
	s, err = live.Start(ctx, cfg)
	if err != nil {
		t.Fatalf("Start again on the folder: %v", err)
	}
	defer s.Close()
	if _, err := live.Start(ctx, cfg); err == nil || !strings.Contains(err.Error(), "markers.db") {
		t.Errorf("a second stream on a folder in use: %v, want an error naming the marker store", err)
	}
	if err := push(ctx, s, "*image.RGBA", 90000, blue); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	frames, ended := decodeListed(t, s.Dir())
	if len(frames) != 1 || frames[0].pts != 90000 || !ended {
		t.Errorf("decoded %+v (ended %v), want the one frame at PTS 90000 and EXT-X-ENDLIST", frames, ended)
	}
}
