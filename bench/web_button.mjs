// The explorer's ▶ train button beside the native engine, for bench/web.sh (docs/explorer.md,
// "Speed"), in rounds that interleave the two within seconds, because this machine's speed drifts
// (slow and fast spells of a few seconds): each round runs, for recipe fixed then article,
// `10_train --limit 2000 --epochs 30` (30 epochs of the first 2,000 training samples, about 25 ms
// each: with 10, a round's native rate was a quarter of a second of training, and one slow spell
// moved it more than its button's 3 s), then the page's own button for 3 s on the same page,
// counted from 0.5 s after it was clicked (2 s in the first round, whose first 5,000 steps evaluate
// every 500), and pauses it. One page in one headless Chromium (tests/web/harness.mjs) trains on
// through the rounds, switching its recipe with the page's own select. Prints one JSON line per
// round: {fixed: [the epochs' samples/s], article: [...], button: {buttonFixed, buttonArticle}
// (samples/s)}.
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
/** The native engine: 30 epochs of `recipe` on 2,000 samples; their samples_per_second. */
function epochs(recipe) {
  const out = path.join(tmp, recipe);
  execFileSync(
    train,
    ['--data', data, '--limit', '2000', '--epochs', '30', '--no-plots', '--recipe', recipe, '--out', out],
    {
      stdio: ['ignore', 'ignore', 'inherit'],
    },
  );
  const [head, ...rows] = readFileSync(path.join(out, 'metrics.csv'), 'utf8').trim().split('\n');
  const column = head.split(',').indexOf('samples_per_second');
  return rows.map((r) => Number(r.split(',')[column]));
}

/**
 * The ▶ train button's throughput for `recipe`, as a learner uses it: the worker's steps, its
 * evaluations and the weights it sends, over 3 s of wall time after `warmMs`, from the worker's
 * updates as they reached the page (the page's own marks of the steps and the time of each
 * update, as its displayed rate uses them: the steps between the first and the last update of
 * the 3 s over the time between them), in samples/s. The page pauses it again and waits until
 * the worker has stopped.
 */
async function buttonRate(page, settled, recipe, warmMs) {
  await page.selectOption('#recipe', recipe);
  await page.click('#train-play');
  await page.waitForTimeout(warmMs);
  const t0 = await page.evaluate(() => performance.now());
  await page.waitForTimeout(3000);
  const rate = await page.evaluate((from) => {
    const marks = window.explorer.training.marks.filter((m) => m.t >= from);
    const [first, last] = [marks[0], marks.at(-1)];
    return marks.length >= 2 ? ((last.steps - first.steps) * 1000) / (last.t - first.t) : NaN;
  }, t0);
  await page.click('#train-play');
  await settled();
  if (!(rate > 0)) throw new Error(`no updates from the worker in 3 s of ${recipe}`);
  return rate;
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
