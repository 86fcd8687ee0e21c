// Issue 15: the security events of a member's file in the back office are a
// table on a desktop and cards on a phone (each cell under its column's
// name), with no sideways scroll at 375 px. API mocked (lib/fixtures.js);
// axe and CSP at both sizes.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { checkCardTable, checkPage, useStack, watch } from './lib/browser.js';
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

describe('back office: a member\'s events', () => {
  test('desktop: a table, one row per event, the header shown', async () => {
    const { ctx, page } = await openFile({ width: 1280, height: 900 });
    try {
      assert.ok(await page.locator('#evenements-table thead').isVisible());
      assert.deepEqual(await page.locator('#evenements-table thead th').allTextContents(), HEADERS);
      assert.equal((await checkCardTable(page, '#evenements tr', HEADERS)).length, 4);
      assert.match(await page.locator('#evenements').textContent(), /Safari sur iOS/);
      await checkPage(page, 'backoffice-evenements', 'tableau-bureau');
    } finally {
      await ctx.close();
    }
  });

  test('375x812: cards, each cell under its column\'s name, no sideways scroll', async () => {
    const { ctx, page } = await openFile({ width: 375, height: 812 });
    try {
      assert.equal((await checkCardTable(page, '#evenements tr', HEADERS)).length, 4);
      await checkPage(page, 'backoffice-evenements', 'cartes-mobile');
    } finally {
      await ctx.close();
    }
  });
});
