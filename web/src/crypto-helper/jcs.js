// RFC 8785 JSON Canonicalization Scheme for values as JSON.parse returns them.
// RFC 8785 adopts ECMAScript's own rules (§3.2.2): JSON.stringify escapes
// strings and Number::toString prints numbers exactly as required, and the
// default sort compares UTF-16 code units (§3.2.3). What JSON.stringify would
// print but JCS has no form for is refused: NaN/±Infinity, lone surrogates
// (not valid UTF-8), and any value that is not JSON. Same limits as
// src/common/jcs.c (depth 2048).
const MAX_DEPTH = 2048;
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

function str(s) {
  if (LONE_SURROGATE.test(s)) throw new Error('JCS: a string is not valid Unicode (lone surrogate)');
  return JSON.stringify(s);
}

function write(v, depth, out) {
  if (depth > MAX_DEPTH) throw new Error('JCS: nested too deeply');
  if (v === null || v === true || v === false) { out.push(String(v)); return; }
  switch (typeof v) {
    case 'number':
      if (!Number.isFinite(v)) throw new Error('JCS: NaN and Infinity have no canonical form');
      out.push(JSON.stringify(v)); // -0 prints "0", as RFC 8785 requires
      return;
    case 'string':
      out.push(str(v));
      return;
    case 'object':
      if (Array.isArray(v)) {
        out.push('[');
        v.forEach((x, i) => { if (i) out.push(','); write(x, depth + 1, out); });
        out.push(']');
        return;
      }
      if (Object.getPrototypeOf(v) !== Object.prototype && Object.getPrototypeOf(v) !== null)
        break;
      out.push('{');
      Object.keys(v).sort().forEach((k, i) => {
        if (i) out.push(',');
        out.push(str(k), ':');
        write(v[k], depth + 1, out);
      });
      out.push('}');
      return;
    default:
      break;
  }
  throw new Error(`JCS: a ${typeof v} is not a JSON value`);
}

// The canonical text (a JS string; its UTF-8 bytes are what is signed/hashed).
export function canonicalize(value) {
  const out = [];
  write(value, 0, out);
  return out.join('');
}
