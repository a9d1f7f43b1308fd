// The marker store (upsert by id, bounded) and the marker list beside the video.

import { clipLink, formatClock, formatDuration, mergeMarker, pruneMarkers, thumbnailURL } from './core.js';
import { el } from './dom.js';

// How long a marker that arrived while watching stays highlighted.
const NEW_FOR_MS = 8000;
// Rows shown at most: the newest ones. The store keeps as many, plus the
// older markers that can still be drawn on the timeline.
const MAX_ROWS = 500;
// Markers kept at most, whatever the window holds: a window crowded past
// this loses the ticks of its oldest markers, not the page its memory.
const MAX_MARKERS = 5000;

/**
 * MarkerStore holds a stream's markers by id and tells listeners of
 * changes. It keeps what the page can show and no more: the latest
 * MAX_ROWS markers, and older ones while drawable(m) says they can be drawn
 * (their fragment is in the window, or not yet published). prune drops
 * the rest; upsert prunes, and so should whoever moves the window.
 */
export class MarkerStore extends EventTarget {
  constructor({ drawable = () => true } = {}) {
    super();
    this.drawable = drawable;
    this.byId = new Map();
    this.fresh = new Map(); // id → time it arrived, for highlighting
    this.expired = new Set(); // ids whose recording the server no longer keeps
    this.sorted = null; // all(), cached until the next change
    this.version = 0; // counts the changes, for drawing only on change
  }

  /** upsert merges markers in; live says they were created while the page watched, to highlight. */
  upsert(markers, { live = false } = {}) {
    const now = performance.now();
    for (const m of markers) {
      if (!m || typeof m.id !== 'number') continue;
      const old = this.byId.get(m.id);
      if (!old && live) this.fresh.set(m.id, now);
      this.byId.set(m.id, mergeMarker(old, m));
    }
    this.sorted = null;
    this.prune();
    this.changed();
  }

  /** prune drops the markers the page can no longer show; it reports whether any went. */
  prune() {
    const all = this.all();
    const kept = pruneMarkers(all, { latest: MAX_ROWS, max: MAX_MARKERS, drawable: this.drawable });
    if (kept.length === all.length) return false;
    const keep = new Set(kept.map((m) => m.id));
    for (const m of all) {
      if (!keep.has(m.id)) {
        this.byId.delete(m.id);
        this.fresh.delete(m.id);
        this.expired.delete(m.id);
      }
    }
    this.sorted = kept;
    return true;
  }

  /** remove forgets the marker with id (deleted on the server); it tells listeners if it held it. */
  remove(id) {
    if (!this.byId.delete(id)) return;
    this.fresh.delete(id);
    this.expired.delete(id);
    this.sorted = null;
    this.changed();
  }

  /** clear forgets every marker (the page switched streams), and tells listeners. */
  clear() {
    this.byId.clear();
    this.fresh.clear();
    this.expired.clear();
    this.sorted = null;
    this.changed();
  }

  /**
   * expire notes that the server no longer keeps marker id's recording
   * (its vod_url answered 404 or 410, see recordingGone), and tells
   * listeners.
   */
  expire(id) {
    if (!this.byId.has(id) || this.expired.has(id)) return;
    this.expired.add(id);
    this.changed();
  }

  /** isExpired reports whether marker id's recording was found gone. */
  isExpired(id) {
    return this.expired.has(id);
  }

  /** windowMoved prunes after the window moved, and tells listeners if markers went. */
  windowMoved() {
    if (this.prune()) this.changed();
  }

  changed() {
    this.version++;
    this.dispatchEvent(new Event('change'));
  }

  /** all returns the markers, oldest first; the caller must not change it. */
  all() {
    if (!this.sorted) this.sorted = [...this.byId.values()].sort((a, b) => a.id - b.id);
    return this.sorted;
  }

  /** size is how many markers the store holds. */
  get size() {
    return this.byId.size;
  }

  get(id) {
    return this.byId.get(id);
  }

  /** isFresh reports whether the marker arrived in the last few seconds. */
  isFresh(id) {
    const t = this.fresh.get(id);
    if (t === undefined) return false;
    if (performance.now() - t < NEW_FOR_MS) return true;
    this.fresh.delete(id);
    return false;
  }
}

