// verifyAttestation and verifyAggregates, the page-facing API, on the real AWS
// documents (their public_key/user_data/nonce are 1024 bytes of 0x01, so the
// perfagg bindings must fail while the document itself passes). A real
// development stack is exercised by tests/integration/test_js_helper.py.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CryptoHelper, nitroDoc, readText } from './helpers.mjs';

const PCR0 = 'e72a46ca80a260fb044a125442f0c7e331813bcbaf9724d9f3857758992766f2d65710a27aa94ae3949dd54e7c9fe86a';
const AT = '2024-09-07T14:37:39.545Z';
const b64 = (b) => Buffer.from(b).toString('base64');
const quote = (name = 'nitro_attestation.b64', over = {}) => ({
  quote: b64(nitroDoc(name)), enclave_pubkey: b64(new Uint8Array(32).fill(7)),
  signing_pubkey: b64(new Uint8Array(32).fill(8)), image_hash: PCR0, ...over,
});
const status = (r) => Object.fromEntries(r.checks.map((c) => [c.name, c.status]));
const ones = new Uint8Array(64).fill(1);

test('the real document: authentic under the AWS root, the perfagg bindings fail', () => {
  const r = CryptoHelper.verifyAttestation(quote(), PCR0, { at: AT, nonce: ones });
  assert.equal(r.ok, false);
  assert.deepEqual(status(r), {
    attestation: 'ok', attestation_nonce: 'failed', attestation_public_key: 'failed',
    attestation_key_binding: 'failed', image_hash: 'ok', expected_image_hash: 'ok',
  });
  assert.match(r.checks[0].detail, /the pinned AWS Nitro root as of 2024-09-07T14:37:39.545Z/);
  assert.equal(r.development, false);
  assert.equal(r.claims.imageHash, PCR0);
  assert.equal(r.claims.moduleId, 'i-0a22e5c5f24d22174-enc0191cceb4289903f');
  assert.deepEqual(r.reasons.map((x) => x.split(':')[0]), ['attestation_nonce', 'attestation_public_key', 'attestation_key_binding']);
});

test('under the AWS root the image must be pinned, and must be the one pinned', () => {
  let r = CryptoHelper.verifyAttestation(quote(), null, { at: AT, nonce: ones });
  assert.equal(status(r).expected_image_hash, 'failed');
  assert.match(r.reasons.join(), /you must say which enclave image you trust/);
  r = CryptoHelper.verifyAttestation(quote(), 'ab'.repeat(48), { at: AT, nonce: ones });
  assert.match(r.checks.find((c) => c.name === 'expected_image_hash').detail, /PCR0 is not the image you pinned/);
  r = CryptoHelper.verifyAttestation(quote(), 'xyz', { at: AT, nonce: ones });
  assert.equal(status(r).expected_image_hash, 'failed');
  // the attestation's own image_hash must be PCR0 too
  r = CryptoHelper.verifyAttestation(quote(undefined, { image_hash: 'cd'.repeat(48) }), PCR0, { at: AT, nonce: ones });
  assert.equal(status(r).image_hash, 'failed');
  // another PCR given: checked
  r = CryptoHelper.verifyAttestation(quote(), PCR0, { at: AT, nonce: ones, pcrs: { 3: 'ab'.repeat(48) } });
  assert.equal(status(r).expected_image_hash, 'failed');
  assert.match(r.checks.at(-1).detail, /PCR3 is not the value you gave/);
  r = CryptoHelper.verifyAttestation(quote(), PCR0, { at: AT, nonce: ones, pcrs: { 3: '00'.repeat(48) } });
  assert.equal(status(r).expected_image_hash, 'ok'); // this document's PCR3 is zero
});

