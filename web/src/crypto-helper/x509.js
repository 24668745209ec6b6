// X.509 for the attestation chain: parsing (@peculiar/asn1-x509 over asn1js)
// and the checks src/attest/attest_verify.c asks of OpenSSL's
// X509_verify_cert with X509_V_FLAG_X509_STRICT and security level 2,
// re-stated here: the path leaf -> untrusted intermediates -> the one pinned
// root (never a partial chain), every certificate valid at the time of the
// check, every signature ECDSA (P-256/P-384/P-521 with SHA-256/384/512; no
// SHA-1), named curves only, CA certificates with a critical
// basicConstraints CA:TRUE, keyCertSign, a subject key identifier and their
// pathLen respected, authority key identifiers present (tolerated missing on
// the leaf only, as AWS issues its leaves without one) and matching the
// issuer's subject key identifier, no unhandled critical extension.
// Signatures are checked with @noble/curves, so the result does not depend on
// which algorithms a browser's WebCrypto offers.
import { fromBER } from 'asn1js';
import { AsnConvert } from '@peculiar/asn1-schema';
import {
  AuthorityKeyIdentifier, BasicConstraints, Certificate, KeyUsage, KeyUsageFlags, SubjectKeyIdentifier,
} from '@peculiar/asn1-x509';
import { p256, p384, p521 } from '@noble/curves/nist.js';
import { sha256, sha384, sha512 } from '@noble/hashes/sha2.js';
import { b64decode, concat, equal, hex, utf8 } from './bytes.js';

const OID = {
  ecPublicKey: '1.2.840.10045.2.1',
  basicConstraints: '2.5.29.19',
  keyUsage: '2.5.29.15',
  subjectKeyIdentifier: '2.5.29.14',
  authorityKeyIdentifier: '2.5.29.35',
  extKeyUsage: '2.5.29.37',
  subjectAltName: '2.5.29.17',
};
const SIG_ALGS = {
  '1.2.840.10045.4.3.2': { name: 'ecdsa-with-SHA256', hash: sha256 },
  '1.2.840.10045.4.3.3': { name: 'ecdsa-with-SHA384', hash: sha384 },
  '1.2.840.10045.4.3.4': { name: 'ecdsa-with-SHA512', hash: sha512 },
};
// Named-curve OIDs, DER-encoded as they appear in the key's parameters.
const CURVES = {
  '06082a8648ce3d030107': { name: 'P-256', curve: p256 },
  '06052b81040022': { name: 'P-384', curve: p384 },
  '06052b81040023': { name: 'P-521', curve: p521 },
};
// Extensions this verifier understands, so may be critical.
const HANDLED = new Set([OID.basicConstraints, OID.keyUsage, OID.extKeyUsage, OID.subjectAltName,
  OID.subjectKeyIdentifier, OID.authorityKeyIdentifier]);
export const CERT_MAX = 1024; // bytes of one DER certificate (PA_ATTEST_CERT_MAX)

const u8 = (buf) => new Uint8Array(buf instanceof ArrayBuffer ? buf : buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));

// Parsed certificates by their bytes (a document carries the same chain each
// time, and the ASN.1 decoder is the slowest step of a verification); frozen,
// so no caller can change what another one gets.
const parsed = new Map();
const PARSED_MAX = 64;

// A parsed certificate, or null when der is not exactly one DER certificate.
export function parseCertificate(der) {
  if (!(der instanceof Uint8Array) || der.length === 0) return null;
  const key = hex(der);
  if (parsed.has(key)) return parsed.get(key);
  const cert = parseUncached(der);
  if (parsed.size >= PARSED_MAX) parsed.clear();
  parsed.set(key, cert);
  return cert;
}

