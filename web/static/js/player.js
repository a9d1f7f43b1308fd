// The video element driven by hls.js (or Safari's native HLS): the DVR
// window, the live point, and seeking to a marker's exact frame.

import { bufferedAhead, catchUpRate } from './catchup.js';
import {
  findGaps,
  listedDurations,
  listsSequence,
  markerFragment,
  markerReach,
  markerTime,
  recordingGone,
  seekTarget,
  timeOfDay,
  windowOf,
} from './core.js';

// Positions closer than this are the same position.
const SAME = 0.0002;
const MISSING_HLSJS = 'hls.js is missing from this build of hlsmark: run `make web`, then rebuild.';
// An exact seek gives up after this long without the fragment.
const SEEK_TIMEOUT_MS = 15000;
// Opening a recording gives up after this long without its playlist.
const OPEN_TIMEOUT_MS = 15000;

/**
 * Player wraps one <video>; it fires 'change' when the window or state
 * moves, and counts the changes in version.
 */
export class Player extends EventTarget {
  constructor(video) {
    super();
    this.video = video;
    this.hls = null;
    this.origins = []; // see markerTime in core.js
    this.listed = new Map(); // EXTINF by sn, see listedDurations in core.js
    this.native = false;
    this.url = ''; // the playlist playing
    this.liveURL = ''; // the stream's live playlist, which goLive returns to
    // The recording playing instead of the live playlist ({url}), or null.
    this.recording = null;
    this.ended = false;
    this.error = ''; // a failure the player is retrying
    this.fatal = ''; // a failure it cannot get over
    // The video has shown a frame of this source: until then its position
    // (0, or wherever hls.js is about to start) means nothing.
    this.started = false;
    // The playlist was read and lists no segment yet.
    this.empty = false;
    this.version = 0;
    this.seekToken = 0;
    this.lastMarkerSeek = null;
    this.retryTimer = 0;
    this.retries = 0;
    this.onNativeError = null; // the native player's error listener
    video.addEventListener('timeupdate', () => this.catchUp());
    video.addEventListener('loadeddata', () => {
      this.started = true;
      this.changed();
    });
    video.addEventListener('emptied', () => {
      this.started = false;
      this.changed();
    });
  }

  /** supported reports whether this browser can play HLS with what was loaded. */
  static support() {
    if (window.Hls && window.Hls.isSupported()) return 'hls.js';
    if (document.createElement('video').canPlayType('application/vnd.apple.mpegurl')) return 'native';
    return window.Hls ? 'unsupported' : 'missing';
  }

  /** load starts playing the live playlist at url at its live edge, muted. */
  load(url) {
    this.liveURL = url;
    this.recording = null;
    this.open(url);
  }

  /**
   * open plays the playlist at url: a live one from its live edge, a
   * recording from its start; autoplay false leaves it paused.
   */
  open(url, { autoplay = true } = {}) {
    this.url = url;
    this.ended = false;
    this.error = '';
    this.started = false;
    this.empty = false;
    const support = Player.support();
    if (support === 'hls.js') {
      this.attachHls(url, autoplay);
    } else if (support === 'native') {
      this.native = true;
      this.onNativeError = () => {
        // Some browsers claim native HLS and then cannot parse the stream.
        const why = (this.video.error && this.video.error.message) || 'media error';
        this.fatal = window.Hls
          ? `This browser could not play the stream (${why}).`
          : `${MISSING_HLSJS} This browser's own HLS playback failed (${why}).`;
        this.changed();
      };
      this.video.addEventListener('error', this.onNativeError, { once: true });
      this.video.src = url;
      if (autoplay) this.play();
    } else {
      throw new Error(
        support === 'missing'
          ? MISSING_HLSJS
          : 'This browser cannot play HLS (it has neither Media Source Extensions nor native HLS).',
      );
    }
    this.changed();
  }

  /**
   * reload loads the playlist playing anew: the stream at its live edge
   * (after it restarted), or the recording from its start.
   */
  reload() {
    this.detach();
    this.open(this.url, { autoplay: !this.recording });
  }

  /** detach destroys hls.js (or empties the native player), to open another playlist. */
  detach() {
    clearTimeout(this.retryTimer);
    if (this.hls) {
      this.hls.destroy();
      this.hls = null;
      this.video.playbackRate = 1; // catchUp's
    }
    if (this.native) {
      this.video.removeEventListener('error', this.onNativeError);
      this.video.removeAttribute('src');
      this.video.load();
      this.native = false;
    }
  }

