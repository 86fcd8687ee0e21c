// Module appointments' pages (modules/appointments/web/), at desktop size and
// at 375x812, axe on every page state:
// - with the API mocked: each page and its calls (search, week of slots,
//   booking with the deadline stated, my appointments, waitlist offer, back
//   office day view);
// - on the real stack (when the module loads): search → slots → book → see
//   it → move → cancel, the waitlist, an agent's day view and cancel; a
//   freed slot offered to the waiting member and taken in one click.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { SIZES, checkPage, newContext, useStack, watch } from './lib/browser.js';
import { mockApi } from './lib/fixtures.js';
import { enterTotp, newMember, signInPassword } from './lib/flows.js';
import { ARTIFACTS, WebStack } from './lib/stack.js';
import { TotpDevice } from './lib/totp.js';

const stack = new WebStack('appointments');
let browser;
useStack(stack, (b) => { browser = b; });


/* ---- mocked API -------------------------------------------------------- */

const DAY = 86400e3;
const iso = (ms) => new Date(ms).toISOString().replace(/\.\d+Z$/, 'Z');
// Paris calendar day of an instant, and 08:30 Paris (07:30 UTC in winter,
// 06:30 in summer: the exact offset matters little to the page checks).
const parisDay = (ms) => new Intl.DateTimeFormat('en-CA', { timeZone: 'Europe/Paris', year: 'numeric', month: '2-digit', day: '2-digit' }).format(new Date(ms));
const at = (daysAhead, hh, mm) => {
  const d = parisDay(Date.now() + daysAhead * DAY);
  const guess = Date.parse(`${d}T${String(hh).padStart(2, '0')}:${String(mm).padStart(2, '0')}:00Z`);
  const wall = new Intl.DateTimeFormat('en-GB', { timeZone: 'Europe/Paris', hour: '2-digit', hourCycle: 'h23' }).format(new Date(guess));
  return iso(guess - (Number(wall) - hh) * 3600e3);
};
const KINDS = [{ code: 'first', label: 'Première consultation', minutes: 30 }, { code: 'followup', label: 'Consultation de suivi', minutes: 20 }];
const AGENDA = {
  id: 5, kind: 'practitioner', name: 'Dr Hélène Moreau', specialty: 'Médecine générale', address_line: '3 rue Pasteur',
  postal_code: '33000', city: 'Bordeaux', is_my_doctor: true, visit_kinds: KINDS, horizon_days: 60, change_cutoff_hours: 24,
};
const OFFICE = {
  id: 9, kind: 'office', name: 'Accueil CPAM de Bordeaux', specialty: null, address_line: '1 place de l’Europe',
  postal_code: '33000', city: 'Bordeaux', is_my_doctor: false, visit_kinds: [{ code: 'adviser', label: 'Rendez-vous avec un conseiller', minutes: 30 }],
};
const SLOTS = [at(2, 8, 30), at(2, 9, 0), at(3, 14, 0), at(5, 10, 30)].map((s) => ({ start: s, end: iso(Date.parse(s) + 30 * 60e3) }));
const appt = (id, start, extra = {}) => ({
  id, agenda: AGENDA, start, end: iso(Date.parse(start) + 30 * 60e3), kind: 'first', beneficiary_id: null, beneficiary: null, reason: '',
  status: 'booked', change_until: iso(Date.parse(start) - 24 * 3600e3), can_change: true, sequence: 0,
  created_at: iso(Date.now() - DAY), updated_at: iso(Date.now() - DAY), ...extra,
});

async function open(viewport, path, session, overrides = {}, setup = null) {
  const ctx = await browser.newContext({ baseURL: stack.baseUrl, locale: 'fr-FR', timezoneId: 'Europe/Paris', viewport });
  const calls = await mockApi(ctx, session, overrides);
  if (setup) await setup(ctx);
  const page = watch(await ctx.newPage());
  await page.goto(path);
  return { ctx, page, calls };
}

