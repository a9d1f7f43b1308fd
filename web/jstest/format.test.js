// Run with TZ=UTC and LC_ALL=C.UTF-8 (npm test sets both): times of day are UTC, en-US.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { formatBehind, formatClock, formatDuration } from '../static/js/core.js';

const casesClock = [
  { name: 'ISO string', date: '2026-11-30T14:58:05.717Z', withMs: true, want: { hms: '14:58:05', ms: '.717' } },
  { name: 'ms since the epoch', date: Date.UTC(2026, 10, 30, 4, 5, 6, 7), withMs: true, want: { hms: '04:05:06', ms: '.007' } },
  { name: 'without ms', date: '2026-11-30T23:59:59.999Z', withMs: false, want: { hms: '23:59:59', ms: '' } },
  { name: 'nanoseconds are cut, not rounded', date: '2026-11-30T21:29:08.724954731Z', withMs: true, want: { hms: '21:29:08', ms: '.724' } },
  { name: 'before 1970', date: -1, withMs: true, want: { hms: '23:59:59', ms: '.999' } },
  { name: 'not a date', date: 'soon', withMs: true, want: { hms: '--:--:--', ms: '' } },
  { name: 'null', date: null, withMs: true, want: { hms: '--:--:--', ms: '' } },
  { name: 'NaN', date: NaN, withMs: false, want: { hms: '--:--:--', ms: '' } },
];

test('formatClock', async (t) => {
  for (const c of casesClock) {
    await t.test(c.name, () => assert.deepEqual(formatClock(c.date, c.withMs), c.want));
  }
});

const casesDuration = [
  { s: 0, want: '0.0 s' },
  { s: 0.5326, want: '0.5 s' },
  { s: 59.94, want: '59.9 s' },
  { s: 60, want: '1 m 00 s' },
  { s: 65.9, want: '1 m 05 s' },
  { s: 3725, want: '62 m 05 s' },
  { s: NaN, want: '' },
  { s: null, want: '' },
];

test('formatDuration', async (t) => {
  for (const c of casesDuration) {
    await t.test(String(c.s), () => assert.equal(formatDuration(c.s), c.want));
  }
});

const casesBehind = [
  { s: 0, want: '\u22120\u202fs' },
  { s: 12.4, want: '\u221212\u202fs' },
  { s: 59.6, want: '\u22121:00' },
  { s: 119, want: '\u22121:59' },
  { s: 3605, want: '\u221260:05' },
  { s: -3, want: '\u22120\u202fs' },
];

test('formatBehind', async (t) => {
  for (const c of casesBehind) {
    await t.test(String(c.s), () => assert.equal(formatBehind(c.s), c.want));
  }
});
