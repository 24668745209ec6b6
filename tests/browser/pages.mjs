// The pages in a real headless Chromium (Debian's /usr/bin/chromium, driven
// by playwright-core pinned in web/package-lock.json; never a browser
// download). Started by tests/browser/test_pages.py, which runs the stack and
// passes its URL, the development root, the expected image and the demo
// account's key in a 0600 file (PA_BROWSER_CONFIG). Every step leaves a
// screenshot in outDir. The steps run in order and share the session.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(join(here, '..', '..', 'web', 'package.json'));
const { chromium } = require('playwright-core');
const cfg = JSON.parse(readFileSync(process.env.PA_BROWSER_CONFIG, 'utf8'));

let browser;
const screenshots = [];
const problems = []; // console errors/warnings, page errors, CSP violations: must stay empty
const shared = {};

before(async () => {
  browser = await chromium.launch({
    executablePath: cfg.chromium,
    args: ['--no-sandbox', '--disable-background-networking'],
    headless: true,
  });
});

after(async () => {
  await browser?.close();
  writeFileSync(join(cfg.outDir, 'results.json'), JSON.stringify({ sessionId: shared.sessionId, screenshots }));
});

// A context that records every request its pages make and every console
// error, page error and CSP violation.
async function watched(options = {}) {
  const context = await browser.newContext({ acceptDownloads: true, viewport: { width: 1100, height: 900 }, ...options });
  const requests = [];
  context.on('request', (r) => requests.push({ url: r.url(), method: r.method(), headers: r.headers(), body: r.postData() ?? '' }));
  await context.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (e) => {
      console.error(`CSP violation: ${e.violatedDirective} ${e.blockedURI}`);
    });
  });
  const page = await context.newPage();
  page.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warning') problems.push(`${page.url()}: console ${m.type()}: ${m.text()}`);
  });
  page.on('pageerror', (e) => problems.push(`${page.url()}: page error: ${e.message}`));
  return { context, page, requests };
}

async function shot(page, name) {
  await page.screenshot({ path: join(cfg.outDir, name), fullPage: true });
  screenshots.push(name);
}

// Waits for a status line to settle on ok or bad; returns {ok, text}.
async function settled(page, id, timeout = 60000) {
  await page.waitForSelector(`#${id}.ok, #${id}.bad`, { timeout });
  const cls = await page.getAttribute(`#${id}`, 'class');
  return { ok: cls.split(' ').includes('ok'), text: await page.textContent(`#${id}`) };
}

async function unlabelled(page) {
  return page.$$eval('input, select, textarea, button', (els) =>
    els.filter((e) => (e.tagName === 'BUTTON' ? e.textContent.trim() === '' : e.labels.length === 0)).map((e) => e.id || e.outerHTML));
}

async function checkStates(page, sel) {
  return page.$$eval(`${sel} ul.checks li[data-check]`, (lis) => lis.map((li) => ({ name: li.dataset.check, cls: li.className })));
}

async function chooseDevRoot(page) {
  await page.check('#root-dev');
  await page.setInputFiles('#dev-root-file', cfg.devRoot);
  await page.fill('#expected-image', cfg.imageHash);
}

let trader; // the trader's context, kept across the flow

test('/: every control has a label; attestation checked in the page, every check passes', async () => {
  trader = await watched();
  const { page } = trader;
  await page.goto(`${cfg.url}/`);
  assert.deepEqual(await unlabelled(page), []);
  assert.match(await page.textContent('#trust-notice'), /operator\s+can replace it/);
  assert.equal(await page.textContent('#aws-root-fp'), '641a0321a3e244efe456463195d606317ed7cdcc3c1756e09893f3c68f79bb5b');
  assert.equal(await page.isDisabled('#submit-btn'), true, 'no submit before attestation');
  await shot(page, '01-start.png');
  await chooseDevRoot(page);
  await page.click('#attest-btn');
  const st = await settled(page, 'attest-status');
  assert.ok(st.ok, st.text);
  const checks = await checkStates(page, '#attest-result');
  const names = checks.map((c) => c.name);
  for (const n of ['attestation', 'attestation_nonce', 'attestation_public_key', 'attestation_key_binding', 'image_hash', 'expected_image_hash'])
    assert.ok(names.includes(n), `check ${n} shown (got ${names})`);
  assert.deepEqual(checks.filter((c) => c.cls !== 'pass'), []);
  assert.equal(await page.textContent('#image-hash'), cfg.imageHash);
  assert.equal(await page.isDisabled('#submit-btn'), false);
  await shot(page, '02-attested.png');
});

