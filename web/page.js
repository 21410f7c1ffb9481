// The explorer page: draws the tape of web/stepgrad.js's Explanation, steps it forward then
// backward, shows the three-way check, lets you draw a digit and train. Every number shown comes
// from the engine (web/bindings.cpp); this file only draws them and keeps the state in the URL.
import { StepGrad } from './stepgrad.js';
import { DrawPad } from './draw.js';
import { GraphView } from './graph.js';

const $ = (id) => document.getElementById(id);

// Which hand-derived value each tape gradient is checked against (eqs. 8-11).
const kHand = { Z3: 'delta3', Z2: 'delta2', Z1: 'delta1', W2: 'Delta2', W1: 'Delta1', W0: 'Delta0' };
const kEquation = { O0: '(1)', Z1: '(2)', O1: '(2)', Z2: '(3)', O2: '(3)', Z3: '(4)', O3: '(4)', cost: '(7)', C: '(8)' };

const state = { seed: 42, sample: 0, recipe: 'fixed', step: 0, drawn: null, drawnLabel: 0, graph: 'neuron', graphEdits: '' };
let graphView = null;
let sg = null;
let explanation = null;
let steps = [];  // [{node, phase: 'forward'|'backward'}]
let playing = null;
const fdCache = new Map();
// While a stroke is being drawn, each frame's update skips the finite differences of the check
// (24 forward passes at W0); they run when the stroke ends.
let stroking = false;
const strokeMs = [];  // the page update of each frame of the strokes, for bench/web.sh

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
  const lut = new Uint32Array(511), px = new Uint8ClampedArray(4);
  const word = new Uint32Array(px.buffer);
  for (let k = -255; k <= 255; ++k) { rgbInto(px, 0, k, 255); lut[k + 255] = word[0]; }
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
function setSize(canvas, w, h) {
  if (canvas.width !== w) canvas.width = w;
  if (canvas.height !== h) canvas.height = h;
}
function imageData(ctx, w, h) {
  const c = ctx.canvas;
  if (!c.img_ || c.img_.width !== w || c.img_.height !== h) c.img_ = ctx.createImageData(w, h);
  return c.img_;
}
function paint(canvas, node, values, kind) {
  const ctx = canvas.getContext('2d');
  const [rows, cols] = node.shape.length === 2 ? node.shape : [node.shape[0] ?? 1, 1];
  if (node.name === 'O0' && kind === 'value') {  // the image, as a 28x28 picture
    setSize(canvas, 112, 112);
    const img = imageData(ctx, 28, 28);
    for (let i = 0; i < 784; ++i) {
      const g = Math.round(255 * (1 - values[i]));
      img.data[4 * i] = img.data[4 * i + 1] = img.data[4 * i + 2] = g;
      img.data[4 * i + 3] = 255;
    }
    drawScaled(ctx, img, 4, 4);
    return (x, y) => Math.floor(y / 4) * 28 + Math.floor(x / 4);
  }
  if (node.name === 'W0') {  // W0's 128 rows as 28x28 tiles, 16 x 8, each tile its own scale
    setSize(canvas, 16 * 29, 8 * 29);
    const img = imageData(ctx, canvas.width, canvas.height);
    img.data.fill(255);
    const words = new Uint32Array(img.data.buffer);
    for (let r = 0; r < 128; ++r) {
      const ox = (r % 16) * 29, oy = Math.floor(r / 16) * 29;
      const s = maxAbs(values, r * 784, (r + 1) * 784);
      for (let y = 0; y < 28; ++y) {
        fillColours(words, (oy + y) * canvas.width + ox, values, r * 784 + y * 28, r * 784 + y * 28 + 28, s);
      }
    }
    ctx.putImageData(img, 0, 0);
    return (x, y) => {
      const tx = Math.floor(x / 29), ty = Math.floor(y / 29), px = x % 29, py = y % 29;
      if (tx >= 16 || ty >= 8 || px >= 28 || py >= 28) return -1;
      return (ty * 16 + tx) * 784 + py * 28 + px;
    };
  }
  if (values.length === 1) {  // a scalar: its number
    setSize(canvas, 120, 28);
    ctx.clearRect(0, 0, 120, 28);
    ctx.fillStyle = '#222'; ctx.font = '16px monospace';
    ctx.fillText(sg.formatNumber(values[0], 4), 4, 20);
    return () => 0;
  }
  // vectors as columns (the article's column vectors), matrices as heat maps
  const cw = cols === 1 ? 14 : Math.max(1, Math.floor(256 / cols));
  const ch = Math.max(1, Math.min(18, Math.floor(256 / rows)));
  setSize(canvas, cols * cw, rows * ch);
  const img = imageData(ctx, cols, rows);
  fillColours(new Uint32Array(img.data.buffer), 0, values, 0, rows * cols, maxAbs(values));
  drawScaled(ctx, img, cw, ch);
  return (x, y) => {
    const r = Math.floor(y / ch), c = Math.floor(x / cw);
    return r < rows && c < cols ? r * cols + c : -1;
  };
}
function drawScaled(ctx, img, kx, ky) {
  const c = ctx.canvas;
  if (!c.tmp_ || c.tmp_.width !== img.width || c.tmp_.height !== img.height) c.tmp_ = new OffscreenCanvas(img.width, img.height);
  const tmp = c.tmp_;
  tmp.getContext('2d').putImageData(img, 0, 0);
  ctx.imageSmoothingEnabled = false;
  ctx.drawImage(tmp, 0, 0, img.width * kx, img.height * ky);
}
function indexText(node, i) {
  return node.shape.length === 2 ? `(${Math.floor(i / node.shape[1])}, ${i % node.shape[1]})`
    : node.shape.length === 1 ? `(${i},)` : '()';
}

