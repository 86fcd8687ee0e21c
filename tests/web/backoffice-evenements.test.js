// Issue 15: the security events of a member's file in the back office are a
// table on a desktop and cards on a phone (each cell under its column's
// name), with no sideways scroll at 375 px. API mocked (lib/fixtures.js);
// axe and CSP at both sizes.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { checkPage, useStack, watch } from './lib/browser.js';
import { mockApi } from './lib/fixtures.js';
import { WebStack } from './lib/stack.js';

const stack = new WebStack('backoffice-evenements');
let browser;
useStack(stack, (b) => { browser = b; });

const CSRF = 'a'.repeat(64);
const AGENT = [200, { kind: 'agent', level: 'agent', role: 'agent', csrf_token: CSRF, permissions: ['members.read', 'members.lock'] }];
const ME = [200, { id: 3, login: 'kbenali', display_name: 'Karim Benali', role: 'agent' }];
const MEMBER = [200, {
  id: 42, nir: '184057505612345', first_name: 'Camille', last_name: 'Durand', birth_date: '1984-05-17', email: 'camille.durand@example.fr', fund: 'CPAM de Paris',
  lock: null, counters: { password_failures: 1, second_factor_failures: 0 },
  last_sign_ins: [{ at: '2026-11-29T08:15:07Z', ip: '2.2.2.2', country: 'FR', user_agent: 'Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Mobile Safari/537.36' }],
}];
const HEADERS = ['Date et heure', 'Événement', 'Détail', 'Appareil', 'Adresse IP', 'Pays'];

async function openFile(viewport) {
  const ctx = await browser.newContext({ baseURL: stack.baseUrl, locale: 'fr-FR', timezoneId: 'Europe/Paris', viewport });
  await mockApi(ctx, 'agent', { 'GET /api/v1/session': AGENT, 'GET /api/v1/backoffice/me': ME, 'GET /api/v1/backoffice/members': MEMBER });
  const page = watch(await ctx.newPage());
  await page.goto('/backoffice/recherche.html#nir=184057505612345');
  await page.locator('#evenements tr').nth(3).waitFor();
  return { ctx, page };
}

/** Per row: its box and its cells' boxes, texts and data-label. */
function layout(page) {
  return page.locator('#evenements tr').evaluateAll((rows) => rows.map((tr) => ({
    box: tr.getBoundingClientRect().toJSON(),
    cells: [...tr.cells].map((td) => ({
      box: td.getBoundingClientRect().toJSON(),
      label: td.dataset.label,
      before: getComputedStyle(td, '::before').content,
    })),
  })));
}

describe('back office: a member\'s events', () => {
  test('desktop: a table, one row per event, the header shown', async () => {
    const { ctx, page } = await openFile({ width: 1280, height: 900 });
    try {
      assert.ok(await page.locator('#evenements-table thead').isVisible());
      assert.deepEqual(await page.locator('#evenements-table thead th').allTextContents(), HEADERS);
      const rows = await layout(page);
      assert.equal(rows.length, 4);
      for (const r of rows) {
        // The cells side by side on one line, no label drawn before them.
        const tops = new Set(r.cells.map((c) => Math.round(c.box.top)));
        assert.equal(tops.size, 1, 'one line per event');
        assert.ok(r.cells.every((c) => c.before === 'none' || c.before === 'normal'));
      }
      assert.match(await page.locator('#evenements').textContent(), /Safari sur iOS/);
      await checkPage(page, 'backoffice-evenements', 'tableau-bureau');
    } finally {
      await ctx.close();
    }
  });

  test('375x812: cards, each cell under its column\'s name, no sideways scroll', async () => {
    const { ctx, page } = await openFile({ width: 375, height: 812 });
    try {
      const rows = await layout(page);
      assert.equal(rows.length, 4);
      for (const r of rows) {
        assert.ok(r.box.right <= 375 && r.box.left >= 0, `a card within the screen: ${JSON.stringify(r.box)}`);
        // Stacked: each cell under the previous one, named by its column.
        for (let i = 1; i < r.cells.length; i++) assert.ok(r.cells[i].box.top >= r.cells[i - 1].box.bottom - 1);
        assert.deepEqual(r.cells.map((c) => c.label), HEADERS);
        assert.deepEqual(r.cells.map((c) => c.before), HEADERS.map((h) => `"${h}"`));
      }
      // The header row is out of sight (the names head the cells) but read.
      const head = await page.locator('#evenements-table thead').evaluate((t) => [getComputedStyle(t).position, getComputedStyle(t).display, getComputedStyle(t).height, getComputedStyle(t).clip, JSON.stringify(t.getBoundingClientRect())]);
      assert.equal(head[0], 'absolute', head.join(' '));
      assert.equal(await page.locator('#evenements-table thead').evaluate((t) => t.getBoundingClientRect().height <= 1), true, head.join(' '));
      const widths = await page.evaluate(() => ({
        page: document.documentElement.scrollWidth,
        table: document.querySelector('#evenements-table').parentElement.scrollWidth,
      }));
      assert.ok(widths.page <= 375, `page width ${widths.page}`);
      assert.ok(widths.table <= 375, `table wrapper width ${widths.table}`);
      await checkPage(page, 'backoffice-evenements', 'cartes-mobile');
    } finally {
      await ctx.close();
    }
  });
});