  /**
   * openRecording plays the VOD playlist at url (a marker's vod_url) in
   * place of the live one, paused at its start, and resolves once the
   * playlist is read: 'ok', then; 'gone' when the server says the
   * recording is not kept any more (see recordingGone) or no longer lists
   * segment sn, the marker's; 'cancelled' when another seek or playlist
   * took over meanwhile. Any other failure throws, naming the URL. goLive
   * returns to the live playlist.
   */
  async openRecording(url, sn) {
    const token = ++this.seekToken;
    // Read it first: hls.js would retry a playlist that is gone for ever,
    // and the live playlist keeps playing until the recording holds the
    // marker's segment.
    const res = await fetch(url, { cache: 'no-store' });
    const text = res.ok ? await res.text() : '';
    if (token !== this.seekToken) return 'cancelled';
    if (recordingGone(res.status)) return 'gone';
    if (!res.ok) throw new Error(`${url}: HTTP ${res.status}`);
    if (!listsSequence(text, sn)) return 'gone';
    this.detach();
    this.recording = { url };
    this.fatal = '';
    this.retries = 0;
    this.lastMarkerSeek = null; // of a seek in the playlist left
    this.open(url, { autoplay: false });
    const deadline = performance.now() + OPEN_TIMEOUT_MS;
    while (performance.now() < deadline) {
      if (token !== this.seekToken) return 'cancelled';
      if (this.fatal) throw new Error(this.fatal);
      if (this.window()) return 'ok';
      await this.nextEvent(['loadedmetadata', 'durationchange'], 100);
    }
    throw new Error(`${url}: the recording's playlist did not load within ${OPEN_TIMEOUT_MS / 1000} s`);
  }

  /**
   * unload stops playing the stream, to load another: hls.js is destroyed
   * (its requests aborted, its worker ended), the video emptied, a marker
   * seek under way cancelled, and nothing of the old stream kept.
   */
  unload() {
    this.seekToken++;
    this.detach();
    this.retries = 0;
    this.url = '';
    this.liveURL = '';
    this.recording = null;
    this.origins = [];
    this.listed = new Map();
    this.ended = false;
    this.error = '';
    this.fatal = '';
    this.started = false;
    this.empty = false;
    this.lastMarkerSeek = null;
    this.changed();
  }

  attachHls(url, autoplay) {
    const Hls = window.Hls;
    const hls = new Hls({
      // Low-Latency HLS when the playlist has parts (hlsmark serve --part):
      // hls.js then loads parts, reloads the playlist blocking
      // (_HLS_msn/_HLS_part) and starts, and returns with goLive, at
      // PART-HOLD-BACK behind the live edge. A playlist without parts has
      // no hold-back, and hls.js falls back to its default of three target
      // durations behind the newest segment. (Setting
      // liveSyncDurationCount, even to that default, would override
      // PART-HOLD-BACK.)
      lowLatencyMode: true,
      // After each stall hls.js aims further behind the edge, by a second
      // by default (up to a target duration in all): a part target of
      // hlsmark's 200 ms parts instead, as catchUp brings playback back
      // to the target once enough is buffered again.
      liveSyncOnStallIncrease: 0.2,
      // Keep what was watched: the DVR window is short, and seeking back to
      // a marker should not need a download.
      backBufferLength: Infinity,
      enableWorker: true,
    });
    this.hls = hls;
    // Each discontinuity's initPTS, by cc: where hls.js lays its frames.
    this.origins = [];
    this.listed = new Map();
    const E = Hls.Events;
    hls.on(E.MANIFEST_PARSED, () => autoplay && this.play());
    hls.on(E.LEVEL_UPDATED, (_, data) => {
      // What the playlist lists, before hls.js measures it over.
      for (const [sn, d] of listedDurations(data.details)) this.listed.set(sn, d);
      for (const sn of this.listed.keys()) if (sn < data.details.startSN) this.listed.delete(sn);
      this.retries = 0;
      this.error = '';
      this.empty = false;
      this.ended = !data.details.live;
      this.changed();
    });
    hls.on(E.INIT_PTS_FOUND, (_, data) => {
      this.origins[data.frag.cc] = { baseTime: data.initPTS, timescale: data.timescale };
      this.changed();
    });
    hls.on(E.FRAG_BUFFERED, () => this.changed());
    hls.on(E.ERROR, (_, data) => this.onHlsError(data));
    hls.loadSource(url);
    hls.attachMedia(this.video);
  }

