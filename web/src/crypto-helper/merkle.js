// RFC 6962 §2.1 Merkle Tree Hash over the audit entries, as src/common/merkle.c:
// leaf = SHA-256(0x00 || d), node = SHA-256(0x01 || left || right), split at
// the largest power of two smaller than n.
import { sha256 } from '@noble/hashes/sha2.js';
import { concat } from './bytes.js';

const LEAF = new Uint8Array([0]);
const NODE = new Uint8Array([1]);

export const leafHash = (d) => sha256(concat(LEAF, d));

// The root over leaf hashes [lo, hi).
function mth(hashes, lo, hi) {
  if (hi - lo === 1) return hashes[lo];
  let k = 1;
  while (k * 2 < hi - lo) k *= 2;
  return sha256(concat(NODE, mth(hashes, lo, lo + k), mth(hashes, lo + k, hi)));
}

export function merkleRoot(leaves) {
  if (leaves.length === 0) return sha256(new Uint8Array(0));
  return mth(leaves.map(leafHash), 0, leaves.length);
}
