// The attestation document verifier: the rules of src/attest/attest_verify.c
// and docs/PROTOCOL.md ("Verifying an attestation document"), in the same
// order and with the same check names (format, signature, chain, timestamp,
// debug, pcrs, nonce, public_key, user_data) and, where the C text is not an
// OpenSSL message, the same reasons. Every check that can be evaluated is;
// each failure is recorded under its check.
import { decode, encode, Tokenizer, Type } from 'cborg';
import { sha256, sha384 } from '@noble/hashes/sha2.js';
import { concat, equal, utf8 } from './bytes.js';
import { CERT_MAX, ecdsaVerify, isP384, leafProblems, parseCertificate, verifyChain } from './x509.js';

export const DOC_MAX = 16 * 1024;
export const CHECKS = ['format', 'signature', 'chain', 'timestamp', 'debug', 'pcrs', 'nonce', 'public_key', 'user_data'];
const PROTECTED_ES384 = new Uint8Array([0xa1, 0x01, 0x38, 0x22]);
const PCR_LEN = 48;
const PCR_COUNT = 32;
const FIELD_MAX = 1024;
const CABUNDLE_MAX = 8;
const KEYS = ['module_id', 'digest', 'timestamp', 'pcrs', 'certificate', 'cabundle', 'public_key', 'user_data', 'nonce'];
// strict where the C loader is: definite lengths only, no undefined, exactly
// one item with no trailing bytes (cborg refuses those itself), no tags
// (cborg refuses unknown tags), duplicate map keys refused
const CBOR_OPTS = { allowIndefinite: false, allowUndefined: false, useMaps: true, rejectDuplicateMapKeys: true };

class Result {
  constructor() {
    this.status = Object.fromEntries(CHECKS.map((c) => [c, 'unchecked']));
    this.detail = Object.fromEntries(CHECKS.map((c) => [c, []]));
  }
  fail(check, why) { this.status[check] = 'fail'; this.detail[check].push(why); }
  pass(check) { if (this.status[check] === 'unchecked') this.status[check] = 'pass'; }
  ok(checks = CHECKS) {
    return this.status.format === 'pass' && checks.every((c) => this.status[c] !== 'fail');
  }
  failures(checks = CHECKS) {
    return checks.filter((c) => this.status[c] === 'fail').map((c) => `${c}: ${this.detail[c].join('; ')}`);
  }
}
export const AUTHENTICITY = ['format', 'signature', 'chain', 'timestamp'];

// Floats are refused outright: no field of a document is one, and JS numbers
// would otherwise let 1.0 pass where the C parser (libcbor) insists on an
// unsigned integer.
class NoFloatTokenizer extends Tokenizer {
  next() {
    const t = super.next();
    if (t.type === Type.float) throw new Error('CBOR float');
    return t;
  }
}

function decodeStrict(bytes) {
  try {
    return { value: decode(bytes, { ...CBOR_OPTS, tokenizer: new NoFloatTokenizer(bytes, CBOR_OPTS) }) };
  } catch {
    return null;
  }
}

// The COSE_Sign1 envelope, byte-strict (pa_cose_sign1_decode).
function coseDecode(doc) {
  if (!(doc instanceof Uint8Array) || doc.length === 0 || doc.length > DOC_MAX) return { why: 'document size out of range' };
  // one tag 18, in its one-byte head only: another encoding of the same
  // claim invites disagreement between verifiers
  if (doc[0] === 0xd2) doc = doc.subarray(1);
  if (doc.length === 0 || doc[0] !== 0x84) {
    return { why: doc.length > 0 && doc[0] >> 5 === 6
      ? 'only one COSE tag 18, in its one-byte head 0xd2, may precede COSE_Sign1'
      : 'not a COSE_Sign1 array of 4' };
  }
  const top = decodeStrict(doc);
  if (!top) return { why: 'malformed CBOR' };
  const f = top.value;
  if (!Array.isArray(f) || f.length !== 4) return { why: 'not a COSE_Sign1 array of 4' };
  if (!(f[0] instanceof Uint8Array) || !equal(f[0], PROTECTED_ES384)) return { why: 'protected header is not exactly {1: -35} (ES384)' };
  if (!(f[1] instanceof Map) || f[1].size !== 0) return { why: 'unprotected header is not an empty map' };
  if (!(f[2] instanceof Uint8Array) || f[2].length === 0) return { why: 'payload is not a non-empty byte string' };
  if (!(f[3] instanceof Uint8Array) || f[3].length !== 96) return { why: 'signature is not 96 bytes' };
  // canonical: re-encoded with shortest heads it must be the received bytes
  const canon = encode([f[0], new Map(), f[2], f[3]]);
  if (!equal(canon, doc)) return { why: 'COSE_Sign1 is not in canonical encoding (a CBOR head longer than needed)' };
  return { protectedHdr: f[0], payload: f[2], signature: f[3] };
}

