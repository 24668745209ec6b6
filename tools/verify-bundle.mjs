#!/usr/bin/env node
// Verifies a perfagg result bundle (the file `perfagg aggregates --out` writes)
// with the JavaScript CryptoHelper, the module the pages use
// (web/src/crypto-helper, built to build/web/client/crypto-helper.js by
// `make build` or scripts/web.sh): every check `perfagg verify` makes —
// the attestation against the root as of payload.issued_at, its nonce and key
// binding, the Ed25519 signature over JCS(payload), the Merkle root
// recomputed from the logs, the environment rule under the AWS root.
//
//   node tools/verify-bundle.mjs BUNDLE.json [--dev-root FILE] [--image-hash HEX]
//                                [--pcrN HEX]... [--challenge S] [--not-before T] [--not-after T]
//
// Exit 0 when every check passed, 1 when one did not, 2 on a usage error.
// The module is found at $PA_CRYPTO_HELPER, else $PA_BUILD_DIR/web/client/,
// else build/web/client/ of this repository.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const usage = (msg) => {
  console.error(`verify-bundle: ${msg}\nusage: node tools/verify-bundle.mjs BUNDLE.json [--dev-root FILE] ` +
    '[--image-hash HEX] [--pcrN HEX]... [--challenge S] [--not-before T] [--not-after T]');
  process.exit(2);
};
const here = dirname(fileURLToPath(import.meta.url));
const module = process.env.PA_CRYPTO_HELPER ??
  join(process.env.PA_BUILD_DIR ?? join(here, '..', 'build'), 'web', 'client', 'crypto-helper.js');
if (!existsSync(module)) usage(`${module} is missing: run make build (or scripts/web.sh)`);
const { CryptoHelper } = await import(pathToFileURL(module).href);

const args = process.argv.slice(2);
let file = null;
const options = { pcrs: {} };
for (let i = 0; i < args.length; i++) {
  const a = args[i];
  const value = () => (i + 1 < args.length ? args[++i] : usage(`${a} needs a value`));
  if (a === '--dev-root') options.root = readFileSync(value(), 'utf8');
  else if (a === '--image-hash') options.expectedImageHash = value();
  else if (a === '--challenge') options.challenge = value();
  else if (a === '--not-before') options.notBefore = value();
  else if (a === '--not-after') options.notAfter = value();
  else if (/^--pcr([1-9]|[12][0-9]|3[01])$/.test(a)) options.pcrs[a.slice(5)] = value();
  else if (a.startsWith('-') || file !== null) usage(`unexpected argument ${a}`);
  else file = a;
}
if (file === null) usage('no bundle given');
if (options.root === undefined && options.expectedImageHash === undefined && process.env.PERFAGG_IMAGE_HASH)
  options.expectedImageHash = process.env.PERFAGG_IMAGE_HASH;

const r = CryptoHelper.verifyAggregates(readFileSync(file, 'utf8'), undefined, options);
console.log(`bundle ${file}`);
for (const c of r.checks) console.log(`  ${c.status === 'failed' ? 'FAILED' : c.status.padEnd(6)}  ${c.name.padEnd(24)} ${c.detail}`);
if (r.ok) console.log(r.development ? 'VERIFIED against a DEVELOPMENT root' : 'VERIFIED against the AWS Nitro root');
else console.log(`NOT VERIFIED: ${r.reasons.length} check(s) did not pass`);
process.exit(r.ok ? 0 : 1);
