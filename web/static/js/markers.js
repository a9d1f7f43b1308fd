// The marker store (upsert by id) and the marker list beside the video.

import { formatClock, formatDuration, el } from './format.js';

// How long a marker that arrived while watching stays highlighted.
const NEW_FOR_MS = 8000;
// Rows shown at most: the newest ones.
const MAX_ROWS = 500;

/**
 * merge upserts an incoming version of a marker over the known one. Events
 * and list answers may arrive in either order, so a field that is known is
 * not forgotten by an older answer: a duration is never unset, and the
 * stream position stays (the player, not the API, decides whether its
 * fragment is still in the playlist). A different pts or date means another
 * marker under a reused id (a server that lost its store): take it whole.
 */
function merge(old, m) {
  if (!old || old.pts !== m.pts || old.program_date_time !== m.program_date_time) return { ...m };
  const out = { ...old, ...m };
  if (m.duration == null) out.duration = old.duration;
  if (m.sequence == null) {
    out.sequence = old.sequence;
    out.offset = old.offset;
  }
  return out;
}

/** MarkerStore holds a stream's markers by id and tells listeners of changes. */
export class MarkerStore extends EventTarget {
  constructor() {
    super();
    this.byId = new Map();
    this.fresh = new Map(); // id → time it arrived, for highlighting
    this.loaded = false;
    this.sorted = null; // all(), cached until the next upsert
  }

  /** upsert merges markers in; those new since the first list are highlighted. */
  upsert(markers, { initial = false } = {}) {
    const now = performance.now();
    for (const m of markers) {
      if (!m || typeof m.id !== 'number') continue;
      const old = this.byId.get(m.id);
      if (!old && this.loaded && !initial) this.fresh.set(m.id, now);
      this.byId.set(m.id, merge(old, m));
    }
    if (initial) this.loaded = true;
    this.sorted = null;
    this.dispatchEvent(new Event('change'));
  }

  /** all returns the markers, oldest first; the caller must not change it. */
  all() {
    if (!this.sorted) this.sorted = [...this.byId.values()].sort((a, b) => a.id - b.id);
    return this.sorted;
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

/**
 * MarkerList renders the store newest first. A row is a button carrying
 * data-marker-id while its marker can be reached (its fragment is in the
 * playlist); otherwise it is greyed, says why, and carries no id to click.
 */
export class MarkerList {
  constructor(root, store, player, { onPick }) {
    this.root = root;
    this.list = root.querySelector('.marker-list');
    this.empty = root.querySelector('.marker-empty');
    this.count = root.querySelector('.marker-count');
    this.store = store;
    this.player = player;
    this.onPick = onPick;
    this.held = root.querySelector('.marker-held');
    this.rows = new Map(); // id → li
    this.current = null;
    // While the pointer is on the list, new markers wait above it instead of
    // pushing the rows down under the pointer; they come in on leaving.
    this.hold = false;
    this.list.addEventListener('click', (ev) => {
      const btn = ev.target.closest('[data-marker-id]');
      if (btn && this.list.contains(btn)) this.onPick(Number(btn.dataset.markerId));
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
    this.count.textContent = String(this.store.byId.size);
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
    const fresh = this.store.isFresh(m.id);
    const cut = m.data?.cut === true;
    const key = [m.label, m.duration, cut, m.program_date_time, m.source, reach].join('|');
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
    const tag = reach === 'ok' ? 'BUTTON' : 'DIV';
    let row = li.firstChild;
    if (!row || row.tagName !== tag) {
      row = tag === 'BUTTON' ? el('button', { type: 'button' }) : el('div');
      li.replaceChildren(row);
    }
    row.className = reach === 'ok' ? 'marker-row' : `marker-row is-${reach}`;
    row.classList.toggle('from-api', m.source === 'api');
    row.classList.toggle('is-current', this.current === m.id);
    if (reach === 'ok') {
      row.dataset.markerId = String(m.id);
      row.setAttribute('aria-label', `${m.label || 'marker'} at ${when.hms}${when.ms}, go to its frame`);
    } else {
      row.dataset.staleMarkerId = String(m.id);
      row.setAttribute('aria-disabled', 'true');
      row.title = reach === 'pending' ? 'Not yet in a published segment' : 'Left the DVR window';
      parts.push(el('span', { className: 'm-note' }, reach === 'pending' ? 'pending' : 'gone'));
    }
    row.replaceChildren(...parts);
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
