// The explorer page: draws the tape of web/stepgrad.js's Explanation, steps it forward then
// backward, shows the three-way check, lets you draw a digit and train. Every number shown comes
// from the engine (web/bindings.cpp), and so do the sizes it draws with (StepGrad.sizes); this
// file only draws them and keeps the state in the URL.
// All of the page's state is one object, `state`; the render functions take what they draw.
import { StepGrad } from './stepgrad.js';
import { DrawPad } from './draw.js';
import { GraphView } from './graph.js';
import { applyTo, browserLanguage, htmlLang, kLanguages, setLanguage, t, tParts } from './i18n.js';
import { YourTurn } from './yourturn.js';

const $ = (id) => document.getElementById(id);

/** A new element: h('td', { className: 'bad' }, 'text', child, ...); props are its properties. */
function h(tag, props = {}, ...children) {
  const e = document.createElement(tag);
  Object.assign(e, props);
  e.append(...children);
  return e;
}

// Which hand-derived value each tape gradient is checked against (eqs. 8-11).
const kHand = { Z3: 'delta3', Z2: 'delta2', Z1: 'delta1', W2: 'Delta2', W1: 'Delta1', W0: 'Delta0' };
const kEquation = {
  O0: '(1)',
  Z1: '(2)',
  O1: '(2)',
  Z2: '(3)',
  O2: '(3)',
  Z3: '(4)',
  O3: '(4)',
  cost: '(7)',
  C: '(8)',
};
const kMaxSeed = 4294967295; // the engine's seed is a uint32: embind would silently wrap a larger one
const kImageScale = 4; // the input image's pixels are 4 x 4 on the screen
const kTileColumns = 16; // W0's rows are drawn as images, 16 to a row, one pixel apart
const kLrRange = [1e-9, 100]; // the learning rates 10_train --lr takes
// While training runs, the page takes the worker's weights (and redraws at them) at most ten times
// a second: on a machine of two cores the rest of the time goes to training and to your pen.
const kApplyEveryMs = 100;

const yourTurn = new YourTurn(); // its state: turn= and solved= in the hash
const state = {
  // what the URL holds: #seed=42&sample=0&recipe=fixed&step=0&graph=neuron&edit=...&lang=en
  seed: 42,
  sample: 0,
  recipe: 'fixed',
  step: 0,
  graph: 'neuron',
  graphEdits: '',
  lang: 'en', // the page's language (web/i18n.js): the link's, else the browser's
  shownHash: '', // the hash the page last wrote
  ignored: [], // what the link held that the page could not use: [{what, why: [key, params] | message}]
  // the drawing pad's image (784 pixel bytes) when it is the one explained, and its label
  drawn: null,
  drawnLabel: null, // null until the learner chooses the digit they drew
  // While a stroke is being drawn, each frame's update skips the finite differences of the check
  // (24 forward passes at W0); they run when the stroke ends.
  stroking: false,
  strokeMs: [], // the page update of each frame of the strokes, for bench/web.sh
  strokeLagMs: [], // the same frames' wait from the pointer event to the update's end
  strokeSince: null, // the first pointer event's time not answered yet
  engine: null, // the StepGrad
  explanation: null, // the explained sample
  steps: [], // [{node, phase: 'forward'|'backward'}]
  fd: new Map(), // finite differences already computed for this explanation, by node
  cards: null, // the tape's cards: {names, list: [{card, value, grad}]}
  graphView: null, // the small graph (GraphView)
  playing: null, // the play button's timer
  stepToSay: false, // the learner stepped: the live region says the step (announce)
  saidMeaning: null, // what the live region last said the status line means
  // the page's one model: the training run whose current weights everything is explained at
  // (trained in a Web Worker, web/worker.js; see "training" below)
  training: {
    trainer: null, // the page's model: a Trainer that never steps, at the worker's weights
    worker: null,
    gen: 0, // the run the page shows (the worker's messages of an older one are ignored)
    running: false, // as the ▶ train button says
    pending: null, // the worker's newest update, applied at the next frame
    frame: 0,
    loops: 0, // the worker's running loops, as it last said (0 or 1)
    failed: null, // the worker's error, once it failed
    appliedAt: 0, // when the page last took the worker's weights
    waitedForLink: 0, // frames it waited for a new link to be read
    points: [], // the accuracy curve: [{steps, accuracy}]
    marks: [],
    rate: 0,
    lr: 0.01,
    syncs: [], // settled()'s promises: [{id, resolve}]
    syncId: 0,
  },
};

/** Shows the page in `lang` ('en' or 'zh'; web/i18n.js): its fixed words now, the rest at the next render. */
function applyLanguage(lang) {
  setLanguage(lang);
  state.lang = lang;
  document.documentElement.lang = htmlLang(lang);
  document.title = t('title');
  applyTo(document);
  for (const b of document.querySelectorAll('#lang-switch button')) {
    b.setAttribute('aria-pressed', String(b.dataset.lang === lang));
  }
}

// ---- colours: red positive, blue negative, white zero, scaled by the largest |value| ----
function rgbInto(data, at, v, scale) {
  const t = scale > 0 ? Math.max(-1, Math.min(1, v / scale)) : 0;
  const w = Math.round(255 * (1 - Math.abs(t)));
  data[at] = t >= 0 ? 255 : w;
  data[at + 1] = w;
  data[at + 2] = t >= 0 ? w : 255;
  data[at + 3] = 255;
}
// The same colours as one 32-bit RGBA word per pixel, from a table of 511 levels (-255..255):
// W0's 128 tiles are 100,352 pixels, repainted at each frame of a stroke.
const kColours = (() => {
  const lut = new Uint32Array(511);
  const px = new Uint8ClampedArray(4);
  const word = new Uint32Array(px.buffer);
  for (let k = -255; k <= 255; ++k) {
    rgbInto(px, 0, k, 255);
    lut[k + 255] = word[0];
  }
  return lut;
})();
function fillColours(words, at, values, from, to, scale) {
  const k = scale > 0 ? 255 / scale : 0;
  for (let i = from; i < to; ++i) words[at + i - from] = kColours[Math.round(values[i] * k) + 255];
}
function maxAbs(a, from = 0, to = a.length) {
  let m = 0;
  for (let i = from; i < to; ++i) m = Math.max(m, Math.abs(a[i]));
  return m;
}

