#!/usr/bin/env node
// Recomputes the credential-envelope test vectors published in
// docs/PROTOCOL.md with Node's built-in crypto — an implementation
// independent of the C code (OpenSSL via perfagg's envelope module) — and
// exits non-zero when any published value differs from what it computes.
//
//   node tools/envelope-vectors.mjs           check every vector (CTest runs this)
//   node tools/envelope-vectors.mjs --print   also print the computed values
//
// The inputs are deterministic: each private key is SHA-256 of a label and
// each nonce the first 12 bytes of SHA-256 of a label, so anyone can see that
// no value was chosen to hide anything.
import { createCipheriv, createDecipheriv, createHash, createPrivateKey, createPublicKey,
         diffieHellman, hkdfSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const INFO = 'perfagg/v1/credentials';

// Minimal RFC 8785 (JCS) for the flat metadata objects of these vectors: an
// object whose values are strings and integers. For exactly that shape,
// JCS = keys sorted by UTF-16 code units (what Array.prototype.sort compares
// by default) + JSON.stringify, because RFC 8785 adopts ECMAScript's
// JSON.stringify string escaping and Number::toString number form. Nested
// values and well-formedness of lone surrogates are out of scope here, so
// anything else is refused rather than half-handled.
function jcsFlat(obj) {
  const parts = Object.keys(obj).sort().map((k) => {
    const v = obj[k];
    if (typeof v !== 'string' && !(typeof v === 'number' && Number.isInteger(v)))
      throw new Error(`jcsFlat: ${k} is not a string or integer`);
    return `${JSON.stringify(k)}:${JSON.stringify(v)}`;
  });
  return `{${parts.join(',')}}`;
}

const sha256 = (s) => createHash('sha256').update(s, 'utf8').digest();
const b64url = (b) => b.toString('base64url');
// Raw 32-byte X25519 keys <-> KeyObjects via JWK (RFC 8037 OKP).
function x25519Private(d) {
  const pub = createPublicKey(
    createPrivateKey({ key: Buffer.concat([Buffer.from('302e020100300506032b656e04220420', 'hex'), d]),
                       format: 'der', type: 'pkcs8' }));
  const x = Buffer.from(pub.export({ format: 'jwk' }).x, 'base64url');
  const key = createPrivateKey({ key: { kty: 'OKP', crv: 'X25519', d: b64url(d), x: b64url(x) },
                                 format: 'jwk' });
  return { key, pub: x };
}
const x25519Public = (x) => createPublicKey({ key: { kty: 'OKP', crv: 'X25519', x: b64url(x) },
                                              format: 'jwk' });

// The published vectors: inputs, then the values every implementation must
// reproduce. Keep in sync with docs/PROTOCOL.md and tests/unit/test_envelope.c
// (this script checks the document contains every value below).
const VECTORS = [
  {
    name: 'vector 1',
    enclaveSeed: 'perfagg/v1 envelope vector 1: enclave key',
    ephemeralSeed: 'perfagg/v1 envelope vector 1: ephemeral key',
    nonceSeed: 'perfagg/v1 envelope vector 1: nonce',
    metadata: '{"exchange":"binance","label":"Main account","ttl":86400}',
    plaintext: '{"exchange":"binance","apiKey":"vector-1-api-key","apiSecret":"vector-1-api-secret"}',
    expect: {
      enclavePriv: 'ad8da5fe6f824980a913470594da8f1ffc9dc5fbb5e000e96648575beccd8614',
      enclavePub: 'ad1b0db95525ac64f66f49b3cdb17a4faffd3ae970f5f37b21620e112f502470',
      ephemeralPriv: 'ecfff8f18956788c18a4ba26742ba327f9ee480754c31e6be2460a8112ff7eb6',
      ephemeralPub: '5140e217867924114d2ca8288c1afab07454f899eabd987fae70d0a4a1a2a268',
      nonce: 'efa0435a384e037491fc8950',
      jcs: '{"exchange":"binance","label":"Main account","ttl":86400}',
      shared: 'c6ebba2a3a46e49adb18d6df73a8b7543f2a2d88da625c96a67068d46173df70',
      key: '3aa58bc138ff8a12fbb590429f3463011b188c23c96876308c82f21cb17555ed',
      ciphertext: '30638300e0dcdd37da5460d973b4c5e4750dd434f148757733fb3e566cffdb4c015fdc4ec5dfc2ef7b889688' +
                  '09e5640938055acb10a85b7473338d41f0709a996fd3d1600dd1950a4b1ba54ef7bec38877086fe0',
      tag: 'ba67112466cfe558222524bc65ec54b9',
    },
  },
  {
    name: 'vector 2',
    enclaveSeed: 'perfagg/v1 envelope vector 2: enclave key',
    ephemeralSeed: 'perfagg/v1 envelope vector 2: ephemeral key',
    nonceSeed: 'perfagg/v1 envelope vector 2: nonce',
    // Sent with its keys out of order and a non-ASCII label: the AAD is the
    // JCS form, so key order does not matter and the label is UTF-8.
    metadata: '{"not_after":"2030-01-01T00:00:00Z","label":"Haupt-Konto €","exchange":"binance"}',
    plaintext: '{"exchange":"binance","apiKey":"vector-2-api-key","apiSecret":"vector-2-api-secret",' +
               '"accountType":"usdm","symbols":["BTCUSDT","ETHUSDT"],"sandbox":true}',
    expect: {
      enclavePriv: '9fd3c27f842c0e8544ec8a0e3e3288b7e9955433d0742088be35427cff16b7a1',
      enclavePub: '52f4509c9889c3709da7fb0d3a9166ec6398f299985ae90b238e5f251d8f0638',
      ephemeralPriv: '3479e906d194af1f15f1ebe6486d76317f5132e8a01508d11101b54bd19dfeb5',
      ephemeralPub: 'ebb04475a2152ab6f12c3d657e4eef4d81b043a7059fa0c761754a2afe29c840',
      nonce: 'a2fe7c11f519ae5296f9b39a',
      jcs: '{"exchange":"binance","label":"Haupt-Konto €","not_after":"2030-01-01T00:00:00Z"}',
      shared: '5b76ae515244914374ed14d973e236a95c9bf8f953e2a157805c8e029ba89057',
      key: '2ad6ddad77500989989c3334d35fb660f2f1fb2d4a19a8cd82638de50544829e',
      ciphertext: '9f139a37b650eb63aae887045cf725b955b546c694a6f68615c29706a40900aab2adf1b87351f87b3a3a27fe' +
                  '25901ff93fc5ec4aa6e9f9ee1c4aca002ff23e15d9aed3acad0edb58ef5f355343cfafe0c7cf8729575a805e' +
                  'e59b37308f8e8be8be1589eda8177a116f78e9cc07f88efb0a5b1a71d5be492884595f00f4f0821271a66a14' +
                  '6413ad61c49b76c8ad96233489dc336e19abdc3a',
      tag: '1220611dba5b7ba87cf354899e9919f5',
    },
  },
];

function compute(v) {
  const enclavePriv = sha256(v.enclaveSeed);
  const ephemeralPriv = sha256(v.ephemeralSeed);
  const nonce = sha256(v.nonceSeed).subarray(0, 12);
  const enclave = x25519Private(enclavePriv);
  const ephemeral = x25519Private(ephemeralPriv);
  // Step 1, from both sides: the client's view and the enclave's must agree.
  const shared = diffieHellman({ privateKey: ephemeral.key, publicKey: x25519Public(enclave.pub) });
  const shared2 = diffieHellman({ privateKey: enclave.key, publicKey: x25519Public(ephemeral.pub) });
  if (!shared.equals(shared2)) throw new Error(`${v.name}: X25519 is not symmetric`);
  if (shared.equals(Buffer.alloc(32))) throw new Error(`${v.name}: all-zero shared secret`);
  // Step 2.
  const salt = Buffer.concat([ephemeral.pub, enclave.pub]);
  const key = Buffer.from(hkdfSync('sha256', shared, salt, Buffer.from(INFO, 'utf8'), 32));
  // Step 4.
  const jcs = jcsFlat(JSON.parse(v.metadata));
  const aad = Buffer.from(jcs, 'utf8');
  // Step 5.
  const cipher = createCipheriv('aes-256-gcm', key, nonce, { authTagLength: 16 });
  cipher.setAAD(aad);
  const ciphertext = Buffer.concat([cipher.update(Buffer.from(v.plaintext, 'utf8')), cipher.final()]);
  const tag = cipher.getAuthTag();
  // And back, as the enclave would.
  const decipher = createDecipheriv('aes-256-gcm', key, nonce, { authTagLength: 16 });
  decipher.setAAD(aad);
  decipher.setAuthTag(tag);
  const back = Buffer.concat([decipher.update(ciphertext), decipher.final()]).toString('utf8');
  if (back !== v.plaintext) throw new Error(`${v.name}: decryption does not round-trip`);
  return {
    enclavePriv, enclavePub: enclave.pub, ephemeralPriv, ephemeralPub: ephemeral.pub, nonce,
    jcs, aad, shared, key, ciphertext, tag,
  };
}

const print = process.argv.includes('--print');
const here = dirname(fileURLToPath(import.meta.url));
const doc = readFileSync(join(here, '..', 'docs', 'PROTOCOL.md'), 'utf8');
let failures = 0;
function check(cond, what) {
  if (!cond) {
    console.error(`MISMATCH ${what}`);
    failures++;
  }
}

for (const v of VECTORS) {
  const got = compute(v);
  const e = v.expect;
  for (const f of ['enclavePriv', 'enclavePub', 'ephemeralPriv', 'ephemeralPub', 'nonce', 'shared',
                   'key', 'ciphertext', 'tag']) {
    const hex = got[f].toString('hex');
    const b64 = got[f].toString('base64');
    check(hex === e[f], `${v.name} ${f}: computed ${hex}, published ${e[f]}`);
    // The document must show the very values checked here, in both encodings.
    check(doc.includes(hex), `${v.name} ${f}: hex ${hex} missing from docs/PROTOCOL.md`);
    check(doc.includes(b64), `${v.name} ${f}: base64 ${b64} missing from docs/PROTOCOL.md`);
  }
  check(got.jcs === e.jcs, `${v.name} JCS: computed ${got.jcs}, published ${e.jcs}`);
  for (const s of [v.metadata, v.plaintext, got.jcs, got.aad.toString('hex')])
    check(doc.includes(s), `${v.name}: ${s} missing from docs/PROTOCOL.md`);
  if (print) {
    console.log(`## ${v.name}`);
    console.log(`metadata (as sent): ${v.metadata}`);
    console.log(`JCS(metadata):      ${got.jcs}`);
    console.log(`AAD hex:            ${got.aad.toString('hex')}`);
    console.log(`plaintext:          ${v.plaintext}`);
    for (const f of ['enclavePriv', 'enclavePub', 'ephemeralPriv', 'ephemeralPub', 'nonce', 'shared',
                     'key', 'ciphertext', 'tag'])
      console.log(`${f.padEnd(14)} hex ${got[f].toString('hex')}\n${''.padEnd(14)} b64 ${got[f].toString('base64')}`);
  }
}

if (failures > 0) {
  console.error(`${failures} mismatch(es): the published envelope vectors do not reproduce`);
  process.exit(1);
}
console.log(`envelope vectors: ${VECTORS.length} reproduced with node:crypto (${process.version})`);
