// Every page, with the API mocked as docs/api.md says (lib/fixtures.js):
// layout, axe-core, CSP, screenshots, the error renderer for each status,
// keyboard use, the CSRF header. Runs whatever module is there: nginx, the
// CSP and the static files are the real ones.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join, sep } from 'node:path';
import { describe, test } from 'node:test';
import { checkPage, formBound, useStack, watch } from './lib/browser.js';
import { mockApi, problem } from './lib/fixtures.js';
import { fillBirthDate } from './lib/flows.js';
import { REPO, WebStack } from './lib/stack.js';

const stack = new WebStack('pages');
let browser;
useStack(stack, (b) => { browser = b; });

async function open(path, session, overrides) {
  const ctx = await browser.newContext({ baseURL: stack.baseUrl, locale: 'fr-FR', timezoneId: 'Europe/Paris', viewport: { width: 1280, height: 900 }, acceptDownloads: true });
  await ctx.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: stack.baseUrl });
  const calls = await mockApi(ctx, session, overrides);
  const page = watch(await ctx.newPage());
  await page.goto(path);
  return { ctx, page, calls };
}

// [path, mocked session, screenshot name, selector shown once the page is ready]
const PAGES = [
  ['/', 'none', 'accueil', 'h1'],
  ['/connexion.html', 'none', 'connexion', '#nir'],
  ['/inscription/', 'none', 'inscription', '#email'],
  ['/inscription/confirmation.html?token=t0k3n', 'none', 'inscription-confirmation', '#password'],
  ['/inscription/confirmation.html', 'none', 'inscription-confirmation-sans-jeton', '#statut .fr-alert--error'],
  ['/mot-de-passe/oublie.html', 'none', 'mot-de-passe-oublie', '#nir'],
  ['/mot-de-passe/reinitialisation.html?token=t0k3n', 'none', 'mot-de-passe-reinitialisation', '#password'],
  ['/compte/verification.html?token=t0k3n', 'none', 'compte-verification', 'button[type=submit]'],
  ['/compte-bloque.html', 'none', 'compte-bloque-general', '#etapes ul'],
  ['/compte-bloque.html', 'partial', 'compte-bloque', '#raison .fr-alert'],
  ['/code-de-securite.html', 'partial', 'code-de-securite', '#code'],
  ['/code-de-secours.html', 'partial', 'code-de-secours', '#code'],
  ['/double-authentification.html', 'partial', 'double-authentification', '#secret:not(:empty)'],
  ['/tableau-de-bord.html', 'member', 'tableau-de-bord', '#services .fr-tile'],
  ['/compte/appareils.html', 'member', 'appareils', '#appareils button'],
  ['/mot-de-passe/changer.html', 'member', 'mot-de-passe-changer', '#current'],
  ['/deconnexion.html', 'member', 'deconnexion', '#statut .fr-alert--success'],
  ['/accessibilite.html', 'none', 'accessibilite', 'h1'],
  ['/backoffice/', 'none', 'backoffice-connexion', '#login'],
  ['/backoffice/code.html', 'agentPartial', 'backoffice-code', '#code'],
  ['/backoffice/enrolement.html?token=t0k3n', 'none', 'backoffice-enrolement', '#password'],
  ['/backoffice/recherche.html', 'agent', 'backoffice-recherche', '#nir'],
  ['/backoffice/audit.html', 'agent', 'backoffice-audit', '#audit tr'],
  ['/backoffice/deconnexion.html', 'agent', 'backoffice-deconnexion', '#statut .fr-alert--success'],
];

