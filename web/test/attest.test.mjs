// The attestation verifier against real AWS Nitro documents and the tamper
// cases tests/unit/test_attest.c runs too (tests/data/nitro/tamper_cases.json).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { CryptoHelper, AWS_ROOT_PEM, nitroDoc, pemDer, ms, readText } from './helpers.mjs';

const CASES = JSON.parse(readText('tests', 'data', 'nitro', 'tamper_cases.json'));
const ROOT = pemDer(AWS_ROOT_PEM);
const PROD_PCR0 = 'e72a46ca80a260fb044a125442f0c7e331813bcbaf9724d9f3857758992766f2d65710a27aa94ae3949dd54e7c9fe86a';

function applyEdits(doc, edits = []) {
  let d = Array.from(doc);
  for (const e of edits) {
    const at = (x) => (x < 0 ? d.length + x : x);
    if (e.op === 'xor') d[at(e.at)] ^= e.mask;
    else if (e.op === 'splice') d.splice(at(e.at), e.delete, ...Buffer.from(e.hex, 'hex'));
    else if (e.op === 'append') d.push(...Buffer.from(e.hex, 'hex'));
    else if (e.op === 'truncate') d = d.slice(0, e.length);
    else throw new Error(`unknown edit ${e.op}`);
  }
  return new Uint8Array(d);
}

function policyOf(c) {
  const p = { atMs: ms(c.at), maxSkewMs: (c.max_skew_s ?? 0) * 1000, allowDebug: !!c.allow_debug, pcrs: new Map() };
  if (c.pcr0_hex) p.pcrs.set(0, new Uint8Array(Buffer.from(c.pcr0_hex, 'hex')));
  if (c.nonce_hex) p.nonce = new Uint8Array(Buffer.from(c.nonce_hex, 'hex'));
  return p;
}

test('the AWS root built in is the pinned one (same PEM and SHA-256 as the C client)', () => {
  assert.equal(CryptoHelper.awsRoot.sha256, '641a0321a3e244efe456463195d606317ed7cdcc3c1756e09893f3c68f79bb5b');
  assert.equal(createHash('sha256').update(pemDer(CryptoHelper.awsRoot.pem)).digest('hex'), CryptoHelper.awsRoot.sha256);
  assert.equal(CryptoHelper.awsRoot.pem.trim(), AWS_ROOT_PEM.trim());
  assert.ok(readText('src', 'attest', 'aws_root.c').includes(AWS_ROOT_PEM.trim().split('\n')[5]));
});

test('the real production document verifies as of its time, with its claims', () => {
  const doc = nitroDoc('nitro_attestation.b64');
  assert.equal(doc.length, 7539);
  const { result, claims } = CryptoHelper.verifyDocument(doc, ROOT, { atMs: ms('2024-09-07T14:37:39.545Z') });
  assert.deepEqual(result.failures(), []);
  assert.equal(claims.moduleId, 'i-0a22e5c5f24d22174-enc0191cceb4289903f');
  assert.equal(claims.timestampMs, ms('2024-09-07T14:37:39.545Z'));
  assert.equal(Buffer.from(claims.pcrs.get(0)).toString('hex'), PROD_PCR0);
  assert.equal(claims.pcrs.size, 16);
  assert.equal(claims.cabundleLength, 4);
  assert.equal(claims.leafNotBeforeMs, ms('2024-09-07T14:37:36Z'));
  assert.equal(claims.leafNotAfterMs, ms('2024-09-07T17:37:39Z'));
  assert.equal(claims.debugMode, false);
  for (const f of ['nonce', 'publicKey', 'userData']) {
    assert.equal(claims[f].length, 1024);
    assert.ok(claims[f].every((b) => b === 1));
  }
});

test('a refused document yields no claims', () => {
  const doc = nitroDoc('nitro_attestation.b64');
  doc[doc.length - 1] ^= 1;
  const { result, claims } = CryptoHelper.verifyDocument(doc, ROOT, { atMs: ms('2024-09-07T14:37:39.545Z') });
  assert.equal(result.ok(), false);
  assert.equal(claims, null);
});

test('the time of the check is never implied', () => {
  const doc = nitroDoc('nitro_attestation.b64');
  for (const atMs of [0, -1, undefined, NaN]) {
    const { result } = CryptoHelper.verifyDocument(doc, ROOT, { atMs });
    assert.equal(result.status.format, 'fail');
  }
});

