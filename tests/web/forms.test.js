// The member forms as members live them (issue 15), API mocked as
// docs/api.md and the modules' READMEs say (lib/fixtures.js), at 1280 and
// 375x812 with axe on each state:
// - a mailed link (registration, reset, account update) is checked as the
//   page opens: used, expired or unknown says so before anything is typed,
//   and the check spends nothing (only the check route is called);
// - the DSFR show-password toggle on every member password field;
// - after a password is chosen or changed, the page's H1 and message say
//   so with the next step, not the emptied form under the old H1.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { SIZES, checkPage, formBound, useStack, watch } from './lib/browser.js';
import { mockApi, problem } from './lib/fixtures.js';
import { WebStack } from './lib/stack.js';

const stack = new WebStack('forms');
let browser;
const PASSWORD = 'Le chat de Mireille dort sous 3 parapluies';

useStack(stack, (b) => { browser = b; });

async function open(path, viewport, session = 'none', overrides = {}) {
  const ctx = await browser.newContext({ baseURL: stack.baseUrl, locale: 'fr-FR', timezoneId: 'Europe/Paris', viewport });
  const calls = await mockApi(ctx, session, overrides);
  const page = watch(await ctx.newPage());
  await page.goto(path);
  return { ctx, page, calls };
}

const posts = (calls) => calls.filter((c) => c.key.startsWith('POST')).map((c) => c.key);

// [page, its check route, the route that spends the link, the way out]
const LINKS = [
  ['/inscription/confirmation.html', '/api/v1/register/confirm/check', '/api/v1/register/confirm', '/inscription/'],
  ['/mot-de-passe/reinitialisation.html', '/api/v1/password/reset/check', '/api/v1/password/reset', '/mot-de-passe/oublie.html'],
  ['/compte/verification.html', '/api/v1/account/verify/check', '/api/v1/account/verify', null],
];

describe('a mailed link is checked as the page opens', () => {
  for (const [size, viewport] of SIZES) {
    for (const [path, check, spend, wayOut] of LINKS) {
      test(`${size}: ${path} used, expired or unknown: said at once, nothing to fill in`, async () => {
        const { ctx, page, calls } = await open(`${path}?token=vieux`, viewport, 'none', {
          [`POST ${check}`]: [410, problem(410, { detail: 'Ce lien a expiré ou a déjà servi.' })],
        });
        try {
          const alert = page.locator('#statut .fr-alert--error');
          await alert.waitFor();
          assert.equal(await page.locator('main h1').textContent(), 'Lien expiré ou déjà utilisé');
          assert.match(await page.title(), /^Lien expiré ou déjà utilisé — /);
          assert.equal(await alert.evaluate((e) => e === document.activeElement), true, 'the message has the focus');
          assert.equal(await page.locator('#formulaire').isVisible(), false, 'no form');
          if (wayOut) assert.equal(await alert.locator(`a[href="${wayOut}"]`).count(), 1, 'the way to a new link');
          else assert.match(await alert.textContent(), /36\u00a046|36 46/);
          const check1 = calls.filter((c) => c.key === `POST ${check}`);
          assert.equal(check1.length, 1);
          assert.deepEqual(JSON.parse(check1[0].body), { token: 'vieux' });
          assert.deepEqual(posts(calls), [`POST ${check}`], `${spend} not called`);
          await checkPage(page, 'forms', `${size}-lien-perime${path.replace(/[/.]/g, '-')}`);
        } finally {
          await ctx.close();
        }
      });
    }

    test(`${size}: a valid link shows the form, checked once, spent only on sending`, async () => {
      const { ctx, page, calls } = await open('/mot-de-passe/reinitialisation.html?token=t0k3n', viewport, 'none', {
        'POST /api/v1/password/reset/check': [200, { status: 'valid' }],
        'POST /api/v1/password/reset': [200, { status: 'reset', still_locked: false, detail: 'Votre mot de passe a été modifié.', reason: null, steps: [] }],
      });
      try {
        await page.locator('#password').waitFor();
        assert.equal(await page.locator('main h1').textContent(), 'Choisir un nouveau mot de passe');
        assert.deepEqual(posts(calls), ['POST /api/v1/password/reset/check']);
        await page.fill('#password', PASSWORD);
        await page.fill('#password_confirmation', PASSWORD);
        await page.click('#formulaire button[type=submit]');
        await page.locator('#statut .fr-alert--success').waitFor();
        assert.deepEqual(posts(calls), ['POST /api/v1/password/reset/check', 'POST /api/v1/password/reset']);
      } finally {
        await ctx.close();
      }
    });
  }

  test('the check under load: 503 + Retry-After 1 is retried, then the form', async () => {
    let n = 0;
    const { ctx, page } = await open('/inscription/confirmation.html?token=t0k3n', SIZES[1][1], 'none');
    await page.route('**/api/v1/register/confirm/check', (r) => {
      n += 1;
      return n === 1
        ? r.fulfill({ status: 503, headers: { 'Retry-After': '1' }, contentType: 'application/problem+json', body: JSON.stringify(problem(503)) })
        : r.fulfill({ status: 200, contentType: 'application/json', body: '{"status":"valid"}' });
    });
    await page.reload();
    await page.locator('#password').waitFor();
    assert.ok(n >= 2, `retried (${n} calls)`);
    assert.equal(await page.locator('#statut .portail-retry').count(), 0, 'the wait message is gone');
    await ctx.close();
  });
});

