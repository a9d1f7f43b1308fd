// The player's pure functions: time formatting, a marker's place on the
// player's clock, the timeline's geometry, gaps at discontinuities, and
// which markers the page keeps. Nothing here touches the DOM, hls.js or a
// clock, so the page and `node --test` (web/jstest) import the same code.
//
// "details" below is a playlist as hls.js parses it (its LevelDetails), or
// any object with the same fields: fragments [{sn, start, duration,
// programDateTime (ms since the epoch, or null), cc}], startSN, endSN.
// "w" is a window as Player.window() returns it: {start, end, target,
// live, liveSync}, in seconds on the player's clock.

// ---- time formatting ----

const hms = new Intl.DateTimeFormat(undefined, {
  hour: '2-digit',
  minute: '2-digit',
  second: '2-digit',
  hourCycle: 'h23',
});

/**
 * formatClock formats a date (ISO string or ms since the epoch) as a local
 * time of day: {hms: "14:58:05", ms: ".717"}; ms is empty unless asked for.
 * Anything that is not a date gives {hms: "--:--:--", ms: ""}.
 */
export function formatClock(date, withMs = false) {
  const t = typeof date === 'number' ? date : typeof date === 'string' ? Date.parse(date) : NaN;
  if (!Number.isFinite(t)) return { hms: '--:--:--', ms: '' };
  const ms = withMs ? '.' + String(Math.floor(((t % 1000) + 1000) % 1000)).padStart(3, '0') : '';
  return { hms: hms.format(t), ms };
}

/** formatDuration formats seconds as "2.0 s" or "1 m 05 s"; '' for a non-number. */
export function formatDuration(s) {
  if (!Number.isFinite(s)) return '';
  if (s < 60) return `${s.toFixed(1)} s`;
  const m = Math.floor(s / 60);
  return `${m} m ${String(Math.floor(s % 60)).padStart(2, '0')} s`;
}

/** formatBehind formats how far behind live a position is: "−12 s", "−1:05". */
export function formatBehind(s) {
  const n = Math.max(0, Math.round(s));
  if (n < 60) return `\u2212${n}\u202fs`;
  return `\u2212${Math.floor(n / 60)}:${String(n % 60).padStart(2, '0')}`;
}

// ---- a marker's place on the player's clock ----

/**
 * SEEK_EPSILON is how far after a frame's PTS a seek lands, so that
 * rounding (hls.js keeps seconds as doubles, the media pipeline
 * microseconds) cannot put it on the previous frame; far less than one
 * frame at any frame rate.
 */
export const SEEK_EPSILON = 0.001;

/** fragmentBySN returns the fragment with media sequence number sn, or null. */
export function fragmentBySN(details, sn) {
  if (!details || sn == null) return null;
  const frags = details.fragments;
  const i = sn - details.startSN;
  if (frags[i] && frags[i].sn === sn) return frags[i];
  return frags.find((f) => f.sn === sn) || null;
}

// MPEG-TS timestamps count 90 kHz ticks and wrap at 2^33 (some 26.5 hours).
const TS_HZ = 90000;
const TS_WRAP_S = 2 ** 33 / TS_HZ;

/**
 * markerTime returns the marker's first frame on the player's clock. Null
 * when the marker has no position or its fragment is not listed.
 *
 * hls.js lays every frame of a discontinuity (a cc) at its PTS less that
 * cc's initPTS, with one exception: where a fragment follows on from the
 * one before it with a hole or an overlap between them (skipped frames, or
 * uneven frame times, as a busy source makes), its remuxer moves the
 * fragment's first frame back to fill the hole, or the frames up to the
 * fragment's new start forward past the overlap, and the fragment's start
 * becomes where the first frame now is. So the fragment's start plus the
 * marker's offset (from the fragment's first PTS) misses every frame but
 * the first by the hole: a seek there would show a frame before the
 * marker's.
 *
 * origins maps a cc to its initPTS as hls.js reports it ({baseTime,
 * timescale}). With it, the frame starts at its PTS; but where hls.js
 * moved it, at the start of its parsed fragment plus its offset: the
 * first frame (offset 0) always starts the fragment, and a frame whose PTS
 * is not after the fragment's start was moved past an overlap. Without
 * origins (the cc's first fragment not parsed yet), the fragment's start
 * plus the offset is the estimate.
 */