// ---- drawing one tensor on a canvas; returns a function (x, y) -> flat index or -1 ----
// A canvas keeps its size, its ImageData and its scratch canvas from one repaint to the next: a
// stroke on the drawing pad repaints the same views many times a second.
const scratch = new WeakMap(); // canvas -> {img: ImageData, tmp: OffscreenCanvas}
function scratchOf(canvas) {
  let s = scratch.get(canvas);
  if (!s) scratch.set(canvas, (s = { img: null, tmp: null }));
  return s;
}
function setSize(canvas, w, h) {
  if (canvas.width !== w) canvas.width = w;
  if (canvas.height !== h) canvas.height = h;
}
function imageData(ctx, w, h) {
  const s = scratchOf(ctx.canvas);
  if (!s.img || s.img.width !== w || s.img.height !== h) s.img = ctx.createImageData(w, h);
  return s.img;
}
function drawScaled(ctx, img, kx, ky) {
  const s = scratchOf(ctx.canvas);
  if (!s.tmp || s.tmp.width !== img.width || s.tmp.height !== img.height) {
    s.tmp = new OffscreenCanvas(img.width, img.height);
  }
  s.tmp.getContext('2d').putImageData(img, 0, 0);
  ctx.imageSmoothingEnabled = false;
  ctx.drawImage(s.tmp, 0, 0, img.width * kx, img.height * ky);
}
/** The input image O0 (values in [0, 1]) as a picture, `sizes.imageRows` x `imageCols`. */
function paintImage(canvas, values, sizes) {
  const { imageRows: rows, imageCols: cols } = sizes;
  const ctx = canvas.getContext('2d');
  setSize(canvas, cols * kImageScale, rows * kImageScale);
  const img = imageData(ctx, cols, rows);
  for (let i = 0; i < rows * cols; ++i) {
    const g = Math.round(255 * (1 - values[i]));
    img.data[4 * i] = img.data[4 * i + 1] = img.data[4 * i + 2] = g;
    img.data[4 * i + 3] = 255;
  }
  drawScaled(ctx, img, kImageScale, kImageScale);
  return (x, y) => Math.floor(y / kImageScale) * cols + Math.floor(x / kImageScale);
}
/** W0's rows (shape [rows, pixels]) as images, kTileColumns to a row, each tile its own scale. */
function paintTiles(canvas, shape, values, sizes) {
  const { imageRows: rows, imageCols: cols } = sizes;
  const [tiles, pixels] = shape;
  const tileRows = Math.ceil(tiles / kTileColumns);
  const ctx = canvas.getContext('2d');
  setSize(canvas, kTileColumns * (cols + 1), tileRows * (rows + 1));
  const img = imageData(ctx, canvas.width, canvas.height);
  img.data.fill(255);
  const words = new Uint32Array(img.data.buffer);
  for (let r = 0; r < tiles; ++r) {
    const ox = (r % kTileColumns) * (cols + 1);
    const oy = Math.floor(r / kTileColumns) * (rows + 1);
    const s = maxAbs(values, r * pixels, (r + 1) * pixels);
    for (let y = 0; y < rows; ++y) {
      const from = r * pixels + y * cols;
      fillColours(words, (oy + y) * canvas.width + ox, values, from, from + cols, s);
    }
  }
  ctx.putImageData(img, 0, 0);
  return (x, y) => {
    const tx = Math.floor(x / (cols + 1));
    const ty = Math.floor(y / (rows + 1));
    const px = x % (cols + 1);
    const py = y % (rows + 1);
    const r = ty * kTileColumns + tx;
    if (tx >= kTileColumns || r >= tiles || px >= cols || py >= rows) return -1;
    return r * pixels + py * cols + px;
  };
}
/** A scalar as its number, in the engine's printing. */
function paintNumber(canvas, text) {
  const ctx = canvas.getContext('2d');
  setSize(canvas, 120, 28);
  ctx.clearRect(0, 0, 120, 28);
  ctx.fillStyle = '#222';
  ctx.font = '16px monospace';
  ctx.fillText(text, 4, 20);
  return () => 0;
}
/** The size on the screen of one element of a heat map of rows x cols: [width, height]. */
function heatCell(rows, cols) {
  return [cols === 1 ? 14 : Math.max(1, Math.floor(256 / cols)), Math.max(1, Math.min(18, Math.floor(256 / rows)))];
}
/** Vectors as columns (the article's column vectors), matrices as heat maps. */
function paintHeatMap(canvas, shape, values) {
  const [rows, cols] = shape.length === 2 ? shape : [shape[0] ?? 1, 1];
  const ctx = canvas.getContext('2d');
  const [cw, ch] = heatCell(rows, cols);
  setSize(canvas, cols * cw, rows * ch);
  const img = imageData(ctx, cols, rows);
  fillColours(new Uint32Array(img.data.buffer), 0, values, 0, rows * cols, maxAbs(values));
  drawScaled(ctx, img, cw, ch);
  return (x, y) => {
    const r = Math.floor(y / ch);
    const c = Math.floor(x / cw);
    return r < rows && c < cols ? r * cols + c : -1;
  };
}
/**
 * The size in pixels of node's view, as paint() makes it: set before it is painted (a view off the
 * screen is painted when it scrolls into sight), so that the tape's layout does not change then.
 */
function viewSize(node, kind, { imageRows: rows, imageCols: cols }) {
  if (node.name === 'O0' && kind === 'value') return [cols * kImageScale, rows * kImageScale];
  if (node.name === 'W0') return [kTileColumns * (cols + 1), Math.ceil(node.shape[0] / kTileColumns) * (rows + 1)];
  const [r, c] = node.shape.length === 2 ? node.shape : [node.shape[0] ?? 1, 1];
  if (r * c === 1) return [120, 28];
  const [cw, ch] = heatCell(r, c);
  return [c * cw, r * ch];
}
/** Node `node`'s value or grad (`kind`) on `canvas`, the way that suits it. */
function paint(canvas, node, values, kind, engine) {
  if (node.name === 'O0' && kind === 'value') return paintImage(canvas, values, engine.sizes);
  if (node.name === 'W0') return paintTiles(canvas, node.shape, values, engine.sizes);
  if (values.length === 1) return paintNumber(canvas, engine.formatNumber(values[0], 4));
  return paintHeatMap(canvas, node.shape, values);
}

// ---- the tape ----
/** The tape's nodes forward, then those the gradient reaches backward. */
function stepsOf(explanation) {
  const steps = explanation.nodes.map((n) => ({ node: n, phase: 'forward' }));
  for (let i = explanation.nodes.length - 1; i >= 0; --i) {
    const n = explanation.nodes[i];
    if (n.hasGrad) steps.push({ node: n, phase: 'backward' });
  }
  return steps;
}
// The tape's cards are made once (the network's nodes do not change) and then updated: a view is
// repainted only when its array changed (W0-W2's values stay the same arrays until the weights
// change), and a value or gradient not shown is not even copied from the engine.
function makeCards(tape, nodes, engine, onClick) {
  $('main').append($('side')); // out of the tape (placeSide) before the tape is emptied
  tape.textContent = '';
  const list = nodes.map((n) => {
    const value = makeView(n, 'value', engine);
    const grad = makeView(n, 'grad', engine);
    const card = h(
      'div',
      { className: 'node' },
      h('div', { className: 'title', textContent: `${n.index}  ${n.label}  ${n.shapeText}` }),
      h('div', { className: 'views' }, value.fig, grad.fig),
    );
    card.dataset.name = n.name;
    card.addEventListener('click', () => onClick(n));
    tape.append(card);
    return { card, value, grad };
  });
  return { names: nodes.map((n) => n.name).join(), list };
}
/** Updates the cards to step `step` of `steps`: what is known so far, the current node marked. */
function renderTape(cards, nodes, steps, step) {
  const cur = steps[step];
  const fwdUpTo = cur.phase === 'forward' ? cur.node.index : Infinity;
  const backDone = new Set();
  if (cur.phase === 'backward') {
    for (let s = nodes.length; s <= step; ++s) backDone.add(steps[s].node.index);
  }
  for (const n of nodes) {
    const c = cards.list[n.index];
    const known = n.index <= fwdUpTo;
    c.card.classList.toggle('current', n.index === cur.node.index);
    c.card.classList.toggle('pending', !known);
    showView(c.value, n, known ? () => n.value : null);
    showView(c.grad, n, known && n.hasGrad && backDone.has(n.index) ? () => n.grad : null);
  }
}
// A view off the screen is not repainted (nor its array copied) until it scrolls into sight.
const viewOf = new WeakMap(); // figure -> its view
const onScreen = new IntersectionObserver(
  (entries) => {
    for (const e of entries) {
      const v = viewOf.get(e.target);
      v.visible = e.isIntersecting;
      if (v.visible && v.get) showView(v, v.node, v.get);
    }
  },
  { rootMargin: '100px' },
);
/** Shows node's array (get() reads it) in view v, or hides v when get is null. */
function showView(v, node, get) {
  v.fig.hidden = !get;
  v.node = node;
  v.get = get;
  if (v.labelLang !== state.lang) {
    v.canvas.setAttribute('aria-label', viewLabel(node, v.key));
    v.labelLang = state.lang;
  }
  if (!get) return;
  v.described = false; // describe() fills in its values when the page is not busy
  if (!v.visible) {
    setSize(v.canvas, ...viewSize(node, v.kind, v.engine.sizes));
    return;
  }
  const values = get();
  // W0-W2's values are the same array until the weights change: already drawn. (Every other
  // array is refilled by each explanation, reuse: true.)
  if (v.values === values && node.op === 'param' && v.kind === 'value') return;
  v.values = values;
  v.at = paint(v.canvas, node, values, v.kind, v.engine);
}
/** A view's name: the tensor, its shape and how it is drawn ("grad W0 (128, 784): 128 tiles ..."). */
function viewLabel(node, key) {
  let how = 'drawnHeat';
  if (node.name === 'O0' && key === 'O0') how = 'drawnImage';
  else if (node.name === 'W0') how = 'drawnTiles';
  else if (node.shape.reduce((a, b) => a * b, 1) === 1) how = 'drawnNumber';
  else if (node.shape.length === 1) how = 'drawnColumn';
  return t('viewLabel', { name: key, shape: node.shapeText, how: t(how, { rows: node.shape[0] }) });
}
/**
 * The values of every view shown, as text (aria-describedby): the engine's printing when the
 * tensor is small (100 elements or fewer, printed whole), its summary otherwise. Not while a
 * stroke or training runs: then at their end.
 */
