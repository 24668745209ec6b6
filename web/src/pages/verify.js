// The verifier page (/verify): one self-contained file (its script and
// style are inlined by the build and pinned by hash in its CSP) that makes
// no network request at all, so it works the same served or opened from
// disk.
import { CryptoHelper } from "crypto-helper";
import { byId, clear, readFileText, setStatus } from "./lib/dom.js";
import { parseBundle, setupTrustPanel, trustChoice, verifyAndRender } from "./lib/common.js";

async function verify() {
  const status = byId("verify-status"), area = byId("verify-area");
  clear(area);
  try {
    const fromFile = await readFileText(byId("bundle-file"));
    const text = fromFile !== null ? fromFile : byId("bundle-text").value;
    if (!text || text.trim() === "") throw new Error("Open or paste a result bundle first.");
    const bundle = parseBundle(text);
    const trust = await trustChoice();
    setStatus(status, "busy", "Checking…");
    const challenge = byId("challenge").value;
    const res = await verifyAndRender(CryptoHelper, bundle, trust, challenge === "" ? undefined : challenge, area);
    setStatus(status, res.ok ? "ok" : "bad", res.ok ? "VERIFIED: every check passed." : "NOT VERIFIED: see the failed checks below.");
  } catch (e) {
    setStatus(status, "bad", "NOT VERIFIED: " + (e && e.message ? e.message : String(e)));
  }
}

function main() {
  const secure = setupTrustPanel(CryptoHelper);
  byId("verify-btn").disabled = !secure;
  byId("verify-btn").addEventListener("click", verify);
  byId("bundle-file").addEventListener("change", () => { byId("bundle-text").value = ""; });
}

main();
