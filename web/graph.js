// The small graphs of the explorer: 01_neuron's neuron and 13_your_network's XOR network drawn as
// their tape, micrograd's draw_dot picture alive: every scalar's value and gradient, each node's
// backward rule with its numbers, and the leaves (inputs and weights) editable. Each edit runs
// forward and backward again in the engine (web/bindings.cpp's SmallGraph); nothing is computed
// here, the numbers are printed by the engine (formatNumber) as the CLI prints them.
import { t } from './i18n.js';

const kLeaves = { input: true, param: true };

export class GraphView {
  /** host: the element to draw in; onEdit(): called after each edit (the page saves its hash). */
  constructor(sg, host, onEdit) {
    this.sg = sg;
    this.host = host;
    this.onEdit = onEdit;
    this.graph = null;
    this.kind = null;
    this.edits = new Map(); // "leaf.i" -> value, in the order they were made
    this.refused = null; // the field whose value was refused: {leaf, i, value}
    this.cells = []; // per node: [{value: el, grad: el}] per element
    this.nodes = [];
  }

  /**
   * Shows graph `kind` ('neuron' or 'xor') with `edits` ("leaf.i" -> value) applied. Returns the
   * edits the graph has no place for ({what: "Q.0:1", why: the engine's message}), which it leaves out.
   */
  show(kind, edits = new Map()) {
    this.graph?.dispose();
    this.kind = kind;
    this.graph = this.sg.smallGraph(kind, { seed: 42 });
    this.edits = new Map();
    const refused = [];
    for (const [k, v] of edits) {
      try {
        this.apply_(k, v);
      } catch (e) {
        refused.push({ what: `${k}:${v}`, why: e.message });
      }
    }
    this.nodes = this.graph.run();
    this.build_();
    this.update_();
    return refused;
  }
  apply_(key, v) {
    const [leaf, i] = key.split('.');
    this.graph.set(leaf, Number(i), v);
    this.edits.set(key, v);
  }
  leafValue_(leaf, i) {
    return this.graph.leaf(leaf)[i];
  }
  /** Sets element i of a leaf, runs forward and backward again, redraws the numbers. */
  edit(leaf, i, v) {
    this.apply_(`${leaf}.${i}`, v);
    this.rerun_();
  }
  /** One SGD step with lr (eq. 12), then forward and backward at the new weights. */
  step(lr) {
    this.graph.step(lr);
    for (const n of this.nodes) {
      if (n.op !== 'param') continue;
      const v = this.graph.leaf(n.name);
      v.forEach((x, i) => this.edits.set(`${n.name}.${i}`, x));
    }
    this.rerun_();
  }
  rerun_() {
    this.nodes = this.graph.run();
    this.update_();
    this.onEdit?.();
  }
  /** "O0.0:0.7,W.1:-0.3": the edits, for the URL hash. */
  editsText() {
    return [...this.edits].map(([k, v]) => `${k}:${v}`).join(',');
  }
  static parseEditsText(edits) {
    return [...edits].map(([k, v]) => `${k}:${v}`).join(',');
  }
  /**
   * "O0.0:0.7,W.1:-0.3" -> the edits; a part that is not LEAF.INDEX:NUMBER goes to `refused`
   * ({what, why: [key of web/i18n.js]}).
   */
  static parseEdits(text, refused = []) {
    const out = new Map();
    for (const part of (text ?? '').split(',')) {
      if (part === '') continue;
      const m = /^([A-Za-z0-9]+)\.(\d+):(.+)$/.exec(part);
      if (m && Number.isFinite(Number(m[3]))) out.set(`${m[1]}.${m[2]}`, Number(m[3]));
      else refused.push({ what: part, why: ['notAnEdit'] });
    }
    return out;
  }

