import assert from 'node:assert/strict';
import { test } from 'node:test';

import {
  currentMarker,
  fragmentBySN,
  markerReach,
  markerTime,
  seekTarget,
  timeOfDay,
  windowOf,
} from '../static/js/core.js';
import { T0, restarted, sliding } from './fixtures.js';

test('fragmentBySN finds a fragment by its media sequence number', () => {
  assert.equal(fragmentBySN(sliding, 11).start, 22);
  assert.equal(fragmentBySN(sliding, 9), null, 'before the window');
  assert.equal(fragmentBySN(sliding, 13), null, 'after the window');
  assert.equal(fragmentBySN(sliding, null), null);
  assert.equal(fragmentBySN(null, 11), null);
  // A list whose indexes do not follow startSN is still searched.
  const holey = { startSN: 10, fragments: [sliding.fragments[0], sliding.fragments[2]] };
  assert.equal(fragmentBySN(holey, 12).start, 24);
});

// casesMarkerTime: before hls.js has parsed anything, a marker's first
// frame is its fragment's start plus its offset.
const casesMarkerTime = [
  { name: 'in the window', m: { sequence: 11, offset: 0.7 }, want: 22.7, seek: 22.701 },
  { name: 'first fragment, offset 0', m: { sequence: 10, offset: 0 }, want: 20, seek: 20.001 },
  { name: 'fragment not listed', m: { sequence: 3, offset: 0.1 }, want: null, seek: null },
  { name: 'no position yet', m: { sequence: null, offset: null }, want: null, seek: null },
  { name: 'sequence without offset', m: { sequence: 11, offset: null }, want: null, seek: null },
];

test('markerTime and seekTarget', async (t) => {
  for (const c of casesMarkerTime) {
    await t.test(c.name, () => {
      const got = markerTime(sliding, c.m);
      const seek = seekTarget(got);
      if (c.want == null) {
        assert.equal(got, null);
        assert.equal(seek, null);
        return;
      }
      assert.ok(Math.abs(got - c.want) < 1e-9, `markerTime ${got}, want ${c.want}`);
      // The seek lands 1 ms into the frame: after its PTS, well before the next frame.
      assert.ok(Math.abs(seek - c.seek) < 1e-9, `seekTarget ${seek}, want ${c.seek}`);
    });
  }
});

// parsed is sliding once hls.js has parsed sn 11: it knows its start
// from the frames (startPTS), and cc 0's initPTS is 10 s (origins).
const parsed = {
  ...sliding,
  fragments: sliding.fragments.map((f) => (f.sn === 11 ? { ...f, startPTS: f.start } : f)),
};
const origins = [{ baseTime: 900000, timescale: 90000 }];
// pts is the 90 kHz TS timestamp of a frame hls.js lays at t on its clock.
const pts = (t) => Math.round((t + 10) * 90000);

// casesMarkerTimeByPTS: where a marker's frame is once hls.js has parsed
// its fragment (sn 11, start 22), when the remuxer moved the fragment's
// first frames to meet the fragment before.
const casesMarkerTimeByPTS = [
  {
    name: 'no hole: at its PTS, the fragment start plus the offset',
    m: { sequence: 11, offset: 0.7, pts: pts(22.7) },
    want: 22.7,
  },
  {
    // The first frame's PTS is 22.05, moved back to 22 to fill a 50 ms
    // hole: every later frame is still at its PTS, 50 ms after the
    // fragment's start plus its offset.
    name: 'after a hole: at its PTS, not the start plus the offset',
    m: { sequence: 11, offset: 0.7, pts: pts(22.75) },
    want: 22.75,
  },
  {
    name: 'after a hole, the first frame: where it was moved, the fragment start',
    m: { sequence: 11, offset: 0, pts: pts(22.05) },
    want: 22,
  },
  {
    // The first frame's PTS is 21.99, moved forward to 22 past a 10 ms
    // overlap, and so is a frame 5 ms after it; a frame 0.7 s on is not.
    name: 'after an overlap, the first frame: where it was moved',
    m: { sequence: 11, offset: 0, pts: pts(21.99) },
    want: 22,
  },
  {
    name: 'after an overlap, a frame moved with the first one',
    m: { sequence: 11, offset: 0.005, pts: pts(21.995) },
    want: 22.005,
  },
  {
    name: 'after an overlap, a frame past the new start: at its PTS',
    m: { sequence: 11, offset: 0.7, pts: pts(22.69) },
    want: 22.69,
  },
  {
    name: 'fragment not parsed: at its PTS, whatever its estimated start',
    m: { sequence: 12, offset: 0.5, pts: pts(24.53) },
    want: 24.53,
  },
];

test('markerTime lays a frame where hls.js does, by its PTS', async (t) => {
  for (const c of casesMarkerTimeByPTS) {
    await t.test(c.name, () => {
      const got = markerTime(parsed, c.m, origins);
      assert.ok(Math.abs(got - c.want) < 1e-9, `markerTime ${got}, want ${c.want}`);
    });
  }
  await t.test('before its discontinuity is parsed: the start plus the offset', () => {
    const m = { sequence: 11, offset: 0.7, pts: pts(22.75) };
    assert.ok(Math.abs(markerTime(parsed, m, []) - 22.7) < 1e-9);
    assert.ok(Math.abs(markerTime(parsed, m, undefined) - 22.7) < 1e-9);
  });
  await t.test('across the 33-bit wrap', () => {
    // The TS timestamps wrapped 5 s into cc 0: its initPTS is 5 s short of
    // 2^33, and the frame's pts counts from zero again.
    const wrapped = [{ baseTime: 2 ** 33 - 5 * 90000, timescale: 90000 }];
    const m = { sequence: 11, offset: 0.7, pts: Math.round((22.75 - 5) * 90000) };
    const got = markerTime(parsed, m, wrapped);
    assert.ok(Math.abs(got - 22.75) < 1e-6, `markerTime ${got}, want 22.75`);
  });
});