export function markerTime(details, m, origins) {
  const at = markerFragment(details, m);
  if (!at) return null;
  const { f, offset } = at;
  const estimate = f.start + offset;
  const o = origins && origins[f.cc];
  if (!o || !Number.isFinite(m.pts)) return estimate;
  let t = m.pts / TS_HZ - o.baseTime / o.timescale;
  // The marker's pts is the TS timestamp, modulo 2^33: take the lap that
  // puts it nearest the estimate.
  t += Math.round((estimate - t) / TS_WRAP_S) * TS_WRAP_S;
  return Number.isFinite(f.startPTS) && (offset <= 0 || t <= f.start) ? estimate : t;
}

/**
 * DATE_SLACK is how far, in seconds, a marker's date may lie after its
 * fragment's and still be the fragment's first frame: the server rounds a
 * segment's date down to the millisecond and a marker's up. Far less than
 * one frame at any frame rate.
 */
const DATE_SLACK = 0.002;

/**
 * markerFragment returns the fragment holding the marker's first frame and
 * the frame's offset into it, in seconds: by the media sequence number and
 * offset the server gave, or, where it gave none (an edge node, which reads
 * no segments, or a marker the server has not placed yet), by the marker's
 * date, in the fragment whose program date time and duration span it.
 * Null when no listed fragment holds it.
 */
export function markerFragment(details, m) {
  if (m.sequence != null && m.offset != null) {
    const f = fragmentBySN(details, m.sequence);
    return f ? { f, offset: m.offset } : null;
  }
  const at = Date.parse(m.program_date_time);
  if (!details || !Number.isFinite(at)) return null;
  for (const f of details.fragments) {
    if (f.programDateTime == null) continue;
    const into = (at - f.programDateTime) / 1000;
    if (into >= 0 && into < f.duration) return { f, offset: into < DATE_SLACK ? 0 : into };
  }
  return null;
}

/** seekTarget returns where a seek to a frame at t goes (null for null). */
export function seekTarget(t) {
  return t == null ? null : t + SEEK_EPSILON;
}

/**
 * markerReach tells whether a marker can be sought to: 'ok' while its
 * fragment is listed, 'pending' before its segment is published (or before
 * the player read the playlist that lists it), 'gone' after it left the
 * window. ended says the playlist ended: nothing more will be published.
 */
export function markerReach(details, m, ended) {
  if (!details || !details.fragments.length) return 'pending';
  if (m.sequence != null) {
    if (fragmentBySN(details, m.sequence)) return 'ok';
    return m.sequence > details.endSN ? 'pending' : 'gone';
  }
  // No position: placed by its date where a listed fragment holds it (see
  // markerFragment), out of the window if dated before it, else pending:
  // its segment is not listed yet. Once the stream ended, none will come.
  if (markerFragment(details, m)) return 'ok';
  if (ended) return 'gone';
  const first = details.fragments[0];
  const at = Date.parse(m.program_date_time);
  if (!Number.isFinite(at) || first.programDateTime == null) return 'pending';
  return at < first.programDateTime ? 'gone' : 'pending';
}

/**
 * timeOfDay returns the wall-clock time (ms since the epoch) shown at t on
 * the player's clock: the program date time of the fragment holding t,
 * plus how far into it t is. Null without fragments or dates.
 */
