// The second factor on a phone (issue 15): the enrolment's "Ajouter à mon
// application" otpauth:// link, "Copier la clé" (and its fallback), the key
// in groups that never break; the recovery codes' "J’ai conservé mes codes"
// box and no claim that a download happened; the codes left after a
// recovery-code sign-in; "Mes codes de secours" (new codes after the
// password) and "Changer de téléphone" (password, mailed link, new phone).
// API mocked at desktop size and 375×812 (axe, CSP), then the real change of
// phone and renewal of codes through the login module.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { SIZES, checkPage, newContext, useStack, watch } from './lib/browser.js';
import { API, mockApi, problem } from './lib/fixtures.js';
import { linkIn } from './lib/mail.js';
import { enterTotp, newMember, signInPassword, signOut } from './lib/flows.js';
import { WebStack } from './lib/stack.js';
import { TotpDevice } from './lib/totp.js';

const stack = new WebStack('second-factor');
let browser;
useStack(stack, (b) => { browser = b; });

const ENROLMENT = API['GET /api/v1/totp/enroll'][1];
const CODES = API['POST /api/v1/totp/enroll'][1];
const PASSWORD = 'Tournesol-Violon-Pirogue-19';

async function open(viewport, path, session, overrides = {}, { clipboard = true } = {}) {
  const ctx = await browser.newContext({ baseURL: stack.baseUrl, locale: 'fr-FR', timezoneId: 'Europe/Paris', viewport, acceptDownloads: true });
  if (clipboard) await ctx.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: stack.baseUrl });
  else {
    // A browser that refuses the Clipboard API.
    await ctx.addInitScript(() => {
      Object.defineProperty(navigator, 'clipboard', { value: { writeText: () => Promise.reject(new Error('refusé')) } });
    });
  }
  const calls = await mockApi(ctx, session, overrides);
  const page = watch(await ctx.newPage());
  await page.goto(path);
  return { ctx, page, calls };
}

// Every group of the key is one span on one line (never broken inside), and
// together they are the key.
async function checkKeyGroups(page) {
  const groups = await page.locator('#secret .portail-cle-groupe').evaluateAll((spans) => spans.map((s) => ({
    text: s.textContent, lines: s.getClientRects().length, nowrap: getComputedStyle(s).whiteSpace,
  })));
  assert.equal(groups.map((g) => g.text).join(''), ENROLMENT.secret_base32);
  for (const g of groups) {
    assert.ok(g.text.length <= 4, `group ${g.text}`);
    assert.equal(g.nowrap, 'nowrap');
    assert.equal(g.lines, 1, `the group ${g.text} is on one line`);
  }
  assert.equal(await page.locator('#secret').textContent(), 'JBSW Y3DP EHPK 3PXP JBSW Y3DP EHPK 3PXP');
}

