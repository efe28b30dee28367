// Loads a page in headless Chromium (Debian's, at /usr/bin/chromium or
// $CHROMIUM; puppeteer-core downloads no browser) and prints, one JSON line
// on stdout each time it changes, the text of the page's <pre id="flags">:
// what the page shows, as it shows it. Console messages, page errors and
// failed requests go to stderr. Runs until stdin closes.
//
//   node drive.mjs PAGE_URL
import { launch } from './launch.mjs';

const url = process.argv[2];
if (!url) {
  console.error('usage: node drive.mjs PAGE_URL');
  process.exit(2);
}

const { browser, page } = await launch();

await page.exposeFunction('reportShown', (text) => {
  process.stdout.write(`${text.replace(/\n/g, ' ')}\n`);
});
// Reports the element's text at load and after every change to it.
await page.evaluateOnNewDocument(() => {
  document.addEventListener('DOMContentLoaded', () => {
    const pre = document.getElementById('flags');
    const report = () => window.reportShown(pre.textContent);
    new MutationObserver(report).observe(pre, { childList: true, characterData: true, subtree: true });
    report();
  });
});
await page.goto(url);

async function close() {
  await browser.close();
  process.exit(0);
}
process.stdin.on('end', close);
process.stdin.on('close', close);
process.stdin.resume();
