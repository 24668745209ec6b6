// The checks shared by a live attestation (verifyAttestation) and the one in a
// result bundle (verifyAggregates), as src/client/attestation_check.c: the
// document is authentic under the chosen root at the chosen time, and binds
// exactly the nonce, the two public keys and the image hash around it.
import { b64decode, hex, unhex } from './bytes.js';
import { AUTHENTICITY, keyBinding, verifyDocument } from './attest.js';
import { formatTime } from './time.js';

export const IMAGE_HASH_REQUIRED =
  'with the AWS Nitro root you must say which enclave image you trust (expectedImageHash)';

export class Report {
  constructor() { this.checks = []; }
  add(name, status, detail) { this.checks.push({ name, status, detail }); }
  get ok() { return this.checks.length > 0 && this.checks.every((c) => c.status === 'ok'); }
  get reasons() { return this.checks.filter((c) => c.status === 'failed').map((c) => `${c.name}: ${c.detail}`); }
}

// The {quote, enclave_pubkey, signing_pubkey, image_hash} object, decoded.
export function parseAttestationFields(att) {
  const keys = ['quote', 'enclave_pubkey', 'signing_pubkey', 'image_hash'];
  if (att === null || typeof att !== 'object' || Array.isArray(att) ||
      Object.keys(att).some((k) => !keys.includes(k)))
    return { why: 'attestation must be {quote, enclave_pubkey, signing_pubkey, image_hash}' };
  const quote = typeof att.quote === 'string' && att.quote.length <= 64 * 1024 ? b64decode(att.quote) : null;
  if (!quote || quote.length === 0) return { why: 'attestation.quote is not base64' };
  const enclavePub = b64decode(att.enclave_pubkey);
  if (!enclavePub || enclavePub.length !== 32) return { why: 'attestation.enclave_pubkey is not 32 bytes of base64' };
  const signingPub = b64decode(att.signing_pubkey);
  if (!signingPub || signingPub.length !== 32) return { why: 'attestation.signing_pubkey is not 32 bytes of base64' };
  if (typeof att.image_hash !== 'string' || !/^[0-9a-f]{96}$/.test(att.image_hash))
    return { why: 'attestation.image_hash is not 96 lowercase hex digits' };
  return { quote, enclavePub, signingPub, imageHash: att.image_hash };
}

