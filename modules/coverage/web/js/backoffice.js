// Back office: one member's coverage (rights, beneficiaries, cards) and
// profile changes, read with a reason (audited), a pending change confirmed
// or refused with a reason, and a card's loss/theft/defect report cancelled
// with a reason (GET/POST /api/v1/backoffice/coverage).
import { api } from '/js/api.js';
import { bindForm, clearErrors, el, formatDate, formatDateTime, queryParam, requireAgent, showAlert, showFormError, showPageError, validate } from '/js/ui.js';
import { CARD, RELATION } from './common.js';
import { tx } from '/js/textes.js';

await requireAgent();
const status = document.getElementById('statut');
const search = document.getElementById('recherche');
const cancelBox = document.getElementById('annulation');
const cancelForm = document.getElementById('annuler');
// The statuses the route takes back (a report by the member or the fund).
const REPORTED = new Set(['lost', 'stolen', 'defective']);
// The route's bound on the reason is in bytes (UTF-8), not in characters.
const REASON_MAX_BYTES = 500;
const KIND = { email: tx('commun.adresse_e_mail'), bank: tx('coverage.backoffice.coordonnees_bancaires') };
const STATE = { pending: tx('coverage.backoffice.attente'), applied: tx('coverage.backoffice.appliquee'), refused: tx('commun.refusee'), replaced: tx('coverage.backoffice.remplacee') };
let current = null;
// The member's file as last read: the cards table is drawn again from it
// once a report is cancelled, without another audited read.
let file = null;
// The card whose report the open form cancels, and the button that opened it.
let cancelling = null;

function change(c) {
  const what = c.kind === 'email' ? c.email : `${c.iban} (${c.bic || 'BIC non renseigné'}, ${c.holder || 'titulaire non renseigné'})`;
  const li = el('li', { class: 'fr-mb-3w' },
    el('p', { class: 'fr-mb-1w' }, el('strong', {}, KIND[c.kind] || c.kind), tx('coverage.backoffice.modification_etat_date', { what, etat: STATE[c.status] || c.status, date: formatDateTime(c.created_at) })));
  if (c.status === 'pending') {
    const form = el('form', { class: 'portail-decision', novalidate: true, 'data-id': String(c.id) },
      el('div', { class: 'fr-input-group' },
        el('label', { class: 'fr-label', for: `motif-${c.id}` }, tx('coverage.backoffice.motif_decision'), el('span', { class: 'fr-hint-text' }, tx('coverage.backoffice.de_5_a_500_caracteres'))),
        el('input', { class: 'fr-input', type: 'text', id: `motif-${c.id}`, name: 'reason', minlength: '5', maxlength: '500', required: true })),
      el('ul', { class: 'fr-btns-group fr-btns-group--inline' },
        el('li', {}, el('button', { class: 'fr-btn', type: 'submit', value: 'confirm' }, tx('coverage.backoffice.confirmer_modification'))),
        el('li', {}, el('button', { class: 'fr-btn fr-btn--secondary', type: 'submit', value: 'refuse' }, tx('coverage.backoffice.refuser_modification')))));
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      const decision = e.submitter && e.submitter.value === 'refuse' ? 'refuse' : 'confirm';
      try {
        await api.post(`/backoffice/coverage/profile-changes/${c.id}`, { decision, reason: form.elements.reason.value.trim() });
        await load(current, form.elements.reason.value.trim());
        showAlert(status, 'success', decision === 'confirm' ? tx('commun.modification_confirmee') : tx('coverage.backoffice.modification_refusee'), tx('coverage.backoffice.compte_assure_debloque_assure'), { focus: true });
      } catch (err) {
        showFormError(form, err);
      }
    });
    li.append(form);
  }
  return li;
}

function holderOf(c) {
  if (!c.beneficiary_id) return tx('coverage.backoffice.nom_assure', { first_name: file.rights.first_name, last_name: file.rights.last_name });
  const b = file.beneficiaries.find((x) => String(x.id) === String(c.beneficiary_id));
  return b ? `${b.first_name} ${b.last_name}` : tx('coverage.backoffice.ayant_droit_numero', { id: c.beneficiary_id });
}

function reported(c) {
  return REPORTED.has(c.status) && Boolean(c.reported_at);
}

// Each person's cards together: the insured first, then the beneficiaries
// in the order of their table; a person's cards in the order of issue.
function renderCards() {
  const rank = (c) => (c.beneficiary_id ? 1 + file.beneficiaries.findIndex((b) => String(b.id) === String(c.beneficiary_id)) : 0);
  const cards = file.cards.map((c, i) => ({ c, i })).sort((a, b) => rank(a.c) - rank(b.c) || a.i - b.i).map((x) => x.c);
  document.getElementById('cartes').replaceChildren(...(cards.length ? cards.map((c) => el('tr', {},
    el('td', {}, holderOf(c)),
    el('td', { class: 'portail-nowrap' }, c.serial),
    // The button under the status it undoes: in sight without scrolling
    // the table sideways on a phone.
    el('td', {}, el('span', { class: 'portail-etat' }, CARD[c.status] || c.status), !reported(c) ? null : [
      el('br'), el('span', { class: 'fr-text--xs' }, tx('coverage.backoffice.signalee_reported_at', { reported_at: formatDateTime(c.reported_at) })), el('br'),
      el('button', { class: 'fr-btn fr-btn--sm fr-btn--secondary fr-mt-1w', type: 'button', 'data-card': String(c.id), 'aria-controls': 'annulation', 'aria-expanded': 'false', 'aria-label': tx('coverage.backoffice.annuler_signalement_carte', { serial: c.serial, titulaire: holderOf(c) }) }, tx('coverage.backoffice.annuler_signalement'))]),
    el('td', { class: 'portail-nowrap' }, formatDateTime(c.status_since))))
    : [el('tr', {}, el('td', { colspan: 4 }, tx('commun.aucune_carte')))]));
}

