// hlsmark's player page: wires the player, the timeline, the marker list,
// the marker feed and the stream picker together. The page shows one
// stream at a time and switches between them without loading again.

import { MarkerFeed, fetchStreams } from './api.js';
import {
  chooseStream,
  currentMarker as markerAt,
  expiredText,
  formatBehind,
  formatClock,
  loadingView,
  markerAccess,
  playerURL,
  streamFromURL,
} from './core.js';
import { LatencyMeter } from './latency.js';
import { MarkerList, MarkerStore } from './markers.js';
import { StreamPicker } from './picker.js';
import { Player } from './player.js';
import { formatLatency } from './stamp.js';
import { Timeline } from './timeline.js';

// While the stream has ended, the page asks this often whether it restarted.
const ENDED_POLL_MS = 5000;
// While it is live, the page asks this often whether its source stalled.
const STATE_POLL_MS = 5000;

const $ = (id) => document.getElementById(id);
const video = $('video');
const notice = $('notice');
const loading = $('loading');

function showNotice(text, kind = 'info') {
  notice.textContent = text;
  notice.dataset.kind = kind;
  notice.hidden = !text;
}

// How long a note about a marker chosen stays over the video.
const PICKED_NOTE_MS = 8000;
let pickedTimer = 0;

/** notePicked says something about the marker chosen, for a few seconds. */
function notePicked(text) {
  showNotice(text, 'picked');
  clearTimeout(pickedTimer);
  pickedTimer = setTimeout(() => {
    if (notice.dataset.kind === 'picked') showNotice('');
  }, PICKED_NOTE_MS);
}

/**
 * showLoading shows what the video area waits for before the first frame
 * (a view of loadingView), or hides it for null.
 */
function showLoading(view) {
  loading.hidden = !view;
  if (!view) return;
  loading.dataset.state = view.state;
  loading.querySelector('.loading-title').textContent = view.title;
  loading.querySelector('.loading-detail').textContent = view.detail;
}

