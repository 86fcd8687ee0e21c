// One payment line (GET /api/v1/reimbursements/{id}): the act, the
// arithmetic from the amount paid to the amount reimbursed, the timeline.
import { api } from '/js/api.js';
import { el, formatDate, queryParam, requireMember, showPageError } from '/js/ui.js';
import { STATUS, euros } from './common.js';
import { tx } from '/js/textes.js';

const status = document.getElementById('statut');
await requireMember();

function row(label, value) {
  return el('tr', {}, el('th', { scope: 'row' }, label), el('td', { class: 'portail-nowrap' }, value));
}

try {
  const id = queryParam('id');
  if (!/^\d{1,18}$/.test(id || '')) throw Object.assign(new Error(tx('reimbursements.detail.remboursement_existe')), { status: 404 });
  const x = await api.get(`/reimbursements/${id}`);
  document.getElementById('titre').textContent = `${x.act_label} du ${formatDate(x.care_date)}`;
  document.getElementById('acte').replaceChildren(
    el('dt', {}, tx('commun.beneficiaire')), el('dd', {}, x.beneficiary),
    el('dt', {}, tx('commun.praticien')), el('dd', {}, `${x.practitioner_name} (${x.practitioner_specialty})`),
    el('dt', {}, tx('reimbursements.detail.paye')), el('dd', {}, x.paid_to === 'practitioner' ? tx('reimbursements.detail.au_praticien') : tx('reimbursements.detail.a_vous')),
    el('dt', {}, tx('reimbursements.detail.statut')), el('dd', {}, STATUS[x.status] || x.status),
    ...(x.reject_reason ? [el('dt', {}, tx('reimbursements.detail.motif_rejet')), el('dd', {}, x.reject_reason)] : []));
  const a = x.arithmetic;
  document.getElementById('calcul').replaceChildren(
    row(tx('commun.montant_paye'), euros(x.charged_cents)),
    row(tx('reimbursements.detail.base_remboursement'), euros(a.base_cents)),
    row(tx('reimbursements.detail.taux'), `${a.rate_pct} %`),
    row('Base × taux', euros(a.gross_cents)),
    ...x.deductions.map((d) => row(d.label, `− ${euros(d.amount_cents)}`)),
    row(tx('reimbursements.detail.rembourse'), euros(a.reimbursed_cents)));
  document.getElementById('suivi').replaceChildren(...x.timeline.map((s) => el('li', {},
    `${STATUS[s.status]} : `,
    s.date ? formatDate(s.date) : (s.expected ? tx('reimbursements.detail.prevu_le', { expected: formatDate(s.expected) }) : tx('reimbursements.detail.venir')))));
  document.getElementById('detail').hidden = false;
} catch (err) {
  if (err.status === 401) window.location.replace('/connexion.html');
  else showPageError(status, err);
}