describe('show-password toggle (DSFR fr-password)', () => {
  const FIELDS = [
    ['/connexion.html', 'none', ['password']],
    ['/inscription/confirmation.html?token=t0k3n', 'none', ['password', 'password_confirmation']],
    ['/mot-de-passe/reinitialisation.html?token=t0k3n', 'none', ['password', 'password_confirmation']],
    ['/mot-de-passe/changer.html', 'member', ['current', 'new', 'new_confirmation']],
    ['/compte/mes-donnees.html', 'member', ['password']],
  ];
  for (const [size, viewport] of SIZES) {
    for (const [path, session, ids] of FIELDS) {
      test(`${size}: ${path}`, async () => {
        const { ctx, page } = await open(path, viewport, session);
        try {
          await page.locator(`#${ids[0]}`).waitFor();
          for (const id of ids) {
            const input = page.locator(`#${id}`);
            const toggle = page.locator(`#${id}-afficher`);
            assert.equal(await input.getAttribute('type'), 'password');
            assert.match(await toggle.getAttribute('aria-label'), /^Afficher /);
            await input.fill('un secret bien gardé');
            await page.click(`label[for="${id}-afficher"]`);
            await page.waitForFunction((i) => document.getElementById(i).type === 'text', id);
            assert.equal(await input.inputValue(), 'un secret bien gardé');
            if (id === ids[0]) await checkPage(page, 'forms', `${size}-afficher${path.replace(/[/.?=]/g, '-')}`);
            await page.click(`label[for="${id}-afficher"]`);
            await page.waitForFunction((i) => document.getElementById(i).type === 'password', id);
          }
          // The toggle is not a field of the form.
          assert.equal(await page.evaluate(() => [...new FormData(document.getElementById('formulaire')).keys()].some((k) => /afficher/.test(k))), false);
        } finally {
          await ctx.close();
        }
      });
    }
  }
});

