// Debian's Chromium driven by playwright-core, and the checks run on every
// page: a screenshot kept under the run's artifacts, axe-core (no serious or
// critical violation), no CSP violation, no uncaught script error.
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before } from 'node:test';
import AxeBuilder from '@axe-core/playwright';
import { chromium } from 'playwright-core';
import { ARTIFACTS } from './stack.js';

// Per /work/.library/env/machines/c.md: without the background-networking
// flags Chromium's own connections are refused by the closed network.
export const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
  '--disable-dev-shm-usage', '--lang=fr-FR'];

/** Debian's Chromium, or $PORTAIL_CHROMIUM (Lighthouse launches it too). */
export const CHROMIUM = process.env.PORTAIL_CHROMIUM || '/usr/bin/chromium';

export async function launch() {
  // playwright-core gives each launch a new empty profile (--user-data-dir).
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_ARGS,
    // French date fields (jj/mm/aaaa) as a French user sees them.
    env: { ...process.env, LANG: 'fr_FR.UTF-8', LANGUAGE: 'fr' },
  });
}

/** A browser context (own cookies) that poses as clientIp for nginx
 * (X-Forwarded-For, trusted from 127.0.0.1: 2.2.2.2 → FR, 8.8.8.8 → US). */
export async function newContext(browser, stack, { clientIp = '2.2.2.2' } = {}) {
  const ctx = await browser.newContext({
    baseURL: stack.baseUrl,
    locale: 'fr-FR',
    timezoneId: 'Europe/Paris',
    viewport: { width: 1280, height: 900 },
    acceptDownloads: true,
    extraHTTPHeaders: clientIp ? { 'X-Forwarded-For': clientIp } : {},
  });
  await ctx.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: stack.baseUrl });
  return ctx;
}

/** Watches a page for CSP violations, uncaught errors and failed
 * same-origin static files. */
export function watch(page) {
  const problems = [];
  page.on('console', (m) => {
    const t = m.text();
    if (/Content Security Policy|Refused to (apply|load|execute)/i.test(t)) problems.push(`CSP: ${t}`);
  });
  page.on('pageerror', (e) => problems.push(`script error: ${e.message}`));
  page.on('response', (r) => {
    const u = new URL(r.url());
    if (!u.pathname.startsWith('/api/') && r.status() >= 400) problems.push(`${r.status()} for ${u.pathname}`);
  });
  page.problems = problems;
  return page;
}

const counters = new Map();

/** The checks of one page state: screenshot (ARTIFACTS/screenshots/SUITE/NN-NAME.png),
 * axe (serious and critical violations fail), no CSP or script problem.
 * Returns the screenshot's path. */
export async function checkPage(page, suite, name) {
  await page.waitForLoadState('networkidle').catch(() => {});
  await page.evaluate(() => document.fonts && document.fonts.ready);
  const n = (counters.get(suite) || 0) + 1;
  counters.set(suite, n);
  const dir = join(ARTIFACTS, 'screenshots', suite);
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${String(n).padStart(2, '0')}-${name}.png`);
  await page.screenshot({ path: file, fullPage: true });

  const result = await new AxeBuilder({ page })
    .withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'])
    .analyze();
  const bad = result.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  const describe = (vs) => vs.map((v) => `${v.impact} ${v.id}: ${v.help} — ${v.nodes.slice(0, 3).map((x) => x.target.join(' ')).join(' | ')}`).join('\n');
  assert.equal(bad.length, 0, `axe on ${name} (${page.url()}):\n${describe(bad)}`);
  assert.deepEqual(page.problems || [], [], `problems on ${name} (${page.url()})`);

  // Every page: French, a title of its own ending with the fund's name
  // (the brand's fragment, as in the header), one h1.
  const { lang, title, h1, brand } = await page.evaluate(() => ({
    lang: document.documentElement.lang,
    title: document.title,
    h1: document.querySelectorAll('h1').length,
    brand: document.querySelector('.fr-header__service-title')?.textContent.trim(),
  }));
  assert.equal(lang, 'fr');
  assert.ok(brand, `a brand name in the header of ${name}`);
  assert.ok(title.endsWith(` — ${brand}`) && title.length > brand.length + 3,
    `the title of ${name} ends with the fund's name: ${title}`);
  assert.equal(h1, 1, `one h1 on ${name}`);
  return file;
}

