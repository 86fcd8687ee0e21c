// "Prendre un rendez-vous": the agendas (GET /api/v1/appointments/agendas),
// filtered by specialty, name, city and postcode, page by page; the
// member's médecin traitant comes first (the server orders it).
import { api } from '/js/api.js';
import { el, requireMember, showFieldErrors, clearErrors, showPageError } from '/js/ui.js';
import { agendaAddress, agendaName } from './common.js';
import { tx } from '/js/textes.js';

const status = document.getElementById('statut');
const form = document.getElementById('recherche');
const list = document.getElementById('resultats');
const more = document.getElementById('plus');
const count = document.getElementById('compte');
let cursor = null;
let shown = 0;
await requireMember();

function query() {
  const q = new URLSearchParams({ limit: '20' });
  for (const name of ['specialty', 'name', 'city', 'postcode']) {
    const v = form.elements[name].value.trim();
    // The fund's offices are a type of agenda, not a specialty.
    if (name === 'specialty' && v === 'office') q.set('type', 'office');
    else if (v) q.set(name, v);
  }
  if (cursor) q.set('cursor', cursor);
  return q.toString();
}

function card(a) {
  const kinds = (a.visit_kinds || []).map((k) => `${k.label} (${k.minutes} min)`).join(', ');
  return el('li', { class: 'rdv-carte', 'data-agenda': String(a.id) },
    el('h3', {}, agendaName(a)),
    a.is_my_doctor ? el('p', { class: 'fr-badge fr-badge--sm fr-badge--info fr-mb-1w' }, tx('appointments.rechercher.medecin_traitant')) : null,
    el('p', { class: 'fr-mb-1w' }, a.kind === 'office' ? tx('appointments.rechercher.accueil_caisse_assurance_maladie') : (a.specialty || tx('commun.praticien'))),
    el('p', { class: 'fr-mb-1w' }, agendaAddress(a)),
    kinds ? el('p', { class: 'fr-text--sm fr-mb-1w' }, `Rendez-vous : ${kinds}`) : null,
    el('p', {}, el('a', { class: 'fr-link fr-icon-arrow-right-line fr-link--icon-right', href: `/appointments/creneaux.html?agenda=${encodeURIComponent(a.id)}` },
      tx('appointments.rechercher.voir_creneaux_libres'), el('span', { class: 'fr-sr-only' }, ` — ${agendaName(a)}`))));
}

async function load(append) {
  if (!append) {
    cursor = null;
    shown = 0;
  }
  const { items, next_cursor: next } = await api.get(`/appointments/agendas?${query()}`);
  const cards = items.map(card);
  shown += items.length;
  if (append) list.append(...cards);
  else list.replaceChildren(...(cards.length ? cards : [el('li', {}, tx('appointments.rechercher.aucun_agenda_correspond_criteres'))]));
  count.textContent = shown ? `${shown} agenda${shown > 1 ? 's' : ''}${next ? ' (d’autres suivent)' : ''}.` : '';
  cursor = next || null;
  more.hidden = !cursor;
}

form.addEventListener('submit', async (e) => {
  e.preventDefault();
  clearErrors(form);
  const pc = form.elements.postcode.value.trim();
  if (pc && !/^\d{5}$/.test(pc)) {
    showFieldErrors(form, [{ field: 'postcode', message: tx('appointments.rechercher.code_postal_comporte_5') }]);
    return;
  }
  try {
    status.replaceChildren();
    await load(false);
    document.getElementById('titre-resultats').focus();
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
  await load(false);
} catch (err) {
  if (err.status === 401) window.location.replace('/connexion.html');
  else showPageError(status, err);
}