// expect: {imageHash (hex or null), pcrs: {index: hex}, allowDebug}
// when: {atMs, maxSkewMs, what}; nonce: bytes; payloadImageHash: or null.
export function attestationCheck(f, nonce, nonceWhat, root, expect, when, payloadImageHash, r) {
  let badPin = false;
  const pcrs = new Map();
  let wantPcr0 = null;
  if (expect.imageHash !== undefined && expect.imageHash !== null) {
    wantPcr0 = unhex(expect.imageHash, 48);
    if (!wantPcr0) badPin = true;
    else pcrs.set(0, wantPcr0);
  }
  const others = [];
  for (const [k, v] of Object.entries(expect.pcrs ?? {})) {
    const i = Number(k);
    const b = unhex(v, 48);
    if (!Number.isInteger(i) || i < 1 || i > 31 || !b) { badPin = true; continue; }
    pcrs.set(i, b);
    others.push(i);
  }
  const binding = keyBinding(f.enclavePub, f.signingPub);
  const { result: res, claims } = verifyDocument(f.quote, root.der, {
    atMs: when.atMs, maxSkewMs: when.maxSkewMs, allowDebug: !!expect.allowDebug, pcrs,
    nonce: nonce ?? undefined, publicKey: f.enclavePub, userData: binding,
  });
  const unpinned = root.aws && wantPcr0 === null && !badPin && expect.imageHash == null;
  const pinnedAny = expect.imageHash != null || others.length > 0;
  const at = formatTime(when.atMs);
  const authentic = [...AUTHENTICITY, 'debug'];
  const out = { document: res, claims: null };
  if (!res.ok(authentic)) {
    r.add('attestation', 'failed', `document not valid under ${root.name} as of ${at} (${when.what}): ${res.failures(authentic).join('; ') || 'verification failed'}`);
    for (const n of ['attestation_nonce', 'attestation_public_key', 'attestation_key_binding', 'image_hash'])
      r.add(n, 'skipped', 'the document is not authentic');
    if (unpinned) r.add('expected_image_hash', 'failed', IMAGE_HASH_REQUIRED);
    else if (pinnedAny) r.add('expected_image_hash', 'skipped', 'the document is not authentic');
    return out;
  }
  const imageHash = hex(claims.pcrs.get(0));
  out.claims = {
    imageHash, moduleId: claims.moduleId, timestamp: formatTime(claims.timestampMs),
    leafNotBefore: formatTime(claims.leafNotBeforeMs), leafNotAfter: formatTime(claims.leafNotAfterMs),
    enclavePubkey: f.enclavePub, signingPubkey: f.signingPub,
    pcrs: Object.fromEntries([...claims.pcrs].map(([i, v]) => [i, hex(v)])),
  };
  r.add('attestation', 'ok', `COSE ES384 signature, certificate chain to ${root.name} as of ${at} (${when.what}); ` +
    `document of ${formatTime(claims.timestampMs)}, within ${Math.trunc(when.maxSkewMs / 1000)} s (${claims.moduleId})`);
  if (!nonce) r.add('attestation_nonce', 'failed', `no nonce given (${nonceWhat}): the document's freshness is not established`);
  else if (res.status.nonce === 'pass') r.add('attestation_nonce', 'ok', `document nonce = ${nonceWhat}`);
  else r.add('attestation_nonce', 'failed', `document nonce is not ${nonceWhat}`);
  if (res.status.public_key === 'pass') r.add('attestation_public_key', 'ok', 'document public_key = enclave_pubkey');
  else r.add('attestation_public_key', 'failed', 'document public_key is not enclave_pubkey');
  if (res.status.user_data === 'pass')
    r.add('attestation_key_binding', 'ok', 'document user_data = SHA-256("perfagg/v1/keys" || enclave_pubkey || signing_pubkey)');
  else r.add('attestation_key_binding', 'failed', 'document user_data does not bind enclave_pubkey and signing_pubkey');
  const same = imageHash === f.imageHash;
  const payloadSame = payloadImageHash === null || payloadImageHash === imageHash;
  if (same && payloadSame) r.add('image_hash', 'ok', `PCR0 = ${imageHash}${payloadImageHash !== null ? ' (attestation and payload)' : ''}`);
  else r.add('image_hash', 'failed', `PCR0 ${imageHash} differs from the ${!same ? "attestation's" : "payload's"} image_hash`);

  if (!unpinned && !pinnedAny) return out;
  const badOthers = others.filter((i) => res.detail.pcrs.some((d) => d.startsWith(`PCR${i} `)));
  const pcr0Ok = wantPcr0 !== null && !res.detail.pcrs.some((d) => d.startsWith('PCR0 '));
  const list = (a) => a.map((i) => `PCR${i}`).join(', ');
  if (unpinned) r.add('expected_image_hash', 'failed', IMAGE_HASH_REQUIRED);
  else if (badPin) r.add('expected_image_hash', 'failed', 'the expected image hash or a PCR is not 96 hex digits');
  else if ((wantPcr0 === null || pcr0Ok) && badOthers.length === 0 && res.status.pcrs !== 'fail') {
    const parts = [];
    if (wantPcr0) parts.push('PCR0 = the image you pinned');
    if (others.length) parts.push(`${list(others)} = the values you gave`);
    r.add('expected_image_hash', 'ok', parts.join('; '));
  } else if (wantPcr0 !== null && !pcr0Ok) {
    r.add('expected_image_hash', 'failed', `PCR0 is not the image you pinned (${expect.imageHash})`);
  } else {
    r.add('expected_image_hash', 'failed', `${list(badOthers) || 'a PCR'} ${badOthers.length > 1 ? 'are' : 'is'} not the value you gave`);
  }
  return out;
}
