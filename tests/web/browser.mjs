// The explorer in headless Chromium (Debian's /usr/bin/chromium driven by playwright-core from
// web/node_modules; nothing downloads a browser), served from build-web/ on 127.0.0.1.
//   node browser.mjs ROOT BUILD_WEB [--digest HEX] [--small JSON] [--screenshots DIR] [--bench]
// Checks: no console error; the page prints seed 42 sample 0 as the golden output does; the
// keyboard visits the tape forward then backward in order; the recipe switch makes delta2
// disagree (erratum E1); the URL hash restores a view; a seed past uint32 is refused; "Your turn"
// grades typed deltas and names the mistakes; drawing runs the engine; training in the Web Worker
// never holds the page (one loop whatever is clicked, a stroke answered while it trains); K
// training steps in the page, by the JS API and by the page's own button (the worker), give the
// weights whose SHA-256 is --digest (10_train's, from check_web.py); the small graphs equal
// 13_your_network and 01_neuron at 17 digits (--small: their outputs, from check_web.py).
// --screenshots writes the pictures of docs/explorer.md; --bench prints the page's speed as JSON.
import { readFileSync, statSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { checkLayout } from './layout.mjs';
import { launch, pageLoads, serve } from './harness.mjs';

const [root, build] = process.argv.slice(2, 4).map((p) => path.resolve(p));
const rest = process.argv.slice(4);
const opt = (name) => {
  const i = rest.indexOf(name);
  return i >= 0 ? rest[i + 1] : undefined;
};

// A watchdog: a hung browser fails the test instead of stalling the suite.
const watchdog = setTimeout(() => {
  console.log('FAILED: timed out after 300 s');
  process.exit(1);
}, 300000);
watchdog.unref();

function fail(why) {
  console.log(`FAILED: ${why}`);
  process.exitCode = 1;
  throw new Error(why);
}
function check(cond, why) {
  if (!cond) fail(why);
}

// ---- a static server for build-web/ on 127.0.0.1, and the browser (tests/web/harness.mjs) ----
const { server, base } = await serve(build);
const browser = await launch(root);
const errors = [];
let page;
try {
  const context = await browser.newContext({
    viewport: { width: 1500, height: 1000 },
    locale: 'en-US', // the page's language, when the link names none (section 8: zh-CN)
  });
  page = await context.newPage();
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('requestfailed', (r) => errors.push(`request failed: ${r.url()}`));
  // open(hash), a fresh reopen(hash), and settled(): the worker has done what the page asked
  const { open, reopen, settled } = pageLoads(page, base);
  // a stroke drawn with the mouse on the pad, scrolled to the window's middle, with one frame of
  // the page after each move: point(k) = [x, y] in the pad's pixels for k = 0 .. moves
  const drawStroke = async (point, moves) => {
    await page.$eval('#draw', (e) => e.scrollIntoView({ block: 'center' }));
    const pad = await (await page.$('#draw')).boundingBox();
    const moveTo = ([x, y]) => page.mouse.move(pad.x + x, pad.y + y);
    await moveTo(point(0));
    await page.mouse.down();
    for (let k = 0; k <= moves; ++k) {
      await moveTo(point(k));
      await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => r())));
    }
    await page.mouse.up();
  };
  const loadMs = await open('#seed=42&sample=0&recipe=fixed&step=0');
  const info = () => page.$eval('#stepinfo', (e) => `${e.dataset.phase} ${e.dataset.node}`);

  // 1. seed 42, sample 0: the rule panel prints what 05_forward prints
  const golden05 = readFileSync(path.join(root, 'tests/golden/05_forward.txt'), 'utf8');
  const golden07 = readFileSync(path.join(root, 'tests/golden/07_deltas.txt'), 'utf8');
  for (const [name, step] of [
    ['Z1', 2],
    ['O1', 3],
    ['Z2', 5],
    ['O2', 6],
    ['Z3', 8],
    ['O3', 9],
  ]) {
    await page.evaluate((s) => {
      location.hash = `seed=42&sample=0&recipe=fixed&step=${s}`;
    }, step);
    await page.waitForFunction((n) => document.querySelector('#stepinfo').dataset.node === n, name);
    const shown = await page.$eval('#rule pre', (e) => e.textContent);
    check(golden05.includes(shown), `the page's ${name} is not 05_forward's:\n${shown}`);
  }
  for (const d of ['delta3', 'delta2', 'delta1', 'Delta2', 'Delta1', 'Delta0']) {
    const shown = await page.evaluate((k) => window.explorer.explanation.show(k), d);
    check(golden07.includes(shown), `the page's ${d} is not 07_deltas's`);
  }

  // 2. the keyboard: Home, then right arrow through the forward sweep and back
  await page.evaluate(() => {
    location.hash = 'seed=42&sample=0&recipe=fixed&step=0';
  });
  await page.keyboard.press('End');
  await page.keyboard.press('Home');
  const visited = [await info()];
  const total = await page.evaluate(() => window.explorer.steps.length);
  for (let k = 1; k < total; ++k) {
    await page.keyboard.press('ArrowRight');
    visited.push(await info());
  }
  const expected = ['O0', 'W0', 'Z1', 'O1', 'W1', 'Z2', 'O2', 'W2', 'Z3', 'O3', 'Y', 'C', 'cost']
    .map((n) => `forward ${n}`)
    .concat(['C', 'Z3', 'W2', 'O2', 'Z2', 'W1', 'O1', 'Z1', 'W0'].map((n) => `backward ${n}`));
  check(JSON.stringify(visited) === JSON.stringify(expected), `keyboard order: ${visited.join(', ')}`);
  await page.keyboard.press('ArrowLeft');
  check((await info()) === 'backward Z1', 'ArrowLeft does not go back one step');

  // 3. the recipe switch at delta2: fixed agrees to 1e-12, article does not (erratum E1)
  const z2 = expected.indexOf('backward Z2');
  await page.evaluate((s) => {
    location.hash = `seed=42&sample=0&recipe=fixed&step=${s}`;
  }, z2);
  await page.waitForFunction(() => document.querySelector('#check').dataset.node === 'Z2');
  const relFixed = Number(await page.$eval('#check', (e) => e.dataset.deltaRel));
  check(relFixed <= 1e-12, `fixed recipe: delta2 vs grad Z2 max rel ${relFixed}`);
  if (opt('--screenshots')) {
    await page.evaluate(() => window.scrollTo(0, 0)); // the keyboard's walk scrolled to its cards
    await shot('explorer-backward-fixed.png');
  }
  await page.selectOption('#recipe', 'article');
  await page.waitForFunction(() => Number(document.querySelector('#check').dataset.deltaRel) > 1e-12);
  const relArticle = Number(await page.$eval('#check', (e) => e.dataset.deltaRel));
  const text = await page.$eval('#check', (e) => e.textContent);
  check(relArticle > 0.1 && text.includes('erratum E1'), `article recipe: delta2 rel ${relArticle}, no E1`);
  check((await page.evaluate(() => location.hash)).includes('recipe=article'), 'the hash does not hold the recipe');
  if (opt('--screenshots')) await shot('explorer-e1.png');

  // 4. a link reproduces a view
  await open('#seed=7&sample=3&recipe=article&step=15');
  const restored = await page.evaluate(() => [
    document.querySelector('#seed').value,
    document.querySelector('#sample').value,
    document.querySelector('#recipe').value,
  ]);
  check(
    JSON.stringify(restored) === '["7","3","article"]' && (await info()) === expected[15],
    `hash view: ${restored}, ${await info()}`,
  );
  // a seed past uint32 is refused with a message (embind would wrap it), the view stays seed 7
  await page.fill('#seed', '4294967296');
  await page.dispatchEvent('#seed', 'change');
  const refused = await page.evaluate(() => [
    document.querySelector('#controls-error').textContent,
    window.explorer.state.seed,
    location.hash,
  ]);
  check(
    refused[0] === "seed: expected a whole number from 0 to 4294967295, found '4294967296'" &&
      refused[1] === 7 &&
      refused[2].includes('seed=7&'),
    `seed 4294967296: ${refused}`,
  );
  // the fields and the link refuse by the same rules (issue 24): -1 and 99999 are refused, not
  // made 0 or clamped, and say so
  for (const [id, bad] of [
    ['seed', '-1'],
    ['sample', '99999'],
    ['sample', '1.5'],
  ]) {
    await page.fill(`#${id}`, bad);
    await page.dispatchEvent(`#${id}`, 'change');
    const r = await page.evaluate(() => [
      document.querySelector('#controls-error').textContent,
      window.explorer.state.seed,
      window.explorer.state.sample,
    ]);
    check(
      r[0].startsWith(`${id}: expected a whole number from 0 to `) && r[1] === 7 && r[2] === 3,
      `${id} ${bad}: ${r}`,
    );
    await page.fill('#seed', '7');
    await page.fill('#sample', '3');
    await page.dispatchEvent('#seed', 'change');
  }
  check((await page.$eval('#controls-error', (e) => e.textContent)) === '', 'good values clear the message');
  // a bad link loads the page with defaults, says in one line what it ignored, and rewrites the
  // hash to what is shown; never an uncaught error or a half-built page (by load and by hashchange)
  const badLinks = [
    [
      '#seed=-1&sample=99999&recipe=nope&step=0',
      ['seed=-1', 'sample=99999', 'recipe=nope'],
      '#seed=42&sample=0&recipe=fixed&step=0',
    ],
    ['#graph=neuron&edit=O0.99:0.5', ['edit=O0.99:0.5'], '&graph=neuron'],
    ['#graph=xor&edit=W.1:0.3,Q.0:1,junk', ['edit=W.1:0.3', 'edit=Q.0:1', 'edit=junk'], '&graph=xor'],
    ['#step=500&foo=1', ['step=500 (a step from 0 to 21)', 'foo=1'], 'step=21'],
  ];
  for (const viaHashChange of [false, true]) {
    for (const [hash, named, shown] of badLinks) {
      if (viaHashChange) {
        await page.evaluate((h) => (location.hash = h), hash);
        await page.waitForFunction((h) => location.hash !== h, hash);
      } else await reopen(hash);
      const r = await page.evaluate(() => ({
        notice: document.querySelector('#notice').textContent,
        hash: location.hash,
        nodes: document.querySelectorAll('#graph .gnode').length,
        cards: document.querySelectorAll('#tape .node').length,
        labels: document.querySelectorAll('#draw-label option').length,
      }));
      check(
        named.every((n) => r.notice.includes(n)) &&
          r.notice.endsWith('ignored, the page shows the default instead.') &&
          r.hash.includes(shown) &&
          r.nodes > 0 &&
          r.cards === 13 &&
          r.labels === 11, // '?' and the ten digits
        `link ${hash}${viaHashChange ? ' (hashchange)' : ''}: ${JSON.stringify(r)}`,
      );
    }
  }
  await reopen('#seed=42&sample=0&recipe=fixed&step=0');
  check((await page.$eval('#notice', (e) => e.textContent)) === '', 'a good link shows no notice');
  // a small graph's field left empty is refused in words and keeps its value
  {
    const field = '#graph input[data-leaf="O0"][data-i="0"]';
    const before = await page.$eval(field, (e) => e.value);
    await page.fill(field, '');
    await page.dispatchEvent(field, 'change');
    const r = await page.evaluate(
      (f) => [document.querySelector('#graph-error').textContent, document.querySelector(f).value],
      field,
    );
    check(
      r[0].startsWith('O0[0]: expected a number; it keeps') && r[1] !== '',
      `an empty graph field: ${r} (was ${before})`,
    );
  }

  // 5a. small graphs: the neuron's numbers are 01_neuron's, the XOR graph's one step is
  // 13_your_network's (same weights, RandomState(42)), and an edit reruns the engine
  const graphCells = () =>
    page.evaluate(() =>
      Object.fromEntries(
        [...document.querySelectorAll('#graph .gnode')].map((b) => [
          b.querySelector('.gtitle').textContent,
          {
            values: [...b.querySelectorAll('.gval')].map((e) => (e.value ?? e.textContent).trim()),
            grads: [...b.querySelectorAll('.ggrad')].map((e) => e.textContent.replace(/^grad /, '').trim()),
          },
        ]),
      ),
    );
  const tokens = (text) => text.replace(/[[\]]/g, ' ').trim().split(/\s+/);
  // "name (shape)\n[[...]]" blocks of a golden file: name -> its numbers as printed
  const blocks = (text, re) => {
    const out = {};
    const lines = text.split('\n');
    lines.forEach((line, k) => {
      const m = re.exec(line);
      if (!m) return;
      let body = '';
      for (let j = k + 1; j < lines.length && /^\s*[[\-\d]/.test(lines[j]); ++j) body += ' ' + lines[j];
      out[m[1]] = tokens(body);
    });
    return out;
  };
  await reopen('#seed=42&sample=0&recipe=fixed&step=0&graph=neuron');
  const golden01 = readFileSync(path.join(root, 'tests/golden/01_neuron.txt'), 'utf8');
  let g = await graphCells();
  const g01 = blocks(golden01, /^(\S+) \(\d+(?:, \d+)?,?\)$/);
  const zo = /Z = (\S+), O = (\S+): the same/.exec(golden01);
  const same = (a, b, what) =>
    check(JSON.stringify(a) === JSON.stringify(b), `${what}: page ${JSON.stringify(a)}, golden ${JSON.stringify(b)}`);
  same(g['O0 (input)'].values, g01.O0, 'neuron O0');
  same(g['W (param)'].values, g01.W, 'neuron W');
  same(g['W (param)'].grads, g01.grad_W, 'neuron grad W');
  same([g['Z = W · O0'].values[0], g['O = sigmoid(Z)'].values[0]], [zo[1], zo[2]], 'neuron Z, O');
  // dO/dZ = sigmoid'(Z) = O (1 - O), as 01_neuron prints it
  same(g['Z = W · O0'].grads, [/sigmoid'\(Z\) = O \(1 - O\) = (\S+);/.exec(golden01)[1]], 'neuron grad Z');
  const rule = await page.$eval('#graph .gnode[data-name="O"] .grule', (e) => e.textContent);
  check(rule.startsWith('grad Z += grad O ⊙ O (1 - O) = '), `the neuron's O shows no rule with numbers: ${rule}`);
  // an edit: O0[0] = 0.7 runs the engine again; the page shows what a fresh engine run says
  await page.fill('#graph input[data-leaf="O0"][data-i="0"]', '0.7');
  await page.press('#graph input[data-leaf="O0"][data-i="0"]', 'Enter');
  await page.waitForFunction(() => location.hash.includes('edit=O0.0:0.7'));
  g = await graphCells();
  const engine = await page.evaluate(() => {
    const sg = window.explorer.sg,
      gr = sg.smallGraph('neuron');
    gr.set('O0', 0, 0.7);
    const nodes = gr.run();
    gr.dispose();
    const f = (v) => sg.formatNumber(v, 4);
    return {
      Z: f(nodes[2].value[0]),
      O: f(nodes[3].value[0]),
      gW: Array.from(nodes[1].grad, f),
    };
  });
  check(engine.Z !== zo[1], 'the edit did not change Z in the engine');
  same(
    [g['Z = W · O0'].values[0], g['O = sigmoid(Z)'].values[0], ...g['W (param)'].grads],
    [engine.Z, engine.O, ...engine.gW],
    'neuron after O0[0] = 0.7',
  );
  // the link holds the edit
  const edited = await page.evaluate(() => location.hash);
  await reopen(edited);
  same((await graphCells())['Z = W · O0'].values, [engine.Z], 'neuron restored from the hash');

  await reopen('#seed=42&sample=0&recipe=fixed&step=0&graph=xor');
  const golden13 = readFileSync(path.join(root, 'tests/golden/13_your_network.txt'), 'utf8');
  const sec = (from, to) => golden13.slice(golden13.indexOf(from), golden13.indexOf(to));
  const fwd = blocks(sec('Forward: the tape', 'Backward: dC'), /^ {2}(.+?) {2}\((?:\d+(?:, \d+)?,?)?\)$/);
  const bwd = blocks(sec('Backward: dC', 'The step'), /^ {2}grad (.+?) {2}\(/);
  const after = blocks(sec('The step', 'Training until'), /^ {2}(\S+) {2}\(/);
  g = await graphCells();
  let compared = 0;
  for (const [label, want] of Object.entries(fwd)) {
    check(g[label], `the XOR graph has no node '${label}'`);
    same(g[label].values, want, `XOR ${label}`);
    const name = label.split(' ')[0];
    if (bwd[name]) {
      same(g[label].grads, bwd[name], `XOR grad ${name}`);
      compared += want.length;
    }
    compared += want.length;
  }
  const inGolden = [...Object.values(fwd), ...Object.values(bwd)].reduce((n, t) => n + t.length, 0);
  check(
    Object.keys(fwd).length === 13 && Object.keys(bwd).length === 11 && compared === inGolden,
    `XOR: ${compared} of the golden's ${inGolden} numbers compared`,
  );
  await page.click('#graph-step');
  await page.waitForFunction(() => location.hash.includes('edit=W0.0'));
  g = await graphCells();
  for (const [name, want] of Object.entries(after))
    same(g[`${name} (param)`].values, want, `XOR ${name} after one step`);
  console.log(`small graphs: 01_neuron's numbers, ${compared} numbers and the SGD step of 13_your_network's XOR`);

  // 5b. The small graphs at 17 digits (R54): on seeds no other check uses, every value, gradient
  // and stepped weight of the page's XOR graph is 13_your_network --precision 17's as printed, and
  // on other inputs and weights every number of the neuron is 01_neuron --precision 17's (--small:
  // the programs' outputs, from check_web.py). Each of the page's doubles is printed in the
  // notation the program chose for that tensor (fixed or scientific, 17 digits), exactly (toFixed
  // and toExponential round the double's exact value). Before fn::tanh (Note [One tanh for the
  // page and the programs]) glibc's tanh and the page's differed here.
  if (opt('--small')) {
    const natives = JSON.parse(readFileSync(opt('--small'), 'utf8'));
    const seventeen = (v, like) => {
      if (!/e/.test(like)) return v.toFixed(17);
      const [m, e] = v.toExponential(17).split('e');
      return `${m}e${e[0]}${e.slice(1).padStart(2, '0')}`; // fmt's e-05, not JavaScript's e-5
    };
    let numbers = 0;
    const compare = (mine, theirs, what) => {
      check(theirs && mine && mine.length === theirs.length, `${what}: page ${mine}, native ${theirs}`);
      const printed = mine.map((v, k) => seventeen(v, theirs[k]));
      const differ = printed.filter((t, k) => t !== theirs[k]).length;
      check(
        differ === 0,
        `${what}: ${differ} of ${printed.length} differ at 17 digits: page ${printed}, native ${theirs}`,
      );
      numbers += mine.length;
    };
    const graph = (kind, seed, edits, lr) =>
      page.evaluate(
        ([kind, seed, edits, lr]) => {
          const gr = window.explorer.sg.smallGraph(kind, { seed });
          try {
            for (const [leaf, values] of Object.entries(edits)) values.forEach((v, i) => gr.set(leaf, i, v));
            const nodes = gr.run(17).map((n) => ({
              label: n.label,
              name: n.name,
              value: Array.from(n.value),
              grad: n.grad && Array.from(n.grad),
            }));
            if (!lr) return { nodes };
            gr.step(lr);
            const after = Object.fromEntries(['W0', 'b0', 'W1', 'b1'].map((p) => [p, Array.from(gr.leaf(p))]));
            return { nodes, after };
          } finally {
            gr.dispose();
          }
        },
        [kind, seed, edits, lr],
      );
    for (const [seed, text] of Object.entries(natives.xor)) {
      const part = (from, to) => text.slice(text.indexOf(from), text.indexOf(to));
      const want = {
        value: blocks(part('Forward: the tape', 'Backward: dC'), /^ {2}(.+?) {2}\((?:\d+(?:, \d+)?,?)?\)$/),
        grad: blocks(part('Backward: dC', 'The step'), /^ {2}grad (.+?) {2}\(/),
        after: blocks(part('The step', 'Training until'), /^ {2}(\S+) {2}\(/),
      };
      const lr = Number(/W <- W - (\S+) grad W/.exec(text)[1]);
      const got = await graph('xor', Number(seed), {}, lr);
      const what = `XOR seed ${seed}`;
      const byName = Object.fromEntries(got.nodes.map((n) => [n.name, n]));
      check(got.nodes.length === Object.keys(want.value).length, `${what}: ${got.nodes.length} nodes`);
      for (const n of got.nodes) {
        compare(n.value, want.value[n.label], `${what}: ${n.label}`);
        if (n.grad && want.grad[n.name]) compare(n.grad, want.grad[n.name], `${what}: grad ${n.name}`);
      }
      check(
        Object.keys(want.grad).length === 11 && Object.keys(want.grad).every((k) => byName[k]?.grad),
        `${what}: the gradients printed are ${Object.keys(want.grad)}`,
      );
      for (const [p, w] of Object.entries(want.after)) compare(got.after[p], w, `${what}: ${p} after one step`);
    }
    for (const { inputs, weights, text } of natives.neuron) {
      const want = blocks(text, /^(\S+) \(\d+(?:, \d+)?,?\)$/);
      const [, Z, O] = /Z = (\S+), O = (\S+): the same/.exec(text);
      const gradZ = /sigmoid'\(Z\) = O \(1 - O\) = (\S+);/.exec(text)[1];
      const { nodes } = await graph('neuron', 42, { O0: inputs, W: weights }, 0);
      const [o0, w, z, o] = nodes;
      const what = `neuron O0 = ${inputs}, W = ${weights}`;
      check(nodes.length === 4 && [o0, w, z, o].map((n) => n.name).join() === 'O0,W,Z,O', `${what}: nodes`);
      compare(o0.value, want.O0, `${what}: O0`);
      compare(w.value, want.W, `${what}: W`);
      compare(w.grad, want.grad_W, `${what}: grad W`);
      compare([...z.value, ...o.value, ...z.grad], [Z, O, gradZ], `${what}: Z, O, grad Z`);
    }
    console.log(
      `small graphs at 17 digits: ${numbers} numbers (XOR seeds ${Object.keys(natives.xor)}, ` +
        `${natives.neuron.length} neurons) equal 13_your_network's and 01_neuron's`,
    );
  }
  if (opt('--screenshots')) {
    await reopen('#seed=42&sample=0&recipe=fixed&step=0&graph=xor');
    await page.locator('#graphs').screenshot({
      path: path.join(opt('--screenshots'), 'explorer-xor.png'),
    });
    await reopen('#seed=42&sample=0&recipe=fixed&step=0&graph=neuron');
    await page.locator('#graphs').screenshot({
      path: path.join(opt('--screenshots'), 'explorer-neuron.png'),
    });
  }

  // 4b. Your turn (web/yourturn.js): the right delta passes, a catalogued mistake is named, a
  // syntax error is marked at its column, hints come one at a time, and the steps solved survive
  // a reload through the hash
  await reopen('#seed=42&sample=0&recipe=fixed&step=0&turn=delta3');
  const turn = async (text) => {
    await page.fill('#turn-input', text);
    await page.press('#turn-input', 'Enter');
    return page.$eval('#turn-result', (e) => ({
      state: e.dataset.state,
      diagnosis: e.dataset.diagnosis,
      text: e.textContent,
      column: document.querySelector('#turn-mirror').dataset.column,
      marked: document.querySelector('#turn-mirror .turn-at')?.textContent ?? null,
    }));
  };
  const progress = () => page.$eval('#turn-progress', (e) => e.dataset.solved);
  let t = await turn('O3 - Y');
  check(t.state === 'pass', `Your turn: delta3 = O3 - Y is ${t.state}: ${t.text}`);
  await page.waitForFunction(() => location.hash.includes('solved=delta3'));
  await page.click('#turn-steps [data-step="delta2"]');
  await page.waitForFunction(() => location.hash.includes('turn=delta2'));
  t = await turn('W2 @ delta3 * dsigmoid(Z2)');
  check(
    t.state === 'fail' && t.diagnosis === 'transpose' && t.column === '4' && t.marked === '@',
    `Your turn: a missing transpose: ${JSON.stringify(t)}`,
  );
  t = await turn("(W2^T · delta3) ⊙ softmax'(Z2)");
  check(t.state === 'fail' && t.diagnosis === 'E1' && t.text.includes('erratum E1'), `Your turn: E1: ${t.text}`);
  // in Chinese the grader's report is in Chinese: the one showing, graded again at the switch,
  // and the next; and back in English
  const report = () => page.$eval('#turn-result', (e) => ({ diagnosis: e.dataset.diagnosis, text: e.textContent }));
  await page.click('#lang-switch button[data-lang="zh"]');
  let r = await report();
  check(
    r.diagnosis === 'E1' && r.text.includes('诊断：[E1] 勘误 E1') && !/erratum|diagnosis|FAIL/.test(r.text),
    `Your turn in Chinese, E1 graded again: ${r.text}`,
  );
  t = await turn("(W2^T · delta3) ⊙ sigmoid'(O2)");
  check(
    t.diagnosis === 'sigmoid_at_O' && t.text.includes('导数是') && !/instead of|diagnosis/.test(t.text),
    `Your turn in Chinese, sigmoid' at O2: ${t.text}`,
  );
  await page.click('#lang-switch button[data-lang="en"]');
  r = await report();
  check(
    r.diagnosis === 'sigmoid_at_O' && r.text.includes('instead of Z2') && !r.text.includes('导数'),
    `Your turn back in English: ${r.text}`,
  );
  t = await turn('(W2^T · delta3 ⊙ sigmoid(Z2)');
  check(
    t.state === 'error' && t.column === '1' && t.marked === '(' && t.text.includes('never closed'),
    `Your turn: an open parenthesis: ${JSON.stringify(t)}`,
  );
  t = await turn('W2.T @ delta3 * dsigmoid(Z2) $');
  check(
    t.state === 'error' && t.column === '30' && t.marked === '$',
    `Your turn: a bad character: ${JSON.stringify(t)}`,
  );
  const hints = [];
  for (let k = 0; k < 3; ++k) {
    await page.click('#turn-hint');
    hints.push(await page.$$eval('#turn-hints li', (l) => l.map((e) => e.textContent)));
  }
  check(
    hints[0].length === 1 &&
      hints[0][0].includes('W2, delta3, Z2') &&
      hints[1].length === 2 &&
      hints[1][1].includes('W2 (10, 64)') &&
      hints[2].length === 3 &&
      hints[2][2].includes("sigmoid'(Z2)") &&
      (await page.$eval('#turn-hint', (e) => e.disabled)),
    `Your turn: hints one at a time: ${JSON.stringify(hints)}`,
  );
  t = await turn("(W2^T · delta3) ⊙ sigmoid'(Z2)");
  check(t.state === 'pass' && t.column === '', `Your turn: delta2's answer is ${t.state}: ${t.text}`);
  if (opt('--screenshots')) {
    await turn('W2 @ delta3 * dsigmoid(Z2)');
    await page.locator('#yourturn').screenshot({ path: path.join(opt('--screenshots'), 'explorer-yourturn.png') });
  }
  await page.waitForFunction(() => location.hash.includes('solved=delta3.delta2'));
  const hash = await page.evaluate(() => location.hash);
  await reopen(hash);
  check(
    (await progress()) === 'delta3.delta2' &&
      (await page.$eval('#turn-steps .current', (e) => e.dataset.step)) === 'delta2' &&
      !(await page.$eval('#turn-body', (e) => e.hidden)),
    `Your turn: after a reload of ${hash}, solved ${await progress()}`,
  );
  console.log(
    'Your turn: a pass, [transpose] at column 4, E1, its report in Chinese and back, columns of syntax errors, ' +
      '3 hints, progress in the hash',
  );

  // 5. drawing: a stroke runs forward and backward on the drawn digit
  // at the last step (backward at W0), where the three-way check runs finite differences: they
  // wait for the end of the stroke
  await reopen('#seed=42&sample=0&recipe=fixed&step=21');
  const pad = await page.$('#draw');
  await pad.scrollIntoViewIfNeeded();
  const box = await pad.boundingBox();
  await page.mouse.move(box.x + 140, box.y + 50);
  await page.mouse.down();
  for (let k = 0; k <= 20; ++k) await page.mouse.move(box.x + 140 + 5 * Math.sin(k / 3), box.y + 50 + 9 * k);
  await page.mouse.up();
  await page.waitForFunction(() => document.querySelector('#status').textContent.startsWith('your drawing'));
  const drawn = await page.evaluate(() => {
    const p = window.explorer.explanation.node('O0').value;
    return {
      ink: p.reduce((s, v) => s + v, 0),
      ms: window.explorer.explanation.ms,
    };
  });
  check(drawn.ink > 5, `the drawn digit reached the engine with ink ${drawn.ink}`);
  const frames = await page.evaluate(() => window.explorer.strokeMs.length);
  check(frames >= 5, `the stroke updated the page ${frames} times while it was drawn`);
  await page.waitForFunction(() => document.querySelector('#check').textContent.includes('tape vs finite differences'));
  const fdRel = await page.$eval('#check', (e) => /finite differences over these \d+: (\S+)/.exec(e.textContent)[1]);
  check(Number(fdRel) <= 1e-7, `after the stroke, finite differences vs the tape at W0: ${fdRel}`);
  if (opt('--screenshots')) await shot('explorer-draw.png');

  // 5b. one model (issue 24): the tape, the check and the drawn digit are explained at the
  // training run's current weights, and say which; lr is refused as 10_train --lr refuses it
  {
    await reopen('#seed=42&sample=0&recipe=fixed&step=21');
    const status = () => page.$eval('#status', (e) => e.textContent);
    check((await status()).includes('the untrained weights of seed 42'), `before training: ${await status()}`);
    const w0Before = await page.evaluate(() => window.explorer.explanation.node('W0').value.slice());
    await page.fill('#lr', '0.01');
    await page.dispatchEvent('#lr', 'change');
    await page.click('#train-step');
    await settled();
    const after = await page.evaluate(() => {
      const e = window.explorer.explanation;
      const w = window.explorer.training.trainer.weights()[0];
      const v = e.node('W0').value;
      return {
        same: v.length === w.length && v.every((x, i) => x === w[i]),
        steps: e.request.steps,
      };
    });
    check(
      after.same && after.steps === 100,
      `after +100 steps the tape's W0 is the trained W0: ${JSON.stringify(after)}`,
    );
    const w0After = await page.evaluate(() => window.explorer.explanation.node('W0').value.slice());
    check(
      w0After.some((x, i) => x !== w0Before[i]),
      'after +100 steps the tape shows new weights',
    );
    check((await status()).includes('after 100 training steps'), `after training: ${await status()}`);
    check(
      (await page.$eval('#train-info', (e) => e.textContent)).startsWith('seed 42, recipe fixed, lr 0.01: 100 steps'),
      'the training panel says its seed, recipe and learning rate',
    );
    // the drawn digit too: the sample drawn on the pad is explained at the trained weights
    await page.click('#draw-sample');
    await page.waitForFunction(() => document.querySelector('#status').textContent.startsWith('your drawing'));
    check((await status()).includes('after 100 training steps'), `the drawn digit: ${await status()}`);
    // beside the pad, O3 as ten labelled bars: the engine's numbers, the answer the status gives
    const probs = await page.evaluate(() => {
      const o3 = window.explorer.explanation.node('O3').value;
      const rows = [...document.querySelectorAll('#probs .prob')].map((r) => [...r.children].map((c) => c.textContent));
      return {
        rows,
        want: Array.from(o3, (p, d) => [String(d), '', window.explorer.sg.formatNumber(p, 4)]),
        best: document.querySelector('#probs').dataset.best,
        title: document.querySelector('#probs .title').textContent,
      };
    });
    check(
      JSON.stringify(probs.rows) === JSON.stringify(probs.want) &&
        (await status()).includes(`the network says ${probs.best} `) &&
        probs.title === `O3 for your drawing: the network says ${probs.best}`,
      `the bars beside the pad: ${JSON.stringify(probs)}`,
    );
    // no label chosen: never a silent 0; the cost takes the network's answer, and says so
    await page.selectOption('#draw-label', '');
    await page.waitForFunction(() => document.querySelector('#status').textContent.includes('no label chosen'));
    const unlabelled = await page.evaluate(() => [
      document.querySelector('#status').textContent,
      window.explorer.explanation.request.label,
      document.querySelector('#probs').dataset.best,
    ]);
    check(
      unlabelled[0].includes(`no label chosen (the cost takes the network's own answer, ${unlabelled[2]}`) &&
        String(unlabelled[1]) === unlabelled[2],
      `no label: ${unlabelled}`,
    );
    // a bad lr is refused beside the field and trains nothing; never an uncaught error
    // (a number field holds no text: typed letters leave it empty)
    for (const bad of ['-1', '0', '', '1e9', '1e-10']) {
      await page.evaluate((v) => {
        const lr = document.querySelector('#lr');
        lr.value = v;
        lr.dispatchEvent(new Event('change'));
      }, bad);
      await page.click('#train-step');
      await settled();
      const r = await page.evaluate(() => ({
        error: document.querySelector('#lr-error').textContent,
        steps: window.explorer.training.trainer.steps,
      }));
      check(
        r.error === `lr: expected a number from 1e-9 to 100, found '${bad}'` && r.steps === 100,
        `lr '${bad}': ${JSON.stringify(r)}`,
      );
    }
    await page.fill('#lr', '0.01');
    await page.dispatchEvent('#lr', 'change');
    check((await page.$eval('#lr-error', (e) => e.textContent)) === '', 'a good lr clears the message');
    // a new seed is a new model, from its initial weights; reset goes back to them
    await page.fill('#seed', '7');
    await page.dispatchEvent('#seed', 'change');
    check((await status()).includes('the untrained weights of seed 7'), `a new seed: ${await status()}`);
    await page.click('#train-step');
    await page.click('#train-reset');
    await settled(); // the 100 steps were of the run before reset: the page ignores them
    check((await status()).includes('the untrained weights of seed 7'), `after reset: ${await status()}`);
    // ▶ train clicked three times runs one loop; pausing stops it
    await page.evaluate(() => {
      for (let k = 0; k < 3; ++k) document.querySelector('#train-play').click();
    });
    await page.waitForFunction(() => window.explorer.training.trainer.steps >= 300);
    // the rate shown is the real throughput (steps over wall time, the evaluations and redraws
    // included), not one chunk's speed, which was 5-10 times higher: within a factor of 2 of the
    // test's own measurement over 2 s (a consistency check, not a speed limit)
    const rateAt = () =>
      page.evaluate(() => [
        performance.now(),
        window.explorer.training.trainer.steps,
        document.querySelector('#train-info').textContent,
      ]);
    const r0 = await rateAt();
    await page.waitForTimeout(2000);
    const r1 = await rateAt();
    const real = ((r1[1] - r0[1]) * 1000) / (r1[0] - r0[0]);
    const shown = Number(/(\d+) samples\/s/.exec(r1[2])?.[1]);
    check(shown > real / 2 && shown < real * 2, `rate shown ${shown}, measured ${Math.round(real)} samples/s`);
    await page.click('#train-play');
    await settled();
    const stopped = await page.evaluate(() => window.explorer.training.trainer.steps);
    await page.waitForTimeout(300);
    const later = await page.evaluate(() => window.explorer.training.trainer.steps);
    check(stopped === later, `paused at ${stopped} steps, then ${later}`);
    // Space on the focused ▶ train presses it; it does not play the tape
    await page.focus('#train-play');
    await page.keyboard.press(' ');
    const spaced = await page.evaluate(() => [window.explorer.training.running, window.explorer.state.playing]);
    check(spaced[0] === true && !spaced[1], `Space on ▶ train: training ${spaced[0]}, tape playing ${spaced[1]}`);
    await page.click('#train-play');
  }

  // 5c. never waiting (issue 24, item 2; R51 in docs/reliability.md): training runs in a Web
  // Worker. Each check here failed on the page that trained on its own thread (40 ms of steps and
  // an evaluation per frame).
  {
    await reopen('#seed=42&sample=0&recipe=fixed&step=21');
    await page.fill('#lr', '0.01');
    await page.dispatchEvent('#lr', 'change');
    const training = () =>
      page.evaluate(() => ({
        running: window.explorer.training.running,
        loops: window.explorer.training.loops,
        steps: window.explorer.training.trainer.steps,
        button: document.querySelector('#train-play').textContent,
        info: document.querySelector('#train-info').textContent,
      }));
    // a double-click is two clicks: started, then paused; no loop left running (each click once
    // started a loop of its own)
    await page.dblclick('#train-play');
    await settled();
    const dbl = await training();
    await page.waitForTimeout(500);
    const dblLater = await training();
    check(
      !dbl.running && dbl.loops === 0 && dbl.button === '▶ train' && dblLater.steps === dbl.steps,
      `after a double-click on ▶ train: ${JSON.stringify([dbl, dblLater])}`,
    );
    // five clicks as fast as the page takes them: running, one loop in the worker
    await page.evaluate(() => {
      for (let k = 0; k < 5; ++k) document.querySelector('#train-play').click();
    });
    await page.waitForFunction((s) => window.explorer.training.trainer.steps >= s + 2000, dbl.steps);
    await settled();
    const five = await training();
    check(
      five.running && five.loops === 1 && five.button.endsWith('pause'),
      `after five clicks: ${JSON.stringify(five)}`,
    );
    // a stroke while training: each update answers its pointer events within a frame or so. The
    // wait is from the event's timeStamp (when the browser received it) to the end of the update
    // answering it. The page that trained on its own thread spent 40 ms of steps in every frame
    // (then an evaluation, then its redraw) before the drawing's update, which came a frame later:
    // it could not wait less than 40 ms, and its median here was 232-389 ms at load average 12
    // (the issue: 9.6 s for a stroke of 61 moves). In the worker, an update (the engine on the
    // drawn digit and the redraw, a few ms) waits for the next frame only: a median of 17-19 ms
    // at the same load. The bound, a median under 60 ms, leaves three times that for a loaded
    // 2-core machine (the worker takes one core) and stays above the old page's 40 ms floor.
    await page.evaluate(() => (window.explorer.strokeLagMs.length = 0));
    await drawStroke((k) => [100 + 50 * Math.sin(k / 6), 40 + 5 * k], 30);
    const lags = (await page.evaluate(() => window.explorer.strokeLagMs.slice())).sort((a, b) => a - b);
    const during = await training();
    check(
      during.running && lags.length >= 10,
      `a stroke while training: ${lags.length} updates, ${JSON.stringify(during)}`,
    );
    const medianLag = lags[Math.floor(lags.length / 2)];
    check(medianLag < 60, `a stroke while training: median wait ${medianLag} ms (${lags.join(', ')})`);
    console.log(
      `never waiting: a stroke while training, ${lags.length} updates, median wait ${medianLag.toFixed(1)} ms`,
    );
    check(
      (await page.$eval('#status', (e) => e.textContent)).startsWith('your drawing'),
      'the stroke while training reached the tape',
    );
    // after pause no rate is shown: the rate is the last seconds' while running, and a paused run
    // has none (the page once kept showing its last 100-step chunk's speed)
    await page.click('#train-play');
    await settled();
    const paused = await training();
    check(!paused.running && !/samples\/s/.test(paused.info), `after pause: ${paused.info}`);
  }

  // 6. training K steps in the page: the weights 10_train computes (their SHA-256)
  const digest = opt('--digest');
  if (digest) {
    const got = await page.evaluate(async () => {
      const w = window.explorer.sg.train({
        seed: 42,
        recipe: 'fixed',
        lr: 0.001,
        steps: 300,
      });
      const all = new Uint8Array(w.reduce((n, a) => n + a.byteLength, 0));
      let at = 0;
      for (const a of w) {
        all.set(new Uint8Array(a.buffer), at);
        at += a.byteLength;
      }
      const h = await crypto.subtle.digest('SHA-256', all);
      return Array.from(new Uint8Array(h), (b) => b.toString(16).padStart(2, '0')).join('');
    });
    check(got === digest, `300 steps in the page: SHA-256 ${got}, 10_train's ${digest}`);
    // the same 300 steps by the page's own button, trained in the worker: the page's model holds
    // the worker's weights bit for bit (R52)
    await reopen('#seed=42&sample=0&recipe=fixed&step=0');
    await page.fill('#lr', '0.001');
    await page.dispatchEvent('#lr', 'change');
    for (let k = 0; k < 3; ++k) await page.click('#train-step');
    await settled();
    const byButton = await page.evaluate(async () => {
      const w = window.explorer.training.trainer.weights();
      const all = new Uint8Array(w.reduce((n, a) => n + a.byteLength, 0));
      let at = 0;
      for (const a of w) {
        all.set(new Uint8Array(a.buffer), at);
        at += a.byteLength;
      }
      const h = await crypto.subtle.digest('SHA-256', all);
      return {
        steps: window.explorer.training.trainer.steps,
        sha: Array.from(new Uint8Array(h), (b) => b.toString(16).padStart(2, '0')).join(''),
      };
    });
    check(
      byButton.steps === 300 && byButton.sha === digest,
      `300 steps by +100 steps: ${byButton.steps} steps, SHA-256 ${byButton.sha}, 10_train's ${digest}`,
    );
  }

  // 9. layout, teaching and accessibility (issue 24): tests/web/layout.mjs
  if (opt('--screenshots')) mkdirSync(opt('--screenshots'), { recursive: true });
  console.log(await checkLayout({ browser, base, check, shots: opt('--screenshots') }));

  // 8. the page in Chinese (issue 28): in every state the page reaches (each step forward and
  // backward, E1, play, the small graphs and their refusal, training, the draw pad, an error
  // line, the notice line, a tooltip) no English word of the page's own is left, and its numbers
  // are the English page's. The allow-list is the programs' output and identifiers (below).
  {
    const zhContext = await browser.newContext({ viewport: { width: 1500, height: 1000 }, locale: 'zh-CN' });
    // the words drawn on canvases (the curve's), which no text node holds
    await zhContext.addInitScript(() => {
      const fillText = CanvasRenderingContext2D.prototype.fillText;
      window.canvasTexts = new Set();
      CanvasRenderingContext2D.prototype.fillText = function (text, ...rest) {
        window.canvasTexts.add(String(text));
        return fillText.call(this, text, ...rest);
      };
    });
    const zh = await zhContext.newPage();
    zh.on('console', (m) => {
      if (m.type() === 'error') errors.push(`zh: ${m.text()}`);
    });
    zh.on('pageerror', (e) => errors.push(`zh: ${e}`));
    const openIn = async (p, hash) => {
      await p.goto('about:blank');
      await p.goto(`${base}index.html${hash}`);
      await p.waitForSelector('body[data-ready="1"]', { timeout: 30000 });
    };
    // Program output, shown as the programs print it (in English, as docs/zh/ keeps it): the
    // engine's printing and rules, the tape's labels, tensor names, numbers, the engine's messages.
    const kOutput =
      '#rule pre, #rule .formula, #tape .title, figcaption, #graph .gtitle, #graph .grule, #graph .gval, ' +
      '#tooltip, #probs .prob, #check td, code, #turn-result pre, #turn-mirror, .values';
    // Identifiers: the article's and the engine's names (W0, Z1, O3, delta3, Delta0, grad, dC, C, Y,
    // cost), the tutorials' (01_neuron), a link's key=value and a field's value quoted back.
    const kIdentifier = /\b(?:[WZO]\d|[Dd]elta\d|grad|dC|cost|[CY]|\d\d_[a-z_]+)\b/g;
    const leftover = (s) =>
      s
        .replace(/“[^”]*”/g, ' ')
        .replace(/\S+=\S*/g, ' ')
        .replace(kIdentifier, ' ')
        .match(/[A-Za-z]{2,}/g) ?? [];
    // Names a Chinese sentence keeps: the product's and formats' (stepgrad, MNIST, SGD, XOR,
    // WebAssembly, softmax, delta), keys' (Home, End, Enter), the values of the CLI and the link
    // (fixed, article, lr, en, zh) and the link's edit format (LEAF.INDEX:NUMBER). The language
    // switch names English in English.
    const kNames = new Set(
      [
        'stepgrad MNIST SGD XOR WebAssembly softmax sigmoid delta',
        'Home End Enter fixed article lr en zh LEAF INDEX NUMBER',
      ]
        .join(' ')
        .split(' '),
    );
    const kCjk = /[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]/;
    let judged = 0;
    const states = [];
    const noEnglish = async (what) => {
      const found = await zh.evaluate((output) => {
        const out = [];
        const visible = (e) =>
          e.tagName === 'OPTION' ? e.parentElement.getClientRects().length > 0 : e.getClientRects().length > 0;
        const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
        for (let n = walker.nextNode(); n; n = walker.nextNode()) {
          const e = n.parentElement;
          const text = n.textContent.trim();
          if (text && !e.closest('script') && visible(e)) {
            out.push({ text, where: e.id || e.className || e.tagName, output: !!e.closest(output) });
          }
        }
        for (const e of document.querySelectorAll('[title], [aria-label], [placeholder]')) {
          for (const a of ['title', 'aria-label', 'placeholder']) {
            if (e.hasAttribute(a)) out.push({ text: e.getAttribute(a), where: `${e.id || e.tagName} ${a}` });
          }
        }
        out.push({ text: document.title, where: 'title' });
        for (const text of window.canvasTexts) out.push({ text, where: 'canvas' });
        return { out, lang: document.documentElement.lang };
      }, kOutput);
      check(found.lang === 'zh-CN', `${what}: <html lang="${found.lang}">`);
      for (const { text, where, output } of found.out) {
        if (output || text === 'English') continue;
        const words = leftover(text);
        const bad = kCjk.test(text) ? words.filter((w) => !kNames.has(w)) : words;
        check(bad.length === 0, `zh, ${what}: English left in ${where}: "${text}" (${bad.join(' ')})`);
        ++judged;
      }
      states.push(what);
    };
    const zhHash = (extra) => `#seed=42&sample=0&recipe=fixed${extra}&lang=zh`;
    const infoOf = (p) => p.$eval('#stepinfo', (e) => `${e.dataset.phase} ${e.dataset.node}`);

    // every step, forward then backward, by the keyboard
    await openIn(zh, zhHash('&step=0'));
    await noEnglish('step 1');
    for (let k = 1; k < total; ++k) {
      await zh.keyboard.press('ArrowRight');
      await noEnglish(`step ${k + 1} (${await infoOf(zh)})`);
    }
    // E1 at delta2, and the tape playing
    await zh.evaluate((s) => (location.hash = `seed=42&sample=0&recipe=article&step=${s}&lang=zh`), z2);
    await zh.waitForFunction(() => Number(document.querySelector('#check').dataset.deltaRel) > 1e-12);
    await noEnglish('E1 at delta2');
    await zh.click('#home');
    await zh.click('#play');
    await noEnglish('playing');
    await zh.click('#play');
    // the small graphs: one SGD step, a refused field
    await openIn(zh, zhHash('&step=0&graph=xor'));
    await zh.click('#graph-step');
    await zh.waitForFunction(() => location.hash.includes('edit=W0.0'));
    await noEnglish('XOR after an SGD step');
    await zh.fill('#graph input[data-leaf="W0"][data-i="0"]', '');
    await zh.dispatchEvent('#graph input[data-leaf="W0"][data-i="0"]', 'change');
    check((await zh.$eval('#graph-error', (e) => e.textContent)) !== '', 'zh: the empty field is not refused');
    await noEnglish('a refused graph field');
    await openIn(zh, zhHash('&step=0&graph=neuron'));
    await noEnglish('the neuron');
    // training: a refused lr, +100 steps, the running loop with its rate
    await openIn(zh, zhHash('&step=21'));
    await zh.fill('#lr', '0');
    await zh.dispatchEvent('#lr', 'change');
    await noEnglish('a refused lr');
    await zh.fill('#lr', '0.01');
    await zh.dispatchEvent('#lr', 'change');
    await zh.click('#train-step');
    await settled(zh);
    await noEnglish('after +100 steps');
    await zh.click('#train-play');
    await zh.waitForFunction(() => window.explorer.training.trainer.steps >= 1100 && window.explorer.training.rate > 0);
    await zh.waitForFunction(() => document.querySelector('#train-info').textContent.includes('每秒'));
    await noEnglish('training');
    await zh.click('#train-play');
    // the draw pad: a stroke, then no label chosen; a tooltip on the tape
    await zh.$eval('#draw', (e) => e.scrollIntoView({ block: 'center' }));
    const zbox = await (await zh.$('#draw')).boundingBox();
    await zh.mouse.move(zbox.x + 140, zbox.y + 50);
    await zh.mouse.down();
    for (let k = 0; k <= 20; ++k) await zh.mouse.move(zbox.x + 140, zbox.y + 50 + 9 * k);
    await zh.mouse.up();
    await zh.waitForFunction(() => window.explorer.state.drawn !== null && !window.explorer.state.stroking);
    await noEnglish('a drawn digit');
    await zh.selectOption('#draw-label', '');
    await noEnglish('a drawn digit, no label chosen');
    const fig = await zh.$('#tape .node figure canvas');
    await fig.scrollIntoViewIfNeeded();
    const fbox = await fig.boundingBox();
    await zh.mouse.move(fbox.x + 2, fbox.y + 2);
    check(await zh.$eval('#tooltip', (e) => !e.hidden), 'zh: no tooltip over the tape');
    await noEnglish('a tooltip');
    // an error line beside the fields; the notice line of a bad link; a link asking for no language
    await zh.fill('#seed', '-1');
    await zh.dispatchEvent('#seed', 'change');
    check((await zh.$eval('#controls-error', (e) => e.textContent)) !== '', 'zh: seed -1 is not refused');
    await noEnglish('a refused seed');
    await openIn(zh, '#seed=-1&sample=99999&recipe=nope&step=500&foo=1&graph=xor&edit=Q.0:1,junk&lang=zh');
    const notice = await zh.$eval('#notice', (e) => e.textContent);
    check(
      ['seed=-1', 'recipe=nope', 'step=500', 'foo=1', 'edit=Q.0:1', 'edit=junk'].every((n) => notice.includes(n)),
      notice,
    );
    await noEnglish('the notice line');
    await openIn(zh, '#seed=42&lang=fr');
    check((await zh.evaluate(() => location.hash)).endsWith('&lang=zh'), 'lang=fr: not the browser language');
    await noEnglish('lang=fr, the browser language instead');
    // Your turn: a step's question, a graded mistake with the engine's report, an error's column,
    // every hint
    await openIn(zh, zhHash('&step=0&turn=delta2'));
    await noEnglish('Your turn, closed hints');
    for (const expr of ['W2 @ delta3 * dsigmoid(Z2)', '(W2^T · delta3']) {
      await zh.fill('#turn-input', expr);
      await zh.press('#turn-input', 'Enter');
      await noEnglish(`Your turn: ${expr}`);
    }
    for (let k = 0; k < 3; ++k) await zh.click('#turn-hint');
    await noEnglish('Your turn: three hints');
    await zh.click('#turn-steps [data-step="W1"]');
    await noEnglish("Your turn: W1's update");
    // the browser's language chooses when the link does not
    await openIn(zh, '#seed=42');
    check((await zh.evaluate(() => location.hash)).endsWith('&lang=zh'), 'a zh-CN browser: not Chinese');
    await noEnglish("the browser's language");
    const canvas = await zh.evaluate(() => [...window.canvasTexts]);
    check(
      canvas.some((s) => s.includes('测试准确率')),
      `the curve's words: ${canvas}`,
    );

    // the switch: English and back, the drawing kept
    await openIn(zh, zhHash('&step=21'));
    await zh.click('#draw-sample');
    await zh.waitForFunction(() => window.explorer.state.drawn !== null);
    await zh.click('#lang-switch button[data-lang="en"]');
    const switched = await zh.evaluate(() => [
      document.documentElement.lang,
      location.hash,
      document.querySelector('#status').textContent,
      document.querySelector('#home').textContent,
    ]);
    check(
      switched[0] === 'en' &&
        switched[1].endsWith('&lang=en') &&
        switched[2].startsWith('your drawing') &&
        switched[3] === 'first',
      `the switch to English: ${switched}`,
    );
    // the worker's last update drawn first, so that nothing is drawn in English after the clear
    await settled(zh);
    await zh.evaluate(() => window.canvasTexts.clear()); // what was drawn in English
    await zh.click('#lang-switch button[data-lang="zh"]');
    await noEnglish('switched back');
    if (opt('--screenshots')) {
      await openIn(zh, zhHash('&step=17'));
      await zh.selectOption('#recipe', 'article');
      await zh.waitForFunction(() => Number(document.querySelector('#check').dataset.deltaRel) > 1e-12);
      await zh.screenshot({ path: path.join(opt('--screenshots'), 'explorer-zh.png') });
    }

    // the same numbers in both: the explained step (the rule panel, the check's table, the status
    // line's numbers) and, after 500 steps at lr 0.01, the training panel and its accuracy
    const numbers = (s) => (s.match(/-?\d+(?:\.\d+)?(?:e[-+]?\d+)?/g) ?? []).sort();
    const shown = async (p) =>
      p.evaluate(() => ({
        rule: [...document.querySelectorAll('#rule pre')].map((e) => e.textContent),
        check: [...document.querySelectorAll('#check td')].map((e) => e.textContent),
        verdict: document.querySelector('#check').textContent,
        status: document.querySelector('#status').textContent,
        step: document.querySelector('#stepinfo').textContent,
        train: document.querySelector('#train-info').textContent,
        accuracy: document.querySelector('#train-info').dataset.accuracy,
        probs: [...document.querySelectorAll('#probs .prob')].map((e) => e.textContent),
      }));
    const same = (a, b, what) => check(JSON.stringify(a) === JSON.stringify(b), `${what}: en ${a}, zh ${b}`);
    const compare = async (hash, train) => {
      const got = [];
      for (const [p, lang] of [
        [page, 'en'],
        [zh, 'zh'],
      ]) {
        await openIn(p, `${hash}&lang=${lang}`);
        await settled(p); // the worker's first evaluation shown
        if (train) {
          await p.fill('#lr', '0.01');
          await p.dispatchEvent('#lr', 'change');
          for (let k = 0; k < 5; ++k) await p.click('#train-step'); // the curve's first point: 500 steps
          await settled(p);
        }
        got.push(await shown(p));
      }
      const [en, zhShown] = got;
      for (const k of ['rule', 'check', 'probs', 'accuracy']) same(en[k], zhShown[k], `${hash} ${k}`);
      for (const k of ['status', 'step', 'train', 'verdict'])
        same(numbers(en[k]), numbers(zhShown[k]), `${hash} ${k}'s numbers`);
      return en;
    };
    await compare('#seed=42&sample=0&recipe=fixed&step=8');
    await compare(`#seed=7&sample=3&recipe=article&step=${z2}`);
    const trained = await compare('#seed=42&sample=5&recipe=fixed&step=21', true);
    check(trained.train.includes('500 steps'), `trained: ${trained.train}`);
    console.log(
      `zh: ${states.length} states, ${judged} strings with no English of the page's own; ` +
        `the same numbers as en (steps 8 and ${z2}, and 500 training steps: accuracy ${trained.accuracy})`,
    );
    await zhContext.close();
  }

  // 7. the page's own training, a few seconds, for the curve (and the screenshot)
  if (opt('--screenshots') || rest.includes('--bench')) {
    // seed 42 at forward Z3; the tape then shows the trained network's answer
    await reopen('#seed=42&sample=0&recipe=fixed&step=8');
    await page.evaluate(() => {
      document.querySelector('#lr').value = '0.01';
      document.querySelector('#lr').dispatchEvent(new Event('change'));
    });
    await page.click('#train-play');
    await page.waitForFunction(() => window.explorer.training.trainer.steps >= 6000, null, { timeout: 120000 });
    await page.click('#train-play');
    await settled(); // the accuracy where it paused
    if (opt('--screenshots')) {
      await page.waitForFunction(() => document.querySelector('#stepinfo').dataset.node === 'Z3');
      await shot('explorer-forward.png', true);
      await page.$eval('#train-panel', (e) => e.scrollIntoView());
      await page.locator('#train-panel').screenshot({
        path: path.join(opt('--screenshots'), 'explorer-train.png'),
      });
    }
  }

  if (rest.includes('--bench')) {
    const b = await page.evaluate(() => {
      const sg = window.explorer.sg;
      // the median of 7 calls of 2,000 steps after 200 of warming up: one call caught a slow
      // spell of the machine now and then
      const rate = (recipe) => {
        const t = sg.trainer({ seed: 42, recipe, lr: 0.001 });
        t.step(200);
        const rates = [];
        for (let k = 0; k < 7; ++k) {
          const t0 = performance.now();
          t.step(2000);
          rates.push(2000 / ((performance.now() - t0) / 1000));
        }
        t.dispose();
        return rates.sort((x, y) => x - y)[3];
      };
      const fixedRate = rate('fixed');
      const articleRate = rate('article');
      const s = sg.sample(5);
      sg.explain({ seed: 42, pixels: s.pixels, label: s.label });
      let t0 = performance.now();
      const n = 200;
      let sum = 0; // explain, then read every value, gradient and delta as the page may
      for (let k = 0; k < n; ++k) {
        const e = sg.explain({ seed: 42, pixels: s.pixels, label: s.label });
        for (const node of e.nodes) sum += node.value.length + (node.grad ? node.grad.length : 0);
        for (const d of Object.values(e.deltas)) sum += d.length;
      }
      void sum; // the reads are the point, not their total
      const explainMs = (performance.now() - t0) / n;
      // the engine alone: tape forward + backward(C) and the hand-derived deltas, no copies to JS
      const ex = sg.explorer_;
      t0 = performance.now();
      for (let k = 0; k < n; ++k) ex.explain(s.pixels, s.label, 'fixed');
      const engineMs = (performance.now() - t0) / n;
      // what a stroke costs in the page: the engine, the copies the view needs, the redraw
      const update = (step) => {
        window.explorer.state.step = step;
        window.explorer.update();
        const t = performance.now();
        for (let k = 0; k < 20; ++k) window.explorer.update();
        return (performance.now() - t) / 20;
      };
      const updateForwardMs = update(2);
      const updateAllMs = update(window.explorer.steps.length - 1);
      return {
        fixedRate,
        articleRate,
        explainMs,
        engineMs,
        updateForwardMs,
        updateAllMs,
      };
    });
    // a real stroke on the pad, a frame at a time: the page update of each frame (the engine,
    // the copies, the redraw; the finite differences wait for the stroke's end)
    const pct = (xs) => {
      const ms = xs.slice().sort((x, y) => x - y);
      return {
        median: ms[Math.floor(ms.length / 2)],
        p90: ms[Math.floor(ms.length * 0.9)],
        max: ms.at(-1),
        n: ms.length,
      };
    };
    const stroke = async (step, training = false) => {
      await reopen(`#seed=42&sample=0&recipe=fixed&step=${step}`);
      if (training) {
        await page.click('#train-play'); // ▶ train runs through the stroke
        await page.waitForTimeout(1000);
      }
      await drawStroke((k) => [100 + 60 * Math.sin(k / 10), 40 + 3 * k], 60);
      const [ms, lag, running] = await page.evaluate(() => [
        window.explorer.strokeMs.slice(),
        window.explorer.strokeLagMs.slice(),
        window.explorer.training.running,
      ]);
      check(ms.length >= 30, `a stroke of 61 moves gave ${ms.length} page updates`);
      check(running === training, `the stroke ran with training ${running}`);
      if (training) {
        await page.click('#train-play');
        await settled();
      }
      return { ...pct(ms), lag: pct(lag) };
    };
    b.strokeZ1 = await stroke(2);
    b.strokeW0 = await stroke(21); // the last step: backward at W0, grad W0's 128 tiles and the check
    // the same in a window tall enough to show the whole tape and the pad: every view repainted
    await page.setViewportSize({ width: 1500, height: 3000 });
    b.strokeW0All = await stroke(21);
    await page.setViewportSize({ width: 1500, height: 1000 });
    b.strokeTraining = await stroke(21, true); // at W0 while ▶ train runs
    const size = (f) => statSync(path.join(build, f)).size;
    const bytes = {
      wasm: size('stepgrad_wasm.wasm'),
      js:
        size('stepgrad_wasm.js') +
        size('stepgrad.js') +
        size('page.js') +
        size('worker.js') +
        size('draw.js') +
        size('graph.js') +
        size('i18n.js') +
        size('index.html') +
        size('explorer.css'),
      data: size('mnist-subset.bin'),
    };
    console.log(
      JSON.stringify({
        loadMs,
        readyMs: await page.evaluate(() => window.explorer.readyMs),
        ...b,
        bytes,
      }),
    );
  }
  check(errors.length === 0, `console errors: ${errors.join(' | ')}`);
  console.log(
    `ok: loads in ${loadMs} ms with no console error; golden values, keyboard order (${total} steps), ` +
      'E1 at delta2, hash, small graphs (01_neuron, 13_your_network), Your turn, drawing' +
      (digest ? ', training digest' : ''),
  );
} finally {
  await browser.close();
  server.close();
}

async function shot(name, full = false) {
  const dir = opt('--screenshots');
  mkdirSync(dir, { recursive: true });
  // the whole page from its top (stepping scrolls to the current card; the side panel sticks)
  if (full) await page.evaluate(() => window.scrollTo(0, 0));
  await page.screenshot({ path: path.join(dir, name), fullPage: full });
}
