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
// Pages read at most on one load: the page lists the recent markers of a
// stream, not its whole history.
const MAX_PAGES = 50;

/**
 * fetchMarkersAfter reads a stream's markers with ids above after,
 * ascending, and hands each page to onPage as it comes, so that whoever
 * keeps them can drop the old ones before the next page. It returns the
 * highest id read (after, if none).
 */
export async function fetchMarkersAfter(markersURL, after, onPage) {
  for (let page = 0; page < MAX_PAGES; page++) {
    const body = await getJSON(`${markersURL}?after=${after}&limit=${PAGE}`);
    const got = Array.isArray(body.markers) ? body.markers : [];
    if (got.length) {
      after = Math.max(after, got[got.length - 1].id);
      onPage(got);
    }
    // The server says where the list goes on (`next`) while more may
    // follow: a page can hold fewer than PAGE markers when their data
    // make it large.
    if (!body.next) break;
  }
  return after;
}

/**
 * MarkerFeed keeps a stream's markers up to date: it opens the event stream
 * first, then reads the list, so that nothing created in between is missed.
 *
 * A reconnection resumes where the feed left off instead of reading the
 * list again: EventSource sends the last event id (the server's revision)
 * by itself when it reconnects, and the feed passes it as last_event_id
 * when it has to open a new EventSource, so the server replays every
 * change since. Then the feed reads only the markers with ids above the
 * highest it saw, for a server that restarted and forgot its revisions.
 *
 * A server that would have to replay too many changes sends a reset
 * instead: the feed then reads the whole list again.
 *
 * onMarkers(markers, {live}) gets batches to upsert by id: live for markers
 * created while the page watched. onDeleted(id) gets the id of a marker
 * deleted on the server. onStatus(state) gets 'connecting' | 'open' |
 * 'retrying'.
 */
export class MarkerFeed {
  constructor(markersURL, { onMarkers, onDeleted = () => {}, onStatus, onError }) {
    this.url = markersURL;
    this.onMarkers = onMarkers;
    this.onDeleted = onDeleted;
    this.onStatus = onStatus || (() => {});
    this.onError = onError || (() => {});
    this.source = null;
    this.loaded = false; // the list was read once
    this.lastEventId = ''; // the newest event's id: the server's revision
    this.lastId = 0; // the highest marker id seen
    this.syncing = null; // the list read under way
    this.again = false; // read the list once more when it is done
    this.retry = 0;
    this.timer = 0;
    this.closed = false;
  }

  start() {
    this.open();
  }

  /**
   * close ends the event stream and any retry for good. A list read under
   * way finishes, but hands nothing on: the page may already show another
   * stream.
   */
  close() {
    this.closed = true;
    clearTimeout(this.timer);
    if (this.source) this.source.close();
    this.source = null;
  }

  /** eventsURL is the event stream's URL, resuming after lastEventId if there is one. */
  eventsURL() {
    const base = `${this.url}/events`;
    return this.lastEventId ? `${base}?last_event_id=${encodeURIComponent(this.lastEventId)}` : base;
  }

  open() {
    if (this.closed) return;
    this.onStatus('connecting');
    const es = new EventSource(this.eventsURL());
    this.source = es;
    const onEvent = (ev) => {
      if (ev.lastEventId) this.lastEventId = ev.lastEventId;
      let m;
      try {
        m = JSON.parse(ev.data);
      } catch {
        return; // not a marker: ignore rather than break the feed
      }
      if (m && typeof m.id === 'number') {
        this.lastId = Math.max(this.lastId, m.id);
        this.onMarkers([m], { live: ev.type === 'created' && this.loaded });
      }
    };
    es.addEventListener('created', onEvent);
    es.addEventListener('updated', onEvent);
    // A deleted marker's event carries its id (and what it was): forget it.
    es.addEventListener('deleted', (ev) => {
      if (ev.lastEventId) this.lastEventId = ev.lastEventId;
      let m;
      try {
        m = JSON.parse(ev.data);
      } catch {
        return;
      }
      if (m && typeof m.id === 'number') this.onDeleted(m.id);
    });
    // The server did not replay the changes since lastEventId (more than
    // it replays): read the list again, all of it, and follow the events
    // from the present, whose revision the reset carries.
    es.addEventListener('reset', (ev) => {
      if (ev.lastEventId) this.lastEventId = ev.lastEventId;
      this.lastId = 0;
      this.sync();
    });
    es.addEventListener('open', () => {
      this.retry = 0;
      this.onStatus('open');
      this.sync();
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
        this.sync(); // the list may still be readable
      } else {
        this.onStatus('retrying'); // EventSource reconnects by itself
      }
    });
  }

  /**
   * sync reads the list: all of it the first time, then only the markers
   * above the highest id seen. One read at a time; a call during a read
   * makes one more read after it.
   */
  async sync() {
    if (this.syncing) {
      this.again = true;
      return;
    }
    this.syncing = (async () => {
      do {
        this.again = false;
        try {
          const last = await fetchMarkersAfter(this.url, this.lastId, (page) => {
            if (!this.closed) this.onMarkers(page, { live: false });
          });
          // Events may have brought higher ids meanwhile.
          this.lastId = Math.max(this.lastId, last);
          this.loaded = true;
        } catch (err) {
          if (!this.closed) this.onError(err);
        }
      } while (this.again && !this.closed);
    })();
    await this.syncing;
    this.syncing = null;
  }
}