const isBstr = (v, min, max) => v instanceof Uint8Array && v.length >= min && v.length <= max;
const isUint = (v) => (typeof v === 'number' && Number.isInteger(v) && v >= 0) || (typeof v === 'bigint' && v >= 0n);

// The payload map (pa_attest_payload_parse).
function payloadParse(m) {
  if (!(m instanceof Map)) return { why: 'payload is not a map' };
  const out = { pcrs: new Map(), public_key: null, user_data: null, nonce: null };
  const seen = new Set();
  for (const [k, v] of m) {
    if (typeof k !== 'string' || !KEYS.includes(k)) return { why: 'payload: unknown key' };
    if (seen.has(k)) return { why: 'payload: duplicate key' };
    seen.add(k);
    switch (k) {
      case 'module_id':
        if (typeof v !== 'string' || !/^[\x20-\x7e]{1,127}$/.test(v)) return { why: 'payload: module_id must be printable text of 1..127 bytes' };
        out.module_id = v;
        break;
      case 'digest':
        if (v !== 'SHA384') return { why: 'payload: digest must be "SHA384"' };
        break;
      case 'timestamp':
        if (!isUint(v) || BigInt(v) <= 0n || BigInt(v) > 0x7fffffffffffffffn) return { why: 'payload: timestamp must be a positive integer (ms)' };
        out.timestamp = Number(v);
        break;
      case 'pcrs': {
        const why = 'payload: pcrs must map 1..32 distinct indexes 0..31 to 48-byte values';
        if (!(v instanceof Map) || v.size === 0 || v.size > PCR_COUNT) return { why };
        for (const [i, val] of v) {
          if (!isUint(i) || Number(i) >= PCR_COUNT || out.pcrs.has(Number(i))) return { why };
          if (!isBstr(val, PCR_LEN, PCR_LEN)) return { why };
          out.pcrs.set(Number(i), val);
        }
        if (![0, 1, 2].every((i) => out.pcrs.has(i))) return { why: 'payload: PCR0, PCR1 and PCR2 are required' };
        break;
      }
      case 'certificate':
        if (!isBstr(v, 1, CERT_MAX)) return { why: 'payload: certificate must be 1..1024 bytes' };
        out.certificate = v;
        break;
      case 'cabundle':
        if (!Array.isArray(v) || v.length === 0 || v.length > CABUNDLE_MAX || !v.every((c) => isBstr(c, 1, CERT_MAX)))
          return { why: 'payload: cabundle must hold 1..8 certificates of 1..1024 bytes' };
        out.cabundle = v;
        break;
      default: // public_key, user_data, nonce
        if (v !== null && !isBstr(v, 0, FIELD_MAX)) return { why: `payload: ${k} must be null or at most 1024 bytes` };
        out[k] = v;
        break;
    }
  }
  // public_key, user_data and nonce may be absent (same as null)
  if (!KEYS.slice(0, 6).every((k) => seen.has(k))) return { why: 'payload: a required key is missing' };
  return { payload: out };
}

function sigStructure(protectedHdr, payload) {
  return encode(['Signature1', protectedHdr, new Uint8Array(0), payload]);
}

