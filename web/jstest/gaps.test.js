import assert from 'node:assert/strict';
import { test } from 'node:test';

import { findGaps, gapText, listedDurations } from '../static/js/core.js';
import { T0, restarted, sliding } from './fixtures.js';

test('a restart is one gap, at the first fragment after it', () => {
  assert.deepEqual(findGaps(restarted), [{ sn: 3, at: 2.507, missingMs: 2830, discontinuity: true }]);
});

test('a continuous playlist has no gap', () => {
  assert.deepEqual(findGaps(sliding), []);
  assert.deepEqual(findGaps({ fragments: [] }), []);
  assert.deepEqual(findGaps(null), []);
});

// casesGaps: two fragments, the first 2 s long from T0; what lies between them.
const casesGaps = [
  { name: 'rounded dates follow on', b: { cc: 0, programDateTime: T0 + 2001 }, want: [] },
  { name: '50 ms off is rounding', b: { cc: 0, programDateTime: T0 + 2050 }, want: [] },
  { name: 'a few frames skipped are no gap', b: { cc: 0, programDateTime: T0 + 2400 }, want: [] },
  { name: 'more than half a second is a gap', b: { cc: 0, programDateTime: T0 + 2600 },
    want: [{ sn: 1, at: 2, missingMs: 600, discontinuity: false }] },
  { name: 'a lost segment: the date jumps, no discontinuity', b: { cc: 0, programDateTime: T0 + 4000 },
    want: [{ sn: 1, at: 2, missingMs: 2000, discontinuity: false }] },
  { name: 'a discontinuity with dates that follow on', b: { cc: 1, programDateTime: T0 + 2000 },
    want: [{ sn: 1, at: 2, missingMs: 0, discontinuity: true }] },
  { name: 'a quick restart: a discontinuity says what little it left out', b: { cc: 1, programDateTime: T0 + 2234 },
    want: [{ sn: 1, at: 2, missingMs: 234, discontinuity: true }] },
  { name: 'a discontinuity without dates', b: { cc: 1, programDateTime: null },
    want: [{ sn: 1, at: 2, missingMs: 0, discontinuity: true }] },
  { name: 'a date that goes back is no missing time', b: { cc: 1, programDateTime: T0 - 60000 },
    want: [{ sn: 1, at: 2, missingMs: 0, discontinuity: true }] },
];

test('findGaps', async (t) => {
  for (const c of casesGaps) {
    await t.test(c.name, () => {
      const details = {
        fragments: [
          { sn: 0, cc: 0, start: 0, duration: 2, programDateTime: T0 },
          { sn: 1, start: 2, duration: 2, ...c.b },
        ],
      };
      assert.deepEqual(findGaps(details), c.want);
    });
  }
});

test('gapText', () => {
  assert.equal(gapText({ discontinuity: true, missingMs: 2830 }), 'Stream restarted here: 2.8 s missing');
  assert.equal(gapText({ discontinuity: false, missingMs: 65000 }), 'Gap in the stream: 1 m 05 s missing');
  assert.equal(gapText({ discontinuity: true, missingMs: 0 }), 'Stream restarted here');
});

test('the dates are measured with the playlist durations, not the parsed ones', () => {
  // sn 2 is listed as 0.499 s long (EXTINF) and the restart leaves 2.83 s
  // out after it; hls.js moved its first frame 40 ms forward past an
  // overlap, and measures it 0.459 s long.
  const parsed = {
    ...restarted,
    fragments: restarted.fragments.map((f) => (f.sn === 2 ? { ...f, start: 2.048, duration: 0.459 } : f)),
  };
  assert.equal(findGaps(parsed)[0].missingMs, 2870, 'with the parsed duration');
  const listed = new Map([[2, 0.499]]);
  assert.deepEqual(findGaps(parsed, undefined, listed), [{ sn: 3, at: 2.507, missingMs: 2830, discontinuity: true }]);
});

test('listedDurations reads EXTINF from the playlist offsets', () => {
  const details = {
    fragments: [
      { sn: 7, playlistOffset: 0, duration: 0.95 }, // measured over
      { sn: 8, playlistOffset: 1.003, duration: 0.998 },
      { sn: 9, playlistOffset: 2.001, duration: 1 },
    ],
  };
  const got = listedDurations(details);
  assert.deepEqual([...got.keys()], [7, 8], 'the newest fragment has no neighbour to measure with');
  assert.ok(Math.abs(got.get(7) - 1.003) < 1e-9 && Math.abs(got.get(8) - 0.998) < 1e-9, `${[...got]}`);
  assert.equal(listedDurations(null).size, 0);
});
