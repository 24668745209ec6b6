// The v1 credential envelope (docs/PROTOCOL.md, "Credential envelope"):
// X25519 -> HKDF-SHA256(salt = ephemeral_pub || enclave_pub,
// info "perfagg/v1/credentials") -> AES-256-GCM with AAD = UTF-8(JCS(metadata)).
// WebCrypto does the work where the platform has X25519 (Node 20, current
// Chromium, Firefox, Safari); otherwise the bundled @noble implementations do.
// Both produce the same bytes (the test vectors are checked through both).
import { x25519 } from '@noble/curves/ed25519.js';
import { hkdf } from '@noble/hashes/hkdf.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { gcm } from '@noble/ciphers/aes.js';
import { b64encode, concat, toBytes, utf8, wipe } from './bytes.js';
import { canonicalize } from './jcs.js';
import { parseTime } from './time.js';

const INFO = utf8('perfagg/v1/credentials');
const PKCS8_X25519_PREFIX = new Uint8Array([0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03,
  0x2b, 0x65, 0x6e, 0x04, 0x22, 0x04, 0x20]);
const PLAINTEXT_MAX = 8192;
// Control (Cc) and format (Cf) characters are refused in labels
// (docs/PROTOCOL.md, src/common/text.c).
const BAD_LABEL_CHAR = /[\p{Cc}\p{Cf}]/u;
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

function fail(msg) { throw new TypeError(`encryptCredentials: ${msg}`); }

function checkMetadata(m) {
  if (m === null || typeof m !== 'object' || Array.isArray(m)) fail('metadata must be an object');
  for (const k of Object.keys(m))
    if (!['exchange', 'label', 'ttl', 'not_after', 'enclave_key_id'].includes(k)) fail(`metadata has an unknown member "${k}"`);
  const cps = (s) => [...s].length;
  if (typeof m.exchange !== 'string' || cps(m.exchange) < 1 || cps(m.exchange) > 32)
    fail('metadata.exchange must be 1..32 characters');
  if (typeof m.label !== 'string' || cps(m.label) < 1 || cps(m.label) > 64)
    fail('metadata.label must be 1..64 characters');
  if (BAD_LABEL_CHAR.test(m.label) || LONE_SURROGATE.test(m.label))
    fail('metadata.label must not contain control or format characters');
  if (m.ttl !== undefined && !Number.isSafeInteger(m.ttl)) fail('metadata.ttl must be an integer');
  if (m.not_after !== undefined && parseTime(m.not_after) === null) fail('metadata.not_after must be an RFC 3339 date-time');
  // an enclave-made API key (POST /enclave/keygen, docs/PROTOCOL.md): its key_id
  if (m.enclave_key_id !== undefined && (typeof m.enclave_key_id !== 'string' ||
      !/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/.test(m.enclave_key_id)))
    fail('metadata.enclave_key_id must be the key_id of an enclave-made key (a lowercase UUID v4)');
}

// What the enclave's pa_credentials_parse accepts (docs/PROTOCOL.md, "The
// plaintext"): refused here with the reason, since the enclave can only say
// decryption_failed.
const SYMBOL = /^[A-Z0-9]{2,20}$/;
function checkCredentials(c, m) {
  if (c === null || typeof c !== 'object' || Array.isArray(c)) fail('credentials must be an object');
  const known = ['exchange', 'apiKey', 'apiSecret', 'passphrase', 'accountType', 'symbols', 'sandbox', 'accountSalt', 'discloseUid'];
  for (const k of Object.keys(c)) if (!known.includes(k)) fail(`credentials has an unknown member "${k}"`);
  // an enclave-made key's secret never leaves the enclave: the plaintext must not carry one
  const enclaveKey = m !== null && typeof m === 'object' && m.enclave_key_id !== undefined;
  if (enclaveKey && c.apiSecret !== undefined) fail('credentials.apiSecret must be absent with an enclave-made key');
  const bytes = (s) => utf8(s).length;
  for (const k of ['exchange', 'apiKey', 'apiSecret', 'passphrase']) {
    if ((k === 'passphrase' || (k === 'apiSecret' && enclaveKey)) && c[k] === undefined) continue;
    if (typeof c[k] !== 'string' || bytes(c[k]) < 1 || bytes(c[k]) > 512) fail(`credentials.${k} must be a string of 1..512 bytes`);
    if (LONE_SURROGATE.test(c[k])) fail(`credentials.${k} is not valid Unicode`);
  }
  if (c.exchange !== m.exchange) fail('credentials.exchange must equal metadata.exchange');
  if (c.accountType !== undefined && c.accountType !== 'spot' && c.accountType !== 'usdm') fail('credentials.accountType must be "spot" or "usdm"');
  if (c.symbols !== undefined && (!Array.isArray(c.symbols) || c.symbols.length < 1 || c.symbols.length > 100 ||
      !c.symbols.every((x) => typeof x === 'string' && SYMBOL.test(x)) || new Set(c.symbols).size !== c.symbols.length))
    fail('credentials.symbols must be 1..100 distinct symbols of 2..20 characters A-Z, 0-9');
  for (const k of ['sandbox', 'discloseUid'])
    if (c[k] !== undefined && typeof c[k] !== 'boolean') fail(`credentials.${k} must be true or false`);
  if (c.accountSalt !== undefined) {
    const salt = typeof c.accountSalt === 'string' ? toBytes(c.accountSalt) : null;
    if (!salt || salt.length !== 32) fail('credentials.accountSalt must be 32 bytes of standard base64');
  }
}

