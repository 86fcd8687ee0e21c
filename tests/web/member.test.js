// A member, through the real pages and the real login module: registration
// (link from the SMTP server) → password → TOTP enrolment (code computed from
// the secret on the page) → dashboard → logout; then sign-in with a code,
// with a recovery code, the devices page, the password change.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { checkPage, newContext, useStack, watch } from './lib/browser.js';
import { enrollTotp, enterTotp, register, signInPassword, signOut } from './lib/flows.js';
import { WebStack } from './lib/stack.js';

const stack = new WebStack('member');
let browser;
const state = {};

useStack(stack, (b) => { browser = b; });

const checker = (page) => (name) => checkPage(page, 'member', name);

describe('member', () => {
  test('register → confirmation link → password → TOTP enrolment → dashboard → logout', async (t) => {
    const why = stack.missing('login');
    if (why) return t.skip(why);
    const person = await stack.newInsured({ first: 'Camille', last: 'Durand', birthDate: '1984-05-17' });
    const password = 'Le chat de Mireille dort sous 3 parapluies';
    const ctx = await newContext(browser, stack, { clientIp: '2.2.2.2' });
    const page = watch(await ctx.newPage());
    const check = checker(page);

    await register(page, stack, person, password, check);
    assert.equal(await signInPassword(page, person, password, check), '/double-authentification.html');
    const { device, recoveryCodes } = await enrollTotp(page, check);

    await page.locator('#bonjour', { hasText: 'Bonjour Camille Durand' }).waitFor();
    // The services are the enabled modules' menu entries (GET /api/v1/portal).
    const portal = await page.evaluate(async () => (await fetch('/api/v1/portal')).json());
    await page.locator('#services [data-module], #services p').first().waitFor();
    const modules = await page.locator('#services [data-module]').evaluateAll((ts) => ts.map((x) => x.dataset.module));
    assert.deepEqual(modules, portal.items.map((i) => i.module));
    // A first sign-in: no previous one to show.
    assert.equal(await page.locator('#derniere-connexion').isHidden(), true);
    await check('tableau-de-bord');

    await page.goto('/compte/appareils.html');
    await page.locator('#appareils .fr-badge', { hasText: 'Cet appareil' }).waitFor();
    assert.match(await page.locator('#appareils').textContent(), /2\.2\.2\.2/);
    await check('appareils');

    await signOut(page, check);
    await page.goto('/tableau-de-bord.html');
    await page.waitForURL('**/connexion.html');
    await ctx.close();
    Object.assign(state, { person, password, device, recoveryCodes });
  });

  test('sign in with a TOTP code, then with a recovery code (spent)', async (t) => {
    if (!state.person) return t.skip('needs the registered member of the first test');
    const ctx = await newContext(browser, stack, { clientIp: '2.2.2.2' });
    const page = watch(await ctx.newPage());
    const check = checker(page);
    assert.equal(await signInPassword(page, state.person, state.password), '/code-de-securite.html');
    await enterTotp(page, state.device, check);
    await signOut(page);

    assert.equal(await signInPassword(page, state.person, state.password), '/code-de-securite.html');
    await page.click('a[href="/code-de-secours.html"]');
    await page.locator('#code').waitFor();
    await check('code-de-secours');
    await page.fill('#code', state.recoveryCodes[0]);
    await page.click('#formulaire button[type=submit]');
    // The codes left are said before going on (issue 15).
    await page.locator('#statut .fr-alert', { hasText: 'Il vous reste 9 codes de secours.' }).waitFor();
    await check('code-de-secours-restants');
    await Promise.all([page.waitForURL('**/tableau-de-bord.html'), page.click('#continuer')]);
    await signOut(page);

    // The same recovery code a second time: refused, in French.
    assert.equal(await signInPassword(page, state.person, state.password), '/code-de-securite.html');
    await page.goto('/code-de-secours.html');
    await page.fill('#code', state.recoveryCodes[0]);
    await page.click('#formulaire button[type=submit]');
    await page.locator('.portail-error-summary .fr-alert--error', { hasText: 'Code refusé' }).waitFor();
    await check('code-de-secours-refuse');
    await ctx.close();
  });

  test('devices: a second device is listed, signed out from the first and told why; every other device at once', async (t) => {
    if (!state.person) return t.skip('needs the registered member of the first test');
    const a = await newContext(browser, stack, { clientIp: '2.2.2.2' });
    const b = await newContext(browser, stack, { clientIp: '2.2.2.2' });
    const pa = watch(await a.newPage());
    const pb = watch(await b.newPage());
    await signInPassword(pa, state.person, state.password);
    await enterTotp(pa, state.device);
    await signInPassword(pb, state.person, state.password);
    await enterTotp(pb, state.device);

    await pa.goto('/compte/appareils.html');
    const revoke = pa.locator('#appareils button', { hasText: 'Déconnecter' });
    await revoke.first().waitFor();
    assert.ok(await revoke.count() >= 1);
    await checkPage(pa, 'member', 'appareils-deux');
    const before = await revoke.count();
    await revoke.first().click();
    await pa.locator('#statut .fr-alert--success', { hasText: 'Appareil déconnecté' }).waitFor();
    assert.equal(await revoke.count(), before - 1);

    // The other device's session is gone: its next page goes to sign-in,
    // which says why.
    await pb.goto('/tableau-de-bord.html');
    await pb.waitForURL('**/connexion.html?motif=autre-appareil');
    await pb.locator('#statut .fr-alert--info', { hasText: 'depuis un autre appareil' }).waitFor();
    await checkPage(pb, 'member', 'connexion-deconnecte-a-distance');

    // Signed in again on b: the dashboard shows the sign-in before this one.
    await signInPassword(pb, state.person, state.password);
    await enterTotp(pb, state.device);
    await pb.locator('#derniere-connexion', { hasText: 'Dernière connexion' }).waitFor();
    assert.match(await pb.locator('#derniere-connexion').textContent(), /Chrome sur Linux, France\./);

    // Every other device at once, after a confirmation: b is told why, a stays.
    await pa.goto('/compte/appareils.html');
    await pa.locator('#deconnecter-autres').click();
    await pa.locator('#confirmer-autres').click();
    await pa.locator('#statut .fr-alert--success', { hasText: /appareils? déconnectés?/ }).waitFor();
    assert.equal(await revoke.count(), 0);
    await pb.goto('/compte/appareils.html');
    await pb.waitForURL('**/connexion.html?motif=autre-appareil');
    await pa.goto('/tableau-de-bord.html');
    await pa.locator('#bonjour', { hasText: 'Bonjour' }).waitFor();
    await a.close();
    await b.close();
  });

  test('change the password: wrong current password, then the right one', async (t) => {
    if (!state.person) return t.skip('needs the registered member of the first test');
    const ctx = await newContext(browser, stack, { clientIp: '2.2.2.2' });
    const page = watch(await ctx.newPage());
    await signInPassword(page, state.person, state.password);
    await enterTotp(page, state.device);
    await page.goto('/mot-de-passe/changer.html');
    await page.locator('#current').waitFor();
    const next = 'Trois hérissons traversent la Loire en barque';
    await page.fill('#current', 'pas le bon mot de passe du tout');
    await page.fill('#new', next);
    await page.fill('#new_confirmation', next);
    await page.click('#formulaire button[type=submit]');
    await page.locator('.portail-error-summary .fr-alert--error').waitFor();
    await checkPage(page, 'member', 'mot-de-passe-actuel-faux');
    // A password with the member's own name: refused by the server, next to the field.
    await page.fill('#current', state.password);
    await page.fill('#new', 'camille durand aime les tartes aux prunes');
    await page.fill('#new_confirmation', 'camille durand aime les tartes aux prunes');
    await page.click('#formulaire button[type=submit]');
    await page.locator('#new-erreur').waitFor();
    await checkPage(page, 'member', 'mot-de-passe-refuse');
    await page.fill('#current', state.password);
    await page.fill('#new', next);
    await page.fill('#new_confirmation', next);
    await page.click('#formulaire button[type=submit]');
    await page.locator('#statut .fr-alert--success').waitFor();
    await checkPage(page, 'member', 'mot-de-passe-change');
    state.password = next;
    await signOut(page);
    assert.equal(await signInPassword(page, state.person, next), '/code-de-securite.html');
    await ctx.close();
  });
});