// ---- the tape ----
function buildSteps() {
  steps = explanation.nodes.map((n) => ({ node: n, phase: 'forward' }));
  for (let i = explanation.nodes.length - 1; i >= 0; --i) {
    const n = explanation.nodes[i];
    if (n.hasGrad) steps.push({ node: n, phase: 'backward' });
  }
}
// The tape's cards are made once (the network's nodes do not change) and then updated: a view is
// repainted only when its array changed (W0-W2's values stay the same arrays until the weights
// change), and a value or gradient not shown is not even copied from the engine.
let cards = null;
function makeCards() {
  const tape = $('tape');
  tape.textContent = '';
  cards = explanation.nodes.map((n) => {
    const card = document.createElement('div');
    card.className = 'node';
    card.dataset.name = n.name;
    const title = document.createElement('div');
    title.className = 'title';
    title.textContent = `${n.index}  ${n.label}  (${n.shape.join(', ')}${n.shape.length === 1 ? ',' : ''})`;
    const row = document.createElement('div');
    row.className = 'views';
    const value = view(n, 'value'), grad = view(n, 'grad');
    row.append(value.fig, grad.fig);
    card.append(title, row);
    card.addEventListener('click', () => {
      const phase = steps[state.step].phase;
      const s = steps.findIndex((st) => st.node.index === n.index && st.phase === phase);
      if (s >= 0) go(s);
    });
    tape.append(card);
    return { card, value, grad };
  });
  cards.names = explanation.nodes.map((n) => n.name).join();
}
function renderTape() {
  if (!cards || cards.names !== explanation.nodes.map((n) => n.name).join()) makeCards();
  const cur = steps[state.step];
  const fwdUpTo = cur.phase === 'forward' ? cur.node.index : Infinity;
  const backDone = new Set();
  if (cur.phase === 'backward') {
    for (let s = explanation.nodes.length; s <= state.step; ++s) backDone.add(steps[s].node.index);
  }
  for (const n of explanation.nodes) {
    const c = cards[n.index];
    const known = n.index <= fwdUpTo;
    c.card.classList.toggle('current', n.index === cur.node.index);
    c.card.classList.toggle('pending', !known);
    show(c.value, n, known ? () => n.value : null);
    show(c.grad, n, known && n.hasGrad && backDone.has(n.index) ? () => n.grad : null);
  }
}
// A view off the screen is not repainted (nor its array copied) until it scrolls into sight.
const onScreen = new IntersectionObserver((entries) => {
  for (const e of entries) {
    const v = e.target.view_;
    v.visible = e.isIntersecting;
    if (v.visible && v.get) show(v, v.node, v.get);
  }
}, { rootMargin: '100px' });
function show(v, node, get) {
  v.fig.hidden = !get;
  v.node = node;
  v.get = get;
  if (!get || !v.visible) return;
  const values = get();
  // W0-W2's values are the same array until the weights change: already drawn. (Every other
  // array is refilled by each explanation, reuse: true.)
  if (v.values === values && node.op === 'param' && v.kind === 'value') return;
  v.values = values;
  v.at = paint(v.canvas, node, values, v.kind);
}
function view(node, kind) {
  const fig = document.createElement('figure');
  const canvas = document.createElement('canvas');
  const cap = document.createElement('figcaption');
  cap.textContent = kind === 'grad' ? `grad ${node.name}` : node.name;
  fig.append(canvas, cap);
  // visible: assumed until the observer's first report (so that the first render paints all)
  const v = { fig, canvas, kind, values: null, node, at: () => -1, visible: true, get: null };
  fig.view_ = v;
  onScreen.observe(fig);
  canvas.addEventListener('mousemove', (ev) => {
    const r = canvas.getBoundingClientRect();
    const i = v.at(Math.floor((ev.clientX - r.left) * canvas.width / r.width),
      Math.floor((ev.clientY - r.top) * canvas.height / r.height));
    const tip = $('tooltip');
    if (!v.values || i < 0 || i >= v.values.length) { tip.hidden = true; return; }
    // the engine's printing of one element, as the CLI prints it
    tip.textContent = `${kind === 'grad' ? 'grad ' : ''}${node.name}${indexText(node, i)} = ${sg.formatNumber(v.values[i], 4)}`;
    tip.style.left = `${ev.pageX + 12}px`;
    tip.style.top = `${ev.pageY + 12}px`;
    tip.hidden = false;
  });
  canvas.addEventListener('mouseleave', () => { $('tooltip').hidden = true; });
  return v;
}

