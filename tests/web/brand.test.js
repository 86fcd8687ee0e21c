// Issue 15, brand: the header and footer carry the fund's name and logo
// from the config (tests/web/stack.py gives the demo's: CPAM de Paris, not a
// State service), never the République française block nor the Marianne
// font; the footer links the legal pages (templates an operator fills) and
// the site map, not the back office; the site map lists the enabled
// modules. Desktop and 375x812, axe and CSP on each page.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { SIZES, checkPage, useStack, watch } from './lib/browser.js';
import { mockApi } from './lib/fixtures.js';
import { WebStack } from './lib/stack.js';

const stack = new WebStack('brand');
let browser;
useStack(stack, (b) => { browser = b; });

const FOOTER = [
  ['Plan du site', '/plan-du-site.html'],
  ['Accessibilité : partiellement conforme', '/accessibilite.html'],
  ['Mentions légales', '/mentions-legales.html'],
  ['Données personnelles', '/donnees-personnelles.html'],
  ['Cookies', '/cookies.html'],
];
const LEGAL = [
  ['/mentions-legales.html', 'mentions-legales', 'Mentions légales'],
  ['/donnees-personnelles.html', 'donnees-personnelles', 'Données personnelles'],
  ['/cookies.html', 'cookies', 'Cookies'],
  ['/plan-du-site.html', 'plan-du-site', 'Plan du site'],
];

async function open(viewport, path) {
  const ctx = await browser.newContext({ baseURL: stack.baseUrl, locale: 'fr-FR', timezoneId: 'Europe/Paris', viewport });
  await mockApi(ctx, 'none');
  const page = watch(await ctx.newPage());
  const fonts = [];
  page.on('request', (r) => {
    if (/\/fonts\/|\.woff2?(\?|$)/.test(new URL(r.url()).pathname)) fonts.push(new URL(r.url()).pathname);
  });
  page.fonts = fonts;
  await page.goto(path);
  return { ctx, page };
}

