// CryptoHelper: what a browser page (or a Node program) needs to deal with
// perfagg without trusting the server that serves it: verify the enclave's
// attestation, seal credentials to the attested enclave key, and verify a
// signed result. One ES module, no imports at run time (build.mjs bundles the
// dependencies in). The rules are the C client's: docs/PROTOCOL.md,
// docs/CLIENT.md ("The JavaScript helper").
import { ed25519 } from '@noble/curves/ed25519.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { b64decode, hex, toBytes, utf8 } from './bytes.js';
import { canonicalize } from './jcs.js';
import { parseStrict } from './json.js';
import { seal } from './envelope.js';
import { merkleRoot, leafHash } from './merkle.js';
import { parseTime, timeOption, formatTime } from './time.js';
import { AWS_NITRO_ROOT_PEM, AWS_NITRO_ROOT_SHA256, chooseRoot } from './roots.js';
import { attestationCheck, parseAttestationFields, Report } from './check.js';
import { verifyDocument, keyBinding, CHECKS } from './attest.js';

export const VERSION = '1';
export const DEFAULT_MAX_AGE_SECONDS = 300;
export const BUNDLE_SKEW_SECONDS = 120;
export const PAYLOAD_TYPE = 'perfagg/v1/aggregates';
// The exchange APIs a production enclave talks to (src/common/exchange_hosts.h).
export const EXCHANGE_BASE_URLS = { binance: { spot: 'https://api.binance.com', usdm: 'https://fapi.binance.com' } };
const AUDIT_MAX_ENTRIES = 100000;

function finish(report, extra) {
  return { ok: report.ok, reasons: report.reasons, checks: report.checks, ...extra };
}

function rootOrFail(options, report) {
  const root = chooseRoot(options?.root);
  if (!root) report.add('root', 'failed', 'options.root is not a PEM certificate');
  return root;
}

/**
 * A live check of the enclave's attestation (GET /attestation/quote):
 * attestation = {quote, enclave_pubkey, signing_pubkey, image_hash};
 * expectedImageHash = the PCR0 (96 hex) you trust, required under the AWS root;
 * options = {nonce (the one sent with the request, bytes or base64: required,
 * else attestation_nonce fails), at (default now),
 * maxAgeSeconds (default 300), root (PEM of a development root), pcrs
 * ({1: hex, ...}), allowDebug (auditors only)}.
 * Returns {ok, reasons, checks, claims, development}.
 */
export function verifyAttestation(attestation, expectedImageHash, options = {}) {
  const report = new Report();
  const root = rootOrFail(options, report);
  if (!root) return finish(report, { claims: null, development: null });
  const f = parseAttestationFields(attestation);
  const atMs = timeOption(options.at);
  const maxAge = options.maxAgeSeconds ?? DEFAULT_MAX_AGE_SECONDS;
  let nonce = null;
  if (options.nonce !== undefined && options.nonce !== null) nonce = toBytes(options.nonce);
  let why = f.why;
  if (!why && (atMs === null || !(atMs > 0))) why = 'options.at is not a time';
  if (!why && (!Number.isInteger(maxAge) || maxAge < 1 || maxAge > 86400)) why = 'options.maxAgeSeconds must be 1..86400';
  if (!why && options.nonce != null && (!nonce || nonce.length < 1 || nonce.length > 64)) why = 'options.nonce must be 1..64 bytes';
  if (why) {
    report.add('attestation', 'failed', why);
    return finish(report, { claims: null, development: !root.aws });
  }
  const out = attestationCheck(f, nonce, 'the nonce sent', root,
    { imageHash: expectedImageHash ?? null, pcrs: options.pcrs, allowDebug: options.allowDebug },
    { atMs, maxSkewMs: maxAge * 1000, what: options.at == null ? 'now' : 'the time given' }, null, report);
  return finish(report, {
    claims: out.claims && { ...out.claims, enclavePubkey: attestation.enclave_pubkey, signingPubkey: attestation.signing_pubkey },
    development: !root.aws,
  });
}

/**
 * The submit body of POST /enclave/submit_key: the v1 envelope of
 * credentials ({exchange, apiKey, apiSecret, ...}) sealed to enclavePubkey
 * (base64 or 32 bytes: the enclave_pubkey of an attestation you verified)
 * with metadata ({exchange, label, ttl?, not_after?}) as AAD.
 * fixed = {ephemeralPrivateKey, nonce}: for test vectors only.
 */
export function encryptCredentials(credentials, enclavePubkey, metadata, fixed) {
  return seal(credentials, enclavePubkey, metadata, fixed);
}

function payloadShape(p) {
  const strings = ['type', 'result_id', 'exchange', 'label', 'from', 'to', 'merkle_root', 'image_hash', 'environment', 'issued_at'];
  if (!strings.every((k) => typeof p[k] === 'string'))
    return 'payload lacks a required string field (type, result_id, exchange, label, from, to, merkle_root, image_hash, environment, issued_at)';
  if (typeof p.pnl !== 'number' || typeof p.volume !== 'number') return 'payload.pnl and payload.volume must be numbers';
  if (p.sharpe !== null && typeof p.sharpe !== 'number') return 'payload.sharpe must be a number or null';
  if (!Number.isInteger(p.trades) || !Number.isInteger(p.version)) return 'payload.trades and payload.version must be integers';
  return null;
}

