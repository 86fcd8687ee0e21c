// Issue 15: the sign-in, code and recovery-code pages, and the 401 message
// of the forms that ask the current password, say the number of errors the
// login module's config really allows (max_password_failures,
// max_code_failures, max_password_change_failures: settings with on_pages,
// written at start into the web root by portaild, included by nginx). Run
// against a config whose numbers differ from the defaults (5, 5, 3), one
// whose numbers are 1 (the nouns in the singular: the plural mark of
// core/brand.c, partials/reglage-s.html), and one without the fragments
// ("plusieurs"). Desktop and 375x812, axe.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { SIZES, checkPage, formBound, launch, watch } from './lib/browser.js';
import { mockApi, problem } from './lib/fixtures.js';
import { WebStack } from './lib/stack.js';

const stack = new WebStack('regles-blocage', {
  settings: { login: { max_password_failures: 7, max_code_failures: 4, max_password_change_failures: 2 } },
});
// A limit of 1: "1 erreur", "1 code incorrect".
const one = new WebStack('regles-blocage-un', {
  settings: { login: { max_password_failures: 1, max_code_failures: 1, max_password_change_failures: 1 } },
});
// No fragments at all (brand.partials_dir = ""): the pages stay true.
const bare = new WebStack('regles-blocage-sans', { brand: { partials_dir: '' } });
let browser;

before(async () => {
  await stack.start();
  await one.start();
  await bare.start();
  browser = await launch();
});

after(async () => {
  await browser?.close();
  await stack.stopAndCheck();
  await one.stopAndCheck();
  await bare.stopAndCheck();
});

const RULES = [
  ['/connexion.html', 'none', 'Par sécurité, votre compte est bloqué après 7\u00a0erreurs de mot de passe de suite.',
    'Par sécurité, votre compte est bloqué après 1\u00a0erreur de mot de passe de suite.'],
  ['/code-de-securite.html', 'partial', 'Par sécurité, votre compte est bloqué après 4\u00a0codes incorrects de suite (codes de l’application et codes de secours).',
    'Par sécurité, votre compte est bloqué après 1\u00a0code incorrect de suite (codes de l’application et codes de secours).'],
  ['/code-de-secours.html', 'partial', 'Par sécurité, votre compte est bloqué après 4\u00a0codes incorrects de suite (codes de l’application et codes de secours).',
    'Par sécurité, votre compte est bloqué après 1\u00a0code incorrect de suite (codes de l’application et codes de secours).'],
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
    for (const [path, session, plural, singular] of RULES) {
      test(`${path} (${size})`, async () => {
        for (const [s, sentence, name] of [[stack, plural, ''], [one, singular, '-un']]) {
          const { ctx, page } = await open(s, viewport, path, session);
          try {
            assert.equal((await page.locator('#regle-blocage').textContent()).trim(), sentence);
            await checkPage(page, 'regles-blocage', `${path.replace(/\W+/g, '-')}${name}-${size}`);
          } finally {
            await ctx.close();
          }
        }
      });
    }

    for (const [path, route, fields] of FORMS) {
      test(`${path}: a wrong current password says 2 errors, or 1 error (${size})`, async () => {
        for (const [s, sentence, name] of [[stack, '2\u00a0erreurs', ''], [one, '1\u00a0erreur', '-un']]) {
          const { ctx, page } = await open(s, viewport, path, 'member', { [route]: WRONG });
          try {
            await formBound(page);
            for (const [sel, value] of fields) await page.fill(sel, value);
            await page.click('#formulaire button[type=submit]');
            await page.locator('main', { hasText: 'en une heure' }).waitFor();
            assert.ok((await page.locator('main').textContent()).includes(
              `Après ${sentence} en une heure, votre compte sera bloqué par sécurité.`), sentence);
            await checkPage(page, 'regles-blocage', `${path.replace(/\W+/g, '-')}-401${name}-${size}`);
          } finally {
            await ctx.close();
          }
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
