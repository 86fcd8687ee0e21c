// Module coverage's pages (modules/coverage/web/): "Mes droits" with the
// médecin traitant search and declaration, the attestation download for
// whom, the carte Vitale report, the back office (a pending change, a card
// report cancelled), the public attestation check; API mocked; axe at
// desktop size and 375x812.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { SIZES, checkPage, useStack, watch } from './lib/browser.js';
import { mockApi, problem } from './lib/fixtures.js';
import { WebStack } from './lib/stack.js';

const stack = new WebStack('coverage');
let browser;
useStack(stack, (b) => { browser = b; });

const PDF = Buffer.from('%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n');
const PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAIAAACQd1PeAAAADElEQVR4nGNgYGAAAAAEAAH2FzhVAAAAAElFTkSuQmCC', 'base64');
const DOCTOR = { id: 7, rpps: '10100000000', last_name: 'Moreau', first_name: 'Hélène', specialty: 'Médecine générale', address_line: '3 rue Pasteur', postal_code: '33000', city: 'Bordeaux', accepts_new_patients: 1 };
const COVERAGE = {
  rights: { first_name: 'Marie', last_name: 'Dupont', nir: '285033306300182', birth_date: '1985-03-14', regime: 'Régime général', fund: 'CPAM de la Gironde', open_from: '2025-01-01', open_to: '2027-12-31', css: 'free', css_from: '2026-01-01', css_to: '2026-12-31', ald_label: null },
  beneficiaries: [
    { id: 11, relation: 'child', nir: '112063306300270', temp_number: null, first_name: 'Lucas', last_name: 'Dupont', birth_date: '2012-06-02', rights_to: '2027-12-31' },
    { id: 12, relation: 'child', nir: '218093306300364', temp_number: null, first_name: 'Chloé', last_name: 'Dupont', birth_date: '2018-09-21', rights_to: '2027-12-31' },
  ],
  doctor: { status: 'current', declared_on: '2020-02-03', practitioner: DOCTOR },
  doctor_pending: null,
};
const CARDS = { cards: [
  { id: 1, beneficiary_id: null, serial: 'A0000000002', status: 'active', issued_on: '2016-04-01', first_name: 'Marie', last_name: 'Dupont' },
  { id: 2, beneficiary_id: 11, serial: 'B0000000011', status: 'active', issued_on: '2024-06-02', first_name: 'Lucas', last_name: 'Dupont' },
] };

async function open(viewport, path, session, overrides = {}) {
  const ctx = await browser.newContext({ baseURL: stack.baseUrl, locale: 'fr-FR', timezoneId: 'Europe/Paris', viewport });
  const calls = await mockApi(ctx, session, overrides);
  const page = watch(await ctx.newPage());
  await page.goto(path);
  return { ctx, page, calls };
}