for (const c of CASES.cases) {
  test(`shared case: ${c.name}`, () => {
    const doc = applyEdits(nitroDoc(CASES.documents[c.doc]), c.edits);
    const { result, claims } = CryptoHelper.verifyDocument(doc, ROOT, policyOf(c));
    if (c.expect === 'accept') {
      assert.deepEqual(result.failures(), []);
      assert.ok(claims);
      return;
    }
    assert.equal(result.ok(), false, 'accepted');
    assert.equal(result.status[c.check], 'fail', `expected ${c.check} to fail; got ${result.failures().join('; ')}`);
    assert.ok(result.detail[c.check].some((d) => d.includes(c.reason)),
      `expected "${c.reason}" under ${c.check}; got ${result.failures().join('; ')}`);
  });
}

test('shared sweep: one flipped bit anywhere is refused', () => {
  const s = CASES.sweep;
  const doc = nitroDoc(CASES.documents[s.doc]);
  const policy = { atMs: ms(s.at) };
  let tried = 0;
  for (let i = 0; i < doc.length; i += (i < s.dense_head || i >= doc.length - s.dense_tail) ? 1 : s.step) {
    const bit = 1 << (i % 8);
    doc[i] ^= bit;
    const { result } = CryptoHelper.verifyDocument(doc, ROOT, policy);
    assert.equal(result.ok(), false, `bit ${bit} of byte ${i} flipped: accepted`);
    doc[i] ^= bit;
    tried++;
  }
  assert.ok(tried > 1000);
  assert.deepEqual(CryptoHelper.verifyDocument(doc, ROOT, policy).result.failures(), []);
});

test('garbage: prefixes, random bytes, containers that claim too much', () => {
  const doc = nitroDoc('nitro_attestation.b64');
  const policy = { atMs: ms('2024-09-07T14:37:39.545Z') };
  for (let n = 1; n < doc.length; n += 37)
    assert.equal(CryptoHelper.verifyDocument(doc.subarray(0, n), ROOT, policy).result.ok(), false);
  for (const h of ['9b0000001000000000', 'bb0fffffffffffffff', '845b7fffffffffffffff', '9f40a04040ff',
    '845f4100ffa04040', 'ff', '1c', '80', 'd2', 'd2d280']) {
    const r = CryptoHelper.verifyDocument(new Uint8Array(Buffer.from(h, 'hex')), ROOT, policy).result;
    assert.equal(r.status.format, 'fail', h);
  }
  const deep = new Uint8Array(4000).fill(0x81);
  deep[deep.length - 1] = 0;
  deep[0] = 0x84;
  assert.equal(CryptoHelper.verifyDocument(deep, ROOT, policy).result.status.format, 'fail');
  let x = 12345;
  for (let round = 0; round < 300; round++) {
    const n = 1 + (round % 600);
    const buf = new Uint8Array(n);
    for (let i = 0; i < n; i++) { x = (Math.imul(x, 1103515245) + 12345) >>> 0; buf[i] = (x >>> 16) & 0xff; }
    if (round % 2 === 0 && n > 8) buf.set(doc.subarray(0, 8));
    assert.equal(CryptoHelper.verifyDocument(buf, ROOT, policy).result.ok(), false);
  }
  assert.equal(CryptoHelper.verifyDocument(new Uint8Array(16 * 1024 + 1), ROOT, policy).result.detail.format[0],
    'document size out of range');
});

test('key binding: the C side\'s vector', () => {
  const a = Uint8Array.from({ length: 32 }, (_, i) => i);
  const b = Uint8Array.from({ length: 32 }, (_, i) => 32 + i);
  assert.equal(Buffer.from(CryptoHelper.keyBinding(a, b)).toString('hex'),
    '43ee8fe15970c7e5398c0ea48486298754fb11921a6c420c00b673f0874e5be4');
  assert.notEqual(Buffer.from(CryptoHelper.keyBinding(b, a)).toString('hex'),
    '43ee8fe15970c7e5398c0ea48486298754fb11921a6c420c00b673f0874e5be4');
});

// Chains of our own making (tests/data/nitro/make_chain_cases.mjs), each
// breaking one X.509 rule; test_attest runs them through OpenSSL too.
const CHAINS = JSON.parse(readText('tests', 'data', 'nitro', 'chain_cases.json'));
for (const c of CHAINS.cases) {
  test(`shared chain case: ${c.name}`, () => {
    const doc = new Uint8Array(Buffer.from(c.doc, 'base64'));
    const { result } = CryptoHelper.verifyDocument(doc, pemDer(CHAINS.roots[c.root]), { atMs: ms(c.at) });
    if (c.expect === 'accept') {
      assert.deepEqual(result.failures(), []);
      return;
    }
    assert.equal(result.status[c.check], 'fail', `expected ${c.check} to fail; got ${result.failures().join('; ')}`);
    assert.ok(result.detail[c.check].some((d) => d.includes(c.reason)),
      `expected "${c.reason}" under ${c.check}; got ${result.failures().join('; ')}`);
  });
}
