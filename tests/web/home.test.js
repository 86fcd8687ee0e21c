// The member's home pages (API mocked, lib/fixtures.js), desktop and a
// 375x812 phone, axe and screenshots: the devices page (cards, every button
// on screen, "Déconnecter tous les autres appareils" with its confirmation),
// a device signed out from elsewhere told why on the sign-in page, the
// dashboard (services from the enabled modules, the previous sign-in), the
// home page (only what is enabled, the authenticator apps, signed-in members
// sent to the dashboard); then the 404 and 50x pages served by nginx for the
// site and the back office, the API's errors staying JSON.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { checkPage, useStack, watch } from './lib/browser.js';
import { API, member, mockApi, problem } from './lib/fixtures.js';
import { WebStack } from './lib/stack.js';

const stack = new WebStack('home');
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

/** Nothing wider than the viewport: no sideways scrolling on a phone. */
async function fitsWidth(page) {
  const { scroll, width } = await page.evaluate(() => ({ scroll: document.documentElement.scrollWidth, width: window.innerWidth }));
  assert.ok(scroll <= width, `page ${scroll}px wide in a ${width}px viewport`);
}

/** The element is entirely inside the viewport's width. */
async function onScreen(locator, width) {
  const box = await locator.boundingBox();
  assert.ok(box && box.x >= 0 && box.x + box.width <= width, `${JSON.stringify(box)} off a ${width}px screen`);
}

const THREE_SESSIONS = [200, { sessions: [...API['GET /api/v1/sessions'][1].sessions, {
  id: 3, created_at: '2025-01-02T08:00:00Z', last_seen_at: '2025-01-03T09:30:00Z', ip: '8.8.8.8', country: 'US',
  user_agent: 'Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Firefox/128.0', current: false }] }];

describe('devices page', () => {
  for (const [name, viewport] of VIEWPORTS) {
    test(`${name}: cards, sign one out, sign out every other one after a confirmation`, async () => {
      const { ctx, page, calls } = await open('/compte/appareils.html', 'member', viewport, {
        'GET /api/v1/sessions': THREE_SESSIONS,
        'POST /api/v1/sessions/revoke-others': [200, { revoked: 2 }],
      });
      try {
        const cards = page.locator('#appareils li[data-session]');
        await cards.nth(2).waitFor();
        assert.equal(await page.locator('#appareils table').count(), 0);
        assert.match(await cards.nth(1).textContent(), /Safari sur iOS.*Royaume-Uni \(adresse IP 5\.39\.1\.1\)/s);
        assert.match(await cards.nth(0).textContent(), /Cet appareil/);
        // Every "Déconnecter" button within a phone's width.
        for (const b of await page.locator('#appareils button', { hasText: 'Déconnecter' }).all()) await onScreen(b, viewport.width);
        await fitsWidth(page);
        await checkPage(page, 'home', `${name}-appareils`);

        // One device.
        await page.locator('#appareils button[data-id="5"]').click();
        await page.locator('#statut .fr-alert--success', { hasText: 'Appareil déconnecté\u00a0: Safari sur iOS' }).waitFor();
        assert.match(await page.locator('#statut').textContent(), /il faudra de nouveau votre mot de passe et un code de sécurité/);
        assert.ok(calls.some((c) => c.key === 'DELETE /api/v1/sessions/5' && c.headers['x-csrf-token']));

        // Every other one: asked first, cancel, then confirm.
        const all = page.locator('#deconnecter-autres');
        await onScreen(all, viewport.width);
        await all.click();
        await page.locator('#confirmation', { hasText: 'Déconnecter les 2 autres appareils\u00a0?' }).waitFor();
        assert.equal(await page.evaluate(() => document.activeElement.id), 'confirmation');
        assert.equal(calls.filter((c) => c.key === 'POST /api/v1/sessions/revoke-others').length, 0);
        await checkPage(page, 'home', `${name}-appareils-confirmation`);
        await page.locator('#annuler-autres').click();
        assert.equal(await page.locator('#confirmation').isHidden(), true);
        assert.equal(calls.filter((c) => c.key === 'POST /api/v1/sessions/revoke-others').length, 0);
        await all.click();
        await page.locator('#confirmer-autres').click();
        await page.locator('#statut .fr-alert--success', { hasText: '2 appareils déconnectés' }).waitFor();
        const post = calls.find((c) => c.key === 'POST /api/v1/sessions/revoke-others');
        assert.ok(post && post.headers['x-csrf-token']);
        await checkPage(page, 'home', `${name}-appareils-apres`);
      } finally {
        await ctx.close();
      }
    });
  }

  test('alone on this device: no "every other device" button', async () => {
    const only = [200, { sessions: API['GET /api/v1/sessions'][1].sessions.filter((s) => s.current) }];
    const { ctx, page } = await open('/compte/appareils.html', 'member', VIEWPORTS[1][1], { 'GET /api/v1/sessions': only });
    try {
      await page.locator('#appareils li[data-session]').first().waitFor();
      assert.equal(await page.locator('#autres').isHidden(), true);
    } finally {
      await ctx.close();
    }
  });
});

