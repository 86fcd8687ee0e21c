// Back office: the queue of requests (GET /api/v1/backoffice/reimbursements/claims), oldest first.
import { api } from '/js/api.js';
import { el, requireAgent, showPageError } from '/js/ui.js';
import { CLAIM_STATUS, euros } from './common.js';
import { tx } from '/js/textes.js';

await requireAgent();
const status = document.getElementById('statut');
const body = document.getElementById('file');
const more = document.getElementById('plus');
const form = document.getElementById('filtres');
let cursor = null;

async function load(append) {
  if (!append) cursor = null;
  const q = new URLSearchParams({ limit: '50' });
  for (const n of ['status', 'kind', 'min_age_days']) if (form.elements[n].value) q.set(n, form.elements[n].value);
  if (cursor) q.set('cursor', cursor);
  const { items, next_cursor: next } = await api.get(`/backoffice/reimbursements/claims?${q}`);
  const rows = items.map((c) => el('tr', {},
    el('td', {}, el('a', { href: `/reimbursements/bo-demande.html?id=${c.id}` }, tx('reimbursements.bo_file.demande_id', { id: c.id }))),
    el('td', {}, `${c.age_days} j`),
    el('td', {}, c.kind),
    el('td', { class: 'portail-nowrap' }, euros(c.amount_paid_cents)),
    el('td', {}, CLAIM_STATUS[c.status] || c.status),
    el('td', {}, c.assigned_to || '—')));
  if (append) body.append(...rows);
  else body.replaceChildren(...(rows.length ? rows : [el('tr', {}, el('td', { colspan: 6 }, tx('commun.aucune_demande')))]));
  cursor = next;
  more.hidden = !next;
}

form.addEventListener('submit', (e) => {
  e.preventDefault();
  load(false).catch((err) => showPageError(status, err));
});
more.addEventListener('click', () => load(true).catch((err) => showPageError(status, err)));
try {
  await load(false);
} catch (err) {
  showPageError(status, err);
}