function describe(cards, explanation) {
  for (const c of cards.list) {
    for (const v of [c.value, c.grad]) {
      if (!v.get || v.described) continue;
      const small = v.node.shape.reduce((a, b) => a * b, 1) <= 100;
      v.desc.textContent = small ? explanation.show(v.key) : `${v.key} ${explanation.summary(v.key)}`;
      v.described = true;
    }
  }
}
let viewIds = 0;
function makeView(node, kind, engine) {
  // a picture with a name, and its values as text for a screen reader (the engine's summary)
  const desc = h('span', { className: 'sr-only values', id: `view-values-${++viewIds}` });
  const canvas = h('canvas', { role: 'img' });
  canvas.setAttribute('aria-describedby', desc.id);
  const key = kind === 'grad' ? `grad ${node.name}` : node.name;
  const fig = h('figure', {}, canvas, h('figcaption', { textContent: key }), desc);
  // visible: assumed until the observer's first report (so that the first render paints all)
  const v = { fig, canvas, desc, key, kind, engine, values: null, node, at: () => -1, visible: true, get: null };
  viewOf.set(fig, v);
  onScreen.observe(fig);
  canvas.addEventListener('mousemove', (ev) => {
    const r = canvas.getBoundingClientRect();
    const i = v.at(
      Math.floor(((ev.clientX - r.left) * canvas.width) / r.width),
      Math.floor(((ev.clientY - r.top) * canvas.height) / r.height),
    );
    const tip = $('tooltip');
    if (!v.values || i < 0 || i >= v.values.length) {
      tip.hidden = true;
      return;
    }
    // the engine's printing of one element, as the CLI prints it
    const name = `${kind === 'grad' ? 'grad ' : ''}${v.node.name}${engine.indexText(v.node.shape, i)}`;
    tip.textContent = `${name} = ${engine.formatNumber(v.values[i], 4)}`;
    tip.style.left = `${ev.pageX + 12}px`;
    tip.style.top = `${ev.pageY + 12}px`;
    tip.hidden = false;
  });
  canvas.addEventListener('mouseleave', () => {
    $('tooltip').hidden = true;
  });
  return v;
}

// ---- the current node's rule and the three-way check ----
// The rule that fills node n's gradient is its consumer's (the op that used n), in the engine's
// words (OpDef::rule, Tape::rule), and the same rule with its numbers (explain_backward).
function consumerRule(explanation, n) {
  for (const m of explanation.nodes) {
    const k = m.inputs.indexOf(n.index);
    if (k < 0 || !m.hasGrad || !m.rules[k]) continue;
    const line = explanation
      .backwardText(m.index)
      .split('\n')
      .find((l) => l.startsWith(m.rules[k]));
    return { rule: m.rules[k], numbers: line ?? '' };
  }
  return { rule: n.name === 'C' ? t('sweepStarts') : '', numbers: '' };
}
/** The rule of step {node, phase}: the forward equation or the backward rule, and the tensor. */
function renderRule(el, explanation, { node: n, phase }) {
  const parts = [];
  if (phase === 'forward') {
    parts.push(
      h('h2', { textContent: kEquation[n.name] ? t('forwardEq', { eq: kEquation[n.name] }) : t('forward') }),
      h('p', { className: 'formula', textContent: n.label }),
    );
  } else {
    const r = consumerRule(explanation, n);
    parts.push(
      h('h2', { textContent: t('backward') }),
      h('p', { className: 'formula', textContent: r.rule }),
      printout(r.numbers, 'numbers'),
    );
  }
  const key = phase === 'forward' ? n.name : `grad ${n.name}`;
  // O0 and grad W0: their summarised printing would show the image's corners, all 0; the lit
  // region instead, saying which rows and columns it is
  const lit = key === 'O0' || key === 'grad W0' ? litPrint(explanation, key, state.engine) : null;
  if (lit) {
    el.replaceChildren(
      ...parts,
      printout(`${key} ${explanation.summary(key)}`),
      h('p', { className: 'region', textContent: lit.region }),
      Object.assign(printout(lit.text, 'lit'), {
        style: `--chars: ${Math.max(...lit.text.split('\n').map((l) => l.length))}`,
      }),
    );
  } else {
    el.replaceChildren(...parts, printout(explanation.show(key)));
  }
}
/**
 * A printout that wraps at the panel's width: a line of its own per printed line, so that a
 * wrapped line's rest is indented under it and not taken for the next row (the text is the same).
 */
function printout(text, className = '') {
  const lines = text.split('\n');
  return h(
    'pre',
    { className },
    ...lines.map((l, k) => h('span', { className: 'line', textContent: k < lines.length - 1 ? `${l}\n` : l })),
  );
}
/** Indices 0..n-1, or the first and last `edge` of them with null between (numpy's summary). */
function edges(n, edge = 3) {
  const all = Array.from({ length: n }, (_, i) => i);
  return n <= 2 * edge ? all : [...all.slice(0, edge), null, ...all.slice(n - edge)];
}
/**
 * Rows of values (null: "...") in columns, as numpy prints a tensor: one format for all, fixed
 * with `decimals` decimals, or scientific when the magnitudes call for it. (The engine prints a
 * whole tensor, formatNumber one element: a block of a tensor needs its own.)
 */
