// Enclave-made API keys (POST /enclave/keygen; docs/PROTOCOL.md): the
// enclave makes an Ed25519 key pair, keeps the private half sealed, and
// answers the public half with an attestation whose user_data binds it:
// SHA-256("perfagg/v1/keygen" || enclave_pub || signing_pub || api_pub || key_id).
// This is the page's check of that answer, with the rules of the C client's
// pa_client_check_keygen (src/client/keygen.c), built on CryptoHelper's
// document verifier; the trader registers the public key at the exchange
// only after every check passes.
const UUID4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const B64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const SPKI_ED25519 = [0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00];
const AUTHENTIC = ['format', 'signature', 'chain', 'timestamp', 'debug'];

function b64d(s) {
  if (typeof s !== 'string' || !B64.test(s)) return null;
  return Uint8Array.from(atob(s), (c) => c.charCodeAt(0));
}
function b64e(bytes) {
  let s = '';
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s);
}
const hex = (b) => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
function unhex(s) {
  return /^[0-9a-f]{96}$/.test(s) ? Uint8Array.from(s.match(/../g), (h) => parseInt(h, 16)) : null;
}
function pemCertDer(pem) {
  const m = /-----BEGIN CERTIFICATE-----([A-Za-z0-9+/=\s]+)-----END CERTIFICATE-----/.exec(pem || '');
  return m ? b64d(m[1].replace(/\s+/g, '')) : null;
}

// The SubjectPublicKeyInfo PEM of a raw Ed25519 key, as OpenSSL writes it.
export function ed25519Pem(pub) {
  const b = b64e(Uint8Array.from([...SPKI_ED25519, ...pub]));
  return `-----BEGIN PUBLIC KEY-----\n${b.match(/.{1,64}/g).join('\n')}\n-----END PUBLIC KEY-----\n`;
}

// answer: the parsed keygen answer; nonce: the bytes sent; trust: {root,
// expectedImageHash}; exchange: the one asked for.
// Returns {ok, reasons, checks: [{name, status, detail}]}.
export async function verifyKeygen(CryptoHelper, answer, nonce, trust, exchange) {
  const checks = [];
  const add = (name, status, detail) => checks.push({ name, status, detail });
  const done = () => ({
    ok: checks.length > 0 && checks.every((c) => c.status === 'ok'),
    reasons: checks.filter((c) => c.status === 'failed').map((c) => `${c.name}: ${c.detail}`),
    checks,
  });
  const keys = ['key_id', 'exchange', 'public_key', 'public_key_pem', 'attestation', 'expires_at'];
  const a = answer && typeof answer === 'object' && !Array.isArray(answer) ? answer : null;
  const att = a && a.attestation && typeof a.attestation === 'object' ? a.attestation : null;
  const apiPub = a && b64d(a.public_key);
  const enclavePub = att && b64d(att.enclave_pubkey);
  const signingPub = att && b64d(att.signing_pubkey);
  const quote = att && b64d(att.quote);
  if (!a || Object.keys(a).some((k) => !keys.includes(k)) || keys.some((k) => !(k in a)) ||
      typeof a.key_id !== 'string' || !UUID4.test(a.key_id) || !apiPub || apiPub.length !== 32 ||
      a.exchange !== exchange || typeof a.public_key_pem !== 'string' || typeof a.expires_at !== 'string' ||
      !att || Object.keys(att).some((k) => !['quote', 'enclave_pubkey', 'signing_pubkey', 'image_hash'].includes(k)) ||
      !enclavePub || enclavePub.length !== 32 || !signingPub || signingPub.length !== 32 || !quote || quote.length === 0 ||
      typeof att.image_hash !== 'string' || !/^[0-9a-f]{96}$/.test(att.image_hash)) {
    add('response_format', 'failed', 'the answer must be {key_id, exchange, public_key, public_key_pem, attestation, expires_at} with well-formed fields');
    return done();
  }
  add('response_format', 'ok', '{key_id, exchange, public_key, public_key_pem, attestation, expires_at}');
  const rootDer = pemCertDer(trust.root ?? CryptoHelper.awsRoot.pem);
  if (!rootDer) {
    add('root', 'failed', 'the root is not a PEM certificate');
    return done();
  }
  const binding = new Uint8Array(await crypto.subtle.digest('SHA-256', Uint8Array.from([
    ...new TextEncoder().encode('perfagg/v1/keygen'), ...enclavePub, ...signingPub, ...apiPub,
    ...new TextEncoder().encode(a.key_id)])));
  const pcrs = new Map();
  const want = trust.expectedImageHash ? unhex(trust.expectedImageHash) : null;
  if (want) pcrs.set(0, want);
  const { result, claims } = CryptoHelper.verifyDocument(quote, rootDer, {
    atMs: Date.now(), maxSkewMs: 300_000, allowDebug: false, pcrs, nonce, publicKey: enclavePub, userData: binding,
  });
  if (!result.ok(AUTHENTIC)) {
    add('attestation', 'failed', `document not valid now: ${result.failures(AUTHENTIC).join('; ')}`);
    return done();
  }
  add('attestation', 'ok', `COSE ES384 signature, certificate chain to the chosen root, document of ${new Date(claims.timestampMs).toISOString()} within 300 s, not debug`);
  const st = (c, okText, badText) => add(c[0], result.status[c[1]] === 'pass' ? 'ok' : 'failed', result.status[c[1]] === 'pass' ? okText : badText);
  st(['attestation_nonce', 'nonce'], 'document nonce = the fresh nonce we sent', 'document nonce is not the nonce we sent');
  st(['attestation_public_key', 'public_key'], 'document public_key = enclave_pubkey', 'document public_key is not enclave_pubkey');
  st(['keygen_binding', 'user_data'], 'document user_data = SHA-256("perfagg/v1/keygen" || enclave_pubkey || signing_pubkey || public_key || key_id)',
    'document user_data does not bind this public key and key_id to the enclave');
  const pcr0 = hex(claims.pcrs.get(0));
  add('image_hash', pcr0 === att.image_hash ? 'ok' : 'failed', pcr0 === att.image_hash ? `PCR0 = ${pcr0}` : "PCR0 differs from the attestation's image_hash");
  const aws = hex(new Uint8Array(await crypto.subtle.digest('SHA-256', rootDer))) === CryptoHelper.awsRoot.sha256;
  if (want) add('expected_image_hash', result.status.pcrs === 'pass' ? 'ok' : 'failed', result.status.pcrs === 'pass' ? 'PCR0 = the image you pinned' : `PCR0 is not the image you pinned (${trust.expectedImageHash})`);
  else if (aws) add('expected_image_hash', 'failed', 'with the AWS Nitro root you must say which enclave image you trust');
  const pemOk = a.public_key_pem === ed25519Pem(apiPub);
  add('public_key_pem', pemOk ? 'ok' : 'failed', pemOk ? 'the Ed25519 SubjectPublicKeyInfo PEM of public_key' : 'public_key_pem is not the PEM of the attested public_key');
  return done();
}
