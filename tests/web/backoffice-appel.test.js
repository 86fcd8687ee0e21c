// The back office as an agent on the phone with a member uses it (issue 15):
// search by name and birth date with a result list, an insured person
// without an online account shown as insured, the file's lock history,
// human labels, seconds and devices in the events, the agent's name in the
// header, the lock asked twice, the audit log with names, NIR links and CSV
// export, the link to it shown only to supervisors, the back office's own
// footer. API mocked (lib/fixtures.js); axe at desktop size and 375x812.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { SIZES, checkCardTable, checkPage, useStack, watch } from './lib/browser.js';
import { mockApi, sessions } from './lib/fixtures.js';
import { WebStack } from './lib/stack.js';

const stack = new WebStack('backoffice-appel');
let browser;
useStack(stack, (b) => { browser = b; });

const CSRF = 'a'.repeat(64);
const AGENT = [200, { kind: 'agent', level: 'agent', role: 'agent', csrf_token: CSRF, permissions: ['members.read', 'members.lock'] }];
const SUPERVISOR = [200, { ...sessions.agent[1], permissions: ['audit.read', 'members.read', 'members.lock'] }];
const AUDIT_HEADERS = ['Date et heure', 'Agent', 'Assuré', 'Action', 'Motif', 'Adresse IP'];
const ME = [200, { id: 3, login: 'kbenali', display_name: 'Karim Benali', role: 'agent' }];
const TWO = [200, { truncated: true, max: 2, results: [
  { insured_id: 7, nir: '184057505612345', first_name: 'Camille', last_name: 'Durand', birth_date: '1984-05-17', postal_code: '75015', city: 'Paris', fund: 'CPAM de Paris', member_id: 42 },
  { insured_id: 9, nir: '284057505612398', first_name: 'Camille', last_name: 'Durand', birth_date: '1984-05-17', postal_code: '33000', city: 'Bordeaux', fund: 'CPAM de la Gironde', member_id: null },
] }];
const ACTIVE = [200, {
  id: 42, nir: '184057505612345', first_name: 'Camille', last_name: 'Durand', birth_date: '1984-05-17', email: 'camille.durand@example.fr', fund: 'CPAM de Paris',
  lock: null, counters: { password_failures: 1, second_factor_failures: 0 },
  last_sign_ins: [{ at: '2026-11-29T08:15:07Z', ip: '2.2.2.2', country: 'FR', user_agent: 'Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Mobile Safari/537.36' }],
}];

async function open(viewport, path, overrides = {}, session = 'agent') {
  const ctx = await browser.newContext({ baseURL: stack.baseUrl, locale: 'fr-FR', timezoneId: 'Europe/Paris', viewport, acceptDownloads: true });
  const signedIn = session === 'agent' ? { 'GET /api/v1/session': AGENT } : {};
  const calls = await mockApi(ctx, session, { ...signedIn, 'GET /api/v1/backoffice/me': ME, ...overrides });
  const page = watch(await ctx.newPage());
  await page.goto(path);
  return { ctx, page, calls };
}

async function waitForCall(page, calls, pred) {
  for (let i = 0; i < 100 && !calls.some(pred); i++) await page.waitForTimeout(50);
  return calls.find(pred);
}

/** The back office's own footer, not the public one (no link to the back
 * office, nor the public site's promises). */
async function checkFooter(page) {
  const footer = page.locator('footer#pied-de-page');
  assert.match(await footer.textContent(), /Espace réservé aux agents habilités/);
  assert.equal(await footer.locator('a[href="/backoffice/"]').count(), 0);
}