// What a row says of a marker it cannot seek to in the playlist playing,
// by access (see markerAccess): its note, and its title.
const ROW_NOTES = {
  recording: ['recording', 'Left the live window: opens its recording'],
  expired: ['not kept', 'Left the live window; its recording is not kept any more'],
  pending: ['pending', 'Not yet in a published segment'],
};

/**
 * MarkerList renders the store newest first. A row is a button carrying
 * data-marker-id while its marker can be reached (its fragment is in the
 * playlist). A marker that left the live window is a button too, which
 * opens its recording (data-recorded-marker-id) or says it is not kept
 * (data-stale-marker-id, greyed); a pending one is a greyed block that
 * says so. access(m) says which (see markerAccess). Beside a row whose
 * marker's video is on disk, a link downloads its clip.
 */
export class MarkerList {
  constructor(root, store, player, { onPick, access }) {
    this.root = root;
    this.list = root.querySelector('.marker-list');
    this.empty = root.querySelector('.marker-empty');
    this.count = root.querySelector('.marker-count');
    this.store = store;
    this.player = player;
    this.onPick = onPick;
    this.access = access;
    this.held = root.querySelector('.marker-held');
    this.rows = new Map(); // id → li
    // The stream shown (the API's entry: its marker list and size), for
    // the rows' thumbnails; set by the page.
    this.stream = null;
    this.current = null;
    // While the pointer is on the list, new markers wait above it instead of
    // pushing the rows down under the pointer; they come in on leaving.
    this.hold = false;
    this.list.addEventListener('click', (ev) => {
      const btn = ev.target.closest('button[data-marker-id], [data-recorded-marker-id], button[data-stale-marker-id]');
      if (!btn || !this.list.contains(btn)) return;
      const d = btn.dataset;
      this.onPick(Number(d.markerId ?? d.recordedMarkerId ?? d.staleMarkerId));
    });
    this.list.addEventListener('pointerenter', () => {
      this.hold = true;
    });
    this.list.addEventListener('pointerleave', () => {
      this.hold = false;
      this.render();
    });
  }

  /** render brings the rows up to date with the store and the playlist. */
  render() {
    const markers = this.store.all().slice(-MAX_ROWS).reverse();
    this.count.textContent = String(this.store.size);
    this.empty.hidden = markers.length > 0;
    const keep = new Set();
    let prev = null;
    let held = 0;
    for (const m of markers) {
      let li = this.rows.get(m.id);
      if (!li && this.hold && this.rows.size > 0) {
        held++;
        continue;
      }
      keep.add(m.id);
      if (!li) {
        li = el('li', { className: 'marker-item' });
        this.rows.set(m.id, li);
      }
      this.fill(li, m);
      // Newest first: each row goes right after the previous one.
      const want = prev ? prev.nextSibling : this.list.firstChild;
      if (want !== li) this.list.insertBefore(li, want);
      prev = li;
    }
    for (const [id, li] of this.rows) {
      if (!keep.has(id)) {
        li.remove();
        this.rows.delete(id);
      }
    }
    this.held.textContent = held ? `${held} new` : '';
    this.held.hidden = !held;
  }

