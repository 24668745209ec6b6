// RFC 3339 date-times (fractional seconds accepted, kept to the millisecond)
// to milliseconds since the epoch; null for anything else.
const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?(?:([Zz])|([+-])(\d{2}):(\d{2}))$/;

export function parseTime(text) {
  if (typeof text !== 'string') return null;
  const m = RFC3339.exec(text);
  if (!m) return null;
  const [y, mo, d, h, mi, s] = m.slice(1, 7).map(Number);
  if (mo < 1 || mo > 12 || d < 1 || h > 23 || mi > 59 || s > 60) return null;
  const dim = new Date(Date.UTC(y, mo, 0)).getUTCDate();
  if (d > dim) return null;
  const frac = m[7] ? Math.floor(Number(`0${m[7]}`) * 1000 + 1e-9) : 0;
  let ms = Date.UTC(y, mo - 1, d, h, mi, Math.min(s, 59)) + frac;
  if (!m[8]) {
    const off = (Number(m[10]) * 60 + Number(m[11])) * 60000;
    if (Number(m[10]) > 23 || Number(m[11]) > 59) return null;
    ms -= m[9] === '+' ? off : -off;
  }
  return ms;
}

export const formatTime = (ms) => new Date(ms).toISOString();

// options.at: a Date, milliseconds, or an RFC 3339 text; default now.
export function timeOption(at) {
  if (at === undefined || at === null) return Date.now();
  if (at instanceof Date) return at.getTime();
  if (typeof at === 'number') return at;
  return parseTime(at);
}