describe('appointments pages (API mocked)', () => {
  for (const [size, viewport] of SIZES) {
    test(`search: médecin traitant first, filters sent (${size})`, async () => {
      const { ctx, page, calls } = await open(viewport, '/appointments/rechercher.html', 'member', {
        'GET /api/v1/appointments/agendas': [200, { items: [AGENDA, OFFICE], next_cursor: 'abc' }],
      });
      try {
        await page.locator('#resultats li[data-agenda="5"]', { hasText: 'Mon médecin traitant' }).waitFor();
        assert.equal(await page.locator('#resultats li[data-agenda]').first().getAttribute('data-agenda'), '5');
        await checkPage(page, 'appointments', `recherche-${size}`);
        await page.selectOption('#specialty', 'office');
        await page.fill('#city', 'Bordeaux');
        await page.fill('#postcode', '330');
        await page.click('#recherche button[type=submit]');
        await page.locator('#postcode[aria-invalid="true"]').waitFor();
        await page.fill('#postcode', '33000');
        await page.click('#recherche button[type=submit]');
        await page.waitForFunction(() => document.activeElement?.id === 'titre-resultats');
        const last = calls.filter((c) => c.key === 'GET /api/v1/appointments/agendas').at(-1);
        assert.match(last.search, /city=Bordeaux/);
        assert.match(last.search, /postcode=33000/);
        assert.match(last.search, /type=office/);
        assert.doesNotMatch(last.search, /specialty=/);
        assert.equal(await page.locator('#plus').isVisible(), true);
        assert.equal(await page.locator('#resultats li[data-agenda="9"] a').getAttribute('href'), '/appointments/creneaux.html?agenda=9');
      } finally {
        await ctx.close();
      }
    });

    test(`week of slots, booking with the deadline stated, waitlist (${size})`, async () => {
      const booked = appt(31, SLOTS[1].start, { reason: 'Renouvellement' });
      const { ctx, page, calls } = await open(viewport, '/appointments/creneaux.html?agenda=5', 'member', {
        'GET /api/v1/appointments/agendas/5': [200, AGENDA],
        'GET /api/v1/appointments/agendas/5/slots': [200, { agenda_id: 5, kind: 'first', from: parisDay(Date.now()), to: parisDay(Date.now() + 6 * DAY), slots: SLOTS }],
        'GET /api/v1/appointments/beneficiaries': [200, [{ id: null, relation: 'self', name: 'Marie Dupont', label: 'Moi (Marie Dupont)' }, { id: 11, relation: 'child', name: 'Lucas Dupont', label: 'Lucas Dupont (enfant)' }]],
        'POST /api/v1/appointments': [201, booked],
        'POST /api/v1/appointments/waitlist': [201, { id: 3 }],
      });
      try {
        await page.locator('#semaine button[data-start]').first().waitFor();
        assert.equal(await page.locator('#semaine li.rdv-jour').count(), 7);
        assert.equal(await page.locator('#semaine button[data-start]').count(), 4);
        assert.equal(await page.locator('#precedente').isDisabled(), true);
        await checkPage(page, 'appointments', `creneaux-${size}`);
        // Keyboard: Tab to the second slot, Enter chooses it.
        await page.locator(`#semaine button[data-start="${SLOTS[0].start}"]`).focus();
        await page.keyboard.press('Tab');
        await page.keyboard.press('Enter');
        await page.locator('#reservation:not([hidden])').waitFor();
        assert.equal(await page.evaluate(() => document.activeElement.id), 'titre-reservation');
        assert.match(await page.locator('#delai').textContent(), /jusqu’au .* soit 24 heures avant/);
        // For a child: chosen among the member's beneficiaries, sent by id.
        assert.deepEqual(await page.locator('#beneficiary option').allTextContents(), ['Moi-même (Marie Dupont)', 'Lucas Dupont (enfant)']);
        await page.selectOption('#beneficiary', '11');
        await page.fill('#reason', 'Renouvellement');
        assert.equal(await page.locator('#compteur').textContent(), '14 sur 500 caractères');
        await checkPage(page, 'appointments', `reservation-${size}`);
        await page.click('#confirmer');
        await page.locator('#statut .fr-alert--success', { hasText: 'Rendez-vous confirmé' }).waitFor();
        const post = calls.find((c) => c.key === 'POST /api/v1/appointments');
        assert.deepEqual(JSON.parse(post.body), { agenda: 5, start: SLOTS[1].start, kind: 'first', reason: 'Renouvellement', beneficiary: 11 });
        assert.equal(await page.locator('#statut a[href="/api/v1/appointments/31.ics"]').count(), 1);
        // Next week asks the following seven days.
        await page.click('#suivante');
        await page.waitForFunction(() => document.activeElement?.id === 'titre-semaine');
        const slotCalls = calls.filter((c) => c.key === 'GET /api/v1/appointments/agendas/5/slots');
        assert.match(slotCalls.at(-1).search, new RegExp(`from=${parisDay(Date.now() + 7 * DAY)}`));
        // The waitlist.
        await page.fill('#before', parisDay(Date.now() + 20 * DAY));
        await page.click('#attente button[type=submit]');
        await page.locator('#statut .fr-alert--success', { hasText: 'Demande enregistrée' }).waitFor();
        const wl = calls.find((c) => c.key === 'POST /api/v1/appointments/waitlist');
        assert.deepEqual(JSON.parse(wl.body), { agenda: 5, kind: 'first', before: parisDay(Date.now() + 20 * DAY) });
      } finally {
        await ctx.close();
      }
    });

    test(`a slot taken meanwhile: the 409 said, the week reloaded (${size})`, async () => {
      const { ctx, page, calls } = await open(viewport, '/appointments/creneaux.html?agenda=5', 'member', {
        'GET /api/v1/appointments/agendas/5': [200, AGENDA],
        'GET /api/v1/appointments/agendas/5/slots': [200, { agenda_id: 5, kind: 'first', slots: SLOTS }],
        'GET /api/v1/appointments/beneficiaries': [200, [{ id: null, relation: 'self', name: 'Marie Dupont', label: 'Moi (Marie Dupont)' }, { id: 11, relation: 'child', name: 'Lucas Dupont', label: 'Lucas Dupont (enfant)' }]],
        'POST /api/v1/appointments': [409, { type: 'about:blank', title: 'Conflit', status: 409, detail: 'Ce créneau vient d’être pris. Choisissez-en un autre.' }],
      });
      try {
        await page.locator('#semaine button[data-start]').first().click();
        await page.click('#confirmer');
        await page.locator('#formulaire .fr-alert--error', { hasText: 'vient d’être pris' }).waitFor();
        await checkPage(page, 'appointments', `creneau-pris-${size}`);
        assert.ok(calls.filter((c) => c.key === 'GET /api/v1/appointments/agendas/5/slots').length >= 2);
      } finally {
        await ctx.close();
      }
    });

    test(`my appointments: cancel with confirmation, move link, offer taken (${size})`, async () => {
      const soon = appt(40, at(0.5, 18, 0), { can_change: false, change_until: iso(Date.now() - 3600e3) });
      const later = appt(41, SLOTS[2].start, { beneficiary_id: 11, beneficiary: 'Lucas Dupont' });
      const past = appt(30, iso(Date.now() - 10 * DAY), { status: 'done', can_change: false });
      const cancelled = appt(29, iso(Date.now() - 20 * DAY), { status: 'cancelled_by_member', can_change: false, agenda: OFFICE, kind: 'adviser' });
      const offer = { start: SLOTS[0].start, end: SLOTS[0].end, until: iso(Date.now() + 12 * 60e3) };
      const { ctx, page, calls } = await open(viewport, '/appointments/', 'member', {
        'GET /api/v1/appointments': [200, { items: [soon, later], next_cursor: null }],
        'GET /api/v1/appointments/waitlist': [200, { items: [{ id: 3, agenda: AGENDA, kind: 'first', before: parisDay(Date.now() + 20 * DAY), created_at: iso(Date.now() - 2 * DAY), offer }] }],
        'POST /api/v1/appointments/41/cancel': [200, { ...later, status: 'cancelled_by_member' }],
        'POST /api/v1/appointments/waitlist/3/accept': [201, appt(42, SLOTS[0].start)],
      }, (ctx2) => ctx2.route((u) => u.pathname === '/api/v1/appointments' && u.searchParams.get('when') === 'past',
        // The same path answers both lists: the past one by its query.
        (route) => route.fulfill({ status: 200, contentType: 'application/json', body: JSON.stringify({ items: [past, cancelled], next_cursor: null }) })));
      try {
        await page.locator('#a-venir li[data-id="41"]').waitFor();
        await page.locator('#passes li[data-id="30"]').waitFor();
        assert.match(await page.locator('#a-venir li[data-id="40"]').textContent(), /délai pour le déplacer ou l’annuler en ligne est passé/);
        assert.equal(await page.locator('#a-venir li[data-id="40"] button[data-action="annuler"]').count(), 0);
        assert.match(await page.locator('#a-venir li[data-id="41"]').textContent(), /pour Lucas Dupont/);
        const move = await page.locator('#a-venir li[data-id="41"] a', { hasText: 'Déplacer' }).getAttribute('href');
        assert.equal(move, '/appointments/creneaux.html?agenda=5&deplacer=41&kind=first');
        assert.equal(await page.locator('#a-venir li[data-id="41"] a.fr-link--download').getAttribute('href'), '/api/v1/appointments/41.ics');
        assert.match(await page.locator('#passes').textContent(), /Annulé par vous/);
        await checkPage(page, 'appointments', `mes-rendez-vous-${size}`);
        await page.click('#a-venir li[data-id="41"] button[data-action="annuler"]');
        await page.locator('#a-venir li[data-id="41"] .rdv-confirmation').waitFor();
        assert.ok(!calls.some((c) => c.key === 'POST /api/v1/appointments/41/cancel'), 'nothing sent before confirming');
        await checkPage(page, 'appointments', `annulation-${size}`);
        await page.click('#a-venir li[data-id="41"] button[data-action="confirmer-annulation"]');
        await page.locator('#statut .fr-alert--success', { hasText: 'Rendez-vous annulé' }).waitFor();
        assert.ok(calls.some((c) => c.key === 'POST /api/v1/appointments/41/cancel'));
        await page.click('#attente li[data-waitlist="3"] button', { hasText: 'Prendre ce créneau' });
        await page.locator('#statut .fr-alert--success', { hasText: 'Rendez-vous confirmé' }).waitFor();
        assert.ok(calls.some((c) => c.key === 'POST /api/v1/appointments/waitlist/3/accept'));
      } finally {
        await ctx.close();
      }
    });

    test(`moving: the same week, the move posted (${size})`, async () => {
      const current = appt(41, SLOTS[2].start);
      const { ctx, page, calls } = await open(viewport, '/appointments/creneaux.html?agenda=5&deplacer=41&kind=first', 'member', {
        'GET /api/v1/appointments/41': [200, current],
        'GET /api/v1/appointments/agendas/5': [200, AGENDA],
        'GET /api/v1/appointments/agendas/5/slots': [200, { agenda_id: 5, kind: 'first', slots: SLOTS }],
        'POST /api/v1/appointments/41/move': [200, appt(41, SLOTS[3].start, { sequence: 1 })],
      });
      try {
        await page.locator('#deplacement:not([hidden])').waitFor();
        await page.locator(`#semaine button[data-start="${SLOTS[3].start}"]`).click();
        assert.equal(await page.locator('#groupe-motif').isVisible(), false);
        assert.match(await page.locator('#delai').textContent(), /sera libéré/);
        await checkPage(page, 'appointments', `deplacement-${size}`);
        await page.click('#confirmer');
        await page.locator('#statut .fr-alert--success', { hasText: 'Rendez-vous déplacé' }).waitFor();
        const post = calls.find((c) => c.key === 'POST /api/v1/appointments/41/move');
        assert.deepEqual(JSON.parse(post.body), { start: SLOTS[3].start });
      } finally {
        await ctx.close();
      }
    });

    test(`back office: day view, cancel with a reason, closure (${size})`, async () => {
      const today = parisDay(Date.now());
      const items = [
        { id: 50, start: iso(Date.now() - 2 * 3600e3), end: iso(Date.now() - 1.5 * 3600e3), kind: 'first', status: 'booked', member: { id: 42, name: 'Marie Dupont' }, beneficiary: null },
        { id: 51, start: iso(Date.now() + 2 * 3600e3), end: iso(Date.now() + 2.5 * 3600e3), kind: 'followup', status: 'booked', member: { id: 43, name: 'Paul Martin' }, beneficiary_id: 7, beneficiary: 'Léa Martin' },
      ];
      const { ctx, page, calls } = await open(viewport, '/appointments/backoffice.html', 'agent', {
        'GET /api/v1/backoffice/appointments/agendas': [200, { items: [AGENDA, OFFICE] }],
        'GET /api/v1/backoffice/appointments/agendas/5/day': [200, { agenda: AGENDA, date: today, items }],
        'POST /api/v1/backoffice/appointments/51/cancel': [200, { ...items[1], status: 'cancelled_by_office' }],
        'POST /api/v1/backoffice/appointments/50/done': [200, { ...items[0], status: 'done' }],
        'POST /api/v1/backoffice/appointments/agendas/5/closures': [201, { closure: { id: 1 }, cancelled: 2 }],
      });
      try {
        await page.locator('#agenda option[value="5"]').waitFor({ state: 'attached' });
        await page.selectOption('#agenda', '5');
        await page.click('#journee button[type=submit]');
        await page.locator('#rendez-vous li[data-id="51"]').waitFor();
        assert.match(decodeURIComponent(calls.find((c) => c.key === 'GET /api/v1/backoffice/appointments/agendas/5/day').search), new RegExp(`date=${today}`));
        assert.equal(await page.locator('#rendez-vous li[data-id="51"] button[data-action="honore"]').count(), 0, 'not started: no done/no-show');
        assert.equal(await page.locator('#rendez-vous li[data-id="50"] button[data-action="honore"]').count(), 1);
        await checkPage(page, 'appointments', `backoffice-jour-${size}`);
        await page.click('#rendez-vous li[data-id="51"] button[data-action="annuler"]');
        await page.click('#rendez-vous li[data-id="51"] form button[type=submit]');
        await page.locator('#motif-51[aria-invalid="true"]').waitFor();
        await page.fill('#motif-51', 'Praticien absent');
        await checkPage(page, 'appointments', `backoffice-annulation-${size}`);
        await page.click('#rendez-vous li[data-id="51"] form button[type=submit]');
        await page.locator('#statut .fr-alert--success', { hasText: 'Rendez-vous annulé' }).waitFor();
        assert.deepEqual(JSON.parse(calls.find((c) => c.key === 'POST /api/v1/backoffice/appointments/51/cancel').body), { reason: 'Praticien absent' });
        await page.click('#rendez-vous li[data-id="50"] button[data-action="honore"]');
        await page.locator('#statut .fr-alert--success', { hasText: 'Honoré' }).waitFor();
        await page.fill('#from', '2026-12-24T12:00');
        await page.fill('#to', '2026-12-27T08:00');
        await page.fill('#closure_reason', 'Fermeture de Noël');
        await page.click('#fermeture button[type=submit]');
        await page.locator('#statut .fr-alert--success', { hasText: '2 rendez-vous annulés' }).waitFor();
        assert.deepEqual(JSON.parse(calls.find((c) => c.key === 'POST /api/v1/backoffice/appointments/agendas/5/closures').body),
          { from: '2026-12-24T11:00:00Z', to: '2026-12-27T07:00:00Z', reason: 'Fermeture de Noël' });
      } finally {
        await ctx.close();
      }
    });
  }
});

