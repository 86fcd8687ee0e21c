// The member's own data (issue 14): the activity page (GET
// /api/v1/account/activity, paged) and the data page (the JSON download
// link, the closing of the online account with the password and a code),
// API mocked; axe and CSP at desktop size and 375x812.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { SIZES, checkPage, useStack, watch } from './lib/browser.js';
import { mockApi } from './lib/fixtures.js';
import { WebStack } from './lib/stack.js';

const stack = new WebStack('account-data');
let browser;
useStack(stack, (b) => { browser = b; });

const UA = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0 Safari/537.36';
const ev = (id, kind, label, extra = {}) => ({ id, kind, label, at: '2026-11-29 08:15:00', ip: '2.2.2.2', country: 'FR', user_agent: UA, detail: null, ...extra });
const PAGE1 = { events: [ev(9, 'login_succeeded', 'Connexion réussie'), ev(8, 'password_changed', 'Mot de passe modifié')], next_cursor: 8 };
const PAGE2 = { events: [ev(3, 'account_locked', 'Compte bloqué', { ip: null, country: null, user_agent: null })], next_cursor: null };

async function open(viewport, path, overrides = {}) {
  const ctx = await browser.newContext({ baseURL: stack.baseUrl, locale: 'fr-FR', timezoneId: 'Europe/Paris', viewport });
  const calls = await mockApi(ctx, 'member', overrides);
  const page = watch(await ctx.newPage());
  await page.goto(path);
  return { ctx, page, calls };
}

describe('member\'s own data', () => {
  for (const [size, viewport] of SIZES) {
    test(`activity page (${size})`, async () => {
      const { ctx, page, calls } = await open(viewport, '/compte/activite.html');
      try {
        await page.route('**/api/v1/account/activity?*', (r) => {
          const u = new URL(r.request().url());
          r.fulfill({ status: 200, contentType: 'application/json', body: JSON.stringify(u.searchParams.get('cursor') === '8' ? PAGE2 : PAGE1) });
        });
        await page.reload();
        await page.locator('#activite td', { hasText: 'Connexion réussie' }).waitFor();
        assert.match(await page.locator('#activite').textContent(), /Mot de passe modifié.*2\.2\.2\.2/s);
        await checkPage(page, 'account-data', `activite-${size}`);
        await page.click('#plus');
        await page.locator('#activite td', { hasText: 'Compte bloqué' }).waitFor();
        assert.equal(await page.locator('#activite tr').count(), 3);
        assert.equal(await page.locator('#plus').isHidden(), true);
        assert.ok(calls.length >= 0);
      } finally {
        await ctx.close();
      }
    });

    test(`data page: download link, closing with password and code (${size})`, async () => {
      const { ctx, page, calls } = await open(viewport, '/compte/mes-donnees.html', {
        'POST /api/v1/account/close': [200, { status: 'closed' }],
      });
      try {
        await page.locator('#password').waitFor();
        assert.equal(await page.locator('#telecharger').getAttribute('href'), '/api/v1/account/export');
        await checkPage(page, 'account-data', `mes-donnees-${size}`);
        await page.fill('#password', 'Tournesol-Violon-Pirogue-19');
        await page.fill('#code', '12');
        await page.click('#formulaire button[type=submit]');
        await page.locator('#code-erreur', { hasText: '6 chiffres' }).waitFor();
        await page.fill('#code', '123456');
        await page.click('#formulaire button[type=submit]');
        await page.locator('#statut .fr-alert--success', { hasText: 'compte en ligne est fermé' }).waitFor();
        const post = calls.find((c) => c.key === 'POST /api/v1/account/close');
        assert.deepEqual(JSON.parse(post.body), { password: 'Tournesol-Violon-Pirogue-19', code: '123456' });
        await checkPage(page, 'account-data', `mes-donnees-fermee-${size}`);
      } finally {
        await ctx.close();
      }
    });
  }
});