describe('static checks', () => {
  const files = (dir) => readdirSync(dir, { withFileTypes: true }).flatMap((d) => {
    const p = join(dir, d.name);
    if (d.isDirectory()) return d.name === 'dsfr' ? [] : files(p);
    return /\.(html|js|css)$/.test(d.name) ? [p] : [];
  });
  const WEB = join(REPO, 'web');

  test('no inline script or style, no style attribute (CSP)', () => {
    for (const f of files(WEB).filter((x) => x.endsWith('.html'))) {
      const html = readFileSync(f, 'utf8');
      assert.doesNotMatch(html, /<script(?![^>]*\ssrc=)[^>]*>/i, `${f}: inline script`);
      assert.doesNotMatch(html, /<style[\s>]/i, `${f}: inline style`);
      assert.doesNotMatch(html, /\sstyle=/i, `${f}: style attribute`);
      assert.doesNotMatch(html, /\son[a-z]+=/i, `${f}: event handler attribute`);
      // Fragments under partials/ are included by nginx (SSI) into pages.
      if (!f.includes(`${sep}partials${sep}`)) assert.match(html, /<html lang="fr">/, `${f}: lang`);
    }
  });

  test('the skip links and the header are one partial: no page carries a copy', () => {
    for (const f of files(WEB).filter((x) => x.endsWith('.html') && !x.includes(`${sep}partials${sep}`))) {
      const html = readFileSync(f, 'utf8');
      assert.doesNotMatch(html, /<header[\s>]|fr-skiplinks|id="menu-modal"/, `${f}: a copy of the header (use partials/entete.html)`);
      assert.match(html, /<!--# include virtual="\/partials\/entete\.html\?espace=(visiteur|code|membre|agent|agent-connecte)(&page=[a-z-]+)?" -->/, `${f}: no header`);
    }
  });

  test('every DSFR icon used exists in the copied DSFR', () => {
    const css = readFileSync(join(WEB, 'dsfr', 'utility', 'icons', 'icons.min.css'), 'utf8') + readFileSync(join(WEB, 'dsfr', 'dsfr.min.css'), 'utf8');
    const used = new Set(files(WEB).flatMap((f) => readFileSync(f, 'utf8').match(/fr-icon-[a-z0-9-]+/g) || []));
    for (const c of used) assert.match(css, new RegExp(`\\.${c}[:,{ ]`), `${c} is not a DSFR icon`);
  });

  test('nothing secret goes to web storage', () => {
    for (const f of files(join(WEB, 'js'))) {
      const code = readFileSync(f, 'utf8').replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');
      assert.doesNotMatch(code, /localStorage|sessionStorage|document\.cookie/, f);
    }
  });
});

describe('every page (API mocked)', () => {
  for (const [path, session, name, ready] of PAGES) {
    test(`${name}: ${path}`, async () => {
      const { ctx, page } = await open(path, session);
      try {
        await page.waitForSelector(ready, { state: 'visible', timeout: 10000 });
        await checkPage(page, 'pages', name);
      } finally {
        await ctx.close();
      }
    });
  }

  test('pages that need a session go to the sign-in page without one', async () => {
    for (const path of ['/tableau-de-bord.html', '/compte/appareils.html', '/mot-de-passe/changer.html', '/code-de-securite.html', '/double-authentification.html']) {
      const { ctx, page } = await open(path, 'none');
      await page.waitForURL('**/connexion.html', { timeout: 10000 });
      await ctx.close();
    }
    for (const path of ['/backoffice/recherche.html', '/backoffice/audit.html', '/backoffice/code.html']) {
      const { ctx, page } = await open(path, 'none');
      await page.waitForURL('**/backoffice/', { timeout: 10000 });
      await ctx.close();
    }
    const { ctx, page } = await open('/tableau-de-bord.html', 'partial');
    await page.waitForURL('**/code-de-securite.html', { timeout: 10000 });
    await ctx.close();
  });
});

describe('the shared header (partials/entete.html)', () => {
  // [path, session, the header's links, the one marked aria-current (or null), the modules' menu]
  const HEADERS = [
    ['/connexion.html', 'none', ['/connexion.html', '/inscription/'], '/connexion.html', false],
    ['/inscription/', 'none', ['/connexion.html', '/inscription/'], '/inscription/', false],
    ['/code-de-securite.html', 'partial', ['/deconnexion.html'], null, false],
    ['/tableau-de-bord.html', 'member', ['/tableau-de-bord.html', '/notifications.html', '/compte/appareils.html', '/deconnexion.html'], '/tableau-de-bord.html', true],
    ['/compte/activite.html', 'member', ['/tableau-de-bord.html', '/notifications.html', '/compte/appareils.html', '/deconnexion.html'], '/compte/appareils.html', true],
    ['/mot-de-passe/changer.html', 'member', ['/tableau-de-bord.html', '/notifications.html', '/compte/appareils.html', '/deconnexion.html'], null, true],
    ['/backoffice/', 'none', ['/'], null, false],
    ['/backoffice/audit.html', 'agent', ['/backoffice/deconnexion.html'], null, true],
  ];
  for (const [path, session, links, current, menu] of HEADERS) {
    test(`${path}: its space's links, ${current || 'none'} current, ${menu ? 'with' : 'without'} the menu`, async () => {
      // The page's own query string never reaches the partial's arguments.
      const { ctx, page } = await open(`${path}${path.includes('?') ? '&' : '?'}espace=agent&page=notifications`, session);
      try {
        const tools = page.locator('header .fr-header__tools-links a');
        await tools.first().waitFor({ state: 'attached' });
        assert.deepEqual(await tools.evaluateAll((as) => as.map((a) => a.getAttribute('href'))), links);
        assert.deepEqual(await page.locator('header .fr-header__tools-links a[aria-current="page"]').evaluateAll((as) => as.map((a) => a.getAttribute('href'))), current ? [current] : []);
        assert.equal(await page.locator('.fr-skiplinks a').count(), 2);
        assert.equal(await page.locator('#navigation').count(), menu ? 1 : 0);
        if (menu) await page.locator('#navigation a').first().waitFor({ state: 'attached' });
        assert.equal(await page.content().then((h) => h.includes('an error occurred')), false, 'SSI error');
      } finally {
        await ctx.close();
      }
    });
  }
});

describe('the error renderer', () => {
  async function login(overrides, session = 'none') {
    const o = await open('/connexion.html', session, overrides);
    await o.page.fill('#nir', '1 84 05 75 056 123 45');
    await o.page.fill('#password', 'une phrase de passe assez longue');
    await o.page.click('button[type=submit]');
    return o;
  }

  test('empty form: field errors tied to their fields, summary focused', async () => {
    const { ctx, page, calls } = await open('/connexion.html', 'none');
    await page.click('button[type=submit]');
    const summary = page.locator('.portail-error-summary .fr-alert--error');
    await summary.waitFor();
    assert.equal(await summary.evaluate((e) => e === document.activeElement), true, 'the summary has the focus');
    assert.match(await summary.textContent(), /contient des erreurs \(2\)/);
    for (const id of ['nir', 'password']) {
      const input = page.locator(`#${id}`);
      assert.equal(await input.getAttribute('aria-invalid'), 'true');
      assert.match(await input.getAttribute('aria-describedby'), new RegExp(`${id}-erreur`));
      assert.equal(await page.locator(`#${id}-erreur`).textContent(), 'Ce champ est obligatoire.');
      assert.equal(await input.evaluate((e) => e.closest('.fr-input-group').classList.contains('fr-input-group--error')), true);
    }
    // A summary link moves the focus into its field.
    await summary.locator('a[href="#password"]').click();
    assert.equal(await page.evaluate(() => document.activeElement.id), 'password');
    assert.equal(calls.filter((c) => c.key === 'POST /api/v1/login').length, 0, 'nothing sent');
    await checkPage(page, 'errors', 'champs-obligatoires');
    // Fixed and sent again: the errors go, none stacks up.
    await page.fill('#nir', '184057505612345');
    await page.fill('#password', 'x');
    await page.route('**/api/v1/login', (r) => r.fulfill({ status: 401, contentType: 'application/problem+json', body: JSON.stringify(problem(401)) }));
    await page.click('button[type=submit]');
    await page.locator('.portail-error-summary .fr-alert h2', { hasText: 'Identification refusée' }).waitFor();
    assert.equal(await page.locator('.fr-alert--error').count(), 1, 'one alert, not a stack');
    assert.equal(await page.locator('.fr-error-text').count(), 0, 'the field errors are gone');
    await ctx.close();
  });

  test('401: one message, no enumeration, no raw JSON', async () => {
    const { ctx, page } = await login({ 'POST /api/v1/login': [401, problem(401, { detail: 'Numéro ou mot de passe incorrect.' })] });
    const alert = page.locator('.portail-error-summary .fr-alert--error');
    await alert.waitFor();
    const text = await alert.textContent();
    assert.match(text, /Identification refusée/);
    assert.match(text, /Numéro de sécurité sociale ou mot de passe incorrect/);
    assert.doesNotMatch(await page.locator('main').textContent(), /[{}"]status"|about:blank|request_id/);
    assert.equal(await alert.evaluate((e) => e === document.activeElement), true);
    await checkPage(page, 'errors', 'erreur-401');
    await ctx.close();
  });

  test('422: the server\'s field messages next to the fields', async () => {
    const { ctx, page } = await login({
      'POST /api/v1/login': [422, problem(422, { errors: [{ field: 'nir', message: 'La clé du numéro de sécurité sociale est incorrecte.' }] })],
    });
    await page.locator('#nir-erreur').waitFor();
    assert.equal(await page.locator('#nir-erreur').textContent(), 'La clé du numéro de sécurité sociale est incorrecte.');
    assert.match(await page.locator('#nir').getAttribute('aria-describedby'), /nir-erreur/);
    assert.match(await page.locator('.portail-error-summary').textContent(), /Numéro de sécurité sociale : La clé/);
    await checkPage(page, 'errors', 'erreur-422');
    await ctx.close();
  });

  test('423: to the lock page, which shows the reason and the steps', async () => {
    const { ctx, page } = await login({
      'POST /api/v1/login': [423, problem(423, { reason: 'password', reason_text: 'Bloqué.', steps: [] })],
    }, 'none');
    await page.waitForURL('**/compte-bloque.html');
    await ctx.close();
  });

  test('429: the wait in French', async () => {
    const { ctx, page } = await login({ 'POST /api/v1/login': [429, problem(429, { retry_after: 120 }), { 'Retry-After': '120' }] });
    const alert = page.locator('.portail-error-summary .fr-alert--error');
    await alert.waitFor();
    assert.match(await alert.textContent(), /Trop de tentatives.*patientez 2 minutes/s);
    await checkPage(page, 'errors', 'erreur-429');
    await ctx.close();
  });

  test('429 from nginx (Retry-After header only)', async () => {
    const { ctx, page } = await login({ 'POST /api/v1/login': [429, { title: 'Trop de requêtes', status: 429 }, { 'Retry-After': '1' }] });
    await page.locator('.portail-error-summary .fr-alert--error', { hasText: 'patientez 1 seconde' }).waitFor();
    await ctx.close();
  });

  test('503: the wait in French', async () => {
    const { ctx, page } = await login({ 'POST /api/v1/login': [503, problem(503, { retry_after: 5 }), { 'Retry-After': '5' }] });
    const alert = page.locator('.portail-error-summary .fr-alert--error');
    await alert.waitFor();
    assert.match(await alert.textContent(), /momentanément indisponible.*Réessayez dans 5 secondes.*Référence\s: req-test-1/s);
    await checkPage(page, 'errors', 'erreur-503');
    await ctx.close();
  });

  test('the network down', async () => {
    const { ctx, page } = await open('/connexion.html', 'none');
    await page.route('**/api/v1/login', (r) => r.abort('connectionrefused'));
    await page.fill('#nir', '184057505612345');
    await page.fill('#password', 'une phrase de passe assez longue');
    await page.click('button[type=submit]');
    await page.locator('.portail-error-summary .fr-alert--error', { hasText: 'Service injoignable' }).waitFor();
    await ctx.close();
  });

  test('the password rules are checked before sending (length, confirmation)', async () => {
    const { ctx, page, calls } = await open('/inscription/confirmation.html?token=t0k3n', 'none');
    const rules = await page.locator('#regles-mdp').textContent();
    assert.match(rules, /12 à 128 caractères/);
    assert.match(rules, /dictionnaire/);
    assert.match(rules, /numéro de sécurité sociale, ni votre nom, ni votre date de naissance/);
    assert.match(await page.locator('#password').getAttribute('aria-describedby'), /regles-mdp/);
    await page.fill('#password', 'court');
    await page.fill('#password_confirmation', 'autre');
    await page.click('button[type=submit]');
    await page.locator('#password-erreur').waitFor();
    assert.match(await page.locator('#password-erreur').textContent(), /au moins 12 caractères \(5 saisis\)/);
    assert.match(await page.locator('#password_confirmation-erreur').textContent(), /pas identiques/);
    assert.equal(calls.filter((c) => c.key === 'POST /api/v1/register/confirm').length, 0, 'nothing sent');
    await checkPage(page, 'errors', 'mot-de-passe-regles');
    // The server's refusal (cracklib, personal data) next to the field.
    await page.fill('#password', 'azertyuiop123456');
    await page.fill('#password_confirmation', 'azertyuiop123456');
    await page.route('**/api/v1/register/confirm', (r) => r.fulfill({ status: 422, contentType: 'application/problem+json', body: JSON.stringify(problem(422, { errors: [{ field: 'password', message: 'Ce mot de passe est trop facile à deviner : il suit les touches du clavier.' }] })) }));
    await page.click('button[type=submit]');
    await page.locator('#password-erreur', { hasText: 'touches du clavier' }).waitFor();
    await ctx.close();
  });

  test('birth date in three fields (jour, mois, année), sent as YYYY-MM-DD; a missing part, then an impossible date, are refused', async () => {
    const { ctx, page, calls } = await open('/inscription/', 'none', { 'POST /api/v1/register': [202, { status: 'pending' }] });
    const fs = page.locator('fieldset#birth_date');
    assert.match(await fs.locator('legend').textContent(), /Date de naissance/);
    for (const [part, label, auto] of [['day', 'Jour', 'bday-day'], ['month', 'Mois', 'bday-month'], ['year', 'Année', 'bday-year']]) {
      const input = page.locator(`#birth_date-${part}`);
      assert.equal(await input.getAttribute('inputmode'), 'numeric');
      assert.equal(await input.getAttribute('autocomplete'), auto);
      assert.match(await page.locator(`label[for=birth_date-${part}]`).textContent(), new RegExp(label));
    }
    await page.fill('#nir', '1 84 05 75 056 123 45');
    await page.fill('#birth_date-day', '17');
    await page.fill('#birth_date-year', '1984');
    await page.fill('#postal_code', '33000');
    await page.fill('#iban_end', '302 60');
    await page.fill('#email', 'camille@example.fr');
    await page.click('button[type=submit]');
    // The DSFR error state on the fieldset, the message in its group, the
    // missing part marked and linked from the summary.
    await page.locator('#birth_date-messages .fr-message--error', { hasText: 'Saisissez le mois.' }).waitFor();
    assert.match(await fs.getAttribute('class'), /fr-fieldset--error/);
    assert.equal(await page.locator('#birth_date-month').getAttribute('aria-invalid'), 'true');
    assert.equal(await page.locator('#birth_date-day').getAttribute('aria-invalid'), null);
    await page.locator('#iban_end-erreur', { hasText: '7 derniers' }).waitFor();
    await checkPage(page, 'pages', 'inscription-erreurs');
    await page.click('.portail-error-summary a[href="#birth_date-month"]');
    assert.equal(await page.evaluate(() => document.activeElement.id), 'birth_date-month');
    await page.setViewportSize({ width: 375, height: 812 });
    await page.fill('#birth_date-day', '31');
    await page.fill('#birth_date-month', '2');
    await page.click('button[type=submit]');
    await page.locator('#birth_date-messages .fr-message--error', { hasText: 'Cette date n’existe pas' }).waitFor();
    assert.match(await page.locator('.portail-error-summary li').first().textContent(), /^Date de naissance/, 'the summary in the order of the page');
    await checkPage(page, 'pages', 'inscription-erreurs-375');
    await page.fill('#iban_end', '302 6052');
    await page.fill('#birth_date-day', '17');
    await page.fill('#birth_date-month', '5');
    await page.click('button[type=submit]');
    await page.locator('#statut .fr-alert--success').waitFor();
    const sent = JSON.parse(calls.find((c) => c.key === 'POST /api/v1/register').body);
    assert.deepEqual(sent, { nir: '184057505612345', birth_date: '1984-05-17', postal_code: '33000', iban_end: '3026052', email: 'camille@example.fr' });
    await ctx.close();
  });

  test('forgotten password: the birth date in three fields; a date to come is refused; the API’s 422 on birth_date lands on the fieldset', async () => {
    for (const viewport of [{ width: 1280, height: 900 }, { width: 375, height: 812 }]) {
      const { ctx, page, calls } = await open('/mot-de-passe/oublie.html', 'none', {
        'POST /api/v1/password/forgot': [422, problem(422, { errors: [{ field: 'birth_date', message: 'Saisissez une date de naissance valide.' }] })],
      });
      await page.setViewportSize(viewport);
      await page.fill('#nir', '1 84 05 75 056 123 45');
      await page.fill('#birth_date-day', '1');
      await page.fill('#birth_date-month', '1');
      await page.fill('#birth_date-year', '2999');
      await page.fill('#email', 'camille@example.fr');
      await page.click('button[type=submit]');
      await page.locator('#birth_date-messages .fr-message--error', { hasText: 'passée' }).waitFor();
      assert.equal(calls.filter((c) => c.key.startsWith('POST')).length, 0, 'nothing sent');
      await checkPage(page, 'pages', `oublie-date-future-${viewport.width}`);
      await page.fill('#birth_date-year', '1984');
      await page.click('button[type=submit]');
      await page.locator('#birth_date-messages .fr-message--error', { hasText: 'date de naissance valide' }).waitFor();
      const sent = JSON.parse(calls.find((c) => c.key === 'POST /api/v1/password/forgot').body);
      assert.deepEqual(sent, { nir: '184057505612345', birth_date: '1984-01-01', email: 'camille@example.fr' });
      assert.equal(await page.locator('#birth_date-day').getAttribute('aria-invalid'), 'true');
      await ctx.close();
    }
  });

  test('registration without an IBAN: a code by post, then the code instead of the IBAN end', async () => {
    let r = await open('/inscription/', 'none', { 'POST /api/v1/register': [202, { status: 'pending' }] });
    await r.page.fill('#nir', '1 84 05 75 056 123 45');
    await fillBirthDate(r.page, '1984-05-17');
    await r.page.fill('#postal_code', '33000');
    await r.page.fill('#email', 'camille@example.fr');
    await r.page.click('label[for=by_post]');
    await r.page.click('button[type=submit]');
    await r.page.locator('#statut .fr-alert--success', { hasText: 'boîte aux lettres' }).waitFor();
    let sent = JSON.parse(r.calls.find((c) => c.key === 'POST /api/v1/register').body);
    assert.deepEqual(sent, { nir: '184057505612345', birth_date: '1984-05-17', postal_code: '33000', email: 'camille@example.fr', by_post: true });
    await r.ctx.close();
    r = await open('/inscription/', 'none', { 'POST /api/v1/register': [202, { status: 'pending' }] });
    await r.page.setViewportSize({ width: 375, height: 812 });
    await r.page.fill('#nir', '1 84 05 75 056 123 45');
    await fillBirthDate(r.page, '1984-05-17');
    await r.page.fill('#postal_code', '33000');
    await r.page.fill('#email', 'camille@example.fr');
    await r.page.fill('#code', 'abcd');
    await r.page.click('button[type=submit]');
    await r.page.locator('#code-erreur', { hasText: '10 lettres' }).waitFor();
    await checkPage(r.page, 'pages', 'inscription-code-375');
    await r.page.fill('#code', 'abcde-23456');
    await r.page.click('button[type=submit]');
    await r.page.locator('#statut .fr-alert--success').waitFor();
    sent = JSON.parse(r.calls.find((c) => c.key === 'POST /api/v1/register').body);
    assert.deepEqual(sent, { nir: '184057505612345', birth_date: '1984-05-17', postal_code: '33000', email: 'camille@example.fr', code: 'ABCDE23456' });
    await r.ctx.close();
  });

  test('410 on sending (the link spent meanwhile): the page says so, with the way to get a new one', async () => {
    const { ctx, page } = await open('/mot-de-passe/reinitialisation.html?token=vieux', 'none', {
      'POST /api/v1/password/reset': [410, problem(410)],
    });
    await page.fill('#password', 'une phrase de passe assez longue');
    await page.fill('#password_confirmation', 'une phrase de passe assez longue');
    await page.click('button[type=submit]');
    await page.locator('#statut .fr-alert--error', { hasText: 'Ce lien ne permet plus' }).waitFor();
    assert.equal(await page.locator('main h1').textContent(), 'Lien expiré ou déjà utilisé');
    assert.equal(await page.locator('#statut a[href="/mot-de-passe/oublie.html"]').count(), 1);
    await checkPage(page, 'errors', 'lien-expire');
    await ctx.close();
  });
});

describe('CSRF, storage, keyboard', () => {
  test('state-changing calls carry the session\'s CSRF token; nothing in web storage', async () => {
    const { ctx, page, calls } = await open('/mot-de-passe/changer.html', 'member');
    await formBound(page);
    await page.fill('#current', 'ancienne phrase de passe');
    await page.fill('#new', 'nouvelle phrase de passe bien longue');
    await page.fill('#new_confirmation', 'nouvelle phrase de passe bien longue');
    await page.click('button[type=submit]');
    await page.locator('#statut .fr-alert--success').waitFor();
    const post = calls.find((c) => c.key === 'POST /api/v1/password/change');
    assert.equal(post.headers['x-csrf-token'], 'a'.repeat(64));
    assert.equal(post.headers['content-type'], 'application/json');
    assert.deepEqual(JSON.parse(post.body), { current: 'ancienne phrase de passe', new: 'nouvelle phrase de passe bien longue' });
    const storage = await page.evaluate(() => JSON.stringify({ ...localStorage }) + JSON.stringify({ ...sessionStorage }));
    assert.doesNotMatch(storage, /aaaaaaaa|phrase de passe/);
    await checkPage(page, 'pages', 'mot-de-passe-change');
    await ctx.close();
  });

  test('the CSRF token from the sign-in answer\'s header is used next', async () => {
    const { ctx, page, calls } = await open('/connexion.html', 'none', {
      'POST /api/v1/login': [200, { next: 'totp' }, { 'X-CSRF-Token': 'b'.repeat(64) }],
    });
    await page.fill('#nir', '184057505612345');
    await page.fill('#password', 'une phrase de passe assez longue');
    await page.click('button[type=submit]');
    await page.waitForURL('**/code-de-securite.html');
    assert.equal(calls.find((c) => c.key === 'POST /api/v1/login').headers['x-csrf-token'], undefined, 'no session yet, no token');
    await ctx.close();
  });

  test('sign-in with the keyboard alone', async () => {
    const { ctx, page, calls } = await open('/connexion.html', 'none', {
      'POST /api/v1/login': [200, { next: 'totp' }],
    });
    await page.keyboard.press('Tab');
    assert.equal(await page.evaluate(() => document.activeElement.textContent), 'Contenu', 'the first stop is the skip link');
    await page.keyboard.press('Enter');
    let guard = 0;
    while (await page.evaluate(() => document.activeElement.id) !== 'nir' && guard++ < 10) await page.keyboard.press('Tab');
    assert.equal(await page.evaluate(() => document.activeElement.id), 'nir');
    await page.keyboard.type('184057505612345');
    await page.keyboard.press('Tab');
    assert.equal(await page.evaluate(() => document.activeElement.id), 'password');
    await page.keyboard.type('une phrase de passe assez longue');
    await page.keyboard.press('Enter');
    await page.waitForURL('**/code-de-securite.html');
    assert.equal(calls.filter((c) => c.key === 'POST /api/v1/login').length, 1);
    await ctx.close();
  });
});

describe('page states (API mocked)', () => {
  test('small screen: the header menu opens with the keyboard and holds the links', async () => {
    const ctx = await browser.newContext({ baseURL: stack.baseUrl, locale: 'fr-FR', viewport: { width: 375, height: 740 } });
    await mockApi(ctx, 'member');
    const page = watch(await ctx.newPage());
    await page.goto('/tableau-de-bord.html');
    await page.locator('#services .fr-tile').first().waitFor();
    await checkPage(page, 'pages', 'mobile-tableau-de-bord');
    await page.locator('#menu-bouton').focus();
    await page.keyboard.press('Enter');
    const menu = page.locator('#menu-modal');
    await menu.locator('a', { hasText: 'Se déconnecter' }).waitFor({ state: 'visible' });
    await checkPage(page, 'pages', 'mobile-menu');
    await page.keyboard.press('Escape');
    await menu.locator('a', { hasText: 'Se déconnecter' }).waitFor({ state: 'hidden' });
    await ctx.close();
  });

  test('TOTP enrolment: QR code, secret, then the recovery codes with copy and download', async () => {
    const { ctx, page } = await open('/double-authentification.html', 'partial');
    await page.locator('#secret:not(:empty)').waitFor();
    assert.equal(await page.locator('#secret').textContent(), 'JBSW Y3DP EHPK 3PXP JBSW Y3DP EHPK 3PXP');
    assert.match(await page.locator('#qr').getAttribute('src'), /^data:image\/svg\+xml;base64,/);
    assert.equal(await page.locator('#qr').evaluate((i) => i.naturalWidth > 0), true, 'the QR code renders');
    await page.fill('#code', '123456');
    await page.click('#formulaire button[type=submit]');
    await page.locator('#etape-secours').waitFor();
    assert.equal(await page.locator('#codes li').count(), 10);
    assert.equal(await page.evaluate(() => document.activeElement.id), 'etape-secours');
    await page.click('#copier');
    await page.locator('#copie-statut .fr-alert--success').waitFor();
    assert.match(await page.evaluate(() => navigator.clipboard.readText()), /k7f3-9q2m-x8wd[\s\S]*r8ci-2zxs-l0qa/);
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('#telecharger')]);
    assert.equal(download.suggestedFilename(), 'portail-codes-de-secours.txt');
    const text = readFileSync(await download.path(), 'utf8');
    assert.equal(text.split('\n').filter((l) => /^[a-z0-9]{4}-/.test(l)).length, 10);
    await checkPage(page, 'pages', 'codes-de-secours');
    await ctx.close();
  });

  test('TOTP enrolment: an expired QR code is replaced, said plainly', async () => {
    const { ctx, page, calls } = await open('/double-authentification.html', 'partial', {
      'POST /api/v1/totp/enroll': [409, problem(409, { detail: 'Aucun secret en attente.' })],
    });
    await page.locator('#secret:not(:empty)').waitFor();
    await page.fill('#code', '123456');
    await page.click('#formulaire button[type=submit]');
    await page.locator('#statut .fr-alert--warning', { hasText: 'Nouveau QR code' }).waitFor();
    assert.equal(calls.filter((c) => c.key === 'GET /api/v1/totp/enroll').length, 2, 'a new secret was asked for');
    assert.equal(await page.locator('#code').inputValue(), '');
    await ctx.close();
  });

  test('TOTP enrolment after a reset: without the mailed link, said plainly; with it, the QR code', async () => {
    const needsLink = 'La double authentification a été réinitialisée : pour activer une nouvelle application, ouvrez le lien envoyé à votre adresse e-mail.';
    let r = await open('/double-authentification.html', 'partial', {
      'GET /api/v1/totp/enroll': [403, problem(403, { detail: needsLink })],
    });
    await r.page.locator('#statut .fr-alert--warning', { hasText: 'lien envoyé' }).waitFor();
    await checkPage(r.page, 'pages', 'double-authentification-lien');
    await r.page.setViewportSize({ width: 375, height: 812 });
    await checkPage(r.page, 'pages', 'double-authentification-lien-375');
    await r.ctx.close();
    r = await open('/double-authentification.html?token=t0k3n', 'partial', {
      'POST /api/v1/totp/reenrol': [200, { next: 'totp_enroll' }],
    });
    await r.page.locator('#secret:not(:empty)').waitFor();
    const sent = JSON.parse(r.calls.find((c) => c.key === 'POST /api/v1/totp/reenrol').body);
    assert.deepEqual(sent, { token: 't0k3n' });
    assert.equal(new URL(r.page.url()).search, '', 'the token leaves the address bar');
    await r.ctx.close();
  });

  test('security code without TOTP set up (409 next: totp_enroll): to the enrolment', async () => {
    const { ctx, page } = await open('/code-de-securite.html', 'partial', {
      'POST /api/v1/login/totp': [409, problem(409, { next: 'totp_enroll' })],
    });
    await page.fill('#code', '123456');
    await page.click('#formulaire button[type=submit]');
    await page.waitForURL('**/double-authentification.html');
    await ctx.close();
  });

  test('back office: a member\'s file, events, unlock form', async () => {
    const { ctx, page, calls } = await open('/backoffice/recherche.html', 'agent');
    await page.fill('#nir', '1 84 05 75 056 123 45');
    await page.click('#formulaire button[type=submit]');
    await page.locator('#fiche').waitFor();
    assert.match(calls.find((c) => c.key === 'GET /api/v1/backoffice/members').search, /nir=184057505612345/);
    assert.match(await page.locator('#etat').textContent(), /Compte bloqué.*Activité suspecte/s);
    // The file shows before its events arrive (a second request): wait for them.
    await page.locator('#evenements tr').nth(3).waitFor();
    assert.equal(await page.locator('#evenements tr').count(), 4);
    assert.equal(await page.locator('#formulaire-deblocage').isVisible(), true);
    assert.equal(await page.locator('#formulaire-blocage').isVisible(), false);
    // The reason is required, 10 characters at least.
    await page.fill('#raison-deblocage', 'court');
    await page.click('#formulaire-deblocage button[type=submit]');
    await page.locator('#raison-deblocage-erreur', { hasText: '10 à 500 caractères' }).waitFor();
    await checkPage(page, 'pages', 'backoffice-fiche');
    await ctx.close();
  });

  test('back office: unknown NIR', async () => {
    const { ctx, page } = await open('/backoffice/recherche.html', 'agent', {
      'GET /api/v1/backoffice/insured': [200, { results: [], truncated: false, max: 20 }],
    });
    await page.fill('#nir', '184057505612345');
    await page.click('#formulaire button[type=submit]');
    await page.locator('#resultats', { hasText: 'Aucun assuré de la caisse n’a ce numéro' }).waitFor();
    await ctx.close();
  });

  test('back office: audit filters (dates typed jj/mm/aaaa)', async () => {
    const { ctx, page, calls } = await open('/backoffice/audit.html', 'agent');
    await page.locator('#audit tr').first().waitFor();
    await page.fill('#agent', 'mleroy');
    await page.fill('#from', '01/11/2026');
    await page.fill('#to', '30/11/2026');
    await page.click('#formulaire button[type=submit]');
    const filtered = () => calls.filter((c) => c.key === 'GET /api/v1/backoffice/audit' && c.search.includes('agent='));
    for (let i = 0; i < 100 && !filtered().length; i++) await page.waitForTimeout(50);
    assert.equal(filtered()[0]?.search, '?agent=mleroy&from=2026-11-01&to=2026-11-30');
    await page.fill('#from', '2026/11/01');
    await page.click('#formulaire button[type=submit]');
    await page.locator('#from-erreur', { hasText: 'jj/mm/aaaa' }).waitFor();
    await ctx.close();
  });

  test('back office: the audit view says when it is for supervisors only', async () => {
    const { ctx, page } = await open('/backoffice/audit.html', 'agent', {
      'GET /api/v1/backoffice/audit': [403, problem(403)],
    });
    await page.locator('#statut .fr-alert--warning', { hasText: 'Réservé aux superviseurs' }).waitFor();
    await checkPage(page, 'pages', 'backoffice-audit-refuse');
    await ctx.close();
  });

  test('agent enrolment: password, then QR code and code', async () => {
    const { ctx, page } = await open('/backoffice/enrolement.html?token=t0k3n', 'none');
    await page.fill('#password', 'une phrase de passe assez longue');
    await page.fill('#password_confirmation', 'une phrase de passe assez longue');
    await page.click('#formulaire-mdp button[type=submit]');
    await page.locator('#etape-code').waitFor();
    assert.equal(await page.locator('#secret').textContent(), 'JBSW Y3DP EHPK 3PXP JBSW Y3DP EHPK 3PXP');
    await checkPage(page, 'pages', 'backoffice-enrolement-code');
    await page.fill('#code', '123456');
    await page.click('#formulaire-code button[type=submit]');
    await page.locator('#etape-fin').waitFor();
    await checkPage(page, 'pages', 'backoffice-enrolement-fin');
    await ctx.close();
  });
});

