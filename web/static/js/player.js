// The video element driven by hls.js (or Safari's native HLS): the DVR
// window, the live point, and seeking to a marker's exact frame.

// A seek lands this far after a frame's PTS, so that rounding (hls.js keeps
// seconds as doubles, the media pipeline microseconds) cannot put it on the
// previous frame; far less than one frame at any frame rate.
const EPSILON = 0.001;
// Positions closer than this are the same position.
const SAME = 0.0002;
const MISSING_HLSJS = 'hls.js is missing from this build of hlsmark: run `make web`, then rebuild.';
// An exact seek gives up after this long without the fragment.
const SEEK_TIMEOUT_MS = 15000;

/** Player wraps one <video>; it fires 'change' when the window or state moves. */
export class Player extends EventTarget {
  constructor(video) {
    super();
    this.video = video;
    this.hls = null;
    this.native = false;
    this.url = '';
    this.ended = false;
    this.error = ''; // a failure the player is retrying
    this.fatal = ''; // a failure it cannot get over
    this.seekToken = 0;
    this.lastMarkerSeek = null;
    this.retryTimer = 0;
    this.retries = 0;
  }

  /** supported reports whether this browser can play HLS with what was loaded. */
  static support() {
    if (window.Hls && window.Hls.isSupported()) return 'hls.js';
    if (document.createElement('video').canPlayType('application/vnd.apple.mpegurl')) return 'native';
    return window.Hls ? 'unsupported' : 'missing';
  }

  /** load starts playing url at its live edge, muted. */
  load(url) {
    this.url = url;
    this.ended = false;
    this.error = '';
    const support = Player.support();
    if (support === 'hls.js') {
      this.attachHls(url);
    } else if (support === 'native') {
      this.native = true;
      this.video.addEventListener(
        'error',
        () => {
          // Some browsers claim native HLS and then cannot parse the stream.
          const why = (this.video.error && this.video.error.message) || 'media error';
          this.fatal = window.Hls
            ? `This browser could not play the stream (${why}).`
            : `${MISSING_HLSJS} This browser's own HLS playback failed (${why}).`;
          this.changed();
        },
        { once: true },
      );
      this.video.src = url;
      this.play();
    } else {
      throw new Error(
        support === 'missing'
          ? MISSING_HLSJS
          : 'This browser cannot play HLS (it has neither Media Source Extensions nor native HLS).',
      );
    }
    this.changed();
  }

  /** reload loads the stream anew at its live edge (after it restarted). */
  reload() {
    clearTimeout(this.retryTimer);
    if (this.hls) {
      this.hls.destroy();
      this.hls = null;
    }
    this.load(this.url);
  }

  attachHls(url) {
    const Hls = window.Hls;
    const hls = new Hls({
      // Start, and return with goLive, three target durations behind the
      // newest segment: hls.js's default, safe for a stream that is late.
      liveSyncDurationCount: 3,
      // Keep what was watched: the DVR window is short, and seeking back to
      // a marker should not need a download.
      backBufferLength: Infinity,
      enableWorker: true,
    });
    this.hls = hls;
    const E = Hls.Events;
    hls.on(E.MANIFEST_PARSED, () => this.play());
    hls.on(E.LEVEL_UPDATED, (_, data) => {
      this.retries = 0;
      this.error = '';
      this.ended = !data.details.live;
      this.changed();
    });
    hls.on(E.FRAG_BUFFERED, () => this.changed());
    hls.on(E.ERROR, (_, data) => this.onHlsError(data));
    hls.loadSource(url);
    hls.attachMedia(this.video);
  }

  onHlsError(data) {
    if (!data.fatal) return;
    const Hls = window.Hls;
    this.retries++;
    clearTimeout(this.retryTimer);
    if (data.type === Hls.ErrorTypes.MEDIA_ERROR && this.retries <= 3) {
      this.hls.recoverMediaError();
      return;
    }
    const wait = Math.min(10000, 1000 * this.retries);
    if (data.type === Hls.ErrorTypes.NETWORK_ERROR && this.details()) {
      // The server is away (restarting, or the network is): keep what is
      // buffered watchable and ask for the playlist again.
      this.error = 'Stream unreachable, retrying…';
      this.retryTimer = setTimeout(() => this.hls && this.hls.startLoad(), wait);
    } else {
      this.error = 'Playback failed, retrying…';
      this.retryTimer = setTimeout(() => this.reload(), wait);
    }
    this.changed();
  }

  play() {
    const p = this.video.play();
    if (p) p.catch(() => {}); // autoplay refused: the play button still works
  }

  changed() {
    this.dispatchEvent(new Event('change'));
  }

  /** details returns hls.js's newest playlist, or null. */
  details() {
    if (!this.hls) return null;
    const d = this.hls.latestLevelDetails;
    if (d) return d;
    const lvl = this.hls.levels && this.hls.levels[Math.max(0, this.hls.currentLevel)];
    return (lvl && lvl.details) || null;
  }

  /**
   * window returns the seekable range on the player's clock, the live point
   * (where goLive goes), and whether the stream is still live.
   */
  window() {
    const d = this.details();
    if (d && d.fragments.length) {
      const start = d.fragments[0].start;
      const end = d.edge;
      const target = d.targetduration || 1;
      let liveSync = this.hls.liveSyncPosition;
      if (!Number.isFinite(liveSync)) liveSync = end - 3 * target;
      liveSync = Math.min(end, Math.max(start, liveSync));
      return { start, end, target, live: d.live, liveSync };
    }
    if (this.native) {
      const s = this.video.seekable;
      if (!s.length) return null;
      const start = s.start(0);
      const end = s.end(s.length - 1);
      const live = this.video.duration === Infinity;
      return { start, end, target: 2, live, liveSync: live ? Math.max(start, end - 6) : end };
    }
    return null;
  }