const isObj = (x) => x !== null && typeof x === 'object' && !Array.isArray(x);
const onlyKeys = (o, keys) => isObj(o) && Object.keys(o).every((k) => keys.includes(k)) && keys.every((k) => k in o);

function parseBundle(response, logs) {
  if (!onlyKeys(response, ['aggregates_signed', 'merkle_root', 'logs_url', 'attestation']) || typeof response.logs_url !== 'string')
    return { why: 'response must be {aggregates_signed, merkle_root, logs_url, attestation}' };
  const s = response.aggregates_signed;
  if (!onlyKeys(s, ['signature', 'payload']) || !isObj(s.payload)) return { why: 'response.aggregates_signed must be {signature, payload}' };
  if (typeof s.signature !== 'string' || typeof response.merkle_root !== 'string')
    return { why: 'response.aggregates_signed.signature and response.merkle_root must be strings' };
  const why = payloadShape(s.payload);
  if (why) return { why };
  if (!onlyKeys(logs, ['result_id', 'tree_size', 'merkle_root', 'entries'])) return { why: 'logs must be {result_id, tree_size, merkle_root, entries}' };
  if (typeof logs.result_id !== 'string' || typeof logs.merkle_root !== 'string' || !Number.isInteger(logs.tree_size) ||
      !Array.isArray(logs.entries) || logs.entries.length > AUDIT_MAX_ENTRIES)
    return { why: 'logs fields have the wrong types (or too many entries)' };
  for (const e of logs.entries)
    if (!onlyKeys(e, ['index', 'entry', 'leaf_hash']) || !Number.isInteger(e.index) || !isObj(e.entry) || typeof e.leaf_hash !== 'string')
      return { why: 'each logs entry must be {index: integer, entry: object, leaf_hash: string}' };
  return { payload: s.payload, signature: s.signature };
}

function checkMerkle(payload, response, logs, r) {
  const n = logs.entries.length;
  const texts = [];
  let problem = null;
  for (let i = 0; i < n; i++) {
    const e = logs.entries[i];
    let d;
    try { d = utf8(canonicalize(e.entry)); } catch { problem = `entry ${i} cannot be canonicalised`; break; }
    texts.push(d);
    if (!problem && e.index !== i) problem = `entry at position ${i} has index ${e.index}`;
    else if (!problem && hex(leafHash(d)) !== e.leaf_hash) problem = `entry ${i}: leaf_hash is not SHA-256(0x00 || JCS(entry))`;
  }
  if (!problem && logs.tree_size !== n) problem = `tree_size ${logs.tree_size} is not the number of entries (${n})`;
  if (problem) r.add('merkle_leaves', 'failed', problem);
  else r.add('merkle_leaves', 'ok', `${n} entries, indices 0..${n - 1}, every leaf_hash = SHA-256(0x00 || JCS(entry))`);
  if (texts.length !== n) { r.add('merkle_root', 'failed', 'cannot recompute the root'); return; }
  const root = hex(merkleRoot(texts));
  if (root === payload.merkle_root && root === response.merkle_root && root === logs.merkle_root)
    r.add('merkle_root', 'ok', `${root} recomputed from ${n} entries = payload = response = logs`);
  else r.add('merkle_root', 'failed', `recomputed ${root} differs from ${root !== payload.merkle_root ? 'payload.merkle_root' : root !== response.merkle_root ? 'response.merkle_root' : 'logs.merkle_root'}`);
}

function checkEnvironment(payload, aws, r) {
  const env = payload.environment;
  if (!aws) { r.add('environment', 'ok', `environment ${env} (a DEVELOPMENT root: not required to be production)`); return; }
  const scope = isObj(payload.scope) ? payload.scope : {};
  const urls = EXCHANGE_BASE_URLS[payload.exchange];
  const builtin = urls ? (scope.account_type === 'usdm' ? urls.usdm : urls.spot) : null;
  if (env !== 'production') r.add('environment', 'failed', `payload.environment is "${env}", not "production"`);
  else if (!builtin) r.add('environment', 'failed', `no built-in base URL for exchange "${payload.exchange}"`);
  else if (scope.exchange_base_url !== builtin) r.add('environment', 'failed', `payload.scope.exchange_base_url is not the built-in ${builtin}`);
  else r.add('environment', 'ok', `production, exchange API ${builtin}`);
}

/**
 * Verifies a signed result: response = the POST /enclave/request_aggregates
 * answer, logs = GET logs_url (each an object, or better its JSON text, read
 * strictly); or response = a result bundle
 * {version: 1, response, logs} (the file `perfagg verify` reads), as an
 * object or its JSON text, with logs omitted.
 * options = {root (PEM of a development root), expectedImageHash (required
 * under the AWS root), pcrs, challenge, notBefore, notAfter}.
 * Returns {ok, reasons, checks, payload, claims, development}.
 */
