package web_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// llPlayback is what llPlaybackJS reads from the page.
type llPlayback struct {
	Time          float64 `json:"time"`
	Paused        bool    `json:"paused"`
	Parts         int     `json:"parts"`
	LowLatency    bool    `json:"lowLatency"`
	TargetLatency float64 `json:"targetLatency"`
	Latency       float64 `json:"latency"`
	Rate          float64 `json:"rate"`
}

// llPlaybackJS reads the player's hls.js state: the parts of its level,
// its target latency (PART-HOLD-BACK in LL mode) and its latency (how far
// behind the live edge the video plays), and the video's playback rate.
const llPlaybackJS = `(() => {
  const v = document.querySelector('video');
  const hls = window.hlsmark && window.hlsmark.hls;
  const d = hls && hls.latestLevelDetails;
  return {
    time: v.currentTime, paused: v.paused,
    parts: d && d.partList ? d.partList.length : 0,
    lowLatency: !!(hls && hls.config.lowLatencyMode),
    targetLatency: (hls && hls.targetLatency) || 0,
    latency: (hls && hls.latency) || 0,
    rate: v.playbackRate,
  };
})()`

// TestPlayerLowLatency opens the page on `serve --format fmp4 --part
// 200ms`: hls.js plays in low-latency mode, reads the parts, loads parts
// and reloads the playlist blocking, and plays near the live edge: a
// target latency of PART-HOLD-BACK (0.6 s) and what hls.js adds after
// stalls (at most a target duration), not the three target durations of
// a plain playlist, and, as issue 17 asks, at most 1.5 s behind the live
// edge after playing for 5 s: the player's catch-up (catchup.js) brings
// back what starting and stalls cost. No console errors. Checked to fail
// with liveSyncDurationCount: 3 set again in the player (target latency
// 3 s), and without the catch-up (hls.js stays where it started playing,
// about 1.4 s behind on this machine, more under load).
func TestPlayerLowLatency(t *testing.T) {
	srv := startServer(t, "--size", "640x360", "--fps", fmt.Sprint(fps), "--segment", "1s", "--window", "1m",
		"--format", "fmp4", "--part", "200ms")
	b := newBrowser(t)
	b.do(t, "open the player", 30*time.Second, chromedp.Navigate(srv.base+"/"))
	first := waitFor(t, b, "low-latency playback", 60*time.Second, llPlaybackJS, func(p llPlayback) bool {
		return p.Time > 0 && !p.Paused && p.Parts > 0
	})
	p := waitFor(t, b, "5 s of playback", 60*time.Second, llPlaybackJS, func(p llPlayback) bool {
		return p.Time > first.Time+5
	})
	t.Logf("hls.js: target latency %.3f s, latency %.3f s, %d parts listed", p.TargetLatency, p.Latency, p.Parts)
	// hls.js aims PART-HOLD-BACK (0.6 s) behind the edge, plus 1 s per
	// stall it saw, at most one target duration (1 s) in all: on a loaded
	// machine up to 1.6 s. Three target durations (3 s), the hold-back of
	// a plain playlist, is what this refuses.
	if !p.LowLatency || p.TargetLatency <= 0 || p.TargetLatency > 1.6+1e-9 {
		t.Errorf("hls.js: low latency %v, target latency %.3f s; want PART-HOLD-BACK (0.6 s), plus at most a target duration for stalls", p.LowLatency, p.TargetLatency)
	}
	if p.Latency <= 0 || p.Latency > 1.5 {
		t.Errorf("hls.js plays %.3f s behind the live edge, want at most 1.5 s", p.Latency)
	}
	var parts, blocking int
	for _, r := range b.requestsTo("/streams/demo/") {
		name := r.URL[strings.LastIndex(r.URL, "/")+1:]
		if strings.Count(name, ".") == 2 && strings.HasSuffix(name, ".m4s") {
			parts++
		}
		if strings.Contains(name, "_HLS_msn=") {
			blocking++
		}
	}
	if parts == 0 || blocking == 0 {
		t.Errorf("hls.js asked for %d parts and %d blocking reloads, want some of each", parts, blocking)
	}
	if errs := b.consoleErrors(); len(errs) > 0 {
		t.Errorf("console errors: %v", errs)
	}
}

// TestPlayerCatchesUpLowLatency pauses a Low-Latency HLS stream until it
// is 0.9 s behind hls.js's target latency, plays it again,
// and waits for the player to make the time up (catchup.js): faster than
// normal speed, then back within 0.2 s of the target at normal speed.
// Checked to fail with catchUp turned off (no faster playback: the
// latency stays where the pause left it).
func TestPlayerCatchesUpLowLatency(t *testing.T) {
	srv := startServer(t, "--size", "640x360", "--fps", fmt.Sprint(fps), "--segment", "1s", "--window", "1m",
		"--format", "fmp4", "--part", "200ms")
	b := newBrowser(t)
	b.do(t, "open the player", 30*time.Second, chromedp.Navigate(srv.base+"/"))
	waitFor(t, b, "low-latency playback", 60*time.Second, llPlaybackJS, func(p llPlayback) bool {
		return p.Time > 0 && !p.Paused && p.Parts > 0
	})
	var done bool
	b.eval(t, `(document.querySelector('video').pause(), true)`, &done)
	// hls.js goes on reading the playlist while paused, and its latency
	// with it.
	behind := waitFor(t, b, "paused, 0.9 s behind the target", 30*time.Second, llPlaybackJS, func(p llPlayback) bool {
		return p.Paused && p.Latency > p.TargetLatency+0.9
	})
	b.eval(t, `(window.hlsmark.player.play(), true)`, &done)
	fast := waitFor(t, b, "faster playback", 15*time.Second, llPlaybackJS, func(p llPlayback) bool {
		return !p.Paused && p.Rate > 1
	})
	back := waitFor(t, b, "back at the target latency", 30*time.Second, llPlaybackJS, func(p llPlayback) bool {
		return !p.Paused && p.Latency < p.TargetLatency+0.2 && p.Rate == 1
	})
	t.Logf("paused %.3f s behind (target %.3f s), caught up at rate %.2f to %.3f s (target %.3f s)",
		behind.Latency, behind.TargetLatency, fast.Rate, back.Latency, back.TargetLatency)
	if errs := b.consoleErrors(); len(errs) > 0 {
		t.Errorf("console errors: %v", errs)
	}
}