test('a live check is about now: the 2024 document is refused today, and without a nonce', () => {
  let r = CryptoHelper.verifyAttestation(quote(), PCR0, { nonce: ones });
  assert.equal(status(r).attestation, 'failed');
  assert.match(r.checks[0].detail, /certificate has expired/);
  assert.equal(status(r).attestation_nonce, 'skipped');
  assert.equal(r.claims, null);
  r = CryptoHelper.verifyAttestation(quote(), PCR0, { at: '2024-09-07T14:43:00Z', nonce: ones });
  assert.match(r.checks[0].detail, /before the time of the check \(at most 300 s allowed\)/);
  r = CryptoHelper.verifyAttestation(quote(), PCR0, { at: '2024-09-07T14:43:00Z', nonce: ones, maxAgeSeconds: 600 });
  assert.equal(status(r).attestation, 'ok');
  r = CryptoHelper.verifyAttestation(quote(), PCR0, { at: AT });
  assert.equal(status(r).attestation_nonce, 'failed');
  for (const bad of [{ maxAgeSeconds: 0 }, { maxAgeSeconds: 86401 }, { at: 'yesterday' }, { nonce: new Uint8Array(65) }, { nonce: 'not base64!' }]) {
    r = CryptoHelper.verifyAttestation(quote(), PCR0, { at: AT, nonce: ones, ...bad });
    assert.deepEqual(status(r), { attestation: 'failed' }, JSON.stringify(bad));
  }
});

test('debug documents are refused (auditors may allow them)', () => {
  const q = quote('nitro_attestation_debug.b64', { image_hash: '00'.repeat(48) });
  let r = CryptoHelper.verifyAttestation(q, '00'.repeat(48), { at: '2024-09-07T14:38:06.508Z', nonce: ones });
  assert.equal(status(r).attestation, 'failed');
  assert.match(r.checks[0].detail, /debug-mode enclave/);
  r = CryptoHelper.verifyAttestation(q, '00'.repeat(48), { at: '2024-09-07T14:38:06.508Z', nonce: ones, allowDebug: true });
  assert.equal(status(r).attestation, 'ok');
});

test('options.root names another root: the AWS document is refused under it', () => {
  const other = readText('tests', 'data', 'nitro', 'aws_nitro_root_g1.pem');
  let r = CryptoHelper.verifyAttestation(quote(), null, { at: AT, nonce: ones, root: other });
  assert.equal(r.development, false); // the AWS root given as PEM is still the AWS root
  assert.equal(status(r).expected_image_hash, 'failed');
  // a leaf certificate of the document, as a "development root"
  const leaf = Buffer.from(nitroDoc('nitro_attestation.b64').subarray(932, 1571)).toString('base64');
  r = CryptoHelper.verifyAttestation(quote(), null, { at: AT, nonce: ones, root: `-----BEGIN CERTIFICATE-----\n${leaf}\n-----END CERTIFICATE-----\n` });
  assert.equal(r.development, true);
  assert.match(r.checks[0].detail, /a DEVELOPMENT root.*cabundle\[0\] is not the pinned root/);
  assert.equal(r.checks.some((c) => c.name === 'expected_image_hash'), false); // optional under a dev root
  r = CryptoHelper.verifyAttestation(quote(), PCR0, { at: AT, nonce: ones, root: 'not a PEM' });
  assert.deepEqual(status(r), { root: 'failed' });
});

test('malformed attestation objects are refused with the reason', () => {
  for (const [over, re] of [[{ quote: '' }, /quote/], [{ enclave_pubkey: 'AAAA' }, /enclave_pubkey/],
    [{ signing_pubkey: null }, /signing_pubkey/], [{ image_hash: PCR0.toUpperCase() }, /image_hash/], [{ extra: 1 }, /must be/]]) {
    const r = CryptoHelper.verifyAttestation(quote(undefined, over), PCR0, { at: AT, nonce: ones });
    assert.equal(r.ok, false);
    assert.match(r.reasons[0], re);
  }
  assert.equal(CryptoHelper.verifyAttestation(null, PCR0, { at: AT, nonce: ones }).ok, false);
});

