//go:build cgo

package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image/jpeg"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hlsmark/hlsmark/marker"
	"github.com/hlsmark/hlsmark/muxer/clip"
	"github.com/hlsmark/hlsmark/pipeline"
	"github.com/hlsmark/hlsmark/pipeline/clock"
	"github.com/hlsmark/hlsmark/pipeline/media"
	"github.com/hlsmark/hlsmark/pipeline/pipelinetest"
	"github.com/hlsmark/hlsmark/server"
)

// pictureFixture is a finished run whose early segments have been deleted
// (a 2 s window, the least grace), copies of every segment it wrote kept
// aside for ffmpeg to decode, and a real server over it.
type pictureFixture struct {
	run    *pipelinetest.Run
	srv    *httptest.Server
	copies map[media.Seq]string // every segment's copy, by sequence number
}

func newPictureFixture(t *testing.T) *pictureFixture {
	t.Helper()
	return startFixture(t, pipelinetest.Config{
		Frames: 360, Seed: 5, Size: media.Size{Width: 640, Height: 360}, Window: 2 * time.Second, Grace: time.Millisecond,
		EventEvery: 2 * time.Second, EventDuration: 500 * time.Millisecond,
	})
}

// startFixture runs cfg (its Attach is the fixture's) and serves it with
// pictures and clips.
func startFixture(t *testing.T, cfg pipelinetest.Config) *pictureFixture {
	t.Helper()
	f := &pictureFixture{copies: map[media.Seq]string{}}
	aside := t.TempDir()
	cfg.Attach = func(*pipelinetest.Run) func(media.Segment) {
		return func(seg media.Segment) {
			data, err := os.ReadFile(seg.Path)
			if err != nil {
				t.Error(err)
				return
			}
			path := filepath.Join(aside, seg.Name())
			if err := os.WriteFile(path, data, 0o644); err != nil {
				t.Error(err)
			}
			f.copies[seg.Seq] = path
		}
	}
	f.run = pipelinetest.Start(t, cfg)
	f.srv = httptest.NewServer(server.New(server.Config{Streams: server.Fixed{{
		Name: streamName, Playlist: f.run.Playlist, Markers: f.run.Markers, Frames: f.run.Stream.Frames(),
		Clips: clip.New(f.run.Playlist.SegmentAt),
	}}}))
	t.Cleanup(f.srv.Close)
	return f
}

// segmentOf returns the copy of the segment the run wrote frame pts in,
// and whether the original is still on disk.
func (f *pictureFixture) segmentOf(t *testing.T, pts clock.Ticks) (string, bool) {
	t.Helper()
	for _, seg := range f.run.Segments {
		if seg.Contains(pts) {
			_, err := os.Stat(seg.Path)
			return f.copies[seg.Seq], err == nil
		}
	}
	t.Fatalf("no segment holds pts %d", pts)
	return "", false
}

// reference returns the frame at pts as the ffmpeg CLI decodes it from a
// copy of its segment, RGB24, width pixels wide (0: as encoded).
func (f *pictureFixture) reference(t *testing.T, pts clock.Ticks, width int) *rgbPicture {
	t.Helper()
	ffmpeg, err := exec.LookPath("ffmpeg")
	if err != nil {
		t.Fatalf("ffmpeg is required (make setup-test installs it): %v", err)
	}
	path, _ := f.segmentOf(t, pts)
	size := f.run.Source.Size()
	filter := fmt.Sprintf("select='eq(pts\\,%d)'", int64(pts.TS()))
	if width > 0 {
		h := size.Height * width / size.Width
		filter += fmt.Sprintf(",scale=%d:%d:flags=area", width, h)
		size = media.Size{Width: width, Height: h}
	}
	cmd := exec.Command(ffmpeg, "-v", "error", "-copyts", "-i", path, "-vf", filter, "-fps_mode", "passthrough",
		"-frames:v", "1", "-f", "rawvideo", "-pix_fmt", "rgb24", "pipe:1")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil || len(out) != size.Width*size.Height*3 {
		t.Fatalf("ffmpeg: frame at pts %d of %s: %d bytes, %v: %s", pts, path, len(out), err, stderr.String())
	}
	return &rgbPicture{size: size, rgb: out}
}