export function timeOfDay(details, t) {
  if (!details || !details.fragments.length || !Number.isFinite(t)) return null;
  const frags = details.fragments;
  let f = frags[0];
  for (const g of frags) {
    if (g.start > t) break;
    f = g;
  }
  return f.programDateTime == null ? null : f.programDateTime + (t - f.start) * 1000;
}

/**
 * windowOf returns the seekable window of a playlist: from the first
 * fragment's start to the live edge, with the live point (liveSync, from
 * hls.js, or three target durations before the edge) kept inside it.
 * Null for a playlist with no fragments.
 */
export function windowOf(details, liveSync) {
  if (!details || !details.fragments.length) return null;
  const start = details.fragments[0].start;
  const end = details.edge;
  const target = details.targetduration || 1;
  let sync = Number.isFinite(liveSync) ? liveSync : end - 3 * target;
  sync = Math.min(end, Math.max(start, sync));
  return { start, end, target, live: !!details.live, liveSync: sync };
}

/**
 * currentMarker returns the id of the marker being watched at t: the
 * latest one that started at or before t and has not ended. at(m) gives a
 * marker's time on the player's clock, or null.
 */
export function currentMarker(markers, t, at) {
  let best = null;
  for (const m of markers) {
    const from = at(m);
    if (from == null || from > t + 0.01) continue;
    const until = m.duration != null ? from + m.duration : Infinity;
    if (t < until && (!best || from >= best.at)) best = { id: m.id, at: from };
  }
  return best && best.id;
}

// ---- timeline geometry ----

/** frac maps a time to its fraction of the window, clamped to [0, 1]. */
export function frac(w, t) {
  const span = w.end - w.start;
  if (!(span > 0)) return 0;
  return Math.min(1, Math.max(0, (t - w.start) / span));
}

/** timeAtFrac maps a fraction of the window (clamped to [0, 1]) to a time. */
export function timeAtFrac(w, f) {
  return w.start + Math.min(1, Math.max(0, f)) * (w.end - w.start);
}

/** percent formats a fraction as a CSS percentage: 0.5 → "50.000%". */
export function percent(f) {
  return `${(f * 100).toFixed(3)}%`;
}

// A label that would stick out of the track hangs to one side instead.
const LABEL_EDGE = 0.12;

/** labelSide tells how a label above fraction f hangs: 'at-left', 'at-right' or ''. */
export function labelSide(f) {
  if (f < LABEL_EDGE) return 'at-left';
  if (f > 1 - LABEL_EDGE) return 'at-right';
  return '';
}

/**
 * markerSpan returns the fractions of the window a marker covers, from
 * its first frame (at) to its end. An open marker runs to the live edge
 * while it is the newest; an older one that never closed (its stream
 * stopped while it was open) covers no more than its first frame.
 */
export function markerSpan(w, at, m, newest) {
  const until = m.duration != null ? at + m.duration : newest && w.live ? w.end : at;
  const from = frac(w, at);
  return { from, to: Math.max(from, frac(w, until)) };
}

// ---- gaps ----

/**
 * GAP_TOLERANCE_MS is how far a fragment's program date time may be from
 * where the fragment before it ends without a gap being drawn. EXTINF and
 * the dates are rounded to the millisecond, and where EXTINF is not known
 * hls.js's duration of a loaded fragment is measured from its frames,
 * which leaves out frames a busy source skipped (a tenth of a second,
 * say): such holes are not what a viewer looks for on the timeline. A
 * lost segment or a restart is.
 */
export const GAP_TOLERANCE_MS = 500;

/**
 * ROUNDING_MS is the most the rounded dates and durations can disagree by:
 * past it, a discontinuity says how much time it left out.
 */
export const ROUNDING_MS = 50;

