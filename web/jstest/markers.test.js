import assert from 'node:assert/strict';
import { test } from 'node:test';

import { mergeMarker, pruneMarkers } from '../static/js/core.js';

const base = { id: 7, pts: 900, program_date_time: '2026-11-30T21:29:10.633Z', label: 'mint square' };

test('mergeMarker keeps what an older answer does not know', () => {
  const known = { ...base, duration: 0.5, sequence: 3, offset: 0.2 };
  const older = { ...base, duration: null, sequence: null, offset: null };
  assert.deepEqual(mergeMarker(known, older), known);
  // A newer answer's fields win.
  assert.deepEqual(mergeMarker(known, { ...base, label: 'renamed', duration: 1.5, sequence: 4, offset: 0 }),
    { ...base, label: 'renamed', duration: 1.5, sequence: 4, offset: 0 });
});

test('mergeMarker takes a reused id whole', () => {
  const known = { ...base, duration: 0.5, sequence: 3, offset: 0.2 };
  const other = { ...base, pts: 12345, duration: null, sequence: null, offset: null };
  assert.deepEqual(mergeMarker(known, other), other);
  assert.notEqual(mergeMarker(undefined, other), other, 'a copy, not the incoming object');
});

const ids = (ms) => ms.map((m) => m.id);
const range = (from, to) => Array.from({ length: to - from + 1 }, (_, i) => ({ id: from + i }));

// casesPrune: 20 markers, ids 1..20; which ones stay.
const casesPrune = [
  { name: 'fewer than latest: all stay', latest: 50, max: 100, drawable: () => false, want: range(1, 20).map((m) => m.id) },
  { name: 'the latest 5 and nothing else', latest: 5, max: 100, drawable: () => false, want: [16, 17, 18, 19, 20] },
  { name: 'older ones still in the window stay', latest: 5, max: 100, drawable: (m) => m.id >= 9, want: [9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20] },
  { name: 'a drawable marker among gone ones', latest: 3, max: 100, drawable: (m) => m.id === 4, want: [4, 18, 19, 20] },
  { name: 'never more than max: the newest win', latest: 5, max: 7, drawable: () => true, want: [14, 15, 16, 17, 18, 19, 20] },
  { name: 'max below latest', latest: 10, max: 4, drawable: () => true, want: [17, 18, 19, 20] },
];

test('pruneMarkers', async (t) => {
  for (const c of casesPrune) {
    await t.test(c.name, () => {
      assert.deepEqual(ids(pruneMarkers(range(1, 20), c)), c.want);
    });
  }
  await t.test('drawable is asked only about the markers older than the latest', () => {
    const asked = [];
    pruneMarkers(range(1, 6), { latest: 4, max: 10, drawable: (m) => asked.push(m.id) && false });
    assert.deepEqual(asked, [1, 2]);
  });
});

test('MarkerStore.remove forgets a deleted marker and tells listeners once', async () => {
  const { MarkerStore } = await import('../static/js/markers.js');
  const store = new MarkerStore();
  store.upsert([{ id: 1 }, { id: 2 }, { id: 3 }]);
  let told = 0;
  store.addEventListener('change', () => told++);
  store.remove(2);
  assert.deepEqual(ids(store.all()), [1, 3]);
  assert.equal(store.get(2), undefined);
  assert.equal(told, 1);
  store.remove(2); // gone already: nothing to tell
  store.remove(99);
  assert.equal(told, 1);
});
