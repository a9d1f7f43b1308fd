package playlist_test

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/grafov/m3u8"

	"github.com/hlsmark/hlsmark/pipeline/clock"
	"github.com/hlsmark/hlsmark/pipeline/media"
	"github.com/hlsmark/hlsmark/playlist"
)

// TestRunInits restarts an fMP4 stream folder: the restored segments play
// after their run's own init segment (init-0.mp4), named at the top of the
// live and the VOD playlist before a segment of the new run is added
// (init.mp4 is already the new run's by then); the new run's segments
// after init.mp4, in an EXT-X-MAP right after their EXT-X-DISCONTINUITY,
// as grafov reads both playlists. InitPath serves init.mp4 and the init
// segments of listed or retained runs only. Once the old run's last
// segment is deleted, init-0.mp4 goes with it, and the new run's own
// stays. Checked to fail with init.mp4 named for every segment, and
// without deleteInits.
func TestRunInits(t *testing.T) {
	dir := t.TempDir()
	clk := &wallClock{now: time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)}
	cfg := playlist.Config{Dir: dir, Window: 5 * time.Second, Grace: time.Second, Target: time.Second, Format: media.FMP4, Now: clk.Now}
	p, mk := newPlaylist(t, cfg)
	for _, name := range []string{media.RunInitName(0), media.InitName} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(name), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for range 3 {
		add(t, p, mk.make(time.Second)) // Init 0: the run starting at 0
	}
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}

	p = restore(t, cfg)
	if got := mapURIs(t, p.Encoded()); strings.Join(got, " ") != "init-0.mp4 init-0.mp4 init-0.mp4" {
		t.Errorf("restored, before a new segment: segments after %v, want init-0.mp4 each:\n%s", got, p.Encoded())
	}
	const first = 3 // the new run's
	if err := os.WriteFile(filepath.Join(dir, media.RunInitName(first)), []byte("run 2"), 0o644); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		s := mk.make(time.Second)
		s.Init = first
		add(t, p, s)
	}
	want := "init-0.mp4 init-0.mp4 init-0.mp4 init.mp4 init.mp4"
	vod, ok := p.VOD(0, clock.Ticks(1<<40), nil)
	if !ok {
		t.Fatal("no VOD playlist")
	}
	for name, data := range map[string][]byte{"live": p.Encoded(), "vod": vod} {
		if got := mapURIs(t, data); strings.Join(got, " ") != want {
			t.Errorf("%s: segments after %v, want %s:\n%s", name, got, want, data)
		}
		if !strings.Contains(string(data), "#EXT-X-DISCONTINUITY\n#EXT-X-MAP:URI=\"init.mp4\"\n") {
			t.Errorf("%s: no EXT-X-MAP right after the new run's EXT-X-DISCONTINUITY:\n%s", name, data)
		}
	}
	for name, served := range map[string]bool{"init.mp4": true, "init-0.mp4": true, "init-3.mp4": true, "init-1.mp4": false, "init-00.mp4": false, "x.mp4": false} {
		if _, ok := p.InitPath(name); ok != served {
			t.Errorf("InitPath(%q) served %v, want %v", name, ok, served)
		}
	}

	// Slide the old run out and past its grace: its segments and its
	// init segment go.
	for range 8 {
		clk.now = clk.now.Add(10 * time.Second)
		s := mk.make(time.Second)
		s.Init = first
		add(t, p, s)
	}
	if _, err := os.Stat(filepath.Join(dir, media.RunInitName(0))); !os.IsNotExist(err) {
		t.Errorf("init-0.mp4 after the last segment of its run was deleted: %v", err)
	}
	if _, ok := p.InitPath("init-0.mp4"); ok {
		t.Error("init-0.mp4 still served")
	}
	if _, err := os.Stat(filepath.Join(dir, media.RunInitName(first))); err != nil {
		t.Errorf("init-3.mp4 of the listed run: %v", err)
	}
}

// TestRestoredRunKeepsInitName restores an fMP4 folder whose init.mp4 is
// still the last run's (a hard link of init-0.mp4, as the muxer leaves
// it): the restored segments keep EXT-X-MAP:URI="init.mp4", the playlist
// served before the restart, until a new run writes another. Checked to
// fail without restoreRun (init-0.mp4 named after the restart).
func TestRestoredRunKeepsInitName(t *testing.T) {
	dir := t.TempDir()
	cfg := playlist.Config{Dir: dir, Window: time.Minute, Target: time.Second, Format: media.FMP4}
	p, mk := newPlaylist(t, cfg)
	own := filepath.Join(dir, media.RunInitName(0))
	if err := os.WriteFile(own, []byte("run 1"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Link(own, filepath.Join(dir, media.InitName)); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		add(t, p, mk.make(time.Second))
	}
	served := p.Encoded()
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	p = restore(t, cfg)
	if got := mapURIs(t, p.Encoded()); strings.Join(got, " ") != "init.mp4 init.mp4 init.mp4" {
		t.Errorf("restored: segments after %v, want init.mp4 as served:\nbefore:\n%s\nafter:\n%s", got, served, p.Encoded())
	}
}

// mapURIs reads a playlist with grafov/m3u8 and returns, for each segment,
// the URI of the latest EXT-X-MAP before it.
func mapURIs(t *testing.T, data []byte) []string {
	t.Helper()
	pl, _, err := m3u8.DecodeFrom(bytes.NewReader(data), true)
	if err != nil {
		t.Fatalf("grafov: %v\n%s", err, data)
	}
	var uris []string
	uri := ""
	for _, s := range pl.(*m3u8.MediaPlaylist).Segments {
		if s == nil {
			break
		}
		if s.Map != nil {
			uri = s.Map.URI
		}
		uris = append(uris, uri)
	}
	return uris
}

// TestRunInitsPendingParts restores a Low-Latency fMP4 folder and adds
// the first part of the new run, before its segment: the parts follow
// EXT-X-DISCONTINUITY and an EXT-X-MAP naming init.mp4, the new run's,
// not the restored run's init-0.mp4 above them. Checked to fail without
// that EXT-X-MAP in Live.
func TestRunInitsPendingParts(t *testing.T) {
	dir := t.TempDir()
	cfg := playlist.Config{Dir: dir, Window: 5 * time.Second, Grace: time.Hour, Target: time.Second, Format: media.FMP4, Part: 200 * time.Millisecond}
	p, mk := newPlaylist(t, cfg)
	for range 2 {
		add(t, p, mk.make(time.Second))
	}
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	p = restore(t, cfg)
	if err := p.AddPart(media.Part{Seq: 2, Duration: 18000, Independent: true, Discontinuity: true, Data: []byte("part")}); err != nil {
		t.Fatal(err)
	}
	flush(t, p)
	live := string(p.Live(false))
	if !strings.Contains(live, "#EXT-X-DISCONTINUITY\n#EXT-X-MAP:URI=\"init.mp4\"\n#EXT-X-PART:") ||
		!strings.Contains(live, "#EXT-X-MAP:URI=\"init-0.mp4\"\n") {
		t.Errorf("the new run's first part not after EXT-X-MAP init.mp4, below the restored run's init-0.mp4:\n%s", live)
	}
}
