// The explorer's ▶ train button beside the native engine, for bench/web.sh (docs/explorer.md,
// "Speed"), in rounds that interleave the two within seconds, because this machine's speed drifts
// (slow and fast spells of a few seconds): each round runs, for recipe fixed then article,
// `10_train --limit 2000 --epochs 10` (10 epochs of the first 2,000 training samples, about
// 25 ms each, a test-set evaluation after each), then the page's own button for 3 s on the same
// page, counted from 0.5 s after it was clicked (2 s in the first round, whose first 5,000 steps
// evaluate every 500), and pauses it. One page in one headless Chromium (tests/web/harness.mjs)
// trains on through the rounds, switching its recipe with the page's own select. Prints one JSON
// line per round: {fixed: [the epochs' samples/s], article: [...], button: {buttonFixed,
// buttonArticle} (samples/s)}.
//   node bench/web_button.mjs ROOT BUILD_WEB TRAIN DATA ROUNDS
//     TRAIN the native tutorials/10_train, DATA the MNIST folder it reads
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { launch, pageLoads, serve } from '../tests/web/harness.mjs';

const [root, build, train, data] = process.argv.slice(2, 6).map((p) => p && path.resolve(p));
const rounds = Number(process.argv[6]);
if (!root || !build || !train || !data || !(rounds >= 1)) {
  console.error('usage: node bench/web_button.mjs ROOT BUILD_WEB TRAIN DATA ROUNDS');
  process.exit(2);
}

const tmp = mkdtempSync(path.join(os.tmpdir(), 'stepgrad-web-button-'));
/** The native engine: 10 epochs of `recipe` on 2,000 samples; their samples_per_second. */
function epochs(recipe) {
  const out = path.join(tmp, recipe);
  execFileSync(
    train,
    ['--data', data, '--limit', '2000', '--epochs', '10', '--no-plots', '--recipe', recipe, '--out', out],
    {
      stdio: 'ignore',
    },
  );
  const [head, ...rows] = readFileSync(path.join(out, 'metrics.csv'), 'utf8').trim().split('\n');
  const column = head.split(',').indexOf('samples_per_second');
  return rows.map((r) => Number(r.split(',')[column]));
}

/**
 * The ▶ train button's throughput for `recipe`, as a learner uses it: the worker's steps, its
 * evaluations and the weights it sends, over 3 s of wall time after `warmMs`, counted by the
 * page as the worker's weights arrive (samples/s). The page pauses it again and waits until the
 * worker has stopped.
 */
async function buttonRate(page, settled, recipe, warmMs) {
  await page.selectOption('#recipe', recipe);
  await page.click('#train-play');
  await page.waitForTimeout(warmMs);
  const at = () => page.evaluate(() => [performance.now(), window.explorer.training.trainer.steps]);
  const [t0, s0] = await at();
  await page.waitForTimeout(3000);
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
  const { open, settled } = pageLoads(page, base);
  await open('#seed=42&sample=0&recipe=fixed&step=8');
  await page.fill('#lr', '0.001');
  await page.dispatchEvent('#lr', 'change');
  for (let r = 0; r < rounds; ++r) {
    const warmMs = r === 0 ? 2000 : 500;
    const fixed = epochs('fixed');
    const buttonFixed = await buttonRate(page, settled, 'fixed', warmMs);
    const article = epochs('article');
    const buttonArticle = await buttonRate(page, settled, 'article', 500);
    if (errors.length) throw new Error(`the page failed: ${errors.join(' | ')}`);
    console.log(JSON.stringify({ fixed, article, button: { buttonFixed, buttonArticle } }));
  }
} finally {
  await browser.close();
  server.close();
  rmSync(tmp, { recursive: true, force: true });
}
