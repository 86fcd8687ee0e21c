// Module reimbursements (issue 10): the list with filters, totals and the
// monthly statements' links, and one line's detail (arithmetic, timeline),
// API mocked; axe and CSP at desktop size and 375x812.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { SIZES, checkPage, useStack, watch } from './lib/browser.js';
import { mockApi } from './lib/fixtures.js';
import { WebStack } from './lib/stack.js';

const stack = new WebStack('reimbursements');
let browser;
useStack(stack, (b) => { browser = b; });

const line = (id, kind, label, extra = {}) => ({
  id, beneficiary_id: null, beneficiary: 'Marie Dupont', care_date: '2026-11-03', practitioner_name: 'Dr Claire Moreau',
  practitioner_specialty: 'Médecine générale', kind, act_code: 'G', act_label: label, charged_cents: 3000,
  base_cents: 3000, rate_pct: 70, participation_cents: 200, franchise_cents: 0, reimbursed_cents: 1900,
  paid_to: 'member', status: 'paid', reject_reason: null, received_on: '2026-11-04', processing_on: '2026-11-05',
  paid_on: '2026-11-08', expected_payment_on: null, ...extra,
});
const BENEFICIARIES = { items: [
  { id: null, relation: 'self', first_name: 'Marie', last_name: 'Dupont', name: 'Marie Dupont', birth_date: '1985-03-12', rights_from: null, rights_to: null, label: 'Moi (Marie Dupont)' },
  { id: 11, relation: 'child', first_name: 'Lucas', last_name: 'Dupont', name: 'Lucas Dupont', birth_date: '2012-06-02', rights_from: '2012-06-02', rights_to: '2027-12-31', label: 'Lucas Dupont (enfant)' },
  { id: 12, relation: 'child', first_name: 'Chloé', last_name: 'Dupont', name: 'Chloé Dupont', birth_date: '2018-09-21', rights_from: '2018-09-21', rights_to: '2027-12-31', label: 'Chloé Dupont (enfant)' },
] };
const TOTALS = { count: 2, charged_cents: 4200, reimbursed_cents: 2506, participation_cents: 200, franchise_cents: 100, deductions_cents: 300 };
const PAGE1 = { items: [line(12, 'consultation', 'Consultation de médecine générale')], totals: TOTALS, next_cursor: '2026-11-03.12' };
const PAGE2 = { items: [line(9, 'pharmacy', 'Médicaments (vignette blanche)', { care_date: '2026-10-20', charged_cents: 1200, base_cents: 1200, rate_pct: 65, participation_cents: 0, franchise_cents: 100, reimbursed_cents: 680, paid_to: 'practitioner' })], totals: TOTALS, next_cursor: null };
const PHARMA = { items: PAGE2.items, totals: { ...TOTALS, count: 1, reimbursed_cents: 680 }, next_cursor: null };
const STATEMENTS = { items: [{ month: '2026-11', count: 3, reimbursed_cents: 4560, href: '/api/v1/reimbursements/statements/2026-11.pdf' }, { month: '2026-10', count: 5, reimbursed_cents: 9120, href: '/api/v1/reimbursements/statements/2026-10.pdf' }] };
const DETAIL = {
  ...line(12, 'consultation', 'Consultation de médecine générale'),
  deductions: [{ kind: 'participation_forfaitaire', label: 'Participation forfaitaire', amount_cents: 200 }],
  arithmetic: { base_cents: 3000, rate_pct: 70, gross_cents: 2100, deductions_cents: 200, reimbursed_cents: 1900 },
  timeline: [{ status: 'received', date: '2026-11-04' }, { status: 'processing', date: '2026-11-05' }, { status: 'paid', date: '2026-11-08', expected: null }],
};

async function open(viewport, path, overrides = {}) {
  const ctx = await browser.newContext({ baseURL: stack.baseUrl, locale: 'fr-FR', timezoneId: 'Europe/Paris', viewport });
  const calls = await mockApi(ctx, 'member', {
    'GET /api/v1/reimbursements/statements': [200, STATEMENTS],
    'GET /api/v1/reimbursements/12': [200, DETAIL],
    'GET /api/v1/reimbursements/beneficiaries': [200, BENEFICIARIES],
    ...overrides,
  });
  const page = watch(await ctx.newPage());
  await page.route('**/api/v1/reimbursements?*', (r) => {
    const u = new URL(r.request().url());
    const body = u.searchParams.get('kind') === 'pharmacy' ? PHARMA : (u.searchParams.get('cursor') ? PAGE2 : PAGE1);
    calls.push({ key: 'GET /api/v1/reimbursements', search: u.search });
    r.fulfill({ status: 200, contentType: 'application/json', body: JSON.stringify(body) });
  });
  await page.goto(path);
  return { ctx, page, calls };
}

