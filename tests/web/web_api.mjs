// Drives the explorer's JS API (web/stepgrad.js) under Node for tests/web/check_web.py and prints
// what it computed as one JSON object; arrays are base64 of their little-endian float64 bytes.
//   node --no-experimental-fetch web_api.mjs BUILD_WEB golden
//   node --no-experimental-fetch web_api.mjs BUILD_WEB explain SEED SAMPLE RECIPE
//   node --no-experimental-fetch web_api.mjs BUILD_WEB train SEED RECIPE LR STEPS
//   node --no-experimental-fetch web_api.mjs BUILD_WEB errors
// (Emscripten 3.1.6's glue fetches the .wasm with fetch under Node >= 18, which fails on a file
// path: --no-experimental-fetch, or the wasmBinary passed below.)
// Exit 1 with the engine's message on any error.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';

const [build, command, ...args] = process.argv.slice(2);
if (!build || !command) {
  console.error('usage: web_api.mjs BUILD_WEB golden|explain|train|errors ...');
  process.exit(2);
}
// The glue of an ES module built for web and node still reads CommonJS's __dirname and require.
globalThis.__dirname = build;
globalThis.require = createRequire(import.meta.url);
const { StepGrad } = await import(pathToFileURL(path.join(build, 'stepgrad.js')).href);
const sg = await StepGrad.load({
  wasmBinary: readFileSync(path.join(build, 'stepgrad_wasm.wasm')),
  data: new Uint8Array(readFileSync(path.join(build, 'mnist-subset.bin'))),
});
const b64 = (a) => Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString('base64');

const out = {};
if (command === 'golden') {
  // Seed 42, sample 0: the engine's own printing of what 05-09 print.
  for (const recipe of ['fixed', 'article']) {
    const e = sg.explain({ seed: 42, sample: 0, recipe });
    const r = (out[recipe] = { show: {}, summary: {}, gradSummary: {} });
    for (const k of ['Z1', 'O1', 'Z2', 'O2', 'Z3', 'O3', 'delta3', 'delta2', 'delta1', 'Delta2', 'Delta1', 'Delta0'])
      r.show[k] = e.show(k);
    for (const n of e.nodes) {
      r.summary[n.name] = e.summary(n.name);
      if (n.grad) r.gradSummary[n.name] = e.summary('grad ' + n.name);
    }
    // 09_gradcheck's "largest checked element": W0 (20, 426), W1 (15, 1), W2 (0, 49)
    const at = { W0: [20, 426, 784], W1: [15, 1, 128], W2: [0, 49, 64] };
    r.elements = {};
    for (const [w, [i, j, cols]] of Object.entries(at)) {
      const flat = i * cols + j;
      r.elements[w] = {
        tape: e.node(w).grad[flat],
        delta: e.deltas['Delta' + w[1]][flat],
        fd: e.finiteDifferences(w, [flat])[0],
      };
    }
    r.C = e.node('C').value[0];
  }
} else if (command === 'explain') {
  const [seed, sample, recipe] = [Number(args[0]), Number(args[1]), args[2]];
  const e = sg.explain({ seed, sample, recipe });
  out.nodes = e.nodes.map((n) => ({
    name: n.name,
    op: n.op,
    label: n.label,
    shape: n.shape,
    inputs: n.inputs,
    value: b64(n.value),
    grad: n.grad ? b64(n.grad) : null,
  }));
  out.deltas = Object.fromEntries(Object.entries(e.deltas).map(([k, v]) => [k, b64(v)]));
  // finite differences of a few elements of each weight and each Z
  out.fd = {};
  for (const t of ['W0', 'W1', 'W2', 'Z1', 'Z2', 'Z3']) {
    const size = e.node(t).value.length;
    const idx = [0, 1, 2, 3, 4].map((k) => Math.floor((k * 7919 + 3) % size));
    out.fd[t] = { indices: idx, values: b64(e.finiteDifferences(t, idx)) };
  }
} else if (command === 'train') {
  const [seed, recipe, lr, steps] = [Number(args[0]), args[1], Number(args[2]), Number(args[3])];
  const w = sg.train({ seed, recipe, lr, steps });
  out.weights = w.map(b64);
  // the same steps handed over halfway, as the page's worker hands its weights to the page's
  // model: weightsInto() into arrays of ours, setWeights() into a fresh run, which trains on
  const first = sg.trainer({ seed, recipe, lr });
  const second = sg.trainer({ seed: seed + 1, recipe, lr }); // other initial weights, overwritten
  const arrays = first.weights().map((a) => new Float64Array(a.length));
  first.step(Math.floor(steps / 2)); // W0 column by column from here (web/bindings.cpp)
  second.setWeights(first.weightsInto(arrays), first.steps);
  second.step(steps - second.steps);
  out.handedOver = second.weights().map(b64);
  // the run that handed over trains on, as the worker does after each send and evaluation
  first.evaluate();
  first.step(steps - first.steps);
  out.trainedOn = first.weights().map(b64);
  out.sigmoidVectorised = sg.module.sigmoidVectorised();
  first.dispose();
  second.dispose();
} else if (command === 'errors') {
  // Bad input gives the engine's message, and the engine's memory does not grow when the same
  // failing call repeats (the explorer it made is deleted; memory grows only when it leaks).
  const message = (f) => {
    try {
      f();
      return null;
    } catch (e) {
      return e.message;
    }
  };
  const heapGrowth = (f) => {
    f(); // the first call may grow the heap for good
    const before = sg.module.HEAP8.length;
    for (let k = 0; k < 100; ++k) f();
    return sg.module.HEAP8.length - before;
  };
  // a header that says n_train = 5443610: n * 789 bytes wraps a 32-bit size_t to 40994
  const corrupt = new Uint8Array(16 + 41000);
  corrupt.set([0x53, 0x47, 0x4d, 0x4e, 1, 0, 0, 0]);
  new DataView(corrupt.buffer).setUint32(8, 5443610, true);
  const badData = () => new StepGrad(sg.module, corrupt);
  out.badData = message(badData);
  out.badDataHeapGrowth = heapGrowth(() => message(badData));
  const t = sg.trainer();
  out.badWeights = message(() => t.setWeights([new Float64Array(3)]));
  out.badWeightsArray = message(() => t.setWeights([Array.from(t.weights()[0])]));
  t.dispose();
  const badRecipe = () => sg.train({ recipe: 'bogus', steps: 1 });
  out.badRecipe = message(badRecipe);
  out.badRecipeHeapGrowth = heapGrowth(() => message(badRecipe));
  // Note [An error keeps the engine's stack] (web/stepgrad.js): 1,000 of each kind of failing
  // call (a method, a constructor, a run of training) leave the engine's stack pointer where it was;
  // each kept 32 bytes of the stack before
  const g = sg.smallGraph('xor');
  const failing = {
    method: () => g.leaf('nope'),
    constructor: () => sg.smallGraph('nope'),
    trainer: () => sg.train({ recipe: 'bogus', steps: 1 }),
  };
  out.stackKept = {};
  for (const [kind, f] of Object.entries(failing)) {
    const before = sg.module.stackSave();
    let errors = 0;
    for (let k = 0; k < 1000; ++k) errors += message(f) === null ? 0 : 1;
    out.stackKept[kind] = { errors, moved: before - sg.module.stackSave() };
  }
  g.dispose();
} else {
  console.error(`web_api.mjs: unknown command '${command}'`);
  process.exit(2);
}
process.stdout.write(JSON.stringify(out));
