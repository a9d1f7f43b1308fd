// Glass-to-glass latency of a `--stamp` stream, measured in the page: each
// frame the video presents, read the PTS drawn into it (see stamp.js) and
// compare that frame's program date time (the stream's epoch plus its
// PTS) with the clock now. The server's clock and the viewer's must agree
// (on one machine they do).

import { frameTime, readStamp, stripHeight } from './stamp.js';

// The measurements kept, newest last: a minute at 30 fps.
const KEEP = 1800;
// Without a stamp in the last frame read, the meter looks again this
// often instead of at every frame.
const RETRY_MS = 1000;
// A measurement older than this is no longer shown.
const FRESH_MS = 2000;

/**
 * LatencyMeter reads stamps from a video's frames as they are presented.
 * samples lists {pts, at, latency}: the TS PTS read, when (ms since the
 * epoch), and how far behind live that frame was shown, in seconds.
 */
export class LatencyMeter {
  constructor(video) {
    this.video = video;
    this.epochMs = NaN; // the stream's epoch, from the API
    this.samples = [];
    this.misses = 0; // frames read without a stamp
    this.nextTry = 0;
    this.canvas = document.createElement('canvas');
    this.ctx = this.canvas.getContext('2d', { willReadFrequently: true });
    this.supported = typeof video.requestVideoFrameCallback === 'function';
    if (this.supported) video.requestVideoFrameCallback(() => this.onFrame());
  }

  /** follow measures a stream whose PTS 0 was at epoch (an RFC 3339 string), or none (null). */
  follow(epoch) {
    this.epochMs = epoch ? Date.parse(epoch) : NaN;
    this.samples = [];
    this.misses = 0;
    this.nextTry = 0;
  }

  onFrame() {
    const now = Date.now();
    this.video.requestVideoFrameCallback(() => this.onFrame());
    if (!Number.isFinite(this.epochMs) || now < this.nextTry) return;
    const w = this.video.videoWidth;
    const h = stripHeight(w);
    if (!h) return;
    if (this.canvas.width !== w || this.canvas.height !== h) {
      this.canvas.width = w;
      this.canvas.height = h;
    }
    this.ctx.drawImage(this.video, 0, 0, w, h, 0, 0, w, h);
    const pts = readStamp(this.ctx.getImageData(0, 0, w, h));
    if (pts == null) {
      this.misses++;
      this.nextTry = now + RETRY_MS;
      return;
    }
    this.samples.push({ pts, at: now, latency: (now - frameTime(pts, this.epochMs, now)) / 1000 });
    if (this.samples.length > KEEP) this.samples.splice(0, this.samples.length - KEEP);
  }

  /** current returns the latest latency in seconds, or null when none is fresh. */
  current() {
    const s = this.samples[this.samples.length - 1];
    return s && Date.now() - s.at < FRESH_MS ? s.latency : null;
  }
}
