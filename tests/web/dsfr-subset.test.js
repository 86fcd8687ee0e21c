// The DSFR subset (script/dsfr-subset.mjs: only the components, rules and
// icons the pages use) looks exactly like the whole DSFR: each page below,
// API mocked (lib/fixtures.js), at a desktop and a 375x812 phone viewport,
// is drawn twice, once as served and once with the whole DSFR of
// node_modules put in place of web/dsfr's stylesheets, icons and script;
// the two screenshots must be the same to the pixel. On a difference both
// are kept: ARTIFACTS/screenshots/dsfr-subset/NAME-{subset,full}.png.
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { launch, watch } from './lib/browser.js';
import { mockApi } from './lib/fixtures.js';
import { ARTIFACTS, REPO, WebStack } from './lib/stack.js';

const stack = new WebStack('dsfr-subset');
const DIST = join(REPO, 'node_modules', '@gouvfr', 'dsfr', 'dist');
const OUT = join(ARTIFACTS, 'screenshots', 'dsfr-subset');
let browser;

before(async () => {
  await stack.start();
  browser = await launch();
  mkdirSync(OUT, { recursive: true });
});

after(async () => {
  await browser?.close();
  await stack.stopAndCheck();
});

const VIEWPORTS = [['bureau', { width: 1280, height: 900 }], ['mobile', { width: 375, height: 812 }]];

// [path, mocked session, name, selector shown once the page is ready]: one
// page per kind of component (header of each space, forms, tiles, tables,
// alerts, badges, tabs, modal menu, footer).
const PAGES = [
  ['/', 'none', 'accueil', 'h1'],
  ['/connexion.html', 'none', 'connexion', '#nir'],
  ['/inscription/', 'none', 'inscription', '#email'],
  ['/compte-bloque.html', 'partial', 'compte-bloque', '#raison .fr-alert'],
  ['/double-authentification.html', 'partial', 'double-authentification', '#secret:not(:empty)'],
  ['/tableau-de-bord.html', 'member', 'tableau-de-bord', '#services .fr-tile'],
  ['/compte/appareils.html', 'member', 'appareils', '#appareils button'],
  ['/notifications.html', 'member', 'notifications', 'h1'],
  ['/backoffice/recherche.html', 'agent', 'backoffice-recherche', '#nir'],
  ['/backoffice/audit.html', 'agent', 'backoffice-audit', '#audit tr'],
  // A state the DSFR's scripts draw: the phone menu (modal) open, with the
  // navigation in it (phone only: the desktop navigation has no submenu).
  ['/tableau-de-bord.html', 'member', 'menu-ouvert', '#services .fr-tile', async (page) => {
    await page.locator('#menu-bouton').click();
    await page.locator('#menu-modal.fr-modal--opened').waitFor();
    await page.locator('#menu-modal .fr-nav').waitFor();
    await page.waitForTimeout(500);
  }],
];

/** Serves the whole DSFR from node_modules in place of web/dsfr's subset. */
async function wholeDsfr(ctx) {
  const file = (p) => join(DIST, p);
  await ctx.route(/\/v\/[0-9a-z]+\/dsfr\/(dsfr\.min\.css|dsfr\.module\.min\.js|utility\/icons\/icons\.min\.css|icons\/.+\.svg)$/, (route) => {
    const m = new URL(route.request().url()).pathname.match(/\/dsfr\/(.+)$/);
    return route.fulfill({ path: file(m[1]) });
  });
}

async function shot(viewport, path, session, ready, action, whole) {
  const ctx = await browser.newContext({ baseURL: stack.baseUrl, locale: 'fr-FR', timezoneId: 'Europe/Paris', viewport });
  try {
    await mockApi(ctx, session);
    if (whole) await wholeDsfr(ctx);
    const page = watch(await ctx.newPage());
    await page.goto(path);
    await page.locator(ready).first().waitFor();
    await page.waitForLoadState('networkidle');
    await page.evaluate(() => document.fonts && document.fonts.ready);
    assert.equal(await page.evaluate(() => document.documentElement.getAttribute('data-fr-js')), 'true', 'the DSFR script runs');
    if (action) await action(page);
    assert.deepEqual(page.problems, [], `problems on ${path}`);
    // The menu's copy of the header's links is made when the DSFR starts,
    // before or after the bell's count arrives: masked (not a style).
    return await page.screenshot({ fullPage: true, animations: 'disabled', caret: 'hide', mask: [page.locator('#menu-modal .fr-header__menu-links .fr-btns-group')] });
  } finally {
    await ctx.close();
  }
}

describe('the DSFR subset looks like the whole DSFR', () => {
  for (const [vname, viewport] of VIEWPORTS) {
    for (const [path, session, name, ready, action] of PAGES) {
      if (action && vname !== 'mobile') continue;
      test(`${vname}: ${name} (${path})`, async () => {
        const subset = await shot(viewport, path, session, ready, action, false);
        const whole = await shot(viewport, path, session, ready, action, true);
        if (!subset.equals(whole)) {
          writeFileSync(join(OUT, `${vname}-${name}-subset.png`), subset);
          writeFileSync(join(OUT, `${vname}-${name}-full.png`), whole);
        }
        assert.ok(subset.equals(whole), `${path} at ${vname} differs from the whole DSFR: see ${OUT}/${vname}-${name}-{subset,full}.png`);
      });
    }
  }
});
