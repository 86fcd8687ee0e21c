// 5 wrong passwords → lock mail → the lock page → forgot password → reset
// link → new password → sign in; 5 wrong codes → the second-factor lock
// page in place. Real login and unlock modules.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { checkPage, newContext, useStack, watch } from './lib/browser.js';
import { enterTotp, fillBirthDate, newMember, signInPassword } from './lib/flows.js';
import { linkIn } from './lib/mail.js';
import { WebStack } from './lib/stack.js';
import { formatNir } from './lib/util.js';

const stack = new WebStack('lock');
let browser;
useStack(stack, (b) => { browser = b; });

describe('locked by wrong passwords', () => {
  test('5 wrong passwords → lock mail → forgot password → reset → sign in', async (t) => {
    const why = stack.missing('login', 'unlock');
    if (why) return t.skip(why);
    const m = await newMember(browser, stack, newContext, { first: 'Lucie', last: 'Bernard', birthDate: '1979-11-03', sex: 2 });
    const ctx = await newContext(browser, stack, { clientIp: '2.2.2.2' });
    const page = watch(await ctx.newPage());
    const check = (name) => checkPage(page, 'lock', name);
    const seen = new Set(stack.mails().map((x) => x.file));

    await page.goto('/connexion.html');
    for (let i = 1; i <= 5; i++) {
      await page.fill('#nir', formatNir(m.person.nir));
      await page.fill('#password', `pas le bon mot de passe ${i}`);
      await page.click('#formulaire button[type=submit]');
      await page.locator('.portail-error-summary .fr-alert--error', { hasText: 'Identification refusée' }).waitFor();
      assert.equal(await page.locator('.fr-alert--error').count(), 1, 'one alert, not a stack');
      if (i === 1) await check('mot-de-passe-faux');
    }
    const lockMail = await stack.waitForMail((x) => x.to.includes(m.person.email) && /bloqu/i.test(x.subject + x.body), { skip: seen });
    assert.match(lockMail.body, /mot de passe/i);

    // The right password now: the lock page, with the reason and the way out.
    assert.equal(await signInPassword(page, m.person, m.password), '/compte-bloque.html');
    await page.locator('#raison .fr-alert').waitFor();
    assert.match(await page.locator('#raison').textContent(), /mot de passe/i);
    const reset = page.locator('#etapes a[href="/mot-de-passe/oublie.html"]');
    await reset.first().waitFor();
    await check('compte-bloque-mot-de-passe');

    await Promise.all([page.waitForURL('**/mot-de-passe/oublie.html'), reset.first().click()]);
    await page.locator('#nir').waitFor();
    await check('mot-de-passe-oublie');
    await page.fill('#nir', formatNir(m.person.nir));
    await fillBirthDate(page, m.person.birthDate);
    await page.fill('#email', m.person.email);
    await page.click('#formulaire button[type=submit]');
    await page.locator('#statut .fr-alert--success').waitFor();
    await check('mot-de-passe-oublie-envoye');

    const resetMail = await stack.waitForMail((x) => x.to.includes(m.person.email) && /\/mot-de-passe\/reinitialisation\.html\?token=/.test(x.body), { skip: seen });
    const link = linkIn(resetMail, '/mot-de-passe/reinitialisation.html');
    await page.goto(link.pathname + link.search);
    await page.locator('#password').waitFor();
    await check('reinitialisation');
    const next = 'Un phare breton clignote pour sept mouettes';
    await page.fill('#password', next);
    await page.fill('#password_confirmation', next);
    await page.click('#formulaire button[type=submit]');
    await page.locator('#statut .fr-alert--success', { hasText: 'Votre nouveau mot de passe est enregistré' }).waitFor();
    assert.equal(await page.locator('main h1').textContent(), 'Mot de passe modifié');
    assert.equal(await page.locator('#formulaire').isVisible(), false, 'the form is gone');
    await check('reinitialisation-faite');

    // The link is single-use, and the page says so as it opens.
    await page.goto(link.pathname + link.search);
    await page.locator('#statut .fr-alert--error', { hasText: 'Ce lien ne permet plus' }).waitFor();
    assert.equal(await page.locator('main h1').textContent(), 'Lien expiré ou déjà utilisé');
    assert.equal(await page.locator('#password').isVisible(), false, 'no form to fill in');
    await check('reinitialisation-lien-utilise');

    // Unlocked: the new password and a TOTP code open the dashboard.
    assert.equal(await signInPassword(page, m.person, next), '/code-de-securite.html');
    await enterTotp(page, m.device);
    await page.locator('#bonjour', { hasText: 'Lucie Bernard' }).waitFor();
    await ctx.close();
  });
});

describe('locked by wrong second-factor codes', () => {
  for (const [size, viewport, clientIp] of [['bureau', { width: 1280, height: 900 }, '2.2.2.41'], ['mobile', { width: 375, height: 812 }, '2.2.2.42']]) {
    test(`${size}: the sentence on both forms; the fifth wrong code shows the second-factor lock page, not the general one`, async (t) => {
      const why = stack.missing('login', 'unlock');
      if (why) return t.skip(why);
      const m = await newMember(browser, stack, newContext, { clientIp, first: 'Noé', last: `Verrou${size}`, birthDate: '1991-04-08' });
      const ctx = await newContext(browser, stack, { clientIp });
      const page = watch(await ctx.newPage());
      await page.setViewportSize(viewport);
      const check = (name) => checkPage(page, 'lock', `${size}-${name}`);

      await page.goto('/connexion.html');
      await page.locator('#nir').waitFor();
      assert.match(await page.locator('#regle-blocage').textContent(), /bloqué après 5\u00a0erreurs de mot de passe/);
      assert.match(await page.locator('#password').getAttribute('aria-describedby'), /regle-blocage/);
      assert.equal(await signInPassword(page, m.person, m.password), '/code-de-securite.html');
      await page.locator('#code').waitFor();
      assert.match(await page.locator('#regle-blocage').textContent(), /bloqué après 5\u00a0codes incorrects/);
      assert.match(await page.locator('#code').getAttribute('aria-describedby'), /regle-blocage/);

      // A code that is not the device's: 4 refusals, then the lock.
      const right = await m.device.code();
      const wrong = String((Number(right) + 500000) % 1000000).padStart(6, '0');
      for (let i = 1; i <= 4; i++) {
        await page.fill('#code', wrong);
        await page.click('#formulaire button[type=submit]');
        await page.locator('.portail-error-summary .fr-alert--error', { hasText: 'Code refusé' }).waitFor();
        if (i === 1) await check('code-faux');
      }
      await page.fill('#code', wrong);
      await page.click('#formulaire button[type=submit]');
      const reason = page.locator('#raison .fr-alert--warning');
      await reason.waitFor();
      assert.equal(new URL(page.url()).pathname, '/code-de-securite.html', 'not the general lock page');
      assert.equal(await page.locator('main h1').textContent(), 'Votre compte est bloqué');
      assert.match(await reason.textContent(), /saisies incorrectes/);
      assert.equal(await reason.evaluate((e) => e === document.activeElement), true, 'the reason has the focus');
      assert.equal(await page.locator('#etapes a[href="/mot-de-passe/oublie.html"]').count(), 1, 'the way out: reset the password');
      assert.equal(await page.locator('#etapes a[href="tel:3646"]').count(), 1, 'or call the fund');
      assert.equal(await page.locator('#formulaire').isVisible(), false, 'no code form left');
      await check('bloque-second-facteur');
      // The session ended with the lock: the code page is gone.
      await page.goto('/code-de-securite.html');
      await page.waitForURL('**/connexion.html');
      await ctx.close();
    });
  }
});
