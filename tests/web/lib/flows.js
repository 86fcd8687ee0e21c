// Steps of the member and agent flows, through the pages as a person would
// use them. check(name) is called at each page state worth a screenshot and
// an axe run (pass null to go fast).
import assert from 'node:assert/strict';
import { linkIn } from './mail.js';
import { TotpDevice } from './totp.js';
import { formatNir } from './util.js';

const nothing = async () => {};

/** The three-field birth date (jour, mois, année) of a form, from
 * YYYY-MM-DD, typed as a person would ("7", "5", "1984"). */
export async function fillBirthDate(page, iso, name = 'birth_date') {
  const [y, m, d] = iso.split('-');
  await page.fill(`#${name}-day`, String(Number(d)));
  await page.fill(`#${name}-month`, String(Number(m)));
  await page.fill(`#${name}-year`, y);
}

/** Registration through the pages: inscription → mail → confirmation. */
export async function register(page, stack, person, password, check = nothing) {
  await page.goto('/inscription/');
  await page.locator('#nir').waitFor();
  await check('inscription');
  await page.fill('#nir', formatNir(person.nir));
  await fillBirthDate(page, person.birthDate);
  await page.fill('#postal_code', person.postalCode);
  await page.fill('#iban_end', person.ibanEnd);
  await page.fill('#email', person.email);
  await page.click('#formulaire button[type=submit]');
  await page.locator('#statut .fr-alert--success').waitFor();
  await check('inscription-envoyee');
  const mail = await stack.waitForMail((m) => m.to.includes(person.email) && /\/inscription\/confirmation\.html\?token=/.test(m.body));
  const link = linkIn(mail, '/inscription/confirmation.html');
  assert.equal(link.origin, stack.baseUrl, 'the mailed link points at the portal');
  await page.goto(link.pathname + link.search);
  await page.locator('#password').waitFor();
  await check('inscription-confirmation');
  await page.fill('#password', password);
  await page.fill('#password_confirmation', password);
  await page.click('#formulaire button[type=submit]');
  await page.locator('#statut .fr-alert--success', { hasText: 'Votre mot de passe est enregistré' }).waitFor();
  assert.equal(await page.locator('main h1').textContent(), 'Votre compte est créé');
  await check('compte-cree');
}

/** NIR + password on the sign-in page; returns the URL reached. */
export async function signInPassword(page, person, password, check = nothing) {
  await page.goto('/connexion.html');
  await page.locator('#nir').waitFor();
  await check('connexion');
  await page.fill('#nir', formatNir(person.nir));
  await page.fill('#password', password);
  await Promise.all([
    page.waitForURL(/\/(code-de-securite|double-authentification|compte-bloque)\.html$/, { timeout: 20000 }),
    page.click('#formulaire button[type=submit]'),
  ]);
  return new URL(page.url()).pathname;
}

/** The enrolment page: reads the secret, answers with a code, keeps the
 * recovery codes. Returns {device, recoveryCodes}. */
export async function enrollTotp(page, check = nothing) {
  await page.locator('#secret:not(:empty)').waitFor();
  assert.equal(await page.locator('#qr').evaluate((i) => i.complete && i.naturalWidth > 0), true, 'the QR code renders');
  await check('double-authentification');
  const secret = (await page.locator('#secret').textContent()).replace(/\s+/g, '');
  const device = new TotpDevice(secret);
  await page.fill('#code', await device.code());
  await page.click('#formulaire button[type=submit]');
  await page.locator('#etape-secours').waitFor();
  const recoveryCodes = (await page.locator('#codes li').allTextContents()).map((s) => s.trim());
  assert.equal(recoveryCodes.length, 10, 'ten recovery codes');
  await check('codes-de-secours');
  // The continue button waits for "J’ai conservé mes codes" (issue 15).
  await page.click('label[for="conserves"]');
  await Promise.all([page.waitForURL('**/tableau-de-bord.html'), page.click('#continuer')]);
  return { device, recoveryCodes };
}

/** The security-code page with the device's next code → dashboard. */
export async function enterTotp(page, device, check = nothing) {
  await page.locator('#code').waitFor();
  await check('code-de-securite');
  await page.fill('#code', await device.code());
  await Promise.all([page.waitForURL('**/tableau-de-bord.html', { timeout: 20000 }), page.click('#formulaire button[type=submit]')]);
}

/** A member with an account and TOTP, made through the pages (fast path). */
export async function newMember(browser, stack, newContext, { clientIp = '2.2.2.2', password, ...who } = {}) {
  const person = await stack.newInsured(who);
  const pw = password || 'Le chat de Mireille dort sous 3 parapluies';
  const ctx = await newContext(browser, stack, { clientIp });
  const page = await ctx.newPage();
  await register(page, stack, person, pw);
  assert.equal(await signInPassword(page, person, pw), '/double-authentification.html');
  const { device, recoveryCodes } = await enrollTotp(page);
  await signOut(page);
  await ctx.close();
  return { person, password: pw, device, recoveryCodes };
}

/** The header's "Se déconnecter" link. */
export async function signOut(page, check = nothing) {
  await Promise.all([page.waitForURL('**/deconnexion.html'), page.locator('header a', { hasText: 'Se déconnecter' }).first().click()]);
  await page.locator('#statut .fr-alert--success', { hasText: 'Session terminée' }).waitFor();
  await check('deconnexion');
}
