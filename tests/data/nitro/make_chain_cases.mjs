#!/usr/bin/env node
// Writes chain_cases.json: attestation documents in the Nitro format signed
// by certificate chains of this script's own making (openssl CLI), each
// breaking one X.509 rule, or signing a payload that breaks one payload
// rule, for the C verifier
// (tests/unit/test_attest.c, test_shared_chain_cases) and the JavaScript one
// (web/test/attest.test.mjs) alike. Run once, output committed (the keys are
// thrown away):  node tests/data/nitro/make_chain_cases.mjs
import { execFileSync } from 'node:child_process';
import { createPrivateKey, sign } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { encode } from '../../../web/node_modules/cborg/cborg.js';

const here = dirname(fileURLToPath(import.meta.url));
const tmp = mkdtempSync(join(tmpdir(), 'pa-chain-cases.'));
const f = (n) => join(tmp, n);
const ossl = (...a) => execFileSync('openssl', a, { stdio: ['ignore', 'pipe', 'pipe'] });
let serial = 1000;

function key(name, curve = 'secp384r1') {
  ossl('genpkey', '-algorithm', 'EC', '-pkeyopt', `ec_paramgen_curve:${curve}`, '-pkeyopt', 'ec_param_enc:named_curve', '-out', f(`${name}.key`));
  return name;
}
// ext: lines of an openssl extension section; issuer: [certName, keyName] or null (self-signed)
function cert(name, keyName, cn, ext, issuer, { days = 3650, md = 'sha384' } = {}) {
  writeFileSync(f(`${name}.ext`), `[v3]\n${ext.join('\n')}\n`);
  ossl('req', '-new', '-key', f(`${keyName}.key`), '-subj', `/O=perfagg test/CN=${cn}`, '-out', f(`${name}.csr`));
  const args = ['x509', '-req', '-in', f(`${name}.csr`), '-days', String(days), `-${md}`, '-set_serial', String(serial++),
    '-extfile', f(`${name}.ext`), '-extensions', 'v3', '-out', f(`${name}.pem`)];
  if (issuer) args.push('-CA', f(`${issuer[0]}.pem`), '-CAkey', f(`${issuer[1]}.key`));
  else args.push('-signkey', f(`${keyName}.key`));
  ossl(...args);
  return name;
}
const der = (name) => new Uint8Array(ossl('x509', '-in', f(`${name}.pem`), '-outform', 'DER'));

const CA = ['basicConstraints = critical, CA:TRUE', 'keyUsage = critical, keyCertSign, cRLSign',
  'subjectKeyIdentifier = hash', 'authorityKeyIdentifier = keyid'];
const ROOT = ['basicConstraints = critical, CA:TRUE', 'keyUsage = critical, keyCertSign, cRLSign', 'subjectKeyIdentifier = hash',
  'authorityKeyIdentifier = none'];
const LEAF = ['basicConstraints = critical, CA:FALSE', 'keyUsage = critical, digitalSignature', 'subjectKeyIdentifier = hash',
  'authorityKeyIdentifier = keyid'];
// openssl x509 -req adds both key identifiers unless told "none"
const without = (list, prefix) => [...list.filter((l) => !l.startsWith(prefix)),
  ...(prefix.endsWith('KeyIdentifier') ? [`${prefix} = none`] : [])];

const at = Math.floor(Date.now() / 60000) * 60000 + 3600000; // an hour after the certificates start
key('root');
cert('root', 'root', 'test root', ROOT, null);
key('inter');
cert('inter', 'inter', 'test intermediate', CA, ['root', 'root']);
key('leaf');

// edit(map) may change the payload map before it is encoded; raw(bytes) the encoding
function document(leafCert, leafKey, bundle, { edit = () => {}, raw = (b) => b } = {}) {
  const pcrs = new Map([[0, new Uint8Array(48).fill(0x11)], [1, new Uint8Array(48).fill(0x22)], [2, new Uint8Array(48).fill(0x33)]]);
  const map = new Map([['module_id', 'perfagg-test'], ['digest', 'SHA384'], ['timestamp', at], ['pcrs', pcrs],
    ['certificate', der(leafCert)], ['cabundle', bundle.map(der)], ['public_key', null], ['user_data', null], ['nonce', null]]);
  edit(map);
  const payload = raw(encode(map));
  const protectedHdr = new Uint8Array([0xa1, 0x01, 0x38, 0x22]);
  const tbs = encode(['Signature1', protectedHdr, new Uint8Array(0), payload]);
  let sig = sign('sha384', tbs, { key: createPrivateKey(readFileSync(f(`${leafKey}.key`))), dsaEncoding: 'ieee-p1363' });
  // a P-256 signer's 64 bytes, padded to the 96 the envelope requires, so the
  // document reaches the key check
  if (sig.length < 96) sig = Buffer.concat([sig, Buffer.alloc(96 - sig.length)]);
  return Buffer.from(encode([protectedHdr, new Map(), payload, new Uint8Array(sig)])).toString('base64');
}