describe('success states: the H1 and the next step', () => {
  for (const [size, viewport] of SIZES) {
    test(`${size}: registration, reset, reset with a lock left, change, account update`, async () => {
      const cases = [
        ['/inscription/confirmation.html?token=t0k3n', 'none', { 'POST /api/v1/register/confirm': [201, { status: 'created' }] },
          'Votre compte est créé', 'success', '/connexion.html'],
        ['/mot-de-passe/reinitialisation.html?token=t0k3n', 'none', { 'POST /api/v1/password/reset': [200, { status: 'reset', still_locked: false, detail: 'Votre mot de passe a été modifié.', reason: null, steps: [] }] },
          'Mot de passe modifié', 'success', '/connexion.html'],
        ['/mot-de-passe/reinitialisation.html?token=t0k3n', 'none', { 'POST /api/v1/password/reset': [200, { status: 'reset', still_locked: true, detail: 'Votre compte reste bloqué : appelez le 36 46.', reason: 'agent', steps: [{ kind: 'call_fund', text: 'Appelez le 36 46.', phone: '36 46', tel: '3646' }, { kind: 'wait_agent', text: 'Un conseiller débloquera votre compte.' }] }] },
          'Mot de passe modifié, compte toujours bloqué', 'warning', null],
        ['/mot-de-passe/changer.html', 'member', { 'POST /api/v1/password/change': [200, { status: 'changed' }] },
          'Mot de passe modifié', 'success', '/tableau-de-bord.html'],
        ['/compte/verification.html?token=t0k3n', 'none', { 'POST /api/v1/account/verify': [200, { status: 'verified', still_locked: false, detail: 'Votre compte est débloqué.' }] },
          'Modification confirmée', 'success', '/connexion.html'],
      ];
      for (const [path, session, overrides, heading, kind, next] of cases) {
        const { ctx, page } = await open(path, viewport, session, overrides);
        try {
          const submit = page.locator('#formulaire button[type=submit]');
          await submit.waitFor();
          await formBound(page);
          const before = await page.locator('main h1').textContent();
          for (const id of ['password', 'password_confirmation', 'new', 'new_confirmation']) {
            if (await page.locator(`#${id}`).count()) await page.fill(`#${id}`, PASSWORD);
          }
          if (await page.locator('#current').count()) await page.fill('#current', 'mon ancien mot de passe');
          await submit.click();
          const alert = page.locator(`#statut .fr-alert--${kind}`);
          await alert.waitFor();
          assert.equal(await page.locator('main h1').textContent(), heading, `${path}: the H1 says what happened (was “${before}”)`);
          assert.match(await page.title(), new RegExp(`^${heading} — `));
          assert.equal(await page.locator('#formulaire').isVisible(), false, `${path}: no emptied form`);
          assert.equal(await page.locator('#regles-mdp').isVisible().catch(() => false), false, `${path}: no password rules left`);
          assert.equal(await alert.evaluate((e) => e === document.activeElement), true, 'the message has the focus');
          if (next) assert.equal(await alert.locator(`a.fr-btn[href="${next}"]`).count(), 1, `${path}: the next step`);
          else assert.equal(await alert.locator('li').count(), 2, 'the steps of the lock left');
          await checkPage(page, 'forms', `${size}-fait${path.replace(/[/.?=]/g, '-')}-${kind}`);
        } finally {
          await ctx.close();
        }
      }
    });
  }
});

describe('the fifth wrong recovery code: the second-factor lock page, from the 423', () => {
  for (const [size, viewport] of SIZES) {
    test(`${size}: /code-de-secours.html`, async () => {
      const { ctx, page } = await open('/code-de-secours.html', viewport, 'partial', {
        'POST /api/v1/login/recovery': [423, problem(423, {
          detail: 'Votre compte a été bloqué après plusieurs saisies incorrectes du code de sécurité.',
          reason: 'second_factor',
          reason_text: 'Votre compte a été bloqué après plusieurs saisies incorrectes du code de sécurité.',
          steps: [{ kind: 'reset_password', text: 'Réinitialisez votre mot de passe.' }, { kind: 'call_fund', text: 'Vous pouvez aussi appeler le 36 46.', phone: '36 46', tel: '3646' }],
        })],
      });
      try {
        await page.locator('#code').waitFor();
        assert.match(await page.locator('#regle-blocage').textContent(), /bloqué après 5\u00a0codes incorrects/);
        await page.fill('#code', 'ABCDE-FGH23');
        await page.click('#formulaire button[type=submit]');
        await page.locator('#raison .fr-alert--warning', { hasText: 'saisies incorrectes du code' }).waitFor();
        assert.equal(new URL(page.url()).pathname, '/code-de-secours.html');
        assert.equal(await page.locator('main h1').textContent(), 'Votre compte est bloqué');
        assert.deepEqual(await page.locator('#etapes li a').evaluateAll((as) => as.map((a) => a.getAttribute('href'))), ['/mot-de-passe/oublie.html', 'tel:3646']);
        assert.equal(await page.locator('#formulaire').isVisible(), false);
        await checkPage(page, 'forms', `${size}-bloque-code-de-secours`);
      } finally {
        await ctx.close();
      }
    });
  }

  test('a 423 without a reason still goes to the general lock page', async () => {
    const { ctx, page } = await open('/code-de-securite.html', SIZES[0][1], 'partial', {
      'POST /api/v1/login/totp': [423, problem(423)],
    });
    await page.locator('#code').waitFor();
    await page.fill('#code', '123456');
    await page.click('#formulaire button[type=submit]');
    await page.waitForURL('**/compte-bloque.html');
    await ctx.close();
  });
});