  // ---- layout: a row per depth, top to bottom, leaves just above their first consumer ----
  columns_() {
    const depth = this.nodes.map(() => 0);
    for (const n of this.nodes) {
      if (n.inputs.length) depth[n.index] = 1 + Math.max(...n.inputs.map((i) => depth[i]));
    }
    for (const n of this.nodes) {
      if (n.inputs.length) continue;
      const users = this.nodes.filter((m) => m.inputs.includes(n.index)).map((m) => depth[m.index]);
      if (users.length) depth[n.index] = Math.min(...users) - 1;
    }
    const cols = [];
    this.nodes.forEach((n) => {
      (cols[depth[n.index]] ??= []).push(n);
    });
    return cols.filter(Boolean);
  }
  build_() {
    const host = this.host;
    host.textContent = '';
    const wrap = document.createElement('div');
    wrap.className = 'graph';
    const svg = document.createElementNS('http://www.w3.org/2000/svg', 'svg');
    svg.classList.add('edges');
    wrap.append(svg);
    this.boxes = [];
    this.cells = [];
    this.rules = [];
    for (const col of this.columns_()) {
      const c = document.createElement('div');
      c.className = 'gcol';
      for (const n of col) c.append(this.box_(n));
      wrap.append(c);
    }
    host.append(wrap);
    this.svg = svg;
    this.wrap = wrap;
    // the boxes wrap to the window's width (a phone's too): the edges follow them
    this.resized?.disconnect();
    this.resized = new ResizeObserver(() => this.edges_());
    this.resized.observe(wrap);
    requestAnimationFrame(() => this.edges_());
  }
  box_(n) {
    const box = document.createElement('div');
    box.className = `gnode ${kLeaves[n.op] ? 'leaf' : ''}`;
    box.dataset.name = n.name;
    const title = document.createElement('div');
    title.className = 'gtitle';
    title.textContent = n.label;
    box.append(title);
    const [rows, cols] = n.shape.length === 2 ? n.shape : [1, n.shape[0] ?? 1];
    const table = document.createElement('table');
    const cells = [];
    for (let r = 0; r < rows; ++r) {
      const tr = document.createElement('tr');
      for (let c = 0; c < cols; ++c) {
        const i = r * cols + c;
        const td = document.createElement('td');
        let value;
        if (kLeaves[n.op]) {
          value = document.createElement('input');
          value.type = 'number';
          value.step = '0.1';
          value.className = 'gval';
          value.dataset.leaf = n.name;
          value.dataset.i = String(i);
          const where = { leaf: n.name, i };
          value.title = t('leafEdit', where);
          value.addEventListener('change', () => {
            const v = Number(value.value);
            const ok = value.value.trim() !== '' && Number.isFinite(v);
            // a field left empty (or holding no number) is refused in words, and keeps its value
            value.classList.toggle('bad', !ok);
            value.title = t(ok ? 'leafEdit' : 'leafBad', where);
            this.refused = ok ? null : { ...where, value: this.leafValue_(n.name, i) };
            this.onRefused?.(ok ? '' : t('leafKeeps', this.refused));
            if (ok) this.edit(n.name, i, v);
            else value.value = String(this.leafValue_(n.name, i));
          });
        } else {
          value = document.createElement('div');
          value.className = 'gval';
        }
        const grad = document.createElement('div');
        grad.className = 'ggrad';
        td.append(value, grad);
        tr.append(td);
        cells.push({ value, grad });
      }
      table.append(tr);
    }
    box.append(table);
    const rule = document.createElement('pre');
    rule.className = 'grule';
    box.append(rule);
    this.cells[n.index] = cells;
    this.rules[n.index] = rule;
    this.boxes[n.index] = box;
    return box;
  }
  update_() {
    const f = (v) => this.sg.formatNumber(v, 4);
    for (const n of this.nodes) {
      const cells = this.cells[n.index];
      n.value.forEach((v, i) => {
        const el = cells[i].value;
        if (el instanceof HTMLInputElement) {
          if (document.activeElement !== el) el.value = f(v).trim();
        } else {
          el.textContent = f(v);
        }
        cells[i].grad.textContent = n.grad ? t('grad', { value: f(n.grad[i]) }) : t('noGrad');
        cells[i].grad.classList.toggle('none', !n.grad);
      });
      this.rules[n.index].textContent = n.rule;
      this.rules[n.index].hidden = !n.rule;
    }
  }
  /** After the language changed: the fields' titles, the gradients' words, the refusal. */
  relabel() {
    for (const input of this.host.querySelectorAll('input.gval')) {
      const where = { leaf: input.dataset.leaf, i: Number(input.dataset.i) };
      input.title = t(input.classList.contains('bad') ? 'leafBad' : 'leafEdit', where);
    }
    if (this.nodes.length) this.update_();
    if (this.refused) this.onRefused?.(t('leafKeeps', this.refused));
  }
  edges_() {
    // the picture's size without the old edges' (which would keep a wider picture wide)
    this.svg.setAttribute('width', '0');
    this.svg.setAttribute('height', '0');
    const base = this.wrap.getBoundingClientRect();
    this.svg.setAttribute('width', String(this.wrap.scrollWidth));
    this.svg.setAttribute('height', String(this.wrap.scrollHeight));
    this.svg.textContent = '';
    for (const n of this.nodes) {
      const to = this.boxes[n.index].getBoundingClientRect();
      for (const i of n.inputs) {
        const from = this.boxes[i].getBoundingClientRect();
        // top to bottom, as graphviz's rankdir=TB: from the input's bottom to the node's top
        const x1 = (from.left + from.right) / 2 - base.left,
          y1 = from.bottom - base.top;
        const x2 = (to.left + to.right) / 2 - base.left,
          y2 = to.top - base.top;
        const path = document.createElementNS('http://www.w3.org/2000/svg', 'path');
        const my = (y1 + y2) / 2;
        path.setAttribute('d', `M${x1},${y1} C${x1},${my} ${x2},${my} ${x2},${y2}`);
        this.svg.append(path);
      }
    }
  }
}
