// The explorer's JavaScript API (docs/explorer.md): stepgrad's C++ engine, compiled to
// WebAssembly (web/bindings.cpp), behind a few plain functions that the page and the tests both
// call. Every number comes from the engine; this file only moves arrays and names.
import createStepgrad from './stepgrad_wasm.js';

/**
 * The tape's nodes in recording order and the hand-derived deltas of one sample. The arrays are
 * copied from the engine when first read (a node's value and grad, each delta), so that an
 * update of the page copies only what it draws; reading them after the engine explained another
 * sample or trained throws. With `reuse` (StepGrad.explain), a node's value and grad are copied
 * into arrays that the next reusing explanation fills again (no allocation, no garbage: what a
 * stroke on the drawing pad needs), so they hold this explanation's numbers only until then.
 */
export class Explanation {
  constructor(engine, explorer, request, reuse = false) {
    this.request = request; // {seed, recipe, label, sample?}
    this.engine_ = engine;
    this.explorer_ = explorer;
    this.id_ = explorer.explainId();
    const n = explorer.nodeCount();
    const weights = explorer.weightsVersion();
    const cache = (engine.paramValues_ ??= new WeakMap());
    // The nodes' names, ops, labels and shapes: the same network records the same tape each time.
    const metas = (engine.nodeMeta_ ??= new WeakMap());
    let meta = metas.get(explorer);
    if (meta?.length !== n) metas.set(explorer, (meta = Array.from({ length: n }, (_, i) => explorer.node(i, false))));
    const buffers = reuse ? (engine.buffers_ ??= new Map()) : null;
    const copy = (i, grad) => {
      if (!buffers) return this.read_(() => (grad ? explorer.nodeGrad(i) : explorer.nodeValue(i)));
      const view = this.read_(() => explorer.nodeView(i, grad));
      if (view === null) return null;
      const key = `${i}/${grad}`;
      let b = buffers.get(key);
      if (b?.length !== view.length) buffers.set(key, (b = new Float64Array(view.length)));
      b.set(view);
      return b;
    };
    this.nodes = [];
    for (let i = 0; i < n; ++i) {
      const node = { ...meta[i] };
      let value, grad;
      Object.defineProperty(node, 'value', {
        enumerable: true,
        get: () => {
          if (value) return value;
          if (node.op === 'param') {
            // W0-W2 change only when the weights do
            const c = cache.get(explorer);
            if (c?.version === weights && c.values[node.name]) return (value = c.values[node.name]);
          }
          value = node.op === 'param' ? this.read_(() => explorer.nodeValue(i)) : copy(i, false);
          if (node.op === 'param') {
            let c = cache.get(explorer);
            if (c?.version !== weights) cache.set(explorer, (c = { version: weights, values: {} }));
            c.values[node.name] = value;
          }
          return value;
        },
      });
      Object.defineProperty(node, 'grad', {
        enumerable: true,
        get: () => (node.hasGrad ? (grad ??= copy(i, true)) : null),
      });
      this.nodes.push(node);
    }
    const deltas = {};
    for (const k of ['delta3', 'delta2', 'delta1', 'Delta2', 'Delta1', 'Delta0']) {
      let d;
      Object.defineProperty(deltas, k, { enumerable: true, get: () => (d ??= this.read_(() => explorer.delta(k))) });
    }
    this.deltas = deltas;
  }
  read_(f) {
    if (this.explorer_.explainId() !== this.id_)
      throw new Error('this explanation is stale: the engine has explained another sample since');
    return f();
  }
  /** The node named `name` ("Z1"), or undefined. */
  node(name) {
    return this.nodes.find((n) => n.name === name);
  }
  /**
   * The engine's printing of a tensor, as the tutorials print it: key is a node's name ("Z1"),
   * "grad " + a node's name, or a delta's name ("delta2", "Delta0").
   */
  show(key, precision = 4) {
    return this.read_(() => this.explorer_.showText(key, precision));
  }
  /**
   * {maxRel, tape, hand}: the largest relative difference |a - b| / max(|a|, |b|) of two tensors
   * over all their elements (keys as show(): "grad W0", "Delta0"), and both at `indices`.
   */
  compare(keyA, keyB, indices) {
    return this.read_(() => this.explorer_.compare(keyA, keyB, Array.from(indices)));
  }
  /**
   * Node i's backward rule for each input with its numbers, one line each, as --trace prints
   * them: "grad Z2 += grad O2 ⊙ O2 (1 - O2) = numbers = contribution".
   */
  backwardText(i, precision = 4) {
    return this.read_(() => this.explorer_.backwardText(i, precision));
  }
  /** "(128,) min ... max ... mean ... norm ...", as 08_tape prints a value. */
  summary(key) {
    return this.read_(() => this.explorer_.summaryText(key));
  }
  /**
   * dC/d target at the given flat indices by five-point finite differences (h = 1e-3);
   * target is W0, W1, W2, Z1, Z2 or Z3. Valid until the engine explains or trains again.
   */
  finiteDifferences(target, indices) {
    return this.read_(() => this.explorer_.finiteDifferences(target, Array.from(indices)));
  }
  /**
   * "Your turn": grades the expression `text` as step `step` (StepGrad.turnSteps: "delta3" ...
   * "Delta0", then the updates "W2", "W1", "W0") at this sample and these weights with the labs'
   * grader: {graded, passed, error, column (1-based, 0 for none), diagnosis, relTape, relFd,
   * fdElements, firstWrong, yours, tapes, report}, the diagnosis and the report in `lang`, 'en' or
   * 'zh' (the expression's mistake, `error`, is the parser's words in both).
   */
  grade(step, text, lang = 'en') {
    return this.read_(() => this.explorer_.grade(step, text, lang));
  }
  /** Step `step`'s hints: {names, shapes (theirs), shape (the step's), equation, formula, answer}. */
  turnHint(step) {
    return this.read_(() => this.explorer_.turnHint(step));
  }
}

