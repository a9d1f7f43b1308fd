// Keeping Low-Latency HLS playback at its target distance from the live
// edge. hls.js starts PART-HOLD-BACK behind the edge but falls behind while
// it loads the first parts and whenever the video waits, and it never
// makes that up: its own catch-up (maxLiveSyncPlaybackRate) acts only with
// more than a second buffered ahead, and at a hold-back of three 200 ms
// parts there is about half a second. So the player speeds playback up
// itself, as hls.js would, while enough is buffered that it cannot run dry.

// The fastest catch-up: half a second made up in a second of playback.
export const MAX_CATCH_UP_RATE = 1.5;
// Latency this close to the target is on target (hls.js's own margin).
const ON_TARGET = 0.05;
// Parts buffered ahead of the playhead below which playback is not sped
// up: the next part may be late.
const MIN_AHEAD_PARTS = 2;

/**
 * catchUpRate returns the playback rate that brings a live Low-Latency
 * HLS playhead back to its target: latency and target are hls.js's (live
 * edge minus playhead; PART-HOLD-BACK plus what stalls added), ahead what is
 * buffered after the playhead, partTarget and targetDuration the
 * playlist's, all in seconds. Normal speed on target, far behind (more
 * than a target duration past the target: someone is watching the past,
 * as hls.js reckons) or with less than two parts buffered; otherwise one
 * plus the excess, in steps of 0.05, at most MAX_CATCH_UP_RATE.
 */
export function catchUpRate({ latency, target, ahead, partTarget, targetDuration }) {
  const excess = latency - target;
  if (!(excess > ON_TARGET) || excess > target + targetDuration) return 1;
  if (!(ahead >= MIN_AHEAD_PARTS * partTarget)) return 1;
  return Math.min(MAX_CATCH_UP_RATE, Math.round((1 + excess) * 20) / 20);
}

/** bufferedAhead returns how much of ranges (a TimeRanges) follows t without a hole, in seconds. */
export function bufferedAhead(ranges, t) {
  for (let i = 0; i < ranges.length; i++) {
    if (ranges.start(i) <= t && t <= ranges.end(i)) return ranges.end(i) - t;
  }
  return 0;
}
