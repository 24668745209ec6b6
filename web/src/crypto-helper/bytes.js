// Byte helpers shared by the helper's modules: strict base64 (docs/PROTOCOL.md:
// standard alphabet, padding required, no whitespace, unused bits zero, so
// every byte string has exactly one encoding), lowercase hex, UTF-8, and a
// constant-time comparison. Only what browsers and Node 20 both provide.

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const B64_INDEX = new Map([...B64].map((c, i) => [c, i]));

export function b64encode(bytes) {
  let out = '';
  for (let i = 0; i < bytes.length; i += 3) {
    const n = (bytes[i] << 16) | ((bytes[i + 1] ?? 0) << 8) | (bytes[i + 2] ?? 0);
    out += B64[(n >> 18) & 63] + B64[(n >> 12) & 63];
    out += i + 1 < bytes.length ? B64[(n >> 6) & 63] : '=';
    out += i + 2 < bytes.length ? B64[n & 63] : '=';
  }
  return out;
}

// Returns the bytes, or null for anything that is not the one canonical
// encoding of some byte string.
export function b64decode(text) {
  if (typeof text !== 'string' || text.length % 4 !== 0) return null;
  const pad = text.endsWith('==') ? 2 : text.endsWith('=') ? 1 : 0;
  const n = (text.length / 4) * 3 - pad;
  const out = new Uint8Array(n);
  let o = 0;
  for (let i = 0; i < text.length; i += 4) {
    const last = i + 4 === text.length;
    const v = [];
    for (let j = 0; j < 4; j++) {
      const c = text[i + j];
      if (c === '=' && last && j >= 4 - pad) { v.push(0); continue; }
      const x = B64_INDEX.get(c);
      if (x === undefined) return null;
      v.push(x);
    }
    const w = (v[0] << 18) | (v[1] << 12) | (v[2] << 6) | v[3];
    if (last && pad === 2 && (v[1] & 0x0f) !== 0) return null; // unused bits must be zero
    if (last && pad === 1 && (v[2] & 0x03) !== 0) return null;
    out[o++] = (w >> 16) & 0xff;
    if (o < n) out[o++] = (w >> 8) & 0xff;
    if (o < n) out[o++] = w & 0xff;
  }
  return out;
}

export function hex(bytes) {
  let s = '';
  for (const b of bytes) s += b.toString(16).padStart(2, '0');
  return s;
}

// Lowercase or uppercase hex of exactly `len` bytes (when given), else null.
export function unhex(text, len) {
  if (typeof text !== 'string' || text.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(text)) return null;
  if (len !== undefined && text.length !== 2 * len) return null;
  const out = new Uint8Array(text.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(text.substr(2 * i, 2), 16);
  return out;
}

const encoder = new TextEncoder();
export const utf8 = (s) => encoder.encode(s);

export function concat(...parts) {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) { out.set(p, o); o += p.length; }
  return out;
}

// Constant-time for equal lengths (the lengths themselves are public).
export function equal(a, b) {
  if (!(a instanceof Uint8Array) || !(b instanceof Uint8Array) || a.length !== b.length) return false;
  let acc = 0;
  for (let i = 0; i < a.length; i++) acc |= a[i] ^ b[i];
  return acc === 0;
}

export const isBytes = (x) => x instanceof Uint8Array;

// Bytes from a Uint8Array, an ArrayBuffer or standard base64 text; null if none.
export function toBytes(x) {
  if (x instanceof Uint8Array) return x;
  if (x instanceof ArrayBuffer) return new Uint8Array(x);
  if (typeof x === 'string') return b64decode(x);
  return null;
}

// Best effort: overwrite a secret the moment it is no longer needed.
export function wipe(...arrays) {
  for (const a of arrays) if (a instanceof Uint8Array) a.fill(0);
}