describe('under load: 503 + Retry-After retried with a visible message on every form', () => {
  const fillPasswords = async (page) => {
    await page.fill('#password', PASSWORD);
    await page.fill('#password_confirmation', PASSWORD);
  };
  const fillIdentity = async (page) => {
    await page.fill('#nir', '1 84 05 75 056 123 45');
    await page.fill('#birth_date-day', '17');
    await page.fill('#birth_date-month', '5');
    await page.fill('#birth_date-year', '1984');
    await page.fill('#email', 'camille@example.fr');
  };
  // The dashboard (mocked session still partial) sends back to the code
  // page: the navigation to it is what counts.
  const reached = async (page, path) => {
    for (let i = 0; i < 100 && !page.visited.includes(path); i++) await page.waitForTimeout(100);
    assert.ok(page.visited.includes(path), `went to ${path} (${page.visited})`);
  };
  // [page, session, route, its answer once free, fill, what shows once done]
  const FORMS = [
    ['/code-de-securite.html', 'partial', '/api/v1/login/totp', [200, { status: 'ok' }], (p) => p.fill('#code', '123456'), (p) => reached(p, '/tableau-de-bord.html')],
    ['/code-de-secours.html', 'partial', '/api/v1/login/recovery', [200, { status: 'ok', recovery_codes_left: 7 }], (p) => p.fill('#code', 'ABCDE-FGH23'),
      // Signed in with a recovery code, the page says how many are left
      // before the member goes on.
      async (p) => assert.match(await p.locator('#statut .fr-alert--success').textContent(), /Il vous reste 7 codes de secours/)],
    ['/inscription/', 'none', '/api/v1/register', [202, { status: 'pending' }], async (p) => {
      await fillIdentity(p);
      await p.fill('#postal_code', '33000');
      await p.fill('#iban_end', '3026052');
    }, (p) => p.locator('#statut .fr-alert--success').waitFor()],
    ['/inscription/confirmation.html?token=t0k3n', 'none', '/api/v1/register/confirm', [201, { status: 'created' }], fillPasswords,
      (p) => p.locator('#statut .fr-alert--success').waitFor()],
    ['/mot-de-passe/oublie.html', 'none', '/api/v1/password/forgot', [202, { status: 'pending' }], fillIdentity,
      (p) => p.locator('#statut .fr-alert--success').waitFor()],
    ['/mot-de-passe/reinitialisation.html?token=t0k3n', 'none', '/api/v1/password/reset', [200, { status: 'reset', still_locked: false, detail: 'Votre mot de passe a été modifié.', reason: null, steps: [] }], fillPasswords,
      (p) => p.locator('#statut .fr-alert--success').waitFor()],
  ];
  for (const [size, viewport] of SIZES) {
    for (const [path, session, route, [okStatus, okBody], fill, done] of FORMS) {
      test(`${size}: ${path}`, async () => {
        const { ctx, page } = await open(path, viewport, session);
        page.visited = [];
        page.on('framenavigated', (f) => { if (f === page.mainFrame()) page.visited.push(new URL(f.url()).pathname); });
        try {
          let n = 0;
          // Two refusals with Retry-After: 1 (portaild's hash slots or its
          // database pool, nginx's bound on sign-ins), then the answer.
          await page.route(`**${route}`, (r) => {
            n += 1;
            return n <= 2
              ? r.fulfill({ status: 503, headers: { 'Retry-After': '1' }, contentType: 'application/problem+json', body: JSON.stringify(problem(503, { retry_after: 1 })) })
              : r.fulfill({ status: okStatus, contentType: 'application/json', body: JSON.stringify(okBody) });
          });
          await formBound(page);
          await fill(page);
          await page.click('#formulaire button[type=submit]');
          const retry = page.locator('#statut .portail-retry');
          await retry.waitFor();
          assert.match(await retry.textContent(), /Le service est très sollicité, nouvelle tentative dans 1 s… \(1 sur 3\)/);
          if (path === '/inscription/') await checkPage(page, 'forms', `${size}-nouvelle-tentative`);
          await done(page);
          assert.equal(n, 3, 'one attempt and two retries');
          assert.equal(await page.locator('#statut .portail-retry').count(), 0, 'the wait message is gone');
          assert.equal(await page.locator('.portail-error-summary .fr-alert--error').count(), 0, 'no error shown');
        } finally {
          await ctx.close();
        }
      });
    }
  }
});

