import assert from 'node:assert/strict';
import { test } from 'node:test';

import { frac, labelSide, markerSpan, percent, timeAtFrac } from '../static/js/core.js';

const w = { start: 100, end: 220, target: 2, live: true, liveSync: 214 };

// casesFrac: times and their place on a 120 s window that starts at 100 s.
const casesFrac = [
  { t: 100, f: 0 },
  { t: 130, f: 0.25 },
  { t: 220, f: 1 },
  { t: 40, f: 0, clamped: true },
  { t: 400, f: 1, clamped: true },
];

test('frac and timeAtFrac', async (t) => {
  for (const c of casesFrac) {
    await t.test(`t=${c.t}`, () => {
      assert.equal(frac(w, c.t), c.f);
      if (!c.clamped) assert.equal(timeAtFrac(w, c.f), c.t);
    });
  }
  await t.test('timeAtFrac clamps', () => {
    assert.equal(timeAtFrac(w, -0.5), 100);
    assert.equal(timeAtFrac(w, 1.5), 220);
  });
  await t.test('an empty window', () => {
    assert.equal(frac({ start: 5, end: 5 }, 5), 0);
    assert.equal(frac({ start: 5, end: 4 }, 5), 0);
  });
});

test('percent', () => {
  assert.equal(percent(0.5), '50.000%');
  assert.equal(percent(1 / 3), '33.333%');
  assert.equal(percent(0), '0.000%');
});

test('labelSide', () => {
  assert.equal(labelSide(0), 'at-left');
  assert.equal(labelSide(0.11), 'at-left');
  assert.equal(labelSide(0.5), '');
  assert.equal(labelSide(0.89), 'at-right');
  assert.equal(labelSide(1), 'at-right');
});

// casesSpan: the part of the window a marker covers (at 130 s: 0.25).
const casesSpan = [
  { name: 'closed, 12 s', m: { duration: 12 }, newest: false, want: { from: 0.25, to: 0.35 } },
  { name: 'open and newest: to the live edge', m: { duration: null }, newest: true, want: { from: 0.25, to: 1 } },
  { name: 'open, not the newest: no range', m: { duration: null }, newest: false, want: { from: 0.25, to: 0.25 } },
  { name: 'runs past the edge', m: { duration: 600 }, newest: false, want: { from: 0.25, to: 1 } },
];

test('markerSpan', async (t) => {
  for (const c of casesSpan) {
    await t.test(c.name, () => {
      const got = markerSpan(w, 130, c.m, c.newest);
      assert.ok(Math.abs(got.from - c.want.from) < 1e-12 && Math.abs(got.to - c.want.to) < 1e-12,
        `got ${JSON.stringify(got)}, want ${JSON.stringify(c.want)}`);
    });
  }
  await t.test('an open newest marker of an ended stream has no range', () => {
    assert.deepEqual(markerSpan({ ...w, live: false }, 130, { duration: null }, true), { from: 0.25, to: 0.25 });
  });
});