describe('second factor (API mocked)', () => {
  for (const [size, viewport] of SIZES) {
    test(`enrolment: otpauth link, copy the key, codes kept before continuing (${size})`, async () => {
      const { ctx, page } = await open(viewport, '/double-authentification.html', 'partial');
      try {
        await page.locator('#secret:not(:empty)').waitFor();
        assert.equal(await page.locator('#ajouter').getAttribute('href'), ENROLMENT.otpauth_uri);
        assert.equal((await page.locator('#ajouter').textContent()).trim(), 'Ajouter à mon application');
        assert.match(await page.locator('main').textContent(), /FreeOTP.*Aegis Authenticator.*Google Authenticator.*Microsoft Authenticator/s);
        await checkKeyGroups(page);
        assert.ok(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth), 'nothing wider than the screen');
        await page.click('#copier-cle');
        await page.locator('#cle-statut .fr-alert--success', { hasText: 'Clé copiée' }).waitFor();
        assert.equal(await page.evaluate(() => navigator.clipboard.readText()), ENROLMENT.secret_base32);
        assert.equal(await page.locator('#cle-statut').getAttribute('aria-live'), 'polite');
        await checkPage(page, 'second-factor', `enrolement-${size}`);

        await page.fill('#code', '123456');
        await page.click('#formulaire button[type=submit]');
        await page.locator('#etape-secours').waitFor();
        assert.equal(await page.locator('#codes li').count(), 10);
        // Continue without the box: refused, next to it, and the page stays.
        await page.click('#continuer');
        await page.locator('#conserves-erreur', { hasText: 'Cochez cette case' }).waitFor();
        assert.match(new URL(page.url()).pathname, /double-authentification/);
        await checkPage(page, 'second-factor', `codes-non-conserves-${size}`);
        // Download: offered, never claimed done.
        const [download] = await Promise.all([page.waitForEvent('download'), page.click('#telecharger')]);
        assert.equal(download.suggestedFilename(), 'portail-codes-de-secours.txt');
        assert.equal(readFileSync(await download.path(), 'utf8').split('\n').filter((l) => CODES.recovery_codes.includes(l)).length, 10);
        const said = await page.locator('#copie-statut').textContent();
        assert.doesNotMatch(said, /téléchargés|a été téléchargé|est dans vos téléchargements/i);
        assert.match(said, /Vérifiez/);
        assert.equal(await page.locator('#imprimer').isVisible(), true);
        await page.click('label[for="conserves"]');
        await Promise.all([page.waitForURL('**/tableau-de-bord.html'), page.click('#continuer')]);
      } finally {
        await ctx.close();
      }
    });

    test(`enrolment: without the Clipboard API the key is selected (${size})`, async () => {
      const { ctx, page } = await open(viewport, '/double-authentification.html', 'partial', {}, { clipboard: false });
      try {
        await page.locator('#secret:not(:empty)').waitFor();
        await page.click('#copier-cle');
        await page.locator('#cle-statut .fr-alert--warning', { hasText: 'Copie automatique impossible' }).waitFor();
        assert.equal((await page.evaluate(() => String(window.getSelection()))).replace(/\s+/g, ''), ENROLMENT.secret_base32);
        await checkPage(page, 'second-factor', `cle-selectionnee-${size}`);
      } finally {
        await ctx.close();
      }
    });

    test(`recovery-code sign-in: the codes left, new codes offered when few (${size})`, async () => {
      let r = await open(viewport, '/code-de-secours.html', 'partial', {
        'POST /api/v1/login/recovery': [200, { status: 'ok', recovery_codes_left: 2 }],
      });
      try {
        await r.page.fill('#code', 'ABCDE-FGH23');
        await r.page.click('#formulaire button[type=submit]');
        await r.page.locator('#statut .fr-alert--warning', { hasText: 'Il vous reste 2 codes de secours.' }).waitFor();
        assert.equal(await r.page.locator('#nouveaux-codes').getAttribute('href'), '/compte/codes-de-secours.html');
        assert.equal(await r.page.locator('#formulaire').isHidden(), true);
        await checkPage(r.page, 'second-factor', `secours-restants-peu-${size}`);
        await Promise.all([r.page.waitForURL('**/tableau-de-bord.html'), r.page.click('#continuer')]);
      } finally {
        await r.ctx.close();
      }
      r = await open(viewport, '/code-de-secours.html', 'partial', {
        'POST /api/v1/login/recovery': [200, { status: 'ok', recovery_codes_left: 8 }],
      });
      try {
        await r.page.fill('#code', 'ABCDE-FGH23');
        await r.page.click('#formulaire button[type=submit]');
        await r.page.locator('#statut .fr-alert--success', { hasText: 'Il vous reste 8 codes de secours.' }).waitFor();
        assert.equal(await r.page.locator('#nouveaux-codes').count(), 0);
        await checkPage(r.page, 'second-factor', `secours-restants-${size}`);
      } finally {
        await r.ctx.close();
      }
    });

    test(`"Mes codes de secours": wrong password, then ten new codes kept (${size})`, async () => {
      let answer = [401, problem(401, { detail: 'Le mot de passe actuel est incorrect.' })];
      const { ctx, page, calls } = await open(viewport, '/compte/codes-de-secours.html', 'member');
      await page.route('**/api/v1/totp/recovery-codes', (route) => route.fulfill({
        status: answer[0], contentType: answer[0] >= 400 ? 'application/problem+json' : 'application/json', body: JSON.stringify(answer[1]),
      }));
      try {
        await page.locator('#restants', { hasText: 'Il vous reste 8 codes de secours.' }).waitFor();
        await checkPage(page, 'second-factor', `mes-codes-${size}`);
        await page.click('#formulaire button[type=submit]');
        await page.locator('#password-erreur', { hasText: 'Saisissez votre mot de passe.' }).waitFor();
        await page.fill('#password', 'pas le bon');
        await page.click('#formulaire button[type=submit]');
        await page.locator('.portail-error-summary .fr-alert--error', { hasText: 'Mot de passe incorrect' }).waitFor();
        await checkPage(page, 'second-factor', `mes-codes-refus-${size}`);
        answer = [200, CODES];
        await page.fill('#password', PASSWORD);
        await page.click('#formulaire button[type=submit]');
        await page.locator('#etape-secours').waitFor();
        assert.equal(await page.locator('#codes li').count(), 10);
        assert.equal(await page.locator('#etape-demande').isHidden(), true);
        assert.ok(calls.some((c) => c.key === 'GET /api/v1/me'));
        await checkPage(page, 'second-factor', `mes-codes-nouveaux-${size}`);
        await page.evaluate(() => { window.print = () => { window.printed = true; }; });
        await page.click('#imprimer');
        assert.equal(await page.evaluate(() => window.printed), true, 'the print dialog is asked for');
        await page.click('#continuer');
        await page.locator('#conserves-erreur').waitFor();
        await page.click('label[for="conserves"]');
        await Promise.all([page.waitForURL('**/tableau-de-bord.html'), page.click('#continuer')]);
      } finally {
        await ctx.close();
      }
    });

    test(`"Changer de téléphone": the password, then the mailed link's page (${size})`, async () => {
      let r = await open(viewport, '/compte/changer-de-telephone.html', 'member', {
        'POST /api/v1/totp/change': [202, { status: 'sent' }],
      });
      try {
        await r.page.locator('#password').waitFor();
        await checkPage(r.page, 'second-factor', `changer-de-telephone-${size}`);
        await r.page.fill('#password', PASSWORD);
        await r.page.click('#formulaire button[type=submit]');
        await r.page.locator('#statut .fr-alert--success', { hasText: 'Lien envoyé' }).waitFor();
        assert.deepEqual(JSON.parse(r.calls.find((c) => c.key === 'POST /api/v1/totp/change').body), { password: PASSWORD });
        await checkPage(r.page, 'second-factor', `changer-de-telephone-envoye-${size}`);
      } finally {
        await r.ctx.close();
      }

      r = await open(viewport, '/compte/changer-de-telephone.html?token=t0k3n', 'member', {
        'POST /api/v1/totp/change/start': [200, ENROLMENT],
        'POST /api/v1/totp/change/confirm': [200, { status: 'changed' }],
      });
      try {
        await r.page.locator('#secret:not(:empty)').waitFor();
        assert.equal(new URL(r.page.url()).search, '', 'the token leaves the address bar');
        assert.equal(await r.page.locator('#ajouter').getAttribute('href'), ENROLMENT.otpauth_uri);
        await checkKeyGroups(r.page);
        await checkPage(r.page, 'second-factor', `nouveau-telephone-${size}`);
        await r.page.fill('#code', '654321');
        await r.page.click('#confirmation button[type=submit]');
        await r.page.locator('#statut .fr-alert--success', { hasText: 'Nouveau téléphone enregistré' }).waitFor();
        assert.deepEqual(JSON.parse(r.calls.find((c) => c.key === 'POST /api/v1/totp/change/confirm').body), { token: 't0k3n', code: '654321' });
        assert.equal(await r.page.locator('#etape-code').isHidden(), true);
        await checkPage(r.page, 'second-factor', `nouveau-telephone-enregistre-${size}`);
      } finally {
        await r.ctx.close();
      }
    });

    test(`"Changer de téléphone": a used link, and a link opened signed out (${size})`, async () => {
      let r = await open(viewport, '/compte/changer-de-telephone.html?token=t0k3n', 'member', {
        'POST /api/v1/totp/change/start': [410, problem(410, { detail: 'Ce lien n’est plus valable.' })],
      });
      try {
        await r.page.locator('#statut .fr-alert--error', { hasText: 'Lien expiré ou déjà utilisé' }).waitFor();
        assert.equal(await r.page.locator('#statut a', { hasText: 'Demander un nouveau lien' }).getAttribute('href'), '/compte/changer-de-telephone.html');
        assert.equal(await r.page.locator('#etape-code').isHidden(), true);
        await checkPage(r.page, 'second-factor', `nouveau-telephone-lien-use-${size}`);
      } finally {
        await r.ctx.close();
      }
      r = await open(viewport, '/compte/changer-de-telephone.html?token=t0k3n', 'none');
      try {
        await r.page.locator('#statut .fr-alert--warning', { hasText: 'Connectez-vous pour continuer' }).waitFor();
        assert.equal(r.calls.some((c) => c.key.startsWith('POST')), false, 'nothing is sent signed out');
        await checkPage(r.page, 'second-factor', `nouveau-telephone-deconnecte-${size}`);
      } finally {
        await r.ctx.close();
      }
    });
  }

  for (const [size, viewport] of SIZES) {
    test(`registration and the choose-password page say an authenticator app is needed (${size})`, async () => {
      for (const [path, name] of [['/inscription/', 'inscription'], ['/inscription/confirmation.html?token=t0k3n', 'inscription-confirmation']]) {
        const { ctx, page } = await open(viewport, path, 'none');
        try {
          await page.locator('#password, #email').first().waitFor();
          // In the page's text whatever state the link check leaves it in.
          assert.match(await page.locator('main').textContent(),
            /application d’authentification est nécessaire.*FreeOTP.*Aegis Authenticator.*Google Authenticator.*Microsoft Authenticator/s, path);
          await checkPage(page, 'second-factor', `${name}-applis-${size}`);
        } finally {
          await ctx.close();
        }
      }
    });
  }

  test('the dashboard links to the second factor\'s pages', async () => {
    const { ctx, page } = await open({ width: 1280, height: 900 }, '/tableau-de-bord.html', 'member');
    try {
      await page.locator('#securite-titre').waitFor();
      for (const href of ['/compte/changer-de-telephone.html', '/compte/codes-de-secours.html']) {
        assert.equal(await page.locator(`main a[href="${href}"]`).count(), 1, href);
      }
    } finally {
      await ctx.close();
    }
  });
});

