// "Mes droits": rights, CSS, ALD, beneficiaries and médecin traitant (GET
// /api/v1/coverage), the directory search and the declaration.
import { api } from '/js/api.js';
import { el, formatDate, formatNir, requireMember, showAlert, showPageError } from '/js/ui.js';
import { CSS, RELATION } from './common.js';
import { tx } from '/js/textes.js';

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
    ...pair(tx('coverage.droits.assure_e'), `${r.first_name} ${r.last_name} — ${formatNir(r.nir)}`),
    ...pair(tx('commun.regime_caisse'), `${r.regime}, ${r.fund}`),
    ...pair(tx('coverage.droits.droits_ouverts'), tx('commun.du_au', { open_from: formatDate(r.open_from), open_to: formatDate(r.open_to) })),
    ...pair(tx('coverage.droits.complementaire_sante_solidaire'), r.css === 'none' ? CSS.none
      : tx('coverage.droits.css_periode', { css: CSS[r.css], css_from: formatDate(r.css_from), css_to: formatDate(r.css_to) })),
  ];
  if (r.ald_label) rows.push(...pair(tx('coverage.droits.exoneration_ald'), tx('coverage.droits.ald_periode', { ald_label: r.ald_label, ald_from: formatDate(r.ald_from), ald_to: formatDate(r.ald_to) })));
  document.getElementById('droits').replaceChildren(...rows);
  const bens = c.beneficiaries.map((b) => el('tr', {},
    el('td', {}, `${b.first_name} ${b.last_name}`),
    el('td', {}, RELATION[b.relation] || b.relation),
    el('td', { class: 'portail-nowrap' }, formatDate(b.birth_date)),
    el('td', { class: 'portail-nowrap' }, b.nir ? formatNir(b.nir) : `${b.temp_number} (provisoire)`),
    el('td', { class: 'portail-nowrap' }, formatDate(b.rights_to))));
  document.getElementById('ayants').replaceChildren(...(bens.length ? bens
    : [el('tr', {}, el('td', { colspan: 5 }, tx('commun.aucun_ayant_droit')))]));
  const box = document.getElementById('medecin');
  const parts = [el('p', { id: 'medecin-actuel' }, c.doctor
    ? tx('coverage.droits.medecin_declare_le', { doctor: doctorText(c.doctor), declared_on: formatDate(c.doctor.declared_on) })
    : tx('coverage.droits.avez_declare_medecin_traitant'))];
  if (c.doctor_pending) {
    parts.push(el('p', { id: 'medecin-attente', class: 'fr-badge fr-badge--info' },
      tx('coverage.droits.attente_confirmation_doctor_pending', { doctor_pending: doctorText(c.doctor_pending) })));
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
        tx('coverage.droits.choisir_dr_last_name', { last_name: p.last_name }))))
      : [el('li', {}, tx('coverage.droits.aucun_medecin_generaliste_acceptant'))]));
  } catch (err) {
    showPageError(status, err);
  }
});

results.addEventListener('click', async (ev) => {
  const id = ev.target?.dataset?.id;
  if (!id) return;
  try {
    await api.post('/coverage/doctor', { practitioner: Number(id) });
    showAlert(status, 'success', tx('coverage.droits.declaration_envoyee'), tx('coverage.droits.medecin_doit_confirmer_attente'), { focus: true });
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
