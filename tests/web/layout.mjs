// The explorer's layout, what it teaches and its accessibility (issue 24; R53 in
// docs/reliability.md), in headless Chromium; browser.mjs runs it with its browser and its server
// (section 9).
//   - layout: at 390, 900, 1280, 1440 and 1920 px no page wider than the window, nothing outside
//     the window but inside a box that scrolls, no part of the tape under the side panel, the rule
//     printout and the check inside their panels, the check not below the whole tape, and the
//     current card in the window after stepping;
//   - teaching: the keys listed on the page, erratum E1 explained with a link to docs/errata.md
//     (which the page serves), O0's and grad W0's printouts showing the lit region, the training
//     tiles' caption and the curve's x ticks;
//   - accessibility: no page key taken from a focused control (a field, a list, a link, a key
//     with Alt or Ctrl), the 29 canvases named and their values as text, WCAG AA contrast of every
//     text computed from the computed styles, the live region said when the status changes its
//     meaning and not at each frame of a stroke or of training;
//   - --screenshots: the page at 390, 1280 and 1920 px (docs/explorer.md).
import path from 'node:path';

// WCAG 2's relative luminance and contrast ratio of two sRGB colours [r, g, b] (0-255).
function luminance(rgb) {
  const [r, g, b] = rgb.map((c) => {
    const s = c / 255;
    return s <= 0.04045 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
  });
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
}
export function contrast(a, b) {
  const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x);
  return (hi + 0.05) / (lo + 0.05);
}