/**
 * findGaps lists where the stream does not follow on: a fragment that
 * starts a new discontinuity (its cc differs from the one before, as after
 * a restart) or whose program date time jumps past where the fragment
 * before ended. Each gap is {sn, at, missingMs, discontinuity}: the first
 * fragment after it, its start on the player's clock, the wall-clock time
 * missing (0 when the dates do not say), and whether a discontinuity is
 * marked there.
 *
 * listed, if given, maps a fragment's sn to its duration as the playlist
 * lists it (EXTINF, see listedDurations): the dates are measured with it.
 * hls.js's own duration of a parsed fragment is measured from its frames,
 * and its remuxer moves a fragment's first frames onto the end of the one
 * before (a hole or an overlap after skipped frames), which lengthens or
 * shortens it by as much: up to a stall's length on a busy machine.
 */
export function findGaps(details, toleranceMs = GAP_TOLERANCE_MS, listed = null) {
  const out = [];
  const frags = (details && details.fragments) || [];
  for (let i = 1; i < frags.length; i++) {
    const a = frags[i - 1];
    const b = frags[i];
    const discontinuity = a.cc !== b.cc;
    let missingMs = 0;
    if (a.programDateTime != null && b.programDateTime != null) {
      const seconds = (listed && listed.get(a.sn)) ?? a.duration;
      missingMs = b.programDateTime - (a.programDateTime + seconds * 1000);
    }
    const jumped = missingMs > toleranceMs;
    if (discontinuity || jumped) {
      const told = jumped || missingMs > ROUNDING_MS;
      out.push({ sn: b.sn, at: b.start, missingMs: told ? Math.round(missingMs) : 0, discontinuity });
    }
  }
  return out;
}

/**
 * listedDurations returns each fragment's EXTINF, by sn, from a playlist
 * just as hls.js parsed it (at LEVEL_UPDATED): hls.js replaces a
 * fragment's duration with the one it measures once it parsed the
 * fragment, but each fragment's playlistOffset (the EXTINFs before it in
 * the playlist) stays as parsed, so the difference between two neighbours'
 * is the first one's EXTINF. (Later, hls.js may put fragments of an
 * earlier parse, whose offsets count from another first fragment, into the
 * same list: so this is read at once.) The newest fragment has no
 * neighbour yet and is left out.
 */
export function listedDurations(details) {
  const out = new Map();
  const frags = (details && details.fragments) || [];
  for (let i = 0; i + 1 < frags.length; i++) {
    const d = frags[i + 1].playlistOffset - frags[i].playlistOffset;
    if (Number.isFinite(d) && d > 0) out.set(frags[i].sn, d);
  }
  return out;
}

/** gapText describes a gap for a person: "Stream restarted here: 2.3 s missing". */
export function gapText(gap) {
  const what = gap.discontinuity ? 'Stream restarted here' : 'Gap in the stream';
  return gap.missingMs > 0 ? `${what}: ${formatDuration(gap.missingMs / 1000)} missing` : what;
}

// ---- which markers the page keeps ----

/**
 * mergeMarker upserts an incoming version of a marker over the known one.
 * Events and list answers may arrive in either order, so a field that is
 * known is not forgotten by an older answer: a duration is never unset,
 * and the stream position stays (the player, not the API, decides whether
 * its fragment is still in the playlist). A different pts or date means
 * another marker under a reused id (a server that lost its store): take it
 * whole.
 */
export function mergeMarker(old, m) {
  if (!old || old.pts !== m.pts || old.program_date_time !== m.program_date_time) return { ...m };
  const out = { ...old, ...m };
  if (m.duration == null) out.duration = old.duration;
  if (m.sequence == null) {
    out.sequence = old.sequence;
    out.offset = old.offset;
  }
  return out;
}

/**
 * pruneMarkers returns the markers worth keeping, from markers sorted
 * ascending by id: the latest ones (for the list beside the video), and
 * any older one that drawable(m) says can still be drawn (its fragment is
 * in the window, or not yet published). Never more than max in all: the
 * newest win.
 */