test('verifyAggregates: a bundle around the real document is refused check by check', () => {
  const payload = {
    type: 'perfagg/v1/aggregates', version: 1, result_id: '26c29b68-f2bd-46a7-bf2a-338b1eda4777', exchange: 'binance',
    label: 'x', from: '2024-09-01T00:00:00.000Z', to: '2024-09-07T00:00:00.000Z', merkle_root: '', image_hash: PCR0,
    environment: 'production', issued_at: AT, pnl: 1.5, volume: 10, sharpe: null, trades: 1, challenge: 'c',
    scope: { exchange_base_url: 'https://api.binance.com', account_type: 'spot' },
  };
  const entries = [{ type: 'window', from: payload.from, to: payload.to, symbols: [], fills: 1 }];
  payload.merkle_root = CryptoHelper.merkleRoot(entries);
  const leaf = Buffer.from(createHashHex(CryptoHelper.canonicalize(entries[0])), 'hex');
  const logs = { result_id: payload.result_id, tree_size: 1, merkle_root: payload.merkle_root,
    entries: [{ index: 0, entry: entries[0], leaf_hash: leaf.toString('hex') }] };
  const response = { aggregates_signed: { signature: b64(new Uint8Array(64)), payload }, merkle_root: payload.merkle_root,
    logs_url: `/api/logs/${payload.result_id}`, attestation: quote() };
  const r = CryptoHelper.verifyAggregates({ version: 1, response, logs }, undefined, { expectedImageHash: PCR0, challenge: 'c' });
  assert.deepEqual(status(r), {
    bundle_format: 'ok', attestation: 'ok', attestation_nonce: 'failed', attestation_public_key: 'failed',
    attestation_key_binding: 'failed', image_hash: 'ok', expected_image_hash: 'ok', payload_signature: 'failed',
    payload_type: 'ok', merkle_leaves: 'ok', merkle_root: 'ok', result_id: 'ok', environment: 'ok', challenge: 'ok',
  });
  // the environment rule under the AWS root
  const dev = structuredClone(response);
  dev.aggregates_signed.payload.environment = 'development';
  assert.equal(status(CryptoHelper.verifyAggregates(dev, logs, { expectedImageHash: PCR0 })).environment, 'failed');
  const url = structuredClone(response);
  url.aggregates_signed.payload.scope.exchange_base_url = 'http://127.0.0.1:9';
  assert.equal(status(CryptoHelper.verifyAggregates(url, logs, { expectedImageHash: PCR0 })).environment, 'failed');
  const usdm = structuredClone(response);
  usdm.aggregates_signed.payload.scope = { exchange_base_url: 'https://fapi.binance.com', account_type: 'usdm' };
  assert.equal(status(CryptoHelper.verifyAggregates(usdm, logs, { expectedImageHash: PCR0 })).environment, 'ok');
  // the window and the challenge
  assert.equal(status(CryptoHelper.verifyAggregates(response, logs, { expectedImageHash: PCR0, challenge: 'd' })).challenge, 'failed');
  assert.equal(status(CryptoHelper.verifyAggregates(response, logs, { expectedImageHash: PCR0, notBefore: '2024-09-02T00:00:00Z' })).window, 'failed');
  assert.equal(status(CryptoHelper.verifyAggregates(response, logs, { expectedImageHash: PCR0, notBefore: '2024-09-01T00:00:00Z', notAfter: '2024-09-07T00:00:00Z' })).window, 'ok');
  // the logs
  const reordered = structuredClone(logs);
  reordered.entries[0].index = 1;
  assert.equal(status(CryptoHelper.verifyAggregates(response, reordered, { expectedImageHash: PCR0 })).merkle_leaves, 'failed');
  const other = structuredClone(logs);
  other.entries[0].entry.fills = 2;
  const s = status(CryptoHelper.verifyAggregates(response, other, { expectedImageHash: PCR0 }));
  assert.equal(s.merkle_leaves, 'failed');
  assert.equal(s.merkle_root, 'failed');
  // shapes
  for (const bad of [{}, { ...response, extra: 1 }, { ...response, aggregates_signed: { payload } }]) {
    const x = CryptoHelper.verifyAggregates(bad, logs, { expectedImageHash: PCR0 });
    assert.deepEqual(status(x), { bundle_format: 'failed' });
  }
  assert.deepEqual(status(CryptoHelper.verifyAggregates({ version: 2, response, logs })), { bundle_format: 'failed' });
  assert.deepEqual(status(CryptoHelper.verifyAggregates('{"version":1', undefined)), { bundle_format: 'failed' });
});

import { createHash } from 'node:crypto';
function createHashHex(text) {
  return createHash('sha256').update(Buffer.concat([Buffer.from([0]), Buffer.from(text, 'utf8')])).digest('hex');
}