function parseUncached(der) {
  try {
    const outer = fromBER(der);
    // exactly one item covering all the bytes: a certificate followed by
    // anything is not "a certificate"
    if (outer.offset !== der.length || outer.result.error) return null;
    const tbsRaw = outer.result.valueBlock.value?.[0]?.valueBeforeDecodeView;
    if (!tbsRaw) return null;
    const cert = AsnConvert.parse(der, Certificate);
    const tbs = cert.tbsCertificate;
    const ext = new Map();
    for (const e of tbs.extensions ?? []) {
      if (ext.has(e.extnID)) return null; // RFC 5280 §4.2: at most one of each
      ext.set(e.extnID, e);
    }
    const get = (oid, type) => (ext.has(oid) ? AsnConvert.parse(ext.get(oid).extnValue, type) : undefined);
    const bc = get(OID.basicConstraints, BasicConstraints);
    const ku = get(OID.keyUsage, KeyUsage);
    const skid = get(OID.subjectKeyIdentifier, SubjectKeyIdentifier);
    const akid = get(OID.authorityKeyIdentifier, AuthorityKeyIdentifier);
    const spki = tbs.subjectPublicKeyInfo;
    return deepFreeze({
      der: Uint8Array.from(der),
      tbs: Uint8Array.from(tbsRaw),
      version: tbs.version, // 2 = v3
      issuer: u8(AsnConvert.serialize(tbs.issuer)),
      subject: u8(AsnConvert.serialize(tbs.subject)),
      subjectEmpty: tbs.subject.length === 0,
      issuerEmpty: tbs.issuer.length === 0,
      notBefore: tbs.validity.notBefore.getTime().getTime(),
      notAfter: tbs.validity.notAfter.getTime().getTime(),
      keyAlg: spki.algorithm.algorithm,
      keyParams: spki.algorithm.parameters ? hex(u8(spki.algorithm.parameters)) : null,
      publicKey: u8(spki.subjectPublicKey),
      innerSigAlg: tbs.signature.algorithm,
      innerSigParams: tbs.signature.parameters ?? null,
      sigAlg: cert.signatureAlgorithm.algorithm,
      sigParams: cert.signatureAlgorithm.parameters ?? null,
      signature: u8(cert.signatureValue),
      extensions: [...ext.values()].map((e) => ({ oid: e.extnID, critical: !!e.critical })),
      basicConstraints: bc ? { ca: !!bc.cA, pathLen: bc.pathLenConstraint } : null,
      basicConstraintsCritical: ext.get(OID.basicConstraints)?.critical ?? false,
      keyUsage: ku ? ku.toNumber() : null,
      subjectKeyId: skid ? u8(skid.buffer) : null,
      authorityKeyId: akid?.keyIdentifier ? u8(akid.keyIdentifier.buffer) : null,
      hasAuthorityKeyId: !!akid,
      akidCritical: ext.get(OID.authorityKeyIdentifier)?.critical ?? false,
      skidCritical: ext.get(OID.subjectKeyIdentifier)?.critical ?? false,
    });
  } catch {
    return null;
  }
}

// Typed arrays cannot be frozen: they are copies owned by the record, which is.
function deepFreeze(o) {
  for (const v of Object.values(o)) if (v && typeof v === 'object' && !ArrayBuffer.isView(v)) deepFreeze(v);
  return Object.freeze(o);
}

// The DER of the first CERTIFICATE block of a PEM text, or null.
export function pemToDer(pem) {
  if (typeof pem !== 'string') return null;
  const m = /-----BEGIN CERTIFICATE-----([A-Za-z0-9+/=\s]+)-----END CERTIFICATE-----/.exec(pem);
  return m ? b64decode(m[1].replace(/\s+/g, '')) : null;
}

export const curveOf = (cert) => (cert.keyAlg === OID.ecPublicKey ? CURVES[cert.keyParams] ?? null : null);
export const isP384 = (cert) => curveOf(cert)?.name === 'P-384';

// ECDSA verification of a DER signature over msg with cert's key (prehashed
// here with the named hash).
export function ecdsaVerify(cert, hash, msg, signature, format) {
  const c = curveOf(cert);
  if (!c) return false;
  try {
    return c.curve.verify(signature, hash(msg), cert.publicKey, { prehash: false, lowS: false, format });
  } catch {
    return false;
  }
}

// Certificate signatures already verified, keyed by SHA-256 over exactly the
// inputs of the check (issuer key, algorithm, TBS digest, signature): a
// verifier that checks many documents from one chain (a page that re-attests,
// the tests' one-bit sweeps) verifies each certificate once. Only successes
// are kept, at most CACHE_MAX of them.
const verified = new Set();
const CACHE_MAX = 256;

function signedBy(child, issuer) {
  const alg = SIG_ALGS[child.sigAlg];
  if (!alg) return false;
  const digest = alg.hash(child.tbs);
  const key = hex(sha256(concat(utf8(`${child.sigAlg}|${issuer.keyParams}|`), u32(issuer.publicKey.length),
    issuer.publicKey, digest, u32(child.signature.length), child.signature)));
  if (verified.has(key)) return true;
  const c = curveOf(issuer);
  let ok = false;
  try {
    ok = !!c && c.curve.verify(child.signature, digest, issuer.publicKey, { prehash: false, lowS: false, format: 'der' });
  } catch {
    ok = false;
  }
  if (ok) {
    if (verified.size >= CACHE_MAX) verified.clear();
    verified.add(key);
  }
  return ok;
}
const u32 = (n) => new Uint8Array([n >>> 24, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff]);

const sameBytes = (a, b) => a.length === b.length && a.every((x, i) => x === b[i]);
const when = (ms) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