export function verifyAggregates(response, logs, options = {}) {
  const report = new Report();
  const root = rootOrFail(options, report);
  if (!root) return finish(report, { payload: null, claims: null, development: null });
  const fail = (why) => { report.add('bundle_format', 'failed', why); return finish(report, { payload: null, claims: null, development: !root.aws }); };
  // JSON text is read strictly (a duplicate member name is refused, as by the
  // C client); objects already parsed by the caller are taken as they are
  try {
    if (typeof response === 'string') response = parseStrict(response);
    if (typeof logs === 'string') logs = parseStrict(logs);
  } catch {
    return fail('not one JSON object (or a duplicate key)');
  }
  if (isObj(response) && 'version' in response && (logs === undefined || logs === null)) {
    if (!onlyKeys(response, ['version', 'response', 'logs'])) return fail('a bundle is {version, response, logs}');
    if (response.version !== 1) return fail('bundle version is not 1');
    logs = response.logs;
    response = response.response;
  }
  const v = parseBundle(response, logs);
  if (v.why) return fail(v.why);
  const f = parseAttestationFields(response.attestation);
  if (f.why) return fail(f.why);
  const sig = b64decode(v.signature);
  if (!sig || sig.length !== 64) return fail('the signature is not 64 bytes of base64');
  const issued = parseTime(v.payload.issued_at);
  if (issued === null || issued <= 0) return fail('payload.issued_at is not an RFC 3339 time');
  let jcs;
  try { jcs = utf8(canonicalize(v.payload)); } catch { return fail('the payload has no canonical form (non-finite number or bad UTF-8)'); }
  report.add('bundle_format', 'ok', `version 1: response and logs (${logs.entries.length} entries)`);

  // as of payload.issued_at: the enclave attests right after it signs
  const att = attestationCheck(f, sha256(jcs), 'SHA-256(JCS(payload))', root,
    { imageHash: options.expectedImageHash ?? options.imageHash ?? null, pcrs: options.pcrs },
    { atMs: issued, maxSkewMs: BUNDLE_SKEW_SECONDS * 1000, what: 'payload.issued_at' }, v.payload.image_hash, report);

  let sigOk = false;
  try { sigOk = ed25519.verify(sig, jcs, f.signingPub, { zip215: false }); } catch { sigOk = false; }
  if (sigOk) report.add('payload_signature', 'ok', `Ed25519 by signing_pubkey over JCS(payload) (${jcs.length} bytes)`);
  else report.add('payload_signature', 'failed', 'the signature does not match JCS(payload) under signing_pubkey');

  if (v.payload.type === PAYLOAD_TYPE && v.payload.version === 1) report.add('payload_type', 'ok', `${PAYLOAD_TYPE}, version 1`);
  else report.add('payload_type', 'failed', `payload is not ${PAYLOAD_TYPE} version 1`);

  checkMerkle(v.payload, response, logs, report);

  if (logs.result_id === v.payload.result_id) report.add('result_id', 'ok', `logs.result_id = payload.result_id = ${logs.result_id}`);
  else report.add('result_id', 'failed', 'logs.result_id differs from payload.result_id');

  checkEnvironment(v.payload, root.aws, report);
  if (options.challenge !== undefined && options.challenge !== null) {
    const got = v.payload.challenge;
    if (typeof got === 'string' && got === options.challenge) report.add('challenge', 'ok', 'payload.challenge = the challenge you gave');
    else report.add('challenge', 'failed', `payload.challenge is ${typeof got !== 'string' ? 'absent, not' : 'not'} the challenge you gave`);
  }
  if (options.notBefore != null || options.notAfter != null) {
    const from = parseTime(v.payload.from), to = parseTime(v.payload.to);
    const lo = options.notBefore != null ? timeOption(options.notBefore) : null;
    const hi = options.notAfter != null ? timeOption(options.notAfter) : null;
    if (from === null || to === null) report.add('window', 'failed', 'payload.from or payload.to is not a time');
    else if (options.notBefore != null && (lo === null || from < lo)) report.add('window', 'failed', 'payload.from is before notBefore');
    else if (options.notAfter != null && (hi === null || to > hi)) report.add('window', 'failed', 'payload.to is after notAfter');
    else report.add('window', 'ok', '[payload.from, payload.to) inside the window you gave');
  }
  return finish(report, { payload: v.payload, claims: att.claims, development: !root.aws });
}

export const CryptoHelper = Object.freeze({
  VERSION,
  verifyAttestation,
  encryptCredentials,
  verifyAggregates,
  // lower-level pieces, for auditors and tests
  verifyDocument,
  keyBinding,
  canonicalize,
  parseJson: parseStrict,
  merkleRoot: (entries) => hex(merkleRoot(entries.map((e) => utf8(canonicalize(e))))),
  awsRoot: Object.freeze({ pem: AWS_NITRO_ROOT_PEM, sha256: AWS_NITRO_ROOT_SHA256 }),
  documentChecks: CHECKS,
  formatTime,
});

export default CryptoHelper;
export { seal as _sealWith };
