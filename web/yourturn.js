// "Your turn" (docs/explorer.md): at each backward step of the article's network the learner types
// the quantity as an expression, `(W2^T · delta3) ⊙ sigmoid'(Z2)` or `W2.T @ delta3 *
// dsigmoid(Z2)`; the engine evaluates it and grades it with the labs' grader (labs/your_turn.hpp,
// the catalogue of mistakes of docs/labs.md), at the explained sample and the current weights.
// A mistake in the expression is marked at its column; hints come one at a time; the steps solved
// are kept in the URL hash (turn=STEP&solved=delta3.delta2). page.js calls mount(), read(), hash().

import { language, t, tParts } from './i18n.js';

// The words are web/i18n.js's (turn*); the quantities' names are the tape's, in both languages.
const kSolvedMark = '✓';
/** What step `s` asks for: "delta2 = dC/dZ2: the cost's derivative by Z2", or "W2 after one SGD step, lr = 0.001". */
function what(s) {
  const math = (of) => h('code', { textContent: `${s} = dC/d${of}` });
  if (/^delta\d$/.test(s)) return tParts('turnWhatDelta', { math: math(`Z${s.slice(-1)}`), of: `Z${s.slice(-1)}` });
  if (/^Delta\d$/.test(s)) return tParts('turnWhatDelta', { math: math(`W${s.slice(-1)}`), of: `W${s.slice(-1)}` });
  return [t('turnWhatUpdate', { name: s, lr: 0.001 })];
}

/** A new element: h('td', { className: 'bad' }, 'text', child, ...); props are its properties. */
function h(tag, props = {}, ...children) {
  const e = document.createElement(tag);
  Object.assign(e, props);
  e.append(...children);
  return e;
}

export class YourTurn {
  constructor() {
    this.keys = ['turn', 'solved']; // the URL hash's keys this panel owns
    this.steps = []; // StepGrad.turnSteps
    this.open = false;
    this.step = 'delta3';
    this.solved = new Set();
    this.hints = 0; // how many of the current step's hints are shown
    this.checked = null; // {text, lang}: the expression whose report shows, and its language
    this.el = null;
  }

  /**
   * Builds the panel before #graphs. engine: the StepGrad; explanation(): the page's current
   * Explanation; changed(): the page rewrites its hash (hash() is part of it).
   */
  mount({ engine, explanation, changed }) {
    this.steps = engine.turnSteps;
    this.explanation = explanation;
    this.changed = changed;
    const input = h('input', {
      id: 'turn-input',
      type: 'text',
      spellcheck: false,
      autocomplete: 'off',
      size: 60,
    });
    input.addEventListener('keydown', (ev) => {
      if (ev.key === 'Enter') this.check();
    });
    input.addEventListener('input', () => this.clearMark());
    const checkButton = h('button', { id: 'turn-check', textContent: t('turnCheck') });
    checkButton.addEventListener('click', () => this.check());
    const hintButton = h('button', { id: 'turn-hint', textContent: t('turnHint') });
    hintButton.addEventListener('click', () => {
      this.hints += 1;
      this.renderHints();
    });
    const toggle = h('button', { id: 'turn-toggle' });
    toggle.addEventListener('click', () => {
      this.open = !this.open;
      this.render();
      this.changed();
    });
    this.el = {
      section: h('section', { id: 'yourturn', ariaLabel: t('turnTitle') }),
      toggle,
      body: h('div', { id: 'turn-body' }),
      tabs: h('div', { id: 'turn-steps', role: 'tablist' }),
      what: h('div', { id: 'turn-what', className: 'formula' }),
      input,
      mirror: h('div', { id: 'turn-mirror', ariaHidden: 'true' }),
      result: h('div', { id: 'turn-result', role: 'status' }),
      hints: h('ol', { id: 'turn-hints', className: 'hint' }),
      hintButton,
      check: checkButton,
      progress: h('span', { id: 'turn-progress' }),
    };
    this.titleEl = h('span');
    this.introEl = h('p', { className: 'sub' });
    const e = this.el;
    e.body.append(
      this.introEl,
      e.tabs,
      e.what,
      h('div', { className: 'turn-row' }, input, checkButton, hintButton),
      e.mirror,
      e.result,
      e.hints,
    );
    e.section.append(h('h2', {}, this.titleEl, ' ', e.toggle, ' ', e.progress), e.body);
    document.getElementById('graphs').before(e.section);
    this.render();
  }

  /** Reads turn= and solved= from the hash's URLSearchParams; returns what it ignored. */
  read(p) {
    const ignored = [];
    const names = this.steps;
    this.open = p.has('turn');
    if (this.open) {
      const step = p.get('turn');
      if (names.includes(step)) this.step = step;
      else ignored.push(`turn=${step} (${names.join(', ')})`);
    }
    this.solved = new Set();
    for (const s of (p.get('solved') ?? '').split('.').filter((x) => x)) {
      if (names.includes(s)) this.solved.add(s);
      else ignored.push(`solved=${s} (${names.join(', ')})`);
    }
    this.hints = 0;
    // the page explains the sample right after reading its hash, in the same task: then render
    if (this.el) queueMicrotask(() => this.render());
    return ignored;
  }

  /** This panel's part of the URL hash: "&turn=delta2&solved=delta3" (empty when closed and none solved). */
  hash() {
    const solved = this.steps.filter((s) => this.solved.has(s));
    return (this.open ? `&turn=${this.step}` : '') + (solved.length ? `&solved=${solved.join('.')}` : '');
  }