const cases = [];
function add(name, leafExt, opts = {}) {
  const id = `leaf${cases.length}`;
  const leafKey = opts.leafKey ?? 'leaf';
  cert(id, leafKey, `test leaf ${cases.length}`, leafExt, opts.issuer ?? ['inter', 'inter'], opts.cert);
  cases.push({ name, doc: document(id, leafKey, opts.bundle ?? ['root', 'inter']), at: new Date(opts.at ?? at).toISOString(),
    expect: opts.reason ? 'reject' : 'accept', ...(opts.reason ? { check: opts.check ?? 'chain', reason: opts.reason } : {}) });
}

add('control: root -> intermediate -> leaf', LEAF);
add('control: a leaf without an authority key identifier (as AWS issues them)', without(LEAF, 'authorityKeyIdentifier'));
add('the signer is a CA (CA:TRUE, keyCertSign)', ['basicConstraints = critical, CA:TRUE', 'keyUsage = critical, digitalSignature, keyCertSign',
  'subjectKeyIdentifier = hash', 'authorityKeyIdentifier = keyid'], { reason: 'not a leaf' });
add('the signer says CA:TRUE without keyCertSign', ['basicConstraints = critical, CA:TRUE', 'keyUsage = critical, digitalSignature',
  'subjectKeyIdentifier = hash', 'authorityKeyIdentifier = keyid'], { reason: 'not a leaf' });
add('the signer has no basicConstraints', without(LEAF, 'basicConstraints'), { reason: 'not a leaf' });
add('the signer has no keyUsage', without(LEAF, 'keyUsage'), { reason: 'lacks the digitalSignature key usage' });
add('the signer may sign certificates', [...without(LEAF, 'keyUsage'), 'keyUsage = critical, digitalSignature, cRLSign'],
  { reason: 'may sign certificates' });
add('the signer has an unknown critical extension', [...LEAF, '1.3.6.1.4.1.99999.1 = critical, ASN1:NULL'], { reason: 'certificate chain' });
add('the leaf is expired at the time of the check', LEAF, { cert: { days: 1 }, at: at + 2 * 86400000, reason: 'certificate has expired' });
add('the leaf is signed with SHA-256 (allowed)', LEAF, { cert: { md: 'sha256' } });
add('the leaf is signed with SHA-1', LEAF, { cert: { md: 'sha1' }, reason: 'certificate chain' });
add('the intermediate is missing from the cabundle', LEAF, { bundle: ['root'], reason: 'unable to get local issuer certificate' });
key('leafp256', 'prime256v1');
add('the signer has a P-256 key', LEAF, { leafKey: 'leafp256', check: 'signature', reason: 'not ECDSA P-384' });

// intermediates that break a CA rule, each with a proper leaf under it
function badInter(name, ext, reason, opts = {}) {
  const id = `inter${cases.length}`;
  cert(id, 'inter', 'test intermediate', ext, ['root', 'root'], opts.cert);
  // the leaf without an AKID (tolerated on a leaf): an intermediate without a
  // subject key identifier has none to name
  add(name, without(LEAF, 'authorityKeyIdentifier'), { issuer: [id, 'inter'], bundle: ['root', id], reason, at: opts.at });
}
badInter('the intermediate is not a CA', without(CA, 'basicConstraints'), 'certificate chain');
badInter('the intermediate says CA:FALSE', ['basicConstraints = critical, CA:FALSE', ...without(CA, 'basicConstraints')], 'certificate chain');
badInter('the intermediate lacks keyCertSign', [...without(CA, 'keyUsage'), 'keyUsage = critical, digitalSignature'], 'certificate chain');
badInter('the intermediate has no subject key identifier', without(CA, 'subjectKeyIdentifier'), 'certificate chain');
badInter('the intermediate has no authority key identifier', without(CA, 'authorityKeyIdentifier'), 'certificate chain');
badInter('the intermediate basicConstraints is not critical', ['basicConstraints = CA:TRUE', ...without(CA, 'basicConstraints')], 'certificate chain');
badInter('the intermediate is expired', CA, 'certificate has expired', { cert: { days: 1 }, at: at + 2 * 86400000 });
badInter('the intermediate is signed with SHA-1', CA, 'certificate chain', { cert: { md: 'sha1' } });