// policy: {atMs (required, > 0), maxSkewMs (0: not checked), allowDebug,
// pcrs: Map index -> 48 bytes, nonce, publicKey, userData (Uint8Array or
// undefined)}; rootDer: the pinned root's DER. Returns {result, claims}:
// claims only when the document is authentic.
export function verifyDocument(doc, rootDer, policy) {
  const r = new Result();
  if (!(doc instanceof Uint8Array) || !(rootDer instanceof Uint8Array) || !policy ||
      !(policy.atMs > 0) || (policy.maxSkewMs ?? 0) < 0) {
    r.fail('format', 'invalid arguments');
    return { result: r, claims: null };
  }
  // 1. structure: the envelope, the payload map, the certificates
  const cose = coseDecode(doc);
  if (cose.why) { r.fail('format', cose.why); return { result: r, claims: null }; }
  const decoded = decodeStrict(cose.payload);
  if (!decoded) { r.fail('format', 'payload: malformed CBOR'); return { result: r, claims: null }; }
  const pp = payloadParse(decoded.value);
  if (pp.why) { r.fail('format', pp.why); return { result: r, claims: null }; }
  const pl = pp.payload;
  const leaf = parseCertificate(pl.certificate);
  if (!leaf) { r.fail('format', 'certificate is not a DER certificate'); return { result: r, claims: null }; }
  const untrusted = [];
  for (let i = 1; i < pl.cabundle.length; i++) {
    const c = parseCertificate(pl.cabundle[i]);
    if (!c) { r.fail('format', `cabundle[${i}] is not a DER certificate`); return { result: r, claims: null }; }
    untrusted.push(c);
  }
  r.pass('format');

  // 2. the signature, with the leaf's P-384 key, over the Sig_structure
  //    built from the protected bytes as received
  if (!isP384(leaf)) r.fail('signature', "the leaf certificate's key is not ECDSA P-384");
  else if (!ecdsaVerify(leaf, sha384, sigStructure(cose.protectedHdr, cose.payload), cose.signature, 'compact'))
    r.fail('signature', 'COSE signature does not verify with the leaf certificate');
  r.pass('signature');

  // 3. the chain: cabundle[0] only compared with the pinned root
  const root = parseCertificate(rootDer);
  if (!root) r.fail('chain', 'cannot parse the pinned root');
  else {
    if (!equal(pl.cabundle[0], rootDer)) r.fail('chain', 'cabundle[0] is not the pinned root');
    for (const why of leafProblems(leaf)) r.fail('chain', why);
    for (const why of verifyChain(leaf, untrusted, root, policy.atMs)) r.fail('chain', `certificate chain: ${why}`);
  }
  r.pass('chain');

  // 4. the timestamp: inside the leaf's validity, and near the check's time
  const ts = pl.timestamp;
  if (ts < leaf.notBefore || ts > leaf.notAfter + 999)
    r.fail('timestamp', "timestamp is outside the leaf certificate's validity");
  const skew = policy.maxSkewMs ?? 0;
  if (skew > 0) {
    const d = ts - policy.atMs;
    if (d > skew) r.fail('timestamp', `timestamp is ${Math.trunc(d / 1000)} s after the time of the check (at most ${Math.trunc(skew / 1000)} s allowed)`);
    else if (-d > skew) r.fail('timestamp', `timestamp is ${Math.trunc(-d / 1000)} s before the time of the check (at most ${Math.trunc(skew / 1000)} s allowed)`);
  }
  r.pass('timestamp');

  // 5. policy: debug mode, expected PCRs and fields
  const zero = (b) => b.every((x) => x === 0);
  const debug = zero(pl.pcrs.get(0)) && zero(pl.pcrs.get(1)) && zero(pl.pcrs.get(2));
  if (debug && !policy.allowDebug) r.fail('debug', 'debug-mode enclave (PCR0, PCR1 and PCR2 are zero)');
  r.pass('debug');
  const want = policy.pcrs ?? new Map();
  for (const [i, v] of want) {
    if (!pl.pcrs.has(i)) r.fail('pcrs', `PCR${i} is absent`);
    else if (!equal(pl.pcrs.get(i), v)) r.fail('pcrs', `PCR${i} is not the expected value`);
  }
  if (want.size > 0) r.pass('pcrs');
  for (const [check, field, expect] of [['nonce', 'nonce', policy.nonce], ['public_key', 'public_key', policy.publicKey],
    ['user_data', 'user_data', policy.userData]]) {
    if (expect === undefined || expect === null) continue;
    const got = pl[field];
    if (got === null) r.fail(check, `the document's ${field} is null`);
    else if (!equal(got, expect)) r.fail(check, `the document's ${field} is not the expected one (${got.length} bytes)`);
    else r.pass(check);
  }

  let claims = null;
  if (r.ok(AUTHENTICITY)) {
    claims = {
      moduleId: pl.module_id,
      timestampMs: ts,
      pcrs: pl.pcrs,
      debugMode: debug,
      leafNotBeforeMs: leaf.notBefore,
      leafNotAfterMs: leaf.notAfter,
      cabundleLength: pl.cabundle.length,
      publicKey: pl.public_key,
      userData: pl.user_data,
      nonce: pl.nonce,
    };
  }
  return { result: r, claims };
}

// SHA-256("perfagg/v1/keys" || enclave_pub || signing_pub): the user_data
// that ties the enclave's two keys to one attestation (src/attest/key_binding.c).
export function keyBinding(enclavePub, signingPub) {
  return sha256(concat(utf8('perfagg/v1/keys'), enclavePub, signingPub));
}
