#!/usr/bin/env node
// script/dsfr-subset.mjs DIST OUT SCAN_DIR...: the part of the DSFR the pages
// use, called by script/web-build.
//
// DIST is node_modules/@gouvfr/dsfr/dist, OUT the directory served as /dsfr/
// (web/dsfr). The pages, partials and scripts under the SCAN_DIRs (.html,
// .js; .c and .h for icon names only, should a module's API ever name one)
// are scanned for DSFR classes (fr-*), and OUT gets:
//
//   dsfr.min.css           the core and every component, in the order of
//                          the DSFR's bundle, print rules last, each rule kept
//                          only when the pages can match it (dropUnmatched:
//                          the classes of its selector are used by a page or
//                          may be added by a script); url()s rewritten for
//                          OUT; no legacy (IE) rules
//   utility/icons/icons.min.css   only the icon classes used (fr-icon-*, fr-fi-*)
//   icons/...              only the SVGs those two files point at
//   dsfr.module.min.js     the core's JavaScript, then that of each component
//                          a used class starts a selector of, in the order of
//                          the DSFR's own bundle,
//                          each in a block of its own (their top-level consts
//                          would otherwise collide in one module)
//   fonts/, favicon/       as shipped (a font is fetched only when used)
//
// It fails when a class the pages use is defined by the full DSFR and not by
// the subset: a page never loses its styles silently.
import { cpSync, existsSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';

const [dist, out, ...scanDirs] = process.argv.slice(2);
if (!dist || !out || scanDirs.length === 0) {
  console.error('usage: dsfr-subset.mjs DIST OUT SCAN_DIR...');
  process.exit(2);
}

const read = (p) => readFileSync(join(dist, p), 'utf8');
const banner = (css) => css.replace(/^@charset "UTF-8";/, '').replace(/\/\*![\s\S]*?\*\//g, '').replace(/\/\*# sourceMappingURL=.*?\*\//g, '').trim();

// --- What the pages use ---------------------------------------------------
const CLASS = /\bfr-[a-z0-9]+(?:(?:-|__|--)[a-z0-9]+)*/g;
const ICON = /\bfr-(?:icon|fi)-[a-z0-9]+(?:-[a-z0-9]+)*/g;
const used = new Set();
// Class names a page script composes (`fr-alert--${type}`, 'fr-badge--' + x):
// every class with that start counts as used.
const DYNAMIC = /\bfr-[a-z0-9_-]*(?=\$\{|['"`]\s*\+)/g;
const prefixes = new Set();
function scan(dir) {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (name.startsWith('.') || name === 'dsfr' || name === 'zxcvbn' || name === 'node_modules') continue;
    const st = statSync(p);
    if (st.isDirectory()) scan(p);
    else if (/\.(html|js)$/.test(name)) {
      const text = readFileSync(p, 'utf8');
      for (const m of text.matchAll(CLASS)) used.add(m[0]);
      for (const m of text.matchAll(DYNAMIC)) prefixes.add(m[0]);
    }
    else if (/\.[ch]$/.test(name)) for (const m of readFileSync(p, 'utf8').matchAll(ICON)) used.add(m[0]);
  }
}
for (const d of scanDirs) if (existsSync(d)) scan(d);

// --- CSS as a list of top-level blocks (rules, @media, @font-face...) ----
function blocks(css) {
  const list = [];
  let depth = 0, start = 0, quote = null;
  for (let i = 0; i < css.length; i++) {
    const c = css[i];
    if (quote) {
      if (c === '\\') i++;
      else if (c === quote) quote = null;
    } else if (c === '"' || c === "'") quote = c;
    else if (c === '{') depth++;
    else if (c === '}' && --depth === 0) {
      list.push(css.slice(start, i + 1).trim());
      start = i + 1;
    }
  }
  return list;
}
// A selector list's selectors (commas inside :not(...) and the like stay).
function splitSelectors(head) {
  const out = [];
  let depth = 0, start = 0;
  for (let i = 0; i < head.length; i++) {
    if (head[i] === '(') depth++;
    else if (head[i] === ')') depth--;
    else if (head[i] === ',' && depth === 0) {
      out.push(head.slice(start, i));
      start = i + 1;
    }
  }
  out.push(head.slice(start));
  return out;
}
// The classes a block's selectors mention (in @media and @supports too).
function selectorsOf(block) {
  const head = block.slice(0, block.indexOf('{'));
  if (head.startsWith('@media') || head.startsWith('@supports')) {
    return { all: blocks(block.slice(block.indexOf('{') + 1, -1)).flatMap((b) => selectorsOf(b).all) };
  }
  if (head.startsWith('@')) return { all: [] };
  return { all: [...head.matchAll(/\.(fr-[a-zA-Z0-9_-]+)/g)].map((m) => m[1]) };
}
function classesOf(css) {
  const s = new Set();
  for (const b of blocks(css)) for (const c of selectorsOf(b).all) s.add(c);
  return s;
}

// --- Components -----------------------------------------------------------
const components = readdirSync(join(dist, 'component'))
  .filter((n) => existsSync(join(dist, 'component', n, `${n}.main.min.css`)))
  .sort();
// Every component's stylesheet, in the order of the DSFR's own bundle
// (dsfr.main.min.css: the cascade between rules of equal specificity stays
// what the DSFR intends), then cut down to the rules the pages can match
// (below): a component no page uses leaves (next to) nothing.
const bundle = read('dsfr.main.min.css');
const rank = (n) => bundle.indexOf(banner(read(`component/${n}/${n}.main.min.css`)).slice(0, 200));
const chosen = [...components].sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
// A component's script comes when a class the pages use starts one of its
// selectors (.fr-header, .fr-checkbox-group input...).
const scripted = new Set(components.filter((name) => blocks(read(`component/${name}/${name}.main.min.css`))
  .some((b) => {
    const head = b.slice(0, b.indexOf('{'));
    return splitSelectors(head).some((sel) => {
      const first = sel.match(/\.(fr-[a-zA-Z0-9_-]+)/);
      return first && used.has(first[1]);
    });
  })));

// Within the core and those components, the rules no page can match are
// left out: a rule stays when one of its selectors names only classes the
// pages use, classes with a composed start (above), or classes the DSFR's
// own scripts may add (every word of their strings, as fr-WORD: a wide net).
const fromScripts = new Set();
const words = new Set();
for (const m of read('dsfr.module.js').matchAll(/(['"`])((?:(?!\1)[^\\\n]|\\.)*)\1/g)) {
  for (const w of m[2].split(/[^a-z0-9_-]+/)) {
    const word = w.replace(/^-+/, '');
    if (!word) continue;
    words.add(word);
    fromScripts.add(word.startsWith('fr-') ? word : `fr-${word}`);
  }
}
// The scripts also compose states: BLOCK--WORD (fr-modal--opened from the
// modal's type and the state 'opened'): possible when BLOCK is and WORD is
// one of their words.
const possible = (c) => {
  if (used.has(c) || fromScripts.has(c) || [...prefixes].some((p) => c.startsWith(p))) return true;
  const i = c.lastIndexOf('--');
  return i > 3 && words.has(c.slice(i + 2)) && possible(c.slice(0, i));
};
function dropUnmatched(text) {
  return blocks(text).map((b) => {
    const brace = b.indexOf('{');
    const head = b.slice(0, brace).trim();
    if (head.startsWith('@media') || head.startsWith('@supports')) {
      const inner = dropUnmatched(b.slice(brace + 1, -1));
      return inner ? `${head}{${inner}}` : '';
    }
    if (head.startsWith('@')) return b;
    // Classes inside :not(), :is(), :where(), :has() are not required.
    const required = (sel) => {
      let t = sel;
      while (/\([^()]*\)/.test(t)) t = t.replace(/\([^()]*\)/g, '');
      return [...t.matchAll(/\.(fr-[a-zA-Z0-9_-]+)/g)].map((m) => m[1]);
    };
    const keep = splitSelectors(head).some((sel) => required(sel).every(possible));
    return keep ? b : '';
  }).join('');
}

// url()s: core/ and component/NAME/ are one or two levels below DIST; OUT's
// dsfr.min.css sits where DIST's does.
const rebase = (css, up) => css.replace(/url\((['"]?)((?:\.\.\/)+)(fonts|icons)\//g, (m, q, dots, dir) => (dots.length / 3 === up ? `url(${q}${dir}/` : m));
// The core's utility classes (margins and paddings, grid columns and
// offsets, every breakpoint: a third of the core) that no page names are
// left out. The DSFR's scripts never add these.
const UTILITY = /^\.fr-(?:(?:m|p)[trblxy]?-(?:(?:sm|md|lg|xl)-)?(?:n?\d+v|\d+w|auto|0)|col(?:-(?:sm|md|lg|xl))?(?:-\d+)?|col-offset(?:-(?:sm|md|lg|xl))?-\d+(?:--right)?)$/;
function dropUnusedUtilities(text) {
  return blocks(text).map((b) => {
    const brace = b.indexOf('{');
    const head = b.slice(0, brace).trim();
    if (head.startsWith('@media')) {
      const inner = dropUnusedUtilities(b.slice(brace + 1, -1));
      return inner ? `${head}{${inner}}` : '';
    }
    if (head.startsWith('@')) return b;
    const sels = splitSelectors(head).map((x) => x.trim());
    const util = sels.every((x) => UTILITY.test(x.replace(/::?[a-z-]+(\([^)]*\))?/g, '')));
    return util && !sels.some((x) => used.has(x.replace(/::?[a-z-]+(\([^)]*\))?/g, '').slice(1))) ? '' : b;
  }).join('');
}
const parts = [rebase(dropUnmatched(dropUnusedUtilities(banner(read('core/core.main.min.css')))), 1)];
for (const n of chosen) parts.push(rebase(dropUnmatched(banner(read(`component/${n}/${n}.main.min.css`))), 2));
const print = [rebase(dropUnmatched(banner(read('core/core.print.min.css'))), 1)];
for (const n of chosen) {
  const p = `component/${n}/${n}.print.min.css`;
  if (existsSync(join(dist, p))) print.push(rebase(dropUnmatched(banner(read(p))), 2));
}
const license = read('dsfr.min.css').match(/\/\*![\s\S]*?\*\//)[0];
const css = `@charset "UTF-8";\n${license}\n${parts.join('\n')}\n${print.filter(Boolean).join('\n')}\n`;

// --- Icons ----------------------------------------------------------------
const iconsCss = read('utility/icons/icons.main.min.css');
const keepIcons = blocks(banner(iconsCss)).filter((b) => selectorsOf(b).all.some((c) => used.has(c)));
const icons = `@charset "UTF-8";\n${license}\n${keepIcons.join('\n')}\n`;

// --- Check: nothing the pages use is lost ---------------------------------
const full = new Set([...classesOf(read('dsfr.main.min.css')), ...classesOf(iconsCss)]);
const kept = new Set([...classesOf(parts.join('\n')), ...classesOf(keepIcons.join('\n'))]);
const lost = [...used].filter((c) => full.has(c) && !kept.has(c)).sort();
if (lost.length) {
  console.error(`dsfr-subset: classes the pages use and the subset lacks: ${lost.join(' ')}`);
  process.exit(1);
}

// --- JavaScript -----------------------------------------------------------
const order = [...read('dsfr.module.js').matchAll(/^api\.([a-z]+) = \{/gm)].map((m) => m[1]);
const jsOf = (p) => read(p).replace(/\/\*![\s\S]*?\*\//, '').replace(/\/\/# sourceMappingURL=.*$/m, '').trim();
const js = [read('dsfr.module.min.js').match(/\/\*![\s\S]*?\*\//)[0], `{\n${jsOf('core/core.module.min.js')}\n}`];
for (const n of order) {
  if (scripted.has(n) && existsSync(join(dist, 'component', n, `${n}.module.min.js`))) {
    js.push(`{\n${jsOf(`component/${n}/${n}.module.min.js`)}\n}`);
  }
}

// --- Write ----------------------------------------------------------------
mkdirSync(join(out, 'utility', 'icons'), { recursive: true });
writeFileSync(join(out, 'dsfr.min.css'), css);
writeFileSync(join(out, 'utility', 'icons', 'icons.min.css'), icons);
writeFileSync(join(out, 'dsfr.module.min.js'), `${js.join('\n')}\n`);
const svgs = new Set();
for (const m of css.matchAll(/url\(['"]?icons\/([^)'"]+)/g)) svgs.add(m[1]);
for (const m of icons.matchAll(/url\(['"]?\.\.\/\.\.\/icons\/([^)'"]+)/g)) svgs.add(m[1]);
for (const s of svgs) {
  const dst = join(out, 'icons', s);
  mkdirSync(dirname(dst), { recursive: true });
  cpSync(join(dist, 'icons', s), dst);
}
cpSync(join(dist, 'fonts'), join(out, 'fonts'), { recursive: true });
cpSync(join(dist, 'favicon'), join(out, 'favicon'), { recursive: true });
console.log(`dsfr-subset: ${(css.length / 1024).toFixed(0)} KiB of CSS, components used: ${[...scripted].join(' ')}, ` +
  `${keepIcons.length} icon rules, ${svgs.size} SVGs, from ${scanDirs.map((d) => relative(process.cwd(), d) || '.').join(' ')}`);
