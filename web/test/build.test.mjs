// The served module is what web/build.mjs makes from these sources, the same
// bytes every time, self-contained (no import, require or dynamic code at run
// time, no machine path), with the Subresource Integrity value beside it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BUILT, WEB } from './helpers.mjs';

test('a rebuild gives the same bytes, and the .sha384 file is their SRI value', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pa-web-build.'));
  try {
    execFileSync(process.execPath, [join(WEB, 'build.mjs'), '--outdir', dir], { stdio: 'pipe' });
    const again = readFileSync(join(dir, 'crypto-helper.js'));
    const served = readFileSync(BUILT);
    assert.ok(again.equals(served), 'the served module is not what the sources build to');
    const sri = `sha384-${createHash('sha384').update(served).digest('base64')}`;
    assert.equal(readFileSync(`${BUILT}.sha384`, 'utf8'), `${sri}\n`);
    assert.equal(readFileSync(join(dir, 'crypto-helper.js.sha384'), 'utf8'), `${sri}\n`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('self-contained: one ES module, nothing loaded or evaluated at run time', () => {
  const text = readFileSync(BUILT, 'utf8');
  assert.doesNotMatch(text, /\bimport\s*[({"'*]|\bimport\s+\w|\brequire\s*\(|\beval\s*\(|new Function\b|importScripts/);
  assert.doesNotMatch(text, /\/(work|home|root|tmp)\//);
  assert.match(text, /export\{[^}]*\bCryptoHelper\b/);
  assert.match(text, /export\{[^}]*\bverifyAttestation\b[^}]*\}/);
});