async function main() {
  const player = new Player(video);
  const latency = new LatencyMeter(video);
  // The store keeps the latest markers and those the timeline can draw.
  const store = new MarkerStore({ drawable: (m) => player.reach(m) !== 'gone' });
  const pick = (id) => goToMarker(id);
  // What choosing a marker does: see markerAccess.
  const access = (m) =>
    markerAccess(m, player.reach(m), { recording: !!player.recording, expired: store.isExpired(m.id) });
  const list = new MarkerList($('markers'), store, player, { onPick: pick, access });
  const timeline = new Timeline($('timeline'), store, player, { onPick: pick });
  const picker = new StreamPicker($('stream-nav'), { onPick: (name) => show(name, { push: true }) });

  let streams = []; // the API's list, as last read
  let current = null; // the stream shown, from that list; null while none is
  let missing = null; // the name asked for that the server does not have
  let feed = null; // the current stream's marker feed
  window.hlsmark = {
    player,
    store,
    get hls() {
      return player.hls;
    },
    get stream() {
      return current ? current.name : null;
    },
    // Glass-to-glass measurements of a --stamp stream (see latency.js).
    latency,
  };

  let pickedNote = '';
  /**
   * goToMarker shows marker id's frame: in the playlist playing, or in its
   * recording once it left the live window. A marker whose recording is
   * not kept any more says so.
   */
  async function goToMarker(id) {
    const m = store.get(id);
    if (!m) return;
    if (notice.dataset.kind === 'picked') showNotice('');
    switch (access(m)) {
      case 'seek':
        break;
      case 'recording': {
        let opened;
        try {
          opened = await player.openRecording(m.vod_url, m.sequence);
        } catch (err) {
          notePicked(`Cannot open the recording: ${err.message}`);
          return;
        }
        if (opened === 'gone') {
          store.expire(id);
          notePicked(expiredText(m));
        }
        if (opened !== 'ok') return;
        break;
      }
      case 'expired':
        notePicked(expiredText(m));
        return;
      default:
        return; // pending: its row says so
    }
    pickedNote = m.label || 'marker';
    list.setCurrent(id);
    await player.seekToMarker(m);
    schedule();
  }

  // Rendering: the controls every frame while anything moves, the list
  // when markers or the playlist change (and each second, to age the
  // highlights and grey out what left the window).
  let frame = 0;
  function schedule() {
    if (!frame) frame = requestAnimationFrame(draw);
  }
  function draw() {
    frame = 0;
    timeline.render();
    renderControls();
    if (!video.paused) schedule();
  }
  const renderList = () => {
    list.render();
    list.setCurrent(currentMarker());
  };

  const currentMarker = () => markerAt(store.all(), video.currentTime, (m) => player.markerTime(m));

  let stateText = '';
  // The server knows when the source stops delivering frames: the API
  // calls the stream stalled. Ask now and then, show it, and bring the
  // picker's list and states up to date.
  let sourceStalled = false;
  setInterval(async () => {
    try {
      streams = await fetchStreams();
    } catch {
      return; // a server that went away is the player's to report
    }
    picker.render(streams, current && current.name);
    if (missing && streams.some((s) => s.name === missing)) {
      show(missing, { push: false }); // the stream asked for has come
      return;
    }
    const s = current && streams.find((x) => x.name === current.name);
    sourceStalled = !!s && s.state === 'stalled';
    schedule();
  }, STATE_POLL_MS);
  function renderControls() {
    if (!current) return;
    // Before the first frame the position means nothing: no time, no LIVE.
    const w = player.started ? player.window() : null;
    const play = $('play');
    play.classList.toggle('is-playing', !video.paused);
    play.setAttribute('aria-label', video.paused ? 'Play' : 'Pause');
    const mute = $('mute');
    mute.classList.toggle('is-muted', video.muted);
    mute.setAttribute('aria-label', video.muted ? 'Unmute' : 'Mute');
    const when = player.timeOfDay(video.currentTime);
    $('clock-time').textContent = w ? formatClock(when, true).hms : '--:--:--';
    const live = $('live');
    let note = '';
    const recording = !!player.recording;
    document.querySelector('.player').classList.toggle('is-recording', recording);
    $('recording').hidden = !recording;
    if (recording) {
      // LIVE leaves the recording for the live playlist.
      live.hidden = false;
      live.classList.add('is-behind');
      $('live-behind').textContent = '';
      live.setAttribute('aria-label', 'Playing a recording: go back to live');
      note = video.paused && pickedNote ? `Recording, paused at “${pickedNote}”` : 'Recording';
    } else if (w && w.live) {
      const at = player.atLive();
      live.hidden = false;
      live.classList.toggle('is-behind', !at);
      $('live-behind').textContent = at ? '' : formatBehind(player.behind());
      live.setAttribute('aria-label', at ? 'Playing live' : `Go live (${Math.round(player.behind())} seconds behind)`);
      if (video.paused && pickedNote) note = `Paused at “${pickedNote}”`;
    } else {
      live.hidden = true;
      if (w) note = video.paused && pickedNote ? `Paused at “${pickedNote}”` : 'Recording';
    }
    $('clock-note').textContent = note;
    if (w && w.live && !recording) showLatency();
    let state = player.fatal ? 'failed' : player.error ? 'retrying' : recording ? 'recording' : !w ? 'loading' : w.live ? 'live' : 'ended';
    if (state === 'live' && sourceStalled) state = 'stalled';
    if (state !== stateText) {
      stateText = state;
      const badge = $('stream-state');
      badge.hidden = false;
      badge.dataset.state = state;
      badge.textContent = {
        live: 'Live',
        stalled: 'Stalled',
        ended: 'Ended',
        loading: 'Connecting',
        retrying: 'Reconnecting',
        failed: 'Unavailable',
        recording: 'Recording',
      }[state];
    }
    const view = loadingView({
      started: player.started,
      fatal: player.fatal,
      error: player.error,
      empty: player.empty,
      window: player.window(),
    });
    showLoading(view);
    if (player.fatal) showNotice(player.fatal, 'error');
    // Before the first frame, the loading state says what went wrong.
    else if (player.error && !view) showNotice(player.error, 'warn');
    else if (notice.dataset.kind === 'warn') showNotice('');
  }

  // A --stamp stream says how far behind live the frame shown is,
  // measured from the PTS drawn in it; other streams keep the position's.
  function showLatency() {
    const s = latency.current();
    if (s == null) return;
    $('live-behind').textContent = formatLatency(s);
    $('live').setAttribute('aria-label', `${player.atLive() ? 'Playing live' : 'Go live'} (${formatLatency(s)} behind, measured)`);
  }

  player.addEventListener('change', () => {
    store.windowMoved();
    schedule();
    renderList();
    watchEnded();
  });
  for (const ev of ['play', 'pause', 'seeking', 'seeked', 'timeupdate', 'volumechange', 'waiting', 'playing']) {
    video.addEventListener(ev, schedule);
  }
  video.addEventListener('play', () => {
    pickedNote = '';
  });
  // A stream that stops delivering (the API calls it stalled) leaves the
  // video waiting at the end of its buffer: say so after a moment.
  let waitTimer = 0;
  video.addEventListener('waiting', () => {
    clearTimeout(waitTimer);
    waitTimer = setTimeout(() => {
      if (player.started && !video.paused && video.readyState < 3 && !player.error) showNotice('Waiting for the stream…', 'wait');
    }, 3000);
  });
  for (const ev of ['playing', 'pause', 'seeked', 'canplay', 'emptied']) {
    video.addEventListener(ev, () => {
      clearTimeout(waitTimer);
      if (notice.dataset.kind === 'wait') showNotice('');
    });
  }
  video.addEventListener('seeked', () => list.setCurrent(currentMarker()));
  store.addEventListener('change', () => {
    renderList();
    schedule();
  });
  setInterval(() => {
    renderList();
    timeline.refresh();
    schedule();
  }, 1000);

  const feedState = $('feed-state');
  function setFeedState(state, text, title = '') {
    feedState.dataset.state = state;
    feedState.textContent = text;
    feedState.title = title || 'Marker feed';
  }

  // An ended stream may restart under the same name, and a server that
  // went away may come back: ask now and then, and load the stream anew
  // once the API says it is live again.
  let watchTimer = 0;
  function watchEnded() {
    const w = player.window();
    // A recording ends by nature: it is not the stream that went away.
    const away = !!current && !player.recording && (player.error || (!!w && !w.live));
    if (!away) {
      clearInterval(watchTimer);
      watchTimer = 0;
      return;
    }
    if (watchTimer) return;
    watchTimer = setInterval(async () => {
      try {
        const s = current && (await fetchStreams()).find((x) => x.name === current.name);
        if (s && s.state === 'live') {
          clearInterval(watchTimer);
          watchTimer = 0;
          player.reload();
        }
      } catch {
        // the server is away: ask again later
      }
    }, ENDED_POLL_MS);
  }

  /**
   * stop lets go of the stream shown: its marker feed closed, hls.js
   * destroyed, its markers, ticks and state cleared.
   */
  function stop() {
    if (feed) feed.close();
    feed = null;
    current = null;
    latency.follow(null);
    clearInterval(watchTimer);
    watchTimer = 0;
    player.unload();
    store.clear();
    timeline.clear();
    list.setCurrent(null);
    list.stream = null;
    pickedNote = '';
    sourceStalled = false;
    stateText = '';
    $('stream-state').hidden = true;
    $('live').hidden = true;
    $('recording').hidden = true;
    document.querySelector('.player').classList.remove('is-recording');
    $('clock-time').textContent = '--:--:--';
    $('clock-note').textContent = '';
    setFeedState('', '');
    showNotice('');
  }

  /** start shows stream: its video, and its markers from the API, then as they change. */
  function start(stream) {
    current = stream;
    missing = null;
    latency.follow(stream.epoch);
    document.title = `${stream.name} · hlsmark`;
    $('stream-name').textContent = stream.name;
    picker.render(streams, stream.name);
    list.stream = stream;
    feed = new MarkerFeed(stream.markers, {
      onMarkers: (markers, { live }) => store.upsert(markers, { live }),
      onDeleted: (id) => store.remove(id),
      onStatus: (s) => setFeedState(s, { connecting: 'connecting', open: 'live updates', retrying: 'reconnecting' }[s]),
      onError: (err) => setFeedState('retrying', 'markers unavailable', err.message),
    });
    feed.start();
    try {
      player.load(stream.playlist);
    } catch (err) {
      showNotice(err.message, 'error');
    }
    schedule();
  }

  /**
   * show switches the page to the stream called name (the first listed
   * for null), without loading the page again; push adds the stream's URL
   * to the history. A name the server does not have is said so, with the
   * picker to choose another.
   */
  function show(name, { push }) {
    const choice = chooseStream(streams, name);
    if (choice.stream && current && choice.stream.name === current.name) return;
    stop();
    if (push && name != null) history.pushState({ stream: name }, '', playerURL(name));
    if (choice.stream) {
      start(choice.stream);
      return;
    }
    missing = name;
    document.title = 'hlsmark';
    $('stream-name').textContent = name || 'hlsmark';
    showLoading(null);
    showNotice(choice.error, 'error');
    picker.render(streams, null);
  }

  window.addEventListener('popstate', () => show(streamFromURL(location.pathname, location.search), { push: false }));
  wireControls(player, store, goToMarker);

  try {
    streams = await fetchStreams();
  } catch (err) {
    $('stream-name').textContent = streamFromURL(location.pathname, location.search) || 'hlsmark';
    showLoading(null);
    showNotice(`Cannot list the streams: ${err.message}`, 'error');
    return;
  }
  show(streamFromURL(location.pathname, location.search), { push: false });
}

