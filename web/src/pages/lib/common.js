// What both pages share: the trust panel, the root choice, the bundle check
// and its rendering.
import { byId, el, readFileText } from "./dom.js";
import { normalizeChecks, renderVerdict } from "./checks.js";
import { renderNumbers } from "./results.js";
import { AWS_NITRO_ROOT_SHA256, EXPECTED_PCRS } from "./trust.js";

export function b64(bytes) {
  let s = "";
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s);
}

export function randomB64(n) {
  return b64(crypto.getRandomValues(new Uint8Array(n)));
}

// Fills the trust notice, pre-fills the expected image from the built-in
// pins, wires the root radio buttons, and refuses to run without WebCrypto.
export function setupTrustPanel(CryptoHelper) {
  // the helper checks its built-in certificate against this same pin
  if (CryptoHelper.awsRoot.sha256 !== AWS_NITRO_ROOT_SHA256) throw new Error("the built-in AWS root does not match its pin");
  byId("aws-root-fp").textContent = AWS_NITRO_ROOT_SHA256;
  const pcrs = Object.entries(EXPECTED_PCRS);
  if (pcrs.length > 0) {
    byId("pinned-pcrs").textContent = pcrs.map(([k, v]) => `${k} ${v}`).join(", ");
    if (EXPECTED_PCRS.PCR0) byId("expected-image").value = EXPECTED_PCRS.PCR0;
  }
  const devFile = byId("dev-root-file");
  const sync = () => { devFile.disabled = !byId("root-dev").checked; };
  byId("root-aws").addEventListener("change", sync);
  byId("root-dev").addEventListener("change", sync);
  sync();
  const secure = window.isSecureContext && typeof crypto !== "undefined" && crypto.subtle;
  if (!secure) byId("insecure-context").hidden = false;
  return Boolean(secure);
}

// The trust options the user chose: {root (PEM) or undefined for the AWS
// root, expectedImageHash or null}. Throws a sentence when incomplete.
export async function trustChoice() {
  const dev = byId("root-dev").checked;
  let root;
  if (dev) {
    root = await readFileText(byId("dev-root-file"));
    if (!root || !root.includes("-----BEGIN CERTIFICATE-----"))
      throw new Error("Choose the development root's PEM file (e.g. var/dev-attest/root.pem).");
  }
  const img = byId("expected-image").value.trim().toLowerCase();
  if (img !== "" && !/^[0-9a-f]{96}$/.test(img)) throw new Error("The expected enclave image must be 96 hex characters (PCR0).");
  if (!dev && img === "") throw new Error("With the AWS root, enter the enclave image you trust (PCR0): the AWS root vouches for any Nitro enclave.");
  return { root, expectedImageHash: img === "" ? null : img, dev };
}

// true when every check whose name holds the fragment passed (and there is one).
function checkPassed(result, fragment) {
  const hit = normalizeChecks(result && result.checks).filter((c) => c.name.toLowerCase().includes(fragment));
  return hit.length > 0 && hit.every((c) => c.state === "pass");
}

// A bundle {version, response, logs} checked with CryptoHelper, rendered
// into area: the verdict, the two states a verifier looks for, and the
// numbers only when everything passed.
export async function verifyAndRender(CryptoHelper, bundle, trust, challenge, area) {
  const opts = {};
  if (trust.root) opts.root = trust.root;
  if (trust.expectedImageHash) opts.expectedImageHash = trust.expectedImageHash;
  if (challenge) opts.challenge = challenge;
  let result;
  try {
    result = await CryptoHelper.verifyAggregates(bundle.response, bundle.logs, opts);
  } catch (e) {
    result = { ok: false, reasons: [String(e && e.message ? e.message : e)], checks: [] };
  }
  const sig = checkPassed(result, "signature");
  const merkle = checkPassed(result, "merkle");
  area.append(el("ul", { class: "checks", id: "states" },
    el("li", { class: sig ? "pass" : "fail", id: "state-signature" },
      el("span", { class: "verdict" }, sig ? "PASS" : "FAIL"), " ",
      sig ? "Signature verified" : "Signature NOT verified"),
    el("li", { class: merkle ? "pass" : "fail", id: "state-merkle" },
      el("span", { class: "verdict" }, merkle ? "PASS" : "FAIL"), " ",
      merkle ? "Merkle root verified" : "Merkle root NOT verified")));
  area.append(renderVerdict(result, "Every check of the result"));
  const payload = bundle.response && bundle.response.aggregates_signed && bundle.response.aggregates_signed.payload;
  if (result.ok && payload && typeof payload === "object") {
    area.append(el("h3", {}, "The numbers (verified)"));
    area.append(renderNumbers(payload));
  } else {
    area.append(el("p", { class: "notice danger", id: "not-verified" },
      "The bundle did not verify: none of its numbers is established, so none is shown."));
  }
  return result;
}

export function parseBundle(text) {
  let b;
  try {
    b = JSON.parse(text);
  } catch (e) {
    throw new Error("The bundle is not JSON.");
  }
  if (!b || typeof b !== "object" || b.version !== 1 || !b.response || !b.logs)
    throw new Error("Not a perfagg result bundle: expected {version: 1, response, logs}.");
  return b;
}
