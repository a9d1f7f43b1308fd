// The timeline under the video: the whole DVR window, what is buffered and
// played, the live point, and a tick per marker.

import { el, formatBehind, formatClock } from './format.js';

/**
 * Timeline draws the player's window into root. Clicking or dragging seeks;
 * a tick (a button with data-marker-id) seeks to its marker's frame.
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
    this.tip = root.querySelector('.tl-tip');
    this.startLabel = root.querySelector('.tl-start');
    this.endLabel = root.querySelector('.tl-end');
    this.store = store;
    this.player = player;
    this.onPick = onPick;
    this.tickEls = new Map(); // id → button
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
    const f = Math.min(1, Math.max(0, (x - r.left) / r.width));
    return w.start + f * (w.end - w.start);
  }

  /** frac maps a time to a fraction of the window, clamped. */
  frac(w, t) {
    const span = w.end - w.start;
    if (!(span > 0)) return 0;
    return Math.min(1, Math.max(0, (t - w.start) / span));
  }

  showTip(x) {
    const w = this.shown();
    const t = this.timeAt(x);
    if (!w || t == null) return;
    const when = this.player.timeOfDay(t);
    const behind = w.live ? w.end - t : 0;
    this.tip.textContent = formatClock(when).hms + (w.live && behind >= 1 ? `  ${formatBehind(behind)}` : '');
    this.tip.hidden = false;
    this.placeLabel(this.tip, this.frac(w, t));
  }

  /** placeLabel centres a label above fraction f, kept inside the track. */
  placeLabel(label, f) {
    label.style.left = `${(f * 100).toFixed(3)}%`;
    label.classList.toggle('at-left', f < 0.12);
    label.classList.toggle('at-right', f > 0.88);
  }

  /** render draws the window, the playhead, and the ticks. */
  render() {
    const w = this.shown();
    this.root.classList.toggle('is-empty', !w);
    if (!w) return;
    const v = this.player.video;
    const t = this.dragTime ?? v.currentTime;
    const pct = (x) => `${(x * 100).toFixed(3)}%`;
    this.played.style.width = pct(this.frac(w, t));
    this.head.style.left = pct(this.frac(w, t));
    // The buffered range that holds the playhead.
    let b0 = t;
    let b1 = t;
    for (let i = 0; i < v.buffered.length; i++) {
      if (v.buffered.start(i) <= t + 0.5 && v.buffered.end(i) >= t) {
        b0 = v.buffered.start(i);
        b1 = v.buffered.end(i);
      }
    }
    this.buffered.style.left = pct(this.frac(w, b0));
    this.buffered.style.width = pct(this.frac(w, b1) - this.frac(w, b0));
    this.live.hidden = !w.live;
    this.live.style.left = pct(this.frac(w, w.liveSync));
    this.root.setAttribute('aria-valuemin', '0');
    this.root.setAttribute('aria-valuemax', String(Math.round(w.end - w.start)));
    this.root.setAttribute('aria-valuenow', String(Math.round(t - w.start)));
    this.root.setAttribute('aria-valuetext', formatClock(this.player.timeOfDay(t)).hms);
    this.startLabel.textContent = formatClock(this.player.timeOfDay(w.start)).hms;
    this.endLabel.textContent = w.live ? 'now' : formatClock(this.player.timeOfDay(w.end)).hms;
    this.renderTicks(w);
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
      const f = this.frac(w, at);
      tick.style.left = `${(f * 100).toFixed(3)}%`;
      // The marker's duration. An open marker runs to the live edge while it
      // is the newest; an older one that never closed (its stream stopped
      // while it was open) gets no range.
      const until = m.duration != null ? at + m.duration : m.id === newest && w.live ? w.end : at;
      tick.range.style.left = `${(f * 100).toFixed(3)}%`;
      tick.range.style.width = `${((this.frac(w, until) - f) * 100).toFixed(3)}%`;
      const when = formatClock(m.program_date_time).hms;
      const text = `${m.label || 'marker'} · ${when}`;
      const label = tick.lastChild;
      if (label.textContent !== text) {
        label.textContent = text;
        tick.setAttribute('aria-label', `${text}, go to its frame`);
      }
      label.classList.toggle('at-left', f < 0.12);
      label.classList.toggle('at-right', f > 0.88);
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
}
