// RFC 8785 (JCS) and the RFC 6962 Merkle root against the C side's published
// vectors, read from the C tests and docs themselves so the two sides cannot
// drift: RFC 8785 Appendix B and §3.2 (tests/unit/test_jcs.c), the powers of
// two (tests/unit/vectors/jcs_powers_of_two.txt), the Certificate
// Transparency roots (tests/unit/test_merkle.c) and the worked example of
// docs/PROTOCOL.md.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CryptoHelper, readText } from './helpers.mjs';
import { merkleRoot } from '../src/crypto-helper/merkle.js';

const JCS_C = readText('tests', 'unit', 'test_jcs.c');
const MERKLE_C = readText('tests', 'unit', 'test_merkle.c');
const PROTOCOL = readText('docs', 'PROTOCOL.md');
const hex = (b) => Buffer.from(b).toString('hex');
const cString = (s) => JSON.parse(`"${s.replace(/\\x([0-9a-f]{2})/gi, (_, h) => `\\u00${h}`)}"`);

test('RFC 8785 Appendix B: every finite row, as test_jcs.c has them', () => {
  const table = /APPENDIX_B\[\] = \{([\s\S]*?)\n\};/.exec(JCS_C)[1];
  const rows = [...table.matchAll(/\{0x([0-9a-f]{16}), "([^"]+)"\}/g)];
  assert.ok(rows.length >= 20, `${rows.length} rows`);
  const view = new DataView(new ArrayBuffer(8));
  for (const [, bits, want] of rows) {
    view.setBigUint64(0, BigInt(`0x${bits}`));
    assert.equal(CryptoHelper.canonicalize(view.getFloat64(0)), want, bits);
  }
  for (const bad of [NaN, Infinity, -Infinity]) assert.throws(() => CryptoHelper.canonicalize(bad));
});

test('RFC 8785 §3.2: the sample, its UTF-8 bytes, and the sorting example', () => {
  const hexWant = [.../RFC_SAMPLE_HEX\[\] =\s*((?:\s*"[0-9a-f]+")+);/.exec(JCS_C)[1].matchAll(/"([0-9a-f]+)"/g)]
    .map((m) => m[1]).join('');
  const input = '{\n  "numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001],\n' +
    '  "string": "\\u20ac$\\u000F\\u000aA\'\\u0042\\u0022\\u005c\\\\\\"\\/",\n  "literals": [null, true, false]\n}';
  assert.equal(hex(Buffer.from(CryptoHelper.canonicalize(JSON.parse(input)), 'utf8')), hexWant);
  const sorted = CryptoHelper.canonicalize(JSON.parse('{"\\u20ac": "Euro Sign", "\\r": "Carriage Return", ' +
    '"\\ufb33": "Hebrew Letter Dalet With Dagesh", "1": "One", "\\ud83d\\ude00": "Emoji: Grinning Face", ' +
    '"\\u0080": "Control", "\\u00f6": "Latin Small Letter O With Diaeresis"}'));
  assert.equal(sorted, '{"\\r":"Carriage Return","1":"One","\u0080":"Control","ö":"Latin Small Letter O With Diaeresis",' +
    '"€":"Euro Sign","😀":"Emoji: Grinning Face","דּ":"Hebrew Letter Dalet With Dagesh"}');
});

test('JCS: powers of two as tests/unit/vectors/jcs_powers_of_two.txt', () => {
  let n = 0;
  for (const line of readText('tests', 'unit', 'vectors', 'jcs_powers_of_two.txt').split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const [k, want] = line.split(' ');
    assert.equal(CryptoHelper.canonicalize(2 ** Number(k)), want, k);
    n++;
  }
  assert.ok(n > 2000);
});

test('JCS refuses what has no canonical form', () => {
  assert.throws(() => CryptoHelper.canonicalize({ a: '\ud800' }), /lone surrogate/);
  assert.throws(() => CryptoHelper.canonicalize({ ['\udc00']: 1 }), /lone surrogate/);
  assert.throws(() => CryptoHelper.canonicalize({ a: undefined }));
  assert.throws(() => CryptoHelper.canonicalize(1n));
  let deep = 1;
  for (let i = 0; i < 2100; i++) deep = [deep];
  assert.throws(() => CryptoHelper.canonicalize(deep), /deeply/);
  assert.equal(CryptoHelper.canonicalize(-0), '0');
  assert.equal(CryptoHelper.canonicalize({ b: [1, { d: null, c: 'x' }], a: '\u2028/' }), '{"a":"\u2028/","b":[1,{"c":"x","d":null}]}');
});

test('Merkle: the Certificate Transparency roots of test_merkle.c', () => {
  const inputs = [.../CT_INPUTS\[8\] = \{([\s\S]*?)\};/.exec(MERKLE_C)[1].matchAll(/"([0-9a-f]*)"/g)].map((m) => Buffer.from(m[1], 'hex'));
  const roots = [.../CT_ROOTS\[8\] = \{([\s\S]*?)\};/.exec(MERKLE_C)[1].matchAll(/"([0-9a-f]{64})"/g)].map((m) => m[1]);
  assert.equal(inputs.length, 8);
  assert.equal(roots.length, 8);
  for (let n = 1; n <= 8; n++) assert.equal(hex(merkleRoot(inputs.slice(0, n).map((b) => new Uint8Array(b)))), roots[n - 1], `size ${n}`);
  assert.equal(hex(merkleRoot([])), /CT_EMPTY_ROOT\[\] =\s*"([0-9a-f]{64})"/.exec(MERKLE_C)[1]);
});

test('Merkle: the worked example of docs/PROTOCOL.md', () => {
  const entries = [...PROTOCOL.matchAll(/^d\((\d)\) = (\{.*\})$/gm)].map((m) => JSON.parse(m[2]));
  assert.equal(entries.length, 4);
  // the JCS form is what the document shows
  for (const m of PROTOCOL.matchAll(/^d\((\d)\) = (\{.*\})$/gm)) assert.equal(CryptoHelper.canonicalize(JSON.parse(m[2])), m[2]);
  const root = /^merkle_root = .* = ([0-9a-f]{64})$/m.exec(PROTOCOL)[1];
  assert.equal(CryptoHelper.merkleRoot(entries), root);
  const three = /With only the first three entries the split is 2 \+ 1 and the root is\n`([0-9a-f]{64})`/.exec(PROTOCOL)[1];
  assert.equal(CryptoHelper.merkleRoot(entries.slice(0, 3)), three);
});