// ---- the current node's rule and the three-way check ----
// The rule that fills node n's gradient is its consumer's (the op that used n), in the engine's
// words (OpDef::rule, Tape::rule), and the same rule with its numbers (explain_backward).
function consumerRule(n) {
  for (const m of explanation.nodes) {
    const k = m.inputs.indexOf(n.index);
    if (k < 0 || !m.hasGrad || !m.rules[k]) continue;
    const line = explanation.backwardText(m.index).split('\n').find((l) => l.startsWith(m.rules[k]));
    return { rule: m.rules[k], numbers: line ?? '' };
  }
  return { rule: n.name === 'C' ? 'grad C = 1   (the sweep starts here: dC/dC = 1)' : '', numbers: '' };
}
function renderRule() {
  const { node: n, phase } = steps[state.step];
  const el = $('rule');
  const head = phase === 'forward'
    ? `<h2>forward ${kEquation[n.name] ? 'eq. ' + kEquation[n.name] : ''}</h2><p class="formula">${n.label}</p>`
    : '<h2>backward</h2><p class="formula"></p><pre class="numbers"></pre>';
  const text = phase === 'forward' ? explanation.show(n.name) : explanation.show('grad ' + n.name);
  el.innerHTML = head;
  if (phase === 'backward') {
    const r = consumerRule(n);
    el.querySelector('.formula').textContent = r.rule;
    el.querySelector('.numbers').textContent = r.numbers;
  }
  const pre = document.createElement('pre');
  pre.textContent = text;
  el.append(pre);
}
function relErr(a, b) { const d = Math.max(Math.abs(a), Math.abs(b)); return d > 0 ? Math.abs(a - b) / d : 0; }
function checkIndices(g) {
  const top = [];  // the four largest |g|, in one pass (W0's gradient has 100,352 elements)
  for (let i = 0; i < g.length; ++i) {
    if (top.length < 4 || Math.abs(g[i]) > Math.abs(g[top[3]])) {
      top.push(i);
      top.sort((a, b) => Math.abs(g[b]) - Math.abs(g[a]));
      if (top.length > 4) top.pop();
    }
  }
  const picked = new Set(top);
  // and two more spread over the tensor (the first ones not already picked)
  for (let k = 1; k < g.length && picked.size < Math.min(6, g.length); ++k) picked.add(Math.floor((k * g.length) / 3) % g.length);
  for (let i = 0; i < g.length && picked.size < Math.min(6, g.length); ++i) picked.add(i);
  return [...picked];
}
function renderCheck() {
  const el = $('check');
  const { node: n, phase } = steps[state.step];
  const hand = kHand[n.name];
  if (phase !== 'backward' || !hand) {
    el.innerHTML = '<h2>three-way check</h2><p class="hint">Step backward to W0-W2 or Z1-Z3 to compare the tape\'s gradient with the hand-derived delta and finite differences.</p>';
    el.dataset.node = '';
    return;
  }
  const g = n.grad;
  const idx = checkIndices(g);
  // the engine compares all elements; only the rows of the table come to JavaScript
  const cmp = explanation.compare(`grad ${n.name}`, hand, idx);
  const worstDelta = cmp.maxRel;
  const key = `${state.seed}/${state.sample}/${state.drawn ? 'drawn' : ''}/${n.name}`;
  if (!fdCache.has(key) && !stroking) fdCache.set(key, explanation.finiteDifferences(n.name, idx));
  const fd = fdCache.get(key);  // undefined during a stroke
  let worstFd = 0;
  if (fd) idx.forEach((i, k) => { worstFd = Math.max(worstFd, relErr(g[i], fd[k])); });
  const fdText = (k) => (fd ? fd[k].toExponential(6) : '…');
  const ok = worstDelta <= 1e-12;
  el.dataset.node = n.name;
  el.dataset.deltaRel = String(worstDelta);
  el.innerHTML = `<h2>three-way check: grad ${n.name} vs ${hand} (${state.recipe})</h2>
    <table><thead><tr><th>element</th><th>tape</th><th>${hand}</th><th>finite diff.</th></tr></thead><tbody>${
  idx.map((i, k) => `<tr><td>${indexText(n, i)}</td><td>${g[i].toExponential(6)}</td>
      <td class="${relErr(g[i], cmp.hand[k]) > 1e-12 ? 'bad' : ''}">${cmp.hand[k].toExponential(6)}</td><td>${fdText(k)}</td></tr>`).join('')
}</tbody></table>
    <p>max rel. error, tape vs ${hand} over all ${g.length} elements: <b class="${ok ? 'good' : 'bad'}" id="delta-rel">${worstDelta.toExponential(2)}</b>
    ${ok ? '(agree)' : '<b class="bad">DISAGREE: erratum E1, eq. (9) multiplies by softmax\'s "derivative" of Z2</b>'}<br>
    ${fd ? `max rel. error, tape vs finite differences over these ${idx.length}: <b class="${worstFd <= 1e-7 ? 'good' : 'bad'}">${worstFd.toExponential(2)}</b>`
    : 'finite differences: when the stroke ends'}</p>`;
}
function renderInfo() {
  const { node: n, phase } = steps[state.step];
  const info = $('stepinfo');
  info.textContent = `step ${state.step + 1}/${steps.length}: ${phase} ${n.name}`;
  info.dataset.node = n.name;
  info.dataset.phase = phase;
  const o3 = explanation.node('O3').value;
  let best = 0;
  for (let i = 1; i < 10; ++i) if (o3[i] > o3[best]) best = i;
  $('status').textContent = `${state.drawn ? 'your drawing' : `sample ${state.sample} (MNIST image ${explanation.request.index ?? '?'})`}, label ${explanation.request.label}; the network says ${best} (O3 = ${o3[best].toFixed(3)}); C = ${explanation.node('C').value[0].toFixed(6)}`;
}
function render() {
  renderTape();
  renderRule();
  renderCheck();
  renderInfo();
  writeHash();
}