describe('signed out from another device', () => {
  for (const [name, viewport] of VIEWPORTS) {
    test(`${name}: the next page goes to the sign-in page, which says why`, async () => {
      const revoked = [401, problem(401, { detail: 'Aucune session en cours.', signed_out: 'other_device' })];
      const { ctx, page } = await open('/tableau-de-bord.html', 'none', viewport, {
        'GET /api/v1/session': revoked, 'GET /api/v1/portal': revoked, 'GET /api/v1/me': revoked, 'GET /api/v1/dashboard': revoked,
      });
      try {
        await page.waitForURL('**/connexion.html?motif=autre-appareil');
        const box = page.locator('#statut .fr-alert--info');
        await box.waitFor();
        assert.match(await box.textContent(), /Vous avez été déconnecté·e.*depuis un autre appareil/s);
        await fitsWidth(page);
        await checkPage(page, 'home', `${name}-connexion-deconnecte`);
      } finally {
        await ctx.close();
      }
    });
  }

  test('the fund ended the session: said so; an unknown motif shows nothing', async () => {
    const { ctx, page } = await open('/connexion.html?motif=caisse', 'none', VIEWPORTS[0][1]);
    try {
      await page.locator('#statut .fr-alert--info', { hasText: 'Votre caisse a mis fin à votre session' }).waitFor();
      await page.goto('/connexion.html?motif=%3Cb%3Ehello');
      await page.locator('#nir').waitFor();
      assert.equal(await page.locator('#statut .fr-alert').count(), 0);
      // A plain signed-out visitor: plain sign-in page.
      await page.goto('/tableau-de-bord.html');
      await page.waitForURL(/\/connexion\.html$/);
    } finally {
      await ctx.close();
    }
  });
});

describe('dashboard', () => {
  const me = [200, { ...member, last_sign_in: { at: '2025-03-03T13:05:00Z', ip: '5.39.1.1', country: 'GB', user_agent: API['GET /api/v1/sessions'][1].sessions[1].user_agent } }];
  const portal = [200, { menu: 'member', modules: ['login', 'unlock', 'reimbursements', 'appointments'], unread: 0, items: [
    { label: 'Mes remboursements', href: '/reimbursements/', text: 'Ce que votre caisse vous a versé.', module: 'reimbursements' },
    { label: 'Mes rendez-vous', href: '/appointments/', text: 'Prendre, déplacer ou annuler un rendez-vous.', module: 'appointments' },
    { label: 'Ma messagerie', href: '/messaging/', text: 'Écrire à votre caisse.', module: 'messaging' }] }];
  for (const [name, viewport] of VIEWPORTS) {
    test(`${name}: the enabled modules' services and the previous sign-in`, async () => {
      const { ctx, page } = await open('/tableau-de-bord.html', 'member', viewport, { 'GET /api/v1/me': me, 'GET /api/v1/portal': portal });
      try {
        await page.locator('#services [data-module="appointments"]').waitFor();
        const tiles = await page.locator('#services [data-module]').evaluateAll((ts) => ts.map((x) => x.dataset.module));
        assert.deepEqual(tiles, ['reimbursements', 'appointments', 'messaging']);
        // A card in error is named after its module's menu entry, never its internal name.
        await page.locator('#cartes [data-card="messaging"]').waitFor();
        assert.doesNotMatch(await page.locator('#cartes').textContent(), /messaging/);
        // Nothing pointless once signed in: no "unlock my account" tile.
        assert.doesNotMatch(await page.locator('main').textContent(), /Débloquer|Bientôt disponible/);
        const last = page.locator('#derniere-connexion');
        await last.waitFor();
        assert.match(await last.textContent(), /Dernière connexion\u00a0: le 3 mars 2025 à 14:05, Safari sur iOS, Royaume-Uni\./);
        await fitsWidth(page);
        await checkPage(page, 'home', `${name}-tableau-de-bord`);
      } finally {
        await ctx.close();
      }
    });
  }

  test('first sign-in: no previous one to show', async () => {
    const { ctx, page } = await open('/tableau-de-bord.html', 'member', VIEWPORTS[0][1], { 'GET /api/v1/me': [200, { ...member, last_sign_in: null }] });
    try {
      await page.locator('#bonjour', { hasText: 'Bonjour Camille Durand' }).waitFor();
      assert.equal(await page.locator('#derniere-connexion').isHidden(), true);
    } finally {
      await ctx.close();
    }
  });
});