  /** fill renders one row, rebuilding it only when what it shows changed. */
  fill(li, m) {
    const reach = this.player.reach(m);
    const access = this.access(m);
    const fresh = this.store.isFresh(m.id);
    const cut = m.data?.cut === true;
    // Thumbnails and clips come from a server with the segments on disk.
    const media = this.stream?.local ? this.stream.markers : null;
    const thumb = thumbnailURL(media, m, reach, this.stream?.size);
    const clip = clipLink(media, this.stream?.name, m, access);
    const key = [m.label, m.duration, cut, m.program_date_time, m.source, access, thumb, clip?.href].join('|');
    li.classList.toggle('is-new', fresh);
    if (li.dataset.key === key) return;
    li.dataset.key = key;
    const when = formatClock(m.program_date_time, true);
    const parts = [
      el('span', { className: 'm-time', title: m.program_date_time || '' }, [
        el('span', { className: 'm-hms' }, when.hms),
        el('span', { className: 'm-ms' }, when.ms),
      ]),
      el('span', { className: 'm-label', title: m.label }, m.label || 'marker'),
      // A cut marker's event still showed when the stream stopped: it
      // lasted at least its duration.
      el('span', { className: 'm-dur', title: cut ? 'the stream stopped while it showed' : '' },
        m.duration == null ? 'open' : (cut ? '≥ ' : '') + formatDuration(m.duration)),
    ];
    // A row that can be clicked is a button; one that cannot is a plain
    // block. The element is kept while its kind stays, so that a click
    // aimed at it is not lost to a re-render.
    const tag = access === 'pending' ? 'DIV' : 'BUTTON';
    let row = li.firstChild;
    if (!row || row.tagName !== tag) {
      row = tag === 'BUTTON' ? el('button', { type: 'button' }) : el('div');
      li.prepend(row);
      if (row.nextSibling?.classList.contains('marker-row')) row.nextSibling.remove();
    }
    this.fillClip(li, clip, m);
    const kind = { seek: '', recording: ' is-recorded', expired: ' is-gone', pending: ' is-pending' }[access];
    row.className = `marker-row${kind}`;
    row.classList.toggle('from-api', m.source === 'api');
    row.classList.toggle('is-current', this.current === m.id);
    if (thumb) {
      // The marker's frame; the row's text says what it is.
      const img = el('img', { className: 'm-thumb', src: thumb, alt: '', loading: 'lazy', width: 80 });
      img.dataset.thumbMarkerId = String(m.id);
      parts.unshift(img);
    }
    row.classList.toggle('has-thumb', thumb != null);
    for (const k of ['markerId', 'recordedMarkerId', 'staleMarkerId']) delete row.dataset[k];
    row.removeAttribute('aria-disabled');
    row.title = '';
    const name = `${m.label || 'marker'} at ${when.hms}${when.ms}`;
    if (access === 'seek') {
      row.dataset.markerId = String(m.id);
      row.setAttribute('aria-label', `${name}, go to its frame`);
    } else {
      const [note, title] = ROW_NOTES[access];
      if (access === 'recording') {
        row.dataset.recordedMarkerId = String(m.id);
        row.setAttribute('aria-label', `${name}, open its recording at its frame`);
      } else {
        row.dataset.staleMarkerId = String(m.id);
        row.setAttribute('aria-label', `${name}, ${title.toLowerCase()}`);
        if (access === 'pending') row.setAttribute('aria-disabled', 'true');
      }
      row.title = title;
      parts.push(el('span', { className: 'm-note' }, note));
    }
    row.replaceChildren(...parts);
  }

  /** fillClip puts the download link of the marker's clip beside its row, or takes it away for null. */
  fillClip(li, clip, m) {
    let a = li.querySelector(':scope > .m-clip');
    if (!clip) {
      if (a) a.remove();
      return;
    }
    if (!a) {
      a = el('a', { className: 'm-clip' }, [
        svgIcon('M12 4v11M7 10l5 5 5-5M5 19h14'),
        el('span', { className: 'm-clip-text' }, 'Clip'),
      ]);
      li.append(a);
    }
    a.href = clip.href;
    a.download = clip.filename;
    a.dataset.clipMarkerId = String(m.id);
    a.title = 'Download a clip of this marker (MP4)';
    a.setAttribute('aria-label', `Download a clip of ${m.label || 'marker'} (MP4)`);
  }

  /** setCurrent marks the row of the marker being watched, if any. */
  setCurrent(id) {
    if (this.current === id) return;
    const old = this.rows.get(this.current);
    if (old) old.firstChild?.classList.remove('is-current');
    this.current = id;
    const li = this.rows.get(id);
    if (li) li.firstChild?.classList.add('is-current');
  }
}

/** svgIcon makes a 24×24 stroked icon of the path d. */
function svgIcon(d) {
  const ns = 'http://www.w3.org/2000/svg';
  const svg = document.createElementNS(ns, 'svg');
  svg.setAttribute('viewBox', '0 0 24 24');
  svg.setAttribute('aria-hidden', 'true');
  const path = document.createElementNS(ns, 'path');
  path.setAttribute('d', d);
  svg.append(path);
  return svg;
}
