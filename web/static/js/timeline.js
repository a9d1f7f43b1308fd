// The timeline under the video: the whole DVR window, what is buffered and
// played, the live point, a tick per marker, and a break where the stream
// does not follow on (a restart).

import { formatBehind, formatClock, frac, gapText, labelSide, markerSpan, percent, timeAtFrac } from './core.js';
import { el } from './dom.js';

// A pointer this close to a gap (in pixels) shows what the gap is.
const GAP_HOVER_PX = 8;

/**
 * Timeline draws the player's window into root. Clicking or dragging seeks;
 * a tick (a button with data-marker-id) seeks to its marker's frame.
 *
 * The playhead moves every frame; the ticks and gaps are drawn again only
 * when the window, the playlist or the markers changed (and when refresh
 * asks, to age the highlights), so a frame costs the same however many
 * markers there are.
 */
export class Timeline {
  constructor(root, store, player, { onPick }) {
    this.root = root;
    this.track = root.querySelector('.tl-track');
    this.buffered = root.querySelector('.tl-buffered');
    this.played = root.querySelector('.tl-played');
    this.head = root.querySelector('.tl-head');
    this.live = root.querySelector('.tl-live');
    this.ticks = root.querySelector('.tl-ticks');
    this.ranges = root.querySelector('.tl-ranges');
    this.gapLayer = root.querySelector('.tl-gaps');
    this.tip = root.querySelector('.tl-tip');
    this.startLabel = root.querySelector('.tl-start');
    this.endLabel = root.querySelector('.tl-end');
    this.store = store;
    this.player = player;
    this.onPick = onPick;
    this.tickEls = new Map(); // id → button
    this.gapEls = new Map(); // sn of the fragment after the gap → span
    this.gaps = []; // the gaps as drawn
    this.drawn = ''; // what the ticks and gaps were drawn for
    this.dragging = null; // pointer id while scrubbing
    this.dragTime = null;
    this.frozen = null; // the window as it was when the pointer came
    this.listen();
  }

  listen() {
    const hit = this.root.querySelector('.tl-hit');
    hit.addEventListener('pointerdown', (ev) => {
      if (ev.button !== 0 || ev.target.closest('[data-marker-id]')) return;
      this.dragging = ev.pointerId;
      hit.setPointerCapture(ev.pointerId);
      this.dragTime = this.timeAt(ev.clientX);
      this.root.classList.add('is-dragging');
      this.render();
      ev.preventDefault();
    });
    hit.addEventListener('pointermove', (ev) => {
      this.showTip(ev.clientX);
      if (this.dragging !== ev.pointerId) return;
      this.dragTime = this.timeAt(ev.clientX);
      this.render();
    });
    const end = (ev, commit) => {
      if (this.dragging !== ev.pointerId) return;
      this.dragging = null;
      this.root.classList.remove('is-dragging');
      const t = this.dragTime;
      this.dragTime = null;
      if (commit && t != null) this.player.seek(t);
      this.render();
    };
    hit.addEventListener('pointerup', (ev) => end(ev, true));
    hit.addEventListener('pointercancel', (ev) => end(ev, false));
    hit.addEventListener('pointerenter', () => {
      this.frozen = this.player.window();
    });
    hit.addEventListener('pointerleave', () => {
      if (this.dragging !== null) return;
      this.frozen = null;
      this.tip.hidden = true;
      this.render();
    });
    this.ticks.addEventListener('click', (ev) => {
      const tick = ev.target.closest('[data-marker-id]');
      if (tick) this.onPick(Number(tick.dataset.markerId));
    });
    // Keyboard on the slider: arrows step 5 s, Home/End go to the ends.
    this.root.addEventListener('keydown', (ev) => {
      if (ev.target !== this.root) return;
      const w = this.player.window();
      if (!w) return;
      const t = this.player.video.currentTime;
      const steps = { ArrowLeft: t - 5, ArrowRight: t + 5, Home: w.start, End: w.live ? w.liveSync : w.end };
      if (ev.key in steps) {
        this.player.seek(steps[ev.key]);
        ev.preventDefault();
        ev.stopPropagation();
      }
    });
  }

  /**
   * shown returns the window as drawn. While the pointer is on the timeline
   * its scale stays put, so that a tick does not slide away from under the
   * pointer as the live window grows and slides; it catches up on leaving.
   */
  shown() {
    return this.frozen || this.player.window();
  }

  /** timeAt maps a client x coordinate to a time in the window. */
  timeAt(x) {
    const w = this.shown();
    if (!w) return null;
    const r = this.track.getBoundingClientRect();
    return timeAtFrac(w, (x - r.left) / r.width);
  }

  showTip(x) {
    const w = this.shown();
    const t = this.timeAt(x);
    if (!w || t == null) return;
    const r = this.track.getBoundingClientRect();
    const gap = this.gaps.find((g) => Math.abs(r.left + frac(w, g.at) * r.width - x) <= GAP_HOVER_PX);
    if (gap) {
      this.tip.textContent = gapText(gap);
    } else {
      const when = this.player.timeOfDay(t);
      const behind = w.live ? w.end - t : 0;
      this.tip.textContent = formatClock(when).hms + (w.live && behind >= 1 ? `  ${formatBehind(behind)}` : '');
    }
    this.tip.hidden = false;
    this.placeLabel(this.tip, gap ? frac(w, gap.at) : frac(w, t));
  }

