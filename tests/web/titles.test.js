// Issue 15: every page's title ends with the fund's name (brand.name), which
// nginx includes from the fragment portaild writes at start
// (web/partials/titre.html); without the fragment, the neutral "Assurance
// Maladie". Desktop and 375x812, axe and CSP on each page (checkPage also
// checks that the title ends with the header's name on every page of every
// browser test).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { SIZES, checkPage, launch, watch } from './lib/browser.js';
import { mockApi } from './lib/fixtures.js';
import { WebStack } from './lib/stack.js';

const demo = new WebStack('titres');
// No partials_dir: portaild writes no fragment, the partial's stub stands.
const neutral = new WebStack('titres-neutres', { brand: { name: 'Caisse sans fragments', partials_dir: '' } });
let browser;

before(async () => {
  await demo.start();
  await neutral.start();
  browser = await launch();
});

after(async () => {
  await browser?.close();
  await demo.stopAndCheck();
  await neutral.stopAndCheck();
});

const PAGES = [
  ['/connexion.html', 'Se connecter', 'none'],
  ['/', 'Accueil', 'none'],
  ['/backoffice/', 'Connexion agent', 'none'],
  ['/tableau-de-bord.html', 'Tableau de bord', 'member'],
];

async function title(stack, viewport, path, session) {
  const ctx = await browser.newContext({ baseURL: stack.baseUrl, locale: 'fr-FR', timezoneId: 'Europe/Paris', viewport });
  await mockApi(ctx, session);
  const page = watch(await ctx.newPage());
  await page.goto(path);
  await page.locator('h1').waitFor();
  return { ctx, page };
}

describe('page titles carry the brand', () => {
  for (const [size, viewport] of SIZES) {
    for (const [path, own, session] of PAGES) {
      test(`${path}: "${own} — CPAM de Paris" (${size})`, async () => {
        const { ctx, page } = await title(demo, viewport, path, session);
        try {
          assert.equal(await page.title(), `${own} — CPAM de Paris`);
          await checkPage(page, 'titres', `${own.replace(/\W+/g, '-')}-${size}`);
        } finally {
          await ctx.close();
        }
      });
    }

    test(`without the brand's fragment: the neutral name (${size})`, async () => {
      const { ctx, page } = await title(neutral, viewport, '/connexion.html', 'none');
      try {
        assert.equal(await page.title(), 'Se connecter — Assurance Maladie');
        assert.equal((await page.locator('.fr-header__service-title').textContent()).trim(), 'Assurance Maladie');
        await checkPage(page, 'titres', `neutre-${size}`);
      } finally {
        await ctx.close();
      }
    });
  }
});