describe('back office, on the phone with a member', () => {
  for (const [size, viewport] of SIZES) {
    test(`search by name and birth date: the list, one without an online account (${size})`, async () => {
      const { ctx, page, calls } = await open(viewport, '/backoffice/recherche.html', { 'GET /api/v1/backoffice/insured': TWO });
      try {
        await page.locator('#nir').waitFor();
        // The agent's own name in the header (on a phone, in the menu).
        if (size === 'bureau') await page.locator('header .fr-header__tools [data-agent-nom]', { hasText: 'Karim Benali' }).waitFor();
        else await page.locator('[data-agent-nom]', { hasText: 'Karim Benali' }).first().waitFor({ state: 'attached' });
        await checkFooter(page);
        await checkPage(page, 'backoffice-appel', `recherche-${size}`);

        // Nothing typed: DSFR messages on the name and the three-field date.
        await page.click('#formulaire-nom button[type=submit]');
        await page.locator('#last_name-erreur').waitFor();
        assert.match(await page.locator('#formulaire-nom').textContent(), /Saisissez le nom de l’assuré/);
        assert.match(await page.locator('#birth_date').textContent(), /Saisissez la date de naissance de l’assuré/);
        assert.equal(calls.filter((c) => c.key === 'GET /api/v1/backoffice/insured').length, 0);
        await checkPage(page, 'backoffice-appel', `recherche-erreurs-${size}`);

        await page.fill('#last_name', 'Durand');
        await page.fill('#birth_date-day', '17');
        await page.fill('#birth_date-month', '5');
        await page.fill('#birth_date-year', '1984');
        await page.fill('#postal_code', '75015');
        await page.click('#formulaire-nom button[type=submit]');
        await page.locator('#resultats-liste li').nth(1).waitFor();
        const call = calls.find((c) => c.key === 'GET /api/v1/backoffice/insured');
        assert.equal(call.search, '?last_name=Durand&birth_date=1984-05-17&postal_code=75015');
        const list = await page.locator('#resultats').textContent();
        assert.match(list, /Compte en ligne/);
        assert.match(list, /Pas de compte en ligne/);
        assert.match(list, /seuls les 2 premiers sont affichés/);
        assert.doesNotMatch(list, /Aucun assuré/);
        await checkPage(page, 'backoffice-appel', `resultats-${size}`);

        // The one without an account: insured, "pas de compte en ligne", no account part.
        await page.click('#resultats-liste li:nth-child(2) button');
        await page.locator('#sans-compte').waitFor();
        assert.match(await page.locator('#identite-titre').textContent(), /Camille Durand/);
        assert.match(await page.locator('#badge-compte').textContent(), /Pas de compte en ligne/);
        assert.match(await page.locator('#identite').textContent(), /2 84 05 75 056 123 98.*33000 Bordeaux/s);
        assert.equal(await page.locator('#compte').isVisible(), false);
        assert.equal(calls.filter((c) => c.key === 'GET /api/v1/backoffice/members').length, 0);
        await checkPage(page, 'backoffice-appel', `sans-compte-${size}`);
      } finally {
        await ctx.close();
      }
    });

    test(`a member's file: history, labels, seconds, devices; locking asks first (${size})`, async () => {
      const { ctx, page, calls } = await open(viewport, '/backoffice/recherche.html', { 'GET /api/v1/backoffice/members': ACTIVE });
      try {
        await page.fill('#nir', '1 84 05 75 056 123 45');
        await page.click('#formulaire button[type=submit]');
        await page.locator('#historique li').nth(2).waitFor();
        // One result for a NIR: straight to the file.
        assert.equal(await page.locator('#resultats').isVisible(), false);
        const history = await page.locator('#historique').textContent();
        assert.match(history, /Déblocage.*Par Marie Leroy \(agent de la caisse\).*Motif : Appel de l’assurée/s);
        assert.match(history, /Blocage — Erreurs de mot de passe.*Par le portail, automatiquement/s);
        assert.doesNotMatch(history, /agent:|mleroy|portailctl/);
        // The events are a request of their own, beside the history's.
        await page.locator('#evenements tr').nth(3).waitFor();
        const events = await page.locator('#evenements').textContent();
        assert.match(events, /Par Marie Leroy \(agent de la caisse\)/);
        assert.match(events, /Safari sur iOS/);
        assert.match(events, /\d\d\/\d\d\/\d{4} \d\d:\d\d:\d\d/);
        assert.doesNotMatch(events, /agent:mleroy/);
        assert.match(await page.locator('#connexions').textContent(), /29\/11\/2026 09:15:07 — Chrome sur Android — 2\.2\.2\.2 \(FR\)/);
        // A plain agent: no link to the audit log (supervisors only).
        assert.equal(await page.locator('#lien-journal').isVisible(), false);
        await checkPage(page, 'backoffice-appel', `fiche-${size}`);

        // Lock: the first click asks, nothing is sent.
        await page.fill('#raison-blocage', 'Signalement de fraude par l’assuré, dossier 42.');
        await page.click('#bloquer');
        await page.locator('#confirmation-blocage').waitFor();
        assert.match(await page.locator('#confirmation-blocage').textContent(), /Camille Durand sera déconnecté·e/);
        assert.equal(calls.filter((c) => c.key.startsWith('POST')).length, 0);
        await checkPage(page, 'backoffice-appel', `confirmation-blocage-${size}`);
        // Cancel, then lock for real.
        await page.click('#annuler-blocage');
        assert.equal(await page.locator('#confirmation-blocage').isVisible(), false);
        await page.click('#bloquer');
        await page.click('#confirmer-blocage');
        const post = await waitForCall(page, calls, (c) => c.key === 'POST /api/v1/backoffice/members/42/lock');
        assert.deepEqual(JSON.parse(post.body), { reason: 'Signalement de fraude par l’assuré, dossier 42.' });
        assert.equal(calls.filter((c) => c.key === 'POST /api/v1/backoffice/members/42/lock').length, 1);
        await page.locator('#action-statut .fr-alert--success').waitFor();
      } finally {
        await ctx.close();
      }
    });

    test(`audit log: names and NIR linked to the file, CSV export of the filters (${size})`, async () => {
      const { ctx, page, calls } = await open(viewport, '/backoffice/audit.html', { 'GET /api/v1/session': SUPERVISOR });
      try {
        await page.locator('#audit tr').nth(1).waitFor();
        const link = page.locator('#audit a').first();
        assert.match(await link.textContent(), /Camille Durand.*1 84 05 75 056 123 45/s);
        assert.equal(await link.getAttribute('href'), '/backoffice/recherche.html#nir=184057505612345');
        assert.match(await page.locator('#audit').textContent(), /Marie Leroy \(mleroy\)/);
        assert.doesNotMatch(await page.locator('#audit').textContent(), /^\s*42\s*$/m);
        // A table on a desktop, cards on a phone: every field of each entry
        // on the screen, no sideways scroll.
        const rows = await checkCardTable(page, '#audit tr', AUDIT_HEADERS);
        assert.equal(rows.length, 2);
        assert.match(rows[0].cells[4].text, /en voyage aux États-Unis/);
        assert.match(rows[1].cells[2].text, /Hugo Petit/);
        assert.ok(rows.every((r) => r.cells.every((c) => c.text.trim())), 'every field filled');
        await checkFooter(page);
        await checkPage(page, 'backoffice-appel', `audit-${size}`);
        await page.fill('#nir', '1 84 05 75 056 123 45');
        await page.click('#formulaire button[type=submit]');
        await waitForCall(page, calls, (c) => c.key === 'GET /api/v1/backoffice/audit' && c.search.includes('nir='));
        assert.equal(await page.locator('#export').getAttribute('href'), '/api/v1/backoffice/audit/export?nir=184057505612345');
        // The member's name and NIR open their file (a tap on the phone).
        await Promise.all([page.waitForURL('**/backoffice/recherche.html#nir=190027505612367'),
          page.locator('#audit a', { hasText: 'Hugo Petit' }).click()]);
        await waitForCall(page, calls, (c) => c.key === 'GET /api/v1/backoffice/insured' && c.search.includes('nir=190027505612367'));
      } finally {
        await ctx.close();
      }
    });
  }

  // The other back-office pages: the back office's own footer, axe at both sizes.
  const OTHERS = [
    ['/backoffice/', 'none', 'connexion', '#login'],
    ['/backoffice/code.html', 'agentPartial', 'code', '#code'],
    ['/backoffice/enrolement.html?token=t0k3n', 'none', 'enrolement', '#password'],
    ['/backoffice/deconnexion.html', 'agent', 'deconnexion', '#statut .fr-alert--success'],
  ];
  for (const [size, viewport] of SIZES) {
    test(`the other back-office pages: own footer, axe (${size})`, async () => {
      for (const [path, session, name, ready] of OTHERS) {
        const { ctx, page } = await open(viewport, path, {}, session);
        try {
          await page.waitForSelector(ready, { state: 'visible', timeout: 10000 });
          await checkFooter(page);
          await checkPage(page, 'backoffice-appel', `${name}-${size}`);
        } finally {
          await ctx.close();
        }
      }
    });
  }

  test('a supervisor sees the link to the audit log; it opens the log on that account; the log links back to the file', async () => {
    const { ctx, page, calls } = await open({ width: 1280, height: 900 }, '/backoffice/recherche.html#nir=184057505612345', {
      'GET /api/v1/session': SUPERVISOR,
    });
    try {
      // The fragment opens the file (the NIR never goes to a server log as a page address).
      await page.locator('#fiche').waitFor();
      assert.match(calls.find((c) => c.key === 'GET /api/v1/backoffice/insured').search, /nir=184057505612345/);
      await page.locator('#lien-journal a').waitFor();
      await Promise.all([page.waitForURL('**/backoffice/audit.html#compte=42'), page.click('#lien-journal a')]);
      const call = await waitForCall(page, calls, (c) => c.key === 'GET /api/v1/backoffice/audit');
      assert.equal(call.search, '?member=42');
      assert.equal(await page.locator('#export').getAttribute('href'), '/api/v1/backoffice/audit/export?member=42');
      await page.locator('#filtre-compte').waitFor();
    } finally {
      await ctx.close();
    }
  });
});
