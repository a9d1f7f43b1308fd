package muxer_test

import (
	"context"
	"os/exec"
	"strings"
	"testing"

	"github.com/hlsmark/hlsmark/pipeline/media"
)

// TestFFmpegReadsLivePlaylist has ffmpeg's HLS demuxer play the stream
// live (see playLive) and copy it from the first segment to the end.
// Reading segment after segment as one transport stream, it must log
// nothing at all at -v warning: no corrupt packet, no discontinuity.
func TestFFmpegReadsLivePlaylist(t *testing.T) {
	const segments = 14 // at 1 s each
	_, stderr := playLive(t, media.TS, segments, func(ctx context.Context, url string) *exec.Cmd {
		return ffmpegCopy(ctx, t, url)
	})
	checkSilent(t, stderr)
}

// ffmpegCopy returns the command that has ffmpeg read the HLS playlist at
// url from its first segment, as a player would, and copy it to nowhere,
// logging warnings and errors only.
func ffmpegCopy(ctx context.Context, t *testing.T, url string) *exec.Cmd {
	t.Helper()
	ffmpeg, err := exec.LookPath("ffmpeg")
	if err != nil {
		t.Fatalf("ffmpeg is required (make setup-test installs it): %v", err)
	}
	return exec.CommandContext(ctx, ffmpeg, "-nostdin", "-v", "warning", "-live_start_index", "0",
		"-i", url, "-c", "copy", "-f", "null", "-")
}

// checkSilent fails the test for every line ffmpeg logged. At -v warning
// every line is a warning or an error: counters that restart at a segment
// boundary show as "Packet corrupt" and "corrupt input packet".
func checkSilent(t *testing.T, stderr []byte) {
	t.Helper()
	for _, line := range strings.Split(string(stderr), "\n") {
		if line != "" {
			t.Errorf("ffmpeg: %s", line)
		}
	}
}
