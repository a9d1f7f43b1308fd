import assert from 'node:assert/strict';
import { test } from 'node:test';

import { chooseStream, keepLatest, playerURL, stateText, streamFromURL } from '../static/js/core.js';

// casesStreamFromURL: a page URL (path and query) and the stream it names.
const casesStreamFromURL = [
  { name: 'the root names none', path: '/', search: '', want: null },
  { name: 'query', path: '/', search: '?stream=second', want: 'second' },
  { name: 'query among others', path: '/', search: '?x=1&stream=cam-2&y', want: 'cam-2' },
  { name: 'empty query names none', path: '/', search: '?stream=', want: null },
  { name: 'escaped query', path: '/', search: '?stream=a%20b', want: 'a b' },
  { name: 'path', path: '/streams/demo', search: '', want: 'demo' },
  { name: 'path with a slash', path: '/streams/demo/', search: '', want: 'demo' },
  { name: 'query wins over path', path: '/streams/demo', search: '?stream=small', want: 'small' },
  { name: 'a playlist path names none', path: '/streams/demo/index.m3u8', search: '', want: null },
  { name: 'malformed escape kept as typed', path: '/streams/%E0%A4%A', search: '', want: '%E0%A4%A' },
  { name: 'another page', path: '/overview', search: '', want: null },
];

test('streamFromURL', async (t) => {
  for (const c of casesStreamFromURL) {
    await t.test(c.name, () => assert.equal(streamFromURL(c.path, c.search), c.want));
  }
});

test('playerURL round-trips through streamFromURL', () => {
  assert.equal(playerURL('second'), '/?stream=second');
  for (const name of ['demo', 'cam_1', 'a-b', 'odd name&x=1']) {
    const u = new URL(playerURL(name), 'http://h');
    assert.equal(streamFromURL(u.pathname, u.search), name);
  }
});

const streams = [{ name: 'demo' }, { name: 'second' }];

// casesChoose: which stream the player opens for a wanted name.
const casesChoose = [
  { name: 'none wanted: the first', list: streams, wanted: null, want: { stream: streams[0] } },
  { name: 'the one named', list: streams, wanted: 'second', want: { stream: streams[1] } },
  { name: 'an unknown name', list: streams, wanted: 'nope', want: { error: 'There is no stream called “nope”.' } },
  { name: 'no stream at all', list: [], wanted: null, want: { error: 'This server has no streams yet.' } },
  { name: 'unknown, and no stream at all', list: [], wanted: 'demo', want: { error: 'There is no stream called “demo”.' } },
  {
    name: 'not a stream name',
    list: streams,
    wanted: 'Demo!',
    want: { error: '“Demo!” is not a stream name (a-z, 0-9, - and _, up to 64).' },
  },
];

test('chooseStream', async (t) => {
  for (const c of casesChoose) {
    await t.test(c.name, () => assert.deepEqual(chooseStream(c.list, c.wanted), c.want));
  }
});

test('stateText names every state the API gives, and passes others through', () => {
  assert.deepEqual(
    ['starting', 'live', 'stalled', 'reconnecting', 'ended', 'failed'].map(stateText),
    ['Starting', 'Live', 'Stalled', 'Reconnecting', 'Ended', 'Failed'],
  );
  assert.equal(stateText('paused'), 'paused');
  assert.equal(stateText(undefined), 'unknown');
});

const mk = (id, label = `m${id}`) => ({ id, label });

// casesKeepLatest: kept and incoming markers, and the ids kept.
const casesKeepLatest = [
  { name: 'first page, more than n', kept: [], incoming: [1, 2, 3, 4, 5].map((i) => mk(i)), n: 3, want: [5, 4, 3] },
  { name: 'fewer than n', kept: [], incoming: [mk(2), mk(1)], n: 3, want: [2, 1] },
  { name: 'newer ones push older out', kept: [mk(5), mk(4), mk(3)], incoming: [mk(6), mk(7)], n: 3, want: [7, 6, 5] },
  { name: 'older ones do not push newer out', kept: [mk(9), mk(8)], incoming: [mk(1)], n: 2, want: [9, 8] },
  { name: 'nothing new', kept: [mk(2), mk(1)], incoming: [], n: 3, want: [2, 1] },
  { name: 'n of 0', kept: [mk(1)], incoming: [mk(2)], n: 0, want: [] },
  { name: 'junk is skipped', kept: [], incoming: [null, { id: 'x' }, mk(3)], n: 3, want: [3] },
];

test('keepLatest', async (t) => {
  for (const c of casesKeepLatest) {
    await t.test(c.name, () => assert.deepEqual(keepLatest(c.kept, c.incoming, c.n).map((m) => m.id), c.want));
  }
  await t.test('an update replaces the kept marker', () => {
    const got = keepLatest([mk(2, 'old'), mk(1)], [{ id: 2, label: 'new', duration: 1 }], 2);
    assert.deepEqual(got, [{ id: 2, label: 'new', duration: 1 }, mk(1)]);
  });
});