describe('reimbursements pages', () => {
  for (const [size, viewport] of SIZES) {
    test(`list: totals, more, filter, statements (${size})`, async () => {
      const { ctx, page, calls } = await open(viewport, '/reimbursements/');
      try {
        await page.locator('#lignes td', { hasText: 'Consultation de médecine générale' }).waitFor();
        assert.match(await page.locator('#totaux-texte').textContent(), /2 actes\s: 25,06\s€ remboursés, 3,00\s€/);
        assert.match(await page.locator('#lignes').textContent(), /19,00\s€/);
        const link = page.locator('#releves a').first();
        assert.equal(await link.getAttribute('href'), '/api/v1/reimbursements/statements/2026-11.pdf');
        assert.match(await link.textContent(), /novembre 2026/);
        await checkPage(page, 'reimbursements', `liste-${size}`);
        await page.click('#plus');
        await page.locator('#lignes td', { hasText: 'Médicaments' }).waitFor();
        assert.equal(await page.locator('#lignes tr').count(), 2);
        await page.selectOption('#kind', 'pharmacy');
        await page.click('#filtres button[type=submit]');
        await page.locator('#totaux-texte', { hasText: /1 acte\s:/ }).waitFor();
        assert.equal(await page.locator('#lignes tr').count(), 1);
        assert.ok(calls.some((c) => c.key === 'GET /api/v1/reimbursements' && /kind=pharmacy/.test(c.search)));
        await checkPage(page, 'reimbursements', `liste-filtree-${size}`);
        // The beneficiary filter: the member's choices, sent by id.
        assert.deepEqual(await page.locator('#beneficiary option').allTextContents(),
          ['Tous', 'Moi (Marie Dupont)', 'Lucas Dupont (enfant)', 'Chloé Dupont (enfant)']);
        await page.selectOption('#beneficiary', '12');
        const byChild = page.waitForRequest((r) => new URL(r.url()).searchParams.get('beneficiary') === '12');
        await page.click('#filtres button[type=submit]');
        await byChild;
        await page.selectOption('#beneficiary', 'me');
        const byMe = page.waitForRequest((r) => new URL(r.url()).searchParams.get('beneficiary') === 'me');
        await page.click('#filtres button[type=submit]');
        await byMe;
      } finally {
        await ctx.close();
      }
    });

    test(`detail: arithmetic and timeline (${size})`, async () => {
      const { ctx, page } = await open(viewport, '/reimbursements/detail.html?id=12');
      try {
        await page.locator('#detail:not([hidden])').waitFor();
        const calc = await page.locator('#calcul').textContent();
        assert.match(calc, /Base × taux\s*21,00\s€/);
        assert.match(calc, /Participation forfaitaire\s*− 2,00\s€/);
        assert.match(calc, /Remboursé\s*19,00\s€/);
        assert.equal(await page.locator('#suivi li').count(), 3);
        await checkPage(page, 'reimbursements', `detail-${size}`);
      } finally {
        await ctx.close();
      }
    });
  }

  test('detail of another member\'s line: the API\'s 404 is shown', async () => {
    const { ctx, page } = await open(SIZES[0][1], '/reimbursements/detail.html?id=77', {
      'GET /api/v1/reimbursements/77': [404, { type: 'about:blank', title: 'Introuvable', status: 404, detail: 'Ce remboursement n\'existe pas.' }],
    });
    try {
      await page.locator('#statut .fr-alert').waitFor();
      assert.equal(await page.locator('#detail').isHidden(), true);
    } finally {
      await ctx.close();
    }
  });
});