describe('a form sent before its page is ready stays on the page', () => {
  // Pages bind their forms after a request of their own (the session
  // here, held back). A submit before that must not be sent by the browser
  // itself: a POST to the static page (nginx's 405), or the fields in the
  // address of a GET, which the browser's history keeps (an IBAN). Once the
  // page is ready, the same form is sent by the page.
  const PROFILE = { profile: { first_name: 'Marie', last_name: 'Dupont', nir: '285033306300182', birth_date: '1985-03-14', email: 'marie.dupont@example.fr', phone: '0612345678', address_line: '12 rue Sainte-Catherine', postal_code: '33000', city: 'Bordeaux', iban: 'FR7620041010050500013026052', bic: null, holder: null }, pending: [] };
  // [page, form, fields, the route the page sends it to, answers]
  const CASES = [
    ['/mot-de-passe/changer.html', '#formulaire', [['#current', 'ancienne phrase de passe'], ['#new', PASSWORD], ['#new_confirmation', PASSWORD]],
      'POST /api/v1/password/change', { 'POST /api/v1/password/change': [200, { status: 'changed' }] }],
    ['/coverage/profil.html', '#banque', [['#iban', 'DE89 3704 0044 0532 0130 00'], ['#bic', 'COBADEFFXXX'], ['#holder', 'Marie Dupont']],
      'PUT /api/v1/profile/bank', { 'GET /api/v1/profile': [200, PROFILE], 'PUT /api/v1/profile/bank': [202, { status: 'pending_verification' }] }],
  ];
  for (const [size, viewport] of SIZES) {
    for (const [path, form, fields, route, overrides] of CASES) {
      test(`${path} (${size})`, async () => {
        const ctx = await browser.newContext({ baseURL: stack.baseUrl, locale: 'fr-FR', timezoneId: 'Europe/Paris', viewport });
        const calls = await mockApi(ctx, 'member', overrides);
        let release;
        const held = new Promise((r) => { release = r; });
        await ctx.route('**/api/v1/session', async (r) => { await held; await r.fallback(); });
        const page = watch(await ctx.newPage());
        const visited = [];
        page.on('framenavigated', (f) => { if (f === page.mainFrame()) visited.push(f.url()); });
        try {
          await page.goto(path, { waitUntil: 'domcontentloaded' });
          for (const [sel, value] of fields) await page.fill(sel, value);
          await page.click(`${form} button[type=submit]`);
          await page.waitForTimeout(500);
          assert.deepEqual(visited.map((u) => new URL(u).pathname + new URL(u).search), [path], 'still the page, nothing in its address');
          assert.equal(await page.inputValue(fields[0][0]), fields[0][1], 'the fields are kept');
          assert.equal(calls.filter((c) => c.key === route).length, 0);
          release();
          await formBound(page, form);
          // Filling the form from the account (the profile page) keeps
          // what was typed.
          await page.waitForLoadState('networkidle');
          for (const [sel, value] of fields) assert.equal(await page.inputValue(sel), value, `${sel} as typed`);
          await page.click(`${form} button[type=submit]`);
          await page.locator('#statut .fr-alert--success').waitFor();
          assert.equal(calls.filter((c) => c.key === route).length, 1);
        } finally {
          release();
          await ctx.close();
        }
      });
    }
  }
});
