package web_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/hlsmark/hlsmark/marker/postgres/pgtest"
	"github.com/hlsmark/hlsmark/playlist/bucket/weedtest"
)

// TestPlayerSeeksOnEdge opens the player on an edge node (hlsmark edge:
// playlists and segments from SeaweedFS, markers from PostgreSQL, both
// real and started here, the stream encoded by hlsmark serve on the same
// two) and clicks a marker: the video shows its first frame, the mint
// block on it and not on the frame before. An edge reads no segments, so
// its API gives markers no sequence or offset; the player places them by
// their program date time in the playlist's (see markerFragment). Checked
// to fail without that (the row stays "pending", never a button).
func TestPlayerSeeksOnEdge(t *testing.T) {
	db := pgtest.Start(t)
	weed := weedtest.Start(t)
	weed.Bucket(t, "media")
	shared := []string{"--markers", db.URL, "--segments", "s3://media/live", "--s3-endpoint", weed.Endpoint, "--s3-path-style"}
	enc := startServer(t, append([]string{"--size", "640x360", "--fps", fmt.Sprint(fps), "--segment", "1s", "--window", "1m",
		"--event-fixed", "--event-every", "3s", "--event-duration", "1s"}, shared...)...)
	edge := startEdge(t, shared...)
	enc.waitMarkers(t, 3, 60*time.Second)

	b := newBrowser(t)
	b.do(t, "open the player on the edge", 30*time.Second, chromedp.Navigate(edge.base+"/"))
	waitFor(t, b, "playback at the live edge", 60*time.Second, playbackJS(-1), func(p playback) bool {
		return p.Ready >= 3 && p.Time > 0 && !p.Paused
	})
	const rowsJS = `[...document.querySelectorAll('.marker-list button[data-marker-id]')].map((e) => Number(e.dataset.markerId))`
	ids := waitFor(t, b, "three marker rows to click", 60*time.Second, rowsJS, func(ids []int) bool { return len(ids) >= 3 })
	var onEdge, onEncoder apiMarker
	edge.getJSON(t, fmt.Sprintf("/api/streams/demo/markers/%d", ids[2]), &onEdge)
	enc.getJSON(t, fmt.Sprintf("/api/streams/demo/markers/%d", ids[2]), &onEncoder)
	if onEdge.Sequence != nil || onEncoder.Sequence == nil || onEncoder.Offset == nil {
		t.Fatalf("marker %d: sequence %v on the edge, %v on the encoder; want none on the edge, the encoder's place", ids[2], onEdge.Sequence, onEncoder.Sequence)
	}
	b.eval(t, forgetSeekJS, new(bool))
	b.click(t, "click the marker's row", fmt.Sprintf(`.marker-list [data-marker-id="%d"]`, onEncoder.ID))
	checkMarkerFrame(t, b, "the marker's frame on the edge", onEncoder)
	for _, e := range b.consoleErrors() {
		t.Errorf("console: %s", e)
	}
}
