// "Mes droits": rights, CSS, ALD, beneficiaries and médecin traitant (GET
// /api/v1/coverage), the directory search and the declaration.
import { api } from '/js/api.js';
import { el, formatDate, formatNir, requireMember, showAlert, showPageError } from '/js/ui.js';
import { CSS, RELATION } from './common.js';

const status = document.getElementById('statut');
await requireMember();

function pair(dt, dd) {
  return [el('dt', { class: 'fr-text--bold' }, dt), el('dd', { class: 'fr-mb-2w' }, dd)];
}

function doctorText(d) {
  const p = d.practitioner || {};
  return `Dr ${p.first_name} ${p.last_name}, ${p.address_line}, ${p.postal_code} ${p.city} (RPPS ${p.rpps})`;
}

async function load() {
  const c = await api.get('/coverage');
  const r = c.rights;
  const rows = [
    ...pair('Assuré(e)', `${r.first_name} ${r.last_name} — ${formatNir(r.nir)}`),
    ...pair('Régime et caisse', `${r.regime}, ${r.fund}`),
    ...pair('Droits ouverts', `du ${formatDate(r.open_from)} au ${formatDate(r.open_to)}`),
    ...pair('Complémentaire santé solidaire', r.css === 'none' ? CSS.none
      : `${CSS[r.css]}, du ${formatDate(r.css_from)} au ${formatDate(r.css_to)}`),
  ];
  if (r.ald_label) rows.push(...pair('Exonération (ALD)', `${r.ald_label}, du ${formatDate(r.ald_from)} au ${formatDate(r.ald_to)}`));
  document.getElementById('droits').replaceChildren(...rows);
  const bens = c.beneficiaries.map((b) => el('tr', {},
    el('td', {}, `${b.first_name} ${b.last_name}`),
    el('td', {}, RELATION[b.relation] || b.relation),
    el('td', { class: 'portail-nowrap' }, formatDate(b.birth_date)),
    el('td', { class: 'portail-nowrap' }, b.nir ? formatNir(b.nir) : `${b.temp_number} (provisoire)`),
    el('td', { class: 'portail-nowrap' }, formatDate(b.rights_to))));
  document.getElementById('ayants').replaceChildren(...(bens.length ? bens
    : [el('tr', {}, el('td', { colspan: 5 }, 'Aucun ayant droit.'))]));
  const box = document.getElementById('medecin');
  const parts = [el('p', { id: 'medecin-actuel' }, c.doctor
    ? `${doctorText(c.doctor)}, déclaré le ${formatDate(c.doctor.declared_on)}.`
    : 'Vous n’avez pas déclaré de médecin traitant.')];
  if (c.doctor_pending) {
    parts.push(el('p', { id: 'medecin-attente', class: 'fr-badge fr-badge--info' },
      `En attente de confirmation\u00a0: ${doctorText(c.doctor_pending)}`));
  }
  box.replaceChildren(...parts);
}

const results = document.getElementById('resultats');
document.getElementById('recherche').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  const form = new FormData(ev.target);
  const q = new URLSearchParams({ place: form.get('place') || '', name: form.get('name') || '', limit: '20' });
  try {
    const { practitioners } = await api.get(`/coverage/practitioners?${q}`);
    results.replaceChildren(...(practitioners.length ? practitioners.map((p) => el('li', { class: 'fr-mb-1w' },
      `Dr ${p.first_name} ${p.last_name}, ${p.address_line}, ${p.postal_code} ${p.city} `,
      el('button', { class: 'fr-btn fr-btn--sm fr-btn--secondary', type: 'button', 'data-id': String(p.id) },
        `Choisir le Dr ${p.last_name}`)))
      : [el('li', {}, 'Aucun médecin généraliste acceptant de nouveaux patients ici.')]));
  } catch (err) {
    showPageError(status, err);
  }
});

results.addEventListener('click', async (ev) => {
  const id = ev.target?.dataset?.id;
  if (!id) return;
  try {
    await api.post('/coverage/doctor', { practitioner: Number(id) });
    showAlert(status, 'success', 'Déclaration envoyée', 'Votre médecin doit la confirmer\u00a0: elle est en attente.', { focus: true });
    results.replaceChildren();
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
