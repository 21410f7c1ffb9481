// The explorer's words in English and Chinese: every string the page shows, one table per
// language with the same keys (tests/web/i18n.mjs checks them). Program output (the engine's
// printing, its rules and messages) and identifiers (W0, Z1, delta3, grad, the URL's keys) are not
// here: the page shows them as the programs print them, in both languages, as docs/zh/ does. One
// program speaks both: Your turn's grader words its report in the page's language (labs::Lang).
// The Chinese terms are docs/zh/glossary.md's (代价, 轮, 步, 磁带, 方案 ...).
// A string with numbers in it names them: t('stepInfo', { n: 3, total: 22, ... }).

export const kLanguages = ['en', 'zh'];

export const kStrings = {
  en: {
    title: "stepgrad explorer: the article's network, step by step",
    heading: 'stepgrad explorer',
    intro:
      "The article's 784-128-64-10 network on stepgrad's own C++ tape, compiled to WebAssembly. Step the tape " +
      "forward and backward; compare the tape's gradient, the hand-derived delta and finite differences.",
    language: 'language',
    loading: 'loading the engine...',
    error: 'error: {message}',
    controls: 'controls',
    seed: 'seed',
    sample: 'sample',
    recipe: 'recipe',
    recipeFixed: 'fixed',
    recipeArticle: 'article (erratum E1)',
    recipeName_fixed: 'fixed',
    recipeName_article: 'article',
    first: 'first',
    firstKey: 'Home: first step',
    backKey: 'Left arrow: one step back',
    play: '▶ play',
    pause: '❚❚ pause',
    playKey: 'Space: play / pause',
    onKey: 'Right arrow: one step on',
    last: 'last',
    lastKey: 'End: last step',
    tape: 'the tape',
    currentNode: 'the current node',
    threeWay: 'the three-way check',
    stepInfo: 'step {n}/{total}: {phase} {node}',
    forward: 'forward',
    backward: 'backward',
    forwardEq: 'forward eq. {eq}',
    sweepStarts: 'grad C = 1   (the sweep starts here: dC/dC = 1)',
    checkTitle: 'three-way check',
    checkHint:
      "Step backward to W0-W2 or Z1-Z3 to compare the tape's gradient with the hand-derived delta and " +
      'finite differences.',
    checkHeading: 'three-way check: grad {node} vs {hand} ({recipe})',
    element: 'element',
    tapeColumn: 'tape',
    fdColumn: 'finite diff.',
    vsHand: 'max rel. error, tape vs {hand} over all {count} elements: ',
    agree: '(agree)',
    disagree: 'DISAGREE: erratum E1, eq. (9) multiplies by softmax\'s "derivative" of Z2',
    vsFd: 'max rel. error, tape vs finite differences over these {count}: ',
    fdWaits: 'finite differences: when the stroke ends',
    probsDrawing: 'O3 for your drawing: the network says {best}',
    probsSample: 'O3 for the sample: the network says {best}',
    statusDrawing: 'your drawing',
    statusSample: 'sample {sample} (MNIST image {index})',
    statusNoLabel: "no label chosen (the cost takes the network's own answer, {answer}: choose the digit you drew)",
    statusLabel: 'label {label}',
    statusUntrained: 'the untrained weights of seed {seed}',
    statusTrained: 'the weights after {steps} training steps',
    status: '{what}, {label}; with {weights}, the network says {best} (O3 = {o3}); C = {cost}',
    notice: "This link's {items}: ignored, the page shows the default instead.",
    noticeJoin: '; ',
    ignored: '{what} ({why})',
    notASetting: 'not a setting of this page',
    wholeNumber: 'a whole number from 0 to {max}',
    either: '{a} or {b}',
    aStep: 'a step from 0 to {max}',
    notAnEdit: 'not LEAF.INDEX:NUMBER',
    engineSays: '',
    fieldBad: "{field}: expected a whole number from 0 to {max}, found '{value}'",
    lrBad: "lr: expected a number from {lo} to {hi}, found '{value}'",
    drawDigit: 'draw a digit',
    drawHeading: 'Draw a digit',
    drawCanvas: '28x28 drawing canvas',
    probs: "O3: the network's probability for each digit",
    label: 'label',
    clear: 'clear',
    copySample: 'copy the sample',
    drawHint: 'Forward and backward run as you draw; the tape then shows your digit.',
    training: 'training',
    trainHeading: 'Train (per-sample SGD over 2,000 images)',
    lr: 'lr',
    train: '▶ train',
    hundredSteps: '+100 steps',
    reset: 'reset',
    trainInfo:
      'seed {seed}, recipe {recipe}, lr {lr}: {steps} steps ({passes} passes), test accuracy {accuracy}% ' +
      'on {testSize}{rate}',
    trainRate: ', {rate} samples/s',
    curve: 'test accuracy curve',
    curveTitle: 'test accuracy',
    tiles: "W0's rows as 28x28 tiles",
    smallGraphs: 'small graphs',
    graphsHeading: 'Small graphs: every scalar, its gradient and its rule',
    graph: 'graph',
    graphNeuron: '01_neuron: one neuron',
    graphXor: '13_your_network: XOR, 2-2-1',
    sgdStep: 'SGD step, lr 0.5',
    sgdStepRule: 'W <- W - lr grad W for each parameter (eq. 12)',
    graphHint:
      'The inputs and weights (outlined) are editable: each edit records the graph on a fresh tape and runs ' +
      'forward and backward in the engine. Each box shows value and gradient of every element and, under it, ' +
      'the backward rule that sends its gradient to its inputs.',
    leafEdit: '{leaf}[{i}]: edit, then Enter',
    leafBad: '{leaf}[{i}]: expected a number',
    leafKeeps: '{leaf}[{i}]: expected a number; it keeps {value}',
    grad: 'grad {value}',
    noGrad: 'no grad',
    // Your turn (web/yourturn.js)
    turnTitle: 'Your turn: write the backward pass',
    turnIntro:
      "Type each quantity as an expression over the tape's tensors. Both spellings work: {a} and {b}; " +
      'also numbers, parentheses and {more}. The graded sample is the one explained above.',
    turnOpen: 'Your turn',
    turnClose: 'close',
    turnCheck: 'Check',
    turnHint: 'Hint',
    turnNoMoreHints: 'no more hints',
    turnInputLabel: 'your {step}',
    turnWhatDelta: "{math}: the cost's derivative by {of}",
    turnWhatUpdate: '{name} after one SGD step, lr = {lr}',
    turnShapeIs: 'shape {shape}, {equation}',
    turnEquation: 'eq. {n}',
    turnPass: 'pass: it matches the tape and finite differences',
    turnFail: 'not yet',
    turnNotGraded: 'the expression has a mistake',
    turnColumn: 'column {c}',
    turnHintNames: 'It involves {names}.',
    turnHintShapes: 'Shapes: {pairs}; {step} is {shape}.',
    turnHintFormula: 'The formula: {formula}',
    turnProgress: 'solved {n} of {total}',
    // layout (issue 24)
    keys:
      'Keys, when no field, list, button or link has the focus: right and left arrows one step on and back, ' +
      'Home and End the first and the last step, Space play and pause.',
    e1Explain:
      "Why: layer 2 is a sigmoid layer, so eq. (9) is {right}; the article's code multiplies by softmax's " +
      '"derivative" {wrong} instead, which is far smaller and differs from unit to unit. delta1, Delta1 and Delta0 ' +
      'are computed from delta2 and are wrong too; delta3 and Delta2 come before it and agree. The recipe fixed ' +
      'agrees with the tape. More: {link}.',
    e1Link: '{file}, E1',
    litNone: 'The image is blank: every pixel is 0.',
    litImage:
      'The lit region of the {rows}x{cols} image, to 2 decimals: rows {r0}-{r1}, columns {c0}-{c1} (counting ' +
      'from 0); every pixel outside it is 0.',
    litGradW0:
      'Rows {rows} of {units}, at the columns of pixels {pixels} (counting from 0): the first and the last of ' +
      "O0's {count} pixels that are not 0. Every other column is 0: row k is delta1[k] O0ᵀ, and O0 is 0 there.",
    viewLabel: '{name} {shape}: {how}',
    drawnImage: 'the image, white 0 to black 1',
    drawnTiles: 'its {rows} rows as 28x28 tiles, red positive, blue negative',
    drawnHeat: 'a heat map, red positive, blue negative',
    drawnColumn: 'a column, red positive, blue negative',
    drawnNumber: 'its one number',
    tilesCaption:
      "W0's 128 rows, one per unit of layer 1, each as the 28x28 image of the weights it gives the pixels: red " +
      'positive, blue negative, white 0, each tile on its own scale. They change as the network trains.',
    curveAxis: 'training steps',
    curveValues: 'test accuracy by training steps: {points}',
    curvePoint: '{steps} steps {accuracy}%',
  },
  zh: {
    title: 'stepgrad 探索器：一步一步看原文的网络',
    heading: 'stepgrad 探索器',
    intro:
      '原文的 784-128-64-10 网络，运行在 stepgrad 自己的 C++ 磁带上，编译成了 WebAssembly。沿磁带向前、向后单步执行，' +
      '对照磁带的梯度、手工推导的 delta 和有限差分。',
    language: '语言',
    loading: '正在加载引擎……',
    error: '错误：{message}',
    controls: '控件',
    seed: '随机种子',
    sample: '样本',
    recipe: '方案',
    recipeFixed: '修正方案（fixed）',
    recipeArticle: '原文方案（article，含勘误 E1）',
    recipeName_fixed: '修正方案',
    recipeName_article: '原文方案',
    first: '第一步',
    firstKey: 'Home 键：第一步',
    backKey: '左方向键：后退一步',
    play: '▶ 播放',
    pause: '❚❚ 暂停',
    playKey: '空格键：播放 / 暂停',
    onKey: '右方向键：前进一步',
    last: '最后一步',
    lastKey: 'End 键：最后一步',
    tape: '磁带',
    currentNode: '当前节点',
    threeWay: '三方核对',
    stepInfo: '第 {n}/{total} 步：{phase} {node}',
    forward: '前向',
    backward: '反向',
    forwardEq: '前向，式 {eq}',
    sweepStarts: 'grad C = 1   （反向扫描从这里开始：dC/dC = 1）',
    checkTitle: '三方核对',
    checkHint: '反向单步到 W0-W2 或 Z1-Z3，就能把磁带的梯度与手工推导的 delta 和有限差分相对照。',
    checkHeading: '三方核对：grad {node} 对 {hand}（{recipe}）',
    element: '元素',
    tapeColumn: '磁带',
    fdColumn: '有限差分',
    vsHand: '磁带与 {hand} 在全部 {count} 个元素上的最大相对误差：',
    agree: '（相符）',
    disagree: '不符：勘误 E1，式 (9) 乘上了 softmax 对 Z2 的“导数”',
    vsFd: '磁带与有限差分在这 {count} 个元素上的最大相对误差：',
    fdWaits: '有限差分：在这一笔结束时计算',
    probsDrawing: '你画的数字的 O3：网络认为是 {best}',
    probsSample: '样本的 O3：网络认为是 {best}',
    statusDrawing: '你画的数字',
    statusSample: '样本 {sample}（MNIST 图像 {index}）',
    statusNoLabel: '尚未选择标签（代价以网络自己的答案 {answer} 为准：请选择你画的数字）',
    statusLabel: '标签 {label}',
    statusUntrained: '随机种子 {seed} 的未训练权重',
    statusTrained: '训练 {steps} 步之后的权重',
    status: '{what}，{label}；在{weights}下，网络认为是 {best}（O3 = {o3}）；C = {cost}',
    notice: '链接中的 {items}：已忽略，页面改为显示默认值。',
    noticeJoin: '；',
    ignored: '{what}（{why}）',
    notASetting: '不是本页的设置',
    wholeNumber: '应为 0 到 {max} 之间的整数',
    either: '应为 {a} 或 {b}',
    aStep: '应为 0 到 {max} 之间的步号',
    notAnEdit: '不符合 LEAF.INDEX:NUMBER 的格式',
    engineSays: '引擎报告：',
    fieldBad: '{field}：应为 0 到 {max} 之间的整数，实际为“{value}”',
    lrBad: '学习率：应为 {lo} 到 {hi} 之间的数，实际为“{value}”',
    drawDigit: '手写一个数字',
    drawHeading: '手写一个数字',
    drawCanvas: '28x28 的画板',
    probs: 'O3：网络给每个数字的概率',
    label: '标签',
    clear: '清除',
    copySample: '照当前样本画',
    drawHint: '边画边运行前向和反向传播；磁带随即显示你画的数字。',
    training: '训练',
    trainHeading: '训练（在 2,000 张图像上逐样本 SGD）',
    lr: '学习率',
    train: '▶ 训练',
    hundredSteps: '+100 步',
    reset: '重置',
    trainInfo:
      '随机种子 {seed}，{recipe}，学习率 {lr}：{steps} 步（{passes} 轮），' +
      '在 {testSize} 张测试图像上的准确率为 {accuracy}%{rate}',
    trainRate: '，每秒 {rate} 个样本',
    curve: '测试准确率曲线',
    curveTitle: '测试准确率',
    tiles: 'W0 的各行，画成 28x28 的小块',
    smallGraphs: '小计算图',
    graphsHeading: '小计算图：每个标量、它的梯度和它的规则',
    graph: '计算图',
    graphNeuron: '01_neuron：一个神经元',
    graphXor: '13_your_network：XOR，2-2-1',
    sgdStep: 'SGD 一步，学习率 0.5',
    sgdStepRule: '对每个参数做 W <- W - lr grad W（式 12）',
    graphHint:
      '输入和权重（带蓝框的）可以修改：每次修改都会在一条新磁带上记录这个计算图，并在引擎中运行前向和反向传播。' +
      '每个方框显示每个元素的值和梯度，下面是把它的梯度传给各个输入的反向规则。',
    leafEdit: '{leaf}[{i}]：修改后按 Enter',
    leafBad: '{leaf}[{i}]：应为一个数',
    leafKeeps: '{leaf}[{i}]：应为一个数；保留原值 {value}',
    grad: '梯度 {value}',
    noGrad: '无梯度',
    // 轮到你了（web/yourturn.js）
    turnTitle: '轮到你了：亲手写出反向传播',
    turnIntro:
      '把每个量写成磁带上各个张量的表达式。两种写法都可以：{a} 或 {b}；还可以用数字、括号和 {more}。' +
      '评分所用的样本就是上面正在讲解的那个样本。',
    turnOpen: '轮到你了',
    turnClose: '收起',
    turnCheck: '检查',
    turnHint: '提示',
    turnNoMoreHints: '没有更多提示了',
    turnInputLabel: '你的 {step}',
    turnWhatDelta: '{math}：代价对 {of} 的导数',
    turnWhatUpdate: '{name} 经过一步 SGD 之后的值，学习率 lr = {lr}',
    turnShapeIs: '形状 {shape}，{equation}',
    turnEquation: '式 {n}',
    turnPass: '通过：与磁带和有限差分都一致',
    turnFail: '还不对',
    turnNotGraded: '表达式有错误',
    turnColumn: '第 {c} 列',
    turnHintNames: '它用到 {names}。',
    turnHintShapes: '形状：{pairs}；{step} 的形状是 {shape}。',
    turnHintFormula: '公式：{formula}',
    turnProgress: '已完成 {n}/{total}',
    // layout (issue 24)
    keys:
      '按键（焦点不在输入框、列表、按钮或链接上时）：右、左方向键前进、后退一步，Home 和 End 键到第一步、' +
      '最后一步，空格键播放、暂停。',
    e1Explain:
      '原因：第 2 层是 sigmoid 层，所以式 (9) 是 {right}；原文的代码乘的却是 softmax 的“导数” {wrong}，' +
      '它小得多，而且各个单元之间差别不一。delta1、Delta1 和 Delta0 都由 delta2 算出，因此也是错的；' +
      'delta3 和 Delta2 在它之前，是对的。修正方案（fixed）与磁带相符。详见 {link}。',
    e1Link: '{file}，E1',
    litNone: '图像是空白的：每个像素都是 0。',
    litImage:
      '{rows}x{cols} 图像中有笔迹的区域，保留 2 位小数：第 {r0}-{r1} 行、第 {c0}-{c1} 列（从 0 数起）；' +
      '区域外的像素都是 0。',
    litGradW0:
      '{units} 行中的第 {rows} 行，只取第 {pixels} 号像素（从 0 数起）所在的列：O0 的 {count} 个非 0 像素中的' +
      '头几个和最后几个。' +
      '其余各列都是 0：第 k 行是 delta1[k] O0ᵀ，而 O0 在那里是 0。',
    viewLabel: '{name} {shape}：{how}',
    drawnImage: '图像，白为 0，黑为 1',
    drawnTiles: '它的 {rows} 行，画成 28x28 的小块，红为正，蓝为负',
    drawnHeat: '热力图，红为正，蓝为负',
    drawnColumn: '一列，红为正，蓝为负',
    drawnNumber: '它唯一的数',
    tilesCaption:
      'W0 的 128 行，每行对应第 1 层的一个单元，画成它给各像素的权重组成的 28x28 图像：红为正，蓝为负，' +
      '白为 0，每个小块各用自己的比例。网络训练时它们随之变化。',
    curveAxis: '训练步数',
    curveValues: '测试准确率随训练步数的变化：{points}',
    curvePoint: '{steps} 步 {accuracy}%',
  },
};