function printBlock(rows, decimals = 4) {
  const all = rows.flatMap((r) => r || []).filter((v) => v !== null && v !== 0);
  const mags = all.map(Math.abs);
  const [lo, hi] = [Math.min(...mags), Math.max(...mags)];
  const sci = all.length > 0 && (lo < 1e-4 || hi >= 1e8 || hi / lo > 1e3);
  const fmt = (v) => (v === 0 ? '0' : sci ? v.toExponential(decimals) : v.toFixed(decimals));
  const cells = rows.map((r) => r && r.map((v) => (v === null ? '...' : fmt(v))));
  const width = Math.max(...cells.flat().map((c) => (c ? c.length : 0)));
  const lines = cells.map((r, k) => `${k ? ' ' : '['}${r ? `[${r.map((c) => c.padStart(width)).join(' ')}]` : '...'}`);
  return `${lines.join('\n')}]`;
}
/**
 * The lit region of the image for O0, the columns of its lit pixels for grad W0 (row k of grad W0
 * is delta1[k] O0ᵀ: 0 wherever O0 is 0): {region: which rows and columns, in words; text}.
 */
function litPrint(explanation, key, engine) {
  const { imageRows: rows, imageCols: cols } = engine.sizes;
  const image = explanation.node('O0').value;
  const lit = [];
  for (let i = 0; i < image.length; ++i) if (image[i] !== 0) lit.push(i);
  if (!lit.length) return { region: t('litNone'), text: '' };
  if (key === 'O0') {
    const rs = lit.map((i) => Math.floor(i / cols));
    const cs = lit.map((i) => i % cols);
    const [r0, r1, c0, c1] = [Math.min(...rs), Math.max(...rs), Math.min(...cs), Math.max(...cs)];
    const block = [];
    for (let r = r0; r <= r1; ++r) block.push(Array.from({ length: c1 - c0 + 1 }, (_, c) => image[r * cols + c0 + c]));
    return { region: t('litImage', { r0, r1, c0, c1, rows, cols }), text: printBlock(block, 2) };
  }
  const g = explanation.node('W0').grad;
  const units = g.length / image.length;
  const rowIdx = edges(units);
  const colIdx = edges(lit.length).map((k) => (k === null ? null : lit[k]));
  const block = rowIdx.map((r) => r !== null && colIdx.map((j) => (j === null ? null : g[r * image.length + j])));
  const shown = (list) => list.filter((x) => x !== null);
  return {
    region: t('litGradW0', {
      rows: shown(rowIdx).join(', '),
      units,
      pixels: shown(colIdx).join(', '),
      count: lit.length,
    }),
    text: printBlock(block, 3), // 4 significant digits, as the engine prints
  };
}
function relErr(a, b) {
  const d = Math.max(Math.abs(a), Math.abs(b));
  return d > 0 ? Math.abs(a - b) / d : 0;
}
function checkIndices(g) {
  const top = []; // the four largest |g|, in one pass (W0's gradient has 100,352 elements)
  for (let i = 0; i < g.length; ++i) {
    if (top.length < 4 || Math.abs(g[i]) > Math.abs(g[top[3]])) {
      top.push(i);
      top.sort((a, b) => Math.abs(g[b]) - Math.abs(g[a]));
      if (top.length > 4) top.pop();
    }
  }
  const picked = new Set(top);
  // and two more spread over the tensor (the first ones not already picked)
  const want = Math.min(6, g.length);
  for (let k = 1; k < g.length && picked.size < want; ++k) picked.add(Math.floor((k * g.length) / 3) % g.length);
  for (let i = 0; i < g.length && picked.size < want; ++i) picked.add(i);
  return [...picked];
}
/**
 * The numbers of the three-way check of node n against the hand-derived `hand`: the elements
 * checked, the engine's comparison, and the finite differences (undefined while they wait).
 * `fd` caches the finite differences by node; `stroking` defers them.
 */
function checkOf(explanation, n, hand, fd, stroking) {
  const idx = checkIndices(n.grad);
  // the engine compares all elements; only the rows of the table come to JavaScript
  const cmp = explanation.compare(`grad ${n.name}`, hand, idx);
  if (!fd.has(n.name) && !stroking) fd.set(n.name, explanation.finiteDifferences(n.name, idx));
  return { idx, cmp, fd: fd.get(n.name) };
}
function renderCheckHint(el) {
  el.replaceChildren(
    h('h2', { textContent: t('checkTitle') }),
    h('p', { className: 'hint', textContent: t('checkHint') }),
  );
  el.dataset.node = '';
}
/** The check's table and verdicts: node n's gradient against `hand` (checkOf's numbers). */
function renderCheck(el, n, hand, recipe, { idx, cmp, fd }, engine) {
  const g = n.grad;
  const worstDelta = cmp.maxRel;
  let worstFd = 0;
  if (fd) idx.forEach((i, k) => (worstFd = Math.max(worstFd, relErr(g[i], fd[k]))));
  const ok = worstDelta <= 1e-12;
  el.dataset.node = n.name;
  el.dataset.deltaRel = String(worstDelta);
  const td = (text, className = '') => h('td', { className, textContent: text });
  const rows = idx.map((i, k) =>
    h(
      'tr',
      {},
      td(engine.indexText(n.shape, i)),
      td(g[i].toExponential(6)),
      td(cmp.hand[k].toExponential(6), relErr(g[i], cmp.hand[k]) > 1e-12 ? 'bad' : ''),
      td(fd ? fd[k].toExponential(6) : '…'),
    ),
  );
  const head = [t('element'), t('tapeColumn'), hand, t('fdColumn')].map((text) => h('th', { textContent: text }));
  const verdict = h(
    'p',
    {},
    t('vsHand', { hand, count: g.length }),
    h('b', { className: ok ? 'good' : 'bad', id: 'delta-rel', textContent: worstDelta.toExponential(2) }),
    ' ',
    ok ? t('agree') : h('b', { className: 'bad', textContent: t('disagree') }),
    h('br'),
  );
  if (fd) {
    verdict.append(
      t('vsFd', { count: idx.length }),
      h('b', { className: worstFd <= 1e-7 ? 'good' : 'bad', textContent: worstFd.toExponential(2) }),
    );
  } else {
    verdict.append(t('fdWaits'));
  }
  el.replaceChildren(
    h('h2', { textContent: t('checkHeading', { node: n.name, hand, recipe: t(`recipeName_${recipe}`) }) }),
    h('div', { className: 'scroll-x' }, h('table', {}, h('thead', {}, h('tr', {}, ...head)), h('tbody', {}, ...rows))),
    verdict,
    ...(ok ? [] : [e1Explained()]),
  );
}
/** Erratum E1 in a few sentences, with the link to its page (docs/errata.md, built beside the page). */
function e1Explained() {
  const code = (text) => h('code', { textContent: text });
  const file = state.lang === 'zh' ? 'docs/zh/errata.md' : 'docs/errata.md';
  const link = h(
    'a',
    { href: state.lang === 'zh' ? 'errata-zh.html#e1' : 'errata.html#e1', id: 'e1-link' },
    ...tParts('e1Link', { file: code(file) }),
  );
  return h(
    'p',
    { className: 'e1' },
    ...tParts('e1Explain', {
      right: code("delta2 = (W2ᵀ · delta3) ⊙ sigmoid'(Z2)"),
      wrong: code('s ⊙ (1 - s), s = softmax(Z2)'),
      link,
    }),
  );
}
/**
 * Beside the pad: O3 as ten labelled bars, the network's answer (the largest) in red, for the
 * image the tape explains (your drawing, or the sample).
 */