  /** placeLabel centres a label above fraction f, kept inside the track. */
  placeLabel(label, f) {
    label.style.left = percent(f);
    const side = labelSide(f);
    label.classList.toggle('at-left', side === 'at-left');
    label.classList.toggle('at-right', side === 'at-right');
  }

  /** clear removes every tick and gap (the page switched streams). */
  clear() {
    for (const tick of this.tickEls.values()) {
      tick.range.remove();
      tick.remove();
    }
    this.tickEls.clear();
    for (const span of this.gapEls.values()) span.remove();
    this.gapEls.clear();
    this.gaps = [];
    this.drawn = '';
    this.frozen = null;
    this.tip.hidden = true;
  }

  /** refresh makes the next render draw the ticks again (their highlights age). */
  refresh() {
    this.drawn = '';
  }

  /**
   * render draws the window, the playhead, and (when they changed) the
   * ticks and gaps. Until the video shows a frame there is no position to
   * draw: the timeline stays empty.
   */
  render() {
    const w = this.shown();
    const on = !!w && this.player.started;
    this.root.classList.toggle('is-empty', !on);
    if (!on) {
      this.drawn = '';
      return;
    }
    const v = this.player.video;
    const t = this.dragTime ?? v.currentTime;
    this.played.style.width = percent(frac(w, t));
    this.head.style.left = percent(frac(w, t));
    // The buffered range that holds the playhead.
    let b0 = t;
    let b1 = t;
    for (let i = 0; i < v.buffered.length; i++) {
      if (v.buffered.start(i) <= t + 0.5 && v.buffered.end(i) >= t) {
        b0 = v.buffered.start(i);
        b1 = v.buffered.end(i);
      }
    }
    this.buffered.style.left = percent(frac(w, b0));
    this.buffered.style.width = percent(frac(w, b1) - frac(w, b0));
    this.root.setAttribute('aria-valuenow', String(Math.round(t - w.start)));
    this.root.setAttribute('aria-valuetext', formatClock(this.player.timeOfDay(t)).hms);

    const key = [w.start, w.end, w.liveSync, w.live, this.store.version, this.player.version].join('|');
    if (key === this.drawn) return;
    this.drawn = key;
    this.live.hidden = !w.live;
    this.live.style.left = percent(frac(w, w.liveSync));
    this.root.setAttribute('aria-valuemin', '0');
    this.root.setAttribute('aria-valuemax', String(Math.round(w.end - w.start)));
    this.startLabel.textContent = formatClock(this.player.timeOfDay(w.start)).hms;
    this.endLabel.textContent = w.live ? 'now' : formatClock(this.player.timeOfDay(w.end)).hms;
    this.renderTicks(w);
    this.renderGaps(w);
  }

  renderTicks(w) {
    const seen = new Set();
    const all = this.store.all();
    const newest = all.length ? all[all.length - 1].id : null;
    for (const m of all) {
      const at = this.player.reach(m) === 'ok' ? this.player.markerTime(m) : null;
      if (at == null || at < w.start || at > w.end) continue;
      seen.add(m.id);
      let tick = this.tickEls.get(m.id);
      if (!tick) {
        tick = el('button', { type: 'button', className: 'tl-tick' }, [
          el('span', { className: 'tl-mark' }),
          el('span', { className: 'tl-label' }),
        ]);
        tick.dataset.markerId = String(m.id);
        tick.range = el('span', { className: 'tl-range' });
        this.tickEls.set(m.id, tick);
        this.ticks.append(tick);
        this.ranges.append(tick.range);
      }
      const span = markerSpan(w, at, m, m.id === newest);
      tick.style.left = percent(span.from);
      tick.range.style.left = percent(span.from);
      tick.range.style.width = percent(span.to - span.from);
      const when = formatClock(m.program_date_time).hms;
      const text = `${m.label || 'marker'} · ${when}`;
      const label = tick.lastChild;
      if (label.textContent !== text) {
        label.textContent = text;
        tick.setAttribute('aria-label', `${text}, go to its frame`);
      }
      const side = labelSide(span.from);
      label.classList.toggle('at-left', side === 'at-left');
      label.classList.toggle('at-right', side === 'at-right');
      tick.classList.toggle('is-new', this.store.isFresh(m.id));
    }
    for (const [id, tick] of this.tickEls) {
      if (!seen.has(id)) {
        tick.range.remove();
        tick.remove();
        this.tickEls.delete(id);
      }
    }
  }

  /**
   * renderGaps draws a break in the track where the stream does not follow
   * on. The player's clock runs on across it (hls.js lays the fragments
   * end to end), so the break has no width in time: it marks the place,
   * and says how much wall-clock time is missing there.
   */
  renderGaps(w) {
    this.gaps = this.player.gaps().filter((g) => g.at > w.start && g.at < w.end);
    const seen = new Set();
    for (const g of this.gaps) {
      seen.add(g.sn);
      let span = this.gapEls.get(g.sn);
      if (!span) {
        span = el('span', { className: 'tl-gap' });
        span.setAttribute('role', 'img');
        span.dataset.gapSn = String(g.sn);
        this.gapEls.set(g.sn, span);
        this.gapLayer.append(span);
      }
      const text = gapText(g);
      span.dataset.missingMs = String(g.missingMs);
      span.classList.toggle('is-restart', g.discontinuity);
      span.setAttribute('aria-label', text);
      span.title = text;
      span.style.left = percent(frac(w, g.at));
    }
    for (const [sn, span] of this.gapEls) {
      if (!seen.has(sn)) {
        span.remove();
        this.gapEls.delete(sn);
      }
    }
  }
}
