// Reading the PTS a `--stamp` stream draws into each frame: a row of 48
// black and white cells across the top of the picture (start guard 1010,
// the 33-bit MPEG-TS PTS, its CRC-8, end guard 011), as package
// pipeline/stamp lays it out and documents it. Pure functions: the page
// hands them the canvas's pixels.

// Cells across the strip, and its fields.
export const CELLS = 48;
const START = [1, 0, 1, 0];
const END = [0, 1, 1];
const PTS_BITS = 33;
const CRC_BITS = 8;
// A cell's mean luma must be at most DARK to read 0, at least LIGHT to read 1.
const DARK = 85;
const LIGHT = 170;

/** TS_WRAP is where MPEG-TS timestamps wrap: 2^33 ticks of 90 kHz. */
export const TS_WRAP = 2 ** 33;
const HZ = 90000;

/**
 * stripHeight returns the strip's height in rows of a picture width pixels
 * wide: the rows a reader needs.
 */
export function stripHeight(width) {
  return Math.floor(width / CELLS);
}

/**
 * readStamp returns the PTS (modulo 2^33) of the strip at the top of an
 * ImageData-like {data, width, height} (RGBA), or null when there is no
 * readable strip: a cell neither dark nor light, a guard or the check that
 * does not hold. The picture may be scaled, its aspect ratio kept.
 */
export function readStamp(img) {
  const w = img.width;
  const h = stripHeight(w);
  if (w < CELLS || img.height < h) return null;
  const bits = [];
  for (let i = 0; i < CELLS; i++) {
    const x0 = Math.floor((i * w) / CELLS);
    const x1 = Math.floor(((i + 1) * w) / CELLS);
    const m = meanLuma(img, x0 + Math.floor((x1 - x0) / 4), Math.floor(h / 4), x1 - Math.floor((x1 - x0) / 4), h - Math.floor(h / 4));
    if (m <= DARK) bits.push(0);
    else if (m >= LIGHT) bits.push(1);
    else return null;
  }
  if (!same(bits.slice(0, START.length), START) || !same(bits.slice(CELLS - END.length), END)) return null;
  const data = bits.slice(START.length, START.length + PTS_BITS);
  const check = bits.slice(START.length + PTS_BITS, START.length + PTS_BITS + CRC_BITS);
  if (crc8(data) !== check.reduce((c, b) => (c << 1) | b, 0)) return null;
  // 33 bits overflow JavaScript's 32-bit shifts: count in doubles.
  return data.reduce((v, b) => v * 2 + b, 0);
}

/** meanLuma returns the mean luma (BT.601, 0-255) of the pixels in [x0, x1) × [y0, y1). */
function meanLuma(img, x0, y0, x1, y1) {
  x1 = Math.max(x1, x0 + 1);
  y1 = Math.max(y1, y0 + 1);
  let sum = 0;
  for (let y = y0; y < y1; y++) {
    for (let x = x0; x < x1; x++) {
      const o = 4 * (y * img.width + x);
      sum += 0.299 * img.data[o] + 0.587 * img.data[o + 1] + 0.114 * img.data[o + 2];
    }
  }
  return sum / ((x1 - x0) * (y1 - y0));
}

/** crc8 is the strip's check: CRC-8, polynomial 0x07, initial value 0, of bits (0 or 1). */
function crc8(bits) {
  let c = 0;
  for (const b of bits) {
    const top = (c >> 7) & 1;
    c = (c << 1) & 0xff;
    if (top !== b) c ^= 0x07;
  }
  return c;
}

function same(a, b) {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

/**
 * frameTime returns the program date time (ms since the epoch) of the
 * frame whose TS PTS is ts, on a stream whose PTS 0 was at epochMs: the
 * lap of 2^33 ticks that puts it nearest nowMs.
 */
export function frameTime(ts, epochMs, nowMs) {
  const near = ((nowMs - epochMs) * HZ) / 1000;
  const pts = ts + Math.round((near - ts) / TS_WRAP) * TS_WRAP;
  return epochMs + (pts * 1000) / HZ;
}

/**
 * percentile returns the p-th percentile (0-100) of values, nearest rank,
 * or null for none.
 */
export function percentile(values, p) {
  if (!values.length) return null;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

/** formatLatency formats a measured latency in seconds: "3.4 s", "12 s". */
export function formatLatency(s) {
  return s < 10 ? `${s.toFixed(1)}\u202fs` : `${Math.round(s)}\u202fs`;
}