// path length: a root that allows no intermediate
key('root0');
cert('root0', 'root0', 'test root pathlen 0', ['basicConstraints = critical, CA:TRUE, pathlen:0', ...without(ROOT, 'basicConstraints')], null);
cert('inter0', 'inter', 'test intermediate under pathlen 0', CA, ['root0', 'root0']);
const pl = cases.length;
cert(`leaf${pl}`, 'leaf', 'test leaf pathlen', LEAF, ['inter0', 'inter']);
cases.push({ name: 'the root allows no intermediate (pathlen:0)', root: 'root0', doc: document(`leaf${pl}`, 'leaf', ['root0', 'inter0']),
  at: new Date(at).toISOString(), expect: 'reject', check: 'chain', reason: 'path length constraint exceeded' });
// an intermediate of the same name but another key
key('other');
cert('other', 'other', 'test intermediate', CA, ['root', 'root']);
add('an intermediate of the same name with another key', LEAF, { bundle: ['root', 'other'], reason: 'certificate chain' });

// validly signed payloads that break the payload rules
cert('leafp', 'leaf', 'test leaf payload', LEAF, ['inter', 'inter']);
function badPayload(name, reason, opts) {
  cases.push({ name, doc: document('leafp', 'leaf', ['root', 'inter'], opts), at: new Date(at).toISOString(),
    expect: 'reject', check: 'format', reason });
}
badPayload('payload: the timestamp as a float', 'payload', { edit: (m) => m.set('timestamp', at + 0.5) });
badPayload('payload: a 32-byte PCR1', 'payload: pcrs must map', { edit: (m) => m.get('pcrs').set(1, new Uint8Array(32)) });
badPayload('payload: PCR2 missing', 'payload: PCR0, PCR1 and PCR2 are required', { edit: (m) => m.get('pcrs').delete(2) });
badPayload('payload: PCR32', 'payload: pcrs must map', { edit: (m) => m.get('pcrs').set(32, new Uint8Array(48)) });
badPayload('payload: an unknown key', 'payload: unknown key', { edit: (m) => m.set('extra', 1) });
badPayload('payload: digest SHA256', 'payload: digest must be', { edit: (m) => m.set('digest', 'SHA256') });
badPayload('payload: module_id with a line break', 'payload: module_id', { edit: (m) => m.set('module_id', 'a\nb') });
badPayload('payload: module_id of 128 bytes', 'payload: module_id', { edit: (m) => m.set('module_id', 'm'.repeat(128)) });
badPayload('payload: public_key of 1025 bytes', 'payload: public_key must be null', { edit: (m) => m.set('public_key', new Uint8Array(1025)) });
badPayload('payload: an empty cabundle', 'payload: cabundle must hold', { edit: (m) => m.set('cabundle', []) });
badPayload('payload: timestamp zero', 'payload: timestamp must be', { edit: (m) => m.set('timestamp', 0) });
badPayload('payload: timestamp missing', 'payload: a required key is missing', { edit: (m) => m.delete('timestamp') });
badPayload('payload: a byte after the map', 'payload: malformed CBOR', { raw: (b) => new Uint8Array([...b, 0]) });
badPayload('payload: the certificate followed by a byte', 'certificate is not a DER certificate',
  { edit: (m) => m.set('certificate', new Uint8Array([...m.get('certificate'), 0])) });
cases.push({ name: 'payload: public_key, user_data and nonce absent (as null)', doc: document('leafp', 'leaf', ['root', 'inter'],
  { edit: (m) => ['public_key', 'user_data', 'nonce'].forEach((k) => m.delete(k)) }), at: new Date(at).toISOString(), expect: 'accept' });

const roots = { root: readFileSync(f('root.pem'), 'utf8'), root0: readFileSync(f('root0.pem'), 'utf8') };
const out = {
  about: 'Attestation documents signed by chains made by make_chain_cases.mjs (openssl CLI; keys discarded), each breaking one X.509 rule or one payload rule (validly signed). Verify `doc` (base64) against roots[`root` or "root"] at `at`, no age limit, no expectations: `accept`, or `reject` with `reason` among the reasons of `check`. Read by tests/unit/test_attest.c (test_shared_chain_cases) and web/test/attest.test.mjs.',
  roots,
  cases: cases.map((c) => ({ root: 'root', ...c })),
};
const lines = ['{', `  "about": ${JSON.stringify(out.about)},`, `  "roots": ${JSON.stringify(out.roots)},`, '  "cases": [',
  out.cases.map((c) => `    ${JSON.stringify(c)}`).join(',\n'), '  ]', '}'];
writeFileSync(join(here, 'chain_cases.json'), `${lines.join('\n')}\n`);
rmSync(tmp, { recursive: true, force: true });
console.log(`chain_cases.json: ${cases.length} cases`);
