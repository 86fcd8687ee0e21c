// Carte Vitale: each person's card (GET /api/v1/coverage/vitale) and the
// report of a lost, stolen or defective one, and the order of a new card
// (multipart: identity photo with a preview, identity document).
import { api } from '/js/api.js';
import { clearErrors, el, formatDate, requireMember, showAlert, showFieldErrors, showPageError } from '/js/ui.js';
import { CARD } from './common.js';
import { tx } from '/js/textes.js';

const status = document.getElementById('statut');
const person = document.getElementById('personne');
await requireMember();

async function load() {
  const { cards } = await api.get('/coverage/vitale');
  document.getElementById('cartes').replaceChildren(...(cards.length ? cards.map((c) => el('tr', {},
    el('td', {}, `${c.first_name} ${c.last_name}`),
    el('td', { class: 'portail-nowrap' }, c.serial),
    el('td', {}, el('span', { class: `fr-badge fr-badge--${c.status === 'active' ? 'success' : 'warning'} fr-badge--no-icon` }, CARD[c.status] || c.status)),
    el('td', { class: 'portail-nowrap' }, formatDate(c.issued_on))))
    : [el('tr', {}, el('td', { colspan: 4 }, tx('commun.aucune_carte')))]));
  const active = cards.filter((c) => c.status === 'active');
  person.replaceChildren(...active.map((c) => el('option', { value: c.beneficiary_id ? String(c.beneficiary_id) : 'me' },
    `${c.first_name} ${c.last_name}`)));
  document.querySelector('#signaler button').disabled = active.length === 0;
  // The latest card of each person; a person may order when it is reported.
  const latest = new Map();
  for (const c of cards) {
    const k = c.beneficiary_id ? String(c.beneficiary_id) : 'me';
    if (!latest.has(k) || Number(c.id) > Number(latest.get(k).id)) latest.set(k, c);
  }
  const free = [...latest.entries()].filter(([, c]) => ['lost', 'stolen', 'defective'].includes(c.status));
  orderPerson.replaceChildren(...free.map(([k, c]) => el('option', { value: k }, `${c.first_name} ${c.last_name}`)));
  document.querySelector('#commander button').disabled = free.length === 0;
}

const orderPerson = document.getElementById('commande-personne');
const order = document.getElementById('commander');
const TYPES = { photo: ['image/jpeg', 'image/png'], identity: ['application/pdf', 'image/jpeg', 'image/png'] };
const MAX_BYTES = 5 * 1024 * 1024;

// A new choice replaces the earlier complaints.
order.addEventListener('change', () => clearErrors(order));

document.getElementById('photo').addEventListener('change', (ev) => {
  const file = ev.target.files[0];
  const box = document.getElementById('apercu');
  box.hidden = true;
  if (!file || !TYPES.photo.includes(file.type)) return;
  const reader = new FileReader();
  reader.addEventListener('load', () => {
    document.getElementById('apercu-image').src = reader.result;
    box.hidden = false;
  });
  reader.readAsDataURL(file);
});

/** The French problem of a chosen file, or null. */
function fileProblem(name, label) {
  const f = order.elements[name].files[0];
  if (!f) return { field: name, message: tx('coverage.vitale.joignez_piece', { label }) };
  if (!TYPES[name].includes(f.type)) return { field: name, message: name === 'photo' ? tx('coverage.vitale.photo_doit_etre_image') : tx('coverage.vitale.piece_doit_etre_pdf') };
  if (f.size > MAX_BYTES) return { field: name, message: tx('commun.fichier_depasse_5_mo', { name: f.name }) };
  return null;
}

order.addEventListener('submit', async (ev) => {
  ev.preventDefault();
  clearErrors(order);
  const problems = [fileProblem('photo', tx('coverage.vitale.photo_identite')), fileProblem('identity', tx('coverage.vitale.piece_identite'))].filter(Boolean);
  if (problems.length) {
    showFieldErrors(order, problems);
    return;
  }
  const data = new FormData();
  data.append('photo', order.elements.photo.files[0]);
  data.append('identity', order.elements.identity.files[0]);
  try {
    await api.postForm(`/coverage/vitale/${encodeURIComponent(orderPerson.value)}/order`, data);
    order.reset();
    document.getElementById('apercu').hidden = true;
    showAlert(status, 'success', tx('coverage.vitale.carte_commandee'), tx('coverage.vitale.commande_enregistree_serez_prevenu'), { focus: true });
    await load();
  } catch (err) {
    if (err.status === 422 && err.fieldErrors?.some((e) => order.elements[e.field])) showFieldErrors(order, err.fieldErrors);
    else showPageError(status, err);
  }
});

document.getElementById('signaler').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  const f = new FormData(ev.target);
  try {
    await api.post(`/coverage/vitale/${encodeURIComponent(f.get('person'))}/report`, { kind: f.get('kind') });
    showAlert(status, 'success', tx('coverage.vitale.carte_desactivee'), tx('coverage.vitale.carte_peut_etre_utilisee'), { focus: true });
    await load();
  } catch (err) {
    showPageError(status, err);
  }
});

try {
  await load();
} catch (err) {
  if (err.status === 401) window.location.replace('/connexion.html');
  else showPageError(status, err);
}
