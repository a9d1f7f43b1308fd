// The hlsmark HTTP API as the page uses it: the stream list, the marker
// list (paged), and the marker event stream (Server-Sent Events).

/** Fetches a JSON document, throwing an Error that names the URL on failure. */
export async function getJSON(url, { signal } = {}) {
  const res = await fetch(url, { signal, headers: { Accept: 'application/json' } });
  if (!res.ok) {
    let msg = `${res.status} ${res.statusText}`;
    try {
      const body = await res.json();
      if (body && body.error) msg = body.error;
    } catch {
      // not JSON: keep the status line
    }
    throw new Error(`${url}: ${msg}`);
  }
  return res.json();
}

/** Lists the server's streams: [{name, state, playlist, markers, ...}]. */
export async function fetchStreams() {
  const body = await getJSON('/api/streams');
  return Array.isArray(body.streams) ? body.streams : [];
}

// Markers per page; the API's maximum.
const PAGE = 1000;
// Pages read at most on one (re)load: the page lists the recent markers of
// a stream, not its whole history.
const MAX_PAGES = 50;

/** Reads every marker of a stream from its marker URL, ascending by id. */
export async function fetchMarkers(markersURL) {
  const out = [];
  let after = 0;
  for (let page = 0; page < MAX_PAGES; page++) {
    const body = await getJSON(`${markersURL}?after=${after}&limit=${PAGE}`);
    const got = Array.isArray(body.markers) ? body.markers : [];
    out.push(...got);
    if (got.length < PAGE) break;
    after = got[got.length - 1].id;
  }
  return out;
}

/**
 * MarkerFeed keeps a stream's markers up to date: it opens the event stream
 * first, then reads the list, so that nothing created in between is missed.
 * After every reconnection (EventSource reconnects by itself, resuming with
 * Last-Event-ID) it reads the list again, which also covers a server that
 * restarted and forgot the event ids.
 *
 * onMarkers(markers, {initial, live}) gets batches to upsert by id: initial
 * for the first list, live for markers created while the page watched.
 * onStatus(state) gets 'connecting' | 'open' | 'retrying'.
 */
export class MarkerFeed {
  constructor(markersURL, { onMarkers, onStatus, onError }) {
    this.url = markersURL;
    this.onMarkers = onMarkers;
    this.onStatus = onStatus || (() => {});
    this.onError = onError || (() => {});
    this.source = null;
    this.loaded = false;
    this.retry = 0;
    this.timer = 0;
  }

  start() {
    this.open();
  }

  close() {
    clearTimeout(this.timer);
    if (this.source) this.source.close();
    this.source = null;
  }

  open() {
    this.onStatus('connecting');
    const es = new EventSource(`${this.url}/events`);
    this.source = es;
    const onEvent = (ev) => {
      let m;
      try {
        m = JSON.parse(ev.data);
      } catch {
        return; // not a marker: ignore rather than break the feed
      }
      if (m && typeof m.id === 'number') {
        this.onMarkers([m], { initial: false, live: ev.type === 'created' && this.loaded });
      }
    };
    es.addEventListener('created', onEvent);
    es.addEventListener('updated', onEvent);
    es.addEventListener('open', () => {
      this.retry = 0;
      this.onStatus('open');
      this.reload();
    });
    es.addEventListener('error', () => {
      if (es.readyState === EventSource.CLOSED) {
        // The server answered with something other than an event stream
        // (an error page, or no route): EventSource gives up, so retry by
        // hand, backing off up to half a minute.
        es.close();
        this.source = null;
        this.retry = Math.min(this.retry + 1, 6);
        this.onStatus('retrying');
        this.timer = setTimeout(() => this.open(), Math.min(30000, 1000 * 2 ** this.retry));
        this.reload(); // the list may still be readable
      } else {
        this.onStatus('retrying'); // EventSource reconnects by itself
      }
    });
  }

  async reload() {
    try {
      const markers = await fetchMarkers(this.url);
      const initial = !this.loaded;
      this.loaded = true;
      this.onMarkers(markers, { initial, live: false });
    } catch (err) {
      this.onError(err);
    }
  }
}
