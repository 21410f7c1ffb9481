// The explorer's ▶ train button alone, for bench/web.sh's rounds (docs/explorer.md, "Speed"): its
// own throughput for recipe fixed, then article, in headless Chromium (tests/web/harness.mjs),
// printed as one JSON line {buttonFixed, buttonArticle} (samples/s).
//   node bench/web_button.mjs ROOT BUILD_WEB
import path from 'node:path';
import { launch, pageLoads, serve } from '../tests/web/harness.mjs';

const [root, build] = process.argv.slice(2, 4).map((p) => path.resolve(p));
if (!root || !build) {
  console.error('usage: node bench/web_button.mjs ROOT BUILD_WEB');
  process.exit(2);
}

/**
 * The ▶ train button's throughput for `recipe`, as a learner uses it: the worker's steps, its
 * evaluations and the weights it sends, over 5 s of wall time after 2 s of warming up, counted by
 * the page as the worker's weights arrive (samples/s).
 */
async function buttonRate(page, { reopen, settled }, recipe) {
  await reopen(`#seed=42&sample=0&recipe=${recipe}&step=8`);
  await page.fill('#lr', '0.001');
  await page.dispatchEvent('#lr', 'change');
  await page.click('#train-play');
  await page.waitForTimeout(2000);
  const at = () => page.evaluate(() => [performance.now(), window.explorer.training.trainer.steps]);
  const [t0, s0] = await at();
  await page.waitForTimeout(5000);
  const [t1, s1] = await at();
  await page.click('#train-play');
  await settled();
  return ((s1 - s0) * 1000) / (t1 - t0);
}

const { server, base } = await serve(build);
const browser = await launch(root);
try {
  const page = await (await browser.newContext({ viewport: { width: 1500, height: 1000 } })).newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  const loads = pageLoads(page, base);
  const buttonFixed = await buttonRate(page, loads, 'fixed');
  const buttonArticle = await buttonRate(page, loads, 'article');
  if (errors.length) throw new Error(`the page failed: ${errors.join(' | ')}`);
  console.log(JSON.stringify({ buttonFixed, buttonArticle }));
} finally {
  await browser.close();
  server.close();
}