// ---- state ----
function explain() {
  const t0 = performance.now();
  if (state.drawn) {
    explanation = sg.explain({ seed: state.seed, pixels: state.drawn, label: state.drawnLabel, recipe: state.recipe, reuse: true });
  } else {
    explanation = sg.explain({ seed: state.seed, sample: state.sample, recipe: state.recipe, reuse: true });
    explanation.request.index = sg.sample(state.sample).index;
  }
  explanation.ms = performance.now() - t0;
  fdCache.clear();
  buildSteps();
  state.step = Math.min(state.step, steps.length - 1);
}
function go(step) {
  state.step = Math.max(0, Math.min(steps.length - 1, step));
  render();
}
function writeHash() {
  if (graphView) state.graphEdits = graphView.editsText();
  const g = `&graph=${state.graph}${state.graphEdits ? `&edit=${state.graphEdits}` : ''}`;
  const h = `#seed=${state.seed}&sample=${state.sample}&recipe=${state.recipe}&step=${state.step}${g}`;
  if (location.hash !== h) history.replaceState(null, '', h);
}
function readHash() {
  const p = new URLSearchParams(location.hash.slice(1));
  const int = (k, d, max) => {
    const v = Number(p.get(k));
    return p.has(k) && Number.isInteger(v) && v >= 0 && v <= max ? v : d;
  };
  state.seed = int('seed', 42, 4294967295);
  state.sample = int('sample', 0, sg.trainSize - 1);
  state.recipe = p.get('recipe') === 'article' ? 'article' : 'fixed';
  state.step = int('step', 0, 1000);
  state.graph = p.get('graph') === 'xor' ? 'xor' : 'neuron';
  state.graphEdits = p.get('edit') ?? '';
  $('graph-kind').value = state.graph;
  $('seed').value = state.seed;
  $('sample').value = state.sample;
  $('recipe').value = state.recipe;
}
function togglePlay() {
  if (playing) { clearInterval(playing); playing = null; $('play').textContent = '▶ play'; return; }
  if (state.step >= steps.length - 1) go(0);
  $('play').textContent = '⏸ pause';
  playing = setInterval(() => {
    if (state.step >= steps.length - 1) { togglePlay(); return; }
    go(state.step + 1);
  }, 600);
}