  select(step) {
    if (step === this.step) return;
    this.step = step;
    this.hints = 0;
    this.el.input.value = '';
    this.el.result.replaceChildren();
    this.el.result.dataset.state = '';
    this.checked = null;
    this.clearMark();
    this.render();
    this.changed();
  }

  render() {
    const e = this.el;
    this.titleEl.textContent = t('turnTitle');
    const code = (text) => h('code', { textContent: text });
    this.introEl.replaceChildren(
      ...tParts('turnIntro', {
        a: code("(W2^T · delta3) ⊙ sigmoid'(Z2)"),
        b: code('W2.T @ delta3 * dsigmoid(Z2)'),
        more: code("+ - /  outer(u, v)  u ⊗ v  softmax  softmax'  exp  log"),
      }),
    );
    e.section.ariaLabel = t('turnTitle');
    e.check.textContent = t('turnCheck');
    e.hintButton.textContent = t('turnHint');
    e.toggle.textContent = t(this.open ? 'turnClose' : 'turnOpen');
    e.toggle.setAttribute('aria-expanded', String(this.open));
    e.body.hidden = !this.open;
    e.progress.textContent = t('turnProgress', { n: this.solved.size, total: this.steps.length });
    e.progress.dataset.solved = [...this.solved].join('.');
    e.tabs.replaceChildren(
      ...this.steps.map((s) => {
        const b = h('button', {
          textContent: this.solved.has(s) ? `${s} ${kSolvedMark}` : s,
          className: `turn-step${s === this.step ? ' current' : ''}${this.solved.has(s) ? ' good' : ''}`,
        });
        b.dataset.step = s;
        b.setAttribute('role', 'tab');
        b.setAttribute('aria-selected', String(s === this.step));
        b.addEventListener('click', () => this.select(s));
        return b;
      }),
    );
    e.input.setAttribute('aria-label', t('turnInputLabel', { step: this.step }));
    if (!this.open || !this.explanation()) return;
    // a report in the other language (the switch was used): the same expression graded again
    if (this.checked && this.checked.lang !== language() && e.result.dataset.state) this.check(this.checked.text);
    const hint = this.explanation().turnHint(this.step);
    const equation = t('turnEquation', { n: hint.equation.replace(/^eq\.\s*/, '') });
    e.what.replaceChildren(...what(this.step), `  (${t('turnShapeIs', { shape: hint.shape, equation })})`);
    this.renderHints(hint);
  }

  renderHints(hint = this.explanation().turnHint(this.step)) {
    const pairs = hint.names.map((n, i) => `${n} ${hint.shapes[i]}`);
    const all = [
      t('turnHintNames', { names: hint.names.join(', ') }),
      t('turnHintShapes', { pairs: pairs.join(', '), step: this.step, shape: hint.shape }),
      tParts('turnHintFormula', { formula: h('code', { textContent: hint.formula }) }),
    ];
    this.hints = Math.min(this.hints, all.length);
    this.el.hints.replaceChildren(...all.slice(0, this.hints).map((x) => h('li', {}, ...[x].flat())));
    this.el.hintButton.disabled = this.hints >= all.length;
    this.el.hintButton.title = this.hints >= all.length ? t('turnNoMoreHints') : '';
  }

  clearMark() {
    this.el.mirror.replaceChildren();
    this.el.mirror.dataset.column = '';
    this.el.input.classList.remove('bad');
  }

  /** The expression with the character at `column` (1-based; one past the end: the end) marked. */
  mark(text, column) {
    const chars = [...text];
    const at = chars[column - 1] ?? ' ';
    this.el.mirror.replaceChildren(
      chars.slice(0, column - 1).join(''),
      h('mark', { className: 'turn-at', textContent: at }),
      chars.slice(column).join(''),
    );
    this.el.mirror.dataset.column = String(column);
    this.el.input.classList.add('bad');
    // the input's own selection too (UTF-16 offsets: every character here is one code unit)
    const from = chars.slice(0, column - 1).join('').length;
    this.el.input.setSelectionRange(from, from + (chars[column - 1]?.length ?? 0));
  }

  /** Grades `text` (the field's) and shows the report, in the page's language. */
  check(text = this.el.input.value) {
    const g = this.explanation().grade(this.step, text, language());
    this.checked = { text, lang: language() };
    const r = this.el.result;
    this.clearMark();
    if (g.column > 0) this.mark(text, g.column);
    const lines = [];
    if (g.error) {
      // the engine's message as it words it, beside the page's
      lines.push(
        h('div', { className: 'error' }, `${t('turnColumn', { c: g.column })}: `, h('code', { textContent: g.error })),
      );
    }
    if (g.graded) {
      lines.push(h('div', { className: g.passed ? 'good' : 'bad' }, t(g.passed ? 'turnPass' : 'turnFail')));
      lines.push(h('pre', { className: 'turn-report' }, g.report));
    } else {
      lines.push(h('div', { className: 'bad' }, t('turnNotGraded')));
    }
    r.replaceChildren(...lines);
    r.dataset.state = g.passed ? 'pass' : g.graded ? 'fail' : 'error';
    r.dataset.diagnosis = g.diagnosis.startsWith('[') ? g.diagnosis.slice(1, g.diagnosis.indexOf(']')) : '';
    if (g.passed && !this.solved.has(this.step)) {
      this.solved.add(this.step);
      this.render();
      this.changed();
    }
    return g;
  }
}
