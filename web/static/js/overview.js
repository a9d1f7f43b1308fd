// hlsmark's overview page: a tile per stream, each a muted live player with
// the stream's state and latest markers, kept up to date from the API.

import { fetchStreams } from './api.js';
import { el } from './dom.js';
import { Tile } from './tile.js';

// How often the page reads the streams' states and their new markers.
const POLL_MS = 5000;
// A tile this close to the screen starts playing; farther, it stops.
const NEAR = '200px';

const grid = document.getElementById('tiles');
const notice = document.getElementById('overview-notice');
const count = document.getElementById('stream-count');
const tiles = new Map(); // name → Tile

function showNotice(text) {
  notice.textContent = text;
  notice.hidden = !text;
}

// Only the tiles on screen play: a page of many streams decodes what is seen.
const onScreen = new Set();
const watcher = new IntersectionObserver(
  (entries) => {
    for (const e of entries) {
      const tile = tiles.get(e.target.dataset.streamTile);
      if (!tile) continue;
      if (e.isIntersecting) {
        onScreen.add(tile);
        tile.start();
      } else {
        onScreen.delete(tile);
        tile.stop();
      }
    }
  },
  { rootMargin: NEAR },
);

/** sync brings the tiles in line with the API's list, in its order. */
function sync(streams) {
  const seen = new Set();
  let prev = null;
  for (const s of streams) {
    seen.add(s.name);
    let tile = tiles.get(s.name);
    if (tile) tile.update(s);
    else {
      tile = new Tile(s);
      tiles.set(s.name, tile);
    }
    const want = prev ? prev.nextSibling : grid.firstChild;
    if (want !== tile.root) grid.insertBefore(tile.root, want);
    watcher.observe(tile.root);
    prev = tile.root;
  }
  for (const [name, tile] of tiles) {
    if (seen.has(name)) continue;
    watcher.unobserve(tile.root);
    onScreen.delete(tile);
    tile.stop();
    tile.root.remove();
    tiles.delete(name);
  }
  count.textContent = `${streams.length} stream${streams.length === 1 ? '' : 's'}`;
}

async function refresh() {
  let streams;
  try {
    streams = await fetchStreams();
  } catch (err) {
    showNotice(`Cannot list the streams: ${err.message}`);
    return;
  }
  showNotice(streams.length ? '' : 'This server has no streams yet.');
  sync(streams);
  // A tile whose player stopped on an error starts again.
  for (const tile of onScreen) tile.start();
  await Promise.all([...tiles.values()].map((t) => t.refreshMarkers()));
}

async function loop() {
  await refresh();
  setTimeout(loop, POLL_MS);
}

if (!window.Hls) grid.before(el('p', { className: 'overview-notice', textContent: 'hls.js is missing from this build: run `make web`, then rebuild.' }));
loop();
