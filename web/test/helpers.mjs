// Shared by the Node tests: the built module (what the pages serve) and the
// repository's test data.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const WEB = join(dirname(fileURLToPath(import.meta.url)), '..');
export const SOURCE = join(WEB, '..');
export const BUILT = process.env.PA_CRYPTO_HELPER ?? join(SOURCE, 'build', 'web', 'client', 'crypto-helper.js');
export const NITRO = join(SOURCE, 'tests', 'data', 'nitro');

// The bundle, not the sources: the tests check the file the browser gets.
export const { CryptoHelper, _sealWith } = await import(BUILT);

export const readText = (...p) => readFileSync(join(SOURCE, ...p), 'utf8');
export const nitroDoc = (name) => new Uint8Array(Buffer.from(readFileSync(join(NITRO, name), 'utf8').trim(), 'base64'));
export const pemDer = (pem) => new Uint8Array(Buffer.from(pem.replace(/-----[^-]+-----|\s/g, ''), 'base64'));
export const AWS_ROOT_PEM = readFileSync(join(NITRO, 'aws_nitro_root_g1.pem'), 'utf8');
export const ms = (t) => Date.parse(t);
