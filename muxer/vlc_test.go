package muxer_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"

	"github.com/hlsmark/hlsmark/pipeline/media"
)

// TestVLCPlaysLivePlaylist has VLC play the stream live (see playLive).
// VLC's HLS module reads segment after segment as one transport stream
// through its ts demuxer, which complains of every continuity counter that
// does not follow on ("discontinuity received 0x0 instead of 0x9 (pid=0)",
// and libdvbpsi's "TS discontinuity") and of broken clock references: its
// log must hold no such complaint. That it played, not just stayed quiet:
// the log shows the h264 decoder started, and the copy of the stream VLC
// writes as it plays holds, as ffprobe decodes it, every frame of every
// segment but the last (VLC's TS muxer may keep the last frames back when
// the input ends).
func TestVLCPlaysLivePlaylist(t *testing.T) {
	const segments = 12 // at 1 s each
	vlc, err := exec.LookPath("vlc")
	if err != nil {
		t.Fatalf("vlc is required (make setup-test installs Debian's vlc-bin and vlc-plugin-base): %v", err)
	}
	ffprobe, err := exec.LookPath("ffprobe")
	if err != nil {
		t.Fatalf("ffprobe is required (make setup-test installs it): %v", err)
	}
	home := vlcHome(t)
	played := filepath.Join(home, "played.ts")
	r, log := playLive(t, media.TS, segments, func(ctx context.Context, url string) *exec.Cmd {
		return vlcPlay(ctx, vlc, url, home, played)
	})
	segs := r.segments
	for _, line := range vlcComplaints(log) {
		t.Errorf("vlc: %s", line)
	}
	if !bytes.Contains(log, []byte("codec (h264) started")) {
		t.Errorf("VLC's log shows no h264 decoder started: it did not play the video\n%s", log)
	}
	want := 0
	for _, s := range segs[:len(segs)-1] {
		want += s.Frames
	}
	if got := countFrames(t, ffprobe, played); got < want {
		t.Errorf("VLC played %d frames, want at least the %d of segments 0 to %d", got, want, len(segs)-2)
	}
}

// vlcPlay returns the command that has VLC, headless and logging
// everything, play the HLS playlist at url to its end: it decodes the video
// to a display that shows nothing and writes a copy of the stream it plays
// into the file played. home is VLC's home folder; VLC runs as nobody if
// the test runs as root, since VLC refuses root.
func vlcPlay(ctx context.Context, vlc, url, home, played string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, vlc, "--intf", "dummy", "-vv", "--play-and-exit",
		"--no-video-title-show", "--vout", "dummy", "--aout", "dummy",
		"--sout", "#duplicate{dst=display,dst=std{access=file,mux=ts,dst="+played+"}}", url)
	cmd.Env = append(os.Environ(), "HOME="+home)
	if os.Geteuid() == 0 {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: nobody, Gid: nobody}}
	}
	return cmd
}

// countFrames returns how many frames ffprobe decodes from the video of
// the transport stream at path.
func countFrames(t *testing.T, ffprobe, path string) int {
	t.Helper()
	out, err := exec.Command(ffprobe, "-v", "error", "-count_frames", "-select_streams", "v:0",
		"-show_entries", "stream=nb_read_frames", "-of", "json", path).Output()
	if err != nil {
		t.Fatalf("ffprobe %s: %v", path, err)
	}
	var probe struct {
		Streams []struct {
			Frames int `json:"nb_read_frames,string"`
		}
	}
	if err := json.Unmarshal(out, &probe); err != nil || len(probe.Streams) != 1 {
		t.Fatalf("ffprobe %s: want one video stream: %v\n%s", path, err, out)
	}
	return probe.Streams[0].Frames
}

// nobody is the user and group id of nobody on Debian.
const nobody = 65534

// vlcHome returns a fresh folder for VLC's home and output, writable by
// the user VLC runs as: nobody when the test runs as root.
func vlcHome(t *testing.T) string {
	t.Helper()
	// Not t.TempDir: its parent is private to the test's user.
	dir, err := os.MkdirTemp("", "hlsmark-vlc-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if os.Geteuid() == 0 {
		if err := os.Chown(dir, nobody, nobody); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// vlcLine splits a line of VLC's log, "[0000556cfe9d1cf0] ts demux
// warning: message", into its module ("ts demux"), its level (warning,
// error, debug, or "" for information) and its message.
var vlcLine = regexp.MustCompile(`^\[[0-9a-f]+\] ([^:]+?)(?: (warning|error|debug))?: (.*)$`)

// tsTrouble matches what VLC says of a broken transport stream: counters
// that do not follow on, corrupt packets, clock references (PCR) that jump
// or come late.
var tsTrouble = regexp.MustCompile(`(?i)discontinuit|corrupt|pcr`)

// vlcComplaints returns the lines of VLC's log that complain of the
// stream: every warning and error of its ts and HLS (adaptive) demuxers,
// and every line above debug level, from any module, that speaks of
// discontinuities, corruption or the PCR.
func vlcComplaints(log []byte) []string {
	var out []string
	for _, line := range strings.Split(string(log), "\n") {
		m := vlcLine.FindStringSubmatch(line)
		if m == nil {
			continue // not VLC's: HTTP headers, libavcodec's own lines
		}
		module, level, msg := m[1], m[2], m[3]
		demuxer := module == "ts demux" || module == "adaptive demux"
		if (demuxer && (level == "warning" || level == "error")) || (level != "debug" && tsTrouble.MatchString(msg)) {
			out = append(out, line)
		}
	}
	return out
}