describe('reimbursement requests pages', () => {
  const CLAIM = { id: 31, kind: 'dentist', care_date: '2026-11-20', amount_paid_cents: 8000, beneficiary_id: 12, beneficiary: 'Chloé Dupont', comment: '', status: 'submitted', decision_reason: null, payment_id: null, expected_by: '2026-12-15', created_at: '2026-11-30T05:00:00Z', updated_at: '2026-11-30T05:00:00Z' };
  const PDF = Buffer.from('%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n');
  for (const [size, viewport] of SIZES) {
    test(`request form: files checked before sending, then sent (${size})`, async () => {
      const { ctx, page, calls } = await open(viewport, '/reimbursements/demande.html', {
        'POST /api/v1/reimbursements/claims': [201, { ...CLAIM, documents: [] }],
      });
      try {
        await page.locator('#formulaire').waitFor();
        await checkPage(page, 'reimbursements', `demande-${size}`);
        await page.selectOption('#kind', 'dentist');
        await page.fill('#care_date', '2026-11-20');
        await page.fill('#amount', '80,00');
        // A claim for a child: chosen among the member's beneficiaries.
        await page.locator('#beneficiary option[value="12"]').waitFor({ state: 'attached' });
        await page.selectOption('#beneficiary', '12');
        await page.setInputFiles('#documents', [{ name: 'virus.exe', mimeType: 'application/x-msdownload', buffer: Buffer.from('MZ') }]);
        await page.click('#formulaire button[type=submit]');
        await page.locator('.fr-alert--error', { hasText: 'type refusé' }).waitFor();
        assert.ok(!calls.some((c) => c.key === 'POST /api/v1/reimbursements/claims'));
        await checkPage(page, 'reimbursements', `demande-erreur-${size}`);
        await page.setInputFiles('#documents', [
          { name: 'feuille.pdf', mimeType: 'application/pdf', buffer: PDF },
          { name: 'facture.pdf', mimeType: 'application/pdf', buffer: PDF },
        ]);
        await page.click('#formulaire button[type=submit]');
        await page.locator('#statut .fr-alert--success', { hasText: 'n° 31' }).waitFor();
        const post = calls.find((c) => c.key === 'POST /api/v1/reimbursements/claims');
        assert.match(post.headers['content-type'], /^multipart\/form-data/);
        assert.match(post.body, /name="amount_cents"\r\n\r\n8000/);
        assert.match(post.body, /name="beneficiary"\r\n\r\n12\r\n/);
        assert.equal((post.body.match(/filename="/g) || []).length, 2);
      } finally {
        await ctx.close();
      }
    });

    test(`my requests (${size})`, async () => {
      const { ctx, page } = await open(viewport, '/reimbursements/demandes.html', {
        'GET /api/v1/reimbursements/claims': [200, { items: [CLAIM, { ...CLAIM, id: 30, status: 'rejected', decision_reason: 'Facture illisible : merci d’envoyer une copie nette.' }], next_cursor: null }],
      });
      try {
        await page.locator('#demandes td', { hasText: 'Refusée' }).waitFor();
        assert.match(await page.locator('#demandes').textContent(), /80,00\s€/);
        await checkPage(page, 'reimbursements', `demandes-${size}`);
      } finally {
        await ctx.close();
      }
    });
  }
});

describe('back office: requests', () => {
  const C = { id: 31, member_id: 42, kind: 'dentist', care_date: '2026-11-20', amount_paid_cents: 8000, beneficiary_id: null, beneficiary: 'Marie Dupont', comment: 'Détartrage', status: 'submitted', decision_reason: null, payment_id: null, expected_by: '2026-12-15', created_at: '2026-11-28T05:00:00Z', updated_at: '2026-11-28T05:00:00Z', assigned_agent_id: null, assigned_to: null, age_days: 2 };
  const DOCS = [{ id: 5, name: 'feuille.pdf', size: 2048, type: 'pdf', created_at: '2026-11-28T05:00:00Z', href: '/api/v1/backoffice/reimbursements/claims/31/documents/5' }];
  async function openAgent(viewport, path, overrides) {
    const ctx = await browser.newContext({ baseURL: stack.baseUrl, locale: 'fr-FR', timezoneId: 'Europe/Paris', viewport });
    const calls = await mockApi(ctx, 'agent', overrides);
    const page = watch(await ctx.newPage());
    await page.goto(path);
    return { ctx, page, calls };
  }
  for (const [size, viewport] of SIZES) {
    test(`queue and a request taken then approved (${size})`, async () => {
      const { ctx, page, calls } = await openAgent(viewport, '/reimbursements/bo-file.html', {
        'GET /api/v1/backoffice/reimbursements/claims': [200, { items: [C], next_cursor: null }],
        'GET /api/v1/backoffice/reimbursements/claims/31': [200, { ...C, documents: DOCS }],
        'POST /api/v1/backoffice/reimbursements/claims/31/take': [200, { ...C, status: 'in_review', assigned_to: 'mleroy' }],
        'POST /api/v1/backoffice/reimbursements/claims/31/approve': [200, { ...C, status: 'approved', payment_id: 900, assigned_to: 'mleroy' }],
      });
      try {
        await page.locator('#file a', { hasText: 'Demande 31' }).waitFor();
        await checkPage(page, 'reimbursements', `bo-file-${size}`);
        await page.selectOption('#min_age_days', '7');
        const filtered = page.waitForRequest((r) => new URL(r.url()).searchParams.get('min_age_days') === '7');
        await page.click('#filtres button[type=submit]');
        assert.equal(new URL((await filtered).url()).pathname, '/api/v1/backoffice/reimbursements/claims');
        await page.locator('#file a', { hasText: 'Demande 31' }).waitFor();
        await page.click('#file a');
        await page.locator('#demande:not([hidden])').waitFor();
        const link = page.locator('#documents a');
        assert.equal(await link.getAttribute('href'), DOCS[0].href);
        assert.equal(await link.getAttribute('download'), 'feuille.pdf');
        await checkPage(page, 'reimbursements', `bo-demande-${size}`);
        await page.click('#prendre');
        await page.locator('#decisions:not([hidden])').waitFor();
        await page.fill('#base_cents', '2892');
        await page.click('#accepter button[type=submit]');
        await page.locator('#statut .fr-alert--success', { hasText: 'Acceptée' }).waitFor();
        assert.equal(calls.filter((c) => c.key === 'GET /api/v1/backoffice/reimbursements/claims/31').length, 1);
        assert.equal(await page.locator('#documents a').count(), 1);
        const post = calls.find((c) => c.key === 'POST /api/v1/backoffice/reimbursements/claims/31/approve');
        assert.deepEqual(JSON.parse(post.body), { base_cents: 2892, rate_pct: 70, participation_cents: 0, franchise_cents: 0 });
      } finally {
        await ctx.close();
      }
    });
  }
});