export function pruneMarkers(markers, { latest, max, drawable }) {
  const n = markers.length;
  const cut = Math.max(0, n - latest);
  const out = [];
  for (let i = 0; i < cut; i++) {
    if (drawable(markers[i])) out.push(markers[i]);
  }
  for (let i = cut; i < n; i++) out.push(markers[i]);
  return out.length > max ? out.slice(out.length - max) : out;
}

// ---- the loading state ----

/**
 * loadingView says what the video area shows before the first frame:
 * null once the player has a position (or failed for good, which the page
 * reports elsewhere), else {state, title, detail} with state 'waiting' or
 * 'error'. player is {started, fatal, error, window, empty}: empty says
 * the playlist was read and lists no segment yet.
 */
export function loadingView({ started, fatal, error, window: w, empty }) {
  if (started || fatal) return null;
  if (error) return { state: 'error', title: 'Cannot load the stream', detail: error };
  let detail = 'Loading the playlist…';
  if (empty) detail = 'The stream has not published a segment yet.';
  else if (w) detail = 'Loading the first segment…';
  return { state: 'waiting', title: 'Waiting for the stream…', detail };
}

// ---- streams ----

/** STREAM_NAME is what a stream's name may be (the server's rule). */
export const STREAM_NAME = /^[a-z0-9][a-z0-9_-]{0,63}$/;

/**
 * streamFromURL returns the stream a page URL names: ?stream=NAME, or the
 * path /streams/NAME (the older form); null when it names none. The query
 * wins over the path. A name is returned as given, valid or not: the page
 * says there is no such stream rather than playing another.
 */
export function streamFromURL(pathname, search) {
  const q = new URLSearchParams(search).get('stream');
  if (q !== null && q !== '') return q;
  const m = /^\/streams\/([^/]+)\/?$/.exec(pathname);
  if (!m) return null;
  try {
    return decodeURIComponent(m[1]);
  } catch {
    return m[1]; // a malformed escape: named as it stands
  }
}

/** playerURL returns the player page's URL for a stream: /?stream=NAME. */
export function playerURL(name) {
  return `/?${new URLSearchParams({ stream: name })}`;
}

/**
 * chooseStream picks the stream to play from the API's list: the one named
 * wanted, or the first when wanted is null. It returns {stream}, or
 * {error} saying for a person why there is none.
 */
export function chooseStream(streams, wanted) {
  if (wanted == null) {
    return streams.length ? { stream: streams[0] } : { error: 'This server has no streams yet.' };
  }
  const stream = streams.find((s) => s.name === wanted);
  if (stream) return { stream };
  if (!STREAM_NAME.test(wanted)) return { error: `“${wanted}” is not a stream name (a-z, 0-9, - and _, up to 64).` };
  return { error: `There is no stream called “${wanted}”.` };
}

const STATE_TEXT = {
  starting: 'Starting',
  live: 'Live',
  stalled: 'Stalled',
  reconnecting: 'Reconnecting',
  ended: 'Ended',
  failed: 'Failed',
};

/** stateText names a stream's state (as /api/streams gives it) for a person. */
export function stateText(state) {
  return STATE_TEXT[state] || String(state || 'unknown');
}

/**
 * keepLatest merges incoming markers into kept (both any order) and
 * returns the newest n by id, newest first; an incoming marker replaces
 * the kept one with its id.
 */
export function keepLatest(kept, incoming, n) {
  const byId = new Map(kept.map((m) => [m.id, m]));
  for (const m of incoming) if (m && typeof m.id === 'number') byId.set(m.id, m);
  return [...byId.values()].sort((a, b) => b.id - a.id).slice(0, Math.max(0, n));
}

/** THUMB_WIDTH is the width the marker list asks thumbnails at: twice what a row shows, for sharp screens. */
export const THUMB_WIDTH = 160;