describe('brand from the config', () => {
  for (const [size, viewport] of SIZES) {
    test(`neutral header, footer links, no Marianne (${size})`, async () => {
      const { ctx, page } = await open(viewport, '/');
      try {
        await page.locator('h1').waitFor();
        // The fund's name and logo; no République française block.
        assert.equal((await page.locator('.fr-header__service-title').textContent()).trim(), 'CPAM de Paris');
        const logo = page.locator('.fr-header__operator img.portail-logo');
        assert.equal(await logo.getAttribute('src'), '/img/logo-caisse.svg');
        assert.equal(await logo.getAttribute('alt'), 'CPAM de Paris, logo de démonstration');
        assert.ok(await logo.isVisible());
        assert.ok(await logo.evaluate((img) => img.complete && img.naturalWidth > 0), 'the logo loads');
        assert.equal(await page.locator('.fr-logo').count(), 0, 'no République française block');
        assert.equal(await page.locator('link[href="/css/marianne.css"]').count(), 0);
        // The system's fonts, and no Marianne file fetched.
        const family = await page.evaluate(() => getComputedStyle(document.body).fontFamily);
        assert.doesNotMatch(family, /Marianne/);
        await checkPage(page, 'brand', `accueil-${size}`);
        assert.deepEqual(page.fonts.filter((f) => /Marianne/i.test(f)), []);

        // The footer: the fund, its phone, real pages, no back office.
        const footer = page.locator('#pied-de-page');
        assert.match(await footer.locator('.fr-footer__content-desc').textContent(), /^CPAM de Paris\u00a0: votre espace personnel en ligne\. Une question\u00a0\? Appelez le 36 46 \(service gratuit \+ prix d’un appel\)\.$/);
        assert.equal(await footer.locator('a[href^="tel:"]').getAttribute('href'), 'tel:3646');
        for (const [label, href] of FOOTER) {
          const link = footer.locator(`.fr-footer__bottom-link[href="${href}"]`);
          assert.equal((await link.textContent()).replace(/\u00a0/g, ' '), label);
        }
        assert.equal(await footer.locator('a[href*="backoffice"]').count(), 0);
        assert.equal(await footer.locator('.fr-footer__brand img.portail-logo').getAttribute('src'), '/img/logo-caisse.svg');

        // A footer link leads to its page (scrolled to and clicked on a phone too).
        await footer.locator('.fr-footer__bottom-link[href="/mentions-legales.html"]').click();
        await page.waitForURL('**/mentions-legales.html');
        assert.equal(await page.locator('h1').textContent(), 'Mentions légales');
      } finally {
        await ctx.close();
      }
    });

    for (const [path, name, h1] of LEGAL) {
      test(`${name} (${size})`, async () => {
        const { ctx, page } = await open(viewport, path);
        try {
          assert.equal(await page.locator('h1').textContent(), h1);
          const main = page.locator('main');
          if (name === 'plan-du-site') {
            for (const [, href] of FOOTER) assert.equal(await main.locator(`a[href="${href}"]`).count(), href === '/plan-du-site.html' ? 0 : 1, href);
            // The enabled modules' member pages, from their menus.
            if (stack.has('reimbursements')) {
              assert.equal(await main.locator('a[href="/reimbursements/"]').textContent(), 'Mes remboursements');
            }
            assert.equal(await main.locator('a[href*="backoffice"]').count(), 0);
          } else {
            // The fund's name filled in, the operator's parts marked.
            assert.match(await main.textContent(), /CPAM de Paris/);
            if (name !== 'cookies') assert.ok(await main.locator('.portail-a-completer').count() >= 2);
            else assert.ok(await main.locator('.portail-a-completer').count() >= 1);
            assert.doesNotMatch(await main.textContent(), /'/, 'typographic apostrophes only');
          }
          await checkPage(page, 'brand', `${name}-${size}`);
        } finally {
          await ctx.close();
        }
      });
    }
  }
});

// The same pages for an operator entitled to the State's brand (a stack of
// its own, with its own web root): the République française block in the
// header and the footer, and the Marianne font.
describe('brand of a State service', () => {
  const state = new WebStack('brand-etat', { brand: { name: 'Service de test de l’État', state_service: true, logo: '', phone: '39 39', phone_note: 'prix d’un appel' } });
  before(async () => {
    await state.start();
  });
  after(async () => {
    await state.stopAndCheck();
  });

  for (const [size, viewport] of SIZES) {
    test(`République française block and Marianne (${size})`, async () => {
      const ctx = await browser.newContext({ baseURL: state.baseUrl, locale: 'fr-FR', timezoneId: 'Europe/Paris', viewport });
      try {
        await mockApi(ctx, 'none');
        const page = watch(await ctx.newPage());
        const fonts = [];
        page.on('request', (r) => fonts.push(new URL(r.url()).pathname));
        await page.goto('/mentions-legales.html');
        await page.locator('h1').waitFor();
        assert.equal(await page.locator('.fr-header__logo .fr-logo').textContent(), 'RépubliqueFrançaise');
        assert.equal(await page.locator('.fr-footer__brand .fr-logo').count(), 1);
        assert.equal((await page.locator('.fr-header__service-title').textContent()).trim(), 'Service de test de l’État');
        assert.equal(await page.locator('.fr-header__operator').count(), 0, 'no logo configured');
        assert.match(await page.evaluate(() => getComputedStyle(document.body).fontFamily), /^Marianne/);
        assert.match(await page.locator('#pied-de-page .fr-footer__content-desc').textContent(), /Appelez le 39 39 \(prix d’un appel\)\./);
        assert.match(await page.locator('main').textContent(), /Service de test de l’État/);
        await checkPage(page, 'brand', `etat-mentions-legales-${size}`);
        assert.ok(fonts.some((f) => /Marianne/.test(f)), 'the Marianne font is loaded');
      } finally {
        await ctx.close();
      }
    });
  }
});
