// The trader's page (/): attest -> submit -> results -> revoke. Plaintext
// credentials exist only in the form fields and the one call that seals
// them; they are never sent, logged or stored (no localStorage, no cookies),
// and the fields are emptied as soon as the envelope is made. No polling:
// every request follows a click.
import { CryptoHelper } from "crypto-helper";
import { byId, clear, el, setStatus } from "./lib/dom.js";
import { renderVerdict } from "./lib/checks.js";
import { b64, parseBundle, randomB64, setupTrustPanel, trustChoice, verifyAndRender } from "./lib/common.js";
import { verifyKeygen } from "./lib/keygen.js";

// enclaveKey: {keyId} while the form submits an enclave-made key
const state = { attestation: null, trust: null, enclaveKey: null };

async function api(method, path, body) {
  const res = await fetch(path, {
    method,
    cache: "no-store",
    credentials: "omit",
    headers: body !== undefined ? { "Content-Type": "application/json" } : {},
    body: body !== undefined ? (typeof body === "string" ? body : JSON.stringify(body)) : undefined,
  });
  const text = await res.text();
  let json = null;
  try { json = JSON.parse(text); } catch (e) { json = null; }
  if (!res.ok) {
    const msg = json && json.message ? `${json.message} (${json.error}, HTTP ${res.status})` : `HTTP ${res.status}`;
    throw new Error(msg);
  }
  return { text, json };
}

function errText(e) {
  return e && e.message ? e.message : String(e);
}

async function attest() {
  const status = byId("attest-status"), out = byId("attest-result");
  clear(out);
  state.attestation = null;
  enableKeys(false);
  try {
    const trust = await trustChoice();
    setStatus(status, "busy", "Asking the enclave for a fresh attestation…");
    const nonce = randomB64(32);
    const { json: att } = await api("GET", "/attestation/quote?nonce=" + encodeURIComponent(nonce));
    const opts = { nonce };
    if (trust.root) opts.root = trust.root;
    let res;
    try {
      res = await CryptoHelper.verifyAttestation(att, trust.expectedImageHash, opts);
    } catch (e) {
      res = { ok: false, reasons: [errText(e)], checks: [] };
    }
    out.append(el("p", {}, "Enclave image (PCR0): ", el("span", { class: "mono", id: "image-hash" }, String(att && att.image_hash))));
    if (trust.dev) out.append(el("p", {}, el("span", { class: "badge" }, "DEVELOPMENT"), " Checked against a development root you chose: fine for trying perfagg, never for real keys."));
    out.append(renderVerdict(res, "Every check of the attestation"));
    if (res.ok) {
      state.attestation = att;
      state.trust = trust;
      setStatus(status, "ok", "Attestation verified: you are talking to the enclave image above.");
      enableKeys(true);
    } else {
      setStatus(status, "bad", "Attestation REFUSED: do not submit a key to this server.");
    }
  } catch (e) {
    setStatus(status, "bad", "Attestation failed: " + errText(e));
  }
}

function enableKeys(on) {
  byId("submit-btn").disabled = !on;
  byId("keygen-btn").disabled = !on;
  byId("step-keys").setAttribute("aria-disabled", on ? "false" : "true");
}

function clearSecrets() {
  byId("api-key").value = "";
  byId("api-secret").value = "";
}