// rgbPicture is a picture as packed RGB24.
type rgbPicture struct {
	size media.Size
	rgb  []byte
}

// decodeJPEG decodes a JPEG answer into RGB24 with Go's image/jpeg.
func decodeJPEG(t *testing.T, data []byte) *rgbPicture {
	t.Helper()
	img, err := jpeg.Decode(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("not a JPEG: %v", err)
	}
	b := img.Bounds()
	p := &rgbPicture{size: media.Size{Width: b.Dx(), Height: b.Dy()}}
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bl, _ := img.At(x, y).RGBA()
			p.rgb = append(p.rgb, byte(r>>8), byte(g>>8), byte(bl>>8))
		}
	}
	return p
}

// psnr is the peak signal-to-noise ratio of b against a, in dB.
func psnr(t *testing.T, a, b *rgbPicture) float64 {
	t.Helper()
	if a.size != b.size {
		t.Fatalf("pictures of %s and %s", a.size, b.size)
	}
	var sum float64
	for i := range a.rgb {
		d := float64(a.rgb[i]) - float64(b.rgb[i])
		sum += d * d
	}
	if sum == 0 {
		return math.Inf(1)
	}
	return 10 * math.Log10(255*255/(sum/float64(len(a.rgb))))
}

// mintPixels counts the pixels within 40 of pipeline.Mint on every channel.
func mintPixels(p *rgbPicture) int {
	n := 0
	for i := 0; i+2 < len(p.rgb); i += 3 {
		near := true
		for c := range 3 {
			if d := int(p.rgb[i+c]) - int(pipeline.Mint[c]); d < -40 || d > 40 {
				near = false
			}
		}
		if near {
			n++
		}
	}
	return n
}