export async function checkLayout({ browser, base, check, shots }) {
  const context = await browser.newContext({ viewport: { width: 1440, height: 900 }, locale: 'en-US' });
  // the words drawn on canvases (the curve's ticks), which no text node holds
  await context.addInitScript(() => {
    const fillText = CanvasRenderingContext2D.prototype.fillText;
    window.canvasTexts = [];
    CanvasRenderingContext2D.prototype.fillText = function (text, ...rest) {
      window.canvasTexts.push({ canvas: this.canvas.id, text: String(text) });
      return fillText.call(this, text, ...rest);
    };
  });
  const page = await context.newPage();
  const errors = [];
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  page.on('pageerror', (e) => errors.push(String(e)));
  const open = async (hash) => {
    await page.goto('about:blank');
    await page.goto(`${base}index.html${hash}`);
    await page.waitForSelector('body[data-ready="1"]', { timeout: 30000 });
  };
  const stepOf = () => page.evaluate(() => window.explorer.state.step);
  const z2 = 17; // backward Z2: the check of delta2, where E1 shows

  // ---- layout ----
  // Everything the page shows, within the window or a box that scrolls; the tape clear of the
  // side panel; the rule and the check inside their panels; the check not below the whole tape.
  const measure = () =>
    page.evaluate(() => {
      const scrolls = (e) => /auto|scroll|hidden/.test(getComputedStyle(e).overflowX);
      const shown = (e) => e.getClientRects().length > 0 && !e.closest('.sr-only');
      // an element clipped by a box that scrolls is reachable: only the others are judged
      const inScroller = (e, root) => {
        for (let p = e.parentElement; p && p !== root; p = p.parentElement) if (scrolls(p)) return true;
        return false;
      };
      const out = [];
      const px = Math.round;
      // nothing behind a scroll bar anywhere: no box that scrolls holds more than it shows
      for (const e of document.body.querySelectorAll('*')) {
        if (!shown(e) || !scrolls(e) || e.id === 'side') continue; // #side: its own height, scrolled
        if (e.scrollWidth > e.clientWidth + 1)
          out.push(
            `${e.tagName.toLowerCase()}#${e.id}.${e.className} scrolls: ${e.scrollWidth} px in ${e.clientWidth}`,
          );
      }
      const where = (e) => `${e.tagName.toLowerCase()}${e.id ? '#' + e.id : ''}.${e.className}`;
      for (const e of document.body.querySelectorAll('*')) {
        if (!shown(e) || inScroller(e, document.body)) continue;
        const r = e.getBoundingClientRect();
        if (r.width > 0 && (r.left < -1 || r.right > innerWidth + 1))
          out.push(`${where(e)} spans ${Math.round(r.left)}-${Math.round(r.right)}`);
      }
      const side = document.querySelector('#side').getBoundingClientRect();
      const tape = document.querySelector('#tape');
      const sideInTape = tape.contains(document.querySelector('#side'));
      for (const e of tape.querySelectorAll('.node *')) {
        if (!shown(e)) continue;
        const r = e.getBoundingClientRect();
        const under = !sideInTape && r.right > side.left + 1 && r.left < side.right && r.bottom > side.top;
        if (r.width > 0 && (r.right > tape.getBoundingClientRect().right + 1 || under))
          out.push(
            `tape: ${where(e)} of ${e.closest('.node').dataset.name} at ${px(r.right)}, side at ${px(side.left)}`,
          );
      }
      for (const id of ['rule', 'check']) {
        const panel = document.getElementById(id);
        const box = panel.getBoundingClientRect();
        // the rule's printouts fit: none behind a scroll bar (they were, 585-708 px in 532 at 1440)
        for (const pre of panel.querySelectorAll('pre')) {
          if (pre.scrollWidth > pre.clientWidth + 1 || pre.scrollHeight > pre.clientHeight + 1)
            out.push(`${id}: a printout of ${pre.scrollWidth}x${pre.scrollHeight} px in ${pre.clientWidth} px wide`);
        }
        for (const e of panel.querySelectorAll('*')) {
          if (!shown(e) || inScroller(e, panel)) continue;
          const r = e.getBoundingClientRect();
          if (r.width > 0 && (r.left < box.left - 1 || r.right > box.right + 1))
            out.push(`${id}: ${where(e)} spans ${px(r.left)}-${px(r.right)} in ${px(box.left)}-${px(box.right)}`);
        }
      }
      // the check beside the tape, or (one column) right under the current card: not after the
      // whole tape (at 900 px it was, 2,000 px down)
      const check = document.querySelector('#check').getBoundingClientRect();
      const beside = check.left >= tape.getBoundingClientRect().right - 1;
      const underCurrent = document.querySelector('#tape .node.current').nextElementSibling?.id === 'side';
      if (!beside && !underCurrent) out.push(`the check (top ${px(check.top)}) is below the whole tape`);
      const cur = document.querySelector('#tape .node.current').getBoundingClientRect();
      return {
        out,
        scrollWidth: document.documentElement.scrollWidth,
        innerWidth,
        current: { top: cur.top, bottom: cur.bottom, height: cur.height },
        innerHeight,
      };
    });
  const widths = [390, 900, 1280, 1440, 1920];
  for (const width of widths) {
    await page.setViewportSize({ width, height: 900 });
    for (const [hash, what] of [
      ['#seed=42&sample=0&recipe=fixed&step=0', 'End: backward W0'],
      [`#seed=42&sample=0&recipe=article&step=0&graph=xor&turn=delta2`, `backward Z2, E1, XOR, Your turn`],
    ]) {
      await open(hash);
      // stepping from the top of the page: the current card is scrolled into the window
      if (what.startsWith('End')) await page.keyboard.press('End');
      else {
        await page.keyboard.press('End');
        for (let s = 21; s > z2; --s) await page.keyboard.press('ArrowLeft');
      }
      const m = await measure();
      const at = `${width} px, ${what}`;
      check(
        m.scrollWidth <= m.innerWidth,
        `${at}: the page is ${m.scrollWidth} px wide in a ${m.innerWidth} px window`,
      );
      check(m.out.length === 0, `${at}: ${m.out.slice(0, 6).join('; ')}`);
      const c = m.current;
      check(
        c.top >= -1 && (c.height > m.innerHeight ? c.top < m.innerHeight : c.bottom <= m.innerHeight + 1),
        `${at}: the current card is at ${Math.round(c.top)}-${Math.round(c.bottom)} of a ${m.innerHeight} px window`,
      );
    }
  }
  // and every step, back up the tape a card at a time from the last one, at 390 and 1440 px: the
  // rule printouts (W0's, the rules with their numbers) inside their panel, the card in view
  for (const [width, height] of [
    [390, 844],
    [1440, 900],
  ]) {
    await page.setViewportSize({ width, height });
    await open('#seed=42&sample=0&recipe=fixed&step=0');
    await page.keyboard.press('End');
    for (let k = 0; k < 22; ++k) {
      if (k) await page.keyboard.press('ArrowLeft');
      const m = await measure();
      const c = m.current;
      const at = `${width} px, step ${22 - k}`;
      check(m.scrollWidth <= m.innerWidth && m.out.length === 0, `${at}: ${m.out.slice(0, 6).join('; ')}`);
      check(c.top >= -1 && c.top < height, `${at}: the current card at ${Math.round(c.top)}`);
    }
  }
  // a window made narrower, then wider again: the side panel under the current card, then beside
  const sideAt = () =>
    page.evaluate(() => {
      const side = document.querySelector('#side');
      return side.previousElementSibling?.classList.contains('current') ? 'under the card' : side.parentElement.id;
    });
  await open('#seed=42&sample=0&recipe=fixed&step=21');
  const placed = [await sideAt()];
  await page.setViewportSize({ width: 500, height: 900 });
  await page.waitForFunction(() => document.querySelector('#side').parentElement.id === 'tape');
  placed.push(await sideAt());
  await page.setViewportSize({ width: 1440, height: 900 });
  await page.waitForFunction(() => document.querySelector('#side').parentElement.id === 'main');
  placed.push(await sideAt());
  check(placed.join() === 'main,under the card,main', `the side panel as the window changes: ${placed}`);
  if (shots) {
    // a phone: the last step, the rule and the check right under W0's card
    await page.setViewportSize({ width: 390, height: 844 });
    await open('#seed=42&sample=0&recipe=fixed&step=0');
    await page.keyboard.press('End');
    await page.screenshot({ path: path.join(shots, 'explorer-390.png') });
  }

  // ---- teaching ----
  await page.setViewportSize({ width: 1440, height: 900 });
  await open('#seed=42&sample=0&recipe=fixed&step=0');
  const keys = await page.$eval('#keys', (e) => (e.getClientRects().length ? e.textContent : ''));
  check(
    ['arrows', 'Home', 'End', 'Space'].every((k) => keys.includes(k)),
    `the keys are not listed on the page: '${keys}'`,
  );
  // O0's printout: the lit region, each of its edge rows and columns holding ink
  const lit = await page.evaluate(() => {
    const e = window.explorer.explanation;
    const image = e.node('O0').value;
    return {
      region: document.querySelector('#rule .region')?.textContent ?? '',
      text: document.querySelector('#rule pre.lit')?.textContent ?? '',
      nonzero: image.reduce((n, v) => n + (v !== 0), 0),
    };
  });
  const grid = (text) =>
    text
      .split('\n')
      .filter((l) => !/^\s*\.\.\.\]?$/.test(l))
      .map((l) => l.replace(/[[\]]/g, ' ').trim().split(/\s+/));
  const rows = grid(lit.text);
  const inked = (cells) => cells.some((c) => c !== '...' && Number(c) !== 0);
  const columns = (g) => g[0].map((_, k) => g.map((r) => r[k]));
  const rc = /rows (\d+)-(\d+), columns (\d+)-(\d+)/.exec(lit.region);
  check(
    rc &&
      rows.length === rc[2] - rc[1] + 1 &&
      rows[0].length === rc[4] - rc[3] + 1 &&
      [rows[0], rows.at(-1), columns(rows)[0], columns(rows).at(-1)].every(inked),
    `O0's printout is not the lit region: ${lit.region}\n${lit.text.slice(0, 300)}`,
  );
  await page.keyboard.press('End');
  const gw0 = await page.evaluate(() => ({
    region: document.querySelector('#rule .region')?.textContent ?? '',
    text: document.querySelector('#rule pre.lit')?.textContent ?? '',
  }));
  const gRows = grid(gw0.text);
  check(
    gw0.region.includes(`O0's ${lit.nonzero} pixels that are not 0`) &&
      gRows.length === 6 &&
      columns(gRows)
        .filter((c) => c[0] !== '...')
        .every(inked),
    `grad W0's printout is not at O0's lit pixels: ${gw0.region}\n${gw0.text}`,
  );
  // E1: explained in words, with a link to docs/errata.md that the page serves (en and zh)
  for (const lang of ['en', 'zh']) {
    await open(`#seed=42&sample=0&recipe=article&step=${z2}&lang=${lang}`);
    const e1 = await page.evaluate(async () => {
      const a = document.querySelector('#check .e1 a');
      if (!a) return null;
      const r = await fetch(a.href);
      return {
        text: a.closest('.e1').textContent,
        href: a.getAttribute('href'),
        status: r.status,
        body: await r.text(),
      };
    });
    check(
      e1 &&
        e1.status === 200 &&
        e1.body.includes('<b id="e1">## E1.') &&
        /charset="utf-8"/.test(e1.body) &&
        e1.text.includes("sigmoid'(Z2)") &&
        e1.text.includes(lang === 'zh' ? 'docs/zh/errata.md' : 'docs/errata.md'),
      `${lang}: E1 is not explained with a link to its page: ${JSON.stringify(e1)?.slice(0, 300)}`,
    );
  }
  const e1Fixed = await (async () => {
    await open(`#seed=42&sample=0&recipe=fixed&step=${z2}`);
    return page.$$eval('#check .e1', (l) => l.length);
  })();
  check(e1Fixed === 0, 'the fixed recipe agrees, and still E1 is explained');
  // the training tiles' caption and the curve's ticks on the steps axis
  const training = await page.evaluate(() => ({
    caption: document.querySelector('#tiles-caption')?.textContent ?? '',
    described: document.querySelector('#tiles').getAttribute('aria-describedby'),
    curve: window.canvasTexts.filter((c) => c.canvas === 'curve').map((c) => c.text),
  }));
  check(
    training.caption.startsWith("W0's 128 rows") && training.described === 'tiles-caption',
    `the training tiles' caption: ${JSON.stringify(training)}`,
  );
  check(
    ['0', '500', '1000', '1500', '2000', 'training steps'].every((s) => training.curve.includes(s)),
    `the curve's x ticks: ${training.curve}`,
  );

  // ---- accessibility ----
  // no page key taken from a focused control, nor with Alt or Ctrl
  await open(`#seed=42&sample=0&recipe=article&step=${z2}`);
  for (const [focus, key] of [
    ['#seed', 'ArrowLeft'],
    ['#seed', 'Home'],
    ['#lr', 'End'],
    ['#e1-link', 'ArrowRight'],
    ['#e1-link', ' '],
    ['#turn-toggle', 'ArrowLeft'],
    [null, 'Alt+ArrowRight'],
    [null, 'Control+End'],
    [null, 'Control+ArrowLeft'],
  ]) {
    if (focus) await page.focus(focus);
    else await page.evaluate(() => document.activeElement?.blur());
    const before = await stepOf();
    await page.keyboard.press(key);
    const after = await stepOf();
    const playing = await page.evaluate(() => !!window.explorer.state.playing);
    check(after === before && !playing, `${key} on ${focus ?? 'the page'} stepped the tape: ${before} -> ${after}`);
  }
  await page.evaluate(() => document.activeElement?.blur());
  await page.keyboard.press('ArrowLeft');
  check((await stepOf()) === z2 - 1, 'ArrowLeft with nothing focused does not step');

  // the 29 canvases: each a named image, its values as text; the tape's are the engine's numbers
  await open('#seed=42&sample=0&recipe=fixed&step=21');
  const named = await page.evaluate(() => {
    const e = window.explorer.explanation;
    return [...document.querySelectorAll('canvas')].map((c) => {
      const desc = c.getAttribute('aria-describedby');
      const fig = c.closest('#tape figure');
      const key = fig?.querySelector('figcaption').textContent;
      const shown = !fig || !fig.hidden;
      const small =
        shown && key && (key.startsWith('grad ') ? e.node(key.slice(5)).grad : e.node(key).value).length <= 100;
      return {
        id: c.id || key,
        role: c.getAttribute('role'),
        label: c.getAttribute('aria-label') ?? '',
        values: desc ? (document.getElementById(desc)?.textContent ?? '') : '',
        shown,
        want: key && shown ? (small ? e.show(key) : `${key} ${e.summary(key)}`) : null,
      };
    });
  });
  check(named.length === 29, `${named.length} canvases, not 29`);
  for (const c of named) {
    check(c.role === 'img' && c.label.trim() !== '', `canvas ${c.id}: role ${c.role}, name '${c.label}'`);
    if (c.id !== 'draw' && c.shown) check(c.values.trim() !== '', `canvas ${c.id}: no values as text`);
    if (c.want) check(c.values === c.want, `canvas ${c.id}: its text '${c.values}', the engine's '${c.want}'`);
  }
  // the accessibility tree gives them those names (Chromium's, through the DevTools protocol)
  const cdp = await context.newCDPSession(page);
  const tree = await cdp.send('Accessibility.getFullAXTree');
  const images = tree.nodes.filter((n) => n.role?.value === 'image' && n.name?.value);
  const shownCount = named.filter((c) => c.shown).length;
  check(images.length >= shownCount, `${images.length} named images in the accessibility tree, ${shownCount} shown`);

  // WCAG AA: every text at >= 4.5:1 (3:1 when large), from the computed colours, backgrounds and
  // opacities, in states with pending cards, the check, E1, "no grad" and a refused field
  const contrasts = () =>
    page.evaluate(() => {
      const rgba = (s) => {
        const v = s.match(/[\d.]+/g).map(Number);
        return [v[0], v[1], v[2], v[3] ?? 1];
      };
      const over = (top, under) => top.slice(0, 3).map((c, k) => top[3] * c + (1 - top[3]) * under[k]);
      const page = [255, 255, 255];
      const background = (e) => {
        const layers = [];
        for (let p = e; p; p = p.parentElement) {
          const b = rgba(getComputedStyle(p).backgroundColor);
          if (b[3] > 0) layers.push(b);
          if (b[3] >= 1) break;
        }
        return layers.reverse().reduce((under, b) => over(b, under), page);
      };
      const out = [];
      const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
      for (let n = walker.nextNode(); n; n = walker.nextNode()) {
        const e = n.parentElement;
        if (!n.textContent.trim() || e.closest('script, .sr-only, option, [hidden], :disabled')) continue;
        if (e.getClientRects().length === 0) continue;
        const style = getComputedStyle(e);
        let opacity = 1;
        for (let p = e; p; p = p.parentElement) opacity *= Number(getComputedStyle(p).opacity);
        const bg = background(e);
        const fg = over(rgba(style.color), bg);
        // what an ancestor's opacity does: both blended with the page behind it
        const blend = (c) => c.map((x, k) => opacity * x + (1 - opacity) * page[k]);
        const size = parseFloat(style.fontSize);
        const large = size >= 24 || (size >= 18.66 && Number(style.fontWeight) >= 700);
        out.push({
          text: n.textContent.trim().slice(0, 40),
          fg: blend(fg),
          bg: blend(bg),
          large,
          where: e.className || e.tagName,
        });
      }
      return out;
    });
  const rgb = (c) => c.map(Math.round).join(',');
  let judged = 0;
  let worst = Infinity;
  for (const hash of [
    '#seed=42&sample=0&recipe=fixed&step=3&graph=neuron',
    `#seed=42&sample=0&recipe=article&step=${z2}&graph=xor&turn=delta2`,
  ]) {
    await open(hash);
    if (hash.includes('xor')) {
      await page.fill('#lr', '0');
      await page.dispatchEvent('#lr', 'change');
    }
    for (const c of await contrasts()) {
      const ratio = contrast(c.fg, c.bg);
      worst = Math.min(worst, ratio);
      check(
        ratio >= (c.large ? 3 : 4.5),
        `contrast ${ratio.toFixed(2)}:1 of '${c.text}' (${c.where}): ${rgb(c.fg)} on ${rgb(c.bg)}`,
      );
      ++judged;
    }
  }
  check(judged > 100, `only ${judged} texts judged for contrast`);

  // the live region: the status said when its meaning changes, not at every frame
  await open('#seed=42&sample=0&recipe=fixed&step=21');
  const live = await page.evaluate(() => ({
    status: [document.querySelector('#status').getAttribute('role'), document.querySelector('#status').ariaLive],
    announce: document.querySelector('#announce').getAttribute('role'),
  }));
  check(
    !live.status[0] && !live.status[1] && live.announce === 'status',
    `the status line is a live region (${live.status}), #announce is ${live.announce}`,
  );
  await page.evaluate(() => {
    window.said = [];
    const a = document.querySelector('#announce');
    new MutationObserver(() => window.said.push(a.textContent)).observe(a, {
      childList: true,
      characterData: true,
      subtree: true,
    });
    window.statusChanges = 0;
    new MutationObserver(() => ++window.statusChanges).observe(document.querySelector('#status'), {
      childList: true,
      characterData: true,
      subtree: true,
    });
  });
  const pad = await page.$('#draw');
  await pad.scrollIntoViewIfNeeded();
  const box = await pad.boundingBox();
  await page.mouse.move(box.x + 140, box.y + 40);
  await page.mouse.down();
  for (let k = 0; k <= 20; ++k) await page.mouse.move(box.x + 140, box.y + 40 + 10 * k);
  await page.mouse.up();
  await page.waitForFunction(() => window.explorer.state.drawn !== null && !window.explorer.state.stroking);
  await page.waitForTimeout(100);
  const stroke = await page.evaluate(() => ({ said: window.said.slice(), status: window.statusChanges }));
  check(
    stroke.status >= 5 && stroke.said.length === 1 && stroke.said[0].startsWith('your drawing'),
    `a stroke changed the status ${stroke.status} times and the live region said ${JSON.stringify(stroke.said)}`,
  );
  await page.evaluate(() => (window.said.length = 0));
  await page.click('#train-play');
  await page.waitForFunction(() => window.explorer.training.trainer.steps >= 1000);
  const whileTraining = await page.evaluate(() => window.said.length);
  await page.click('#train-play');
  await page.evaluate(() => window.explorer.settled?.()); // a training run's last weights, where it has them
  await page.waitForTimeout(100);
  const trained = await page.evaluate(() => window.said.slice());
  // once paused: the trained weights said (twice at most: the last weights may change the answer)
  check(
    whileTraining === 0 &&
      trained.length >= 1 &&
      trained.length <= 2 &&
      trained.every((s) => s.includes('training steps')),
    `training: the live region said ${whileTraining} things while it ran, then ${JSON.stringify(trained)}`,
  );
  await page.evaluate(() => {
    window.said.length = 0;
    document.activeElement?.blur();
  });
  await page.keyboard.press('Home');
  const stepped = await page.evaluate(() => window.said.slice());
  check(stepped.length === 1 && stepped[0].startsWith('step 1/22'), `a step said ${JSON.stringify(stepped)}`);

  if (shots) {
    for (const [width, height] of [
      [1280, 1000],
      [1920, 1080],
    ]) {
      await page.setViewportSize({ width, height });
      await open(`#seed=42&sample=0&recipe=article&step=0`);
      await page.keyboard.press('End');
      for (let s = 21; s > z2; --s) await page.keyboard.press('ArrowLeft');
      await page.evaluate(() => window.scrollTo(0, 0)); // the page's top: the status, controls, keys
      await page.screenshot({ path: path.join(shots, `explorer-${width}.png`) });
    }
  }
  check(errors.length === 0, `layout: console errors: ${errors.join(' | ')}`);
  await context.close();
  return (
    `layout: ${widths.join(', ')} px with nothing hidden or outside the window, the current card in view; ` +
    `keys, E1 and its link, the lit region, the tiles' caption and the curve's ticks; no key taken from a ` +
    `focused control; ${named.length} canvases named with their values; ${judged} texts at >= 4.5:1 ` +
    `(the lowest ${worst.toFixed(2)}:1); the live region once per change of meaning`
  );
}