// Note [An error keeps the engine's stack]
// The engine's errors reach JavaScript as Errors thrown from inside WebAssembly (Note [The
// engine's errors in JavaScript] in web/bindings.cpp). A JavaScript exception leaving WebAssembly
// skips the epilogues of the functions it leaves, which give back their part of the engine's own
// stack (Emscripten's __stack_pointer, 5 MiB growing down towards the static data), so each
// error kept about 32 bytes of it, and after some 160,000 errors the engine wrote over its data
// and trapped. keepStack wraps every bound function, method and constructor once: it saves the
// stack pointer before the call and puts it back when the call throws.
const kStackKept = Symbol('stepgrad: the engine restores its stack after an error');
function keepStack(module) {
  if (module[kStackKept]) return module;
  const { stackSave, stackRestore } = module;
  const kept = (f) =>
    function (...args) {
      const sp = stackSave();
      try {
        return f.apply(this, args);
      } catch (e) {
        stackRestore(sp);
        throw e;
      }
    };
  for (const name of ['Explorer', 'SmallGraph']) {
    const cls = module[name];
    const proto = cls.prototype;
    for (const key of Object.getOwnPropertyNames(proto)) {
      if (key !== 'constructor' && typeof proto[key] === 'function') proto[key] = kept(proto[key]);
    }
    module[name] = new Proxy(cls, {
      construct(target, args, newTarget) {
        const sp = stackSave();
        try {
          return Reflect.construct(target, args, newTarget);
        } catch (e) {
          stackRestore(sp);
          throw e;
        }
      },
    });
  }
  for (const name of ['formatNumber', 'argmax', 'indexText', 'layerSizes', 'turnSteps', 'sigmoidVectorised'])
    module[name] = kept(module[name]);
  module[kStackKept] = true;
  return module;
}

/** The bytes at `url`, or an Error naming it and the HTTP status. */
export async function fetchBytes(url) {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`stepgrad: cannot fetch ${url}: ${response.status}`);
  return new Uint8Array(await response.arrayBuffer());
}

