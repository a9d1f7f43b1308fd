import assert from 'node:assert/strict';
import { test } from 'node:test';

import { thumbnailURL } from '../static/js/core.js';

const list = '/api/streams/demo/markers';

// casesThumbnail: which rows ask for a thumbnail, and at what width.
const casesThumbnail = [
  { name: 'a detector marker in the window', m: { id: 7, source: 'detector' }, reach: 'ok', size: '1280x720', want: `${list}/7/thumbnail.jpg?width=160` },
  { name: 'a detector marker gone: its frame is kept', m: { id: 7, source: 'detector' }, reach: 'gone', size: '1280x720', want: `${list}/7/thumbnail.jpg?width=160` },
  { name: 'a detector marker pending: kept as it was seen', m: { id: 8, source: 'detector' }, reach: 'pending', size: '1280x720', want: `${list}/8/thumbnail.jpg?width=160` },
  { name: 'a posted marker in the window', m: { id: 9, source: 'api' }, reach: 'ok', size: '640x360', want: `${list}/9/thumbnail.jpg?width=160` },
  { name: 'a posted marker pending: its segment is not on disk yet', m: { id: 9, source: 'api' }, reach: 'pending', size: '640x360', want: null },
  { name: 'a posted marker gone', m: { id: 9, source: 'api' }, reach: 'gone', size: '640x360', want: null },
  { name: 'a posted marker past the window, its segment kept', m: { id: 9, source: 'api', sequence: 4 }, reach: 'gone', size: '640x360', want: `${list}/9/thumbnail.jpg?width=160` },
  { name: 'a posted marker pending with a sequence: not written yet', m: { id: 9, source: 'api', sequence: 40 }, reach: 'pending', size: '640x360', want: null },
  { name: 'a stream narrower than the thumbnail', m: { id: 3, source: 'detector' }, reach: 'ok', size: '96x64', want: `${list}/3/thumbnail.jpg?width=96` },
  { name: 'no size known', m: { id: 3, source: 'detector' }, reach: 'ok', size: undefined, want: `${list}/3/thumbnail.jpg?width=160` },
  { name: 'no marker list', m: { id: 3, source: 'detector' }, reach: 'ok', size: '1280x720', list: '', want: null },
];

for (const c of casesThumbnail) {
  test(`thumbnailURL: ${c.name}`, () => {
    assert.equal(thumbnailURL(c.list ?? list, c.m, c.reach, c.size), c.want);
  });
}
