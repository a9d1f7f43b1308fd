// Small DOM and formatting helpers.

/** el makes an element with properties and children (nodes or strings). */
export function el(tag, props = {}, children = []) {
  const node = document.createElement(tag);
  Object.assign(node, props);
  for (const c of [].concat(children)) {
    if (c != null) node.append(c);
  }
  return node;
}

const hms = new Intl.DateTimeFormat(undefined, {
  hour: '2-digit',
  minute: '2-digit',
  second: '2-digit',
  hourCycle: 'h23',
});

/**
 * formatClock formats a date (ISO string or ms since the epoch) as a local
 * time of day: {hms: "14:58:05", ms: ".717"}; ms is empty unless asked for.
 */
export function formatClock(date, withMs = false) {
  const t = typeof date === 'number' ? date : Date.parse(date);
  if (!Number.isFinite(t)) return { hms: '--:--:--', ms: '' };
  const ms = withMs ? '.' + String(Math.floor(((t % 1000) + 1000) % 1000)).padStart(3, '0') : '';
  return { hms: hms.format(t), ms };
}

/** formatDuration formats seconds as "2.0 s" or "1 m 05 s". */
export function formatDuration(s) {
  if (!Number.isFinite(s)) return '';
  if (s < 60) return `${s.toFixed(1)} s`;
  const m = Math.floor(s / 60);
  return `${m} m ${String(Math.floor(s % 60)).padStart(2, '0')} s`;
}

/** formatBehind formats how far behind live a position is: "−12 s", "−1:05". */
export function formatBehind(s) {
  const n = Math.max(0, Math.round(s));
  if (n < 60) return `\u2212${n}\u202fs`;
  return `\u2212${Math.floor(n / 60)}:${String(n % 60).padStart(2, '0')}`;
}
