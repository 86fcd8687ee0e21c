// Back office: one member's coverage (rights, beneficiaries, cards) and
// profile changes, read with a reason (audited), and a pending change
// confirmed or refused with a reason (GET/POST /api/v1/backoffice/coverage).
import { api } from '/js/api.js';
import { clearErrors, el, formatDate, formatDateTime, queryParam, requireAgent, showAlert, showFormError, showPageError, validate } from '/js/ui.js';
import { CARD, RELATION } from './common.js';

await requireAgent();
const status = document.getElementById('statut');
const search = document.getElementById('recherche');
const KIND = { email: 'Adresse e-mail', bank: 'Coordonnées bancaires' };
const STATE = { pending: 'En attente', applied: 'Appliquée', refused: 'Refusée', replaced: 'Remplacée' };
let current = null;

function change(c) {
  const what = c.kind === 'email' ? c.email : `${c.iban} (${c.bic || 'BIC non renseigné'}, ${c.holder || 'titulaire non renseigné'})`;
  const li = el('li', { class: 'fr-mb-3w' },
    el('p', { class: 'fr-mb-1w' }, el('strong', {}, KIND[c.kind] || c.kind), ` : ${what} — ${STATE[c.status] || c.status}, demandée le ${formatDateTime(c.created_at)}`));
  if (c.status === 'pending') {
    const form = el('form', { class: 'portail-decision', novalidate: true, 'data-id': String(c.id) },
      el('div', { class: 'fr-input-group' },
        el('label', { class: 'fr-label', for: `motif-${c.id}` }, 'Motif de la décision', el('span', { class: 'fr-hint-text' }, 'De 5 à 500 caractères.')),
        el('input', { class: 'fr-input', type: 'text', id: `motif-${c.id}`, name: 'reason', minlength: '5', maxlength: '500', required: true })),
      el('ul', { class: 'fr-btns-group fr-btns-group--inline' },
        el('li', {}, el('button', { class: 'fr-btn', type: 'submit', value: 'confirm' }, 'Confirmer la modification')),
        el('li', {}, el('button', { class: 'fr-btn fr-btn--secondary', type: 'submit', value: 'refuse' }, 'Refuser la modification'))));
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      const decision = e.submitter && e.submitter.value === 'refuse' ? 'refuse' : 'confirm';
      try {
        await api.post(`/backoffice/coverage/profile-changes/${c.id}`, { decision, reason: form.elements.reason.value.trim() });
        await load(current, form.elements.reason.value.trim());
        showAlert(status, 'success', decision === 'confirm' ? 'Modification confirmée' : 'Modification refusée', 'Le compte de l’assuré est débloqué et l’assuré est prévenu par e-mail.', { focus: true });
      } catch (err) {
        showFormError(form, err);
      }
    });
    li.append(form);
  }
  return li;
}

async function load(id, reason) {
  const d = await api.get(`/backoffice/coverage/members/${encodeURIComponent(id)}?reason=${encodeURIComponent(reason)}`);
  current = id;
  const r = d.rights;
  document.getElementById('assure').textContent = `${r.first_name} ${r.last_name} (compte n° ${r.member_id})`;
  document.getElementById('droits').replaceChildren(
    el('dt', {}, 'NIR'), el('dd', {}, r.nir || '—'),
    el('dt', {}, 'Régime et caisse'), el('dd', {}, r.regime ? `${r.regime}, ${r.fund}` : 'Aucun droit ouvert'),
    el('dt', {}, 'Droits'), el('dd', {}, r.open_from ? `du ${formatDate(r.open_from)} au ${formatDate(r.open_to)}` : '—'));
  const names = new Map(d.beneficiaries.map((b) => [String(b.id), `${b.first_name} ${b.last_name}`]));
  document.getElementById('ayants').replaceChildren(...(d.beneficiaries.length ? d.beneficiaries.map((b) => el('tr', {},
    el('td', {}, `${b.first_name} ${b.last_name}`), el('td', {}, RELATION[b.relation] || b.relation), el('td', { class: 'portail-nowrap' }, formatDate(b.birth_date))))
    : [el('tr', {}, el('td', { colspan: 3 }, 'Aucun ayant droit.'))]));
  document.getElementById('cartes').replaceChildren(...(d.cards.length ? d.cards.map((c) => el('tr', {},
    el('td', { class: 'portail-nowrap' }, c.serial),
    el('td', {}, c.beneficiary_id ? names.get(String(c.beneficiary_id)) || `Ayant droit n° ${c.beneficiary_id}` : 'Assuré'),
    el('td', {}, CARD[c.status] || c.status),
    el('td', { class: 'portail-nowrap' }, formatDateTime(c.status_since))))
    : [el('tr', {}, el('td', { colspan: 4 }, 'Aucune carte.'))]));
  document.getElementById('modifications').replaceChildren(...(d.profile_changes.length ? d.profile_changes.map(change) : [el('li', {}, 'Aucune modification demandée.')]));
  document.getElementById('dossier').hidden = false;
}

search.addEventListener('submit', async (e) => {
  e.preventDefault();
  const id = search.elements.member.value.trim();
  const reason = search.elements.reason.value.trim();
  if (!validate(search, {
    member: (v) => (/^\d{1,18}$/.test(v.trim()) ? null : 'Indiquez un numéro de compte.'),
    reason: (v) => (v.trim().length >= 5 ? null : 'Indiquez le motif (5 caractères au moins).'),
  })) return;
  try {
    status.replaceChildren();
    clearErrors(search);
    await load(id, reason);
  } catch (err) {
    if (err.status === 404) showAlert(status, 'error', 'Compte introuvable', 'Aucun assuré n’a ce numéro de compte.', { focus: true });
    else showPageError(status, err);
  }
});

const given = queryParam('membre');
if (given) search.elements.member.value = given;
