import assert from 'node:assert/strict';
import { test } from 'node:test';

import { CELLS, TS_WRAP, formatLatency, frameTime, percentile, readStamp } from '../static/js/stamp.js';

// casesStrip are the strips pipeline/stamp's Go test draws (its
// casesStrip): cells as the Go drawer paints them, each CRC worked out by
// polynomial division, so the two readers agree on one layout.
const casesStrip = [
  { name: 'zero', pts: 0, cells: '101000000000000000000000000000000000000000000011' },
  { name: '0x123456789', pts: 0x123456789, cells: '101010010001101000101011001111000100111111000011' },
  { name: 'last before the wrap', pts: TS_WRAP - 1, cells: '101011111111111111111111111111111111110111100011' },
];

/**
 * picture paints cells (a string of 0 and 1) as a strip across a grey RGBA
 * picture width × height, by the layout of package pipeline/stamp; noise
 * (0-1) scatters each pixel's level by up to ±noise × 60.
 */
function picture(cells, width, height, noise = 0) {
  const data = new Uint8ClampedArray(4 * width * height).fill(128);
  const h = Math.floor(width / CELLS);
  let seed = 7;
  const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31) * 2 - 1;
  for (let i = 0; i < CELLS; i++) {
    const v = cells[i] === '1' ? 255 : 0;
    for (let y = 0; y < h; y++) {
      for (let x = Math.floor((i * width) / CELLS); x < Math.floor(((i + 1) * width) / CELLS); x++) {
        const o = 4 * (y * width + x);
        const n = v + rnd() * noise * 60;
        data[o] = data[o + 1] = data[o + 2] = n;
        data[o + 3] = 255;
      }
    }
  }
  return { data, width, height };
}

test('readStamp reads the strips the Go drawer paints, at every width', () => {
  for (const c of casesStrip) {
    for (const width of [384, 640, 853, 1280, 1920]) {
      assert.equal(readStamp(picture(c.cells, width, 100)), c.pts, `${c.name} at ${width} px`);
      assert.equal(readStamp(picture(c.cells, width, 100, 1)), c.pts, `${c.name} at ${width} px, noisy`);
    }
  }
});

test('readStamp refuses a damaged strip rather than misread it', () => {
  const good = casesStrip[1].cells;
  const flip = (s, ...at) => [...s].map((b, i) => (at.includes(i) ? String(1 - b) : b)).join('');
  for (const [name, cells] of [
    ['one PTS bit', flip(good, 20)],
    ['one check bit', flip(good, 40)],
    ['two PTS bits', flip(good, 5, 30)],
    ['a PTS bit and a check bit', flip(good, 36, 37)],
    ['start guard', flip(good, 1)],
    ['end guard', flip(good, 47)],
  ]) {
    assert.equal(readStamp(picture(cells, 640, 360)), null, name);
  }
  const grey = picture(good, 640, 360);
  for (let y = 0; y < 13; y++) for (let x = 133; x < 146; x++) grey.data.fill(128, 4 * (y * 640 + x), 4 * (y * 640 + x) + 3);
  assert.equal(readStamp(grey), null, 'a grey cell');
  assert.equal(readStamp(picture('0'.repeat(CELLS), 640, 360)), null, 'all black');
  assert.equal(readStamp(picture('1'.repeat(CELLS), 640, 360)), null, 'all white');
  // The checkerboard without a stamp: squares of 40 px at 640x360.
  const board = [...Array(CELLS)].map((_, i) => String(Math.floor((i * 640) / CELLS / 40) % 2)).join('');
  assert.equal(readStamp(picture(board, 640, 360)), null, 'an unstamped checkerboard');
  assert.equal(readStamp({ data: new Uint8ClampedArray(4 * 20 * 20), width: 20, height: 20 }), null, 'too small');
});

test('frameTime is the epoch plus the PTS, on the lap nearest now', () => {
  const epoch = Date.UTC(2026, 10, 24, 10, 0, 0);
  // 90000 ticks after the epoch: a second.
  assert.equal(frameTime(90000, epoch, epoch + 3000), epoch + 1000);
  // A day and a half in, past the wrap (26.5 h): the TS PTS is small again.
  const dayAndHalf = 36 * 3600 * 1000;
  const ts = ((dayAndHalf - 2000) * 90) % TS_WRAP;
  assert.equal(frameTime(ts, epoch, epoch + dayAndHalf), epoch + dayAndHalf - 2000);
  // Just before a wrap, a PTS just after it is read as not yet wrapped.
  assert.equal(frameTime(TS_WRAP - 90, epoch, epoch + (TS_WRAP / 90) + 500), epoch + TS_WRAP / 90 - 1);
});

test('percentile is the nearest rank', () => {
  const v = [5, 1, 4, 2, 3, 10, 9, 8, 7, 6];
  assert.equal(percentile(v, 50), 5);
  assert.equal(percentile(v, 95), 10);
  assert.equal(percentile(v, 0), 1);
  assert.equal(percentile([], 50), null);
});

test('formatLatency keeps a tenth of a second below ten', () => {
  assert.equal(formatLatency(3.44), '3.4\u202fs');
  assert.equal(formatLatency(12.6), '13\u202fs');
});
