#!/usr/bin/env node
// Drives the CryptoHelper against a running perfagg stack, as the page does,
// for tests/integration/test_js_helper.py (which starts the stack: dev
// enclave, server, Binance simulator). Reads one JSON object on stdin (the
// API secret never goes on a command line) and prints one JSON object:
//
//   {"mode": "flow", "url", "dev_root" (PEM file), "api_key", "api_secret", "bundle_out"}
//     attest (fresh nonce) -> encrypt -> submit -> aggregates (challenge) -> logs
//     -> verifyAggregates; writes the bundle to bundle_out
//   {"mode": "verify", "bundle" (file), "dev_root"?, "challenge"?, "image_hash"?}
//     verifyAggregates on a saved bundle
//   {"mode": "attest", "url", "dev_root"?, "image_hash"?, "max_age"?}
//     verifyAttestation of a fresh quote
import { readFileSync, writeFileSync } from 'node:fs';
import { CryptoHelper } from '../test/helpers.mjs';

const input = JSON.parse(readFileSync(0, 'utf8'));
const root = input.dev_root ? readFileSync(input.dev_root, 'utf8') : undefined;

async function call(method, path, body) {
  const r = await fetch(input.url + path, {
    method, headers: body ? { 'Content-Type': 'application/json' } : {},
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await r.text();
  let json = null;
  try { json = JSON.parse(text); } catch { /* not JSON */ }
  return { status: r.status, json, text };
}

async function attest() {
  const nonce = crypto.getRandomValues(new Uint8Array(32));
  const b64 = Buffer.from(nonce).toString('base64');
  const q = await call('GET', `/attestation/quote?nonce=${encodeURIComponent(b64)}`);
  if (q.status !== 200) throw new Error(`quote: ${q.status} ${q.text}`);
  const opts = { nonce, root };
  if (input.max_age) opts.maxAgeSeconds = input.max_age;
  return { quote: q.json, nonce: b64, result: CryptoHelper.verifyAttestation(q.json, input.image_hash ?? null, opts) };
}

let out;
if (input.mode === 'attest') {
  const a = await attest();
  // the same quote under the built-in AWS root (no dev root named): refused
  const aws = CryptoHelper.verifyAttestation(a.quote, null, { nonce: Buffer.from(a.nonce, 'base64') });
  // the same quote with another nonce: refused
  const other = CryptoHelper.verifyAttestation(a.quote, null, { nonce: new Uint8Array(32), root });
  out = { attest: a.result, aws, other_nonce: other, quote: a.quote };
} else if (input.mode === 'flow') {
  const a = await attest();
  if (!a.result.ok) throw new Error(`attestation refused: ${a.result.reasons.join('; ')}`);
  const body = await CryptoHelper.encryptCredentials(
    { exchange: 'binance', apiKey: input.api_key, apiSecret: input.api_secret },
    a.result.claims.enclavePubkey, { exchange: 'binance', label: 'js helper', ttl: 3600 });
  const submit = await call('POST', '/enclave/submit_key', body);
  if (submit.status !== 200) throw new Error(`submit: ${submit.status} ${submit.text}`);
  const challenge = Buffer.from(crypto.getRandomValues(new Uint8Array(16))).toString('hex');
  const agg = await call('POST', '/enclave/request_aggregates', { session_id: submit.json.session_id, challenge });
  if (agg.status !== 200) throw new Error(`aggregates: ${agg.status} ${agg.text}`);
  const logs = await call('GET', agg.json.logs_url);
  if (logs.status !== 200) throw new Error(`logs: ${logs.status} ${logs.text}`);
  // the bundle `perfagg aggregates --out` writes: the answers spliced as received
  writeFileSync(input.bundle_out, `{"version":1,"response":${agg.text},"logs":${logs.text}}`);
  const verified = CryptoHelper.verifyAggregates(agg.text, logs.text, { root, challenge });
  const fromFile = CryptoHelper.verifyAggregates(readFileSync(input.bundle_out, 'utf8'), undefined, { root, challenge });
  const wrongChallenge = CryptoHelper.verifyAggregates(agg.json, logs.json, { root, challenge: 'not-it' });
  const awsRoot = CryptoHelper.verifyAggregates(agg.json, logs.json, {});
  out = { attest: a.result, submitted: { status: submit.status, implementation: body.implementation, body },
    session_id: submit.json.session_id, challenge, verified, from_file: fromFile, wrong_challenge: wrongChallenge, aws_root: awsRoot };
} else if (input.mode === 'verify') {
  out = CryptoHelper.verifyAggregates(readFileSync(input.bundle, 'utf8'), undefined,
    { root, challenge: input.challenge, expectedImageHash: input.image_hash });
} else {
  throw new Error(`unknown mode ${input.mode}`);
}
process.stdout.write(JSON.stringify(out));
