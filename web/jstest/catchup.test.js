import assert from 'node:assert/strict';
import { test } from 'node:test';

import { MAX_CATCH_UP_RATE, bufferedAhead, catchUpRate } from '../static/js/catchup.js';

// A live playlist of 1 s segments with 200 ms parts, hls.js aiming at
// PART-HOLD-BACK (0.6 s); each case changes what it names.
const base = { latency: 0.6, target: 0.6, ahead: 0.5, partTarget: 0.2, targetDuration: 1 };

// casesCatchUp are the playheads and the rates they get, worked out by hand.
const casesCatchUp = [
  { name: 'on target', at: {}, rate: 1 },
  { name: 'within the margin', at: { latency: 0.64 }, rate: 1 },
  { name: 'a little behind', at: { latency: 0.72, ahead: 0.6 }, rate: 1.1 },
  { name: 'where hls.js starts, 0.8 s late', at: { latency: 1.4, ahead: 1.2 }, rate: MAX_CATCH_UP_RATE },
  { name: 'behind with the stall allowance', at: { latency: 1.9, target: 1.6, ahead: 1.2 }, rate: 1.3 },
  { name: 'behind, too little buffered', at: { latency: 1, ahead: 0.39 }, rate: 1 },
  { name: 'behind, nothing buffered', at: { latency: 1, ahead: 0 }, rate: 1 },
  { name: 'watching the past (a marker sought)', at: { latency: 2.3, ahead: 2 }, rate: 1 },
  { name: 'ahead of the target', at: { latency: 0.4 }, rate: 1 },
  { name: 'no latency known yet', at: { latency: NaN }, rate: 1 },
];

for (const c of casesCatchUp) {
  test(`catchUpRate: ${c.name}`, () => {
    assert.equal(catchUpRate({ ...base, ...c.at }), c.rate);
  });
}

/** ranges makes a TimeRanges of [start, end] pairs. */
function ranges(...pairs) {
  return { length: pairs.length, start: (i) => pairs[i][0], end: (i) => pairs[i][1] };
}

test('bufferedAhead: the range holding the playhead, none in a hole', () => {
  const r = ranges([0, 2], [3, 5.5]);
  assert.equal(bufferedAhead(r, 1.5), 0.5);
  assert.equal(bufferedAhead(r, 4), 1.5);
  assert.equal(bufferedAhead(r, 2.5), 0);
  assert.equal(bufferedAhead(ranges(), 1), 0);
});
