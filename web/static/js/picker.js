// The stream picker in the top bar: one link per stream the API lists,
// with its state, that switches the player without loading the page.

import { playerURL, stateText } from './core.js';
import { el } from './dom.js';

/**
 * StreamPicker renders the streams into root (a <nav>) as links to
 * /?stream=NAME, each with data-stream and data-state. A plain click calls
 * onPick(name) instead of following the link; a click that opens a new
 * tab or window (a modifier key, the middle button) follows it.
 */
export class StreamPicker {
  constructor(root, { onPick }) {
    this.root = root;
    this.onPick = onPick;
    this.links = new Map(); // name → a
    root.addEventListener('click', (ev) => {
      const a = ev.target.closest('a[data-stream]');
      if (!a || ev.button !== 0 || ev.ctrlKey || ev.metaKey || ev.shiftKey || ev.altKey) return;
      ev.preventDefault();
      this.onPick(a.dataset.stream);
    });
  }

  /**
   * render shows streams (the API's list, in its order) with current
   * marked. It shows itself when there is a choice to make: two streams
   * or more, or none current (the one asked for does not exist).
   */
  render(streams, current) {
    const seen = new Set();
    let prev = null;
    for (const s of streams) {
      seen.add(s.name);
      let a = this.links.get(s.name);
      if (!a) {
        a = el('a', { className: 'stream-pick', href: playerURL(s.name) }, [
          el('span', { className: 'pick-dot' }),
          el('span', { className: 'pick-name', textContent: s.name }),
          el('span', { className: 'pick-state' }),
        ]);
        a.dataset.stream = s.name;
        this.links.set(s.name, a);
      }
      const state = stateText(s.state);
      a.dataset.state = s.state;
      // The state in words where it is not the usual one: colour alone
      // does not say it.
      a.querySelector('.pick-state').textContent = s.state === 'live' ? '' : state.toLowerCase();
      a.title = s.reason ? `${state}: ${s.reason}` : state;
      a.setAttribute('aria-label', `${s.name}, ${state.toLowerCase()}`);
      if (s.name === current) a.setAttribute('aria-current', 'page');
      else a.removeAttribute('aria-current');
      const want = prev ? prev.nextSibling : this.root.firstChild;
      if (want !== a) this.root.insertBefore(a, want);
      prev = a;
    }
    for (const [name, a] of this.links) {
      if (!seen.has(name)) {
        a.remove();
        this.links.delete(name);
      }
    }
    this.root.hidden = streams.length < 2 && current != null;
  }
}
