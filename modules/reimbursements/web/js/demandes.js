// My requests (GET /api/v1/reimbursements/claims), newest first, page by page.
import { api } from '/js/api.js';
import { el, formatDate, requireMember, showPageError } from '/js/ui.js';
import { CLAIM_STATUS, euros } from './common.js';
import { tx } from '/js/textes.js';

const status = document.getElementById('statut');
const body = document.getElementById('demandes');
const more = document.getElementById('plus');
let cursor = null;
await requireMember();

async function load(append) {
  const q = cursor ? `?limit=20&cursor=${encodeURIComponent(cursor)}` : '?limit=20';
  const { items, next_cursor: next } = await api.get(`/reimbursements/claims${q}`);
  const rows = items.map((c) => el('tr', {},
    el('td', {}, String(c.id)),
    el('td', { class: 'portail-nowrap' }, formatDate(c.care_date)),
    el('td', {}, c.beneficiary),
    el('td', { class: 'portail-nowrap' }, euros(c.amount_paid_cents)),
    el('td', {}, CLAIM_STATUS[c.status] || c.status, c.decision_reason ? ` — ${c.decision_reason}` : ''),
    el('td', { class: 'portail-nowrap' }, ['approved', 'rejected', 'withdrawn'].includes(c.status) ? '—' : formatDate(c.expected_by))));
  if (append) body.append(...rows);
  else body.replaceChildren(...(rows.length ? rows : [el('tr', {}, el('td', { colspan: 6 }, tx('commun.aucune_demande')))]));
  cursor = next;
  more.hidden = !next;
}

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
  await load(false);
} catch (err) {
  if (err.status === 401) window.location.replace('/connexion.html');
  else showPageError(status, err);
}