function renderProbs(el, { explanation, drawn, engine }) {
  const o3 = explanation.node('O3').value;
  const best = engine.argmax(o3);
  const rows = Array.from(o3, (p, d) =>
    h(
      'div',
      { className: d === best ? 'prob best' : 'prob' },
      h('span', { textContent: String(d) }),
      h('span', { className: 'bar', style: `width: ${(100 * p).toFixed(1)}px` }),
      h('span', { textContent: engine.formatNumber(p, 4) }),
    ),
  );
  el.replaceChildren(
    h('div', { className: 'title', textContent: t(drawn ? 'probsDrawing' : 'probsSample', { best }) }),
    ...rows,
  );
  el.dataset.best = String(best);
}
/** The step counter and the status line: which sample, its label, what the network says. */
function renderInfo(info, status, { steps, step, explanation, drawn, drawnLabel, sample, engine }) {
  const { node: n, phase } = steps[step];
  info.textContent = t('stepInfo', { n: step + 1, total: steps.length, phase: t(phase), node: n.name });
  info.dataset.node = n.name;
  info.dataset.phase = phase;
  const o3 = explanation.node('O3').value;
  const best = engine.argmax(o3);
  const what = drawn ? t('statusDrawing') : t('statusSample', { sample, index: explanation.request.index ?? '?' });
  const chosen = explanation.request.label;
  const label =
    drawn && drawnLabel === null ? t('statusNoLabel', { answer: chosen }) : t('statusLabel', { label: chosen });
  const { steps: trained, seed } = explanation.request;
  const weights = trained === 0 ? t('statusUntrained', { seed }) : t('statusTrained', { steps: trained });
  status.textContent = t('status', {
    what,
    label,
    weights,
    best,
    o3: o3[best].toFixed(3),
    cost: explanation.node('C').value[0].toFixed(6),
  });
  status.dataset.trainedSteps = String(trained);
}
function render() {
  const { explanation, steps, step } = state;
  if (state.cards?.names !== explanation.nodes.map((n) => n.name).join()) {
    state.cards = makeCards($('tape'), explanation.nodes, state.engine, (n) => {
      const phase = state.steps[state.step].phase;
      const s = state.steps.findIndex((st) => st.node.index === n.index && st.phase === phase);
      if (s >= 0) go(s);
    });
  }
  renderTape(state.cards, explanation.nodes, steps, step);
  renderRule($('rule'), explanation, steps[step]);
  const { node: n, phase } = steps[step];
  const hand = kHand[n.name];
  if (phase === 'backward' && hand) {
    // while a stroke is drawn or training runs, the finite differences wait for a pause
    const busy = state.stroking || state.training.running;
    renderCheck($('check'), n, hand, state.recipe, checkOf(explanation, n, hand, state.fd, busy), state.engine);
  } else {
    renderCheckHint($('check'));
  }
  renderInfo($('stepinfo'), $('status'), state);
  renderProbs($('probs'), state);
  placeSide(state.cards.list[n.index].card);
  const busy = state.stroking || state.training.running;
  if (!busy) describe(state.cards, explanation);
  announce(busy);
  writeHash();
}
// Below 700 px the tape is one column: the rule and the check go right under the current card
// (not under the whole tape); wider, they are the column beside it.
const kNarrow = matchMedia('(max-width: 700px)');
function placeSide(card) {
  const side = $('side');
  if (kNarrow.matches) {
    if (card.nextElementSibling !== side) card.after(side);
  } else if (side.parentElement !== $('main')) {
    $('main').append(side);
  }
}
/** Shows the current card: the step's node (and below 700 px the rule and check under it). */
function scrollToCurrent() {
  const card = state.cards.list[state.steps[state.step].node.index].card;
  card.scrollIntoView({ block: kNarrow.matches ? 'start' : 'nearest', inline: 'nearest' });
}
/**
 * The live region (#announce): the status line when its meaning changes (another image or sample,
 * a label chosen or not, trained or not, another answer, another language), not at every frame of
 * a stroke or of training (`busy`: said when they end); and the step when the learner steps.
 */
function announce(busy) {
  const { explanation, drawn, drawnLabel, sample, lang } = state;
  const best = state.engine.argmax(explanation.node('O3').value);
  const meaning = [drawn ? 'drawn' : sample, drawn ? drawnLabel : '', explanation.request.steps > 0, best, lang].join();
  const says = [];
  if (state.stepToSay) says.push($('stepinfo').textContent);
  state.stepToSay = false;
  if (!busy && meaning !== state.saidMeaning) {
    says.push($('status').textContent);
    state.saidMeaning = meaning;
  }
  if (says.length) $('announce').textContent = says.join(t('noticeJoin'));
}

// ---- state ----
// One model on the page: the tape, the check and the drawn digit are explained at the training
// run's current weights (its initial ones, of `seed`, until it trains).
function explain() {
  const t0 = performance.now();
  const { engine, recipe } = state;
  const trainer = state.training.trainer;
  if (state.drawn) {
    // No label chosen yet: the cost (and every gradient) is taken against the network's own answer,
    // and the status line says so; O3 does not depend on the label. The last explanation's label
    // is the first guess: a stroke's frames mostly keep the answer, so the engine runs once.
    let label = state.drawnLabel ?? state.explanation?.request.label ?? 0;
    state.explanation = trainer.explain({ pixels: state.drawn, label, recipe, reuse: true });
    if (state.drawnLabel === null) {
      const answer = engine.argmax(state.explanation.node('O3').value);
      if (answer !== label) {
        label = answer;
        state.explanation = trainer.explain({ pixels: state.drawn, label, recipe, reuse: true });
      }
    }
  } else {
    state.explanation = trainer.explain({ sample: state.sample, recipe, reuse: true });
    state.explanation.request.index = engine.sample(state.sample).index;
  }
  state.explanation.request.steps = trainer.steps;
  state.explanation.ms = performance.now() - t0;
  state.fd.clear();
  state.steps = stepsOf(state.explanation);
  state.step = Math.min(state.step, state.steps.length - 1);
}
function go(step) {
  state.step = Math.max(0, Math.min(state.steps.length - 1, step));
  state.stepToSay = true;
  render();
  scrollToCurrent();
}
function writeHash() {
  if (state.graphView) state.graphEdits = state.graphView.editsText();
  const g = `&graph=${state.graph}${state.graphEdits ? `&edit=${state.graphEdits}` : ''}&lang=${state.lang}`;
  const h = `#seed=${state.seed}&sample=${state.sample}&recipe=${state.recipe}&step=${state.step}${g}`;
  const hash = h + yourTurn.hash();
  if (location.hash !== hash) history.replaceState(null, '', hash);
  state.shownHash = hash;
}
/** The language a link asks for (#lang=zh), else the browser's; and what to say when it is no language. */
function linkLanguage(p) {
  const lang = p.get('lang');
  if (lang === null || kLanguages.includes(lang)) return { lang: lang ?? browserLanguage(navigator.languages) };
  return {
    lang: browserLanguage(navigator.languages),
    ignored: { what: `lang=${lang}`, why: ['either', { a: kLanguages[0], b: kLanguages[1] }] },
  };
}
/** A whole number from 0 to max written plainly ("7", not "+7", "7.0", "0x7" or " 7"), or null. */
function wholeNumber(text, max) {
  return /^\d+$/.test(text) && Number(text) <= max ? Number(text) : null;
}
/**
 * Reads the URL hash into the state and the fields by the fields' own rules. Returns what it
 * ignored, each with the rule it broke; the page then shows the defaults for those.
 */
