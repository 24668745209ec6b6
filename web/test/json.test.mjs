// Strict JSON: what JSON.parse reads, except duplicate member names (refused,
// as the C client's jansson JSON_REJECT_DUPLICATES does).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CryptoHelper } from './helpers.mjs';

test('duplicate member names are refused, at any depth, compared decoded', () => {
  for (const bad of ['{"a":1,"a":2}', '{"a":1,"\\u0061":2}', '[{"x":{"b":[1,{"c":1,"c":1}]}}]',
    '{"o":{"k":1},"p":{"k":1,"k":2}}', '{"s":"{\\"a\\":1,\\"a\\":2}","s":0}'])
    assert.throws(() => CryptoHelper.parseJson(bad), /duplicate member name/, bad);
  for (const good of ['{"a":1,"b":{"a":1}}', '[{"a":1},{"a":1}]', '{"s":"{\\"a\\":1,\\"a\\":2}"}',
    '{"a":"\\"","b":"\\\\"}', '{"a":[",\\"a\\":"],"b":1}', ' {"a" : 1 , "b" : [ ] } ', '"x"', '1'])
    assert.deepEqual(CryptoHelper.parseJson(good), JSON.parse(good), good);
  assert.throws(() => CryptoHelper.parseJson('{"a":1,}'), SyntaxError);
});

test('verifyAggregates refuses bundle text with a duplicate key', () => {
  const r = CryptoHelper.verifyAggregates('{"version":1,"version":1,"response":{},"logs":{}}', undefined, {});
  assert.equal(r.ok, false);
  assert.deepEqual(r.checks.map((c) => [c.name, c.status]), [['bundle_format', 'failed']]);
  assert.match(r.reasons[0], /duplicate key/);
});