async function submitKey(ev) {
  ev.preventDefault();
  const status = byId("submit-status"), out = byId("submit-result");
  clear(out);
  if (!state.attestation) {
    setStatus(status, "bad", "Check the enclave first (step 1).");
    return;
  }
  const exchange = byId("exchange").value;
  const label = byId("label").value.trim();
  const ttl = Number(byId("ttl").value);
  const accountType = byId("account-type").value;
  const enclaveKey = state.enclaveKey;
  if (label === "" || byId("api-key").value === "" || (!enclaveKey && byId("api-secret").value === "")) {
    setStatus(status, "bad", enclaveKey ? "Label and the API key Binance showed are required." : "Label, API key and API secret are all required.");
    return;
  }
  const salt = randomB64(32);
  let body;
  try {
    setStatus(status, "busy", "Encrypting in this page…");
    // The only place the plaintext is read; the fields are emptied right after.
    const credentials = { exchange, apiKey: byId("api-key").value, accountSalt: salt };
    // an enclave-made key's secret is the enclave's: the envelope names the key instead
    if (!enclaveKey) credentials.apiSecret = byId("api-secret").value;
    if (accountType !== "spot") credentials.accountType = accountType;
    const metadata = { exchange, label, ttl };
    if (enclaveKey) metadata.enclave_key_id = enclaveKey.keyId;
    try {
      body = await CryptoHelper.encryptCredentials(credentials, state.attestation.enclave_pubkey, metadata);
    } finally {
      credentials.apiKey = credentials.apiSecret = "";
      clearSecrets();
    }
    setStatus(status, "busy", "Submitting the sealed envelope…");
    const { json } = await api("POST", "/enclave/submit_key", body);
    byId("session-id").value = json.session_id;
    if (enclaveKey) useOwnKey();
    setStatus(status, "ok", "Key sealed and stored. The fields have been cleared.");
    out.append(
      el("p", {}, "Session id (your capability, shown once — keep it private; this page forgets it when you leave): ",
        el("span", { class: "mono", id: "session-out" }, json.session_id)),
      el("p", {}, "Expires at: ", el("span", { id: "expires-out" }, String(json.expires_at))),
      el("p", {}, "Account salt (keep it to prove the account is yours: results carry HMAC-SHA256(salt, \"binance:\" + uid)): ",
        el("span", { class: "mono", id: "salt-out" }, salt)));
  } catch (e) {
    clearSecrets();
    setStatus(status, "bad", "Not submitted: " + errText(e) + " The fields have been cleared; enter the key again to retry.");
  }
}

// Asks the enclave for an Ed25519 key pair and checks its attestation (the
// keygen binding) before showing the public key to register.
async function keygen() {
  const status = byId("keygen-status"), out = byId("keygen-result");
  clear(out);
  useOwnKey();
  if (!state.attestation) {
    setStatus(status, "bad", "Check the enclave first (step 1).");
    return;
  }
  try {
    setStatus(status, "busy", "The enclave is making a key pair…");
    const nonce = crypto.getRandomValues(new Uint8Array(32));
    const exchange = byId("exchange").value;
    const { json } = await api("POST", "/enclave/keygen", { exchange, nonce: b64(nonce) });
    const res = await verifyKeygen(CryptoHelper, json, nonce, state.trust, exchange);
    out.append(renderVerdict(res, "Every check of the enclave-made key"));
    if (!res.ok) {
      setStatus(status, "bad", "The enclave-made key's attestation is REFUSED: do not register this key.");
      return;
    }
    state.enclaveKey = { keyId: json.key_id };
    byId("api-secret").value = "";
    byId("api-secret").disabled = true;
    byId("secret-hint").textContent = "(not needed: the enclave holds this key's private half)";
    out.append(
      el("label", { for: "keygen-pem" }, "Public key to register at Binance"),
      el("textarea", { id: "keygen-pem", readonly: true, class: "mono", spellcheck: "false" }, json.public_key_pem),
      el("p", {}, "Key id ", el("span", { class: "mono", id: "keygen-id" }, json.key_id), "; register it and submit before ",
        el("span", { id: "keygen-expires" }, String(json.expires_at)), "."),
      el("ol", { id: "keygen-steps" },
        el("li", {}, "At Binance: Account → API Management → Create API → Self-generated."),
        el("li", {}, "Paste the public key above. Enable reading only: no trading, no transfers, no withdrawals (the enclave refuses a key that can)."),
        el("li", {}, "Binance shows the new API key: paste it into the API key field above, fill in the label, and press Encrypt and submit.")),
      el("button", { type: "button", class: "secondary", id: "own-key-btn" }, "Use my own key instead"));
    byId("own-key-btn").addEventListener("click", () => { clear(out); byId("keygen-status").hidden = true; useOwnKey(); });
    setStatus(status, "ok", "Key made by the attested enclave: register its public key at Binance (steps below).");
  } catch (e) {
    setStatus(status, "bad", "No key: " + errText(e));
  }
}

function useOwnKey() {
  state.enclaveKey = null;
  byId("api-secret").disabled = false;
  byId("secret-hint").textContent = "(an HMAC secret, or an Ed25519 key's PKCS#8 PEM private key)";
}