/* ---- the real stack ------------------------------------------------------ */

// A fund office's agenda of the test's own (every day 08:00–20:00 Paris,
// adviser meetings of 30 min), so that free slots exist whatever the seed.
async function newOffice(tag) {
  const rows = await stack.sql(`
    INSERT INTO appt_agendas (office_name, office_address, office_postal_code, office_city, horizon_days)
      VALUES ('Accueil CPAM Essai ${tag}', '12 rue des Essais', '75015', 'Paris', 60);
    SET @a = LAST_INSERT_ID();
    INSERT INTO appt_hours (agenda_id, weekday, opens, closes)
      SELECT @a, d, 480, 1200 FROM (SELECT 1 d UNION SELECT 2 UNION SELECT 3 UNION SELECT 4 UNION SELECT 5 UNION SELECT 6 UNION SELECT 7) w;
    INSERT INTO appt_kinds (agenda_id, kind, minutes) VALUES (@a, 'adviser', 30);
    SELECT @a;`);
  return Number(rows.at(-1)[0]);
}

async function signedInMember(viewport, who) {
  const m = await newMember(browser, stack, newContext, who);
  const ctx = await newContext(browser, stack, { clientIp: '2.2.2.2' });
  const page = watch(await ctx.newPage());
  await page.setViewportSize(viewport);
  assert.equal(await signInPassword(page, m.person, m.password), '/code-de-securite.html');
  await enterTotp(page, m.device);
  return { m, ctx, page };
}