/** wireControls connects the buttons and the keyboard. */
function wireControls(player, store, goToMarker) {
  const togglePlay = () => (video.paused ? player.play() : video.pause());
  $('play').addEventListener('click', togglePlay);
  video.addEventListener('click', togglePlay);
  $('mute').addEventListener('click', () => {
    video.muted = !video.muted;
  });
  const goLive = () => {
    if (notice.dataset.kind === 'picked') showNotice('');
    player.goLive();
  };
  $('live').addEventListener('click', goLive);
  const fs = $('fullscreen');
  fs.hidden = !document.fullscreenEnabled;
  fs.addEventListener('click', () => {
    if (document.fullscreenElement) document.exitFullscreen().catch(() => {});
    else document.querySelector('.player').requestFullscreen().catch(() => {});
  });

  // [ and ] step through the markers that can be reached, by position.
  const step = (dir) => {
    const t = video.currentTime;
    const spots = store
      .all()
      .filter((m) => player.reach(m) === 'ok')
      .map((m) => ({ id: m.id, at: player.markerTime(m) }))
      .filter((s) => s.at != null)
      .sort((a, b) => a.at - b.at);
    // Being on a marker's frame counts as being at it, not past it.
    const pick = dir < 0 ? spots.filter((s) => s.at < t - 0.1).pop() : spots.find((s) => s.at > t + 0.01);
    if (pick) goToMarker(pick.id);
  };
  document.addEventListener('keydown', (ev) => {
    if (ev.defaultPrevented || ev.ctrlKey || ev.metaKey || ev.altKey) return;
    if (ev.target.closest && ev.target.closest('input, textarea, select, [contenteditable]')) return;
    const onButton = ev.target.closest && ev.target.closest('button');
    switch (ev.key) {
      case '[':
        step(-1);
        break;
      case ']':
        step(1);
        break;
      case ' ':
      case 'k':
        if (onButton && ev.key === ' ') return; // the button's own click
        togglePlay();
        break;
      case 'l':
      case 'L':
        goLive();
        break;
      case 'm':
        video.muted = !video.muted;
        break;
      default:
        return;
    }
    ev.preventDefault();
  });
}

main().catch((err) => showNotice(`The player failed to start: ${err.message}`, 'error'));