describe('home page', () => {
  const health = (names) => [200, { status: 'ok', version: '1', db: 'up', modules: names.map((n) => ({ name: n, version: '1' })) }];
  for (const [name, viewport] of VIEWPORTS) {
    test(`${name}: only what is enabled, and the authenticator apps`, async () => {
      const { ctx, page } = await open('/', 'none', viewport, { 'GET /api/v1/health': health(['login', 'reimbursements', 'messaging']) });
      try {
        await page.locator('#services li').first().waitFor();
        const offered = await page.locator('#services li').evaluateAll((ls) => ls.map((l) => l.dataset.service));
        assert.deepEqual(offered, ['reimbursements', 'messaging']);
        const text = await page.locator('main').textContent();
        assert.doesNotMatch(text, /attestation|rendez-vous/i);
        // unlock is off: its block is hidden.
        assert.equal(await page.locator('main [data-module="unlock"]').isHidden(), true);
        const apps = page.locator('#application');
        assert.equal(await apps.isVisible(), true);
        for (const app of ['FreeOTP', 'Aegis Authenticator', 'Google Authenticator', 'Microsoft Authenticator']) assert.match(await apps.textContent(), new RegExp(app));
        await fitsWidth(page);
        await checkPage(page, 'home', `${name}-accueil`);
      } finally {
        await ctx.close();
      }
    });
  }

  test('every module on: every service listed', async () => {
    const { ctx, page } = await open('/', 'none', VIEWPORTS[0][1]);
    try {
      await page.locator('#services li[data-service="appointments"]').waitFor();
      assert.equal(await page.locator('#services li').count(), 4);
      assert.equal(await page.locator('main [data-module="unlock"]').isVisible(), true);
    } finally {
      await ctx.close();
    }
  });

  test('a signed-in member is taken to the dashboard; a visitor page asks nothing of the session', async () => {
    // The mocked API would say "member", but without a session cookie the
    // page does not ask (no 401 in a visitor's console).
    // The (mocked) health answer gives the browser a session cookie for the second visit.
    const cookie = '__Host-portail_session=xyz; Path=/; Secure; HttpOnly; SameSite=Strict';
    const { ctx, page, calls } = await open('/', 'member', VIEWPORTS[1][1], {
      'GET /api/v1/health': [200, API['GET /api/v1/health'][1], { 'Set-Cookie': cookie }],
    });
    try {
      await page.locator('#services li').first().waitFor();
      assert.equal(calls.filter((c) => c.key === 'GET /api/v1/session').length, 0);
      assert.match(page.url(), /\/$/);
      // With a session cookie: asked, a member's, sent to the dashboard.
      assert.equal((await ctx.cookies()).filter((c) => c.name === '__Host-portail_session').length, 1);
      await page.goto('/');
      await page.waitForURL('**/tableau-de-bord.html');
    } finally {
      await ctx.close();
    }
  });
});

describe('error pages (nginx error_page)', () => {
  for (const [name, viewport] of VIEWPORTS) {
    test(`${name}: 404 of the site and of the back office, 50x pages; the API stays JSON`, async () => {
      const ctx = await browser.newContext({ baseURL: stack.baseUrl, locale: 'fr-FR', timezoneId: 'Europe/Paris', viewport });
      const page = watch(await ctx.newPage());
      try {
        let r = await page.goto('/cette-page-n-existe-pas.html');
        assert.equal(r.status(), 404);
        assert.match(r.headers()['content-type'], /text\/html/);
        assert.equal(await page.locator('h1').textContent(), 'Page introuvable');
        assert.equal(await page.locator('main a[href="/"]').count(), 1);
        assert.equal(await page.locator('footer').count(), 1);
        page.problems.length = 0; // the 404 itself is the point here
        await fitsWidth(page);
        await checkPage(page, 'home', `${name}-404`);

        r = await page.goto('/backoffice/nulle-part.html');
        assert.equal(r.status(), 404);
        assert.match(await page.locator('main').textContent(), /espace agents/);
        assert.equal(await page.locator('main a[href="/backoffice/"]').count(), 1);
        // No member navigation in the back office's version.
        assert.equal(await page.locator('a[href="/inscription/"], a[href="/tableau-de-bord.html"]').count(), 0);
        page.problems.length = 0;
        await checkPage(page, 'home', `${name}-404-agents`);

        for (const [path, shot] of [['/erreurs/50x.html', '50x'], ['/erreurs/50x-agents.html', '50x-agents']]) {
          r = await page.goto(path);
          assert.equal(r.status(), 200);
          assert.equal(await page.locator('h1').textContent(), 'Service momentanément indisponible');
          await checkPage(page, 'home', `${name}-${shot}`);
        }

        const api = await ctx.request.get('/api/v1/cette-route-n-existe-pas');
        assert.equal(api.status(), 404);
        assert.match(api.headers()['content-type'], /application\/problem\+json/);
        assert.equal((await api.json()).status, 404);
      } finally {
        await ctx.close();
      }
    });
  }
});
