// Back office: one request: its documents (downloads), take it, approve it
// (a payment line), reject it or ask for a document, with a reason.
import { api } from '/js/api.js';
import { el, formatDate, queryParam, requireAgent, showAlert, showFormError, showPageError } from '/js/ui.js';
import { CLAIM_STATUS, euros } from './common.js';
import { tx } from '/js/textes.js';

await requireAgent();
const status = document.getElementById('statut');
const id = queryParam('id');
const base = `/backoffice/reimbursements/claims/${encodeURIComponent(id || '0')}`;

function show(c) {
  document.getElementById('titre').textContent = `Demande n° ${c.id}`;
  document.getElementById('infos').replaceChildren(
    el('dt', {}, tx('reimbursements.bo_demande.assure_compte')), el('dd', {}, String(c.member_id)),
    el('dt', {}, tx('commun.beneficiaire')), el('dd', {}, c.beneficiary),
    el('dt', {}, tx('reimbursements.bo_demande.soins')), el('dd', {}, `${c.kind}, le ${formatDate(c.care_date)}`),
    el('dt', {}, tx('commun.montant_paye')), el('dd', {}, euros(c.amount_paid_cents)),
    el('dt', {}, tx('reimbursements.bo_demande.commentaire')), el('dd', {}, c.comment || '—'),
    el('dt', {}, tx('reimbursements.bo_demande.etat')), el('dd', {}, `${CLAIM_STATUS[c.status] || c.status}${c.assigned_to ? ` (prise par ${c.assigned_to})` : ''}`));
  if (c.documents) {
    document.getElementById('documents').replaceChildren(...c.documents.map((d) => el('li', {},
      el('a', { class: 'fr-link fr-link--download', href: d.href, download: d.name }, d.name,
        el('span', { class: 'fr-link__detail' }, `${d.type.toUpperCase()} — ${Math.ceil(d.size / 1024)} ko`)))));
  }
  document.getElementById('prendre').hidden = c.status !== 'submitted';
  document.getElementById('decisions').hidden = c.status !== 'in_review';
  document.getElementById('base_cents').value ||= String(c.amount_paid_cents);
  document.getElementById('demande').hidden = false;
}

// The action's answer is the claim without its documents: the list shown
// stays (reading the claim again would be one more audited read).
async function act(path, body, done) {
  const c = await api.post(`${base}/${path}`, body);
  show(c);
  showAlert(status, 'success', done, `Demande n° ${c.id} : ${CLAIM_STATUS[c.status]}.`, { focus: true });
}

document.getElementById('prendre').addEventListener('click', () => act('take', {}, tx('reimbursements.bo_demande.demande_prise')).catch((err) => showPageError(status, err)));
const accept = document.getElementById('accepter');
accept.addEventListener('submit', (e) => {
  e.preventDefault();
  const n = (name) => Number(accept.elements[name].value || 0);
  act('approve', { base_cents: n('base_cents'), rate_pct: n('rate_pct'), participation_cents: n('participation_cents'), franchise_cents: n('franchise_cents') }, tx('reimbursements.bo_demande.demande_acceptee'))
    .catch((err) => showFormError(accept, err));
});
const motif = document.getElementById('motif');
motif.addEventListener('submit', (e) => {
  e.preventDefault();
  const what = e.submitter && e.submitter.value === 'ask' ? 'ask' : 'reject';
  act(what, { reason: motif.elements.reason.value.trim() }, what === 'ask' ? tx('commun.justificatif_demande') : tx('reimbursements.bo_demande.demande_refusee'))
    .catch((err) => showFormError(motif, err));
});

try {
  show(await api.get(base));
} catch (err) {
  showPageError(status, err);
}