describe('coverage pages', () => {
  for (const [size, viewport] of SIZES) {
    test(`Mes droits, médecin traitant (${size})`, async () => {
      const { ctx, page, calls } = await open(viewport, '/coverage/', 'member', {
        'GET /api/v1/coverage': [200, COVERAGE],
        'GET /api/v1/coverage/practitioners': [200, { practitioners: [{ ...DOCTOR, id: 9, last_name: 'Garnier' }], next_cursor: null }],
        'POST /api/v1/coverage/doctor': [201, { status: 'pending' }],
      });
      try {
        await page.locator('#ayants td', { hasText: 'Lucas Dupont' }).waitFor();
        assert.match(await page.locator('#droits').textContent(), /CPAM de la Gironde.*sans participation/s);
        assert.match(await page.locator('#medecin-actuel').textContent(), /Hélène Moreau.*10100000000/);
        await checkPage(page, 'coverage', `droits-${size}`);
        await page.fill('#lieu', 'Bordeaux');
        await page.click('#recherche button[type=submit]');
        await page.click('#resultats button[data-id="9"]');
        await page.locator('#statut .fr-alert--success').waitFor();
        const post = calls.find((c) => c.key === 'POST /api/v1/coverage/doctor');
        assert.deepEqual(JSON.parse(post.body), { practitioner: 9 });
        assert.ok(calls.some((c) => c.key === 'GET /api/v1/coverage/practitioners' && c.search.includes('place=Bordeaux')));
        await checkPage(page, 'coverage', `droits-declare-${size}`);
      } finally {
        await ctx.close();
      }
    });

    test(`attestation for whom (${size})`, async () => {
      const { ctx, page } = await open(viewport, '/coverage/attestation.html', 'member', {
        'GET /api/v1/coverage': [200, COVERAGE],
      });
      try {
        await page.locator('#personne option[value="12"]').waitFor({ state: 'attached' });
        assert.equal(await page.locator('#telecharger').getAttribute('href'), '/api/v1/coverage/attestation.pdf');
        await page.selectOption('#personne', '12');
        assert.equal(await page.locator('#telecharger').getAttribute('href'), '/api/v1/coverage/attestation.pdf?beneficiary=12');
        await checkPage(page, 'coverage', `attestation-${size}`);
      } finally {
        await ctx.close();
      }
    });

    test(`carte Vitale report (${size})`, async () => {
      const { ctx, page, calls } = await open(viewport, '/coverage/vitale.html', 'member', {
        'GET /api/v1/coverage/vitale': [200, CARDS],
        'POST /api/v1/coverage/vitale/11/report': [200, { id: 2, status: 'stolen' }],
      });
      try {
        await page.locator('#cartes td', { hasText: 'B0000000011' }).waitFor();
        await checkPage(page, 'coverage', `vitale-${size}`);
        await page.selectOption('#personne', '11');
        await page.selectOption('#motif', 'stolen');
        await page.click('#signaler button[type=submit]');
        await page.locator('#statut .fr-alert--success').waitFor();
        const post = calls.find((c) => c.key === 'POST /api/v1/coverage/vitale/11/report');
        assert.deepEqual(JSON.parse(post.body), { kind: 'stolen' });
      } finally {
        await ctx.close();
      }
    });

    test(`carte Vitale order with photo preview (${size})`, async () => {
      const STOLEN = { cards: [{ ...CARDS.cards[0], status: 'stolen' }, CARDS.cards[1]] };
      const { ctx, page, calls } = await open(viewport, '/coverage/vitale.html', 'member', {
        'GET /api/v1/coverage/vitale': [200, STOLEN],
        'POST /api/v1/coverage/vitale/me/order': [201, { id: 3, status: 'ordered', serial: 'V1234567890123456789' }],
      });
      try {
        await page.locator('#commande-personne option[value="me"]').waitFor({ state: 'attached' });
        assert.equal(await page.locator('#commande-personne option').count(), 1);
        await page.click('#commander button[type=submit]');
        await page.locator('#photo[aria-invalid="true"]').waitFor();
        assert.ok(!calls.some((c) => c.key === 'POST /api/v1/coverage/vitale/me/order'));
        await page.setInputFiles('#photo', { name: 'photo.png', mimeType: 'image/png', buffer: PNG });
        await page.locator('#apercu:not([hidden]) img[src^="data:image/png"]').waitFor();
        await page.setInputFiles('#identity', { name: 'cni.pdf', mimeType: 'application/pdf', buffer: PDF });
        await checkPage(page, 'coverage', `vitale-commande-${size}`);
        await page.click('#commander button[type=submit]');
        await page.locator('#statut .fr-alert--success', { hasText: 'Carte commandée' }).waitFor();
        const post = calls.find((c) => c.key === 'POST /api/v1/coverage/vitale/me/order');
        assert.match(post.headers['content-type'], /^multipart\/form-data/);
        assert.match(post.body, /name="photo"; filename="photo.png"/);
        assert.match(post.body, /name="identity"; filename="cni.pdf"/);
      } finally {
        await ctx.close();
      }
    });

    test(`profile: bank change pending verification (${size})`, async () => {
      const PROFILE = { profile: { first_name: 'Marie', last_name: 'Dupont', nir: '285033306300182', birth_date: '1985-03-14', email: 'marie.dupont@example.fr', phone: '0612345678', address_line: '12 rue Sainte-Catherine', postal_code: '33000', city: 'Bordeaux', iban: 'FR7620041010050500013026052', bic: null, holder: null }, pending: [{ id: 1, kind: 'email', created_at: '2026-11-30 05:00:00' }] };
      const { ctx, page, calls } = await open(viewport, '/coverage/profil.html', 'member', {
        'GET /api/v1/profile': [200, PROFILE],
        'PUT /api/v1/profile/bank': [202, { status: 'pending_verification' }],
      });
      try {
        await page.locator('#attente .fr-alert', { hasText: 'En attente de vérification' }).waitFor();
        assert.equal(await page.inputValue('#postal_code'), '33000');
        assert.match(await page.locator('#iban-actuel').textContent(), /FR76.*6052/);
        await checkPage(page, 'coverage', `profil-${size}`);
        await page.fill('#iban', 'DE89 3704 0044 0532 0130 00');
        await page.fill('#bic', 'COBADEFFXXX');
        await page.fill('#holder', 'Marie Dupont');
        await page.click('#banque button[type=submit]');
        await page.locator('#statut .fr-alert--success', { hasText: 'Confirmez' }).waitFor();
        const put = calls.find((c) => c.key === 'PUT /api/v1/profile/bank');
        assert.deepEqual(JSON.parse(put.body), { iban: 'DE89 3704 0044 0532 0130 00', bic: 'COBADEFFXXX', holder: 'Marie Dupont' });
      } finally {
        await ctx.close();
      }
    });

    test(`back office: a member's coverage and a pending change (${size})`, async () => {
      const BO = {
        rights: { member_id: 42, first_name: 'Marie', last_name: 'Dupont', nir: '285033306300182', birth_date: '1985-03-14', regime: 'Régime général', fund: 'CPAM de la Gironde', open_from: '2025-01-01', open_to: '2027-12-31' },
        beneficiaries: COVERAGE.beneficiaries,
        cards: [{ id: 1, beneficiary_id: null, serial: 'A0000000002', status: 'stolen', issued_on: '2016-04-01', status_since: '2026-11-29 10:00:00', reported_at: '2026-11-29 10:00:00' }],
        profile_changes: [{ id: 5, kind: 'bank', email: null, iban: 'FR1420041010050500013M02606', bic: 'PSSTFRPPXXX', holder: 'Marie Dupont', status: 'pending', created_at: '2026-11-30 05:00:00', decided_at: null }],
      };
      const { ctx, page, calls } = await open(viewport, '/coverage/backoffice.html', 'agent', {
        'GET /api/v1/backoffice/coverage/members/42': [200, BO],
        'POST /api/v1/backoffice/coverage/profile-changes/5': [200, { id: 5, status: 'applied' }],
      });
      try {
        await page.locator('#recherche button[type=submit]').waitFor();
        // The search's listener is added after the agent's session check.
        await page.waitForLoadState('networkidle');
        await page.fill('#member', '42');
        await page.click('#recherche button[type=submit]');
        await page.locator('#reason[aria-invalid="true"]').waitFor();
        await page.fill('#reason', 'Appel de l’assurée');
        await page.click('#recherche button[type=submit]');
        await page.locator('#ayants td', { hasText: 'Lucas Dupont' }).waitFor();
        const get = calls.find((c) => c.key === 'GET /api/v1/backoffice/coverage/members/42');
        assert.match(decodeURIComponent(get.search), /reason=Appel de l’assurée/);
        assert.match(await page.locator('#cartes').textContent(), /A0000000002.*Déclarée volée/s);
        await checkPage(page, 'coverage', `backoffice-${size}`);
        await page.fill('#motif-5', 'Assurée rappelée, identité vérifiée');
        await page.click('form[data-id="5"] button[value=confirm]');
        await page.locator('#statut .fr-alert--success', { hasText: 'Modification confirmée' }).waitFor();
        const post = calls.find((c) => c.key === 'POST /api/v1/backoffice/coverage/profile-changes/5');
        assert.deepEqual(JSON.parse(post.body), { decision: 'confirm', reason: 'Assurée rappelée, identité vérifiée' });
      } finally {
        await ctx.close();
      }
    });

    test(`back office: an agent cancels a card report; 409 and 422 shown (${size})`, async () => {
      // Marie's own card was stolen and a new one is on its way (the route
      // says 409); Lucas's card was reported lost by mistake; Chloé's card is
      // defective (the server refuses the reason: 422); a card still active.
      const CONFLICT = 'Une autre carte de cette personne est active ou en commande : le signalement ne peut plus être annulé.';
      const BO = {
        rights: { member_id: 42, first_name: 'Marie', last_name: 'Dupont', nir: '285033306300182', birth_date: '1985-03-14', regime: 'Régime général', fund: 'CPAM de la Gironde', open_from: '2025-01-01', open_to: '2027-12-31' },
        beneficiaries: COVERAGE.beneficiaries,
        cards: [
          { id: 1, beneficiary_id: null, serial: 'A0000000002', status: 'stolen', issued_on: '2016-04-01', status_since: '2026-11-20 10:00:00', reported_at: '2026-11-20 10:00:00' },
          { id: 2, beneficiary_id: 11, serial: 'B0000000011', status: 'lost', issued_on: '2024-06-02', status_since: '2026-11-29 09:30:00', reported_at: '2026-11-29 09:30:00' },
          { id: 3, beneficiary_id: null, serial: 'A0000000003', status: 'sent', issued_on: '2026-11-21', status_since: '2026-11-25 08:00:00', reported_at: null },
          { id: 4, beneficiary_id: 12, serial: 'C0000000012', status: 'defective', issued_on: '2024-09-21', status_since: '2026-11-28 15:00:00', reported_at: '2026-11-28 15:00:00' },
        ],
        profile_changes: [],
      };
      const { ctx, page, calls } = await open(viewport, '/coverage/backoffice.html', 'agent', {
        'GET /api/v1/backoffice/coverage/members/42': [200, BO],
        'POST /api/v1/backoffice/coverage/cards/2/cancel-report': [200, { id: 2, status: 'active' }],
        'POST /api/v1/backoffice/coverage/cards/1/cancel-report': [409, problem(409, { title: 'Conflit', detail: CONFLICT })],
        'POST /api/v1/backoffice/coverage/cards/4/cancel-report': [422, problem(422, { detail: 'Données invalides.', errors: [{ field: 'reason', message: 'Ce champ doit comporter entre 5 et 500 caractères.' }] })],
      });
      const posts = (id) => calls.filter((c) => c.key === `POST /api/v1/backoffice/coverage/cards/${id}/cancel-report`);
      const focused = () => page.evaluate(() => document.activeElement && (document.activeElement.id || document.activeElement.dataset.card || document.activeElement.textContent.trim()));
      try {
        await page.locator('#recherche button[type=submit]').waitFor();
        // The search's listener is added after the agent's session check.
        await page.waitForLoadState('networkidle');
        await page.fill('#member', '42');
        await page.fill('#reason', 'Appel de l’assurée');
        await page.click('#recherche button[type=submit]');
        await page.locator('#cartes button[data-card="2"]').waitFor();
        // Each person's cards with their status; a button only on reported cards.
        const rows = await page.locator('#cartes tr').evaluateAll((trs) => trs.map((tr) => [
          tr.cells[0].textContent, tr.cells[1].textContent, tr.cells[2].querySelector('.portail-etat').textContent,
          tr.cells[2].querySelector('button')?.textContent || null, tr.cells[2].textContent]));
        assert.deepEqual(rows.map((r) => r.slice(0, 4)), [
          ['Marie Dupont (assuré)', 'A0000000002', 'Déclarée volée', 'Annuler le signalement'],
          ['Marie Dupont (assuré)', 'A0000000003', 'Envoyée', null],
          ['Lucas Dupont', 'B0000000011', 'Déclarée perdue', 'Annuler le signalement'],
          ['Chloé Dupont', 'C0000000012', 'Défectueuse', 'Annuler le signalement'],
        ]);
        assert.match(rows[2][4], /signalée le 29 novembre 2026/);
        assert.equal(await page.locator('#annulation').isHidden(), true);
        await checkPage(page, 'coverage', `backoffice-cartes-${size}`);

        // Keyboard only: the button opens the form, the focus goes to the reason.
        const lucas = page.locator('#cartes button[data-card="2"]');
        await lucas.focus();
        await page.keyboard.press('Enter');
        await page.locator('#annulation:not([hidden])').waitFor();
        assert.equal(await lucas.getAttribute('aria-expanded'), 'true');
        assert.match(await page.locator('#annulation-titre').textContent(), /B0000000011.*Lucas Dupont/);
        assert.equal(await focused(), 'motif-annulation');
        // Escape closes it and gives the focus back to the button.
        await page.keyboard.press('Escape');
        assert.equal(await page.locator('#annulation').isHidden(), true);
        assert.equal(await lucas.getAttribute('aria-expanded'), 'false');
        assert.equal(await focused(), '2');
        await page.keyboard.press('Enter');
        await page.locator('#annulation:not([hidden])').waitFor();
        // No reason: a field error, nothing sent.
        await page.keyboard.press('Tab');
        await page.keyboard.press('Enter');
        await page.locator('#motif-annulation[aria-invalid="true"]').waitFor();
        assert.equal(await page.locator('#motif-annulation-erreur').textContent(), 'Ce champ est obligatoire.');
        assert.equal(posts(2).length, 0);
        // Longer than the route's 500 bytes (accents count twice): refused here too.
        await page.fill('#motif-annulation', 'é'.repeat(260));
        await page.click('#annuler button[type=submit]');
        await page.locator('#motif-annulation-erreur', { hasText: 'trop long' }).waitFor();
        assert.equal(posts(2).length, 0);
        assert.equal(await page.locator('#motif-annulation').getAttribute('maxlength'), '500');
        await checkPage(page, 'coverage', `backoffice-annulation-erreur-${size}`);
        await page.fill('#motif-annulation', 'Carte retrouvée par l’assurée, appel du 30/11');
        await page.locator('#annuler button[type=submit]').focus();
        await page.keyboard.press('Enter');
        const done = page.locator('#statut .fr-alert--success', { hasText: 'Signalement annulé' });
        await done.waitFor();
        assert.match(await done.textContent(), /B0000000011 de Lucas Dupont est maintenant\s: active/);
        assert.equal(await done.evaluate((e) => e === document.activeElement), true, 'the success message has the focus');
        assert.deepEqual(JSON.parse(posts(2)[0].body), { reason: 'Carte retrouvée par l’assurée, appel du 30/11' });
        assert.equal(posts(2)[0].headers['x-csrf-token'], 'a'.repeat(64));
        const lucasRow = page.locator('#cartes tr', { hasText: 'B0000000011' });
        assert.equal(await lucasRow.locator('td').nth(2).textContent(), 'Active');
        assert.match(await lucasRow.locator('td').nth(3).textContent(), /2026/);
        assert.equal(await lucasRow.locator('button').count(), 0);
        assert.equal(await page.locator('#annulation').isHidden(), true);
        await checkPage(page, 'coverage', `backoffice-annulation-${size}`);

        // Marie's stolen card: a replacement is on its way, the API's 409 shown in the form.
        await page.click('#cartes button[data-card="1"]');
        await page.fill('#motif-annulation', 'Carte retrouvée par l’assurée');
        await page.click('#annuler button[type=submit]');
        const refused = page.locator('#annuler .portail-error-summary .fr-alert--error');
        await refused.waitFor();
        assert.match(await refused.textContent(), /Action impossible/);
        assert.match(await refused.textContent(), new RegExp(CONFLICT));
        assert.equal(await refused.evaluate((e) => e === document.activeElement), true, 'the error has the focus');
        assert.equal(posts(1).length, 1);
        assert.equal(await page.locator('#cartes tr', { hasText: 'A0000000002' }).locator('td').nth(2).textContent().then((t) => t.startsWith('Déclarée volée')), true);
        await checkPage(page, 'coverage', `backoffice-annulation-409-${size}`);

        // Chloé's card: the server's field error goes next to the reason.
        await page.click('#cartes button[data-card="4"]');
        assert.equal(await page.locator('#annuler .portail-error-summary .fr-alert').count(), 0, 'the former error is gone');
        await page.fill('#motif-annulation', 'Erreur de saisie');
        await page.click('#annuler button[type=submit]');
        await page.locator('#motif-annulation-erreur', { hasText: 'entre 5 et 500 caractères' }).waitFor();
        assert.equal(posts(4).length, 1);
      } finally {
        await ctx.close();
      }
    });

    test(`public attestation check (${size})`, async () => {
      const code = 'ABCDEFGHJKLMNPQRSTUV';
      const { ctx, page } = await open(viewport, `/coverage/verifier.html?code=${code}`, 'none', {
        [`GET /api/v1/coverage/attestations/verify/${code}`]: [200, { valid: true, superseded: false, initials: 'M.D.', birth_year: 1985, valid_from: '2025-01-01', valid_to: '2027-12-31', fund: 'CPAM de la Gironde' }],
      });
      try {
        await page.locator('#resultat .fr-alert--success', { hasText: 'M.D.' }).waitFor();
        await checkPage(page, 'coverage', `verifier-${size}`);
        await page.fill('#code', 'AAAAAAAAAAAAAAAAAAAA');
        await page.click('#formulaire button[type=submit]');
        await page.locator('#resultat .fr-alert--error').waitFor();
      } finally {
        await ctx.close();
      }
    });
  }
});
