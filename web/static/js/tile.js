// One stream's tile on the overview page: a small muted live player, the
// stream's name and state, and its latest markers. The whole tile links to
// the player on that stream.

import { fetchMarkersAfter } from './api.js';
import { formatClock, keepLatest, playerURL, stateText } from './core.js';
import { el } from './dom.js';

// Markers a tile lists: the newest.
const MARKERS_SHOWN = 4;

// hls.js for a tile: close to the live edge, with as little buffered as
// plays smoothly, and nothing kept behind the playhead, so that a page of
// many tiles costs little memory and bandwidth. A tile never seeks.
const TILE_HLS = {
  liveSyncDurationCount: 2,
  maxBufferLength: 4,
  maxMaxBufferLength: 8,
  maxBufferSize: 8 * 1000 * 1000,
  backBufferLength: 0,
  enableWorker: true,
};

/**
 * Tile shows one stream of /api/streams. Its video plays while the tile
 * is on screen (start and stop, called by the page); its markers come from
 * the marker list, read on from the newest seen at each refresh.
 */
export class Tile {
  constructor(stream) {
    this.stream = stream;
    this.hls = null;
    this.after = 0; // the highest marker id read
    this.latest = []; // the newest markers, newest first
    this.reading = false;
    this.video = el('video', { muted: true, autoplay: true, playsInline: true, disablePictureInPicture: true });
    // muted as an attribute too: autoplay needs it before the first frame.
    this.video.setAttribute('muted', '');
    this.wait = el('span', { className: 'tile-wait' });
    this.badge = el('span', { className: 'badge' });
    this.meta = el('span', { className: 'tile-meta' });
    this.markers = el('ol', { className: 'tile-markers' });
    this.empty = el('p', { className: 'tile-empty', textContent: 'No markers yet.' });
    this.link = el('a', { className: 'tile-link', href: playerURL(stream.name) }, [
      el('div', { className: 'tile-stage' }, [this.video, this.wait]),
      el('div', { className: 'tile-head' }, [el('span', { className: 'tile-name', textContent: stream.name }), this.badge]),
      this.meta,
      this.markers,
      this.empty,
    ]);
    this.root = el('li', { className: 'tile' }, this.link);
    this.root.dataset.streamTile = stream.name;
    this.video.addEventListener('playing', () => this.showWait(''));
    this.update(stream);
  }

  /** update shows the stream's state as the API gave it last. */
  update(stream) {
    this.stream = stream;
    const state = stateText(stream.state);
    this.root.dataset.state = stream.state;
    this.badge.dataset.state = stream.state;
    this.badge.textContent = state;
    this.badge.title = stream.reason || '';
    this.meta.textContent = [stream.size, stream.fps ? `${stream.fps} fps` : '', stream.input]
      .filter(Boolean)
      .join(' · ');
    this.link.title = `Open ${stream.name} in the player`;
    if (!this.video.readyState) {
      this.showWait(stream.state === 'starting' ? 'Starting…' : stream.state === 'failed' ? 'Failed' : 'Loading…');
    }
  }

  showWait(text) {
    this.wait.textContent = text;
    this.wait.hidden = !text;
  }

  /** start plays the stream muted from its live edge, unless it plays already. */
  start() {
    if (this.hls || this.video.src) return;
    const url = this.stream.playlist;
    const Hls = window.Hls;
    if (Hls && Hls.isSupported()) {
      const hls = new Hls(TILE_HLS);
      this.hls = hls;
      hls.on(Hls.Events.MANIFEST_PARSED, () => this.play());
      hls.on(Hls.Events.ERROR, (_, data) => {
        // A fatal error stops the tile; the page's next refresh starts it again.
        if (data.fatal) this.stop();
      });
      hls.loadSource(url);
      hls.attachMedia(this.video);
    } else if (this.video.canPlayType('application/vnd.apple.mpegurl')) {
      this.video.src = url;
      this.play();
    } else {
      this.showWait('This browser cannot play HLS');
    }
  }

  play() {
    const p = this.video.play();
    if (p) p.catch(() => {}); // autoplay refused: the tile still links to the player
  }

  /** stop ends playback and lets go of hls.js and what it buffered. */
  stop() {
    if (this.hls) {
      this.hls.destroy();
      this.hls = null;
    }
    if (this.video.src) {
      this.video.removeAttribute('src');
      this.video.load();
    }
  }

  /**
   * refreshMarkers reads the markers after the newest seen, and shows the
   * latest; a failed read says so in the tile, and the next one tries again.
   */
  async refreshMarkers() {
    if (this.reading) return;
    this.reading = true;
    let trouble = '';
    try {
      this.after = await fetchMarkersAfter(this.stream.markers, this.after, (page) => {
        this.latest = keepLatest(this.latest, page, MARKERS_SHOWN);
      });
    } catch (err) {
      trouble = `Markers unavailable: ${err.message}`;
    } finally {
      this.reading = false;
    }
    this.renderMarkers(trouble);
  }

  renderMarkers(trouble) {
    this.empty.textContent = trouble || 'No markers yet.';
    this.empty.hidden = !trouble && this.latest.length > 0;
    const key = this.latest.map((m) => m.id).join(',');
    if (this.markers.dataset.key === key) return;
    this.markers.dataset.key = key;
    this.markers.replaceChildren(
      ...this.latest.map((m) => {
        const li = el('li', { className: 'tile-marker', title: m.program_date_time || '' }, [
          el('span', { className: 'm-hms', textContent: formatClock(m.program_date_time).hms }),
          el('span', { className: 'm-label', textContent: m.label || 'marker' }),
        ]);
        li.dataset.tileMarkerId = String(m.id);
        return li;
      }),
    );
  }
}
