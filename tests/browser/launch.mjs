// Headless Chromium for the browser tests' drivers (drive.mjs,
// dashboard.mjs): Debian's, at /usr/bin/chromium or $CHROMIUM
// (puppeteer-core downloads no browser), with one page whose console
// messages, errors and failed requests go to stderr.
import puppeteer from 'puppeteer-core';

export async function launch() {
  const browser = await puppeteer.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    headless: true,
    // Root in a container needs --no-sandbox; the rest keeps Chromium off
    // a network it cannot reach.
    args: [
      '--headless=new',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  const page = await browser.newPage();
  page.on('console', (m) => console.error(`console.${m.type()}: ${m.text()}`));
  page.on('pageerror', (e) => console.error(`page error: ${e.message}`));
  page.on('requestfailed', (r) => console.error(`request failed: ${r.method()} ${r.url()}: ${r.failure()?.errorText}`));
  return { browser, page };
}