const iso = (ms) => new Date(ms).toISOString();

// casesReach: whether a marker can be sought to, with sliding (sn 10..12,
// dates T0 .. T0+6s) as the playlist.
const casesReach = [
  { name: 'listed', m: { sequence: 12 }, ended: false, want: 'ok' },
  { name: 'after the newest fragment', m: { sequence: 13 }, ended: false, want: 'pending' },
  { name: 'before the window', m: { sequence: 9 }, ended: false, want: 'gone' },
  { name: 'no position, dated after the edge', m: { sequence: null, program_date_time: iso(T0 + 6500) }, ended: false, want: 'pending' },
  { name: 'no position, dated after the edge of an ended stream', m: { sequence: null, program_date_time: iso(T0 + 6500) }, ended: true, want: 'gone' },
  // No position from the server (an edge, or not placed yet) but a
  // listed fragment's dates span it: placed by its date.
  { name: 'no position, dated inside the window', m: { sequence: null, program_date_time: iso(T0 + 3000) }, ended: false, want: 'ok' },
  { name: 'no position, dated inside the window of an ended stream', m: { sequence: null, program_date_time: iso(T0 + 3000) }, ended: true, want: 'ok' },
  { name: 'no position, dated before the window', m: { sequence: null, program_date_time: iso(T0 - 1) }, ended: false, want: 'gone' },
  { name: 'no position, no date', m: { sequence: null, program_date_time: '' }, ended: false, want: 'pending' },
];

// casesByDate: markers the server gave no position, placed by their date
// (see markerFragment) in restarted, whose sn 2 ends at T0+2.507 s and sn
// 3 starts at T0+5.337 s.
const casesByDate = [
  { name: 'half a second into sn 1', at: T0 + 1508, want: 1.508 },
  { name: 'the first frame of sn 3, its date rounded up a millisecond', at: T0 + 5338, want: 2.507 },
  { name: '2 ms into sn 3: a frame after its first', at: T0 + 5339, want: 2.509 },
  { name: 'in the restart\'s gap', at: T0 + 4000, want: null },
  { name: 'after the newest fragment', at: T0 + 7339, want: null },
  { name: 'before the first fragment', at: T0 - 1, want: null },
];

test('markerTime places a marker without a position by its date', async (t) => {
  for (const c of casesByDate) {
    await t.test(c.name, () => {
      const got = markerTime(restarted, { sequence: null, offset: null, program_date_time: iso(c.at) });
      if (c.want == null) {
        assert.equal(got, null);
        return;
      }
      assert.ok(Math.abs(got - c.want) < 1e-9, `markerTime ${got}, want ${c.want}`);
    });
  }
  await t.test('a position the server gave wins over the date', () => {
    const m = { sequence: 1, offset: 0.25, program_date_time: iso(T0 + 6339) };
    assert.ok(Math.abs(markerTime(restarted, m) - 1.258) < 1e-9);
  });
});

test('markerReach', async (t) => {
  for (const c of casesReach) {
    await t.test(c.name, () => assert.equal(markerReach(sliding, c.m, c.ended), c.want));
  }
  await t.test('before any playlist', () => assert.equal(markerReach(null, { sequence: 1 }, false), 'pending'));
});

test('timeOfDay follows the dates across a restart', () => {
  // Half a second into sn 1, and half a second into sn 3 (after the restart).
  assert.equal(timeOfDay(restarted, 1.508), T0 + 1508);
  assert.equal(timeOfDay(restarted, 3.007), T0 + 5837);
  // Before the first fragment: extrapolated from it.
  assert.equal(timeOfDay(restarted, -1), T0 - 1000);
  assert.equal(timeOfDay(restarted, NaN), null);
  assert.equal(timeOfDay({ fragments: [] }, 1), null);
  assert.equal(timeOfDay({ fragments: [{ start: 0, duration: 1, programDateTime: null }] }, 0.5), null);
});

test('windowOf', () => {
  assert.deepEqual(windowOf(sliding, 23), { start: 20, end: 26, target: 2, live: true, liveSync: 23 });
  // Without hls.js's live point: three target durations before the edge, kept in the window.
  assert.deepEqual(windowOf(sliding, NaN), { start: 20, end: 26, target: 2, live: true, liveSync: 20 });
  assert.deepEqual(windowOf(sliding, 99), { start: 20, end: 26, target: 2, live: true, liveSync: 26 });
  assert.equal(windowOf({ fragments: [] }, 1), null);
  assert.equal(windowOf(null, 1), null);
});

test('currentMarker is the latest marker that started and has not ended', () => {
  const markers = [
    { id: 1, at: 10, duration: 5 },
    { id: 2, at: 12, duration: 1 },
    { id: 3, at: 20, duration: null }, // open
    { id: 4, at: null, duration: 1 }, // not in the window
  ];
  const at = (m) => m.at;
  assert.equal(currentMarker(markers, 9, at), null);
  assert.equal(currentMarker(markers, 10, at), 1);
  assert.equal(currentMarker(markers, 12.5, at), 2);
  assert.equal(currentMarker(markers, 13.5, at), 1, 'marker 2 ended, marker 1 still runs');
  assert.equal(currentMarker(markers, 16, at), null);
  assert.equal(currentMarker(markers, 19.995, at), 3, 'a hundredth of a second early counts');
  assert.equal(currentMarker(markers, 500, at), 3);
});