function openCancel(card, button) {
  if (cancelling) cancelling.button.setAttribute('aria-expanded', 'false');
  cancelling = { card, button };
  button.setAttribute('aria-expanded', 'true');
  // A message of an earlier action would read as this card's.
  status.replaceChildren();
  clearErrors(cancelForm);
  cancelForm.reset();
  document.getElementById('annulation-titre').textContent = tx('coverage.backoffice.annuler_signalement_carte_etat', { serial: card.serial, titulaire: holderOf(card), etat: (CARD[card.status] || card.status).toLowerCase() });
  cancelBox.hidden = false;
  cancelForm.elements.reason.focus();
}

// back: the focus returns to the button that opened the form.
function closeCancel(back) {
  if (!cancelling) return;
  const { button } = cancelling;
  cancelling = null;
  cancelBox.hidden = true;
  clearErrors(cancelForm);
  button.setAttribute('aria-expanded', 'false');
  if (back && button.isConnected) button.focus();
}

document.getElementById('cartes').addEventListener('click', (e) => {
  const button = e.target.closest('button[data-card]');
  if (!button) return;
  const card = file.cards.find((c) => String(c.id) === button.dataset.card);
  if (!card) return;
  if (cancelling && cancelling.card === card) closeCancel(true);
  else openCancel(card, button);
});
document.getElementById('annulation-fermer').addEventListener('click', () => closeCancel(true));
cancelBox.addEventListener('keydown', (e) => {
  if (e.key === 'Escape') {
    e.preventDefault();
    closeCancel(true);
  }
});

bindForm(cancelForm, async (values) => {
  const { card } = cancelling;
  const reason = values.reason.trim();
  const res = await api.post(`/backoffice/coverage/cards/${encodeURIComponent(card.id)}/cancel-report`, { reason });
  card.status = res.status;
  card.reported_at = null;
  card.status_since = new Date().toISOString();
  const who = holderOf(card);
  closeCancel(false);
  renderCards();
  showAlert(status, 'success', tx('coverage.backoffice.signalement_annule'), tx('coverage.backoffice.carte_maintenant', { serial: card.serial, who, etat: (CARD[card.status] || card.status).toLowerCase() }), { focus: true });
}, {
  // An agent has no member lock page to go to.
  onLocked: null,
  checks: {
    reason: (v) => {
      const t = v.trim();
      if ([...t].length < 5) return tx('coverage.backoffice.indiquez_motif_5_caracteres');
      if (new TextEncoder().encode(t).length > REASON_MAX_BYTES) return tx('coverage.backoffice.motif_trop_long');
      return null;
    },
  },
});

async function load(id, reason) {
  const d = await api.get(`/backoffice/coverage/members/${encodeURIComponent(id)}?reason=${encodeURIComponent(reason)}`);
  current = id;
  const r = d.rights;
  document.getElementById('assure').textContent = `${r.first_name} ${r.last_name} (compte n° ${r.member_id})`;
  document.getElementById('droits').replaceChildren(
    el('dt', {}, 'NIR'), el('dd', {}, r.nir || '—'),
    el('dt', {}, tx('commun.regime_caisse')), el('dd', {}, r.regime ? `${r.regime}, ${r.fund}` : tx('coverage.backoffice.aucun_droit_ouvert')),
    el('dt', {}, tx('coverage.backoffice.droits')), el('dd', {}, r.open_from ? tx('commun.du_au', { open_from: formatDate(r.open_from), open_to: formatDate(r.open_to) }) : '—'));
  document.getElementById('ayants').replaceChildren(...(d.beneficiaries.length ? d.beneficiaries.map((b) => el('tr', {},
    el('td', {}, `${b.first_name} ${b.last_name}`), el('td', {}, RELATION[b.relation] || b.relation), el('td', { class: 'portail-nowrap' }, formatDate(b.birth_date))))
    : [el('tr', {}, el('td', { colspan: 3 }, tx('commun.aucun_ayant_droit')))]));
  file = { rights: r, beneficiaries: d.beneficiaries, cards: d.cards };
  closeCancel(false);
  renderCards();
  document.getElementById('modifications').replaceChildren(...(d.profile_changes.length ? d.profile_changes.map(change) : [el('li', {}, tx('coverage.backoffice.aucune_modification_demandee'))]));
  document.getElementById('dossier').hidden = false;
}

search.addEventListener('submit', async (e) => {
  e.preventDefault();
  const id = search.elements.member.value.trim();
  const reason = search.elements.reason.value.trim();
  if (!validate(search, {
    member: (v) => (/^\d{1,18}$/.test(v.trim()) ? null : tx('coverage.backoffice.indiquez_numero_compte')),
    reason: (v) => (v.trim().length >= 5 ? null : tx('coverage.backoffice.indiquez_motif_5_caracteres')),
  })) return;
  try {
    status.replaceChildren();
    clearErrors(search);
    await load(id, reason);
  } catch (err) {
    if (err.status === 404) showAlert(status, 'error', tx('coverage.backoffice.compte_introuvable'), tx('coverage.backoffice.aucun_assure_numero_compte'), { focus: true });
    else showPageError(status, err);
  }
});

const given = queryParam('membre');
if (given) search.elements.member.value = given;
