import assert from 'node:assert/strict';
import { test } from 'node:test';

import { loadingView } from '../static/js/core.js';

const w = { start: 0, end: 60, target: 2, live: true, liveSync: 54 };

// casesLoading: what the video area says before the first frame.
const casesLoading = [
  { name: 'nothing read yet', p: { started: false }, want: { state: 'waiting', title: 'Waiting for the stream…', detail: 'Loading the playlist…' } },
  { name: 'a playlist without segments', p: { started: false, empty: true }, want: { state: 'waiting', title: 'Waiting for the stream…', detail: 'The stream has not published a segment yet.' } },
  { name: 'a playlist, no frame yet', p: { started: false, window: w }, want: { state: 'waiting', title: 'Waiting for the stream…', detail: 'Loading the first segment…' } },
  { name: 'the playlist cannot be loaded', p: { started: false, error: 'The playlist could not be loaded (HTTP 503), retrying…' },
    want: { state: 'error', title: 'Cannot load the stream', detail: 'The playlist could not be loaded (HTTP 503), retrying…' } },
  { name: 'playing', p: { started: true, window: w }, want: null },
  { name: 'an error once playing is not a loading state', p: { started: true, error: 'Stream unreachable, retrying…' }, want: null },
  { name: 'a fatal failure is reported elsewhere', p: { started: false, fatal: 'hls.js is missing' }, want: null },
];

test('loadingView', async (t) => {
  for (const c of casesLoading) {
    await t.test(c.name, () => assert.deepEqual(loadingView(c.p), c.want));
  }
});
