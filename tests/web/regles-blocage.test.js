// Issue 15: the sign-in, code and recovery-code pages, and the 401 message
// of the forms that ask the current password, say the number of errors the
// login module's config really allows (max_password_failures,
// max_code_failures, max_password_change_failures: settings with on_pages,
// written at start into the web root by portaild, included by nginx). Run
// against a config whose numbers differ from the defaults (5, 5, 3), and one
// without the fragments ("plusieurs"). Desktop and 375x812, axe.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { SIZES, checkPage, launch, watch } from './lib/browser.js';
import { mockApi, problem } from './lib/fixtures.js';
import { WebStack } from './lib/stack.js';

const stack = new WebStack('regles-blocage', {
  settings: { login: { max_password_failures: 7, max_code_failures: 4, max_password_change_failures: 2 } },
});
// No fragments at all (brand.partials_dir = ""): the pages stay true.
const bare = new WebStack('regles-blocage-sans', { brand: { partials_dir: '' } });
let browser;

before(async () => {
  await stack.start();
  await bare.start();
  browser = await launch();
});

after(async () => {
  await browser?.close();
  await stack.stopAndCheck();
  await bare.stopAndCheck();
});

const RULES = [
  ['/connexion.html', 'none', 'Par sécurité, votre compte est bloqué après 7\u00a0erreurs de mot de passe de suite.'],
  ['/code-de-securite.html', 'partial', 'Par sécurité, votre compte est bloqué après 4\u00a0codes incorrects de suite (codes de l’application et codes de secours).'],
  ['/code-de-secours.html', 'partial', 'Par sécurité, votre compte est bloqué après 4\u00a0codes incorrects de suite (codes de l’application et codes de secours).'],
];
const WRONG = [401, problem(401, { detail: 'Mot de passe incorrect.' })];
const FORMS = [
  ['/compte/changer-de-telephone.html', 'POST /api/v1/totp/change', [['#password', 'mauvais mot de passe']]],
  ['/compte/codes-de-secours.html', 'POST /api/v1/totp/recovery-codes', [['#password', 'mauvais mot de passe']]],
  ['/mot-de-passe/changer.html', 'POST /api/v1/password/change', [['#current', 'mauvais mot de passe'], ['#new', 'Un tout autre mot de passe 2026'], ['#new_confirmation', 'Un tout autre mot de passe 2026']]],
];

async function open(s, viewport, path, session, overrides = {}) {
  const ctx = await browser.newContext({ baseURL: s.baseUrl, locale: 'fr-FR', timezoneId: 'Europe/Paris', viewport });
  await mockApi(ctx, session, overrides);
  const page = watch(await ctx.newPage());
  await page.goto(path);
  await page.locator('h1').waitFor();
  return { ctx, page };
}

describe('the pages say the configured number of errors', () => {
  for (const [size, viewport] of SIZES) {
    for (const [path, session, sentence] of RULES) {
      test(`${path} (${size})`, async () => {
        const { ctx, page } = await open(stack, viewport, path, session);
        try {
          assert.equal((await page.locator('#regle-blocage').textContent()).trim(), sentence);
          await checkPage(page, 'regles-blocage', `${path.replace(/\W+/g, '-')}-${size}`);
        } finally {
          await ctx.close();
        }
      });
    }

    for (const [path, route, fields] of FORMS) {
      test(`${path}: a wrong current password says 2 errors (${size})`, async () => {
        const { ctx, page } = await open(stack, viewport, path, 'member', { [route]: WRONG });
        try {
          for (const [sel, value] of fields) await page.fill(sel, value);
          await page.click('#formulaire button[type=submit]');
          const alert = page.locator('main', { hasText: 'erreurs en une heure' });
          await alert.waitFor();
          assert.match(await page.locator('main').textContent(), /Après 2\u00a0erreurs en une heure, votre compte sera bloqué par sécurité\./);
          await checkPage(page, 'regles-blocage', `${path.replace(/\W+/g, '-')}-401-${size}`);
        } finally {
          await ctx.close();
        }
      });
    }

    test(`without the fragments: "plusieurs" (${size})`, async () => {
      const { ctx, page } = await open(bare, viewport, '/connexion.html', 'none');
      try {
        assert.equal((await page.locator('#regle-blocage').textContent()).trim(),
          'Par sécurité, votre compte est bloqué après plusieurs\u00a0erreurs de mot de passe de suite.');
        await checkPage(page, 'regles-blocage', `sans-fragment-${size}`);
      } finally {
        await ctx.close();
      }
    });
  }
});
