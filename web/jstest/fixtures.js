// Playlists as hls.js parses them, written out by hand for the tests.

// T0 is 2026-11-30T21:29:08.724Z, the first fragment's program date time.
export const T0 = Date.UTC(2026, 10, 30, 21, 29, 8, 724);

/**
 * restarted is a live playlist of five fragments with a restart between
 * sn 2 and sn 3: sn 3 starts a new discontinuity (cc 1), and its date is
 * 2.83 s after sn 2 ended. On the player's clock the fragments follow on.
 */
export const restarted = {
  live: true,
  startSN: 0,
  endSN: 4,
  targetduration: 1,
  edge: 4.509,
  fragments: [
    { sn: 0, cc: 0, start: 0, duration: 1.008, programDateTime: T0 },
    { sn: 1, cc: 0, start: 1.008, duration: 1.0, programDateTime: T0 + 1008 },
    { sn: 2, cc: 0, start: 2.008, duration: 0.499, programDateTime: T0 + 2008 },
    { sn: 3, cc: 1, start: 2.507, duration: 1.002, programDateTime: T0 + 5337 },
    { sn: 4, cc: 1, start: 3.509, duration: 1.0, programDateTime: T0 + 6339 },
  ],
};

/** sliding is a live playlist that has slid: its first fragment is sn 10. */
export const sliding = {
  live: true,
  startSN: 10,
  endSN: 12,
  targetduration: 2,
  edge: 26,
  fragments: [
    { sn: 10, cc: 0, start: 20, duration: 2, programDateTime: T0 },
    { sn: 11, cc: 0, start: 22, duration: 2, programDateTime: T0 + 2000 },
    { sn: 12, cc: 0, start: 24, duration: 2, programDateTime: T0 + 4000 },
  ],
};