let current = 'en';

/** The language the page shows now: 'en' or 'zh'. */
export function language() {
  return current;
}
export function setLanguage(lang) {
  if (!kLanguages.includes(lang)) throw new Error(`no language '${lang}' (en or zh)`);
  current = lang;
}
/** The value of <html lang> for a language. */
export function htmlLang(lang) {
  return lang === 'zh' ? 'zh-CN' : 'en';
}
/** The language of the browser's list (navigator.languages): the first zh* or en*, else en. */
export function browserLanguage(languages = []) {
  for (const l of languages) {
    const base = String(l).toLowerCase().split('-')[0];
    if (kLanguages.includes(base)) return base;
  }
  return 'en';
}

/** The string `key` in the page's language, each {name} replaced by params[name]. */
export function t(key, params = {}) {
  const s = kStrings[current][key];
  if (s === undefined) throw new Error(`i18n: no string '${key}'`);
  return s.replace(/\{(\w+)\}/g, (m, name) => (name in params ? String(params[name]) : m));
}

/**
 * The same as t, as a list of strings and nodes to append: a param may be a node or a list of them
 * (the engine's message in a <code>, kept apart from the page's words).
 */
export function tParts(key, params = {}) {
  const parts = t(key, {}).split(/\{(\w+)\}/);
  return parts.flatMap((p, k) => (k % 2 === 0 ? [p] : [params[p] ?? `{${p}}`].flat())).filter((p) => p !== '');
}

/**
 * Puts the table's words into the page's fixed elements: data-i18n="key" sets the text,
 * data-i18n-title, data-i18n-aria-label and data-i18n-placeholder set those attributes.
 */
export function applyTo(root) {
  for (const e of root.querySelectorAll('[data-i18n]')) e.textContent = t(e.dataset.i18n);
  for (const [data, attr] of [
    ['i18nTitle', 'title'],
    ['i18nAriaLabel', 'aria-label'],
    ['i18nPlaceholder', 'placeholder'],
  ]) {
    const selector = `[data-${data.replace(/[A-Z]/g, (c) => '-' + c.toLowerCase())}]`;
    for (const e of root.querySelectorAll(selector)) e.setAttribute(attr, t(e.dataset[data]));
  }
}