function utcInput(id) {
  const v = byId(id).value;
  if (!v) return undefined;
  const d = new Date(v + (v.length === 16 ? ":00" : "") + "Z");
  if (Number.isNaN(d.getTime())) throw new Error("Not a date: " + v);
  return d.toISOString();
}

async function results() {
  const status = byId("results-status"), area = byId("results-area");
  clear(area);
  const sessionId = byId("session-id").value.trim();
  try {
    if (!/^[0-9a-fA-F-]{36}$/.test(sessionId)) throw new Error("Enter the session id you got when you submitted the key.");
    const trust = state.trust || (await trustChoice());
    const req = { session_id: sessionId };
    const from = utcInput("window-from"), to = utcInput("window-to");
    if (from) req.from = from;
    if (to) req.to = to;
    const challenge = byId("challenge").value;
    if (challenge !== "") req.challenge = challenge;
    setStatus(status, "busy", "The enclave is fetching your trades and signing (this can take a while)…");
    const agg = await api("POST", "/enclave/request_aggregates", req);
    const logsUrl = agg.json && agg.json.logs_url;
    if (typeof logsUrl !== "string" || !/^\/api\/logs\/[0-9a-f-]{36}$/.test(logsUrl)) throw new Error("The server answered an unexpected logs_url.");
    const logs = await api("GET", logsUrl);
    // The bundle `perfagg verify` reads: both answers spliced byte for byte.
    const bundleText = `{"version":1,"response":${agg.text},"logs":${logs.text}}`;
    if (bundleText.toLowerCase().includes(sessionId.toLowerCase())) throw new Error("The server put the session id into the result; not saving it.");
    const bundle = parseBundle(bundleText);
    const res = await verifyAndRender(CryptoHelper, bundle, trust, challenge || undefined, area);
    const rid = bundle.response.aggregates_signed && bundle.response.aggregates_signed.payload && bundle.response.aggregates_signed.payload.result_id;
    const blob = new Blob([bundleText], { type: "application/json" });
    const link = el("a", { href: URL.createObjectURL(blob), download: `perfagg-result-${/^[0-9a-f-]{36}$/.test(String(rid)) ? rid : "bundle"}.json`, id: "download-bundle" },
      "Download the result bundle");
    area.prepend(el("p", {}, link, " — the file ", el("code", {}, "perfagg verify"), " and ", el("a", { href: "/verify" }, "/verify"), " read."));
    setStatus(status, res.ok ? "ok" : "bad", res.ok ? "Result verified: signature, attestation and Merkle root all check out." : "The result did NOT verify: see the checks below.");
  } catch (e) {
    setStatus(status, "bad", "No result: " + errText(e));
  }
}

function askRevoke() {
  const status = byId("revoke-status");
  const sessionId = byId("session-id").value.trim();
  if (!/^[0-9a-fA-F-]{36}$/.test(sessionId)) {
    setStatus(status, "bad", "Enter the session id to revoke (step 3's field).");
    return;
  }
  const dlg = byId("revoke-dialog");
  dlg.returnValue = "";
  dlg.showModal();
}

async function revoke() {
  const dlg = byId("revoke-dialog"), status = byId("revoke-status");
  if (dlg.returnValue !== "revoke") {
    setStatus(status, "busy", "Not revoked.");
    return;
  }
  const sessionId = byId("session-id").value.trim();
  try {
    setStatus(status, "busy", "Revoking…");
    const { json } = await api("POST", "/enclave/revoke", { session_id: sessionId });
    byId("session-id").value = "";
    setStatus(status, "ok", `${json.message}. Now delete the API key at the exchange too: revoking here does not disable it.`);
  } catch (e) {
    setStatus(status, "bad", "Not revoked: " + errText(e));
  }
}

function main() {
  const secure = setupTrustPanel(CryptoHelper);
  for (const id of ["attest-btn", "results-btn", "revoke-btn"]) byId(id).disabled = !secure;
  byId("attest-btn").addEventListener("click", attest);
  byId("keys-form").addEventListener("submit", submitKey);
  byId("keygen-btn").addEventListener("click", keygen);
  byId("results-btn").addEventListener("click", results);
  byId("revoke-btn").addEventListener("click", askRevoke);
  byId("revoke-dialog").addEventListener("close", revoke);
}

main();
