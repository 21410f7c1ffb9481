// The explorer's two tables of words (web/i18n.js), under Node alone, no browser:
//   node i18n.mjs ROOT
// every key of the English table is in the Chinese one and the other way round; a string names
// the same {params} in both; every Chinese string has Chinese in it (or no words at all:
// "{leaf}[{i}]" ...); each data-i18n key of web/index.html and each key web/*.js asks for by
// name is in the tables; t() fills the params; the browser's language list (navigator.languages)
// chooses the first of zh* and en* in it, else en.
import path from 'node:path';
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

const root = path.resolve(process.argv[2] ?? '.');
const i18n = await import(pathToFileURL(path.join(root, 'web', 'i18n.js')).href);
const { kStrings, kLanguages, t, setLanguage, browserLanguage, tParts } = i18n;

const problems = [];
const check = (cond, why) => cond || problems.push(why);
const cjk = /[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]/;
// the names a string fills in (a translation may name one twice, as Chinese word order asks)
const params = (s) => [...new Set([...s.matchAll(/\{(\w+)\}/g)].map((m) => m[1]))].sort();

check(JSON.stringify(kLanguages) === '["en","zh"]', `languages: ${kLanguages}`);
const [en, zh] = [kStrings.en, kStrings.zh];
for (const k of Object.keys(en)) check(k in zh, `'${k}' is in the English table, not in the Chinese one`);
for (const k of Object.keys(zh)) check(k in en, `'${k}' is in the Chinese table, not in the English one`);
for (const k of Object.keys(en).filter((k) => k in zh)) {
  check(
    JSON.stringify(params(en[k])) === JSON.stringify(params(zh[k])),
    `'${k}': the English string names {${params(en[k])}}, the Chinese one {${params(zh[k])}}`,
  );
  // a string with words has Chinese in it (an empty one: English needs a word Chinese does not)
  const words = zh[k]
    .replace(/\{\w+\}/g, '')
    .replace(/[^A-Za-z]+/g, ' ')
    .trim();
  check(zh[k] === '' || cjk.test(zh[k]) || words === '', `'${k}': no Chinese in "${zh[k]}"`);
}
const html = readFileSync(path.join(root, 'web', 'index.html'), 'utf8');
const used = [...html.matchAll(/data-i18n(?:-[a-z-]+)?="([^"]+)"/g)].map((m) => m[1]);
check(used.length > 30, `web/index.html names ${used.length} keys`);
for (const k of used) check(k in en, `web/index.html's key '${k}' is not in the tables`);
for (const file of ['page.js', 'graph.js', 'draw.js', 'yourturn.js']) {
  const code = readFileSync(path.join(root, 'web', file), 'utf8');
  for (const m of code.matchAll(/\bt\('(\w+)'/g)) check(m[1] in en, `web/${file}: t('${m[1]}') is not in the tables`);
}

setLanguage('zh');
check(t('stepInfo', { n: 3, total: 22, phase: t('forward'), node: 'Z1' }) === '第 3/22 步：前向 Z1', 't() in zh');
setLanguage('en');
check(t('stepInfo', { n: 3, total: 22, phase: t('forward'), node: 'Z1' }) === 'step 3/22: forward Z1', 't() in en');
check(JSON.stringify(tParts('ignored', { what: 'foo=1', why: ['x'] })) === '["foo=1"," (","x",")"]', 'tParts()');
let threw = false;
try {
  t('no such key');
} catch {
  threw = true;
}
check(threw, 'a key the tables do not have throws');
for (const [list, want] of [
  [['zh-CN', 'en'], 'zh'],
  [['zh-TW'], 'zh'],
  [['ZH'], 'zh'],
  [['fr-FR', 'zh-Hans-CN'], 'zh'],
  [['en-GB', 'zh-CN'], 'en'],
  [['fr', 'de'], 'en'],
  [[], 'en'],
]) {
  check(browserLanguage(list) === want, `browser languages ${list}: ${browserLanguage(list)}, not ${want}`);
}

if (problems.length) {
  for (const p of problems) console.log(`FAILED: ${p}`);
  process.exit(1);
}
console.log(`ok: ${Object.keys(en).length} strings in en and zh, the same keys and params; index.html's keys`);
