// The portal's frame (API mocked, lib/fixtures.js): the member dashboard's
// menu, cards (one in error) and notification bell from GET /api/v1/portal
// and /dashboard; the notifications page (list, mark read, mark all read,
// mail preferences); the back office's menu from the same route. Desktop
// and a 375x812 phone, axe and screenshots.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { checkPage, useStack, watch } from './lib/browser.js';
import { mockApi } from './lib/fixtures.js';
import { WebStack } from './lib/stack.js';

const stack = new WebStack('portal');
let browser;
useStack(stack, (b) => { browser = b; });

const VIEWPORTS = [['bureau', { width: 1280, height: 900 }], ['mobile', { width: 375, height: 812 }]];

async function open(path, session, viewport, overrides) {
  const ctx = await browser.newContext({ baseURL: stack.baseUrl, locale: 'fr-FR', timezoneId: 'Europe/Paris', viewport });
  const calls = await mockApi(ctx, session, overrides);
  const page = watch(await ctx.newPage());
  await page.goto(path);
  return { ctx, page, calls };
}

describe('member portal', () => {
  for (const [name, viewport] of VIEWPORTS) {
    test(`${name}: dashboard with menu, cards and bell`, async () => {
      const { ctx, page } = await open('/tableau-de-bord.html', 'member', viewport);
      try {
        await page.locator('#cartes [data-card]').first().waitFor();
        // The menu and the bell come from the header's own GET /portal, not
        // the cards': both are drawn when the bell has its count (hidden in
        // the phone's header, hence attached).
        await page.locator('#cloche[data-unread]').waitFor({ state: 'attached' });
        assert.equal(await page.locator('#cloche').textContent(), 'Notifications (2 non lues)');
        assert.equal(await page.locator('#cloche').getAttribute('href'), '/notifications.html');
        const err = page.locator('#cartes [data-card="messaging"]');
        assert.match(await err.textContent(), /Information momentanément indisponible/);
        assert.match(await page.locator('#cartes [data-card="reimbursements"]').textContent(), /2 remboursements/);
        const links = await page.locator('#navigation a').evaluateAll((as) => as.map((a) => a.getAttribute('href')));
        assert.deepEqual(links, ['/remboursements/', '/compte/appareils.html']);
        await checkPage(page, 'portal', `${name}-tableau-de-bord`);
      } finally {
        await ctx.close();
      }
    });

    test(`${name}: notifications page, mark read, mark all read, preferences`, async () => {
      const { ctx, page, calls } = await open('/notifications.html', 'member', viewport);
      try {
        await page.locator('#notifications li[data-id="3"]').waitFor();
        assert.equal(await page.locator('#notifications .portail-non-lue').count(), 2);
        assert.equal(await page.locator('#compte-non-lues').textContent(), '2 notifications non lues.');
        await page.locator('#choix input[name="messaging.reply"]').waitFor();
        assert.equal(await page.locator('#choix input[name="reimbursements.paid"]').isChecked(), true);
        assert.equal(await page.locator('#choix input[name="messaging.reply"]').isChecked(), false);
        await checkPage(page, 'portal', `${name}-notifications`);

        await page.locator('#notifications li[data-id="3"] button').click();
        await page.locator('#compte-non-lues', { hasText: '1 notification non lue.' }).waitFor();
        assert.ok(calls.some((c) => c.key === 'POST /api/v1/notifications/3/read' && c.headers['x-csrf-token']));
        await page.locator('#tout-lu').click();
        await page.locator('#compte-non-lues', { hasText: 'Aucune notification non lue.' }).waitFor();
        assert.equal(await page.locator('#notifications .portail-non-lue').count(), 0);

        await page.locator('label[for="pref-1"]').click();
        await page.locator('#preferences button[type=submit]').click();
        await page.locator('#preferences-statut .fr-alert--success').waitFor();
        const put = calls.find((c) => c.key === 'PUT /api/v1/notifications/preferences');
        assert.deepEqual(JSON.parse(put.body), { kinds: [
          { kind: 'reimbursements.paid', mail: true }, { kind: 'messaging.reply', mail: true }] });
        await checkPage(page, 'portal', `${name}-notifications-apres`);
      } finally {
        await ctx.close();
      }
    });
  }
});

describe('back office menu', () => {
  const agentPortal = { menu: 'backoffice', modules: ['unlock'], items: [
    { label: 'Rechercher un assuré', href: '/backoffice/recherche.html', text: null, module: 'unlock' }] };
  test('the menu holds what /api/v1/portal gives, no hard-coded audit link', async () => {
    const { ctx, page } = await open('/backoffice/recherche.html', 'agent', VIEWPORTS[0][1],
      { 'GET /api/v1/portal': [200, agentPortal] });
    try {
      await page.locator('#navigation a').first().waitFor({ state: 'attached' });
      const links = await page.locator('#navigation a').evaluateAll((as) => as.map((a) => a.getAttribute('href')));
      assert.deepEqual(links, ['/backoffice/recherche.html']);
      // The file's link to the audit log is in the page, hidden but for
      // supervisors (audit.read): none is shown to this agent.
      assert.equal(await page.locator('a[href="/backoffice/audit.html"]:visible').count(), 0);
      assert.equal(await page.locator('#navigation a').getAttribute('aria-current'), 'page');
      await checkPage(page, 'portal', 'backoffice-menu-agent');
    } finally {
      await ctx.close();
    }
  });
});