// ---- training ----
const training = { trainer: null, running: false, points: [], rate: 0 };
function newTrainer() {
  training.trainer?.dispose();
  training.trainer = sg.trainer({ seed: state.seed, recipe: state.recipe, lr: Number($('lr').value) || 0.01 });
  training.points = [{ steps: 0, accuracy: training.trainer.evaluate().accuracy }];
  renderTraining();
}
function trainSome(n) {
  const t0 = performance.now();
  training.trainer.step(n);
  training.rate = n / ((performance.now() - t0) / 1000);
  const evalEvery = 500;
  const last = training.points[training.points.length - 1].steps;
  if (training.trainer.steps - last >= evalEvery) {
    training.points.push({ steps: training.trainer.steps, accuracy: training.trainer.evaluate().accuracy });
  }
}
function trainLoop() {
  if (!training.running) return;
  const t0 = performance.now();
  while (performance.now() - t0 < 40) trainSome(100);
  renderTraining();
  requestAnimationFrame(trainLoop);
}
function renderTraining() {
  const t = training.trainer;
  const acc = training.points[training.points.length - 1].accuracy;
  $('train-info').textContent = `${t.steps} steps (${(t.steps / sg.trainSize).toFixed(1)} passes), test accuracy ${(100 * acc).toFixed(1)}% on ${sg.testSize}${training.running ? `, ${Math.round(training.rate)} samples/s` : ''}`;
  $('train-info').dataset.accuracy = String(acc);
  const c = $('curve'), ctx = c.getContext('2d');
  ctx.fillStyle = '#fff'; ctx.fillRect(0, 0, c.width, c.height);
  const pad = 30, W = c.width - pad - 8, H = c.height - pad - 8;
  ctx.strokeStyle = '#ccc'; ctx.fillStyle = '#555'; ctx.font = '11px sans-serif';
  for (const a of [0, 0.25, 0.5, 0.75, 1]) {
    const y = 8 + H * (1 - a);
    ctx.beginPath(); ctx.moveTo(pad, y); ctx.lineTo(pad + W, y); ctx.stroke();
    ctx.fillText(`${a * 100}%`, 2, y + 4);
  }
  const maxSteps = Math.max(2000, training.points[training.points.length - 1].steps);
  ctx.fillText(`${maxSteps} steps`, pad + W - 60, c.height - 6);
  ctx.fillText('test accuracy', pad + 4, 20);
  ctx.strokeStyle = '#c33'; ctx.lineWidth = 2; ctx.beginPath();
  training.points.forEach((p, k) => {
    const x = pad + (W * p.steps) / maxSteps, y = 8 + H * (1 - p.accuracy);
    if (k === 0) ctx.moveTo(x, y); else ctx.lineTo(x, y);
  });
  ctx.stroke(); ctx.lineWidth = 1;
  paint($('tiles'), { name: 'W0', shape: [128, 784] }, t.weights()[0], 'value');
}