// postJSON posts body as JSON to url.
func postJSON(t *testing.T, url, body string) (*http.Response, []byte) {
	t.Helper()
	resp, err := http.Post(url, "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, b
}

// get fetches path from the fixture's server.
func (f *pictureFixture) get(t *testing.T, path string) (*http.Response, []byte) {
	t.Helper()
	return do(t, http.MethodGet, f.srv.URL+path, nil)
}

// picture fetches path and requires a JPEG.
func (f *pictureFixture) picture(t *testing.T, path string) (*http.Response, *rgbPicture) {
	t.Helper()
	resp, body := f.get(t, path)
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "image/jpeg" {
		t.Fatalf("GET %s: %d %s: %.200s", path, resp.StatusCode, resp.Header.Get("Content-Type"), body)
	}
	return resp, decodeJPEG(t, body)
}

// frameIndex returns the index of pts among the run's frames.
func (f *pictureFixture) frameIndex(t *testing.T, pts clock.Ticks) int {
	t.Helper()
	i, ok := slices.BinarySearch(f.run.PTS, pts)
	if !ok {
		t.Fatalf("pts %d is no frame of the run", pts)
	}
	return i
}

// checkIsFrame requires got to equal the frame at pts as ffmpeg decodes
// it (PSNR at least 40 dB) and to differ clearly from the frame before it.
func (f *pictureFixture) checkIsFrame(t *testing.T, got *rgbPicture, pts clock.Ticks) {
	t.Helper()
	if db := psnr(t, f.reference(t, pts, 0), got); db < 40 {
		t.Errorf("PSNR %.1f dB against ffmpeg's frame at pts %d, want at least 40", db, pts)
	}
	before := f.run.PTS[f.frameIndex(t, pts)-1]
	if db := psnr(t, f.reference(t, before, 0), got); db > 30 {
		t.Errorf("PSNR %.1f dB against the frame before (pts %d): the picture is not clearly the frame at %d", db, before, pts)
	}
}

func TestThumbnails(t *testing.T) {
	f := newPictureFixture(t)
	ms, err := f.run.Store.List(context.Background(), pipelinetest.Stream, 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	var detected []marker.Marker
	for _, m := range ms {
		if m.Source == marker.FromDetector {
			detected = append(detected, m)
		}
	}
	if len(detected) < 2 {
		t.Fatalf("%d detector markers, want at least 2", len(detected))
	}

	t.Run("detector marker, segment deleted: the kept frame", func(t *testing.T) {
		m := detected[0]
		if _, onDisk := f.segmentOf(t, m.PTS); onDisk {
			t.Fatalf("the segment of the first marker (pts %d) is still on disk: the test wants it gone", m.PTS)
		}
		resp, got := f.picture(t, fmt.Sprintf("/api/streams/demo/markers/%d/thumbnail.jpg", m.ID))
		if cc := resp.Header.Get("Cache-Control"); !strings.Contains(cc, "immutable") {
			t.Errorf("Cache-Control %q, want immutable", cc)
		}
		f.checkIsFrame(t, got, m.PTS)
		before := f.reference(t, f.run.PTS[f.frameIndex(t, m.PTS)-1], 0)
		if n, was := mintPixels(got), mintPixels(before); n < 100 || was != 0 {
			t.Errorf("%d mint pixels in the thumbnail, %d in the frame before: want the square in it and not before", n, was)
		}
	})

	t.Run("detector marker on disk", func(t *testing.T) {
		m := detected[len(detected)-1]
		_, got := f.picture(t, fmt.Sprintf("/api/streams/demo/markers/%d/thumbnail.jpg", m.ID))
		f.checkIsFrame(t, got, m.PTS)
	})

	t.Run("posted marker: decoded from its segment", func(t *testing.T) {
		pts := f.run.PTS[len(f.run.PTS)-20]
		if _, onDisk := f.segmentOf(t, pts); !onDisk {
			t.Fatalf("the segment of pts %d is gone", pts)
		}
		resp, body := postJSON(t, f.srv.URL+"/api/streams/demo/markers", fmt.Sprintf(`{"label":"posted","pts":%d}`, int64(pts.TS())))
		var m struct{ ID marker.ID }
		if err := json.Unmarshal(body, &m); resp.StatusCode != http.StatusCreated || err != nil {
			t.Fatalf("POST: %d %s", resp.StatusCode, body)
		}
		resp, got := f.picture(t, fmt.Sprintf("/api/streams/demo/markers/%d/thumbnail.jpg", m.ID))
		if cc := resp.Header.Get("Cache-Control"); !strings.Contains(cc, "immutable") {
			t.Errorf("Cache-Control %q, want immutable", cc)
		}
		f.checkIsFrame(t, got, pts)
	})

	t.Run("marker posted between two frames: the frame showing then", func(t *testing.T) {
		pts, next := f.run.PTS[len(f.run.PTS)-15], f.run.PTS[len(f.run.PTS)-14]
		at := f.run.Timeline.Time(pts + (next-pts)/2).Format(time.RFC3339Nano)
		resp, body := postJSON(t, f.srv.URL+"/api/streams/demo/markers", `{"label":"between","time":"`+at+`"}`)
		var m struct{ ID marker.ID }
		if err := json.Unmarshal(body, &m); resp.StatusCode != http.StatusCreated || err != nil {
			t.Fatalf("POST: %d %s", resp.StatusCode, body)
		}
		_, got := f.picture(t, fmt.Sprintf("/api/streams/demo/markers/%d/thumbnail.jpg", m.ID))
		f.checkIsFrame(t, got, pts)
	})

	t.Run("width keeps the aspect", func(t *testing.T) {
		for _, m := range []marker.Marker{detected[0], detected[len(detected)-1]} {
			_, got := f.picture(t, fmt.Sprintf("/api/streams/demo/markers/%d/thumbnail.jpg?width=160", m.ID))
			src := f.run.Source.Size()
			if want := (media.Size{Width: 160, Height: src.Height * 160 / src.Width}); got.size != want {
				t.Fatalf("?width=160: %s, want %s", got.size, want)
			}
			if db := psnr(t, f.reference(t, m.PTS, 160), got); db < 30 {
				t.Errorf("?width=160: PSNR %.1f dB against ffmpeg's area-scaled frame, want at least 30", db)
			}
		}
	})
}

func TestFramePicture(t *testing.T) {
	f := newPictureFixture(t)
	pts := f.run.PTS[len(f.run.PTS)-10]
	next := f.run.PTS[len(f.run.PTS)-9]

	t.Run("by pts", func(t *testing.T) {
		_, got := f.picture(t, fmt.Sprintf("/api/streams/demo/frame.jpg?pts=%d", int64(pts.TS())))
		f.checkIsFrame(t, got, pts)
	})
	t.Run("by time: the frame showing then", func(t *testing.T) {
		at := f.run.Timeline.Time(pts + (next-pts)/2)
		_, got := f.picture(t, "/api/streams/demo/frame.jpg?time="+url.QueryEscape(at.Format(time.RFC3339Nano)))
		f.checkIsFrame(t, got, pts)
		_, exact := f.picture(t, "/api/streams/demo/frame.jpg?time="+url.QueryEscape(f.run.Timeline.Time(next).Format(time.RFC3339Nano)))
		f.checkIsFrame(t, exact, next)
	})
}

// casesBadPicture are requests for pictures that must be refused with
// the status given and a JSON message holding want.
var casesBadPicture = []struct {
	name, path string
	status     int
	want       string
}{
	{"unknown marker", "/api/streams/demo/markers/9999/thumbnail.jpg", 404, "no marker 9999"},
	{"bad id", "/api/streams/demo/markers/x/thumbnail.jpg", 400, "id"},
	{"unknown stream", "/api/streams/nope/markers/1/thumbnail.jpg", 404, "unknown stream"},
	{"width 0", "/api/streams/demo/markers/1/thumbnail.jpg?width=0", 400, "width"},
	{"width negative", "/api/streams/demo/markers/1/thumbnail.jpg?width=-5", 400, "width"},
	{"width over the source's", "/api/streams/demo/markers/1/thumbnail.jpg?width=641", 400, "width"},
	{"width over 4096", "/api/streams/demo/frame.jpg?pts=0&width=5000", 400, "width"},
	{"width twice", "/api/streams/demo/frame.jpg?pts=0&width=10&width=20", 400, "width"},
	{"width not a number", "/api/streams/demo/frame.jpg?pts=0&width=1e2", 400, "width"},
	{"no pts nor time", "/api/streams/demo/frame.jpg", 400, "pts, time"},
	{"pts and time", "/api/streams/demo/frame.jpg?pts=0&time=2026-11-24T10:00:01Z", 400, "pts, time"},
	{"pts negative", "/api/streams/demo/frame.jpg?pts=-1", 400, "pts"},
	{"pts past 33 bits", "/api/streams/demo/frame.jpg?pts=8589934592", 400, "pts"},
	{"bad time", "/api/streams/demo/frame.jpg?time=yesterday", 400, "time"},
	{"time before the stream", "/api/streams/demo/frame.jpg?time=2020-01-01T00:00:00Z", 400, "time"},
}

func TestPictureErrors(t *testing.T) {
	f := newPictureFixture(t)
	for _, c := range casesBadPicture {
		t.Run(c.name, func(t *testing.T) {
			resp, body := f.get(t, c.path)
			checkJSONError(t, resp, body, c.status)
			if !strings.Contains(string(body), c.want) {
				t.Errorf("%s", body)
			}
		})
	}
	t.Run("pts between frames", func(t *testing.T) {
		pts := f.run.PTS[len(f.run.PTS)-10] + 1
		resp, body := f.get(t, "/api/streams/demo/frame.jpg?pts="+strconv.FormatInt(int64(pts), 10))
		checkJSONError(t, resp, body, http.StatusNotFound)
		if want := fmt.Sprintf("no frame at pts %d", pts); !strings.Contains(string(body), want) {
			t.Errorf("%s, want %q", body, want)
		}
	})
	t.Run("frame no longer on disk", func(t *testing.T) {
		pts := f.run.PTS[5]
		if _, onDisk := f.segmentOf(t, pts); onDisk {
			t.Fatal("the first segment is still on disk")
		}
		resp, body := f.get(t, "/api/streams/demo/frame.jpg?pts="+strconv.FormatInt(int64(pts), 10))
		checkJSONError(t, resp, body, http.StatusGone)
		var e struct{ Error string }
		_ = json.Unmarshal(body, &e)
		if !strings.Contains(e.Error, "no segment on disk") {
			t.Errorf("%s", body)
		}
	})
}