/** A table read as cards on a phone (.portail-table-cartes, its rows
 * matched by rows, e.g. '#audit tr'), checked at the page's size: on a
 * desktop one line per row and no name drawn before the cells; below the
 * DSFR's md breakpoint each row a card within the screen, its cells stacked
 * and each under its column's name (headers, the data-label drawn before
 * it), the header row out of sight, and no sideways scroll. Returns the
 * rows' layout: per row its box and its cells' boxes, labels and texts. */
export async function checkCardTable(page, rows, headers) {
  const layout = await page.locator(rows).evaluateAll((trs) => trs.map((tr) => ({
    box: tr.getBoundingClientRect().toJSON(),
    cells: [...tr.cells].map((td) => ({
      box: td.getBoundingClientRect().toJSON(),
      label: td.dataset.label,
      before: getComputedStyle(td, '::before').content,
      text: td.textContent,
    })),
  })));
  assert.ok(layout.length > 0, `rows ${rows}`);
  const { width } = page.viewportSize();
  if (width >= 768) {
    for (const r of layout) {
      assert.equal(new Set(r.cells.map((c) => Math.round(c.box.top))).size, 1, 'one line per row');
      assert.ok(r.cells.every((c) => c.before === 'none' || c.before === 'normal'), 'no name before a cell');
    }
    return layout;
  }
  for (const r of layout) {
    assert.ok(r.box.left >= 0 && r.box.right <= width, `a card within the screen: ${JSON.stringify(r.box)}`);
    assert.deepEqual(r.cells.map((c) => c.label), headers);
    assert.deepEqual(r.cells.map((c) => c.before), headers.map((h) => `"${h}"`));
    for (let i = 0; i < r.cells.length; i++) {
      const c = r.cells[i];
      assert.ok(c.box.width > 0 && c.box.height > 0 && c.box.left >= 0 && c.box.right <= width,
        `${c.label} shown within the screen: ${JSON.stringify(c.box)}`);
      if (i) assert.ok(c.box.top >= r.cells[i - 1].box.bottom - 1, `${c.label} under ${r.cells[i - 1].label}`);
    }
  }
  // The header row is out of sight (the names head the cells) but read.
  const head = await page.locator(rows).first().evaluate((tr) => {
    const t = tr.closest('table').tHead;
    return { position: getComputedStyle(t).position, height: t.getBoundingClientRect().height };
  });
  assert.equal(head.position, 'absolute');
  assert.ok(head.height <= 1, `header height ${head.height}`);
  const scroll = await page.locator(rows).first().evaluate((tr) => ({
    page: document.documentElement.scrollWidth,
    client: document.documentElement.clientWidth,
    wrapper: tr.closest('.portail-table-cartes').scrollWidth,
  }));
  assert.ok(scroll.page <= scroll.client, `no sideways scroll: ${JSON.stringify(scroll)}`);
  assert.ok(scroll.wrapper <= width, `table wrapper width ${scroll.wrapper}`);
  return layout;
}

/** Waits until the page has bound its form (ui.js bindForm marks it
 * novalidate): most pages bind after a request of their own (the session, a
 * mailed link's check), and a submit before that is not sent. */
export async function formBound(page, form = '#formulaire') {
  await page.locator(`${form}[novalidate]`).waitFor({ state: 'attached' });
}

/** The two sizes every page is driven at: a desktop and a phone (375×812). */
export const SIZES = [['bureau', { width: 1280, height: 900 }], ['mobile', { width: 375, height: 812 }]];

/** A suite's stack and browser: the stack started and the browser launched
 * before its tests (given to onBrowser), both stopped after them, the
 * stack's logs checked (stopAndCheck). */
export function useStack(stack, onBrowser) {
  let browser;
  before(async () => {
    await stack.start();
    browser = await launch();
    onBrowser(browser);
  });
  after(async () => {
    await browser?.close();
    await stack.stopAndCheck();
  });
}
