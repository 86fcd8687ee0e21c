// Carte Vitale: each person's card (GET /api/v1/coverage/vitale) and the
// report of a lost, stolen or defective one.
import { api } from '/js/api.js';
import { el, formatDate, requireMember, showAlert, showPageError } from '/js/ui.js';
import { CARD } from './common.js';

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
    : [el('tr', {}, el('td', { colspan: 4 }, 'Aucune carte.'))]));
  const active = cards.filter((c) => c.status === 'active');
  person.replaceChildren(...active.map((c) => el('option', { value: c.beneficiary_id ? String(c.beneficiary_id) : 'me' },
    `${c.first_name} ${c.last_name}`)));
  document.querySelector('#signaler button').disabled = active.length === 0;
}

document.getElementById('signaler').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  const f = new FormData(ev.target);
  try {
    await api.post(`/coverage/vitale/${encodeURIComponent(f.get('person'))}/report`, { kind: f.get('kind') });
    showAlert(status, 'success', 'Carte désactivée', 'La carte ne peut plus être utilisée. Vous pouvez en commander une nouvelle.', { focus: true });
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