/** The engine and the MNIST subset. */
export class StepGrad {
  /**
   * Loads the engine and the data. In a page: `await StepGrad.load()` fetches
   * mnist-subset.bin beside this file. In Node: pass `wasmBinary` and `data` (Uint8Arrays).
   */
  static async load({ data, dataUrl, wasmBinary } = {}) {
    const options = wasmBinary ? { wasmBinary } : {};
    const modulePromise = createStepgrad(options);
    if (!data) {
      data = await fetchBytes(dataUrl ?? new URL('mnist-subset.bin', import.meta.url));
    }
    return new StepGrad(await modulePromise, data);
  }

  constructor(module, data) {
    this.module = keepStack(module);
    /**
     * The engine's sizes: an image's rows and columns (28 x 28) and the network's layers
     * ([784, 128, 64, 10], O0 to O3).
     */
    this.sizes = Object.freeze({
      imageRows: module.imageRows,
      imageCols: module.imageCols,
      layers: Object.freeze(module.layerSizes()),
    });
    /** "Your turn"'s steps, in the article's order: delta3, delta2, delta1, Delta2-Delta0, W2-W0. */
    this.turnSteps = Object.freeze(module.turnSteps());
    this.data_ = data;
    this.explorer_ = this.newExplorer_(42);
  }

  newExplorer_(seed) {
    const explorer = new this.module.Explorer(seed);
    try {
      explorer.loadData(this.data_);
    } catch (e) {
      explorer.delete();
      throw e;
    }
    return explorer;
  }

  /** The MNIST subset's bytes (mnist-subset.bin), as loaded: what a worker's engine loads too. */
  get data() {
    return this.data_;
  }
  get trainSize() {
    return this.explorer_.trainSize();
  }
  get testSize() {
    return this.explorer_.testSize();
  }

  /** {pixels: Uint8Array(784), label, index}: sample i of the 'train' or 'test' subset. */
  sample(i, set = 'train') {
    return this.explorer_.sample(set === 'test' ? 1 : 0, i);
  }

  /**
   * One sample through the tape (forward, then backward(C)) and the hand-derived deltas of
   * `recipe` ('fixed' or 'article'), at the initial weights of `seed`. Give `sample` (an index
   * into the training subset) or `pixels` (784 bytes, 0-255, row by row) and `label`.
   */
  explain({ seed = 42, sample, pixels, label, recipe = 'fixed', reuse = false } = {}) {
    if (sample !== undefined) ({ pixels, label } = this.sample(sample));
    if (!pixels || label === undefined) throw new Error('explain: give a sample or pixels and a label');
    if (this.explorer_.seed() !== seed) this.explorer_.reset(seed);
    this.explorer_.explain(pixels, label, recipe);
    return new Explanation(this, this.explorer_, { seed, sample, label, recipe }, reuse);
  }

  /** A training run of its own: per-sample SGD over the training subset, as 10_train does. */
  trainer({ seed = 42, recipe = 'fixed', lr = 0.001 } = {}) {
    return new Trainer(this, seed, recipe, lr);
  }

  /** A small graph: 'neuron' (01_neuron) or 'xor' (13_your_network, weights of `seed`). */
  smallGraph(kind, { seed = 42 } = {}) {
    return new SmallGraph(this, kind, seed);
  }

  /** The index of the largest number of `values` (the first on ties), as the engine's argmax. */
  argmax(values) {
    return this.module.argmax(values);
  }

  /** Flat index `i` of a tensor of shape `shape` as numpy writes it: "(r, c)", "(i,)" or "()". */
  indexText(shape, i) {
    return this.module.indexText(shape, i);
  }

  /** One number as the CLI prints a tensor's element (the engine's printing, `precision` digits). */
  formatNumber(v, precision = 4) {
    return this.module.formatNumber(v, precision);
  }