test('/: the key is sealed in the page, the fields are cleared, nothing is stored', async () => {
  const { page, requests } = trader;
  await page.fill('#label', 'browser test');
  await page.selectOption('#ttl', '3600');
  await page.fill('#api-key', cfg.apiKey);
  await page.fill('#api-secret', cfg.apiSecret);
  await page.click('#submit-btn');
  const st = await settled(page, 'submit-status');
  assert.ok(st.ok, st.text);
  assert.equal(await page.inputValue('#api-key'), '');
  assert.equal(await page.inputValue('#api-secret'), '');
  shared.sessionId = (await page.textContent('#session-out')).trim();
  assert.match(shared.sessionId, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  const stored = await page.evaluate(async () => ({
    local: localStorage.length, session: sessionStorage.length, cookie: document.cookie,
    idb: (await indexedDB.databases()).length,
  }));
  assert.deepEqual(stored, { local: 0, session: 0, cookie: '', idb: 0 });
  const submits = requests.filter((r) => r.url === `${cfg.url}/enclave/submit_key`);
  assert.equal(submits.length, 1);
  const body = JSON.parse(submits[0].body);
  assert.deepEqual(Object.keys(body).sort(), ['ciphertext', 'ephemeral_pub', 'metadata', 'nonce', 'tag']);
  assert.deepEqual(body.metadata, { exchange: 'binance', label: 'browser test', ttl: 3600 });
  await shot(page, '03-submitted.png');
});

test('/: signed results verified in the page (signature, Merkle root), numbers, chart, bundle download', async () => {
  const { page } = trader;
  await page.click('#results-btn');
  const st = await settled(page, 'results-status', 180000);
  assert.ok(st.ok, st.text);
  assert.match(await page.textContent('#state-signature'), /^PASS Signature verified$/);
  assert.match(await page.textContent('#state-merkle'), /^PASS Merkle root verified$/);
  const checks = await checkStates(page, '#results-area');
  assert.deepEqual(checks.filter((c) => c.cls !== 'pass'), []);
  for (const n of ['bundle_format', 'attestation', 'payload_signature', 'merkle_leaves', 'merkle_root', 'result_id'])
    assert.ok(checks.some((c) => c.name === n), `check ${n} shown`);
  const [dl] = await Promise.all([page.waitForEvent('download'), page.click('#download-bundle')]);
  const file = join(cfg.outDir, 'result.json');
  await dl.saveAs(file);
  assert.match(dl.suggestedFilename(), /^perfagg-result-[0-9a-f-]{36}\.json$/);
  const bundle = JSON.parse(readFileSync(file, 'utf8'));
  assert.equal(bundle.version, 1);
  const payload = bundle.response.aggregates_signed.payload;
  shared.payload = payload;
  assert.equal(payload.label, 'browser test');
  assert.ok(payload.trades > 0, 'the simulator account has trades in the window');
  assert.equal(await page.textContent('#numbers tr[data-field="pnl"] td'), String(payload.pnl));
  assert.equal(await page.textContent('#numbers tr[data-field="trades"] td'), String(payload.trades));
  assert.equal(await page.textContent('#numbers tr[data-field="merkle_root"] td'), bundle.response.merkle_root);
  assert.ok(await page.isVisible('#dev-badge'), 'a development result says so');
  if (Array.isArray(payload.daily)) {
    assert.equal(await page.locator('#daily-chart rect').count(), payload.daily.length);
  } else {
    assert.ok(await page.isVisible('#chart-none'), 'without a daily series the page says there is no chart');
  }
  await shot(page, '04-results.png');
});

test('/: revoke asks for confirmation (Escape cancels) and reminds to delete the key at the exchange', async () => {
  const { page } = trader;
  await page.click('#revoke-btn');
  assert.ok(await page.isVisible('#revoke-dialog'));
  await shot(page, '05-revoke-confirm.png');
  await page.keyboard.press('Escape');
  await page.waitForSelector('#revoke-dialog', { state: 'hidden' });
  // The dialog's close event is queued as a task after the dialog hides, so the
  // status line changes a moment later: wait for it instead of racing it.
  await page.waitForFunction(() => document.getElementById('revoke-status').textContent !== '', null, { timeout: 5000 });
  assert.equal(await page.textContent('#revoke-status'), 'Not revoked.');
  assert.equal(await page.inputValue('#session-id'), shared.sessionId, 'cancel keeps the session');
  await page.click('#revoke-btn');
  await page.click('#revoke-confirm');
  const st = await settled(page, 'revoke-status');
  assert.ok(st.ok, st.text);
  assert.match(st.text, /delete the API key at the exchange too/);
  assert.equal(await page.inputValue('#session-id'), '');
  await shot(page, '06-revoked.png');
});

test('/: no request the page made carried the plaintext key or secret, and none left the origin', async () => {
  const { requests, context } = trader;
  await context.close();
  assert.ok(requests.some((r) => r.url === `${cfg.url}/enclave/submit_key`));
  assert.ok(requests.length >= 8, `requests seen: ${requests.length}`);
  const needles = [cfg.apiSecret, cfg.apiKey, encodeURIComponent(cfg.apiSecret), Buffer.from(cfg.apiSecret).toString('base64'),
    Buffer.from(cfg.apiSecret).toString('hex')];
  for (const r of requests) {
    const hay = `${r.url}\n${JSON.stringify(r.headers)}\n${r.body}`;
    for (const n of needles) assert.ok(!hay.includes(n), `${r.method} ${r.url} carries the key or secret`);
    assert.ok(r.url.startsWith(`${cfg.url}/`) || r.url.startsWith('blob:'), `request to another origin: ${r.url}`);
  }
});

// Serves the real quote with one change; the page must refuse it.
async function tamperedAttest(mutate, name) {
  const { context, page } = await watched();
  await page.route('**/attestation/quote*', async (route) => {
    const response = await route.fetch();
    const att = await response.json();
    mutate(att);
    await route.fulfill({ response, json: att });
  });
  await page.goto(`${cfg.url}/`);
  await chooseDevRoot(page);
  // keyboard only: from the image field, Tab reaches the button and Enter presses it
  await page.focus('#expected-image');
  await page.keyboard.press('Tab');
  assert.equal(await page.evaluate(() => document.activeElement.id), 'attest-btn');
  await page.keyboard.press('Enter');
  const st = await settled(page, 'attest-status');
  assert.ok(!st.ok, 'a tampered attestation must be refused');
  assert.match(st.text, /REFUSED/);
  assert.equal(await page.isDisabled('#submit-btn'), true, 'nothing can be submitted after a refusal');
  const failed = (await checkStates(page, '#attest-result')).filter((c) => c.cls === 'fail').map((c) => c.name);
  await shot(page, name);
  await context.close();
  return failed;
}

test('/: a quote with one byte of its signature changed is refused on the page', async () => {
  const failed = await tamperedAttest((att) => {
    const q = Buffer.from(att.quote, 'base64');
    q[q.length - 1] ^= 0x01;
    att.quote = q.toString('base64');
  }, '07-tampered-quote.png');
  assert.ok(failed.includes('attestation'), `failed checks: ${failed}`);
});

test('/: a genuine quote served with another enclave key is refused on the page', async () => {
  const failed = await tamperedAttest((att) => {
    att.enclave_pubkey = Buffer.alloc(32, 7).toString('base64');
  }, '08-swapped-key.png');
  assert.ok(failed.includes('attestation_public_key'), `failed checks: ${failed}`);
  assert.ok(failed.includes('attestation_key_binding'), `failed checks: ${failed}`);
});

test('/: let the enclave make a key: attested, registered at the exchange, submitted with no secret at all', async () => {
  const { context, page, requests } = await watched();
  await page.goto(`${cfg.url}/`);
  await chooseDevRoot(page);
  await page.click('#attest-btn');
  assert.ok((await settled(page, 'attest-status')).ok);
  await page.click('#keygen-btn');
  const st = await settled(page, 'keygen-status');
  assert.ok(st.ok, st.text);
  const checks = await checkStates(page, '#keygen-result');
  for (const n of ['response_format', 'attestation', 'attestation_nonce', 'attestation_public_key', 'keygen_binding', 'image_hash', 'expected_image_hash', 'public_key_pem'])
    assert.ok(checks.some((c) => c.name === n), `check ${n} shown`);
  assert.deepEqual(checks.filter((c) => c.cls !== 'pass'), []);
  const pem = await page.inputValue('#keygen-pem');
  assert.match(pem, /^-----BEGIN PUBLIC KEY-----\n[A-Za-z0-9+/=]{60}\n-----END PUBLIC KEY-----\n$/);
  const keyId = (await page.textContent('#keygen-id')).trim();
  assert.equal(await page.isDisabled('#api-secret'), true, 'no secret to enter');
  await shot(page, '13-keygen.png');
  // the trader's step at the exchange: Binance (the simulator) registers the public key, shows an API key
  const reg = await fetch(`${cfg.simUrl}/__sim/api_keys`, {
    method: 'POST', headers: { 'X-Sim-Control': cfg.simControl, 'Content-Type': 'application/json' },
    body: JSON.stringify({ account: cfg.apiKey, ed25519_public_key: pem }),
  });
  assert.equal(reg.status, 200);
  const apiKey = (await reg.json()).api_key;
  await page.fill('#label', 'enclave key');
  await page.fill('#api-key', apiKey);
  await page.click('#submit-btn');
  const sub = await settled(page, 'submit-status');
  assert.ok(sub.ok, sub.text);
  const body = JSON.parse(requests.find((r) => r.url === `${cfg.url}/enclave/submit_key`).body);
  assert.equal(body.metadata.enclave_key_id, keyId);
  await page.click('#results-btn');
  const res = await settled(page, 'results-status', 180000);
  assert.ok(res.ok, res.text);
  assert.equal(await page.textContent('#numbers tr[data-field="key_origin"] td'), 'enclave');
  assert.equal(await page.textContent('#numbers tr[data-field="label"] td'), 'enclave key');
  await shot(page, '14-keygen-results.png');
  await page.click('#revoke-btn');
  await page.click('#revoke-confirm');
  assert.ok((await settled(page, 'revoke-status')).ok);
  for (const r of requests) assert.ok(!`${r.url}${r.body}`.includes(cfg.apiSecret), 'the demo secret was never involved');
  await context.close();
});

test('/: an enclave-made key answered with another public key is refused, and not shown for registration', async () => {
  const { context, page } = await watched();
  await page.route('**/enclave/keygen', async (route) => {
    const response = await route.fetch();
    const a = await response.json();
    // a key pair the host made: the PEM matches it, the attestation does not
    const other = Buffer.alloc(32, 9);
    a.public_key = other.toString('base64');
    a.public_key_pem = `-----BEGIN PUBLIC KEY-----\n${Buffer.concat([Buffer.from('302a300506032b6570032100', 'hex'), other]).toString('base64')}\n-----END PUBLIC KEY-----\n`;
    await route.fulfill({ response, json: a });
  });
  await page.goto(`${cfg.url}/`);
  await chooseDevRoot(page);
  await page.click('#attest-btn');
  assert.ok((await settled(page, 'attest-status')).ok);
  await page.click('#keygen-btn');
  const st = await settled(page, 'keygen-status');
  assert.ok(!st.ok, 'a substituted key must be refused');
  const failed = (await checkStates(page, '#keygen-result')).filter((c) => c.cls === 'fail').map((c) => c.name);
  assert.deepEqual(failed, ['keygen_binding']);
  assert.equal(await page.locator('#keygen-pem').count(), 0, 'nothing to register');
  assert.equal(await page.isDisabled('#api-secret'), false);
  await shot(page, '15-keygen-substituted.png');
  await context.close();
});

function tamperedBundleFile() {
  const b = JSON.parse(readFileSync(join(cfg.outDir, 'result.json'), 'utf8'));
  b.response.aggregates_signed.payload.pnl = b.response.aggregates_signed.payload.pnl + 1000;
  const file = join(cfg.outDir, 'result-tampered.json');
  writeFileSync(file, JSON.stringify(b));
  return file;
}

async function verifyPage(url, prefix) {
  const { context, page, requests } = await watched();
  await page.goto(url);
  assert.deepEqual(await unlabelled(page), []);
  await page.setInputFiles('#bundle-file', join(cfg.outDir, 'result.json'));
  await chooseDevRoot(page);
  await page.click('#verify-btn');
  let st = await settled(page, 'verify-status');
  assert.ok(st.ok, st.text);
  assert.match(await page.textContent('#state-signature'), /Signature verified$/);
  assert.match(await page.textContent('#state-merkle'), /Merkle root verified$/);
  assert.equal(await page.textContent('#numbers tr[data-field="pnl"] td'), String(shared.payload.pnl));
  assert.deepEqual((await checkStates(page, '#verify-area')).filter((c) => c.cls !== 'pass'), []);
  await shot(page, `${prefix}-verified.png`);

  await page.setInputFiles('#bundle-file', tamperedBundleFile());
  await page.click('#verify-btn');
  await page.waitForSelector('#verify-status.bad');
  st = await settled(page, 'verify-status');
  assert.ok(!st.ok);
  assert.match(st.text, /NOT VERIFIED/);
  assert.match(await page.textContent('#state-signature'), /^FAIL/);
  assert.ok(await page.isVisible('#not-verified'));
  assert.equal(await page.locator('#numbers').count(), 0, 'no number of a tampered bundle is shown');
  const failed = (await checkStates(page, '#verify-area')).filter((c) => c.cls === 'fail').map((c) => c.name);
  // the signature, and the attestation's nonce (SHA-256 of the payload); the log still matches
  assert.deepEqual(failed.sort(), ['attestation_nonce', 'payload_signature']);
  await shot(page, `${prefix}-tampered.png`);
  await context.close();
  return requests;
}

test('/verify (served): the downloaded bundle verifies; a tampered one is refused; no request but the page', async () => {
  const requests = await verifyPage(`${cfg.url}/verify`, '09-verify-served');
  assert.deepEqual(requests.map((r) => r.url), [`${cfg.url}/verify`]);
});

test('/verify opened from disk (file://): the same checks, and no network at all', async () => {
  const file = join(cfg.outDir, 'perfagg-verify.html');
  copyFileSync(cfg.verifyFile, file);
  const url = pathToFileURL(file).href;
  const requests = await verifyPage(url, '10-verify-file');
  assert.deepEqual(requests.map((r) => r.url), [url]);
});

test('phone: both pages fit 390 px without sideways scrolling', async () => {
  for (const [path, name] of [['/', '11-phone-trader.png'], ['/verify', '12-phone-verify.png']]) {
    const { context, page } = await watched({ viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true });
    await page.goto(`${cfg.url}${path}`);
    const w = await page.evaluate(() => ({ scroll: document.documentElement.scrollWidth, client: document.documentElement.clientWidth }));
    assert.ok(w.scroll <= w.client, `${path}: ${w.scroll}px wide content in a ${w.client}px viewport`);
    await shot(page, name);
    await context.close();
  }
});

// The daily chart with a series like the one issue 7's payload carries
// ({date, pnl, return, equity} per UTC day): today's enclave signs none, so
// the flow above only sees the "no daily series" sentence. The chart module
// itself, bundled by esbuild as the pages are, renders in the same browser.
test('chart: PnL bars for every day, the equity line, the return line without equity, and the numbers table', async () => {
  const { build } = require('esbuild');
  const out = await build({
    stdin: {
      contents: `import { renderNumbers } from './src/pages/lib/results.js'; window.renderNumbers = renderNumbers;`,
      resolveDir: join(here, '..', '..', 'web'), loader: 'js',
    },
    bundle: true, write: false, format: 'iife', logLevel: 'silent',
  });
  const { context, page } = await watched();
  await page.setContent('<!doctype html><html><body><main id="m"></main></body></html>');
  await page.addStyleTag({ path: join(here, '..', '..', 'web', 'src', 'pages', 'style.css') });
  await page.addScriptTag({ content: out.outputFiles[0].text });
  const days = Array.from({ length: 30 }, (_, i) => ({
    date: `2026-11-${String(i + 1).padStart(2, '0')}`, pnl: i % 3 === 0 ? -12.5 * i : 8.25 * i,
    return: (i % 3 === 0 ? -0.001 : 0.002) * i, equity: 10000 + 40 * i,
  }));
  const render = (daily) => page.evaluate((d) => {
    const m = document.getElementById('m');
    m.replaceChildren(window.renderNumbers({ type: 'perfagg/v1/aggregates', currency: 'USDT', pnl: 1, environment: 'production', daily: d }));
    const svg = document.getElementById('daily-chart');
    return {
      bars: svg.querySelectorAll('rect').length, neg: svg.querySelectorAll('rect.bar-neg').length,
      equity: svg.querySelectorAll('path.line-equity').length, ret: svg.querySelectorAll('path.line-return').length,
      title: svg.querySelector('title').textContent, rows: m.querySelectorAll('details tbody tr').length,
      badge: m.querySelectorAll('#dev-badge').length,
    };
  }, daily);
  let r = await render(days);
  assert.deepEqual({ ...r, title: undefined }, { bars: 30, neg: 9, equity: 1, ret: 0, rows: 30, badge: 0, title: undefined });
  assert.match(r.title, /Daily PnL and equity \(USDT\), 30 days from 2026-11-01 to 2026-11-30/);
  await shot(page, '16-chart-equity.png');
  r = await render(days.map(({ equity, ...d }) => d));
  assert.equal(r.equity, 0);
  assert.equal(r.ret, 1);
  assert.match(r.title, /cumulative return/);
  await shot(page, '17-chart-return.png');
  await context.close();
});

test('no console error, page error or CSP violation on either page', () => {
  assert.deepEqual(problems, []);
});
