// The password strength meter (zxcvbn-ts, copied into the web root by
// script/web-build) on the three pages where a password is chosen, API
// mocked: a common password reads as very weak, a passphrase as strong, in
// French, in a polite live region; axe and CSP at desktop size and 375x812.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { SIZES, checkPage, useStack, watch } from './lib/browser.js';
import { mockApi } from './lib/fixtures.js';
import { WebStack } from './lib/stack.js';

const stack = new WebStack('meter');
let browser;
useStack(stack, (b) => { browser = b; });

const PAGES = [
  ['/inscription/confirmation.html?token=t0k3n', 'none', 'inscription-confirmation', 'password'],
  ['/mot-de-passe/reinitialisation.html?token=t0k3n', 'none', 'mot-de-passe-reinitialisation', 'password'],
  ['/mot-de-passe/changer.html', 'member', 'mot-de-passe-changer', 'new'],
];

describe('password strength meter', () => {
  for (const [path, session, name, field] of PAGES) {
    for (const [size, viewport] of SIZES) {
      test(`${name} (${size})`, async () => {
        const ctx = await browser.newContext({ baseURL: stack.baseUrl, locale: 'fr-FR', timezoneId: 'Europe/Paris', viewport });
        try {
          await mockApi(ctx, session);
          const page = watch(await ctx.newPage());
          await page.goto(path);
          await page.locator(`#${field}`).waitFor();
          const text = page.locator(`#${field}-robustesse-texte`);
          assert.equal(await text.getAttribute('aria-live'), 'polite');

          await page.fill(`#${field}`, 'P@ssw0rd1234');
          await page.locator(`#${field}-robustesse[data-score="0"], #${field}-robustesse[data-score="1"]`).waitFor();
          assert.match(await text.textContent(), /Robustesse\s: très faible|Robustesse\s: faible/);
          await checkPage(page, 'meter', `${name}-${size}-faible`);

          await page.fill(`#${field}`, 'Tournesol violon pirogue 19 citadelle');
          await page.locator(`#${field}-robustesse[data-score="4"]`).waitFor();
          assert.match(await text.textContent(), /Robustesse\s: très bonne/);
          await checkPage(page, 'meter', `${name}-${size}-robuste`);
        } finally {
          await ctx.close();
        }
      });
    }
  }
});
