// Time formats: wire timestamps (naive UTC ISO), UTC display, bus time and time into the video.

/** A Date from a wire timestamp; a timestamp without a zone is UTC. Null if unparsable. */
export function parseIso(text) {
  if (!text) return null;
  const zoned = /([zZ]|[+-]\d\d:?\d\d)$/.test(text) ? text : `${text}Z`;
  const date = new Date(zoned);
  return Number.isNaN(date.getTime()) ? null : date;
}

/** The wire form: `2024-05-01T10:00:02.500`, UTC, millisecond precision, no zone. */
export function toIso(date) {
  return date.toISOString().replace('Z', '');
}

/** `2024-05-01 10:00:02.500` for people (UTC). */
export function formatUtc(date) {
  return date ? toIso(date).replace('T', ' ') : '—';
}

function clock(seconds, forceHours) {
  const millis = Math.round(Math.abs(seconds) * 1000);
  const h = Math.floor(millis / 3600000);
  const m = Math.floor((millis % 3600000) / 60000);
  const s = Math.floor((millis % 60000) / 1000);
  const ms = millis % 1000;
  const pad = (n, w = 2) => String(n).padStart(w, '0');
  const tail = `${pad(m)}:${pad(s)}.${pad(ms, 3)}`;
  const sign = seconds < 0 && millis ? '-' : '';
  return h || forceHours ? `${sign}${forceHours ? pad(h) : h}:${tail}` : `${sign}${tail}`;
}

/** Time into the video: `[h:]mm:ss.mmm`. */
export function formatVideoTime(seconds) {
  return Number.isFinite(seconds) ? clock(seconds, false) : '—';
}

/** Seconds from `ss`, `mm:ss` or `h:mm:ss` (fractions allowed; a leading `-` negates); null if invalid. */
export function parseClock(text) {
  const match = /^\s*(-)?(?:(\d+):)??(?:(\d+):)?(\d+(?:\.\d*)?)\s*$/.exec(text ?? '');
  if (!match) return null;
  const [, minus, h, m, s] = match;
  const seconds = Number(h ?? 0) * 3600 + Number(m ?? 0) * 60 + Number(s);
  return minus ? -seconds : seconds;
}

/** Bus time of `date`: `[-]hh:mm:ss.mmm` since `busStart` (a Date). */
export function formatBusTime(date, busStart) {
  if (!date || !busStart) return '—';
  return clock((date.getTime() - busStart.getTime()) / 1000, true);
}

/** A Date from a bus time text; null if invalid. */
export function parseBusTime(text, busStart) {
  const seconds = parseClock(text);
  return seconds === null || !busStart ? null : new Date(busStart.getTime() + seconds * 1000);
}