function readHash() {
  const p = new URLSearchParams(location.hash.slice(1));
  const ignored = [];
  const known = new Set(['seed', 'sample', 'recipe', 'step', 'graph', 'edit', 'lang', ...yourTurn.keys]);
  for (const k of p.keys()) if (!known.has(k)) ignored.push({ what: `${k}=${p.get(k)}`, why: ['notASetting'] });
  const whole = (k, d, max) => {
    if (!p.has(k)) return d;
    const v = wholeNumber(p.get(k), max);
    if (v === null) ignored.push({ what: `${k}=${p.get(k)}`, why: ['wholeNumber', { max }] });
    return v ?? d;
  };
  const choice = (k, [a, b]) => {
    if (!p.has(k) || [a, b].includes(p.get(k))) return p.get(k) ?? a;
    ignored.push({ what: `${k}=${p.get(k)}`, why: ['either', { a, b }] });
    return a;
  };
  const lang = linkLanguage(p);
  if (lang.ignored) ignored.push(lang.ignored);
  applyLanguage(lang.lang);
  state.seed = whole('seed', 42, kMaxSeed);
  state.sample = whole('sample', 0, state.engine.trainSize - 1);
  state.recipe = choice('recipe', ['fixed', 'article']);
  state.step = whole('step', 0, Number.MAX_SAFE_INTEGER);
  state.graph = choice('graph', ['neuron', 'xor']);
  state.graphEdits = p.get('edit') ?? '';
  ignored.push(...yourTurn.read(p));
  $('graph-kind').value = state.graph;
  $('seed').value = state.seed;
  $('sample').value = state.sample;
  $('recipe').value = state.recipe;
  return ignored;
}
/** After a link was read and explained: the step past the last one, then one line of what was ignored. */
function noticeIgnored(ignored, requestedStep) {
  if (requestedStep !== state.step) {
    ignored.push({ what: `step=${requestedStep}`, why: ['aStep', { max: state.steps.length - 1 }] });
  }
  state.ignored = ignored;
  renderNotice();
}
/** The notice line: what the link held that the page could not use, each with its rule. */
function renderNotice() {
  // a reason is the page's [key, params], or the engine's message, shown as the engine words it
  const why = (w) => (typeof w === 'string' ? [t('engineSays'), h('code', { textContent: w })] : [t(...w)]);
  const items = state.ignored.flatMap((it, k) => [
    ...(k ? [t('noticeJoin')] : []),
    ...tParts('ignored', { what: it.what, why: why(it.why) }),
  ]);
  $('notice').replaceChildren(...(items.length ? tParts('notice', { items }) : []));
}
/** After the language changed: every word on the page in the new one. */
function relabel() {
  $('play').textContent = t(state.playing ? 'pause' : 'play');
  $('train-play').textContent = t(state.training.running ? 'pause' : 'train');
  renderNotice();
  if ($('controls-error').textContent) readFields();
  if ($('lr-error').textContent) readLr();
  state.graphView.relabel();
  yourTurn.render();
  renderTraining(state.training, state.engine);
  render();
}
function togglePlay() {
  if (state.playing) {
    clearInterval(state.playing);
    state.playing = null;
    $('play').textContent = t('play');
    return;
  }
  if (state.step >= state.steps.length - 1) go(0);
  $('play').textContent = t('pause');
  state.playing = setInterval(() => {
    if (state.step >= state.steps.length - 1) {
      togglePlay();
      return;
    }
    go(state.step + 1);
  }, 600);
}

// ---- training ----
// The training runs in a Web Worker (web/worker.js) with an engine of its own, so that a stroke
// on the pad never waits for it. The page's one model is `training.trainer`, a Trainer on the
// page's engine that never steps: it takes the weights the worker sends, bit for bit, and the
// tape, the check and the drawn digit are explained at them. The worker sends its weights after
// each slice of training, at most one set on its way; the page applies the newest at the next
// frame and gives the buffers back (transferred both ways, never copied into a message).
function startWorker(training, engine) {
  const worker = new Worker(new URL('worker.js', import.meta.url), { type: 'module' });
  worker.onmessage = ({ data }) => onWorkerMessage(training, data);
  worker.onerror = (e) => onWorkerMessage(training, { type: 'error', message: e.message });
  worker.postMessage({ type: 'init', data: engine.data });
  training.worker = worker;
}
/** A new training run from the initial weights of the page's seed: the page's one model. */
function newTrainer(training, engine) {
  training.trainer?.dispose();
  training.trainer = engine.trainer({ seed: state.seed, recipe: state.recipe, lr: training.lr });
  training.points = []; // until the worker's first evaluation arrives
  training.gen += 1;
  const { seed, recipe } = state;
  training.worker.postMessage({ type: 'reset', gen: training.gen, seed, recipe, lr: training.lr });
}
function onWorkerMessage(training, m) {
  if (m.type === 'error') {
    // the worker's engine failed: training stops, and the page says why (it sends no more)
    training.failed = m.message;
    training.running = false;
    $('train-play').textContent = t('train');
    $('lr-error').textContent = t('error', { message: m.message });
    return;
  }
  const now = performance.now();
  if (m.gen !== training.gen) {
    giveBack(training, m); // a run the page no longer shows
    return;
  }
  if (training.pending) giveBack(training, training.pending); // (the worker sends one at a time)
  training.pending = m;
  if (training.running) measureRate(training, m.steps, now);
  if (!training.frame) training.frame = requestAnimationFrame(() => applyUpdate(training));
}
function giveBack(training, m) {
  training.worker.postMessage(
    { type: 'ack', weights: m.weights },
    m.weights.map((w) => w.buffer),
  );
}
/** At a frame: the worker's newest weights into the page's model, and the page redrawn at them. */
function applyUpdate(training) {
  training.frame = 0;
  // A new link (the address bar) whose hashchange has not run yet: redrawing now would write the
  // old view's hash over it. The handler reads it and redraws first (a few frames at most).
  const linkPending = location.hash !== state.shownHash && training.waitedForLink++ < 30;
  if (linkPending || (training.running && performance.now() - training.appliedAt < kApplyEveryMs)) {
    training.frame = requestAnimationFrame(() => applyUpdate(training)); // (the worker trains on)
    return;
  }
  training.appliedAt = performance.now();
  training.waitedForLink = 0;
  const m = training.pending;
  training.pending = null;
  if (!m) return;
  if (m.gen === training.gen) {
    // the same run at the same step has the same weights: then only the panel changes (points)
    const moved = m.steps !== training.trainer.steps;
    if (moved) training.trainer.setWeights(m.weights, m.steps);
    Object.assign(training.trainer, { recipe: m.recipe, lr: m.lr });
    if (m.points) training.points = m.points;
    training.loops = m.loops;
    renderTraining(training, state.engine, m.weights[0]);
    if (moved) {
      explain(); // the tape, the check and the drawn digit follow the weights
      render();
    }
    for (const s of training.syncs.filter((s) => s.id <= m.synced)) s.resolve();
    training.syncs = training.syncs.filter((s) => s.id > m.synced);
  }
  giveBack(training, m);
}
/**
 * The real throughput: steps over wall time across the worker's updates of the last 3 s,
 * everything the worker does included (the steps, the evaluations, sending the weights).
 */