describe('second factor (real login module)', () => {
  test('change phone by the mailed link, then renew the recovery codes (old ones refused)', async (t) => {
    const why = stack.missing('login');
    if (why) return t.skip(why);
    const m = await newMember(browser, stack, newContext, { first: 'Dominique', last: 'Martin' });
    const ctx = await newContext(browser, stack, { clientIp: '2.2.2.2' });
    const page = watch(await ctx.newPage());
    try {
      await signInPassword(page, m.person, m.password);
      await enterTotp(page, m.device);
      await Promise.all([page.waitForURL('**/compte/changer-de-telephone.html'), page.click('main a[href="/compte/changer-de-telephone.html"]')]);
      await page.fill('#password', m.password);
      await page.click('#formulaire button[type=submit]');
      await page.locator('#statut .fr-alert--success', { hasText: 'Lien envoyé' }).waitFor();
      const mail = await stack.waitForMail((x) => x.to.includes(m.person.email) && x.body.includes('/compte/changer-de-telephone.html?token='));
      const link = linkIn(mail, '/compte/changer-de-telephone.html');
      await page.goto(link.pathname + link.search);
      await page.locator('#secret:not(:empty)').waitFor();
      assert.match(await page.locator('#ajouter').getAttribute('href'), /^otpauth:\/\/totp\/.*secret=/);
      await checkPage(page, 'second-factor', 'reel-nouveau-telephone');
      const phone = new TotpDevice((await page.locator('#secret').textContent()).replace(/\s+/g, ''));
      await page.fill('#code', await phone.code());
      await page.click('#confirmation button[type=submit]');
      await page.locator('#statut .fr-alert--success', { hasText: 'Nouveau téléphone enregistré' }).waitFor();
      await stack.waitForMail((x) => x.to.includes(m.person.email) && /nouveau téléphone/.test(x.subject));

      // New recovery codes; the old first one no longer signs in.
      await page.goto('/compte/codes-de-secours.html');
      await page.fill('#password', m.password);
      await page.click('#formulaire button[type=submit]');
      await page.locator('#etape-secours').waitFor();
      const fresh = (await page.locator('#codes li').allTextContents()).map((x) => x.trim());
      assert.equal(fresh.length, 10);
      assert.equal(fresh.filter((c) => m.recoveryCodes.includes(c)).length, 0);
      await page.click('label[for="conserves"]');
      await Promise.all([page.waitForURL('**/tableau-de-bord.html'), page.click('#continuer')]);
      await signOut(page);

      // The new phone signs in.
      await signInPassword(page, m.person, m.password);
      await enterTotp(page, phone);
      await signOut(page);
      // An old recovery code: refused; a new one: signed in, 9 left.
      await signInPassword(page, m.person, m.password);
      await page.goto('/code-de-secours.html');
      await page.fill('#code', m.recoveryCodes[1]);
      await page.click('#formulaire button[type=submit]');
      await page.locator('.portail-error-summary .fr-alert--error', { hasText: 'Code refusé' }).waitFor();
      await page.fill('#code', fresh[0]);
      await page.click('#formulaire button[type=submit]');
      await page.locator('#statut .fr-alert', { hasText: 'Il vous reste 9 codes de secours.' }).waitFor();
    } finally {
      await ctx.close();
    }
  });
});