  onHlsError(data) {
    const Hls = window.Hls;
    if (data.details === Hls.ErrorDetails.LEVEL_EMPTY_ERROR && !this.details()) {
      // A live playlist with no segment yet: hls.js asks again by itself.
      this.empty = true;
      this.changed();
    }
    if (!data.fatal) return;
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
      this.error = playlistTrouble(data) || 'Playback failed, retrying…';
      this.retryTimer = setTimeout(() => this.reload(), wait);
    }
    this.changed();
  }

  /**
   * catchUp sets the playback rate that keeps live Low-Latency HLS
   * playback at hls.js's target latency (see catchup.js); it leaves other
   * playlists alone.
   */
  catchUp() {
    const d = this.hls && this.details();
    if (!d || !d.live || !d.partTarget || this.video.paused) return;
    const v = this.video;
    const rate = catchUpRate({
      latency: this.hls.latency,
      target: this.hls.targetLatency,
      ahead: bufferedAhead(v.buffered, v.currentTime),
      partTarget: d.partTarget,
      targetDuration: d.targetduration,
    });
    if (v.playbackRate !== rate) v.playbackRate = rate;
  }

  play() {
    const p = this.video.play();
    if (p) p.catch(() => {}); // autoplay refused: the play button still works
  }

  changed() {
    this.version++;
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
    if (this.hls) return windowOf(this.details(), this.hls.liveSyncPosition);
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

  /**
   * gaps lists where the stream does not follow on (see findGaps): after a
   * restart, or a lost segment. Safari's native player does not show its
   * fragments, so there it lists none.
   */
  gaps() {
    return this.native ? [] : findGaps(this.details(), undefined, this.listed);
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
    // A recording ends, but the stream goes on: a marker after it is pending.
    return markerReach(this.details(), m, this.ended && !this.recording);
  }

  /**
   * markerTime returns the marker's first frame on the player's clock: its
   * PTS where hls.js lays it, or, before hls.js has read the fragment's
   * discontinuity, the fragment's start plus the marker's offset (see
   * markerTime in core.js). Null when that fragment is not in the playlist.
   */
  markerTime(m) {
    if (this.native) {
      // Safari maps the playlist's dates onto its clock.
      const origin = this.video.getStartDate ? this.video.getStartDate().getTime() : NaN;
      const at = Date.parse(m.program_date_time);
      return Number.isFinite(origin) && Number.isFinite(at) ? (at - origin) / 1000 : null;
    }
    return markerTime(this.details(), m, this.origins);
  }

  /** timeOfDay returns the wall-clock time (ms since the epoch) shown at t. */
  timeOfDay(t) {
    if (this.native) {
      const origin = this.video.getStartDate ? this.video.getStartDate().getTime() : NaN;
      return Number.isFinite(origin) ? origin + t * 1000 : null;
    }
    return timeOfDay(this.details(), t);
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

  /** goLive jumps to the live point and plays, leaving a recording for the live playlist. */
  goLive() {
    if (this.recording && this.liveURL) {
      this.seekToken++;
      this.detach();
      this.load(this.liveURL);
      return;
    }
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
   * the fragment is parsed it moves it to its real PTS (and the first
   * discontinuity it parses gives the origin markerTime lays frames by).
   * So: seek, wait until the fragment is parsed and the seek is done, and
   * seek again for as long as the marker's place moved.
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
      const t = seekTarget(this.markerTime(m));
      if (t == null) return false;
      if (target === null || Math.abs(t - target) > SAME) {
        target = t;
        this.video.currentTime = target;
        report.seeks++;
      } else if (!this.video.seeking && this.parsed(m) && this.video.readyState >= 2) {
        report.ms = Math.round(performance.now() - started);
        report.done = true;
        return true;
      }
      await this.nextEvent(['seeked', 'progress'], 100);
    }
    return false;
  }

  /** parsed reports whether hls.js knows the real PTS of the marker's fragment. */
  parsed(m) {
    if (this.native) return true;
    const at = markerFragment(this.details(), m);
    return !!at && Number.isFinite(at.f.startPTS) && Number.isFinite(at.f.endPTS);
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

/**
 * playlistTrouble says why hls.js could not read the playlist, for a
 * person, or returns '' for any other failure.
 */
function playlistTrouble(data) {
  const D = window.Hls.ErrorDetails;
  const code = data.response && data.response.code;
  switch (data.details) {
    case D.MANIFEST_LOAD_ERROR:
    case D.LEVEL_LOAD_ERROR:
      return code
        ? `The playlist could not be loaded (HTTP ${code}), retrying…`
        : 'The playlist could not be loaded (no answer from the server), retrying…';
    case D.MANIFEST_LOAD_TIMEOUT:
    case D.LEVEL_LOAD_TIMEOUT:
      return 'The playlist took too long to load, retrying…';
    case D.MANIFEST_PARSING_ERROR:
    case D.LEVEL_PARSING_ERROR:
      return 'The playlist could not be read, retrying…';
    default:
      return '';
  }
}
