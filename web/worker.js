// The explorer's training (docs/explorer.md, "Train"; docs/architecture.md): a Web Worker with an
// engine of its own, the same stepgrad_wasm.wasm as the page's, running web/stepgrad.js's Trainer
// (10_train's per-sample SGD step, bit for bit). The page keeps drawing while it trains: the
// worker sends its weights to the page's model after each slice of training, and the page gives
// the buffers back once it has taken them. At most one set of weights is on its way, so a busy
// page never makes a queue of them, and the buffers move (transfer), never copied per message.
// R51 and R52 in docs/reliability.md: the page never waits for training; its model holds the
// worker's weights bit for bit.
//
// Messages from the page (one at a time, in order): {type: 'init', data} (the MNIST subset's
// bytes); {type: 'reset', gen, seed, recipe, lr} (a new run from the initial weights; gen names it,
// and every message back carries it); {type: 'set', recipe, lr}; {type: 'run', running};
// {type: 'step', n} (n more steps); {type: 'ack', weights} (the buffers back); {type: 'sync', id}.
// Messages to the page: {type: 'update', gen, seed, recipe, lr, steps, running, loops, synced
// (the last sync id answered), points (or null when unchanged), weights: [W0, W1, W2]};
// {type: 'error', message}.
import { StepGrad, fetchBytes } from './stepgrad.js';

const kEvalEvery = 500; // the accuracy curve's points are at multiples of 500 steps
const kEvalAllUpTo = 5000; // every one of them up to 5,000 steps: the curve's steep start
// After that, while running, one evaluation per second at most: one is a forward pass over the
// 1,000 test images, ~16 ms (Node, 2026-12-07), so under 2% of the running time.
const kEvalGapMs = 1000;
const kSliceMs = 12; // the running loop reads its messages and sends weights this often
// Steps per call into the engine: about 13 ms of them, one slice. The engine keeps W0 column by
// column between calls (Note [The explorer's W0 stays column-major] in web/bindings.cpp), so a
// call costs nothing beyond its steps: 50, 500 and 5,000 steps per call train equally fast.
const kStepsPerCall = 500;

let sg = null;
let run = null; // the Trainer: the run the page shows
let gen = 0;
let points = []; // [{steps, accuracy}]
let pointsChanged = false;
let running = false;
let pending = 0; // the loop's turns waiting to run: never more than 1, whatever the page sends
let lastEval = 0;
let spare = null; // the buffers the page gave back
let owed = false; // the page holds the last weights sent and has not given them back
let changed = false; // something the page has not seen yet
let synced = 0;

// A zero-delay turn of the event loop (setTimeout waits at least 4 ms once nested).
const channel = new MessageChannel();
channel.port1.onmessage = () => {
  --pending;
  loop();
};
/** The loop's next turn, unless one is waiting already: one loop however often ▶ train is clicked. */
function schedule() {
  if (pending) return;
  ++pending;
  channel.port2.postMessage(null);
}
/** The training loops running, as the page's tests read them: 0 or 1. */
const loops = () => (running ? pending : 0);

function evaluateNow() {
  if (points.at(-1)?.steps === run.steps) return;
  points.push({ steps: run.steps, accuracy: run.evaluate().accuracy });
  pointsChanged = true;
  lastEval = performance.now();
}
/** n steps, evaluating at the multiples of 500 that are due (manual: every one). */
function trainSteps(n, manual) {
  while (n > 0) {
    const k = Math.min(n, kStepsPerCall, kEvalEvery - (run.steps % kEvalEvery));
    run.step(k);
    n -= k;
    changed = true;
    const due = manual || run.steps <= kEvalAllUpTo || performance.now() - lastEval >= kEvalGapMs;
    if (run.steps % kEvalEvery === 0 && due) evaluateNow();
  }
}
/** Sends what changed, unless the page still holds the last weights (then at its ack). */
function send() {
  if (owed || !changed || !run) return;
  const weights = run.weightsInto(spare ?? undefined);
  spare = null;
  owed = true;
  changed = false;
  const { seed, recipe, lr, steps } = run;
  const message = { type: 'update', gen, seed, recipe, lr, steps, running, loops: loops(), synced, weights };
  message.points = pointsChanged ? points : null;
  pointsChanged = false;
  postMessage(
    message,
    weights.map((w) => w.buffer),
  );
}
function loop() {
  try {
    slice();
  } catch (e) {
    fail(e);
  }
}
function fail(e) {
  running = false;
  postMessage({ type: 'error', message: e.message });
}
function slice() {
  if (!running) return;
  const t0 = performance.now();
  while (performance.now() - t0 < kSliceMs) trainSteps(kStepsPerCall, false);
  schedule();
  send();
}

const handlers = {
  reset({ seed, recipe, lr }) {
    running = false;
    run?.dispose();
    run = sg.trainer({ seed, recipe, lr });
    points = [];
    evaluateNow();
    changed = true;
  },
  set({ recipe, lr }) {
    Object.assign(run, { recipe, lr });
    changed = true;
  },
  run(m) {
    running = m.running;
    if (running) schedule();
    else evaluateNow(); // paused: the accuracy of the weights the page shows
    changed = true;
  },
  step({ n }) {
    trainSteps(n, true);
  },
  ack({ weights }) {
    spare = weights;
    owed = false;
  },
  sync({ id }) {
    synced = id;
    changed = true;
  },
};

let ready = null;
onmessage = async ({ data: m }) => {
  try {
    if (m.type === 'init') {
      ready = (async () => {
        const wasmBinary = await fetchBytes(new URL('stepgrad_wasm.wasm', import.meta.url));
        sg = await StepGrad.load({ data: m.data, wasmBinary });
      })();
      await ready;
      return;
    }
    await ready; // in order: each message waits for the same promise
    if (m.type === 'reset') gen = m.gen;
    handlers[m.type](m);
    send();
  } catch (e) {
    fail(e);
  }
};
