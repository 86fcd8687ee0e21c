// "Mes remboursements": the lines (GET /api/v1/reimbursements) with filters,
// totals and page by page; the monthly statements with their PDF links.
import { api } from '/js/api.js';
import { el, formatDate, requireMember, showPageError } from '/js/ui.js';
import { STATUS, euros, fillBeneficiaries } from './common.js';
import { tx, txn } from '/js/textes.js';

const status = document.getElementById('statut');
const body = document.getElementById('lignes');
const more = document.getElementById('plus');
const form = document.getElementById('filtres');
const totals = document.getElementById('totaux-texte');
let cursor = null;
await requireMember();

function query() {
  const q = new URLSearchParams({ limit: '20' });
  for (const name of ['from', 'to', 'kind', 'status', 'beneficiary']) {
    const v = form.elements[name].value.trim();
    if (v) q.set(name, v);
  }
  if (cursor) q.set('cursor', cursor);
  return q.toString();
}

async function load(append) {
  if (!append) cursor = null;
  const { items, totals: t, next_cursor: next } = await api.get(`/reimbursements?${query()}`);
  const rows = items.map((x) => el('tr', {},
    el('td', { class: 'portail-nowrap' }, formatDate(x.care_date)),
    el('td', {}, x.beneficiary),
    el('td', {}, el('a', { href: `/reimbursements/detail.html?id=${x.id}` }, x.act_label), ` — ${x.practitioner_name}`),
    el('td', {}, STATUS[x.status] || x.status),
    el('td', { class: 'portail-nowrap' }, x.status === 'rejected' ? tx('commun.rejete') : euros(x.reimbursed_cents))));
  if (append) body.append(...rows);
  else body.replaceChildren(...(rows.length ? rows : [el('tr', {}, el('td', { colspan: 5 }, tx('reimbursements.liste.aucun_remboursement_criteres')))]));
  totals.textContent = txn('reimbursements.liste.total', t.count, { rembourse: euros(t.reimbursed_cents), deduit: euros(t.deductions_cents) });
  cursor = next;
  more.hidden = !next;
}

async function statements() {
  const { items } = await api.get('/reimbursements/statements');
  const list = document.getElementById('releves');
  list.replaceChildren(...(items.length ? items.map((m) => {
    const [y, mo] = m.month.split('-');
    const label = new Date(Date.UTC(Number(y), Number(mo) - 1, 1)).toLocaleDateString('fr-FR', { month: 'long', year: 'numeric', timeZone: 'UTC' });
    return el('li', {}, el('a', { class: 'fr-link fr-link--download', href: m.href, download: `releve-${m.month}.pdf` },
      tx('reimbursements.liste.releve_label', { label }), el('span', { class: 'fr-link__detail' }, `PDF — ${euros(m.reimbursed_cents)}`)));
  }) : [el('li', {}, tx('reimbursements.liste.aucun_releve'))]));
}

form.addEventListener('submit', async (e) => {
  e.preventDefault();
  try {
    await load(false);
  } catch (err) {
    showPageError(status, err);
  }
});

more.addEventListener('click', async () => {
  more.disabled = true;
  try {
    await load(true);
  } catch (err) {
    showPageError(status, err);
  } finally {
    more.disabled = false;
  }
});

try {
  await Promise.all([load(false), statements(), fillBeneficiaries(form.elements.beneficiary)]);
} catch (err) {
  if (err.status === 401) window.location.replace('/connexion.html');
  else showPageError(status, err);
}
