package main

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"

	"github.com/chromedp/chromedp"

	"github.com/hlsmark/hlsmark/bench/internal/live"
)

// probeJS follows the page's hls.js instance (window.hlsmark.hls) and
// notes, for each Low-Latency HLS part, when it went through each stage on
// its way to the screen, in seconds after the part's end (its program date
// time plus its duration: when the frame after its last one was made):
// listed (the playlist reload that first listed it was parsed), loaded
// (its bytes arrived) and appended (the media buffer took it). At every
// take it also samples where playback sits: hls.js's own latency estimate
// (live edge, the playlist's end plus its age, minus the playhead), its
// target latency (PART-HOLD-BACK plus what stalls added) and the buffer
// ahead of the playhead. It returns whether the probe is in place: false
// until the player made its hls.js.
const probeJS = `(() => {
  const hls = window.hlsmark && window.hlsmark.hls;
  if (!hls) return false;
  if (window.__breakdown && window.__breakdown.hls === hls) return true;
  const E = window.Hls.Events;
  const b = { hls, ends: new Map(), primed: false, listed: [], loaded: [], appended: [],
    behind: [], target: [], ahead: [], stalls: 0, waiting: 0 };
  window.__breakdown = b;
  const key = (p) => p.fragment.sn + '.' + p.index;
  // A fragment's program date time in ms; the playlist's last, partial one
  // has none of its own: the one of the latest before it, plus the time between.
  const pdt = (details, frag) => {
    if (Number.isFinite(frag.programDateTime)) return frag.programDateTime;
    let ref = null;
    for (const f of details.fragments) if (Number.isFinite(f.programDateTime)) ref = f;
    return ref ? ref.programDateTime + (frag.start - ref.start) * 1000 : NaN;
  };
  const since = (p) => {
    const end = b.ends.get(key(p));
    return Number.isFinite(end) ? (Date.now() - end) / 1000 : null;
  };
  hls.on(E.LEVEL_UPDATED, (_, data) => {
    const now = Date.now();
    const d = data.details;
    for (const p of d.partList || []) {
      if (b.ends.has(key(p))) continue;
      const end = pdt(d, p.fragment) + (p.start + p.duration - p.fragment.start) * 1000;
      b.ends.set(key(p), end);
      // The first playlist lists what was there before the page: not timed.
      if (b.primed && Number.isFinite(end)) b.listed.push((now - end) / 1000);
    }
    b.primed = true;
  });
  hls.on(E.FRAG_LOADED, (_, data) => {
    const s = data.part && since(data.part);
    if (s != null) b.loaded.push(s);
  });
  hls.on(E.BUFFER_APPENDED, (_, data) => {
    const s = data.part && data.type === 'video' ? since(data.part) : null;
    if (s != null) b.appended.push(s);
  });
  hls.on(E.ERROR, (_, data) => {
    if (data.details === 'bufferStalledError') b.stalls++;
  });
  hls.media && hls.media.addEventListener('waiting', () => b.waiting++);
  return true;
})()`

// takeBreakdownJS hands over what the probe noted so far, and forgets it,
// after sampling where playback sits.
const takeBreakdownJS = `(() => {
  const b = window.__breakdown;
  if (!b) return null;
  const v = b.hls.media;
  if (v && Number.isFinite(b.hls.latency) && b.hls.latency > 0) {
    b.behind.push(b.hls.latency);
    b.target.push(b.hls.targetLatency);
    const r = v.buffered;
    if (r.length) b.ahead.push(r.end(r.length - 1) - v.currentTime);
  }
  const out = {};
  for (const k of ['listed', 'loaded', 'appended', 'behind', 'target', 'ahead']) out[k] = b[k].splice(0);
  out.stalls = b.stalls;
  out.waiting = b.waiting;
  return out;
})()`

// stages is what the probe noted, in seconds.
type stages struct {
	Listed   []float64 `json:"listed"`
	Loaded   []float64 `json:"loaded"`
	Appended []float64 `json:"appended"`
	Behind   []float64 `json:"behind"`
	Target   []float64 `json:"target"`
	Ahead    []float64 `json:"ahead"`
	Stalls   int       `json:"stalls"`
	Waiting  int       `json:"waiting"`
}

// add appends o's samples to s and takes its counts, which are totals.
func (s *stages) add(o stages) {
	s.Listed = append(s.Listed, o.Listed...)
	s.Loaded = append(s.Loaded, o.Loaded...)
	s.Appended = append(s.Appended, o.Appended...)
	s.Behind = append(s.Behind, o.Behind...)
	s.Target = append(s.Target, o.Target...)
	s.Ahead = append(s.Ahead, o.Ahead...)
	s.Stalls, s.Waiting = o.Stalls, o.Waiting
}

// spread is the percentiles of one stage, in seconds.
type spread struct {
	Count int     `json:"n"`
	P50   float64 `json:"p50"`
	P95   float64 `json:"p95"`
}

// spreadOf returns the percentiles of v (sorted in place).
func spreadOf(v []float64) spread {
	if len(v) == 0 {
		return spread{}
	}
	slices.Sort(v)
	return spread{Count: len(v), P50: live.Quantile(v, 0.5), P95: live.Quantile(v, 0.95)}
}

// breakdown is the result's account of where the time goes: each part's
// stages after its end, and where playback sat (hls.js's view).
type breakdown struct {
	// EncodeMean is the mean time libx264 took per frame (the server's
	// hlsmark_encode_seconds).
	EncodeMean float64 `json:"encode_mean"`
	Listed     spread  `json:"part_listed_after_end"`
	Loaded     spread  `json:"part_loaded_after_end"`
	Appended   spread  `json:"part_appended_after_end"`
	Behind     spread  `json:"hlsjs_latency"`
	Target     spread  `json:"hlsjs_target_latency"`
	Ahead      spread  `json:"buffer_ahead"`
	Stalls     int     `json:"hlsjs_stalls"`
	Waiting    int     `json:"video_waiting"`
}

// summarize fills b from s.
func (b *breakdown) summarize(s stages) {
	b.Listed, b.Loaded, b.Appended = spreadOf(s.Listed), spreadOf(s.Loaded), spreadOf(s.Appended)
	b.Behind, b.Target, b.Ahead = spreadOf(s.Behind), spreadOf(s.Target), spreadOf(s.Ahead)
	b.Stalls, b.Waiting = s.Stalls, s.Waiting
}

// probe puts probeJS in the tab, and reports whether it is there.
func probe(tab context.Context) (bool, error) {
	ok, err := chromedp.Run(tab, chromedp.Evaluate[bool](probeJS))
	if err != nil {
		return false, fmt.Errorf("probe the player: %w", err)
	}
	return ok, nil
}

// takeStages runs takeBreakdownJS in the tab.
func takeStages(tab context.Context) (stages, error) {
	var s stages
	raw, err := chromedp.Run(tab, chromedp.Evaluate[[]byte](takeBreakdownJS))
	if err != nil {
		return s, fmt.Errorf("read the probe: %w", err)
	}
	if string(raw) == "null" {
		return s, nil
	}
	if err := json.Unmarshal(raw, &s); err != nil {
		return s, fmt.Errorf("read the probe: %w", err)
	}
	return s, nil
}
