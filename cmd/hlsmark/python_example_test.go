package main

import (
	"bytes"
	"encoding/json"
	"image"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"syscall"
	"testing"

	"github.com/hlsmark/hlsmark/muxer/segread"
	"github.com/hlsmark/hlsmark/pipeline/clock"
)

// debianPython is the interpreter the Python example is for: Debian's,
// with python3-numpy (make setup-test installs both).
const debianPython = "/usr/bin/python3"

// redPixels counts the pixels of img that are clearly red: the landed
// ball.
func redPixels(img image.Image) int {
	n := 0
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bl, _ := img.At(x, y).RGBA()
			if r>>8 > 150 && g>>8 < 90 && bl>>8 < 90 {
				n++
			}
		}
	}
	return n
}

// TestPythonExample pipes examples/python/bouncing_ball.py into `hlsmark
// serve --input - --input-format framed`: the script posts a marker at the
// PTS of the frame where its ball lands, and hlsmark takes it; decoding
// the listed segments, the frame with that PTS is the first showing the
// red ball. Checked to fail by making the script post the PTS of the frame
// before.
func TestPythonExample(t *testing.T) {
	if _, err := os.Stat(debianPython); err != nil {
		t.Fatalf("Debian's python3 is required (make setup-test installs it with python3-numpy): %v", err)
	}
	data := t.TempDir()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	s := startServerReading(t, nil, r, data, freeAddr(t),
		"--input", "-", "--input-format", "framed", "--pix-fmt", "rgb24", "--size", "320x240", "--fps", "25")
	r.Close()
	var stderr bytes.Buffer
	py := exec.Command(debianPython, filepath.Join("..", "..", "examples", "python", "bouncing_ball.py"),
		"--fast", "--seconds", "4", "--url", s.base)
	py.Stdout, py.Stderr = w, &stderr
	if err := py.Start(); err != nil {
		t.Fatal(err)
	}
	w.Close()
	if err := py.Wait(); err != nil {
		t.Fatalf("the example: %v\n%s", err, stderr.Bytes())
	}
	var said struct {
		Frame  int
		PTS    clock.Ticks
		Marker apiMarker
	}
	if err := json.Unmarshal(stderr.Bytes(), &said); err != nil {
		t.Fatalf("the example's answer %q: %v", stderr.Bytes(), err)
	}
	if said.Marker.PTS != int64(said.PTS) {
		t.Fatalf("hlsmark placed the marker at PTS %d, the example posted %d", said.Marker.PTS, said.PTS)
	}

	pl := endedPlaylist(t, s, data)
	red := map[clock.Ticks]int{}
	for _, seg := range segments(pl) {
		if _, err := segread.Decode(filepath.Join(data, "demo", seg.URI), func(f segread.Frame) error {
			red[f.PTS] = redPixels(f.Image)
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	}
	var pts []clock.Ticks
	for p := range red {
		pts = append(pts, p)
	}
	slices.Sort(pts)
	i := slices.Index(pts, said.PTS)
	switch {
	case i < 1:
		t.Fatalf("no decoded frame after the first has the marker's PTS %d", said.PTS)
	case red[pts[i]] < 100 || red[pts[i-1]] > 0:
		t.Errorf("at the marker's PTS %d the frame shows %d red pixels, the one before %d: want the ball's landing (red from this frame on)",
			said.PTS, red[pts[i]], red[pts[i-1]])
	}
	ms := s.markers(t)
	if len(ms) != 1 || ms[0].PTS != int64(said.PTS) {
		t.Errorf("markers %+v, want the example's one at PTS %d", ms, said.PTS)
	}
	s.stop(t, syscall.SIGTERM)
}