// Problems of one certificate in the chain, as text. depth 0 = the leaf.
function profileProblems(cert, depth, isCA, caBelow) {
  const p = [];
  if (!SIG_ALGS[cert.sigAlg]) p.push(`unsupported signature algorithm ${cert.sigAlg} (ECDSA with SHA-256/384/512 only)`);
  if (cert.sigAlg !== cert.innerSigAlg || cert.sigParams !== null || cert.innerSigParams !== null)
    p.push('signature algorithm inconsistency');
  if (!curveOf(cert)) p.push('the key is not an EC key on a named NIST curve');
  if (cert.version !== 2) p.push('not an X.509 v3 certificate');
  if (cert.issuerEmpty) p.push('issuer name empty');
  if (cert.subjectEmpty) p.push('subject name empty');
  for (const e of cert.extensions)
    if (e.critical && !HANDLED.has(e.oid)) p.push(`unhandled critical extension ${e.oid}`);
  if (cert.akidCritical) p.push('authority key identifier marked critical');
  if (cert.skidCritical) p.push('subject key identifier marked critical');
  if (isCA) {
    if (!cert.basicConstraints || !cert.basicConstraints.ca) p.push('invalid CA certificate (basicConstraints CA:TRUE missing)');
    else if (!cert.basicConstraintsCritical) p.push('basicConstraints of CA certificate not marked critical');
    if (cert.keyUsage === null) p.push('CA certificate key usage is missing');
    else if (!(cert.keyUsage & KeyUsageFlags.keyCertSign)) p.push('key usage does not include certificate signing');
    if (!cert.subjectKeyId) p.push('missing subject key identifier');
    const pl = cert.basicConstraints?.pathLen;
    if (pl !== undefined && pl !== null && caBelow > pl) p.push('path length constraint exceeded');
  } else if (cert.basicConstraints?.pathLen !== undefined && cert.basicConstraints?.pathLen !== null) {
    p.push('pathLenConstraint on a non-CA certificate');
  }
  // AWS's Nitro leaves have no AKID: tolerated on the leaf only; a
  // self-issued root needs none
  if (depth > 0 && !cert.hasAuthorityKeyId && !sameBytes(cert.issuer, cert.subject))
    p.push('missing authority key identifier');
  return p;
}

// leaf -> intermediates -> root, with root the only trust anchor, at atMs.
// Returns [] when the chain holds, else every problem found (texts).
export function verifyChain(leaf, intermediates, root, atMs) {
  const problems = [];
  const path = [leaf];
  const pool = [...intermediates];
  let cur = leaf;
  for (;;) {
    if (path.length > 10) { problems.push('certificate chain too long'); return problems; }
    // the trust store first, as OpenSSL does: the pinned root ends the path
    if (sameBytes(cur.issuer, root.subject) && (!cur.authorityKeyId || !root.subjectKeyId ||
        equal(cur.authorityKeyId, root.subjectKeyId))) {
      if (!signedBy(cur, root)) { problems.push(`certificate signature failure (depth ${path.length - 1})`); return problems; }
      path.push(root);
      break;
    }
    const i = pool.findIndex((c) => sameBytes(cur.issuer, c.subject) &&
      (!cur.authorityKeyId || !c.subjectKeyId || equal(cur.authorityKeyId, c.subjectKeyId)));
    if (i < 0) {
      problems.push(`unable to get local issuer certificate (depth ${path.length - 1})`);
      return problems;
    }
    const issuer = pool.splice(i, 1)[0];
    if (!signedBy(cur, issuer)) { problems.push(`certificate signature failure (depth ${path.length - 1})`); return problems; }
    path.push(issuer);
    cur = issuer;
  }
  path.forEach((c, depth) => {
    if (atMs < c.notBefore) problems.push(`certificate is not yet valid (depth ${depth}) as of ${when(atMs)}`);
    if (atMs > c.notAfter + 999) problems.push(`certificate has expired (depth ${depth}) as of ${when(atMs)}`);
    // CAs between this certificate and the leaf, for pathLen
    const caBelow = Math.max(0, depth - 1);
    for (const why of profileProblems(c, depth, depth > 0, caBelow)) problems.push(`${why} (depth ${depth})`);
  });
  return problems;
}

// The signer must be an end-entity certificate made for signing.
export function leafProblems(leaf) {
  const p = [];
  if (!leaf.basicConstraints || leaf.basicConstraints.ca)
    p.push('the signing certificate is not a leaf (basicConstraints must say CA:FALSE)');
  if (leaf.keyUsage === null || !(leaf.keyUsage & KeyUsageFlags.digitalSignature))
    p.push('the signing certificate lacks the digitalSignature key usage');
  else if (leaf.keyUsage & (KeyUsageFlags.keyCertSign | KeyUsageFlags.cRLSign))
    p.push('the signing certificate may sign certificates');
  return p;
}
