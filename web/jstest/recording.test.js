import assert from 'node:assert/strict';
import { test } from 'node:test';

import { clipLink, expiredText, listsSequence, markerAccess, recordingGone } from '../static/js/core.js';

const vod = '/streams/demo/vod.m3u8?from=pts%3A0&to=pts%3A1800000';
const kept = { id: 4, sequence: 7, offset: 0.5, vod_url: vod };
const unkept = { id: 5, sequence: null, offset: null, vod_url: null };

// casesAccess: what choosing a marker does, live and in a recording.
const casesAccess = [
  { name: 'in the live window', m: kept, reach: 'ok', want: 'seek' },
  { name: 'in the recording playing', m: kept, reach: 'ok', recording: true, want: 'seek' },
  { name: 'left the live window, kept', m: kept, reach: 'gone', want: 'recording' },
  { name: 'left the live window, not kept', m: unkept, reach: 'gone', want: 'expired' },
  // The page keeps the sequence the server once gave; vod_url says whether it keeps the video.
  { name: 'left the live window, position remembered, no vod_url', m: { ...kept, vod_url: null }, reach: 'gone', want: 'expired' },
  { name: 'a vod_url but no position', m: { ...kept, sequence: null }, reach: 'gone', want: 'expired' },
  { name: 'kept, but its recording was found gone', m: kept, reach: 'gone', expired: true, want: 'expired' },
  { name: 'after the live window: the player will list it', m: kept, reach: 'pending', want: 'pending' },
  { name: 'not yet placed', m: unkept, reach: 'pending', want: 'pending' },
  { name: 'before the recording playing, kept', m: kept, reach: 'gone', recording: true, want: 'recording' },
  { name: 'after the recording playing, kept', m: kept, reach: 'pending', recording: true, want: 'recording' },
  { name: 'after the recording playing, not placed yet', m: unkept, reach: 'pending', recording: true, want: 'pending' },
  { name: 'after the recording playing, found gone', m: kept, reach: 'pending', recording: true, expired: true, want: 'expired' },
  { name: 'an empty vod_url', m: { ...kept, vod_url: '' }, reach: 'gone', want: 'expired' },
];

test('markerAccess', async (t) => {
  for (const c of casesAccess) {
    await t.test(c.name, () => {
      assert.equal(markerAccess(c.m, c.reach, { recording: !!c.recording, expired: !!c.expired }), c.want);
    });
  }
});

// casesGone: the answers to a vod_url that say the recording is not kept.
const casesGone = [
  { status: 404, want: true },
  { status: 410, want: true },
  { status: 200, want: false },
  { status: 400, want: false }, // a bad request is the page's fault, not retention's
  { status: 503, want: false },
];

for (const c of casesGone) {
  test(`recordingGone(${c.status})`, () => assert.equal(recordingGone(c.status), c.want));
}

const list = '/api/streams/demo/markers';

// casesClip: which rows offer a clip, and its link.
const casesClip = [
  { name: 'in the window', access: 'seek', want: { href: `${list}/4/clip.mp4`, filename: 'demo-marker-4.mp4' } },
  { name: 'kept past the window', access: 'recording', want: { href: `${list}/4/clip.mp4`, filename: 'demo-marker-4.mp4' } },
  { name: 'not kept', access: 'expired', want: null },
  { name: 'not yet published', access: 'pending', want: null },
  { name: 'no marker list', access: 'seek', list: '', want: null },
];

for (const c of casesClip) {
  test(`clipLink: ${c.name}`, () => {
    assert.deepEqual(clipLink(c.list ?? list, 'demo', kept, c.access), c.want);
  });
}

test('expiredText names the marker and its time', () => {
  const text = expiredText({ label: 'mint square', program_date_time: '2026-11-30T21:29:08.724Z' });
  assert.match(text, /“mint square” \(21:29:08\)/);
  assert.match(text, /no longer recorded/);
  assert.match(expiredText({ label: '', program_date_time: '' }), /“marker” \(--:--:--\)/);
});

// A VOD playlist as the server writes it (playlist/vod.go), segments 41 to 43.
const vodText = [
  '#EXTM3U',
  '#EXT-X-VERSION:3',
  '#EXT-X-PLAYLIST-TYPE:VOD',
  '#EXT-X-MEDIA-SEQUENCE:41',
  '#EXT-X-TARGETDURATION:1',
  '#EXT-X-DATERANGE:ID="7",START-DATE="2026-11-30T21:29:08.724Z"',
  '#EXT-X-PROGRAM-DATE-TIME:2026-11-30T21:29:08.000Z',
  '#EXTINF:1.000,',
  'seg00041.ts',
  '#EXT-X-PROGRAM-DATE-TIME:2026-11-30T21:29:09.000Z',
  '#EXTINF:1.000,',
  'seg00042.ts',
  '#EXT-X-DISCONTINUITY',
  '#EXT-X-PROGRAM-DATE-TIME:2026-11-30T21:29:12.000Z',
  '#EXTINF:1.000,',
  'seg00043.ts',
  '#EXT-X-ENDLIST',
  '',
].join('\n');

// casesLists: whether a recording lists a marker's segment.
const casesLists = [
  { name: 'its first segment', text: vodText, sn: 41, want: true },
  { name: 'its last segment', text: vodText, sn: 43, want: true },
  { name: 'deleted before it', text: vodText, sn: 40, want: false },
  { name: 'after it', text: vodText, sn: 44, want: false },
  { name: 'CRLF line ends', text: vodText.replaceAll('\n', '\r\n'), sn: 42, want: true },
  { name: 'no media sequence: from 0', text: '#EXTM3U\n#EXTINF:1,\na.ts\n#EXTINF:1,\nb.ts\n', sn: 1, want: true },
  { name: 'no segment', text: '#EXTM3U\n#EXT-X-MEDIA-SEQUENCE:41\n#EXT-X-ENDLIST\n', sn: 41, want: false },
  { name: 'a marker without sequence', text: vodText, sn: null, want: false },
  { name: 'no playlist', text: undefined, sn: 41, want: false },
];

for (const c of casesLists) {
  test(`listsSequence: ${c.name}`, () => assert.equal(listsSequence(c.text, c.sn), c.want));
}
