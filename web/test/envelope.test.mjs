// encryptCredentials reproduces the published envelope vectors of
// docs/PROTOCOL.md byte for byte, read from the document itself (inputs from
// their seeds, the submit body as published), through WebCrypto and through
// the bundled fallback alike; and what it seals opens with an independent
// implementation (node:crypto) exactly as the enclave opens it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createDecipheriv, createHash, createPrivateKey, createPublicKey, diffieHellman, hkdfSync } from 'node:crypto';
import { CryptoHelper, _sealWith, readText } from './helpers.mjs';

const DOC = readText('docs', 'PROTOCOL.md');
const sha256 = (s) => new Uint8Array(createHash('sha256').update(s, 'utf8').digest());

// Each "### Vector N" section: seeds, metadata as sent, plaintext, submit body.
function vectors() {
  const out = [];
  for (const m of DOC.matchAll(/^### Vector (\d+)\n([\s\S]*?)(?=^### |^## )/gm)) {
    const text = m[2];
    const seeds = [...text.matchAll(/SHA-256\("([^"]+)"\)/g)].map((x) => x[1]);
    const blocks = [...text.matchAll(/```json\n([\s\S]*?)\n```/g)].map((x) => x[1]);
    assert.equal(seeds.length, 3, `vector ${m[1]}: three seeds`);
    assert.equal(blocks.length, 4, `vector ${m[1]}: metadata, JCS, plaintext, submit body`);
    out.push({ n: m[1], enclaveSeed: seeds[0], ephemeralSeed: seeds[1], nonceSeed: seeds[2],
      metadata: blocks[0], jcs: blocks[1], plaintext: blocks[2], body: JSON.parse(blocks[3]) });
  }
  assert.ok(out.length >= 2);
  return out;
}

const PKCS8 = Buffer.from('302e020100300506032b656e04220420', 'hex');
function enclaveKeys(seed) {
  const d = Buffer.from(sha256(seed));
  const key = createPrivateKey({ key: Buffer.concat([PKCS8, d]), format: 'der', type: 'pkcs8' });
  const pub = Buffer.from(createPublicKey(key).export({ format: 'jwk' }).x, 'base64url');
  return { key, pub };
}

// The enclave's side, with node:crypto (OpenSSL): pa_envelope_open's steps.
function open(body, enclave) {
  const eph = Buffer.from(body.ephemeral_pub, 'base64');
  const peer = createPublicKey({ key: { kty: 'OKP', crv: 'X25519', x: eph.toString('base64url') }, format: 'jwk' });
  const shared = diffieHellman({ privateKey: enclave.key, publicKey: peer });
  const key = Buffer.from(hkdfSync('sha256', shared, Buffer.concat([eph, enclave.pub]), 'perfagg/v1/credentials', 32));
  const d = createDecipheriv('aes-256-gcm', key, Buffer.from(body.nonce, 'base64'), { authTagLength: 16 });
  d.setAAD(Buffer.from(CryptoHelper.canonicalize(body.metadata), 'utf8'));
  d.setAuthTag(Buffer.from(body.tag, 'base64'));
  return Buffer.concat([d.update(Buffer.from(body.ciphertext, 'base64')), d.final()]).toString('utf8');
}

for (const v of vectors()) {
  for (const impl of ['webcrypto', 'noble', 'auto']) {
    test(`vector ${v.n} reproduced byte for byte (${impl})`, async () => {
      const enclave = enclaveKeys(v.enclaveSeed);
      const fixed = { ephemeralPrivateKey: sha256(v.ephemeralSeed), nonce: sha256(v.nonceSeed).subarray(0, 12) };
      const metadata = JSON.parse(v.metadata);
      assert.equal(CryptoHelper.canonicalize(metadata), v.jcs);
      const creds = JSON.parse(v.plaintext);
      const body = impl === 'auto'
        ? await CryptoHelper.encryptCredentials(creds, enclave.pub.toString('base64'), metadata, fixed)
        : await _sealWith(creds, new Uint8Array(enclave.pub), metadata, fixed, impl);
      assert.deepEqual(JSON.parse(JSON.stringify(body)), v.body);
      // member order as published, metadata exactly as sent
      assert.deepEqual(Object.keys(body), ['ephemeral_pub', 'nonce', 'ciphertext', 'tag', 'metadata']);
      assert.equal(JSON.stringify(body.metadata), v.metadata);
      if (impl !== 'auto') assert.equal(body.implementation, impl);
      assert.equal(open(body, enclave), v.plaintext);
    });
  }
}

test('a fresh envelope: random ephemeral key and nonce, opens, never repeats', async () => {
  const enclave = enclaveKeys('perfagg js test: enclave');
  const creds = { exchange: 'binance', apiKey: 'k-123', apiSecret: 's-456' };
  const meta = { label: 'Main €', exchange: 'binance', ttl: 3600 };
  for (const impl of ['webcrypto', 'noble']) {
    const a = await _sealWith(creds, new Uint8Array(enclave.pub), meta, undefined, impl);
    const b = await _sealWith(creds, new Uint8Array(enclave.pub), meta, undefined, impl);
    assert.notEqual(a.ephemeral_pub, b.ephemeral_pub);
    assert.notEqual(a.nonce, b.nonce);
    assert.equal(open(a, enclave), JSON.stringify(creds));
    assert.equal(open(b, enclave), JSON.stringify(creds));
    assert.equal(Buffer.from(a.ciphertext, 'base64').length, JSON.stringify(creds).length);
    // the metadata is authenticated: any change and it does not open
    assert.throws(() => open({ ...a, metadata: { ...meta, ttl: 3601 } }, enclave));
    assert.throws(() => open({ ...a, metadata: { ...meta, label: 'Main' } }, enclave));
    // and nothing plaintext is in the body
    assert.ok(!JSON.stringify(a).includes('s-456') && !JSON.stringify(a).includes('k-123'));
  }
});

test('refusals: bad keys, low-order points, metadata the server would refuse', async () => {
  const enclave = enclaveKeys('perfagg js test: enclave');
  const creds = { exchange: 'binance', apiKey: 'k', apiSecret: 's' };
  const meta = { exchange: 'binance', label: 'main' };
  const pub = enclave.pub.toString('base64');
  const bad = [
    [creds, 'AAAA', meta, /32 bytes/],
    [creds, pub.replace('=', ''), meta, /32 bytes/],
    [creds, Buffer.alloc(32).toString('base64'), meta, /low-order/],
    [{ ...creds, exchange: 'other' }, pub, meta, /must equal metadata.exchange/],
    [{ ...creds, apiSecret: '' }, pub, meta, /apiSecret/],
    [creds, pub, { ...meta, label: '' }, /label/],
    [creds, pub, { ...meta, label: 'x'.repeat(65) }, /label/],
    [creds, pub, { ...meta, label: 'a\u202eb' }, /control or format/],
    [creds, pub, { ...meta, label: 'a\u0007b' }, /control or format/],
    [creds, pub, { ...meta, ttl: 1.5 }, /ttl/],
    [creds, pub, { ...meta, extra: 1 }, /unknown member/],
    [{ ...creds, apiSecret: 'x'.repeat(513) }, pub, meta, /1..512 bytes/],
    [{ ...creds, apiKey: 'é'.repeat(257) }, pub, meta, /1..512 bytes/],
    [{ ...creds, extra: 1 }, pub, meta, /unknown member/],
    [{ ...creds, accountType: 'margin' }, pub, meta, /accountType/],
    [{ ...creds, symbols: [] }, pub, meta, /symbols/],
    [{ ...creds, symbols: ['BTCUSDT', 'BTCUSDT'] }, pub, meta, /symbols/],
    [{ ...creds, symbols: ['btcusdt'] }, pub, meta, /symbols/],
    [{ ...creds, symbols: Array.from({ length: 101 }, (_, i) => `S${i}X`) }, pub, meta, /symbols/],
    [{ ...creds, sandbox: 'yes' }, pub, meta, /sandbox/],
    [{ ...creds, accountSalt: 'AAAA' }, pub, meta, /accountSalt/],
    [creds, pub, { ...meta, not_after: 'tomorrow' }, /not_after/],
  ];
  for (const [c, k, m, re] of bad) {
    for (const impl of ['webcrypto', 'noble'])
      await assert.rejects(_sealWith(c, k, m, undefined, impl), re);
  }
  // every optional member at its limits is fine
  await CryptoHelper.encryptCredentials({ ...creds, apiSecret: 'x'.repeat(512), passphrase: 'p', accountType: 'usdm',
    symbols: Array.from({ length: 100 }, (_, i) => `S${i}X`), sandbox: true, discloseUid: false,
    accountSalt: Buffer.alloc(32, 9).toString('base64') }, pub, { ...meta, not_after: '2030-01-01T00:00:00Z' });
  // 64 code points, one of them outside the BMP, is fine
  await CryptoHelper.encryptCredentials(creds, pub, { ...meta, label: '😀'.repeat(64) });
  await assert.rejects(CryptoHelper.encryptCredentials(creds, pub, meta, { ephemeralPrivateKey: new Uint8Array(31), nonce: new Uint8Array(12) }), /32 bytes/);
});