  /** K per-sample SGD steps from the initial weights of `seed`; returns [W0, W1, W2]. */
  train({ seed = 42, recipe = 'fixed', lr = 0.001, steps }) {
    const t = this.trainer({ seed, recipe, lr });
    try {
      t.step(steps);
      return t.weights();
    } finally {
      t.dispose();
    }
  }
}

/** Per-sample SGD over the training subset, in its order, wrapping around. */
export class Trainer {
  constructor(engine, seed, recipe, lr) {
    this.engine_ = engine;
    this.explorer_ = engine.newExplorer_(seed);
    Object.assign(this, { seed, recipe, lr, steps: 0, cost: 0, correct: 0 });
  }
  /** n more SGD steps; returns {cost (summed article cost), correct} over these n. */
  step(n) {
    const r = this.explorer_.train(this.steps, n, this.recipe, this.lr);
    this.steps += n;
    this.cost += r.cost;
    this.correct += r.correct;
    return r;
  }
  /** {accuracy, cost} on the test subset. */
  evaluate() {
    return this.explorer_.evaluate();
  }
  /** [W0, W1, W2], Float64Arrays, row-major (out x in). */
  weights() {
    return [0, 1, 2].map((l) => this.explorer_.weight(l));
  }
  /**
   * The same numbers copied into `arrays` ([W0, W1, W2], Float64Arrays of their sizes, as
   * weights() gives them), allocating nothing; returns them. Without arrays, new ones.
   */
  weightsInto(arrays) {
    if (!arrays) return this.weights();
    arrays.forEach((a, l) => this.explorer_.weightInto(l, a));
    return arrays;
  }
  /**
   * Takes another run's weights, bit for bit ([W0, W1, W2] as weights() gives them), and its
   * count of steps: this run then explains (and trains on) from there. The page's model takes
   * its training worker's weights this way (web/worker.js).
   */
  setWeights(arrays, steps = this.steps) {
    arrays.forEach((a, l) => this.explorer_.setWeight(l, a));
    this.steps = steps;
  }
  /** A sample explained at this run's current weights (see StepGrad.explain). */
  explain({ sample, pixels, label, recipe = this.recipe, reuse = false } = {}) {
    if (sample !== undefined) ({ pixels, label } = this.engine_.sample(sample));
    if (!pixels || label === undefined) throw new Error('explain: give a sample or pixels and a label');
    this.explorer_.explain(pixels, label, recipe);
    return new Explanation(this.engine_, this.explorer_, { seed: this.seed, sample, label, recipe }, reuse);
  }
  dispose() {
    this.explorer_.delete();
  }
}

/**
 * A small network on its own tape (web/bindings.cpp's SmallGraph): 'neuron' is 01_neuron's
 * (Z = W · O0, O = sigmoid(Z), backward from O), 'xor' is 13_your_network's 2-2-1 XOR network
 * (tanh hidden layer, sigmoid output, biases, backward from its binary cross-entropy C), with
 * the weights RandomState(seed) gives there. Edit a leaf with set(), then run() again.
 */
export class SmallGraph {
  constructor(engine, kind, seed) {
    this.engine_ = engine;
    this.kind = kind;
    this.graph_ = new engine.module.SmallGraph(kind, seed);
  }
  /**
   * Records the graph, runs backward, and returns its nodes in recording order: {index, name,
   * op, label, shape, value, grad (null where no gradient flows), inputs, rule}, rule being the
   * engine's backward rule of each input with its numbers, as --trace prints it.
   */
  run(precision = 4) {
    return this.graph_.run(precision);
  }
  /** Sets element i (flat, row-major) of a leaf: O0, Y, W, W0, b0, W1, b1. */
  set(leaf, i, value) {
    this.graph_.set(leaf, i, value);
  }
  /** A leaf's current value (Float64Array). */
  leaf(name) {
    return this.graph_.leaf(name);
  }
  /** One SGD step (eq. 12) with the last run()'s gradients. */
  step(lr) {
    this.graph_.step(lr);
  }
  dispose() {
    this.graph_.delete();
  }
}