async function signedInAgent(viewport, login) {
  const { stdout } = await stack.portailctl('agent', 'add', login, '--name', 'Claire Martin', '--role', 'agent');
  const enrol = new URL(stdout.match(/https?:\/\/\S+\/backoffice\/enrolement\.html\?token=\S+/)[0]);
  const ctx = await newContext(browser, stack, { clientIp: '2.2.2.2' });
  const page = watch(await ctx.newPage());
  await page.setViewportSize(viewport);
  await page.goto(enrol.pathname + enrol.search);
  await page.locator('#password').waitFor();
  const password = 'Les rendez-vous du guichet commencent à neuf heures';
  await page.fill('#password', password);
  await page.fill('#password_confirmation', password);
  await page.click('#formulaire-mdp button[type=submit]');
  await page.locator('#secret:not(:empty)').waitFor();
  const device = new TotpDevice((await page.locator('#secret').textContent()).replace(/\s+/g, ''));
  await page.fill('#code', await device.code());
  await page.click('#formulaire-code button[type=submit]');
  await page.locator('#etape-fin').waitFor();
  await Promise.all([page.waitForURL('**/backoffice/'), page.click('#etape-fin a')]);
  await page.locator('#login').waitFor();
  await page.fill('#login', login);
  await page.fill('#password', password);
  await Promise.all([page.waitForURL('**/backoffice/code.html'), page.click('#formulaire button[type=submit]')]);
  await page.locator('#code').waitFor();
  await page.fill('#code', await device.code());
  await Promise.all([page.waitForURL('**/backoffice/recherche.html'), page.click('#formulaire button[type=submit]')]);
  return { ctx, page };
}

