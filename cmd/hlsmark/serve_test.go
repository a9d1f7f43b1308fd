package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/grafov/m3u8"

	"github.com/hlsmark/hlsmark/playlist"
)

// TestServeEndToEnd runs `hlsmark serve` as a child process on the real
// clock: it becomes healthy, lists a segment that ffprobe reads as H.264
// over HTTP, answers `hlsmark healthcheck`, and on SIGTERM exits 0 leaving
// a playlist that ends with EXT-X-ENDLIST.
func TestServeEndToEnd(t *testing.T) {
	probe := ffprobePath(t)
	data := t.TempDir()
	addr := unusedAddr(t)
	base := "http://" + addr
	cmd := exec.Command(cliBinary(t), "serve", "--addr", addr, "--data", data,
		"--size", "320x240", "--segment", "1s", "--window", "10s", "--preset", "ultrafast")
	var logs bytes.Buffer // read only after Wait
	cmd.Stdout, cmd.Stderr = io.Discard, &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := false
	t.Cleanup(func() {
		if !exited {
			cmd.Process.Kill() // the child this test started, by its pid
			cmd.Wait()
		}
	})
	client := &http.Client{Timeout: 5 * time.Second}
	status := func(path string) (int, []byte) {
		resp, err := client.Get(base + path)
		if err != nil {
			return 0, nil
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, body
	}

	waitFor(t, "answer on /healthz", 30*time.Second, func() bool {
		code, body := status("/healthz")
		var h struct{ Status string }
		return code == http.StatusOK && json.Unmarshal(body, &h) == nil && h.Status == "ok"
	})
	var listed []*m3u8.MediaSegment
	waitFor(t, "segment in the playlist", 60*time.Second, func() bool {
		code, body := status("/streams/demo/index.m3u8")
		if code != http.StatusOK {
			return false
		}
		pl, typ, err := m3u8.DecodeFrom(bytes.NewReader(body), true)
		if err != nil || typ != m3u8.MEDIA {
			t.Fatalf("served playlist does not parse as a media playlist (%v):\n%s", err, body)
		}
		listed = listed[:0]
		for _, s := range pl.(*m3u8.MediaPlaylist).Segments {
			if s != nil {
				listed = append(listed, s)
			}
		}
		return len(listed) > 0
	})
	if code, _ := status("/streams/demo/" + listed[0].URI); code != http.StatusOK {
		t.Fatalf("listed segment %s answers %d", listed[0].URI, code)
	}

	out, err := exec.Command(probe, "-v", "error", "-show_entries", "stream=codec_type,codec_name", "-of", "json",
		base+"/streams/demo/index.m3u8").Output()
	var probed struct {
		Streams []struct {
			CodecType string `json:"codec_type"`
			CodecName string `json:"codec_name"`
		} `json:"streams"`
	}
	if err == nil {
		err = json.Unmarshal(out, &probed)
	}
	if err != nil || len(probed.Streams) != 1 || probed.Streams[0].CodecName != "h264" || probed.Streams[0].CodecType != "video" {
		t.Fatalf("ffprobe reads %s (%v), want one H.264 video stream", out, err)
	}

	if r := runCLI(t, t.TempDir(), "healthcheck", "--addr", addr); r.code != 0 || r.stderr != "" {
		t.Fatalf("healthcheck of the running server: exit %d, stderr %q", r.code, r.stderr)
	}

	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	err = cmd.Wait()
	exited = true
	if err != nil || cmd.ProcessState.ExitCode() != 0 {
		t.Fatalf("serve after SIGTERM: %v (exit %d)\n%s", err, cmd.ProcessState.ExitCode(), logs.String())
	}
	final, err := os.ReadFile(filepath.Join(data, "demo", playlist.FileName))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(string(final), "\n#EXT-X-ENDLIST\n") {
		t.Fatalf("the playlist left on disk does not end with EXT-X-ENDLIST:\n%s", final)
	}
	pl, _, err := m3u8.DecodeFrom(bytes.NewReader(final), true)
	if err != nil || !pl.(*m3u8.MediaPlaylist).Closed {
		t.Fatalf("the final playlist does not parse as closed (%v):\n%s", err, final)
	}
}