/**
 * thumbnailURL returns the URL of a marker's thumbnail, or null when the
 * row should not ask for one: a detector's marker has its frame kept
 * whatever its reach, any other is decoded from its segment, which is on
 * disk while the marker is reachable ('ok', see markerReach) or, past the
 * window, while the server keeps its segment (it gives the marker a
 * sequence, see markerAccess). markersURL is
 * the stream's marker list (the API's `markers`), size its "WxH": the
 * thumbnail is at most that wide.
 */
export function thumbnailURL(markersURL, m, reach, size) {
  if (!markersURL || typeof m?.id !== 'number') return null;
  if (m.source !== 'detector' && reach !== 'ok' && !(reach === 'gone' && m.sequence != null)) return null;
  const w = Number.parseInt(String(size || '').split('x')[0], 10);
  const width = Number.isFinite(w) && w > 0 ? Math.min(THUMB_WIDTH, w) : THUMB_WIDTH;
  return `${markersURL}/${m.id}/thumbnail.jpg?width=${width}`;
}

// ---- recordings: markers past the live window ----

/**
 * markerAccess tells what choosing a marker does, from its reach in the
 * playlist playing (see markerReach):
 *   'seek'      its fragment is listed: seek to its frame there;
 *   'recording' it is not, and the server keeps its segment (the marker
 *               has a vod_url and a sequence): open its recording;
 *   'expired'   it left the live window and its segment is not kept any
 *               more (no vod_url, or expired: its recording was found gone);
 *   'pending'   not yet in a published segment.
 * recording says the player plays a recording: a kept marker outside it is
 * opened in its own recording, whether it is older or newer. Live, a
 * marker after the window is pending even when kept: the player will list
 * its segment.
 */
export function markerAccess(m, reach, { recording = false, expired = false } = {}) {
  if (reach === 'ok') return 'seek';
  const kept = !expired && typeof m.vod_url === 'string' && m.vod_url !== '' && m.sequence != null;
  if (kept && (reach === 'gone' || recording)) return 'recording';
  return reach === 'gone' || expired ? 'expired' : 'pending';
}

/**
 * recordingGone reports whether an answer to a marker's vod_url says its
 * recording is not kept any more: 404 (past retention) or 410.
 */
export function recordingGone(status) {
  return status === 404 || status === 410;
}

/**
 * listsSequence reports whether the media playlist text lists the segment
 * with media sequence number sn, numbering its segments as RFC 8216
 * (section 6.3.5) and hls.js do: EXT-X-MEDIA-SEQUENCE (0 when absent)
 * for the first, one more for each after it. A marker's vod_url may answer
 * after its own segment was deleted, with the kept ones after it.
 */
export function listsSequence(text, sn) {
  if (typeof text !== 'string' || !Number.isInteger(sn)) return false;
  let first = 0;
  let count = 0;
  for (const line of text.split(/\r?\n/)) {
    if (line.startsWith('#EXT-X-MEDIA-SEQUENCE:')) first = Number(line.slice('#EXT-X-MEDIA-SEQUENCE:'.length));
    else if (line.startsWith('#EXTINF:')) count++;
  }
  return Number.isInteger(first) && sn >= first && sn < first + count;
}

/** expiredText tells a person that a marker's frame is not kept any more. */
export function expiredText(m) {
  const when = formatClock(m.program_date_time);
  return `“${m.label || 'marker'}” (${when.hms}) is no longer recorded: its video was deleted after the retention time.`;
}

/**
 * clipLink returns the download link of a marker's clip ({href, filename}),
 * or null when the row should not offer one: the clip is cut from the
 * marker's segments, on disk while it can be sought to or its recording is
 * kept (access 'seek' or 'recording', see markerAccess). markersURL is the
 * stream's marker list (the API's `markers`), stream its name.
 */
export function clipLink(markersURL, stream, m, access) {
  if (!markersURL || typeof m?.id !== 'number') return null;
  if (access !== 'seek' && access !== 'recording') return null;
  return { href: `${markersURL}/${m.id}/clip.mp4`, filename: `${stream || 'hlsmark'}-marker-${m.id}.mp4` };
}
