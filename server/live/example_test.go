//go:build cgo

package live_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"syscall"
	"testing"

	"github.com/hlsmark/hlsmark/pipeline/clock"
)

// TestGoExample builds examples/go/bouncing with the go tool, runs it
// briefly (unpaced) against a folder of the test's own, and checks what
// it says against what it made: the marker it added is served at the PTS
// of the first decoded frame showing the landed (red) ball, in that
// frame's segment and at its offset; the playlist is ended; SIGTERM stops
// it cleanly. Checked to fail by making the example mark the frame before
// the landing.
func TestGoExample(t *testing.T) {
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("the go tool is required to build the example: %v", err)
	}
	tmp := t.TempDir()
	bin := filepath.Join(tmp, "bouncing")
	build := exec.Command(goTool, "build", "-o", bin, "./examples/go/bouncing")
	build.Dir = filepath.Join("..", "..")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build ./examples/go/bouncing: %v\n%s", err, out)
	}

	cmd := exec.Command(bin, "--fast", "--seconds", "4", "--addr", "127.0.0.1:0", "--data", filepath.Join(tmp, "data"))
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		}
	}()
	var said struct {
		Open   string      `json:"open"`
		Frame  int         `json:"frame"`
		PTS    clock.Ticks `json:"pts"`
		Marker uint64      `json:"marker"`
		Ended  bool        `json:"ended"`
		Dir    string      `json:"dir"`
	}
	lines := bufio.NewScanner(stdout)
	for !said.Ended && lines.Scan() {
		if err := json.Unmarshal(lines.Bytes(), &said); err != nil {
			t.Fatalf("the example said %q: %v", lines.Bytes(), err)
		}
	}
	if !said.Ended || said.Open == "" || said.Marker == 0 {
		_ = cmd.Process.Kill()
		err := cmd.Wait() // its standard error is whole, and no longer written, once it has exited
		t.Fatalf("the example said %+v and stopped (%v; %v):\n%s", said, lines.Err(), err, stderr.Bytes())
	}

	var m apiMarker
	getJSON(t, said.Open+"api/streams/ball/markers/"+strconv.FormatUint(said.Marker, 10), &m)
	frames, ended := decodeListed(t, said.Dir)
	if !ended {
		t.Error("the example's playlist has no EXT-X-ENDLIST once it said the stream ended")
	}
	if m.Label != "ball lands" || m.PTS != int64(said.PTS) {
		t.Fatalf("the API has marker %+v, the example added one at PTS %d", m, said.PTS)
	}
	i := slices.IndexFunc(frames, func(f decoded) bool { return f.pts == said.PTS })
	switch {
	case i < 1:
		t.Fatalf("no decoded frame after the first has the marker's PTS %d", said.PTS)
	case frames[i].red < 100 || frames[i-1].red > 0:
		t.Errorf("at the marker's PTS %d the frame shows %d red pixels, the one before %d: want the landing (red from this frame on)",
			said.PTS, frames[i].red, frames[i-1].red)
	}
	checkPlaced(t, frames, m, said.PTS)

	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("the example after SIGTERM: %v\n%s", err, stderr.Bytes())
	}
	if _, err := os.Stat(filepath.Join(tmp, "data", "markers.db")); err != nil {
		t.Errorf("the example kept no markers: %v", err)
	}
}