  /** fragment returns the fragment with media sequence number sn, or null. */
  fragment(sn) {
    const d = this.details();
    if (!d || sn == null) return null;
    const frags = d.fragments;
    const i = sn - d.startSN;
    if (frags[i] && frags[i].sn === sn) return frags[i];
    return frags.find((f) => f.sn === sn) || null;
  }

  /**
   * reach tells whether a marker can be sought to: 'ok' while its fragment
   * is in the playlist, 'pending' before its segment is published (or
   * before the player read the playlist that lists it), 'gone' after it
   * left the window.
   */
  reach(m) {
    if (this.native) {
      const t = this.markerTime(m);
      const w = this.window();
      if (t == null || !w) return 'pending';
      if (t < w.start) return 'gone';
      return t <= w.end ? 'ok' : 'pending';
    }
    const d = this.details();
    if (!d || !d.fragments.length) return 'pending';
    if (m.sequence != null) {
      if (this.fragment(m.sequence)) return 'ok';
      return m.sequence > d.endSN ? 'pending' : 'gone';
    }
    // No position: either not yet in a segment, or out of the window.
    const last = d.fragments[d.fragments.length - 1];
    const at = Date.parse(m.program_date_time);
    if (!Number.isFinite(at) || last.programDateTime == null) return this.ended ? 'gone' : 'pending';
    return at >= last.programDateTime + last.duration * 1000 - 1 && !this.ended ? 'pending' : 'gone';
  }

  /**
   * markerTime returns the marker's first frame on the player's clock: the
   * start of the fragment whose sn is the marker's sequence, plus its
   * offset. Null when that fragment is not in the playlist.
   */
  markerTime(m) {
    if (this.native) {
      // Safari maps the playlist's dates onto its clock.
      const origin = this.video.getStartDate ? this.video.getStartDate().getTime() : NaN;
      const at = Date.parse(m.program_date_time);
      return Number.isFinite(origin) && Number.isFinite(at) ? (at - origin) / 1000 : null;
    }
    if (m.sequence == null || m.offset == null) return null;
    const f = this.fragment(m.sequence);
    return f ? f.start + m.offset : null;
  }

  /** timeOfDay returns the wall-clock time (ms since the epoch) shown at t. */
  timeOfDay(t) {
    if (this.native) {
      const origin = this.video.getStartDate ? this.video.getStartDate().getTime() : NaN;
      return Number.isFinite(origin) ? origin + t * 1000 : null;
    }
    const d = this.details();
    if (!d || !d.fragments.length) return null;
    const frags = d.fragments;
    let f = frags[0];
    for (const g of frags) {
      if (g.start > t) break;
      f = g;
    }
    return f.programDateTime == null ? null : f.programDateTime + (t - f.start) * 1000;
  }

  /** behind returns how many seconds the position is behind the live point. */
  behind() {
    const w = this.window();
    if (!w || !w.live) return 0;
    return Math.max(0, w.liveSync - this.video.currentTime);
  }

  /** atLive reports whether playback is at the live point, give or take a segment. */
  atLive() {
    const w = this.window();
    return !!w && w.live && this.behind() <= Math.max(2, 1.5 * w.target);
  }

  /** seek moves to t, clamped to the window; it cancels a marker seek. */
  seek(t) {
    this.seekToken++;
    const w = this.window();
    if (w) t = Math.min(Math.max(t, w.start), w.live ? w.liveSync : w.end);
    if (Number.isFinite(t)) this.video.currentTime = t;
  }

  /** goLive jumps to the live point and plays. */
  goLive() {
    const w = this.window();
    if (!w) return;
    this.seekToken++;
    this.video.currentTime = w.live ? w.liveSync : w.end;
    this.play();
  }

  /**
   * seekToMarker pauses on the marker's first frame and resolves true once
   * the video shows it. hls.js places a fragment it has not loaded by the
   * playlist's EXTINF values, which are rounded to the millisecond; once
   * the fragment is parsed it moves it to its real PTS. So: seek, wait
   * until the fragment is parsed and the seek is done, and seek again for
   * as long as the fragment's start moved.
   */
  async seekToMarker(m) {
    const token = ++this.seekToken;
    this.video.pause();
    const started = performance.now();
    const deadline = started + SEEK_TIMEOUT_MS;
    // What the last marker seek did, for whoever debugs the page.
    const report = (this.lastMarkerSeek = { id: m.id, seeks: 0, ms: 0, done: false });
    let target = null;
    while (performance.now() < deadline) {
      if (token !== this.seekToken) return false; // another seek took over
      const t = this.markerTime(m);
      if (t == null) return false;
      if (target === null || Math.abs(t + EPSILON - target) > SAME) {
        target = t + EPSILON;
        this.video.currentTime = target;
        report.seeks++;
      } else if (!this.video.seeking && this.parsed(m.sequence) && this.video.readyState >= 2) {
        report.ms = Math.round(performance.now() - started);
        report.done = true;
        return true;
      }
      await this.nextEvent(['seeked', 'progress'], 100);
    }
    return false;
  }

  /** parsed reports whether hls.js knows fragment sn's real PTS. */
  parsed(sn) {
    if (this.native) return true;
    const f = this.fragment(sn);
    return !!f && Number.isFinite(f.startPTS) && Number.isFinite(f.endPTS);
  }

  /** nextEvent waits for one of the video's events, or ms at most. */
  nextEvent(types, ms) {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        for (const t of types) this.video.removeEventListener(t, done);
        if (this.hls) this.hls.off(window.Hls.Events.FRAG_BUFFERED, done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      for (const t of types) this.video.addEventListener(t, done);
      if (this.hls) this.hls.on(window.Hls.Events.FRAG_BUFFERED, done);
    });
  }
}