function subtle() {
  const c = globalThis.crypto;
  return c && c.subtle ? c.subtle : null;
}

function randomBytes(n) {
  const c = globalThis.crypto;
  if (!c || typeof c.getRandomValues !== 'function') fail('no cryptographic random source on this platform');
  return c.getRandomValues(new Uint8Array(n));
}

// WebCrypto: returns null when the platform lacks X25519 (so the caller falls
// back), throws on any other failure.
async function sealWebCrypto(ephemeralPriv, enclavePub, nonce, aad, plaintext) {
  const s = subtle();
  if (!s) return null;
  let priv, ephPub;
  try {
    if (ephemeralPriv) {
      const pkcs8 = concat(PKCS8_X25519_PREFIX, ephemeralPriv);
      priv = await s.importKey('pkcs8', pkcs8, { name: 'X25519' }, true, ['deriveBits']);
      wipe(pkcs8);
      const jwk = await s.exportKey('jwk', priv);
      ephPub = toBytes(jwk.x.replace(/-/g, '+').replace(/_/g, '/') + '='.repeat((4 - (jwk.x.length % 4)) % 4));
    } else {
      const pair = await s.generateKey({ name: 'X25519' }, true, ['deriveBits']);
      priv = pair.privateKey;
      ephPub = new Uint8Array(await s.exportKey('raw', pair.publicKey));
    }
  } catch (e) {
    if (e && (e.name === 'NotSupportedError' || /X25519|algorithm/i.test(String(e.message)))) return null;
    throw e;
  }
  const peer = await s.importKey('raw', enclavePub, { name: 'X25519' }, false, []);
  let shared;
  try {
    shared = new Uint8Array(await s.deriveBits({ name: 'X25519', public: peer }, priv, 256));
  } catch {
    fail('the enclave key is a low-order point (the shared secret would be public)');
  }
  if (shared.every((b) => b === 0)) fail('the enclave key is a low-order point (the shared secret would be public)');
  const ikm = await s.importKey('raw', shared, 'HKDF', false, ['deriveKey']);
  wipe(shared);
  const key = await s.deriveKey({ name: 'HKDF', hash: 'SHA-256', salt: concat(ephPub, enclavePub), info: INFO },
    ikm, { name: 'AES-GCM', length: 256 }, false, ['encrypt']);
  const sealed = new Uint8Array(await s.encrypt({ name: 'AES-GCM', iv: nonce, additionalData: aad, tagLength: 128 },
    key, plaintext));
  return { ephPub, sealed, impl: 'webcrypto' };
}

function sealNoble(ephemeralPriv, enclavePub, nonce, aad, plaintext) {
  const priv = ephemeralPriv ? Uint8Array.from(ephemeralPriv) : x25519.utils.randomSecretKey();
  const ephPub = x25519.getPublicKey(priv);
  let shared;
  try {
    shared = x25519.getSharedSecret(priv, enclavePub);
  } catch {
    fail('the enclave key is a low-order point (the shared secret would be public)');
  }
  if (shared.every((b) => b === 0)) fail('the enclave key is a low-order point (the shared secret would be public)');
  const key = hkdf(sha256, shared, concat(ephPub, enclavePub), INFO, 32);
  const sealed = gcm(key, nonce, aad).encrypt(plaintext);
  wipe(priv, shared, key);
  return { ephPub, sealed, impl: 'noble' };
}

// impl: 'auto' (WebCrypto, else noble), 'webcrypto' or 'noble' (tests).
export async function seal(credentials, enclavePubkey, metadata, fixed, impl = 'auto') {
  checkMetadata(metadata);
  checkCredentials(credentials, metadata);
  const enclavePub = toBytes(enclavePubkey);
  if (!enclavePub || enclavePub.length !== 32) fail('enclavePubkey must be 32 bytes (raw X25519, base64)');
  let ephemeralPriv = null;
  let nonce;
  if (fixed !== undefined && fixed !== null) {
    ephemeralPriv = toBytes(fixed.ephemeralPrivateKey);
    nonce = toBytes(fixed.nonce);
    if (!ephemeralPriv || ephemeralPriv.length !== 32) fail('fixed.ephemeralPrivateKey must be 32 bytes');
    if (!nonce || nonce.length !== 12) fail('fixed.nonce must be 12 bytes');
  } else {
    nonce = randomBytes(12);
  }
  const aad = utf8(canonicalize(metadata));
  const plaintext = utf8(JSON.stringify(credentials));
  if (plaintext.length > PLAINTEXT_MAX) { wipe(plaintext); fail(`credentials exceed ${PLAINTEXT_MAX} bytes`); }
  try {
    let r = null;
    if (impl === 'auto' || impl === 'webcrypto') r = await sealWebCrypto(ephemeralPriv, enclavePub, nonce, aad, plaintext);
    if (r === null && impl === 'webcrypto') fail('this platform has no WebCrypto X25519');
    if (r === null) r = sealNoble(ephemeralPriv, enclavePub, nonce, aad, plaintext);
    const ct = r.sealed.subarray(0, r.sealed.length - 16);
    const tag = r.sealed.subarray(r.sealed.length - 16);
    const body = {
      ephemeral_pub: b64encode(r.ephPub),
      nonce: b64encode(nonce),
      ciphertext: b64encode(ct),
      tag: b64encode(tag),
      metadata,
    };
    Object.defineProperty(body, 'implementation', { value: r.impl, enumerable: false });
    return body;
  } finally {
    wipe(plaintext);
  }
}
