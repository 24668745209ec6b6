#!/usr/bin/env node
// An independent check of a perfagg result bundle with Node's built-in crypto
// only: the Ed25519 signature over RFC 8785 JCS(payload) and the RFC 6962
// Merkle root over the audit log. The attestation (COSE, CBOR, X.509 chain) is
// left to `perfagg verify`; this script prints the payload hash the
// attestation's nonce must equal.
//
//   node tools/verify-bundle.mjs result.json
//
// JCS here is the RFC's own recipe for ECMAScript: JSON.stringify already
// formats numbers and escapes strings as RFC 8785 requires, and sorting keys
// with the default sort compares UTF-16 code units, as RFC 8785 requires.
import { createHash, createPublicKey, verify } from 'node:crypto';
import { readFileSync } from 'node:fs';

function jcs(v) {
  if (v === null || typeof v !== 'object') return JSON.stringify(v);
  if (Array.isArray(v)) return `[${v.map(jcs).join(',')}]`;
  return `{${Object.keys(v).sort().map((k) => `${JSON.stringify(k)}:${jcs(v[k])}`).join(',')}}`;
}

const sha256 = (...parts) => {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return h.digest();
};

function merkleRoot(leaves) {
  if (leaves.length === 0) return sha256(Buffer.alloc(0));
  if (leaves.length === 1) return sha256(Buffer.from([0]), leaves[0]);
  let k = 1;
  while (k * 2 < leaves.length) k *= 2;
  return sha256(Buffer.from([1]), merkleRoot(leaves.slice(0, k)), merkleRoot(leaves.slice(k)));
}

const file = process.argv[2];
if (!file) {
  console.error('usage: node tools/verify-bundle.mjs BUNDLE.json');
  process.exit(2);
}
const bundle = JSON.parse(readFileSync(file, 'utf8'));
const { response, logs } = bundle;
const { payload, signature } = response.aggregates_signed;
let ok = true;
const check = (cond, what) => {
  console.log(`${cond ? 'ok    ' : 'FAILED'}  ${what}`);
  ok &&= cond;
};

// Ed25519 public key from its raw 32 bytes: wrap it in the fixed SPKI prefix.
const raw = Buffer.from(response.attestation.signing_pubkey, 'base64');
const spki = Buffer.concat([Buffer.from('302a300506032b6570032100', 'hex'), raw]);
const key = createPublicKey({ key: spki, format: 'der', type: 'spki' });
const message = Buffer.from(jcs(payload), 'utf8');
check(raw.length === 32 && verify(null, message, key, Buffer.from(signature, 'base64')),
  'Ed25519 signature over JCS(payload)');
check(payload.type === 'perfagg/v1/aggregates', 'payload type');

const leaves = logs.entries.map((e) => Buffer.from(jcs(e.entry), 'utf8'));
logs.entries.forEach((e, i) => {
  if (e.index !== i || sha256(Buffer.from([0]), leaves[i]).toString('hex') !== e.leaf_hash) {
    check(false, `leaf ${i}`);
  }
});
const root = merkleRoot(leaves).toString('hex');
check(root === payload.merkle_root && root === response.merkle_root && root === logs.merkle_root,
  `merkle root ${root} recomputed from ${leaves.length} entries`);
console.log(`payload sha256 (the attestation nonce): ${sha256(message).toString('hex')}`);
process.exit(ok ? 0 : 1);