function measureRate(training, steps, now) {
  const marks = training.marks; // started by setTraining
  marks.push({ t: now, steps });
  while (marks.length > 2 && now - marks[0].t > 3000) marks.shift();
  const first = marks[0];
  training.rate = now > first.t ? ((steps - first.steps) * 1000) / (now - first.t) : 0;
}
/** Starts or pauses training; the worker runs one loop however often it is clicked. */
function setTraining(running) {
  const training = state.training;
  if (training.failed) running = false; // a worker that failed runs nothing: ▶ stays ▶
  training.running = running;
  training.marks = [{ t: performance.now(), steps: training.trainer.steps }]; // the rate starts anew
  training.rate = 0;
  $('train-play').textContent = t(running ? 'pause' : 'train');
  if (running) sendSettings(training);
  if (!training.failed) training.worker.postMessage({ type: 'run', running });
  if (!running) {
    renderTraining(training, state.engine); // no rate while paused
    render(); // the check's finite differences, held while training ran
  }
}
/** The recipe and learning rate the next steps take. */
function sendSettings(training) {
  training.worker.postMessage({ type: 'set', recipe: state.recipe, lr: training.lr });
}
/** After the seed or the recipe changed: a new seed is a new model, a recipe applies from now on. */
function applyToTraining() {
  const { training, engine } = state;
  if (training.trainer.seed !== state.seed) {
    setTraining(false);
    newTrainer(training, engine);
  }
  training.trainer.recipe = state.recipe;
  sendSettings(training);
  renderTraining(training, engine);
}
/** Marks a field as holding a value the page refused (or no longer). */
function markField(el, ok) {
  el.classList.toggle('bad', !ok);
  el.setAttribute('aria-invalid', String(!ok));
}
/** The lr field by 10_train --lr's rule; a bad value is refused beside the field, never replaced. */
function readLr() {
  const text = $('lr').value;
  const lr = Number(text);
  const [lo, hi] = kLrRange;
  const ok = text.trim() !== '' && Number.isFinite(lr) && lr >= lo && lr <= hi;
  markField($('lr'), ok);
  $('lr-error').textContent = ok ? '' : t('lrBad', { lo, hi, value: text });
  if (ok) state.training.lr = lr;
  return ok;
}
/** The training's line of text, its accuracy curve, and W0's rows as images (w0: W0's values). */
function renderTraining(training, engine, w0 = training.trainer.weights()[0]) {
  const run = training.trainer;
  const acc = training.points.at(-1)?.accuracy; // undefined until the worker's first evaluation
  // while it runs: the real throughput of the last seconds (measureRate), not one chunk's speed
  const rate = training.running && training.rate > 0 ? t('trainRate', { rate: Math.round(training.rate) }) : '';
  $('train-info').textContent = t('trainInfo', {
    seed: run.seed,
    recipe: t(`recipeName_${run.recipe}`),
    lr: run.lr,
    steps: run.steps,
    passes: (run.steps / engine.trainSize).toFixed(1),
    accuracy: acc === undefined ? '…' : (100 * acc).toFixed(1),
    testSize: engine.testSize,
    rate,
  });
  $('train-info').dataset.accuracy = acc === undefined ? '' : String(acc);
  drawCurve($('curve'), training.points);
  const [pixels, hidden] = engine.sizes.layers;
  paint($('tiles'), { name: 'W0', shape: [hidden, pixels] }, w0, 'value', engine);
}
function drawCurve(c, points) {
  const ctx = c.getContext('2d');
  ctx.fillStyle = '#fff';
  ctx.fillRect(0, 0, c.width, c.height);
  const pad = 30;
  const bottom = 34; // the steps' ticks and the axis' name
  const W = c.width - pad - 8;
  const H = c.height - bottom - 8;
  ctx.strokeStyle = '#ccc';
  ctx.fillStyle = '#555';
  ctx.font = '11px sans-serif';
  for (const a of [0, 0.25, 0.5, 0.75, 1]) {
    const y = 8 + H * (1 - a);
    ctx.beginPath();
    ctx.moveTo(pad, y);
    ctx.lineTo(pad + W, y);
    ctx.stroke();
    ctx.fillText(`${a * 100}%`, 2, y + 4);
  }
  const maxSteps = Math.max(2000, points.at(-1)?.steps ?? 0);
  // the x axis: ticks at a round number of steps, at most 6 of them, and the axis' name
  const every = [1, 2, 5]
    .flatMap((m) => [100, 1000, 10000, 100000, 1000000, 10000000].map((p) => m * p))
    .sort((x, y) => x - y)
    .find((k) => maxSteps / k <= 6);
  ctx.textAlign = 'center';
  for (let s = 0; s <= maxSteps; s += every) {
    const x = pad + (W * s) / maxSteps;
    ctx.beginPath();
    ctx.moveTo(x, 8 + H);
    ctx.lineTo(x, 8 + H + 4);
    ctx.stroke();
    const half = ctx.measureText(String(s)).width / 2; // the last one inside the canvas
    ctx.fillText(String(s), Math.min(x, c.width - half - 2), 8 + H + 15);
  }
  ctx.textAlign = 'right';
  ctx.fillText(t('curveAxis'), pad + W, c.height - 3);
  ctx.textAlign = 'left';
  ctx.fillText(t('curveTitle'), pad + 4, 20);
  // the same points as text, for a screen reader (the canvas' aria-describedby)
  $('curve-values').textContent = t('curveValues', {
    points: points
      .map((p) => t('curvePoint', { steps: p.steps, accuracy: (100 * p.accuracy).toFixed(1) }))
      .join(t('noticeJoin')),
  });
  ctx.strokeStyle = '#c33';
  ctx.lineWidth = 2;
  ctx.beginPath();
  points.forEach((p, k) => {
    const x = pad + (W * p.steps) / maxSteps;
    const y = 8 + H * (1 - p.accuracy);
    if (k === 0) ctx.moveTo(x, y);
    else ctx.lineTo(x, y);
  });
  ctx.stroke();
  ctx.lineWidth = 1;
}