// ---- wiring ----
function onInputsChanged() {
  // The engine's seed is a uint32: embind would silently wrap a larger one.
  const seed = Math.max(0, Math.floor(Number($('seed').value) || 0));
  $('seed').classList.toggle('bad', seed > 4294967295);
  if (seed > 4294967295) {
    $('status').textContent = `error: the seed is at most 4294967295, not ${$('seed').value}`;
    return;
  }
  state.seed = seed;
  state.sample = Math.max(0, Math.min(sg.trainSize - 1, Math.floor(Number($('sample').value) || 0)));
  state.recipe = $('recipe').value;
  state.drawn = null;
  explain();
  render();
}
async function main() {
  const t0 = performance.now();
  sg = await StepGrad.load();
  readHash();
  explain();
  render();
  for (const id of ['seed', 'sample']) $(id).addEventListener('change', onInputsChanged);
  $('recipe').addEventListener('change', () => {
    state.recipe = $('recipe').value;
    explain();
    render();
  });
  $('home').addEventListener('click', () => go(0));
  $('end').addEventListener('click', () => go(steps.length - 1));
  $('prev').addEventListener('click', () => go(state.step - 1));
  $('next').addEventListener('click', () => go(state.step + 1));
  $('play').addEventListener('click', togglePlay);
  document.addEventListener('keydown', (ev) => {
    if (ev.target instanceof HTMLInputElement || ev.target instanceof HTMLSelectElement) return;
    const keys = { ArrowRight: () => go(state.step + 1), ArrowLeft: () => go(state.step - 1),
      Home: () => go(0), End: () => go(steps.length - 1), ' ': togglePlay };
    if (keys[ev.key]) { ev.preventDefault(); keys[ev.key](); }
  });
  let pad = null;
  const showKind = (kind, edits) => {
    graphView.show(kind, edits);
    $('graph-step').hidden = kind !== 'xor';  // the SGD step is 13_your_network's, on C
  };
  const showGraph = () => {
    const edits = GraphView.parseEdits(state.graphEdits);
    if (graphView.kind !== state.graph || graphView.editsText() !== GraphView.parseEditsText(edits)) {
      showKind(state.graph, edits);
    }
  };
  graphView = new GraphView(sg, $('graph'), () => writeHash());
  showGraph();
  $('graph-kind').addEventListener('change', () => {
    state.graph = $('graph-kind').value;
    showKind(state.graph);
    writeHash();
  });
  $('graph-reset').addEventListener('click', () => { showKind(state.graph); writeHash(); });
  $('graph-step').addEventListener('click', () => graphView.step(0.5));
  window.addEventListener('hashchange', () => { readHash(); showGraph(); state.drawn = null; pad?.clear(); explain(); render(); });

  for (let d = 0; d < 10; ++d) $('draw-label').append(new Option(String(d), String(d)));
  pad = new DrawPad($('draw'), (pixels) => {
    const t = performance.now();
    state.drawn = pixels;
    state.drawnLabel = Number($('draw-label').value);
    stroking = pad.down;
    explain();
    render();
    if (stroking) strokeMs.push(performance.now() - t);
  }, () => {  // the stroke ended: the finite differences too
    stroking = false;
    if (state.drawn) render();
  });
  $('draw-label').addEventListener('change', () => { if (state.drawn) pad.changed(); });
  $('draw-clear').addEventListener('click', () => { pad.clear(); state.drawn = null; explain(); render(); });
  $('draw-sample').addEventListener('click', () => {
    const s = sg.sample(state.sample);
    $('draw-label').value = String(s.label);
    pad.set(s.pixels);
  });

  newTrainer();
  $('train-play').addEventListener('click', () => {
    training.running = !training.running;
    $('train-play').textContent = training.running ? '⏸ pause' : '▶ train';
    if (training.running) requestAnimationFrame(trainLoop);
  });
  $('train-step').addEventListener('click', () => { trainSome(100); renderTraining(); });
  $('train-reset').addEventListener('click', () => newTrainer());
  $('lr').addEventListener('change', () => { training.trainer.lr = Number($('lr').value) || 0.01; });

  const ready = performance.now() - t0;
  document.body.dataset.ready = '1';
  window.explorer = {
    sg, state, training, readyMs: ready,
    get graph() { return graphView; },
    get steps() { return steps; },
    get explanation() { return explanation; },
    /** The page update (engine, copies, redraw) of each frame of the strokes drawn so far, ms. */
    strokeMs,
    /** Runs the engine again and redraws the page; returns the milliseconds it took. */
    update() { const t = performance.now(); explain(); render(); return performance.now() - t; },
  };
}
main().catch((e) => {
  $('status').textContent = `error: ${e.message}`;
  console.error(e);
});
