// What tests/web/browser.mjs and bench/web_button.mjs share: a static server for build-web/ on
// 127.0.0.1, Debian's Chromium driven by playwright-core (nothing downloads a browser), and the
// page's load helpers.
import { readFileSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { createRequire } from 'node:module';

const types = {
  '.html': 'text/html',
  '.js': 'text/javascript',
  '.css': 'text/css',
  '.wasm': 'application/wasm',
  '.bin': 'application/octet-stream',
};

/** Serves the files of `build` (and nothing outside it); resolves to {server, base}. */
export async function serve(build) {
  const server = http.createServer((req, res) => {
    const name = decodeURIComponent(new URL(req.url, 'http://x').pathname).replace(/^\/+/, '') || 'index.html';
    const file = path.join(build, path.normalize(name));
    if (!file.startsWith(path.resolve(build))) {
      res.writeHead(403).end();
      return;
    }
    try {
      const body = readFileSync(file);
      res
        .writeHead(200, {
          'content-type': types[path.extname(file)] ?? 'application/octet-stream',
        })
        .end(body);
    } catch {
      res.writeHead(404).end();
    }
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  return { server, base: `http://127.0.0.1:${server.address().port}/` };
}

/** Headless /usr/bin/chromium, by web/node_modules' playwright-core. */
export function launch(root) {
  const require = createRequire(path.join(root, 'web', 'package.json'));
  const { chromium } = require('playwright-core');
  return chromium.launch({
    executablePath: '/usr/bin/chromium',
    timeout: 60000,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

/** open(hash) loads the page at base with that hash and waits until it is ready (its ms);
 * reopen(hash) does so from a blank page (open() with only a new hash fires hashchange);
 * settled() waits until the training worker has done what the page asked of it so far and the
 * page shows its weights (window.explorer.settled()). */
export function pageLoads(page, base) {
  const open = async (hash) => {
    const t0 = Date.now();
    await page.goto(`${base}index.html${hash}`);
    await page.waitForSelector('body[data-ready="1"]', { timeout: 30000 });
    return Date.now() - t0;
  };
  const reopen = async (hash) => {
    await page.goto('about:blank');
    return open(hash);
  };
  const settled = (p = page) => p.evaluate(() => window.explorer.settled());
  return { open, reopen, settled };
}