// The first free slot of a Paris day in the week shown, and its start.
async function pickSlot(page, day, nth = 0) {
  const b = page.locator(`#semaine li[data-day="${day}"] button[data-start]`).nth(nth);
  await b.waitFor();
  const start = await b.getAttribute('data-start');
  await b.click();
  await page.locator('#reservation:not([hidden])').waitFor();
  return start;
}

describe('appointments on the real stack', () => {
  for (const [size, viewport] of SIZES) {
    test(`search → slots → book → see it → move → cancel; waitlist; agent day view and cancel (${size})`, async (t) => {
      const why = stack.missing('login', 'appointments');
      if (why) return t.skip(why);
      const check = (page, name) => checkPage(page, 'appointments-flux', `${name}-${size}`);
      const tag = size === 'bureau' ? 'Alpha' : 'Beta';
      const office = await newOffice(tag);
      const { ctx: mctx, page } = await signedInMember(viewport, { first: 'Élise', last: `Rdv${tag}`, birthDate: '1987-04-12' });
      let actx;
      try {
        // Search: the office by type and name.
        await page.goto('/appointments/rechercher.html');
        await page.locator('#resultats li').first().waitFor();
        await page.selectOption('#specialty', 'office');
        await page.fill('#name', `Accueil CPAM Essai ${tag}`);
        await page.click('#recherche button[type=submit]');
        const card = page.locator(`#resultats li[data-agenda="${office}"]`);
        await card.waitFor();
        await check(page, 'recherche');
        await Promise.all([page.waitForURL(`**/appointments/creneaux.html?agenda=${office}`), card.locator('a').click()]);

        // The week, a slot three days ahead (past the 24 h cutoff), booked.
        const d3 = parisDay(Date.now() + 3 * DAY);
        await page.locator('#semaine button[data-start]').first().waitFor();
        await check(page, 'creneaux');
        const first = await pickSlot(page, d3, 2);
        assert.match(await page.locator('#delai').textContent(), /jusqu’au .* soit 24 heures avant/);
        await page.fill('#reason', 'Question sur mes droits');
        await check(page, 'reservation');
        await page.click('#confirmer');
        await page.locator('#statut .fr-alert--success', { hasText: 'Rendez-vous confirmé' }).waitFor();
        await page.locator(`#semaine button[data-start="${first}"]`).waitFor({ state: 'detached' });
        await check(page, 'reserve');

        // The waitlist, from the same page.
        await page.fill('#before', parisDay(Date.now() + 20 * DAY));
        await page.click('#attente button[type=submit]');
        await page.locator('#statut .fr-alert--success', { hasText: 'Demande enregistrée' }).waitFor();

        // My appointments: the booking, the waitlist entry.
        await page.goto('/appointments/');
        const mine = page.locator('#a-venir li[data-id]').first();
        await mine.waitFor();
        const id = await mine.getAttribute('data-id');
        assert.match(await mine.textContent(), new RegExp(`Accueil CPAM Essai ${tag}`));
        assert.match(await mine.textContent(), /Confirmé/);
        await page.locator('#attente li[data-waitlist]').first().waitFor();
        await check(page, 'mes-rendez-vous');
        const ics = await page.request.get(`/api/v1/appointments/${id}.ics`);
        assert.equal(ics.status(), 200);
        assert.match(await ics.text(), /BEGIN:VCALENDAR[\s\S]*BEGIN:VEVENT/);

        // Move it to the next day.
        await Promise.all([page.waitForURL(/creneaux\.html\?.*deplacer=/), mine.locator('a', { hasText: 'Déplacer' }).click()]);
        await page.locator('#deplacement:not([hidden])').waitFor();
        const moved = await pickSlot(page, parisDay(Date.now() + 4 * DAY), 1);
        await check(page, 'deplacement');
        await page.click('#confirmer');
        await page.locator('#statut .fr-alert--success', { hasText: 'Rendez-vous déplacé' }).waitFor();
        const [[startNow]] = await stack.sql(`SELECT DATE_FORMAT(start_utc, '%Y-%m-%dT%H:%i:%sZ') FROM appt_appointments WHERE id = ${Number(id)}`);
        assert.equal(startNow, moved);

        // Cancel it, after the confirmation.
        await page.goto('/appointments/');
        const row = page.locator(`#a-venir li[data-id="${id}"]`);
        await row.locator('button[data-action="annuler"]').click();
        await row.locator('.rdv-confirmation').waitFor();
        await check(page, 'annulation');
        await row.locator('button[data-action="confirmer-annulation"]').click();
        await page.locator('#statut .fr-alert--success', { hasText: 'Rendez-vous annulé' }).waitFor();
        // Still to come, shown as cancelled (the list is by date, not status).
        await page.locator(`#a-venir li[data-id="${id}"]`, { hasText: 'Annulé par vous' }).waitFor();
        assert.equal(await page.locator(`#a-venir li[data-id="${id}"] button[data-action="annuler"]`).count(), 0);
        // The waitlist entry withdrawn.
        await page.locator('#attente li[data-waitlist] button', { hasText: 'Retirer ma demande' }).first().click();
        await page.locator('#statut .fr-alert--success', { hasText: 'Demande retirée' }).waitFor();
        await check(page, 'annule');

        // A new booking, which an agent cancels from the day view.
        await page.goto(`/appointments/creneaux.html?agenda=${office}`);
        await page.locator('#semaine button[data-start]').first().waitFor();
        const second = await pickSlot(page, d3, 4);
        await page.click('#confirmer');
        await page.locator('#statut .fr-alert--success', { hasText: 'Rendez-vous confirmé' }).waitFor();

        ({ ctx: actx } = await signedInAgent(viewport, `rdv${tag.toLowerCase()}`));
        const apage = actx.pages()[0];
        await apage.goto('/appointments/backoffice.html');
        await apage.locator('#agenda option').nth(1).waitFor({ state: 'attached' });
        await apage.fill('#q', `Essai ${tag}`);
        await apage.click('#recherche button[type=submit]');
        await apage.waitForFunction(() => document.activeElement?.id === 'agenda');
        assert.equal(await apage.locator('#agenda option').count(), 2, 'the search found one agenda');
        await apage.selectOption('#agenda', String(office));
        await apage.fill('#date', d3);
        await apage.click('#journee button[type=submit]');
        const item = apage.locator('#rendez-vous li[data-id]', { hasText: `Rdv${tag}` }).filter({ hasText: 'Confirmé' });
        await item.waitFor();
        await check(apage, 'backoffice-jour');
        await item.locator('button[data-action="annuler"]').click();
        await item.locator('input[name="reason"]').fill('Conseiller absent ce jour-là');
        await check(apage, 'backoffice-annulation');
        await item.locator('form button[type=submit]').click();
        await apage.locator('#statut .fr-alert--success', { hasText: 'Rendez-vous annulé' }).waitFor();
        const [[status]] = await stack.sql(`SELECT status FROM appt_appointments WHERE agenda_id = ${office} AND start_utc = '${second.replace('T', ' ').replace('Z', '')}'`);
        assert.equal(status, 'cancelled_by_office');
        const audits = await stack.sql(`SELECT COUNT(*) FROM audit_log WHERE action LIKE 'appointments.%'`);
        assert.ok(Number(audits[0][0]) >= 2, 'the day read and the cancel are audited');

        await page.goto('/appointments/');
        await page.locator('#a-venir li', { hasText: 'Annulé par le cabinet ou la caisse' }).filter({ hasText: 'Conseiller absent ce jour-là' }).waitFor();
      } catch (e) {
        // What the pages showed when it failed.
        await page.screenshot({ path: join(ARTIFACTS, `echec-rendez-vous-${size}.png`), fullPage: true }).catch(() => {});
        await actx?.pages()[0]?.screenshot({ path: join(ARTIFACTS, `echec-agent-${size}.png`), fullPage: true }).catch(() => {});
        throw e;
      } finally {
        await actx?.close();
        await mctx.close();
      }
    });

    test(`waitlist: a freed slot offered to the waiting member, taken in one click (${size})`, async (t) => {
      const why = stack.missing('login', 'appointments');
      if (why) return t.skip(why);
      const tag = size === 'bureau' ? 'Gamma' : 'Delta';
      const office = await newOffice(tag);
      const d3 = parisDay(Date.now() + 3 * DAY);
      const a = await signedInMember(viewport, { first: 'Paul', last: `Tot${tag}`, birthDate: '1979-02-03' });
      const b = await signedInMember(viewport, { first: 'Nina', last: `Attente${tag}`, birthDate: '1991-09-09' });
      try {
        // A books a slot; B asks to be told of one before five days from now.
        await a.page.goto(`/appointments/creneaux.html?agenda=${office}`);
        await a.page.locator('#semaine button[data-start]').first().waitFor();
        const slot = await pickSlot(a.page, d3, 3);
        await a.page.click('#confirmer');
        await a.page.locator('#statut .fr-alert--success', { hasText: 'Rendez-vous confirmé' }).waitFor();
        await b.page.goto(`/appointments/creneaux.html?agenda=${office}`);
        await b.page.locator('#before').waitFor();
        await b.page.fill('#before', parisDay(Date.now() + 5 * DAY));
        await b.page.click('#attente button[type=submit]');
        await b.page.locator('#statut .fr-alert--success', { hasText: 'Demande enregistrée' }).waitFor();

        // A cancels: the slot is offered to B (a job), held for B.
        await a.page.goto('/appointments/');
        const row = a.page.locator('#a-venir li[data-id]').first();
        await row.locator('button[data-action="annuler"]').click();
        await row.locator('button[data-action="confirmer-annulation"]').click();
        await a.page.locator('#statut .fr-alert--success', { hasText: 'Rendez-vous annulé' }).waitFor();
        let offer = null;
        for (let i = 0; i < 30 && !offer; i++) {
          await b.page.goto('/appointments/');
          await b.page.locator('#attente li').first().waitFor();
          offer = await b.page.locator('#attente li[data-waitlist] .fr-alert--info').count() ? b.page.locator('#attente li[data-waitlist]').first() : null;
          if (!offer) await new Promise((r) => setTimeout(r, 500));
        }
        assert.ok(offer, 'the offer reached the waiting member');
        assert.match(await offer.textContent(), /Un créneau s’est libéré\s.* Il vous est réservé jusqu’à/);
        await checkPage(b.page, 'appointments-flux', `offre-${size}`);
        // Held for B: nobody else sees it free.
        await a.page.goto(`/appointments/creneaux.html?agenda=${office}`);
        await a.page.locator('#semaine button[data-start]').first().waitFor();
        assert.equal(await a.page.locator(`#semaine button[data-start="${slot}"]`).count(), 0, 'the offered slot is held');
        await offer.locator('button', { hasText: 'Prendre ce créneau' }).click();
        await b.page.locator('#statut .fr-alert--success', { hasText: 'Rendez-vous confirmé' }).waitFor();
        await b.page.locator('#a-venir li[data-id]', { hasText: 'Confirmé' }).waitFor();
        const [[start]] = await stack.sql(`SELECT DATE_FORMAT(x.start_utc, '%Y-%m-%dT%H:%i:%sZ') FROM appt_appointments x JOIN members m ON m.id = x.member_id JOIN insured i ON i.id = m.insured_id WHERE i.last_name = 'Attente${tag}' AND x.status = 'booked'`);
        assert.equal(start, slot);
        await checkPage(b.page, 'appointments-flux', `offre-prise-${size}`);
      } catch (e) {
        await b.page.screenshot({ path: join(ARTIFACTS, `echec-attente-${size}.png`), fullPage: true }).catch(() => {});
        throw e;
      } finally {
        await a.ctx.close();
        await b.ctx.close();
      }
    });
  }
});
