// Drives flagd's dashboard (docs/dashboard.md) in headless Chromium
// (Debian's, at /usr/bin/chromium or $CHROMIUM; puppeteer-core downloads
// no browser) for tests/testsuite/dashboard_browser.rs: one JSON command a
// line on stdin, one JSON answer a line on stdout ({"ok": true, "value"}
// or {"ok": false, "error"}). Console messages, page errors and failed
// requests go to stderr. Exits when stdin closes.
//
//   node dashboard.mjs
import readline from 'node:readline';
import { launch } from './launch.mjs';

const { browser, page } = await launch();
// CSP violations are errors of the page: the tests fail on any.
await page.evaluateOnNewDocument(() => {
  document.addEventListener('securitypolicyviolation', (e) => {
    console.error(`CSP violation: ${e.violatedDirective} ${e.blockedURI}`);
    window.__cspViolations = (window.__cspViolations ?? 0) + 1;
  });
});
let dialogs = 'accept';
page.on('dialog', async (d) => {
  console.error(`dialog: ${d.message()} -> ${dialogs}`);
  if (dialogs === 'accept') await d.accept(); else await d.dismiss();
});

const ops = {
  async viewport({ width, height }) { await page.setViewport({ width, height }); },
  async goto({ url }) {
    const r = await page.goto(url, { waitUntil: 'domcontentloaded' });
    return r?.status() ?? 0;
  },
  async type({ selector, text }) { await page.type(selector, text); },
  async submit({ selector }) {
    const [r] = await Promise.all([
      page.waitForNavigation({ waitUntil: 'domcontentloaded' }),
      page.click(selector),
    ]);
    return r?.status() ?? 0;
  },
  async click({ selector, dialog }) { dialogs = dialog ?? 'accept'; await page.click(selector); },
  async text({ selector }) { return page.$eval(selector, (e) => e.textContent).catch(() => null); },
  async texts({ selector }) { return page.$$eval(selector, (es) => es.map((e) => e.textContent)); },
  async count({ selector }) { return page.$$eval(selector, (es) => es.length); },
  async attr({ selector, name }) { return page.$eval(selector, (e, n) => e.getAttribute(n), name).catch(() => null); },
  // Waits for `selector` (holding `text`, when given); answers when the
  // page first showed it, in ms since the epoch by this machine's clock,
  // as the page measured it (not when the answer reached this driver).
  async waitFor({ selector, text, timeout }) {
    const handle = await page.waitForFunction(
      (s, t) => [...document.querySelectorAll(s)].some((e) => t == null || e.textContent.includes(t)) && Date.now(),
      { timeout: timeout ?? 10000, polling: 'mutation' },
      selector, text ?? null,
    );
    return handle.jsonValue();
  },
  async screenshot({ path, fullPage }) { await page.screenshot({ path, fullPage: fullPage ?? true }); },
  async press({ key }) { await page.keyboard.press(key); },
  async focused() {
    return page.evaluate(() => {
      const e = document.activeElement;
      if (!e) return null;
      const label = e.labels?.[0]?.textContent ?? e.getAttribute('aria-label') ?? e.textContent;
      return { tag: e.tagName.toLowerCase(), label: (label ?? '').trim().slice(0, 80) };
    });
  },
  // A request from the page, with its cookies and Origin.
  async fetch({ url, method, body }) {
    return page.evaluate(async (u, m, b) => {
      const r = await fetch(u, { method: m, credentials: 'same-origin', headers: { 'Content-Type': 'application/json' }, body: b });
      return { status: r.status, body: await r.text() };
    }, url, method ?? 'GET', body ?? null);
  },
  async cspViolations() { return page.evaluate(() => window.__cspViolations ?? 0); },
  // Controls without a label or a name: none may be.
  async unlabelled() {
    return page.$$eval('input:not([type=hidden]), select, textarea, button', (es) =>
      es.filter((e) => !(e.labels?.length || e.getAttribute('aria-label') || e.textContent.trim())).map((e) => e.outerHTML));
  },
  async width() { return page.evaluate(() => document.documentElement.scrollWidth); },
};

const lines = readline.createInterface({ input: process.stdin });
for await (const line of lines) {
  if (!line.trim()) continue;
  let answer;
  try {
    const command = JSON.parse(line);
    const value = await ops[command.op](command);
    answer = { ok: true, value: value ?? null };
  } catch (e) {
    answer = { ok: false, error: String(e?.message ?? e) };
  }
  process.stdout.write(`${JSON.stringify(answer)}\n`);
}
await browser.close();
process.exit(0);