// ---- wiring ----
/** The seed and sample fields, by the link's rules: {seed, sample}, or null and the refusal beside them. */
function readFields() {
  const errors = [];
  const field = (id, max) => {
    const v = wholeNumber($(id).value, max);
    markField($(id), v !== null);
    if (v === null) errors.push(t('fieldBad', { field: t(id), max, value: $(id).value }));
    return v;
  };
  const seed = field('seed', kMaxSeed);
  const sample = field('sample', state.engine.trainSize - 1);
  $('controls-error').textContent = errors.join(t('noticeJoin'));
  return errors.length ? null : { seed, sample };
}
/** A bad value is refused beside the fields, never replaced. */
function onInputsChanged() {
  const fields = readFields();
  if (!fields) return;
  const { seed, sample } = fields;
  state.seed = seed;
  state.sample = sample;
  state.recipe = $('recipe').value;
  state.drawn = null;
  applyToTraining();
  explain();
  render();
}
function wireTape() {
  for (const id of ['seed', 'sample']) $(id).addEventListener('change', onInputsChanged);
  $('recipe').addEventListener('change', () => {
    state.recipe = $('recipe').value;
    applyToTraining();
    explain();
    render();
  });
  $('home').addEventListener('click', () => go(0));
  $('end').addEventListener('click', () => go(state.steps.length - 1));
  $('prev').addEventListener('click', () => go(state.step - 1));
  $('next').addEventListener('click', () => go(state.step + 1));
  $('play').addEventListener('click', togglePlay);
  kNarrow.addEventListener('change', () => render()); // the side panel beside the tape or under the card
  document.addEventListener('keydown', (ev) => {
    // A focused control keeps its keys: Space on a button presses that button, not play; arrows
    // move in a field or a list; Enter follows a link. Alt, Ctrl and Meta keys are the browser's
    // (Alt+Left is Back) and a key composing text (an input method) is the text's.
    if (ev.defaultPrevented || ev.isComposing || ev.altKey || ev.ctrlKey || ev.metaKey) return;
    const focused = ev.target instanceof Element ? ev.target : null;
    if (focused?.closest('input, select, textarea, button, a[href], summary, [contenteditable], [tabindex]')) return;
    const keys = {
      ArrowRight: () => go(state.step + 1),
      ArrowLeft: () => go(state.step - 1),
      Home: () => go(0),
      End: () => go(state.steps.length - 1),
      ' ': togglePlay,
    };
    if (keys[ev.key]) {
      ev.preventDefault();
      keys[ev.key]();
    }
  });
}
/** The small graph; returns showGraph(), which shows the one the URL names. */
function wireGraph() {
  // returns the edits the graph has no place for (GraphView.show)
  const showKind = (kind, edits) => {
    $('graph-step').hidden = kind !== 'xor'; // the SGD step is 13_your_network's, on C
    return state.graphView.show(kind, edits);
  };
  // returns the link's edits it could not apply, each with the reason
  const showGraph = () => {
    const view = state.graphView;
    const refused = [];
    const edits = GraphView.parseEdits(state.graphEdits, refused);
    if (view.kind !== state.graph || view.editsText() !== GraphView.parseEditsText(edits)) {
      refused.push(...showKind(state.graph, edits));
    }
    return refused.map((r) => ({ what: `edit=${r.what}`, why: r.why }));
  };
  state.graphView = new GraphView(state.engine, $('graph'), () => writeHash());
  state.graphView.onRefused = (message) => ($('graph-error').textContent = message);
  $('graph-kind').addEventListener('change', () => {
    state.graph = $('graph-kind').value;
    showKind(state.graph);
    writeHash();
  });
  $('graph-reset').addEventListener('click', () => {
    showKind(state.graph);
    writeHash();
  });
  $('graph-step').addEventListener('click', () => state.graphView.step(0.5));
  return showGraph;
}
/** The drawing pad; returns it. */
function wireDrawing() {
  $('draw-label').append(new Option('?', ''));
  for (let d = 0; d < state.engine.sizes.layers.at(-1); ++d) $('draw-label').append(new Option(String(d), String(d)));
  const pad = new DrawPad(
    $('draw'),
    (pixels) => {
      const t = performance.now();
      state.drawn = pixels;
      state.drawnLabel = $('draw-label').value === '' ? null : Number($('draw-label').value);
      state.stroking = pad.down;
      explain();
      render();
      if (state.stroking) {
        state.strokeMs.push(performance.now() - t);
        // the wait from the first pointer event this update answers to its end (bench/web.sh)
        if (state.strokeSince !== null) state.strokeLagMs.push(performance.now() - state.strokeSince);
      }
      state.strokeSince = null;
    },
    () => {
      // the stroke ended: the finite differences too
      state.stroking = false;
      if (state.drawn) render();
    },
  );
  // the pointer event's time: when the browser received it (the page may still be busy then)
  // the wait of a stroke's first frame counts from a move with a button down, not from hovering
  $('draw').addEventListener('pointermove', (e) => {
    if (e.buttons) state.strokeSince ??= e.timeStamp;
  });
  $('draw-label').addEventListener('change', () => {
    if (state.drawn) pad.changed();
  });
  $('draw-clear').addEventListener('click', () => {
    pad.clear();
    state.drawn = null;
    explain();
    render();
  });
  $('draw-sample').addEventListener('click', () => {
    const s = state.engine.sample(state.sample);
    $('draw-label').value = String(s.label);
    pad.set(s.pixels);
  });
  return pad;
}
function wireTraining() {
  const { training, engine } = state;
  const $lr = $('lr');
  [$lr.min, $lr.max] = kLrRange.map(String);
  renderTraining(training, engine);
  $('train-play').addEventListener('click', () => {
    if (!training.running && !readLr()) return;
    setTraining(!training.running);
  });
  $('train-step').addEventListener('click', () => {
    if (!readLr()) return;
    sendSettings(training);
    training.worker.postMessage({ type: 'step', n: 100 }); // the worker sends the weights after
  });
  $('train-reset').addEventListener('click', () => {
    setTraining(false);
    newTrainer(training, engine); // the initial weights of the seed again
    renderTraining(training, engine);
    explain();
    render();
  });
  $lr.addEventListener('change', () => {
    if (!readLr()) {
      setTraining(false);
      return;
    }
    training.trainer.lr = training.lr;
    sendSettings(training);
    renderTraining(training, engine);
  });
}
function wireLanguage() {
  for (const b of document.querySelectorAll('#lang-switch button')) {
    b.addEventListener('click', () => {
      if (b.dataset.lang === state.lang) return;
      applyLanguage(b.dataset.lang);
      relabel(); // and the hash rewritten with the new language
    });
  }
}
async function main() {
  applyLanguage(linkLanguage(new URLSearchParams(location.hash.slice(1))).lang);
  $('status').textContent = t('loading');
  const t0 = performance.now();
  state.engine = await StepGrad.load();
  yourTurn.mount({ engine: state.engine, explanation: () => state.explanation, changed: writeHash });
  const ignored = readHash();
  const requestedStep = state.step;
  readLr();
  startWorker(state.training, state.engine);
  newTrainer(state.training, state.engine);
  explain();
  wireTape();
  const showGraph = wireGraph();
  ignored.push(...showGraph());
  noticeIgnored(ignored, requestedStep);
  render(); // and the hash rewritten to what is shown
  const pad = wireDrawing();
  const withoutLang = (hash) => hash.replace(/&?lang=[^&]*/, '');
  window.addEventListener('hashchange', () => {
    const langOnly = withoutLang(location.hash) === withoutLang(state.shownHash);
    const ignoredNow = readHash();
    if (langOnly && !ignoredNow.length) {
      relabel(); // a new language keeps the view: the drawing, the training, the notice
      return;
    }
    const step = state.step;
    ignoredNow.push(...showGraph());
    state.drawn = null;
    pad.clear();
    applyToTraining();
    explain();
    noticeIgnored(ignoredNow, step);
    relabel();
  });
  wireTraining();
  wireLanguage();

  const ready = performance.now() - t0;
  document.body.dataset.ready = '1';
  window.explorer = {
    sg: state.engine,
    state,
    training: state.training,
    /** Resolves once the worker has done what it was asked so far and the page shows it. */
    settled() {
      const training = state.training;
      return new Promise((resolve) => {
        const id = ++training.syncId;
        training.syncs.push({ id, resolve });
        training.worker.postMessage({ type: 'sync', id });
      });
    },
    readyMs: ready,
    get graph() {
      return state.graphView;
    },
    get steps() {
      return state.steps;
    },
    get explanation() {
      return state.explanation;
    },
    /** The page update (engine, copies, redraw) of each frame of the strokes drawn so far, ms. */
    strokeMs: state.strokeMs,
    /** The same frames' wait from the first pointer event they answer to the update's end, ms. */
    strokeLagMs: state.strokeLagMs,
    /** Runs the engine again and redraws the page; returns the milliseconds it took. */
    update() {
      const t = performance.now();
      explain();
      render();
      return performance.now() - t;
    },
  };
}
main().catch((e) => {
  $('status').textContent = t('error', { message: e.message });
  console.error(e);
});
